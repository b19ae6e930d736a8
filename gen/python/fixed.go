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
    """

    def __init__(
        self,
        url: str,
        agent_key: str,
        *,
        min_protocol: str = MIN_PROTOCOL,
        max_protocol: str = MAX_PROTOCOL,
        timeout: float = 10.0,
        reconnect: bool = True,
    ) -> None:
        self.conn = _rpc.Connection(url, timeout=timeout, reconnect=reconnect)
        self.agent_key = agent_key
        self.min_protocol = min_protocol
        self.max_protocol = max_protocol
        self.hello: _t.HelloOk | None = None
        self._handlers: dict[str, list[Callable[[NotificationParams], None]]] = {}
        self._queues: list[asyncio.Queue[Event]] = []
        self.conn.add_listener(self._notify)
        self.conn.on_connect(self._connect)

    @classmethod
    async def connect(
        cls,
        url: str,
        agent_key: str,
        *,
        min_protocol: str = MIN_PROTOCOL,
        max_protocol: str = MAX_PROTOCOL,
        timeout: float = 10.0,
        reconnect: bool = True,
    ) -> Client:
        """Dial url and authenticate with network/connect; returns the ready client."""
        c = cls(url, agent_key, min_protocol=min_protocol, max_protocol=max_protocol,
                timeout=timeout, reconnect=reconnect)
        await c.conn.open()
        return c

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
        for h in list(self._handlers.get(method, [])):
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
