package typescript

import (
	"fmt"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
)

// errors writes src/errors.ts: one MoltZapError subclass per registry error, with its code
// and typed data, and errorFromWire.
func (e *emitter) errors(p *printer) {
	p.line("// The wire error registry as Error subclasses: `err instanceof NotFoundError`. A code outside")
	p.line("// the registry becomes an RpcServerError.")
	p.line("")
	p.line(`import { MoltZapError, RpcServerError } from "./runtime/errors.js";`)
	if e.hasErrorData() {
		p.line(`import { type JNode, toValue } from "./runtime/json.js";`)
	} else {
		p.line(`import { toValue } from "./runtime/json.js";`)
	}
	p.line(`import type { WireError } from "./runtime/rpc.js";`)
	data := map[string]bool{}
	for _, er := range e.m.Errors {
		if er.Data != nil {
			data[e.names[er.Data]] = true
		}
	}
	if len(data) > 0 {
		p.f("import type { %s } from \"./types.js\";", strings.Join(sortedNames(data), ", "))
		readers := make([]string, 0, len(data))
		for _, n := range sortedNames(data) {
			readers = append(readers, "read"+n)
		}
		p.f("import { %s } from \"./validate.js\";", strings.Join(readers, ", "))
	}
	p.line("")
	p.line(`export { MoltZapError, RpcServerError, TimeoutError, ConnectionClosedError, HttpError, InvalidResultError } from "./runtime/errors.js";`)
	p.line("")
	p.doc("", "ErrorCodes are the codes of the wire error registry, by name.")
	p.line("export const ErrorCodes = {")
	for _, er := range e.m.Errors {
		p.f("  %s: %d,", propName(er.Name), er.Code)
	}
	p.line("} as const;")
	for _, er := range e.m.Errors {
		p.line("")
		desc := fmt.Sprintf("%s is wire error %d (%s; default message %s).", er.GoName, er.Code, er.Name, jsString(er.Message))
		p.doc("", joinDoc(desc, er.Description))
		p.f("export class %s extends MoltZapError {", er.GoName)
		p.f("  /** The error's wire code. */")
		p.f("  static readonly code = %d;", er.Code)
		p.f("  declare readonly code: %d;", er.Code)
		dataType := ""
		if er.Data != nil {
			dataType = e.names[er.Data]
			p.f("  declare readonly data: %s | undefined;", dataType)
			p.f("  constructor(message: string = %s, data?: %s) {", jsString(er.Message), dataType)
			p.f("    super(%d, message, data);", er.Code)
		} else {
			p.f("  constructor(message: string = %s) {", jsString(er.Message))
			p.f("    super(%d, message);", er.Code)
		}
		p.f("    this.name = %s;", jsString(er.GoName))
		p.line("  }")
		p.line("}")
		e.refinementClasses(p, er)
	}
	if len(data) > 0 {
		e.dataOf(p)
	}
	p.line("")
	p.doc("", "errorFromWire returns the typed error of a wire error object; an unknown code gives an RpcServerError.")
	p.line("export function errorFromWire(w: WireError): MoltZapError {")
	p.line("  switch (w.code) {")
	for _, er := range e.m.Errors {
		p.f("    case %d:", er.Code)
		for _, r := range er.Refinements {
			p.f("      if (w.message === %s) return new %s(w.message%s);", jsString(r.Message), r.GoName, e.dataArg(er))
		}
		p.f("      return new %s(w.message%s);", er.GoName, e.dataArg(er))
		for _, r := range er.Refinements {
			if r.Code != nil {
				p.f("    case %d:", *r.Code)
				p.f("      return new %s(w.message%s);", r.GoName, e.dataArg(er))
			}
		}
	}
	p.line("  }")
	p.line("  return new RpcServerError(w.code, w.message, w.data === undefined ? undefined : toValue(w.data));")
	p.line("}")
}

// dataArg is the data argument of a registry error's constructor call in errorFromWire.
func (e *emitter) dataArg(er *gen.ErrorDef) string {
	if er.Data == nil {
		return ""
	}
	return fmt.Sprintf(", dataOf(w.data, read%s)", e.names[er.Data])
}

