// The JSON-RPC 2.0 connection under the generated client: one WebSocket, string request ids
// ("c-1", "c-2", ...; the server answers a numeric id with -32600 and id null), per-call
// timeouts, notification listeners, answers to the server's requests (TaskMaster callbacks),
// and reconnection with exponential backoff, round-robin over the nodes of a cluster when
// several URLs are given. It is model-independent; the generated client.ts wires the typed
// methods onto it.

import { type JNode, ValidationError, parseJSON } from "./json.js";
import { ConnectionClosedError, MoltZapError, RpcServerError, TimeoutError } from "./errors.js";

/**
 * WebSocketConstructor is the standard WebSocket class (browsers, Deno, Node 22) or the
 * default export of the `ws` package (Node 20); only the common subset is used.
 */
export type WebSocketConstructor = new (url: string) => unknown;

interface Socket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/**
 * ReconnectOptions control reconnection after an unexpected close. With several URLs the
 * attempts go round-robin, starting with the URL after the lost one, and the delay doubles
 * per round over all of them.
 */
export interface ReconnectOptions {
  /** Reconnect at all (default true). */
  readonly enabled?: boolean;
  /** First delay in milliseconds (default 250); it doubles per failed round. */
  readonly initialDelayMs?: number;
  /** Largest delay in milliseconds (default 10000). */
  readonly maxDelayMs?: number;
  /** Attempts before giving up (default unlimited). */
  readonly maxAttempts?: number;
}

/** ConnectionOptions configure an RpcConnection: url, urls or both (at least one URL). */
export interface ConnectionOptions {
  /** The server's WebSocket URL, e.g. ws://127.0.0.1:8080/ws. */
  readonly url?: string;
  /**
   * The WebSocket URLs of the nodes of a cluster (after url, when both are given; a repeated
   * URL counts once): open() tries them in order until one answers, and a lost connection
   * reconnects to the next one.
   */
  readonly urls?: readonly string[];
  /** The WebSocket class; default globalThis.WebSocket, else the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
  /** Default per-call timeout in milliseconds (default 30000). */
  readonly callTimeoutMs?: number;
  /** Timeout of opening the socket in milliseconds (default 10000). */
  readonly openTimeoutMs?: number;
  /** Reconnection policy. */
  readonly reconnect?: ReconnectOptions;
}

/** WireError is a JSON-RPC error object. */
export interface WireError {
  readonly code: number;
  readonly message: string;
  readonly data?: JNode;
}

/** RequestHandler answers one server request; it returns the result value or throws. */
export type RequestHandler = (params: JNode) => Promise<unknown>;

interface Pending {
  readonly method: string;
  resolve(v: JNode): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

async function socketClass(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given !== undefined) return given;
  const std = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (std !== undefined) return std;
  const name = "ws"; // a variable keeps bundlers and the type checker from requiring it
  const mod = (await import(name)) as { default?: WebSocketConstructor; WebSocket?: WebSocketConstructor };
  const ctor = mod.WebSocket ?? mod.default;
  if (ctor === undefined) throw new Error("no WebSocket: pass options.WebSocket or install the ws package");
  return ctor;
}

function frameText(data: unknown): string {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  if (Array.isArray(data)) return data.map(frameText).join("");
  return String(data);
}

function member(n: JNode, key: string): JNode | undefined {
  if (n.kind !== "object") return undefined;
  for (const [k, v] of n.members) if (k === key) return v;
  return undefined;
}

/** wireErrorOf reads a JSON-RPC error object; a malformed one becomes an internal error. */
function wireErrorOf(n: JNode): WireError {
  const code = member(n, "code");
  const message = member(n, "message");
  const data = member(n, "data");
  const c = code?.kind === "number" ? Number(code.literal) : -32603;
  const m = message?.kind === "string" ? message.value : "malformed error object";
  return data === undefined ? { code: c, message: m } : { code: c, message: m, data };
}

/** transient reports whether err may be a node's own trouble (another node may answer). */
function transient(err: unknown): boolean {
  return !(err instanceof MoltZapError) && !(err instanceof ValidationError);
}

/**
 * RpcConnection is one JSON-RPC peer over a WebSocket. After open() the hook onOpen runs
 * first on every (re)connection (the handshake), then the reconnect listeners.
 */
export class RpcConnection {
  private ws: Socket | undefined;
  private readonly endpoints: readonly string[];
  private current = 0; // index in endpoints of the current (or last) connection
  private lostIndex = 0; // index in endpoints of the connection last lost
  private established = false; // a connection completed its handshake and was not lost since
  private connecting = false; // open() or a reconnect attempt is under way
  private lostDuring: { code: number; reason: string } | undefined; // a socket end seen while connecting
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Map<string, Set<(params: JNode) => void>>();
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly reconnectListeners = new Set<() => void | Promise<void>>();
  private readonly disconnectListeners = new Set<(code: number, reason: string) => void>();
  private readonly errorListeners = new Set<(err: unknown) => void>();
  private closed = false;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  /** onOpen runs on each new socket before any other call (the handshake). */
  onOpen: (() => Promise<void>) | undefined;
  /** errorFromWire turns a wire error into an Error (the generated registry). */
  errorFromWire: (w: WireError) => Error = (w) => new RpcServerError(w.code, w.message, w.data);

