package python

// clientCore is the fixed part of class Client, before the generated overloads of on.
const clientCore = `class Events:
    """An async iterator over notifications, from Client.notifications."""

    def __init__(self, q: asyncio.Queue[Event], queues: list[asyncio.Queue[Event]]) -> None:
        self._q = q
        self._queues = queues

    def __aiter__(self) -> Events:
        return self

    async def __anext__(self) -> Event:
        return await self._q.get()

    async def next(self, timeout: float | None = None) -> Event:
        """Wait at most timeout seconds for the next notification."""
        return await asyncio.wait_for(self._q.get(), timeout)

    def close(self) -> None:
        """Stop receiving notifications."""
        if self._q in self._queues:
            self._queues.remove(self._q)


class Client:
    """A MoltZap agent connection: one typed async method per server method.

    Calls raise the MoltZapError subclass of the server's error code (RpcServerError for an
    unknown one), ValidationError for a result that does not match its schema and
    ConnectionLost when the socket closes first. Notifications are delivered to the
    handlers registered with on and to every notifications() iterator. After a lost
    connection the client dials again with exponential backoff and sends network/connect.

    url may be a list (the nodes of a cluster; urls adds more): connect tries them in order
    and a lost connection reconnects to the next one, round-robin. With catch_up (the
    default) every messages/received is delivered once and, after a reconnection, the
    messages missed meanwhile are recovered with messages/list (from the settled seq)
    and delivered before newer ones, in seq order per conversation; see SeqCatchUp.
    """

    def __init__(
        self,
        url: str | Sequence[str],
        agent_key: str,
        *,
        urls: Sequence[str] = (),
        min_protocol: str = MIN_PROTOCOL,
        max_protocol: str = MAX_PROTOCOL,
        timeout: float = 10.0,
        reconnect: bool = True,
        catch_up: bool = True,
    ) -> None:
        self.conn = _rpc.Connection(url, urls=urls, timeout=timeout, reconnect=reconnect)
        self.agent_key = agent_key
        self.min_protocol = min_protocol
        self.max_protocol = max_protocol
        self.hello: _t.HelloOk | None = None
        self._handlers: dict[str, list[Callable[[NotificationParams], None]]] = {}
        self._queues: list[asyncio.Queue[Event]] = []
        self._catch_up_handlers: list[Callable[[_cu.CatchUpReport], None]] = []
        self._seqs: _cu.SeqCatchUp[_t.TaskId, _t.Message] | None = None
        self._was_up = False
        if catch_up:
            self._seqs = _cu.SeqCatchUp(self._list_since, self._deliver_message, self._report_catch_up)
            self.conn.on_disconnect(self._seqs.disconnected)
        self.conn.add_listener(self._notify)
        self.conn.on_connect(self._connect)
        self.conn.on_connect(self._caught_up)

    @classmethod
    async def connect(
        cls,
        url: str | Sequence[str],
        agent_key: str,
        *,
        urls: Sequence[str] = (),
        min_protocol: str = MIN_PROTOCOL,
        max_protocol: str = MAX_PROTOCOL,
        timeout: float = 10.0,
        reconnect: bool = True,
        catch_up: bool = True,
    ) -> Client:
        """Dial url (the first of the URLs that answers) and authenticate with
        network/connect; returns the ready client."""
        c = cls(url, agent_key, urls=urls, min_protocol=min_protocol, max_protocol=max_protocol,
                timeout=timeout, reconnect=reconnect, catch_up=catch_up)
        await c.conn.open()
        return c

    @property
    def url(self) -> str:
        """The URL of the current connection (of the last one while reconnecting)."""
        return self.conn.url

    def track(self, task_id: _t.TaskId, conversation_id: _t.ConversationId, since_seq: str = "0") -> None:
        """Make a conversation known to the catch-up, so that a reconnection recovers its
        messages after since_seq (default "0": all of them) or after its settled seq (every
        seq up to it seen or listed). Conversations in which a message was received are tracked already."""
        if self._seqs is not None:
            self._seqs.track(task_id, conversation_id, since_seq)

    def on_catch_up(self, handler: Callable[[_cu.CatchUpReport], None]) -> None:
        """Call handler with the report of each catch-up run after a reconnection."""
        self._catch_up_handlers.append(handler)

    async def wait_catch_up(self) -> None:
        """Wait for the catch-up run under way, if any."""
        if self._seqs is not None:
            await self._seqs.wait()

    async def _caught_up(self) -> None:
        if self._seqs is not None and self._was_up:
            self._seqs.reconnected()
        self._was_up = True

    async def _list_since(
        self, task_id: _t.TaskId, conversation_id: str, since_seq: str
    ) -> tuple[list[_t.Message], bool]:
        r = await self.messages_list(_t.MessagesListParams(
            task_id=task_id, conversation_id=_t.ConversationId(conversation_id),
            since_seq=_t.Seq(since_seq), limit=_t.PageLimit(200)))
        return r.messages, r.has_more

    def _deliver_message(self, task_id: _t.TaskId, message: _t.Message) -> None:
        params = _t.MessagesReceivedNotification(task_id=task_id, message=message)
        self._dispatch(Event("messages/received", params))

    def _report_catch_up(self, report: _cu.CatchUpReport) -> None:
        for h in list(self._catch_up_handlers):
            h(report)

    async def _connect(self) -> None:
        creds = _t.AgentKeyCredentials(
            agent_key=self.agent_key,
            min_protocol=_t.ProtocolVersionString(self.min_protocol),
            max_protocol=_t.ProtocolVersionString(self.max_protocol),
        )
        self.hello = _t.decode_HelloOk(await self.call("network/connect", creds.to_obj(), None))

    async def close(self) -> None:
        """Close the connection (no reconnection)."""
        await self.conn.close()

    async def call(self, method: str, params: object, timeout: float | None = None) -> object:
        """Send a request with raw JSON params; raise the typed error of an error response."""
        try:
            return await self.conn.call_raw(method, params, timeout)
        except Exception as e:
            raw = _rpc.wire_error(e)
            if raw is None:
                raise
            raise error_from_wire(raw) from None

    def _notify(self, method: str, params: object) -> None:
        try:
            event = decode_notification(method, params)
        except ValidationError:
            return
        if event is None:
            return
        if self._seqs is not None and isinstance(event.params, _t.MessagesReceivedNotification):
            self._seqs.live(event.params.task_id, event.params.message)
            return
        self._dispatch(event)

    def _dispatch(self, event: Event) -> None:
        for h in list(self._handlers.get(event.method, [])):
            h(event.params)
        for q in self._queues:
            q.put_nowait(event)

    def notifications(self) -> Events:
        """Return an async iterator over the notifications received from now on (the
        subscription starts at this call, not at the first iteration); close() ends it."""
        q: asyncio.Queue[Event] = asyncio.Queue()
        self._queues.append(q)
        return Events(q, self._queues)

`