// refinementClasses declares the finer kinds of er as its subclasses: `err instanceof
// NotFoundError` still holds for a ConversationNotFoundError.
func (e *emitter) refinementClasses(p *printer, er *gen.ErrorDef) {
	for _, r := range er.Refinements {
		p.line("")
		how := fmt.Sprintf("a %s (%d) whose message is %s", er.GoName, er.Code, jsString(r.Message))
		if r.Code != nil {
			how += fmt.Sprintf(", or the finer code %d", *r.Code)
		}
		p.doc("", joinDoc(fmt.Sprintf("%s is %s.", r.GoName, how), r.Description))
		p.f("export class %s extends %s {", r.GoName, er.GoName)
		if er.Data != nil {
			p.f("  constructor(message: string = %s, data?: %s) {", jsString(r.Message), e.names[er.Data])
			p.line("    super(message, data);")
		} else {
			p.f("  constructor(message: string = %s) {", jsString(r.Message))
			p.line("    super(message);")
		}
		p.f("    this.name = %s;", jsString(r.GoName))
		p.line("  }")
		p.line("}")
	}
}

func (e *emitter) hasErrorData() bool {
	for _, er := range e.m.Errors {
		if er.Data != nil {
			return true
		}
	}
	return false
}

// dataOf writes the helper reading an error's typed data.
func (e *emitter) dataOf(p *printer) {
	p.line("")
	p.line("function dataOf<T>(n: JNode | undefined, read: (n: JNode, p: string) => T): T | undefined {")
	p.line("  if (n === undefined) return undefined;")
	p.line("  try {")
	p.line("    return read(n, \"/data\");")
	p.line("  } catch {")
	p.line("    return undefined; // data that fails its validator is dropped, as in Go")
	p.line("  }")
	p.line("}")
}

