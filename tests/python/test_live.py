"""Live test of the generated Python package against a running moltzap-server.

Needs MOLTZAP_WS (ws://127.0.0.1:PORT/ws) and MOLTZAP_HTTP (http://127.0.0.1:PORT); fails when
they are unset. Run: MOLTZAP_WS=... MOLTZAP_HTTP=... /usr/bin/python3 -m unittest test_live
(in tests/python; MOLTZAP_PY_PKG selects the generated package).
"""

from __future__ import annotations

import asyncio
import os
import unittest
import uuid

import _pkg  # noqa: F401  (sys.path)
import moltzap as mz

TIMEOUT = 10.0


class Moderator(mz.TaskMaster):
    """Accepts every task, forwards every message to the other participants, grants the first
    dispatch and denies the next."""

    def __init__(self) -> None:
        self.participants: list[mz.AgentId] = []
        self.dispatches: list[mz.DispatchAuthorizeParams] = []
        self.tasks: list[mz.TaskCreateParams] = []

    async def task_create(self, params: mz.TaskCreateParams) -> mz.TaskCreateResult:
        self.tasks.append(params)
        return mz.TaskCreateResult(verdict=mz.TaskCreateAccept())

    async def messages_authorize(self, params: mz.MessagesAuthorizeParams) -> mz.MessagesAuthorizeResult:
        others = [a for a in self.participants if a != params.message.sender_agent_id]
        return mz.MessagesAuthorizeResult(verdict=mz.MessagesAuthorizeForward(recipients=others))

    async def dispatch_authorize(self, params: mz.DispatchAuthorizeParams) -> mz.DispatchAuthorizeResult:
        self.dispatches.append(params)
        if len(self.dispatches) == 1:
            return mz.DispatchAuthorizeResult(admission=mz.DispatchGrant(lease_timeout_ms=30000))
        return mz.DispatchAuthorizeResult(admission=mz.DispatchDeny(reason="second dispatch denied"))


async def next_event(it: mz.Events, method: str) -> mz.Event:
    while True:
        ev = await it.next(TIMEOUT)
        if ev.method == method:
            return ev


