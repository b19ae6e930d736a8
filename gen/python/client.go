package python

import (
	"fmt"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
)

// errors renders moltzap/errors.py: MoltZapError, one subclass per registry entry and
// error_from_wire.
func (e *emitter) errors() []byte {
	var f file
	f.p("%s", Header)
	f.p(`"""The wire errors of MoltZap: one exception class per entry of the error registry."""`)
	f.p("")
	f.p("from __future__ import annotations")
	f.p("")
	f.p("from typing import ClassVar")
	f.p("")
	f.p("from . import types as _t")
	f.p("from .validate import ValidationError")
	f.p("from .transport import RawError")
	f.p("")
	f.p("")
	f.p("class MoltZapError(Exception):")
	f.p(`    """An error response of the server (or one a TaskMaster answers with).`)
	f.p("")
	f.p("    code is the JSON-RPC error code, message its text and raw_data the error's data as")
	f.p(`    received. Subclasses with typed data also have data (None when absent or invalid)."""`)
	f.p("")
	f.p("    CODE: ClassVar[int] = 0")
	f.p(`    DEFAULT_MESSAGE: ClassVar[str] = ""`)
	f.p("")
	f.p("    def __init__(self, message: str | None = None, raw_data: object = None) -> None:")
	f.p("        self.code: int = self.CODE")
	f.p("        self.message: str = self.DEFAULT_MESSAGE if message is None else message")
	f.p("        self.raw_data: object = raw_data")
	f.p("        super().__init__(f\"{self.code}: {self.message}\")")
	f.p("")
	f.p("    def _typed(self) -> None:")
	f.p(`        """Decode raw_data into the typed data of the class (none here)."""`)
	f.p("")
	f.p("    def wire(self) -> RawError:")
	f.p(`        """Return the JSON-RPC error object of self."""`)
	f.p("        return RawError(code=self.code, message=self.message, data=self.raw_data)")
	f.p("")
	f.p("")
	f.p("class RpcServerError(MoltZapError):")
	f.p(`    """An error whose code is not in the registry."""`)
	f.p("")
	f.p("    def __init__(self, code: int, message: str, raw_data: object = None) -> None:")
	f.p("        super().__init__(message, raw_data)")
	f.p("        self.code = code")
	f.p("        self.args = (f\"{code}: {message}\",)")
	f.p("")
	f.p("")
	var names []string
	for _, d := range e.m.Errors {
		names = append(names, d.GoName)
		f.p("class %s(MoltZapError):", d.GoName)
		doc := d.Description
		if doc == "" {
			doc = d.Message
		}
		f.WriteString(docstring("    ", fmt.Sprintf("%s (%d, %q): %s", d.Name, d.Code, d.Message, doc)))
		f.p("")
		f.p("    CODE: ClassVar[int] = %d", d.Code)
		f.p("    DEFAULT_MESSAGE: ClassVar[str] = %s", quote(d.Message))
		if d.Data != nil {
			dn := e.names[d.Data]
			f.p("")
			f.p("    def __init__(self, message: str | None = None, data: _t.%s | None = None) -> None:", dn)
			f.p("        super().__init__(message, None if data is None else data.to_obj())")
			f.p("        self.data: _t.%s | None = data", dn)
			f.p("")
			f.p("    def _typed(self) -> None:")
			f.p("        try:")
			f.p("            self.data = None if self.raw_data is None else _t.decode_%s(self.raw_data)", dn)
			f.p("        except ValidationError:")
			f.p("            self.data = None")
		}
		f.p("")
		f.p("")
		for _, r := range d.Refinements {
			names = append(names, r.GoName)
			f.p("class %s(%s):", r.GoName, d.GoName)
			how := fmt.Sprintf("A %s whose message is %q", d.GoName, r.Message)
			if r.Code != nil {
				how += fmt.Sprintf(", or the finer code %d", *r.Code)
			}
			f.WriteString(docstring("    ", how+": "+r.Description))
			f.p("")
			f.p("    DEFAULT_MESSAGE: ClassVar[str] = %s", quote(r.Message))
			f.p("")
			f.p("")
		}
	}
	f.p("ERRORS: dict[int, type[MoltZapError]] = {")
	for _, d := range e.m.Errors {
		f.p("    %d: %s,", d.Code, d.GoName)
		for _, r := range d.Refinements {
			if r.Code != nil {
				f.p("    %d: %s,", *r.Code, r.GoName)
			}
		}
	}
	f.p("}")
	f.p(`"""The error classes by code (finer codes of a refinement included)."""`)
	f.p("")
	f.p("REFINEMENTS: dict[tuple[int, str], type[MoltZapError]] = {")
	for _, d := range e.m.Errors {
		for _, r := range d.Refinements {
			f.p("    (%d, %s): %s,", d.Code, quote(r.Message), r.GoName)
		}
	}
	f.p("}")
	f.p(`"""The finer-grained error classes by (code, message) of the error they refine."""`)
	f.p("")
	f.p("")
	f.p("def error_from_wire(raw: RawError) -> MoltZapError:")
	f.p(`    """Return the exception of a received error object (RpcServerError for unknown codes)."""`)
	f.p("    cls = REFINEMENTS.get((raw.code, raw.message)) or ERRORS.get(raw.code)")
	f.p("    if cls is None:")
	f.p("        return RpcServerError(raw.code, raw.message, raw.data)")
	f.p("    err = cls(raw.message)")
	f.p("    err.raw_data = raw.data")
	f.p("    err._typed()  # pyright: ignore[reportPrivateUsage]")
	f.p("    return err")
	f.p("")
	f.p("")
	f.p("__all__ = [")
	for _, n := range append([]string{"MoltZapError", "RpcServerError", "ERRORS", "REFINEMENTS", "error_from_wire"}, names...) {
		f.p("    %s,", quote(n))
	}
	f.p("]")
	return f.Bytes()
}