// client writes src/client.ts: MoltZapClient with one typed method per server method and
// typed notification subscriptions.
func (e *emitter) client(p *printer) {
	p.line("// The typed client: MoltZapClient.connect({url, agentKey}) opens the WebSocket and sends")
	p.line("// network/connect with the protocol range; every server method is one async method;")
	p.line("// client.on(\"messages/received\", p => ...) subscribes to a notification.")
	p.line("")
	p.line(`import { type ConnectionOptions, RpcConnection } from "./runtime/rpc.js";`)
	cu := e.catchUpSpec()
	if cu != nil {
		p.line(`import { type CatchUpReport, SeqCatchUp } from "./runtime/catchup.js";`)
	}
	p.line(`import { errorFromWire } from "./errors.js";`)
	types := map[string]bool{}
	funcs := map[string]bool{}
	for _, x := range e.m.Methods {
		types[e.names[x.Params]], types[e.names[x.Result]] = true, true
		funcs["validate"+e.names[x.Params]], funcs["read"+e.names[x.Result]] = true, true
	}
	for _, n := range e.m.Notifications {
		types[e.names[n.Params]] = true
		funcs["read"+e.names[n.Params]] = true
	}
	connect := e.findMethod("network/connect")
	if cu != nil {
		types[cu.taskID], types[cu.message] = true, true
	}
	if len(types) > 0 {
		p.f("import type { %s } from \"./types.js\";", strings.Join(sortedNames(types), ", "))
	}
	if connect != nil {
		p.line(`import { ProtocolVersion } from "./types.js";`)
	}
	if len(funcs) > 0 {
		p.f("import { %s } from \"./validate.js\";", strings.Join(sortedNames(funcs), ", "))
	}
	p.line(`import type { JNode } from "./runtime/json.js";`)
	p.line("")
	p.doc("", "Notifications maps each server notification method to its params type.")
	p.line("export interface Notifications {")
	for _, n := range e.m.Notifications {
		p.doc("  ", n.Description)
		p.f("  %s: %s;", jsString(n.Name), e.names[n.Params])
	}
	p.line("}")
	p.line("")
	p.doc("", "NotificationMethod is the name of a server notification.")
	p.line("export type NotificationMethod = keyof Notifications;")
	p.line("")
	p.line("const notificationReaders: { [M in NotificationMethod]: (n: JNode, p: string) => Notifications[M] } = {")
	for _, n := range e.m.Notifications {
		p.f("  %s: read%s,", jsString(n.Name), e.names[n.Params])
	}
	p.line("};")
	p.line("")
	p.doc("", "Methods lists the wire names of the server methods.")
	names := make([]string, len(e.m.Methods))
	for i, x := range e.m.Methods {
		names[i] = x.Name
	}
	p.f("export const Methods: readonly string[] = %s;", jsStrings(names))
	p.line("")
	p.doc("", "ClientOptions configure a MoltZapClient: the connection, the credential and the protocol range sent in network/connect (both default to ProtocolVersion).")
	p.line("export interface ClientOptions extends ConnectionOptions {")
	p.line("  /** The agent's API key (from registration). */")
	p.line("  readonly agentKey?: string;")
	p.line("  /** A session token, instead of agentKey. */")
	p.line("  readonly sessionToken?: string;")
	p.line("  readonly minProtocol?: string;")
	p.line("  readonly maxProtocol?: string;")
	p.line("  /** Validate params before sending them (default true). */")
	p.line("  readonly validateParams?: boolean;")
	if cu != nil {
		p.doc("  ", "Catch up by seq after a reconnection (default true): "+jsString(cu.notif.Name)+" is delivered once per message and, "+
			"after a reconnection (to the same node or another), the messages missed meanwhile are recovered with "+cu.list.Name+
			" and delivered before newer ones (see SeqCatchUp). false delivers the notifications as they arrive.")
		p.line("  readonly catchUp?: boolean;")
	}
	p.line("}")
	p.line("")
	p.doc("", "CallOptions are per-call options.")
	p.line("export interface CallOptions {")
	p.line("  /** Timeout of this call in milliseconds (default: the client's callTimeoutMs). */")
	p.line("  readonly timeoutMs?: number;")
	p.line("}")
	p.line("")
	p.doc("", "MoltZapClient is a typed MoltZap client over one WebSocket; it reconnects with backoff (round-robin over the URLs of a cluster) and repeats the handshake after each reconnection.")
	p.line("export class MoltZapClient {")
	p.line("  /** The JSON-RPC connection underneath. */")
	p.line("  readonly rpc: RpcConnection;")
	if cu != nil {
		p.f("  /** The catch-up behind %s (undefined with catchUp: false). */", jsString(cu.notif.Name))
		p.f("  readonly seqs: SeqCatchUp<%s, %s> | undefined;", cu.taskID, cu.message)
		p.f("  private readonly messageListeners = new Set<(params: %s) => void>();", cu.params)
		p.line("  private readonly catchUpListeners = new Set<(r: CatchUpReport) => void>();")
	}
	if connect != nil {
		p.f("  /** The server's answer to the last network/connect. */")
		p.f("  hello: %s | undefined;", e.names[connect.Result])
	}
	p.line("")
	p.line("  constructor(readonly options: ClientOptions) {")
	p.line("    this.rpc = new RpcConnection(options);")
	p.line("    this.rpc.errorFromWire = errorFromWire;")
	if connect != nil {
		p.line("    this.rpc.onOpen = async () => {")
		p.line("      const range = { minProtocol: options.minProtocol ?? ProtocolVersion, maxProtocol: options.maxProtocol ?? ProtocolVersion };")
		p.line("      const credential = options.sessionToken !== undefined ? { sessionToken: options.sessionToken } : { agentKey: options.agentKey ?? \"\" };")
		p.f("      this.hello = await this.%s({ ...credential, ...range } as %s);", methodName(connect), e.names[connect.Params])
		p.line("    };")
	}
	if cu != nil {
		e.catchUpWiring(p, cu)
	}
	p.line("  }")
	p.line("")
	p.line("  /** connect opens a client: the WebSocket, then the handshake (trying the URLs in order). */")
	p.line("  static async connect(options: ClientOptions): Promise<MoltZapClient> {")
	p.line("    const c = new MoltZapClient(options);")
	p.line("    await c.rpc.open();")
	p.line("    return c;")
	p.line("  }")
	p.line("")
	p.line("  /** url is the WebSocket URL of the current connection (of the last one while reconnecting). */")
	p.line("  get url(): string {")
	p.line("    return this.rpc.url;")
	p.line("  }")
	p.line("")
	p.line("  /** close closes the connection for good. */")
	p.line("  close(): void {")
	p.line("    this.rpc.close();")
	p.line("  }")
	p.line("")
	p.line("  /** on subscribes to a notification; it returns the unsubscribe function. Params that fail their validator go to onError. */")
	p.line("  on<M extends NotificationMethod>(method: M, fn: (params: Notifications[M]) => void): () => void {")
	if cu != nil {
		p.f("    if (method === %s) {", jsString(cu.notif.Name))
		p.f("      const f = fn as (params: %s) => void;", cu.params)
		p.line("      this.messageListeners.add(f);")
		p.line("      return () => { this.messageListeners.delete(f); };")
		p.line("    }")
	}
	p.line("    const read = notificationReaders[method] as (n: JNode, p: string) => Notifications[M];")
	p.line("    return this.rpc.listen(method, (n) => fn(read(n, \"\")));")
	p.line("  }")
	p.line("")
	p.line("  /** onError subscribes to connection-level errors. */")
	p.line("  onError(fn: (err: unknown) => void): () => void {")
	p.line("    return this.rpc.onError(fn);")
	p.line("  }")
	p.line("")
	p.line("  /** onReconnect subscribes to completed reconnections. */")
	p.line("  onReconnect(fn: () => void | Promise<void>): () => void {")
	p.line("    return this.rpc.onReconnect(fn);")
	p.line("  }")
	if cu != nil {
		e.catchUpMethods(p, cu)
	}
	for _, x := range e.m.Methods {
		p.line("")
		doc := x.Description
		if len(x.Errors) > 0 {
			doc += "\n\nErrors: " + strings.Join(x.Errors, ", ") + "."
		}
		p.doc("  ", doc)
		p.f("  async %s(params: %s, options?: CallOptions): Promise<%s> {", methodName(x), e.names[x.Params], e.names[x.Result])
		p.f("    const sent = this.options.validateParams === false ? params : validate%s(params);", e.names[x.Params])
		p.f("    return read%s(await this.rpc.call(%s, sent, options?.timeoutMs), \"\");", e.names[x.Result], jsString(x.Name))
		p.line("  }")
	}
	p.line("}")
}

