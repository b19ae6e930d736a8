"""The generated Python client's failover without a moltzap-server: SeqCatchUp against an
in-memory message list (hold, seq order, de-duplication, refused and cut-short catch-ups),
and the connection's URL order and round-robin reconnection against scripted WebSocket
servers. Run: /usr/bin/python3 -m unittest test_catchup (in tests/python)."""

from __future__ import annotations

import asyncio
import json
import os
import unittest
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import _pkg  # noqa: F401  (sys.path)
import moltzap as mz
from moltzap import transport

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.environ.get("MOLTZAP_VECTORS", os.path.join(HERE, "..", "..", "testdata", "vectors", "protocol.json"))


@dataclass(frozen=True)
class Msg:
    id: str
    conversation_id: str
    seq: str


class History:
    """An in-memory conversation store answering like messages/list with sinceSeq."""

    def __init__(self, page: int = 2) -> None:
        self.msgs: list[Msg] = []
        self.page = page
        self.calls: list[tuple[str, str, str]] = []
        self.fail: BaseException | None = None

    def add(self, conv: str) -> Msg:
        m = Msg(id=f"m{len(self.msgs) + 1}", conversation_id=conv, seq=str(len(self.msgs) + 1))
        self.msgs.append(m)
        return m

    async def list(self, task: str, conv: str, since: str) -> tuple[Sequence[Msg], bool]:
        self.calls.append((task, conv, since))
        if self.fail is not None:
            raise self.fail
        after = [m for m in self.msgs if m.conversation_id == conv and int(m.seq) > int(since)]
        return after[: self.page], len(after) > self.page


class Tracker:
    def __init__(self, h: History) -> None:
        self.got: list[str] = []
        self.reports: list[mz.CatchUpReport] = []
        self.cu: mz.SeqCatchUp[str, Msg] = mz.SeqCatchUp(h.list, lambda t, m: self.got.append(m.id), self.reports.append)

    async def run(self) -> mz.CatchUpReport:
        n = len(self.reports)
        self.cu.reconnected()
        await self.cu.wait()
        self.assert_report(n)
        return self.reports[-1]

    def assert_report(self, n: int) -> None:
        if len(self.reports) != n + 1:
            raise AssertionError(f"{len(self.reports) - n} catch-up reports, want 1")


class SeqCatchUpTest(unittest.IsolatedAsyncioTestCase):
    async def test_a_lower_seq_in_flight_at_the_drop_is_recovered(self) -> None:
        # Across nodes messages arrive out of seq order: m2 is still on its way when the
        # connection drops, so the catch-up must start at the settled seq (1), not after m3.
        h = History()
        t = Tracker(h)
        m1, _m2, m3 = h.add("c"), h.add("c"), h.add("c")
        t.cu.live("t", m1)
        t.cu.live("t", m3)
        t.cu.disconnected()
        report = await t.run()
        self.assertEqual(h.calls[0][2], "1")
        self.assertEqual(t.got, ["m1", "m3", "m2"])
        self.assertEqual(report.recovered, 1)
        # The complete listing settled everything up to m3: the next catch-up starts after it.
        t.cu.live("t", h.add("c"))
        t.cu.disconnected()
        await t.run()
        self.assertEqual(h.calls[-1][2], "4")

    async def test_the_settled_seq_trails_the_highest_by_at_most_the_lag(self) -> None:
        h = History(page=1000)
        t = Tracker(h)
        msgs = [h.add("c") for _ in range(mz.MAX_SETTLE_LAG + 10)]
        t.cu.live("t", msgs[0])
        t.cu.live("t", msgs[-1])  # never shown the ones between (another agent's)
        t.cu.disconnected()
        await t.run()
        self.assertEqual(h.calls[0][2], str(len(msgs) - mz.MAX_SETTLE_LAG))

    async def test_live_messages_wait_for_the_recovered_ones(self) -> None:
        h = History()
        t = Tracker(h)
        t.cu.live("t", h.add("c"))
        t.cu.disconnected()
        missed = [h.add("c"), h.add("c"), h.add("c")]
        live = h.add("c")
        t.cu.live("t", live)  # on the new connection, before the catch-up
        t.cu.live("t", missed[0])  # a live copy of a missed one
        self.assertEqual(t.got, ["m1"])
        r = await t.run()
        self.assertEqual(t.got, ["m1", "m2", "m3", "m4", "m5"])
        self.assertEqual(r.recovered, 4)
        self.assertEqual(r.errors, [])
        self.assertEqual(h.calls[0], ("t", "c", "1"))
        t.cu.live("t", missed[1])  # below the floor: a duplicate
        t.cu.live("t", h.add("c"))
        self.assertEqual(t.got, ["m1", "m2", "m3", "m4", "m5", "m6"])

    async def test_conversation_learnt_during_the_gap_from_its_start(self) -> None:
        h = History()
        t = Tracker(h)
        t.cu.disconnected()
        early = [h.add("new"), h.add("new")]
        t.cu.live("t", h.add("new"))
        await t.run()
        self.assertEqual(t.got, [early[0].id, early[1].id, "m3"])
        self.assertEqual(h.calls[0], ("t", "new", "0"))

    async def test_refused_catch_up_releases_and_keeps_the_cursor(self) -> None:
        h = History()
        t = Tracker(h)
        t.cu.live("t", h.add("c"))
        t.cu.disconnected()
        missed = h.add("c")
        t.cu.live("t", h.add("c"))
        h.fail = mz.ForbiddenError()
        r = await t.run()
        self.assertEqual(len(r.errors), 1)
        t.cu.live("t", h.add("c"))
        self.assertEqual(t.got, ["m1", "m3", "m4"])
        h.fail = None
        t.cu.disconnected()
        await t.run()
        self.assertEqual(t.got, ["m1", "m3", "m4", missed.id])

    async def test_lost_connection_keeps_holding(self) -> None:
        h = History()
        t = Tracker(h)
        t.cu.live("t", h.add("c"))
        t.cu.disconnected()
        missed = h.add("c")
        held = h.add("c")
        t.cu.live("t", held)
        h.fail = mz.ConnectionLost("gone again")
        await t.run()
        self.assertEqual(t.got, ["m1"])
        h.fail = None
        t.cu.disconnected()
        await t.run()
        self.assertEqual(t.got, ["m1", missed.id, held.id])