class LiveTest(unittest.IsolatedAsyncioTestCase):
    async def test_session(self) -> None:
        ws, http = os.environ.get("MOLTZAP_WS"), os.environ.get("MOLTZAP_HTTP")
        if not ws or not http:
            self.fail("MOLTZAP_WS and MOLTZAP_HTTP must name a running moltzap-server")
        owner = str(uuid.uuid4())
        suffix = uuid.uuid4().hex[:8]

        # Register and claim three agents for one owner: two users and the TaskMaster.
        regs: dict[str, mz.Registration] = {}
        for who in ("alice", "bob", "tm"):
            regs[who] = await mz.register(http, f"py-{who}-{suffix}", description=f"python {who}")
            c = await mz.claim(http, regs[who].claim_token, owner)
            self.assertTrue(c.first)
            self.assertEqual(c.agent_id, regs[who].agent_id)
        with self.assertRaises(mz.HTTPError) as http_err:
            await mz.register(http, f"py-alice-{suffix}")
        self.assertEqual(http_err.exception.status, 409)
        self.assertEqual(http_err.exception.code, "NAME_TAKEN")

        alice = await mz.Client.connect(ws, regs["alice"].api_key)
        bob = await mz.Client.connect(ws, regs["bob"].api_key)
        tm = await mz.Client.connect(ws, regs["tm"].api_key)
        try:
            assert alice.hello is not None
            self.assertEqual(alice.hello.agent_id, regs["alice"].agent_id)
            self.assertEqual(alice.hello.protocol_version, mz.PROTOCOL_VERSION)

            # The TaskMaster registers an app with a dispatch_authorize hook.
            mod = Moderator()
            mod.participants = [regs["alice"].agent_id, regs["bob"].agent_id]
            app_id = mz.AppId(str(uuid.uuid4()))
            manifest = mz.AppManifest(
                app_id=app_id,
                name="python live test",
                hooks=mz.AppHooks(dispatch_authorize=mz.Hook(timeout_ms=5000)),
            )
            reg = await mz.TaskMasterRunner(tm, mod, manifest).start()
            self.assertEqual(reg.app_id, app_id)

            bob_events = bob.notifications()
            bob_messages: asyncio.Queue[mz.MessagesReceivedNotification] = asyncio.Queue()
            bob.on("messages/received", bob_messages.put_nowait)

            # Alice requests a task on the app, inviting Bob, with an initial conversation.
            tr = await alice.task_request(
                mz.TaskRequestParams(
                    app_id=app_id,
                    invited_agent_ids=[regs["bob"].agent_id],
                    initial_conversation=mz.InitialConversation(name="py", participants=[regs["bob"].agent_id]),
                )
            )
            self.assertEqual(tr.task.app_id, app_id)
            self.assertEqual(len(mod.tasks), 1)
            self.assertIsNotNone(tr.conversation)
            assert tr.conversation is not None
            conv = tr.conversation.id

            # Alice sends, Bob receives messages/received (forwarded by the TaskMaster).
            sent = await alice.messages_send(
                mz.MessagesSendParams(task_id=tr.task.id, conversation_id=conv, parts=[mz.TextPart(text="hello from python")])
            )
            got = await asyncio.wait_for(bob_messages.get(), TIMEOUT)
            self.assertEqual(got.message.id, sent.message.id)
            part = got.message.parts[0]
            assert isinstance(part, mz.TextPart)
            self.assertEqual(part.text, "hello from python")
            ev = await next_event(bob_events, "messages/received")
            assert isinstance(ev.params, mz.MessagesReceivedNotification)

            # A typed error: messages/list of a conversation that does not exist.
            with self.assertRaises(mz.NotFoundError) as nf:
                await alice.messages_list(
                    mz.MessagesListParams(task_id=tr.task.id, conversation_id=mz.ConversationId(str(uuid.uuid4())))
                )
            self.assertEqual(nf.exception.code, -32002)
            self.assertIsInstance(nf.exception, mz.MoltZapError)
            # The server's "Conversation not found" is the finer ConversationNotFoundError.
            self.assertIsInstance(nf.exception, mz.ConversationNotFoundError)
            self.assertNotIsInstance(nf.exception, mz.TaskNotFoundError)

            # Bob asks to act on the message twice: the TaskMaster grants, then denies.
            verdicts: list[mz.DispatchAdmissionDecision] = []
            for _ in range(2):
                dr = await bob.dispatch_request(
                    mz.DispatchRequestParams(conversation_id=conv, message_id=sent.message.id,
                                             sender_agent_id=regs["alice"].agent_id)
                )
                rel = await next_event(bob_events, "dispatch/release")
                assert isinstance(rel.params, mz.DispatchReleaseNotification)
                self.assertEqual(rel.params.dispatch_id, dr.dispatch_id)
                verdicts.append(rel.params.verdict)
            self.assertIsInstance(verdicts[0], mz.DispatchGrant)
            self.assertIsInstance(verdicts[1], mz.DispatchDeny)
            assert isinstance(verdicts[1], mz.DispatchDeny)
            self.assertEqual(verdicts[1].reason, "second dispatch denied")
            self.assertEqual(len(mod.dispatches), 2)
            self.assertEqual(mod.dispatches[0].recipient.agent_id, regs["bob"].agent_id)

            # Ping works and ids are strings on the wire.
            pong = await alice.network_ping()
            self.assertTrue(pong.to_json().startswith("{"))
        finally:
            for c in (alice, bob, tm):
                await c.close()

    async def test_abstract_taskmaster(self) -> None:
        class Incomplete(mz.TaskMaster):  # misses dispatch_authorize and messages_authorize
            async def task_create(self, params: mz.TaskCreateParams) -> mz.TaskCreateResult:
                return mz.TaskCreateResult(verdict=mz.TaskCreateAccept())

        with self.assertRaises(TypeError):
            Incomplete()  # type: ignore[abstract]


if __name__ == "__main__":
    unittest.main()