  constructor(readonly options: ConnectionOptions) {
    const all = [...(options.url !== undefined ? [options.url] : []), ...(options.urls ?? [])];
    this.endpoints = [...new Set(all)];
    if (this.endpoints.length === 0) throw new TypeError("RpcConnection: give url or urls");
  }

  /** url is the WebSocket URL of the current connection (of the last one while reconnecting). */
  get url(): string {
    return this.endpoints[this.current] ?? "";
  }

  /**
   * open connects and runs onOpen, trying the URLs in order until one succeeds. An error
   * answer of the server (a MoltZapError, such as a refused credential) ends the attempt at
   * once: every node of a cluster would give it. When every URL fails the connection is
   * closed and the error thrown (with several URLs, a ConnectionClosedError naming each).
   */
  async open(): Promise<void> {
    this.closed = false;
    this.connecting = true;
    const failures: string[] = [];
    let last: unknown;
    let ok = false;
    try {
      for (let i = 0; i < this.endpoints.length && !this.closed && !ok; i++) {
        try {
          await this.attempt(i);
          ok = true;
        } catch (err) {
          last = err;
          failures.push(`${this.endpoints[i] ?? ""}: ${err instanceof Error ? err.message : String(err)}`);
          if (!transient(err)) break;
        }
      }
    } finally {
      this.connecting = false;
    }
    if (ok) {
      this.settle();
      return;
    }
    this.close();
    if (this.endpoints.length === 1 || !transient(last)) throw last;
    throw new ConnectionClosedError(`open: no server answered (${failures.join("; ")})`);
  }

  /** attempt connects to endpoint i and runs onOpen; on failure the socket is dropped. */
  private async attempt(i: number): Promise<void> {
    try {
      await this.dial(this.endpoints[i] ?? "");
      await this.onOpen?.();
    } catch (err) {
      this.abandon();
      throw err;
    }
    this.current = i;
    this.established = true;
  }