// taskmaster writes src/taskmaster.ts: the exhaustive handler interface and the runner.
func (e *emitter) taskmaster(p *printer) {
	p.line("// The TaskMaster side: implement every callback of TaskMasterHandlers (a missing one is a")
	p.line("// compile error) and run it with runTaskMaster, which answers the server's callbacks and")
	p.line("// registers the app (again after every reconnection).")
	p.line("")
	if len(e.m.Callbacks) > 0 {
		p.line(`import { InvalidResultError } from "./runtime/errors.js";`)
	}
	p.line(`import type { RpcConnection } from "./runtime/rpc.js";`)
	types := map[string]bool{}
	funcs := map[string]bool{}
	for _, x := range e.m.Callbacks {
		types[e.names[x.Params]], types[e.names[x.Result]] = true, true
		funcs["read"+e.names[x.Params]], funcs["validate"+e.names[x.Result]] = true, true
	}
	reg := e.findMethod("apps/register")
	var manifest *gen.Field
	if reg != nil {
		for _, f := range reg.Params.Fields {
			if f.JSONName == "manifest" && f.Required {
				manifest = f
			}
		}
	}
	if manifest != nil {
		types[e.names[manifest.Type]], types[e.names[reg.Result]] = true, true
		p.line(`import type { MoltZapClient } from "./client.js";`)
	}
	if len(types) > 0 {
		p.f("import type { %s } from \"./types.js\";", strings.Join(sortedNames(types), ", "))
	}
	if len(funcs) > 0 {
		p.f("import { %s } from \"./validate.js\";", strings.Join(sortedNames(funcs), ", "))
	}
	p.line("")
	p.doc("", "TaskMasterHandlers answers every callback the server sends to a TaskMaster. Throw a MoltZapError (ForbiddenError is the conventional vacuous deny) to answer with an error.")
	p.line("export interface TaskMasterHandlers {")
	for _, x := range e.m.Callbacks {
		p.doc("  ", x.Description)
		p.f("  %s(params: %s): Promise<%s> | %s;", methodName(x), e.names[x.Params], e.names[x.Result], e.names[x.Result])
	}
	p.line("}")
	p.line("")
	p.doc("", "Callbacks lists the wire names of the TaskMaster callbacks.")
	names := make([]string, len(e.m.Callbacks))
	for i, x := range e.m.Callbacks {
		names[i] = x.Name
	}
	p.f("export const Callbacks: readonly string[] = %s;", jsStrings(names))
	if len(e.m.Callbacks) > 0 {
		p.line("")
		p.line("function checked<T>(method: string, check: () => T): T {")
		p.line("  try {")
		p.line("    return check();")
		p.line("  } catch (err) {")
		p.line("    throw new InvalidResultError(method, err);")
		p.line("  }")
		p.line("}")
	}
	p.line("")
	p.doc("", "serveTaskMaster installs the handlers on a connection: each callback's params are validated (-32602 otherwise), its result too (-32603 otherwise).")
	p.line("export function serveTaskMaster(rpc: RpcConnection, h: TaskMasterHandlers): void {")
	for _, x := range e.m.Callbacks {
		p.f("  rpc.handle(%s, async (n) => {", jsString(x.Name))
		p.f("    const r = await h.%s(read%s(n, \"\"));", methodName(x), e.names[x.Params])
		p.f("    return checked(%s, () => validate%s(r));", jsString(x.Name), e.names[x.Result])
		p.line("  });")
	}
	p.line("}")
	if manifest == nil {
		return
	}
	p.line("")
	p.doc("", "runTaskMaster serves the handlers on the client's connection and registers the app with apps/register, again after every reconnection. It resolves with the first registration's result.")
	p.f("export async function runTaskMaster(client: MoltZapClient, manifest: %s, handlers: TaskMasterHandlers): Promise<%s> {", e.names[manifest.Type], e.names[reg.Result])
	p.line("  serveTaskMaster(client.rpc, handlers);")
	p.f("  client.onReconnect(async () => {")
	p.f("    await client.%s({ manifest });", methodName(reg))
	p.line("  });")
	p.f("  return client.%s({ manifest });", methodName(reg))
	p.line("}")
}

