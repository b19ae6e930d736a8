"""Catch-up by seq across reconnections (and across the nodes of a cluster).

The Client feeds every live message through a SeqCatchUp, which delivers each message once
and, after a reconnection, recovers what was missed with messages/list from the settled seq
(the highest at or below which every seq was seen or listed) before delivering anything
newer, so that every conversation reads in seq order. It is model-independent: the client
passes the list call and the delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from .transport import ConnectionLost

DEDUP_WINDOW = 1000
"""The number of message ids remembered per conversation for de-duplication."""

MAX_SETTLE_LAG = 256
"""How far the settled seq may trail the highest seq seen: gaps left by messages this agent
is not shown (a TaskMaster forwarded them to others) would otherwise hold it back for good.
A catch-up from the settled seq lists what lies above it again; those messages are within
the de-duplication window, so none is delivered twice."""


class SeqMessage(Protocol):
    """What the catch-up reads of a message."""

    @property
    def id(self) -> str: ...

    @property
    def conversation_id(self) -> str: ...

    @property
    def seq(self) -> str:
        """The per-conversation sequence number, a decimal string."""
        ...


T = TypeVar("T")
M = TypeVar("M", bound=SeqMessage)


@dataclass(frozen=True)
class CatchUpReport:
    """One catch-up run after a reconnection (a reconnection during a run makes another
    run follow it)."""

    recovered: int
    """Messages recovered (missed while disconnected) and delivered by the run."""
    errors: list[BaseException]
    """The errors of the conversations whose catch-up failed (empty when all went well)."""


def _seq(m: SeqMessage) -> int:
    try:
        return int(m.seq)
    except ValueError:
        return -1


@dataclass
class _Conv(Generic[T, M]):
    task_id: T
    seq: int = -1  # highest seq accepted
    settled: int = -1  # highest seq at or below which every seq was seen or listed
    above: set[int] = field(default_factory=lambda: set[int]())  # seqs seen beyond settled
    cursor: int = 0  # where the next catch-up starts: settled, unless frozen
    frozen: bool = False  # the cursor waits for a catch-up
    floor: int = -1  # highest seq a catch-up listed: at or below it = duplicate
    holding: bool = False  # live messages wait in held for the catch-up
    held: list[tuple[T, M]] = field(default_factory=lambda: [])
    ids: set[str] = field(default_factory=lambda: set[str]())
    order: list[str] = field(default_factory=lambda: [])


ListPage = Callable[[T, str, str], Awaitable[tuple[Sequence[M], bool]]]
"""Lists one page of a conversation after a seq: (task, conversation, since) -> (messages, has_more)."""


class SeqCatchUp(Generic[T, M]):
    """Tracks, per conversation, the seqs seen.

    Live messages are de-duplicated (the last DEDUP_WINDOW ids, and every seq up to the
    highest a catch-up listed). From a disconnection until its conversation has been caught
    up after the reconnection, a live message is held; the catch-up pages messages/list from
    the settled seq before the disconnection (every seq at or below it was seen or listed; a
    lower seq may still have been in flight above it), then the held messages follow in seq
    order. Conversations first heard of during the gap are caught up from their start. A
    catch-up refused by the server releases the held messages (the cursor is kept for the
    next reconnection); one cut short by another disconnection keeps them for the next run.
    """

    def __init__(
        self,
        list_page: ListPage[T, M],
        deliver: Callable[[T, M], None],
        report: Callable[[CatchUpReport], None],
    ) -> None:
        self._list = list_page
        self._deliver = deliver
        self._report = report
        self._convs: dict[str, _Conv[T, M]] = {}
        self._gap = False
        self._gen = 0
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def track(self, task_id: T, conversation_id: str, since_seq: str = "0") -> None:
        """Make a conversation known, so that a reconnection catches it up from since_seq
        (default "0": its whole history) or from its settled seq, when higher."""
        c = self._conv(task_id, conversation_id)
        since = int(since_seq)
        c.seq = max(c.seq, since)
        c.cursor = max(c.cursor, since)

    def live(self, task_id: T, message: M) -> None:
        """Handle a messages/received notification."""
        c = self._conv(task_id, message.conversation_id)
        if c.holding:
            c.held.append((task_id, message))
            return
        if self._accept(c, message):
            self._deliver(task_id, message)

    def disconnected(self) -> None:
        """Hold every conversation until it is caught up."""
        self._gap = True
        self._gen += 1
        for c in self._convs.values():
            c.frozen = True
            c.holding = True

    def reconnected(self) -> None:
        """Start a catch-up run (or another one after the run under way)."""
        self.disconnected()
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def wait(self) -> None:
        """Wait for the catch-up under way, if any."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _loop(self) -> None:
        while True:
            self._again = False
            self._report(await self._run())
            if not self._again:
                return

    def _conv(self, task_id: T, conversation_id: str) -> _Conv[T, M]:
        c = self._convs.get(conversation_id)
        if c is None:
            c = _Conv[T, M](task_id=task_id, frozen=self._gap, holding=self._gap)
            self._convs[conversation_id] = c
        return c

    def _accept(self, c: _Conv[T, M], m: M) -> bool:
        seq = _seq(m)
        if c.floor >= 0 and 0 <= seq <= c.floor:
            return False
        if m.id in c.ids:
            return False
        c.ids.add(m.id)
        c.order.append(m.id)
        if len(c.order) > DEDUP_WINDOW:
            c.ids.discard(c.order.pop(0))
        c.seq = max(c.seq, seq)
        if seq >= 0:
            _settle(c, seq)
        if not c.frozen:
            c.cursor = max(c.cursor, c.settled)
        return True

    async def _run(self) -> CatchUpReport:
        gen = self._gen
        errors: list[BaseException] = []
        recovered = 0
        lost = False
        done: set[str] = set()
        while not lost:
            targets = [(cid, c) for cid, c in self._convs.items() if cid not in done and (c.holding or c.frozen)]
            if not targets:
                break
            for cid, c in targets:
                done.add(cid)
                try:
                    recovered += await self._catch_up(cid, c)
                    self._release(c, gen, thaw=True)
                except ConnectionLost as e:
                    errors.append(e)
                    lost = True  # the next reconnection runs again
                    break
                except Exception as e:  # a refusal: the cursor stays for the next run
                    errors.append(e)
        if not lost and gen == self._gen:
            self._gap = False
            for c in self._convs.values():
                if c.holding:
                    self._release(c, gen, thaw=False)
        return CatchUpReport(recovered=recovered, errors=errors)

    async def _catch_up(self, conversation_id: str, c: _Conv[T, M]) -> int:
        since = c.cursor
        n = 0
        while True:
            messages, has_more = await self._list(c.task_id, conversation_id, str(since))
            for m in messages:
                if self._accept(c, m):
                    self._deliver(c.task_id, m)
                    n += 1
                c.floor = max(c.floor, _seq(m))
            if not has_more or not messages:
                # The listing is complete: messages/list returns every message visible to
                # this agent, so a seq up to the last listed that it did not return is not
                # for it.
                if c.floor >= 0:
                    _settle_to(c, c.floor)
                return n
            nxt = _seq(messages[-1])
            if nxt <= since:
                raise RuntimeError(f"messages/list did not advance past seq {since}")
            since = nxt

    def _release(self, c: _Conv[T, M], gen: int, *, thaw: bool) -> None:
        if gen != self._gen:
            return
        if thaw:
            c.frozen = False
            c.cursor = max(c.cursor, c.settled)
        held = sorted(c.held, key=lambda h: _seq(h[1]))
        c.held = []
        c.holding = False
        for task_id, m in held:
            if self._accept(c, m):
                self._deliver(task_id, m)


def _settle(c: _Conv[T, M], v: int) -> None:
    """Record seq v as seen and advance the settled seq. Across server nodes messages arrive
    out of seq order, so a catch-up must start there, not after the highest seq seen, or a
    message still in flight when the connection dropped would be skipped."""
    if c.settled < 0:
        c.settled = v  # nothing is known below the first seq seen
    elif v <= c.settled:
        return
    elif v == c.settled + 1:
        c.settled = v
    else:
        c.above.add(v)
    if c.seq - c.settled > MAX_SETTLE_LAG:
        c.settled = c.seq - MAX_SETTLE_LAG
    _advance_settled(c)


def _settle_to(c: _Conv[T, M], f: int) -> None:
    """Mark every seq up to f as settled (a complete catch-up listing reached f)."""
    c.settled = max(c.settled, f)
    _advance_settled(c)


def _advance_settled(c: _Conv[T, M]) -> None:
    """Move the settled seq over the seqs seen right above it; forget the ones at or below it."""
    while c.settled + 1 in c.above:
        c.above.discard(c.settled + 1)
        c.settled += 1
    c.above = {v for v in c.above if v > c.settled}
