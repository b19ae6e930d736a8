"""Live failover of the generated Python client between two moltzap-server nodes on one
PostgreSQL schema (scripts/lang-test.sh starts them).

Needs MOLTZAP_CLUSTER_WS1 and MOLTZAP_CLUSTER_WS2 (ws://HOST:PORT/ws), MOLTZAP_CLUSTER_HTTP1
(http://HOST:PORT of node 1) and MOLTZAP_CLUSTER_NODE1_PID (the test kills node 1 with
SIGKILL); fails when they are unset.
"""

from __future__ import annotations

import asyncio
import os
import signal
import unittest
import uuid
from collections.abc import Callable

import _pkg  # noqa: F401  (sys.path)
import moltzap as mz


async def until(cond: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class FailoverTest(unittest.IsolatedAsyncioTestCase):
    async def test_listener_fails_over_and_catches_up(self) -> None:
        ws1, ws2 = os.environ.get("MOLTZAP_CLUSTER_WS1"), os.environ.get("MOLTZAP_CLUSTER_WS2")
        http1, pid1 = os.environ.get("MOLTZAP_CLUSTER_HTTP1"), int(os.environ.get("MOLTZAP_CLUSTER_NODE1_PID") or 0)
        if not ws1 or not ws2 or not http1 or pid1 <= 0:
            self.fail("MOLTZAP_CLUSTER_WS1, _WS2, _HTTP1 and _NODE1_PID must name a running two-node cluster")
        suffix = uuid.uuid4().hex[:8]
        sender = await mz.register(http1, f"py-fo-s-{suffix}")
        listener = await mz.register(http1, f"py-fo-l-{suffix}")
        s1 = await mz.Client.connect(ws1, sender.api_key, reconnect=False)
        s2 = await mz.Client.connect(ws2, sender.api_key)
        lc = await mz.Client.connect([ws1, ws2], listener.api_key)
        # The first reconnect attempt comes 0.5 s after the drop: the messages sent right
        # after the kill are missed and recovered from node 2's history.
        lc.conn.backoff = (0.5, 2.0)
        try:
            self.assertEqual(lc.url, ws1)
            got: list[mz.Message] = []
            lc.on("messages/received", lambda p: got.append(p.message))
            reports: list[mz.CatchUpReport] = []
            lc.on_catch_up(reports.append)

            tr = await s1.task_request(mz.TaskRequestParams(
                app_id=mz.DEFAULT_APP_ID, invited_agent_ids=[listener.agent_id],
                initial_conversation=mz.InitialConversation(name="py failover")))
            assert tr.conversation is not None
            task, conv = tr.task.id, tr.conversation.id
            sent: list[mz.Message] = []

            async def send(c: mz.Client, text: str) -> None:
                r = await c.messages_send(mz.MessagesSendParams(task_id=task, conversation_id=conv, parts=[mz.TextPart(text=text)]))
                sent.append(r.message)

            for text in ("before 1", "before 2", "before 3"):
                await send(s1, text)
            await until(lambda: len(got) == 3, "the messages before the kill")

            dropped = asyncio.Event()
            lc.conn.on_disconnect(dropped.set)
            os.kill(pid1, signal.SIGKILL)
            await asyncio.wait_for(dropped.wait(), 10)
            for text in ("missed 1", "missed 2", "missed 3", "missed 4"):
                await send(s2, text)
            await until(lambda: len(reports) > 0, "the catch-up report")
            self.assertEqual(lc.url, ws2, "the listener moved to node 2")
            self.assertEqual(reports[0].errors, [])
            self.assertGreaterEqual(reports[0].recovered, 4)
            for text in ("after 1", "after 2"):
                await send(s2, text)

            await until(lambda: len(got) >= len(sent), f"{len(sent)} messages")
            await asyncio.sleep(0.3)  # a duplicate would show up now
            want = sorted(sent, key=lambda m: int(m.seq))
            self.assertEqual([m.id for m in got], [m.id for m in want], f"delivered seqs {[m.seq for m in got]}")
        finally:
            for c in (s1, s2, lc):
                await c.close()


if __name__ == "__main__":
    unittest.main()
