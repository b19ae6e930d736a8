"""The JSON-RPC 2.0 connection under the generated Client: string ids, per-call timeouts,
notifications, server-to-client callbacks and reconnection with backoff, round-robin over the
nodes of a cluster when several URLs are given."""

from __future__ import annotations

import asyncio
import itertools
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import validate as _codec

# websockets is imported when a connection is opened, so that the types and validators of the
# package work without it installed.
if TYPE_CHECKING:
    from websockets.legacy.client import WebSocketClientProtocol


def _connection_closed() -> type[Exception]:
    """websockets' ConnectionClosed, imported on first use."""
    from websockets.exceptions import ConnectionClosed

    return ConnectionClosed


def _transient(exc: BaseException) -> bool:
    """Whether exc may be one node's trouble (another node may answer): a failed dial,
    handshake or socket, as opposed to an error answer of the server."""
    from websockets.exceptions import WebSocketException

    return isinstance(exc, (OSError, asyncio.TimeoutError, WebSocketException))

Callback = Callable[[str, object], Awaitable[object]]
"""Answers a server request (method, params) with a JSON value, or raises a MoltZapError."""

Listener = Callable[[str, object], None]
"""Receives every notification (method, params) as it arrives."""


class ConnectionLost(ConnectionError):
    """The WebSocket closed while a call was waiting for its response."""


@dataclass(frozen=True, kw_only=True)
class RawError:
    """A JSON-RPC error object as received."""

    code: int
    message: str
    data: object = None