  private async dial(url: string): Promise<void> {
    const Ctor = await socketClass(this.options.WebSocket);
    const ws = new Ctor(url) as Socket;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.onopen = ws.onerror = ws.onclose = null;
        try { ws.close(); } catch { /* already closed */ }
        reject(new ConnectionClosedError(`open ${url}: timed out`));
      }, this.options.openTimeoutMs ?? 10000);
      ws.onopen = () => { clearTimeout(timer); resolve(); };
      ws.onerror = () => undefined;
      ws.onclose = (ev) => {
        clearTimeout(timer);
        reject(new ConnectionClosedError(`open ${url}: closed (${ev.code ?? 0})`));
      };
    });
    this.ws = ws;
    ws.onmessage = (ev) => this.receive(frameText(ev.data));
    ws.onerror = (ev) => this.emitError(ev);
    ws.onclose = (ev) => this.lost(ws, ev.code ?? 0, ev.reason ?? "");
  }

  /** abandon drops the socket of a failed attempt (its pending calls fail). */
  private abandon(): void {
    const ws = this.ws;
    this.ws = undefined;
    this.failPending(new ConnectionClosedError("connection closed"));
    if (ws !== undefined) {
      ws.onclose = null;
      try { ws.close(); } catch { /* already closed */ }
    }
  }

  private lost(ws: Socket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.failPending(new ConnectionClosedError(`connection closed (${code}${reason !== "" ? " " + reason : ""})`));
    if (this.connecting) {
      this.lostDuring = { code, reason }; // the attempt under way sees it (settle)
      return;
    }
    if (this.established) this.dropped(code, reason);
  }

  /** settle handles a socket lost while an attempt that succeeded was finishing. */
  private settle(): void {
    const l = this.lostDuring;
    this.lostDuring = undefined;
    if (this.ws === undefined && this.established) this.dropped(l?.code ?? 1006, l?.reason ?? "");
  }

  /** dropped reports the loss of the established connection and starts reconnecting. */
  private dropped(code: number, reason: string): void {
    this.established = false;
    this.lostIndex = this.current;
    this.attempts = 0;
    for (const fn of this.disconnectListeners) {
      try { fn(code, reason); } catch (err) { this.emitError(err); }
    }
    if (!this.closed && (this.options.reconnect?.enabled ?? true)) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const r = this.options.reconnect ?? {};
    if (this.attempts >= (r.maxAttempts ?? Infinity)) {
      this.emitError(new ConnectionClosedError("reconnect: giving up"));
      return;
    }
    const round = Math.floor(this.attempts / this.endpoints.length);
    const base = Math.min((r.initialDelayMs ?? 250) * 2 ** round, r.maxDelayMs ?? 10000);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnectOnce();
    }, delay);
  }

  private async reconnectOnce(): Promise<void> {
    if (this.closed) return;
    // The first attempt goes to the URL after the lost one, the next ones round-robin.
    const i = (this.lostIndex + this.attempts) % this.endpoints.length;
    this.connecting = true;
    this.lostDuring = undefined;
    try {
      await this.attempt(i);
      for (const fn of this.reconnectListeners) await fn();
    } catch (err) {
      // A failed dial, handshake or reconnect listener (such as a refused app
      // registration): drop this socket and try again.
      this.emitError(err);
      this.abandon();
      this.established = false;
      this.lostDuring = undefined;
      if (!this.closed) this.scheduleReconnect();
      return;
    } finally {
      this.connecting = false;
    }
    this.settle();
  }

  /** close closes the socket for good: no reconnection, pending calls fail. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = undefined;
    this.failPending(new ConnectionClosedError("connection closed by the client"));
    if (ws !== undefined) {
      ws.onclose = null;
      try { ws.close(1000, "bye"); } catch { /* already closed */ }
    }
  }

  /** connected reports whether the socket is open. */
  get connected(): boolean {
    return this.ws !== undefined && this.ws.readyState === 1;
  }

  private failPending(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private emitError(err: unknown): void {
    for (const fn of this.errorListeners) fn(err);
  }

  /** reportError hands err to the error listeners (for layers built on the connection). */
  reportError(err: unknown): void {
    this.emitError(err);
  }

  /** onError subscribes to connection-level errors (undecodable frames, failed reconnects). */
  onError(fn: (err: unknown) => void): () => void {
    this.errorListeners.add(fn);
    return () => this.errorListeners.delete(fn);
  }

  /** onDisconnect subscribes to the loss of an established connection (before reconnecting). */
  onDisconnect(fn: (code: number, reason: string) => void): () => void {
    this.disconnectListeners.add(fn);
    return () => this.disconnectListeners.delete(fn);
  }

  /** onReconnect subscribes to completed reconnections (after the handshake). */
  onReconnect(fn: () => void | Promise<void>): () => void {
    this.reconnectListeners.add(fn);
    return () => this.reconnectListeners.delete(fn);
  }

  /** call sends a request and resolves with its result, or rejects with the wire error. */
  call(method: string, params: unknown, timeoutMs?: number): Promise<JNode> {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== 1) {
      return Promise.reject(new ConnectionClosedError(`${method}: not connected`));
    }
    const id = "c-" + String(++this.nextId);
    const ms = timeoutMs ?? this.options.callTimeoutMs ?? 30000;
    return new Promise<JNode>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(method, ms));
      }, ms);
      this.pending.set(id, { method, resolve, reject, timer });
      try {
        ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      }
    });
  }

  /** listen subscribes to one notification method; it returns the unsubscribe function. */
  listen(method: string, fn: (params: JNode) => void): () => void {
    let set = this.listeners.get(method);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(method, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /** handle installs the answer to the server's requests of one method. */
  handle(method: string, fn: RequestHandler): void {
    this.handlers.set(method, fn);
  }

  private send(frame: unknown): void {
    try {
      this.ws?.send(JSON.stringify(frame));
    } catch (err) {
      this.emitError(err);
    }
  }

  private receive(text: string): void {
    let frame: JNode;
    try {
      frame = parseJSON(text);
    } catch (err) {
      this.emitError(err);
      return;
    }
    const id = member(frame, "id");
    const method = member(frame, "method");
    if (method?.kind === "string") {
      const params = member(frame, "params") ?? { kind: "object", members: [] };
      if (id === undefined) {
        for (const fn of this.listeners.get(method.value) ?? []) {
          try { fn(params); } catch (err) { this.emitError(err); }
        }
        return;
      }
      const rid = id.kind === "string" ? id.value : id.kind === "number" ? Number(id.literal) : null;
      void this.answer(rid, method.value, params);
      return;
    }
    if (id?.kind !== "string") {
      const err = member(frame, "error");
      if (err !== undefined) this.emitError(this.errorFromWire(wireErrorOf(err)));
      return;
    }
    const p = this.pending.get(id.value);
    if (p === undefined) return;
    this.pending.delete(id.value);
    clearTimeout(p.timer);
    const err = member(frame, "error");
    if (err !== undefined) {
      p.reject(this.errorFromWire(wireErrorOf(err)));
      return;
    }
    p.resolve(member(frame, "result") ?? { kind: "null" });
  }

  private async answer(id: string | number | null, method: string, params: JNode): Promise<void> {
    const h = this.handlers.get(method);
    if (h === undefined) {
      this.send({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } });
      return;
    }
    try {
      const result = await h(params);
      this.send({ jsonrpc: "2.0", id, result });
    } catch (err) {
      let error: { code: number; message: string; data?: unknown };
      if (err instanceof MoltZapError) error = err.toWire();
      else if (err instanceof ValidationError) error = { code: -32602, message: "Invalid params: " + err.message };
      else error = { code: -32603, message: "Internal error" };
      this.emitError(err);
      this.send({ jsonrpc: "2.0", id, error });
    }
  }
}