// index writes src/index.ts, the package's entry point.
func (e *emitter) index(p *printer) {
	p.line(`export * from "./types.js";`)
	p.line(`export * from "./validate.js";`)
	p.line(`export * from "./errors.js";`)
	p.line(`export * from "./client.js";`)
	p.line(`export * from "./taskmaster.js";`)
	p.line(`export { registerAgent, claimAgent, type RegisterRequest, type RegisterResponse, type ClaimRequest, type ClaimResponse } from "./runtime/http.js";`)
	p.line(`export { RpcConnection, type ConnectionOptions, type ReconnectOptions, type WebSocketConstructor, type WireError, type RequestHandler } from "./runtime/rpc.js";`)
	p.line(`export { SeqCatchUp, DedupWindow, MaxSettleLag, type CatchUpReport, type SeqMessage, type SeqPage } from "./runtime/catchup.js";`)
	p.line(`export { type JNode, parseJSON, fromValue, toValue } from "./runtime/json.js";`)
	p.line(`export { isUUID, isDateTime, isURI, parseInteger, codePoints } from "./runtime/check.js";`)
}

func (e *emitter) readme() []byte {
	var b strings.Builder
	b.WriteString("<!-- " + Header + " -->\n\n")
	b.WriteString("# @moltzap/protocol " + e.m.Version + "\n\n")
	b.WriteString("The MoltZap wire protocol for TypeScript: types, validators generated from the schema (no\n")
	b.WriteString("runtime dependency), a typed WebSocket client, the error registry as `Error` subclasses and\n")
	b.WriteString("the TaskMaster side. Generated by `moltzapgen generate ts` from `schema/`.\n\n")
	b.WriteString("Build with `npm install && npm run build` (ESM, `dist/index.js` + `.d.ts`). In browsers, Deno\n")
	b.WriteString("and Node 22 the standard `WebSocket` is used; on Node 20 install `ws` (or pass\n")
	b.WriteString("`WebSocket` in the options).\n\n")
	b.WriteString("```ts\n")
	b.WriteString("import { registerAgent, claimAgent, MoltZapClient, NotFoundError } from \"@moltzap/protocol\";\n\n")
	b.WriteString("const reg = await registerAgent(\"http://127.0.0.1:8080\", { name: \"my-agent\" });\n")
	b.WriteString("await claimAgent(\"http://127.0.0.1:8080\", { claimToken: reg.claimToken, ownerUserId: crypto.randomUUID() });\n")
	b.WriteString("const client = await MoltZapClient.connect({ url: \"ws://127.0.0.1:8080/ws\", agentKey: reg.apiKey });\n")
	b.WriteString("client.on(\"messages/received\", (p) => console.log(p.message.parts));\n")
	b.WriteString("```\n\n")
	b.WriteString("Notes:\n\n")
	b.WriteString("- Request ids are strings (`c-1`, `c-2`, ...); `network/connect` sends `minProtocol` and\n")
	b.WriteString("  `maxProtocol` (both `" + e.m.Version + "` by default).\n")
	b.WriteString("- `decodeX(text)` rejects what the Go decoder rejects: unknown or duplicate properties,\n")
	b.WriteString("  trailing data, integers outside int64, strings outside their length (in code points),\n")
	b.WriteString("  format or pattern. Integers are checked exactly from their literal; values past 2^53 are\n")
	b.WriteString("  returned as the nearest `number`.\n")
	b.WriteString("- Every wire error is an instance of its class (`NotFoundError`, `ForbiddenError`, ...),\n")
	b.WriteString("  all `extends MoltZapError`; unknown codes give `RpcServerError`.\n")
	b.WriteString("- A TaskMaster implements every callback of `TaskMasterHandlers` and calls\n")
	b.WriteString("  `runTaskMaster(client, manifest, handlers)`.\n")
	b.WriteString("- A cluster: `urls: [\"ws://node1/ws\", \"ws://node2/ws\"]` (with or instead of `url`). `connect`\n")
	b.WriteString("  tries them in order; a lost connection reconnects to the next one, round-robin with the\n")
	b.WriteString("  backoff; `client.url` is the current one.\n")
	if e.catchUpSpec() != nil {
		b.WriteString("- After every reconnection the client catches up by `seq`: `messages/received` listeners\n")
		b.WriteString("  get the messages missed meanwhile (`messages/list` from the settled seq), then the\n")
		b.WriteString("  newer ones, each once and in seq order per conversation; `client.onCatchUp(r => ...)`\n")
		b.WriteString("  reports each run. Conversations with a received message are tracked; `client.track(...)`\n")
		b.WriteString("  adds others. `catchUp: false` turns it off.\n")
	}
	return []byte(b.String())
}