def hello() -> Any:
    with open(VECTORS, encoding="utf-8") as f:
        vectors = json.load(f)["vectors"]
    return json.loads(next(v["json"] for v in vectors if v["type"] == "HelloOk" and v["valid"]))


class Node:
    """A scripted server that accepts (or refuses) every network/connect."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.connects = 0
        self.url = ""
        self._server: Any = None
        self._socks: set[Any] = set()

    async def start(self) -> Node:
        from websockets.legacy.server import serve

        ok = hello()

        async def handler(ws: Any, _path: str = "") -> None:
            self._socks.add(ws)
            try:
                async for raw in ws:
                    f = json.loads(raw)
                    if f.get("method") != "network/connect":
                        continue
                    self.connects += 1
                    if self.refuse:
                        await ws.send(json.dumps({"jsonrpc": "2.0", "id": f["id"], "error": {"code": -32000, "message": "Authentication failed"}}))
                    else:
                        await ws.send(json.dumps({"jsonrpc": "2.0", "id": f["id"], "result": ok}))
            except Exception:
                pass
            finally:
                self._socks.discard(ws)

        self._server = await serve(handler, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws"
        return self

    async def stop(self) -> None:
        self._server.close()
        for ws in list(self._socks):
            ws.transport.abort()  # no close handshake: the node is gone
        await self._server.wait_closed()


DEAD = "ws://127.0.0.1:1/ws"


class ConnectionOrderTest(unittest.IsolatedAsyncioTestCase):
    async def test_urls_in_order_then_round_robin(self) -> None:
        a, b = await Node().start(), await Node().start()
        c = await mz.Client.connect([DEAD, a.url], "k", urls=[DEAD, b.url])
        try:
            self.assertEqual(c.url, a.url)
            self.assertEqual(a.connects, 1)
            await a.stop()
            for _ in range(200):  # node a is gone: the dead URL fails, then b answers
                if b.connects and c.conn._up.is_set():  # pyright: ignore[reportPrivateUsage]
                    break
                await asyncio.sleep(0.05)
            self.assertEqual(b.connects, 1)
            self.assertEqual(c.url, b.url)
        finally:
            await c.close()
            await b.stop()

    async def test_all_down_and_refused(self) -> None:
        with self.assertRaises(transport.ConnectionLost) as cm:
            await mz.Client.connect([DEAD, "ws://127.0.0.1:2/ws"], "k", reconnect=False)
        self.assertIn(DEAD, str(cm.exception))
        self.assertIn("127.0.0.1:2", str(cm.exception))
        a, b = await Node(refuse=True).start(), await Node().start()
        try:
            with self.assertRaises(mz.UnauthorizedError):
                await mz.Client.connect([a.url, b.url], "k", reconnect=False)
            self.assertEqual(b.connects, 0, "the second node was tried after the first refused the key")
        finally:
            await a.stop()
            await b.stop()
        with self.assertRaises(ValueError):
            mz.Client([], "k")


if __name__ == "__main__":
    unittest.main()