class Connection:
    """One WebSocket session speaking JSON-RPC 2.0 with a MoltZap server.

    Calls get string ids ("c-1", "c-2", ...): the server answers a numeric id with -32600
    and id null. The on_connect hooks (network/connect first) run after every
    (re)connection. url may be one URL or several (the nodes of a cluster; urls adds more,
    a repeated URL counts once): open tries them in order, and a lost connection reconnects
    to the next one, round-robin, the backoff doubling per round over all of them.
    """

    def __init__(
        self,
        url: str | Sequence[str],
        *,
        urls: Sequence[str] = (),
        timeout: float = 10.0,
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        given = [url] if isinstance(url, str) else list(url)
        self.urls: list[str] = list(dict.fromkeys([*given, *urls]))
        if not self.urls:
            raise ValueError("moltzap: give at least one URL")
        self.timeout = timeout
        self.reconnect = reconnect
        self.backoff = backoff
        self._current = 0
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[WebSocketClientProtocol, asyncio.Future[object]]] = {}
        self._ws: WebSocketClientProtocol | None = None
        self._established: WebSocketClientProtocol | None = None  # _ws once its hooks ran
        self._reader: asyncio.Task[None] | None = None
        self._listeners: list[Listener] = []
        self._callback: Callback | None = None
        self._on_connect: list[Callable[[], Awaitable[None]]] = []
        self._on_disconnect: list[Callable[[], None]] = []
        self._closed = False
        self._up = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The URL of the current connection (of the last one while reconnecting)."""
        return self.urls[self._current]

    async def _open(self, idx: int) -> None:
        try:
            from websockets.legacy.client import connect
        except ImportError as e:
            raise ImportError("moltzap: the client needs the websockets package (>= 10.4)") from e
        ws = await connect(self.urls[idx], max_size=None)
        self._ws = ws
        self._reader = asyncio.create_task(self._read(ws))
        try:
            for hook in self._on_connect:
                await hook()
        except BaseException:
            self._ws = None  # abandoned: its end does not start a reconnection
            await ws.close()
            raise
        if self._ws is not ws:
            raise ConnectionLost("connection closed during the handshake")
        self._current = idx
        self._established = ws
        self._up.set()

    async def open(self) -> None:
        """Dial the servers in order until one connects and runs the on_connect hooks
        (network/connect first). An error answer of the server (a refused credential) ends
        the attempt at once; every node would give it."""
        failures: list[str] = []
        for idx, u in enumerate(self.urls):
            try:
                await self._open(idx)
                return
            except Exception as e:
                if len(self.urls) == 1 or not _transient(e):
                    raise
                failures.append(f"{u}: {e}")
        raise ConnectionLost("no server answered: " + "; ".join(failures))

    async def close(self) -> None:
        """Close the connection; waiting calls fail with ConnectionLost."""
        self._closed = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            try:
                await self._reader
            except asyncio.CancelledError:
                pass

    def add_listener(self, listener: Listener) -> None:
        """Call listener for every notification."""
        self._listeners.append(listener)

    def set_callback(self, callback: Callback | None) -> None:
        """Answer server requests (TaskMaster callbacks) with callback."""
        self._callback = callback

    def on_connect(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run hook after every (re)connection, in order of registration."""
        self._on_connect.append(hook)

    def on_disconnect(self, hook: Callable[[], None]) -> None:
        """Call hook when the established connection is lost, before reconnecting."""
        self._on_disconnect.append(hook)

    async def call_raw(self, method: str, params: object, timeout: float | None = None) -> object:
        """Send a request and return its result, or raise the error the server answered."""
        ws = self._ws
        if ws is None:
            raise ConnectionLost("not connected")
        rid = f"c-{next(self._ids)}"
        fut: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending[rid] = (ws, fut)
        frame = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        try:
            await ws.send(_codec.dumps(frame))
            return await asyncio.wait_for(fut, self.timeout if timeout is None else timeout)
        except _connection_closed() as e:
            raise ConnectionLost(str(e)) from e
        finally:
            self._pending.pop(rid, None)

    async def _read(self, ws: WebSocketClientProtocol) -> None:
        try:
            async for raw in ws:
                self._frame(ws, raw if isinstance(raw, str) else raw.decode("utf-8", "replace"))
        except _connection_closed():
            pass
        finally:
            for rid, (owner, fut) in list(self._pending.items()):
                if owner is ws:
                    del self._pending[rid]
                    if not fut.done():
                        fut.set_exception(ConnectionLost("connection closed"))
            if self._ws is ws:
                self._ws = None
            if self._established is ws:  # the established connection, not an attempt
                self._established = None
                self._up.clear()
                if not self._closed:
                    for hook in list(self._on_disconnect):
                        hook()
                if not self._closed and self.reconnect:
                    task = asyncio.create_task(self._redial())
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def _redial(self) -> None:
        lost, n = self._current, len(self.urls)
        attempt = 0
        while not self._closed:
            await asyncio.sleep(min(self.backoff[0] * 2 ** (attempt // n), self.backoff[1]))
            idx = (lost + 1 + attempt) % n  # the URL after the lost one first, then round-robin
            attempt += 1
            if self._closed:
                return
            try:
                await self._open(idx)
                return
            except Exception:  # a failed dial or a rejected handshake: try the next one later
                continue

    def _frame(self, ws: WebSocketClientProtocol, text: str) -> None:
        try:
            parsed = _codec.parse(text)
        except _codec.ValidationError:
            return
        try:
            msg = _codec.obj_any(parsed, "")
        except _codec.ValidationError:
            return
        rid = msg.get("id")
        method = msg.get("method")
        if isinstance(method, str):
            params = msg.get("params", {})
            if rid is None:
                for listener in list(self._listeners):
                    listener(method, params)
            else:
                task = asyncio.create_task(self._answer(ws, rid, method, params))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return
        if not isinstance(rid, str):
            return
        entry = self._pending.get(rid)
        if entry is None or entry[0] is not ws or entry[1].done():
            return
        fut = entry[1]
        err = msg.get("error")
        if err is not None:
            try:
                e = _codec.obj_any(err, "/error")
            except _codec.ValidationError:
                e = {}
            code = e.get("code")
            try:
                num = _codec.integer(code, "/error/code")
            except _codec.ValidationError:
                num = 0
            message = e.get("message")
            raw = RawError(code=num, message=message if isinstance(message, str) else "", data=e.get("data"))
            fut.set_exception(_Wire(raw))
            return
        fut.set_result(msg.get("result"))

    async def _answer(self, ws: WebSocketClientProtocol, rid: object, method: str, params: object) -> None:
        reply: dict[str, object] = {"jsonrpc": "2.0", "id": rid}
        cb = self._callback
        try:
            if cb is None:
                raise _Wire(RawError(code=-32601, message="Method not found"))
            reply["result"] = await cb(method, params)
        except _Wire as e:
            reply["error"] = _error_obj(e.raw)
        except Exception:  # every failure must be answered
            reply["error"] = {"code": -32603, "message": "Internal error"}
        try:
            await ws.send(_codec.dumps(reply))
        except _connection_closed():
            pass


def _error_obj(raw: RawError) -> dict[str, object]:
    out: dict[str, object] = {"code": raw.code, "message": raw.message}
    if raw.data is not None:
        out["data"] = raw.data
    return out


class _Wire(Exception):
    """Carries a raw wire error from the reader to the caller."""

    def __init__(self, raw: RawError) -> None:
        super().__init__(raw.message)
        self.raw = raw


def wire_error(exc: BaseException) -> RawError | None:
    """Return the raw wire error carried by exc, if any."""
    return exc.raw if isinstance(exc, _Wire) else None


def wire_exception(raw: RawError) -> Exception:
    """Wrap a raw error so that a callback answers it as is."""
    return _Wire(raw)


# --- HTTP registration and claim ------------------------------------------------------------


class HTTPError(Exception):
    """A failed registration or claim: the HTTP status, the error text and its code tag."""

    def __init__(self, status: int, error: str, code: str | None) -> None:
        super().__init__(f"HTTP {status}: {error}" + (f" ({code})" if code else ""))
        self.status = status
        self.error = error
        self.code = code


def _object(text: str) -> dict[str, object]:
    try:
        return _codec.obj_any(json.loads(text), "")
    except (ValueError, _codec.ValidationError):
        return {}


def _post(url: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(
        url,
        data=_codec.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status = int(resp.status)
            text = bytes(resp.read()).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        data = _object(bytes(e.read()).decode("utf-8", "replace"))
        err = data.get("error", "")
        code = data.get("code")
        raise HTTPError(e.code, str(err), code if isinstance(code, str) else None) from e
    return status, _object(text)


async def post(url: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    """POST a JSON body in a worker thread and return the status and the JSON object."""
    return await asyncio.to_thread(_post, url, body)