// catchUpNames are the TypeScript names the seq catch-up wiring uses.
type catchUpNames struct {
	notif                   *gen.Notification // messages/received
	list                    *gen.Method       // messages/list
	params, message, taskID string
}

// catchUpSpec returns the names of the catch-up wiring, or nil when the model lacks its
// parts: the messages/received notification ({taskId, message: {id, conversationId, seq}})
// and messages/list ({taskId, conversationId, sinceSeq, limit} -> {messages, hasMore}).
func (e *emitter) catchUpSpec() *catchUpNames {
	list := e.findMethod("messages/list")
	var notif *gen.Notification
	for _, n := range e.m.Notifications {
		if n.Name == "messages/received" {
			notif = n
		}
	}
	if list == nil || notif == nil {
		return nil
	}
	task, msg := fieldOf(notif.Params, "taskId"), fieldOf(notif.Params, "message")
	if task == nil || msg == nil || e.names[task.Type] == "" || e.names[msg.Type] == "" {
		return nil
	}
	need := map[*gen.Type][]string{
		msg.Type:    {"id", "conversationId", "seq"},
		list.Params: {"taskId", "conversationId", "sinceSeq", "limit"},
		list.Result: {"messages", "hasMore"},
	}
	for t, names := range need {
		for _, n := range names {
			if fieldOf(t, n) == nil {
				return nil
			}
		}
	}
	return &catchUpNames{notif: notif, list: list, params: e.names[notif.Params], message: e.names[msg.Type], taskID: e.names[task.Type]}
}

