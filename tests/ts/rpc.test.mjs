// The generated client's JSON-RPC behaviour against a scripted WebSocket server (no
// moltzap-server needed): string ids, the protocol range in network/connect, per-call
// timeouts, typed errors, answers to server requests and reconnection.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket, { WebSocketServer } from "ws";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mz, root } from "./load.mjs";

const { vectors } = JSON.parse(readFileSync(process.env.MOLTZAP_VECTORS ?? join(root, "testdata/vectors/protocol.json"), "utf8"));

/** serve starts a server answering with script(frame, socket) for each request. */
async function serve(script) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const frames = [];
  wss.on("connection", (sock) => {
    sock.on("message", (data) => {
      const frame = JSON.parse(String(data));
      frames.push(frame);
      script(frame, sock);
    });
  });
  return { url: `ws://127.0.0.1:${wss.address().port}/ws`, frames, wss, close: () => new Promise((r) => wss.close(r)) };
}

test("ids are strings, the handshake sends the protocol range, timeouts and typed errors work", async () => {
  const srv = await serve((f, sock) => {
    if (f.method === "network/connect") {
      sock.send(JSON.stringify({ jsonrpc: "2.0", id: f.id, error: { code: -32006, message: "nope", data: { reason: "server-above-client-max", serverVersion: "1.0.0", clientMinProtocol: "0", clientMaxProtocol: "0" } } }));
    }
  });
  try {
    await assert.rejects(
      mz.MoltZapClient.connect({ url: srv.url, agentKey: "k", WebSocket, reconnect: { enabled: false } }),
      (err) => err instanceof mz.ProtocolMismatchError && err.data.reason === "server-above-client-max",
    );
    const f = srv.frames[0];
    assert.equal(f.jsonrpc, "2.0");
    assert.equal(typeof f.id, "string");
    assert.match(f.id, /^c-\d+$/);
    assert.deepEqual(f.params, { agentKey: "k", minProtocol: mz.ProtocolVersion, maxProtocol: mz.ProtocolVersion });
  } finally {
    await srv.close();
  }
});

test("per-call timeout, unknown codes, server requests and reconnection", { timeout: 20000 }, async () => {
  let connects = 0;
  const srv = await serve((f, sock) => {
    if (f.method === "network/connect") {
      connects++;
      sock.send(JSON.stringify({ jsonrpc: "2.0", id: f.id, result: helloOk }));
    } else if (f.method === "network/ping") {
      sock.send(JSON.stringify({ jsonrpc: "2.0", id: f.id, error: { code: -31999, message: "odd", data: { x: 1 } } }));
    }
    // everything else: never answered
  });
  const client = await mz.MoltZapClient.connect({ url: srv.url, agentKey: "k", WebSocket, reconnect: { initialDelayMs: 20 } });
  try {
    assert.equal(connects, 1);
    await assert.rejects(client.networkPing({}), (err) => err instanceof mz.RpcServerError && err.code === -31999 && err.data.x === 1);
    await assert.rejects(
      client.taskList({}, { timeoutMs: 100 }),
      (err) => err instanceof mz.TimeoutError && err.timeoutMs === 100,
    );

    // A server request with no handler gets -32601; a TaskMaster callback with invalid params -32602.
    mz.serveTaskMaster(client.rpc, {
      taskCreate: () => ({ verdict: { decision: "accept" } }),
      messagesAuthorize: () => ({ verdict: { decision: "Forward", recipients: [] } }),
      dispatchAuthorize: () => ({ admission: { decision: "bogus" } }),
    });
    const sock = [...srv.wss.clients][0];
    const answers = new Map();
    const answered = new Promise((resolve) => {
      sock.on("message", (data) => {
        const f = JSON.parse(String(data));
        if (f.id?.startsWith?.("s-")) answers.set(f.id, f);
        if (answers.size === 3) resolve();
      });
    });
    sock.send(JSON.stringify({ jsonrpc: "2.0", id: "s-1", method: "no/such", params: {} }));
    sock.send(JSON.stringify({ jsonrpc: "2.0", id: "s-2", method: "task/create", params: { taskId: "x" } }));
    sock.send(JSON.stringify({ jsonrpc: "2.0", id: "s-3", method: "dispatch/authorize", params: dispatchParams }));
    await answered;
    assert.equal(answers.get("s-1").error.code, -32601);
    assert.equal(answers.get("s-2").error.code, -32602);
    assert.match(answers.get("s-2").error.message, /^Invalid params: /);
    assert.equal(answers.get("s-3").error.code, -32603, "an invalid handler result is an internal error");

    // Reconnection repeats the handshake.
    const again = new Promise((resolve) => client.onReconnect(resolve));
    sock.terminate();
    await again;
    assert.equal(connects, 2);
  } finally {
    client.close();
    await srv.close();
  }
});

const helloOk = validOf("HelloOk");
const dispatchParams = validOf("DispatchAuthorizeParams");

/** validOf returns a valid document of a type from the shared vectors. */
function validOf(type) {
  const v = vectors.find((x) => x.type === type && x.valid);
  assert.ok(v, `no valid ${type} vector`);
  return JSON.parse(v.json);
}