// clientOn is the implementation of Client.on, after its generated overloads.
const clientOn = `    def on(self, method: NotificationMethod, handler: Callable[[Any], None]) -> None:
        """Call handler with the typed params of every notification method."""
        self._handlers.setdefault(method, []).append(handler)
`

// httpCore is the HTTP registration and claim (runtime/server/http.go).
const httpCore = `

@dataclass(frozen=True, kw_only=True)
class Registration:
    """The answer of POST /api/v1/auth/register (201)."""

    agent_id: _t.AgentId
    api_key: str
    """The agent key for network/connect; shown once."""
    claim_token: str
    claim_url: str


@dataclass(frozen=True, kw_only=True)
class Claim:
    """The answer of POST /api/v1/auth/claim: 201 the first time, 200 when repeated."""

    agent_id: _t.AgentId
    owner_user_id: _t.UserId
    first: bool


def _text(o: dict[str, object], key: str) -> str:
    v = o.get(key)
    if not isinstance(v, str):
        raise ValidationError("/" + key, "type", "must be a string")
    return v


async def register(
    http_url: str, name: str, *, description: str | None = None, invite_code: str | None = None
) -> Registration:
    """Register an agent: POST {http_url}/api/v1/auth/register {name, description?, inviteCode?}.

    Raises HTTPError: 400 invalid name (AgentName pattern) or description (over 500
    characters), 403 invite code missing or wrong, 409 name taken (code NAME_TAKEN).
    """
    body: dict[str, object] = {"name": name}
    if description is not None:
        body["description"] = description
    if invite_code is not None:
        body["inviteCode"] = invite_code
    _, o = await _rpc.post(http_url.rstrip("/") + "/api/v1/auth/register", body)
    return Registration(
        agent_id=_t.AgentId(_text(o, "agentId")),
        api_key=_text(o, "apiKey"),
        claim_token=_text(o, "claimToken"),
        claim_url=_text(o, "claimUrl"),
    )


async def claim(
    http_url: str, claim_token: str, owner_user_id: str, *, invite_code: str | None = None
) -> Claim:
    """Bind an agent to its owner: POST {http_url}/api/v1/auth/claim {claimToken, ownerUserId, inviteCode?}.

    Raises HTTPError: 400 invalid body (ownerUserId must be a UUID), 401 unknown token
    (CLAIM_NOT_FOUND), 403 claimed by another owner (CLAIM_OWNER_MISMATCH) or invite code.
    """
    body: dict[str, object] = {"claimToken": claim_token, "ownerUserId": owner_user_id}
    if invite_code is not None:
        body["inviteCode"] = invite_code
    status, o = await _rpc.post(http_url.rstrip("/") + "/api/v1/auth/claim", body)
    return Claim(
        agent_id=_t.AgentId(_text(o, "agentId")),
        owner_user_id=_t.UserId(_text(o, "ownerUserId")),
        first=status == 201,
    )


__all__ = [
    "DEFAULT_APP_ID",
    "MAX_PROTOCOL",
    "MIN_PROTOCOL",
    "Claim",
    "Client",
    "Event",
    "Events",
    "MoltZapError",
    "NotificationMethod",
    "NotificationParams",
    "Registration",
    "claim",
    "decode_notification",
    "register",
]
`