// fieldOf returns the property name of struct t, or nil.
func fieldOf(t *gen.Type, name string) *gen.Field {
	if t == nil || t.Kind != gen.KindStruct {
		return nil
	}
	for _, f := range t.Fields {
		if f.JSONName == name {
			return f
		}
	}
	return nil
}

// catchUpWiring writes the constructor part that routes messages/received through the
// seq catch-up.
func (e *emitter) catchUpWiring(p *printer, cu *catchUpNames) {
	p.line("    if (options.catchUp !== false) {")
	p.f("      const seqs = new SeqCatchUp<%s, %s>(", cu.taskID, cu.message)
	p.f("        (taskId, conversationId, sinceSeq) => this.%s({ taskId, conversationId, sinceSeq, limit: 200 }),", methodName(cu.list))
	p.line("        (taskId, message) => this.emitMessage({ taskId, message }),")
	p.line("        (r) => { for (const fn of this.catchUpListeners) fn(r); },")
	p.line("      );")
	p.line("      this.rpc.onDisconnect(() => seqs.disconnected());")
	p.line("      this.rpc.onReconnect(() => seqs.reconnected());")
	p.line("      this.seqs = seqs;")
	p.line("    }")
	p.f("    this.rpc.listen(%s, (n) => {", jsString(cu.notif.Name))
	p.f("      const params = read%s(n, \"\");", cu.params)
	p.line("      if (this.seqs !== undefined) this.seqs.live(params.taskId, params.message);")
	p.line("      else this.emitMessage(params);")
	p.line("    });")
}

// catchUpMethods writes track, onCatchUp and the message delivery.
func (e *emitter) catchUpMethods(p *printer, cu *catchUpNames) {
	p.line("")
	p.line("  /**")
	p.line("   * track makes a conversation known to the catch-up, so that a reconnection recovers its")
	p.line("   * messages after sinceSeq (default \"0\": all of them) or after its settled seq.")
	p.line("   * Conversations in which a message was received are tracked already.")
	p.line("   */")
	p.f("  track(taskId: %s, conversationId: %s[\"conversationId\"], sinceSeq?: string): void {", cu.taskID, cu.message)
	p.line("    this.seqs?.track(taskId, conversationId, sinceSeq);")
	p.line("  }")
	p.line("")
	p.line("  /** onCatchUp subscribes to the report of each catch-up run after a reconnection. */")
	p.line("  onCatchUp(fn: (r: CatchUpReport) => void): () => void {")
	p.line("    this.catchUpListeners.add(fn);")
	p.line("    return () => { this.catchUpListeners.delete(fn); };")
	p.line("  }")
	p.line("")
	p.f("  private emitMessage(params: %s): void {", cu.params)
	p.line("    for (const fn of this.messageListeners) {")
	p.line("      try { fn(params); } catch (err) { this.rpc.reportError(err); }")
	p.line("    }")
	p.line("  }")
}
