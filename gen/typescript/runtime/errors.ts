// The base error classes of the client. The generated errors.ts adds one subclass of
// MoltZapError per entry of the wire error registry.

/** MoltZapError is a JSON-RPC error object received from (or sent to) the peer. */
export class MoltZapError extends Error {
  /** The JSON-RPC error code. */
  readonly code: number;
  /** The error's data member, when it had one (typed by the registry subclasses). */
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "MoltZapError";
    this.code = code;
    this.data = data;
  }
  /** toWire is the JSON-RPC error object of the error. */
  toWire(): { code: number; message: string; data?: unknown } {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

/** RpcServerError is a wire error whose code is not in the registry. */
export class RpcServerError extends MoltZapError {
  constructor(code: number, message: string, data?: unknown) {
    super(code, message, data);
    this.name = "RpcServerError";
  }
}

/** TimeoutError is a call that got no response within its timeout. */
export class TimeoutError extends Error {
  constructor(readonly method: string, readonly timeoutMs: number) {
    super(`${method}: no response within ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/** ConnectionClosedError is a call cut off because the WebSocket closed (or never opened). */
export class ConnectionClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConnectionClosedError";
  }
}

/** HttpError is a failed registration or claim request: status and the server's error body. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly error: string, readonly errorCode?: string) {
    super(`HTTP ${status}: ${error}${errorCode !== undefined ? " (" + errorCode + ")" : ""}`);
    this.name = "HttpError";
  }
}

/** InvalidResultError is a handler result that failed its own validator (answered -32603). */
export class InvalidResultError extends Error {
  constructor(readonly method: string, readonly reason: unknown) {
    super(`${method}: invalid result: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = "InvalidResultError";
  }
}