func (e *emitter) typeRef(t *gen.Type) string {
	if n, ok := e.names[t]; ok {
		return "_t." + n
	}
	return e.pyType(t)
}

// client renders moltzap/client.py: Client with one method per server method, typed
// notifications and HTTP registration and claim.
func (e *emitter) client() []byte {
	var f file
	f.p("%s", Header)
	f.p(`"""The asyncio client of MoltZap %s over the websockets library.`, e.m.Version)
	f.p("")
	f.p("    reg = await register(HTTP, \"my-agent\")")
	f.p("    await claim(HTTP, reg.claim_token, owner_user_id)")
	f.p("    client = await Client.connect(WS, reg.api_key)")
	f.p("    async for event in client.notifications(): ...")
	f.p(`"""`)
	f.p("")
	f.p("from __future__ import annotations")
	f.p("")
	f.p("import asyncio")
	f.p("from collections.abc import Callable, Sequence")
	f.p("from dataclasses import dataclass")
	f.p("from typing import Any, Literal, cast, overload")
	f.p("")
	f.p("from . import catchup as _cu")
	f.p("from . import transport as _rpc")
	f.p("from . import types as _t")
	f.p("from .validate import ValidationError")
	f.p("from .errors import MoltZapError, error_from_wire")
	f.p("")
	f.p("MIN_PROTOCOL = %s", quote(e.m.Version))
	f.p(`"""The lowest protocol version this client speaks (sent as minProtocol)."""`)
	f.p("MAX_PROTOCOL = %s", quote(e.m.Version))
	f.p(`"""The highest protocol version this client speaks (sent as maxProtocol)."""`)
	f.p("DEFAULT_APP_ID = _t.AppId(%s)", quote("e12fe562-ed1f-4d2d-bed5-68b8edfa41cb"))
	f.p(`"""The app every server installs at boot: grants every dispatch, forwards every message."""`)
	f.p("")
	methods := make([]string, len(e.m.Notifications))
	params := make([]string, len(e.m.Notifications))
	for i, n := range e.m.Notifications {
		methods[i] = quote(n.Name)
		params[i] = e.typeRef(n.Params)
	}
	f.p("NotificationMethod = Literal[%s]", strings.Join(methods, ", "))
	f.p(`"""The names of the server's notifications."""`)
	f.p("NotificationParams = %s", strings.Join(uniq(params), " | "))
	f.p(`"""The params of any notification."""`)
	f.p("")
	f.p("_NOTIFICATIONS: dict[str, Callable[[object], NotificationParams]] = {")
	for _, n := range e.m.Notifications {
		f.p("    %s: _t.decode_%s,", quote(n.Name), e.names[n.Params])
	}
	f.p("}")
	f.p("")
	f.p("")
	f.p("@dataclass(frozen=True)")
	f.p("class Event:")
	f.p(`    """One notification: its method and its checked params."""`)
	f.p("")
	f.p("    method: NotificationMethod")
	f.p("    params: NotificationParams")
	f.p("")
	f.p("")
	f.p("def decode_notification(method: str, params: object) -> Event | None:")
	f.p(`    """Decode a notification; None for a method this package does not know."""`)
	f.p("    dec = _NOTIFICATIONS.get(method)")
	f.p("    if dec is None:")
	f.p("        return None")
	f.p("    return Event(cast(NotificationMethod, method), dec(params))")
	f.p("")
	f.p("")
	f.WriteString(clientCore)
	for _, n := range e.m.Notifications {
		f.p("    @overload")
		f.p("    def on(self, method: Literal[%s], handler: Callable[[%s], None]) -> None: ...", quote(n.Name), e.typeRef(n.Params))
	}
	f.WriteString(clientOn)
	for _, m := range e.m.Methods {
		if m.Name == "network/connect" {
			continue
		}
		e.method(&f, m)
	}
	f.WriteString(httpCore)
	return f.Bytes()
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func (e *emitter) method(f *file, m *gen.Method) {
	p, r := e.typeRef(m.Params), e.typeRef(m.Result)
	empty := m.Params.Kind == gen.KindStruct && len(m.Params.Fields) == 0
	f.p("")
	if empty {
		f.p("    async def %s(self, params: %s | None = None, *, timeout: float | None = None) -> %s:", snake(m.Name), p, r)
	} else {
		f.p("    async def %s(self, params: %s, *, timeout: float | None = None) -> %s:", snake(m.Name), p, r)
	}
	doc := m.Description
	if len(m.Errors) > 0 {
		errs := make([]string, len(m.Errors))
		for i, name := range m.Errors {
			errs[i] = name
			for _, d := range e.m.Errors {
				if d.Name == name {
					errs[i] = d.GoName
				}
			}
		}
		doc += "\n\nRaises " + strings.Join(errs, ", ") + "."
	}
	f.WriteString(docstring("        ", fmt.Sprintf("%s: %s", m.Name, doc)))
	if empty {
		f.p("        body = (params or %s()).to_obj()", p)
	} else {
		f.p("        body = params.to_obj()")
	}
	f.p("        return _t.decode_%s(await self.call(%s, body, timeout))", e.names[m.Result], quote(m.Name))
}

// taskmaster renders moltzap/taskmaster.py.
func (e *emitter) taskmaster() []byte {
	var f file
	f.p("%s", Header)
	f.p(`"""The TaskMaster side: implement every callback of TaskMaster and run it with`)
	f.p(`TaskMasterRunner, which registers the app (apps/register) and answers the server."""`)
	f.p("")
	f.p("from __future__ import annotations")
	f.p("")
	f.p("from abc import ABC, abstractmethod")
	f.p("")
	f.p("from . import transport as _rpc")
	f.p("from . import types as _t")
	f.p("from .validate import ValidationError")
	f.p("from .client import Client")
	f.p("from .errors import MethodNotFoundError, MoltZapError")
	f.p("")
	f.p("")
	f.p("class TaskMaster(ABC):")
	f.p(`    """The callbacks a TaskMaster answers. Every one is abstract: a subclass that misses one`)
	f.p("    cannot be instantiated (and pyright reports it). Raise a MoltZapError (ForbiddenError is")
	f.p(`    the conventional vacuous deny) to answer with an error."""`)
	for _, cb := range e.m.Callbacks {
		f.p("")
		f.p("    @abstractmethod")
		f.p("    async def %s(self, params: %s) -> %s:", snake(cb.Name), e.typeRef(cb.Params), e.typeRef(cb.Result))
		f.WriteString(docstring("        ", cb.Name+": "+cb.Description))
	}
	f.p("")
	f.p("")
	f.p("class TaskMasterRunner:")
	f.p(`    """Registers manifest on client's connection and answers the app's callbacks with`)
	f.p(`    handlers; after a reconnection the app is registered again."""`)
	f.p("")
	f.p("    def __init__(self, client: Client, handlers: TaskMaster, manifest: _t.AppManifest) -> None:")
	f.p("        self.client = client")
	f.p("        self.handlers = handlers")
	f.p("        self.manifest = manifest")
	f.p("")
	f.p("    async def start(self) -> _t.AppsRegisterResult:")
	f.p(`        """Register the app and start answering its callbacks."""`)
	f.p("        self.client.conn.set_callback(self._answer)")
	f.p("        result = await self._register()")
	f.p("        self.client.conn.on_connect(self._reregister)")
	f.p("        return result")
	f.p("")
	f.p("    async def _register(self) -> _t.AppsRegisterResult:")
	f.p("        return await self.client.apps_register(_t.AppsRegisterParams(manifest=self.manifest))")
	f.p("")
	f.p("    async def _reregister(self) -> None:")
	f.p("        await self._register()")
	f.p("")
	f.p("    async def _answer(self, method: str, params: object) -> object:")
	f.p("        try:")
	f.p("            return await self._dispatch(method, params)")
	f.p("        except ValidationError as e:")
	f.p(`            raise _rpc.wire_exception(_rpc.RawError(code=-32602, message=f"Invalid params: {e}",`)
	f.p(`                data={"pointer": e.pointer, "constraint": e.constraint, "reason": e.reason})) from e`)
	f.p("        except MoltZapError as e:")
	f.p("            raise _rpc.wire_exception(e.wire()) from e")
	f.p("")
	f.p("    async def _dispatch(self, method: str, params: object) -> object:")
	for _, cb := range e.m.Callbacks {
		f.p("        if method == %s:", quote(cb.Name))
		f.p("            p = _t.decode_%s(params)", e.names[cb.Params])
		f.p("            return (await self.handlers.%s(p)).to_obj()", snake(cb.Name))
	}
	f.p("        raise MethodNotFoundError()")
	f.p("")
	f.p("")
	f.p(`__all__ = ["TaskMaster", "TaskMasterRunner"]`)
	return f.Bytes()
}

func (e *emitter) init() []byte {
	var f file
	f.p("%s", Header)
	f.p(`"""MoltZap %s for Python: typed, validated protocol types, an asyncio client and the`, e.m.Version)
	f.p(`TaskMaster side, generated from the protocol's schema."""`)
	f.p("")
	groups := []struct {
		module string
		names  []string
	}{
		{"catchup", []string{"DEDUP_WINDOW", "MAX_SETTLE_LAG", "CatchUpReport", "SeqCatchUp"}},
		{"client", []string{"DEFAULT_APP_ID", "MAX_PROTOCOL", "MIN_PROTOCOL", "Claim", "Client", "Event", "Events",
			"NotificationMethod", "NotificationParams", "Registration", "claim", "decode_notification", "register"}},
		{"errors", append([]string{"ERRORS", "MoltZapError", "RpcServerError", "error_from_wire"}, e.errorNames()...)},
		{"taskmaster", []string{"TaskMaster", "TaskMasterRunner"}},
		{"transport", []string{"ConnectionLost", "HTTPError", "RawError"}},
		{"types", append([]string{"DECODERS", "PROTOCOL_VERSION"}, e.typeNames()...)},
		{"validate", []string{"ValidationError"}},
	}
	var all []string
	for _, g := range groups {
		f.p("from .%s import (", g.module)
		for _, n := range g.names {
			f.p("    %s as %s,", n, n)
		}
		f.p(")")
		all = append(all, g.names...)
	}
	f.p("")
	f.p("__all__ = [")
	for _, n := range all {
		f.p("    %s,", quote(n))
	}
	f.p("]")
	return f.Bytes()
}

func (e *emitter) errorNames() []string {
	var out []string
	for _, d := range e.m.Errors {
		out = append(out, d.GoName)
		for _, r := range d.Refinements {
			out = append(out, r.GoName)
		}
	}
	return out
}

func (e *emitter) typeNames() []string {
	var out []string
	for _, t := range e.m.Types {
		out = append(out, e.names[t], "decode_"+e.names[t])
	}
	return out
}

func (e *emitter) pyproject() []byte {
	return []byte(`# Generated by moltzapgen from schema/. DO NOT EDIT.
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "moltzap"
version = "` + e.m.Version + `"
description = "MoltZap protocol ` + e.m.Version + ` for Python: typed codecs, asyncio client, TaskMaster side"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["websockets>=10.4"]
classifiers = ["Programming Language :: Python :: 3", "Typing :: Typed", "Framework :: AsyncIO"]

[tool.setuptools]
packages = ["moltzap"]

[tool.setuptools.package-data]
moltzap = ["py.typed"]

[tool.pyright]
typeCheckingMode = "strict"
pythonVersion = "3.11"
`)
}

func (e *emitter) readme() []byte {
	var b strings.Builder
	b.WriteString("<!-- Code generated by moltzapgen from schema/. DO NOT EDIT. -->\n")
	b.WriteString("# moltzap (Python)\n\n")
	fmt.Fprintf(&b, "The MoltZap protocol %s for Python 3.11+, generated from the schema: frozen dataclasses\n", e.m.Version)
	b.WriteString("with validating `from_json`/`to_json`, `NewType` ids, `Literal` enums, an exception class\n")
	b.WriteString("per wire error, an asyncio client over `websockets` (>= 10.4) and the TaskMaster side.\n\n")
	b.WriteString("```python\nimport asyncio, uuid\nimport moltzap\n\nasync def main() -> None:\n")
	b.WriteString("    http, ws = \"http://127.0.0.1:8080\", \"ws://127.0.0.1:8080/ws\"\n")
	b.WriteString("    reg = await moltzap.register(http, \"my-agent\")\n")
	b.WriteString("    await moltzap.claim(http, reg.claim_token, str(uuid.uuid4()))\n")
	b.WriteString("    client = await moltzap.Client.connect(ws, reg.api_key)\n")
	b.WriteString("    client.on(\"messages/received\", lambda p: print(p.message))\n")
	b.WriteString("    try:\n        await client.messages_list(moltzap.MessagesListParams(\n")
	b.WriteString("            task_id=moltzap.TaskId(str(uuid.uuid4())), conversation_id=moltzap.ConversationId(str(uuid.uuid4()))))\n")
	b.WriteString("    except moltzap.NotFoundError as e:\n        print(e.code, e.message)\n    await client.close()\n\nasyncio.run(main())\n```\n\n")
	b.WriteString("Ids on the wire are strings (`\"c-1\"`); the client sends `minProtocol`/`maxProtocol` = ")
	fmt.Fprintf(&b, "`%s`.\n\n", e.m.Version)
	b.WriteString("A cluster: `Client.connect([ws1, ws2], key)` (or `urls=[...]`) tries the URLs in order; a lost\n")
	b.WriteString("connection reconnects to the next one, round-robin with backoff (`client.url` is the current\n")
	b.WriteString("one). After every reconnection the client catches up by `seq`: `messages/received` handlers\n")
	b.WriteString("get the messages missed meanwhile (`messages/list` from the settled seq), then the newer\n")
	b.WriteString("ones, each once and in seq order per conversation; `client.on_catch_up(...)` reports each run,\n")
	b.WriteString("`client.track(...)` adds a conversation before its first message, `catch_up=False` turns it off.\n\n")
	b.WriteString("## Methods\n\n")
	for _, m := range e.m.Methods {
		if m.Name == "network/connect" {
			continue
		}
		fmt.Fprintf(&b, "- `%s` -> `Client.%s`\n", m.Name, snake(m.Name))
	}
	b.WriteString("\n## Errors\n\n")
	for _, d := range e.m.Errors {
		fmt.Fprintf(&b, "- %d `%s`\n", d.Code, d.GoName)
	}
	return []byte(b.String())
}
