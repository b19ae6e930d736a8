// Live test of the generated TypeScript package against a running moltzap-server:
// MOLTZAP_WS (ws://HOST:PORT/ws) and MOLTZAP_HTTP (http://HOST:PORT) must be set; the test
// fails when they are not. It registers and claims agents over HTTP, runs a TaskMaster for a
// fresh app, requests a task, exchanges a message, gets typed errors back, and has the
// TaskMaster grant one dispatch and deny another.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { mz } from "./load.mjs";

const WS = process.env.MOLTZAP_WS;
const HTTP = process.env.MOLTZAP_HTTP;

/** next resolves with the first notification of method that satisfies ok. */
function next(client, method, ok = () => true, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${method} within ${ms} ms`)); }, ms);
    const off = client.on(method, (p) => {
      if (!ok(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}

async function agent(owner, prefix) {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const reg = await mz.registerAgent(HTTP, { name, description: "generated TS client live test" });
  assert.match(reg.agentId, /^[0-9a-f-]{36}$/);
  const claim = await mz.claimAgent(HTTP, { claimToken: reg.claimToken, ownerUserId: owner });
  assert.equal(claim.agentId, reg.agentId);
  const client = await mz.MoltZapClient.connect({ url: WS, agentKey: reg.apiKey, WebSocket, callTimeoutMs: 10000 });
  assert.equal(client.hello.agentId, reg.agentId);
  assert.equal(client.hello.protocolVersion, mz.ProtocolVersion);
  return { id: reg.agentId, client };
}

test("environment names a running server", () => {
  assert.ok(WS, "MOLTZAP_WS is not set (ws://HOST:PORT/ws of a running moltzap-server)");
  assert.ok(HTTP, "MOLTZAP_HTTP is not set (http://HOST:PORT of a running moltzap-server)");
});

test("register, claim, task, message, typed errors, TaskMaster grant and deny", { timeout: 60000 }, async (t) => {
  assert.ok(WS && HTTP, "MOLTZAP_WS and MOLTZAP_HTTP must be set");
  const owner = randomUUID();
  const a = await agent(owner, "ts-a");
  const b = await agent(owner, "ts-b");
  const tm = await agent(owner, "ts-tm");
  t.after(() => { a.client.close(); b.client.close(); tm.client.close(); });

  // HTTP failures are HttpErrors with the status (an invalid name here).
  await assert.rejects(
    mz.registerAgent(HTTP, { name: "x" }),
    (err) => err instanceof mz.HttpError && err.status === 400,
  );

  // The TaskMaster: accepts tasks, forwards messages to the other agents, grants b's
  // dispatch and denies a's.
  const appId = randomUUID();
  const seen = { create: 0, authorize: [] };
  const handlers = {
    async taskCreate(p) {
      seen.create++;
      assert.equal(p.initiatorAgentId, a.id);
      return { verdict: { decision: "accept" } };
    },
    async messagesAuthorize(p) {
      return { verdict: { decision: "Forward", recipients: [a.id, b.id].filter((id) => id !== p.message.senderAgentId) } };
    },
    async dispatchAuthorize(p) {
      seen.authorize.push(p.recipient.agentId);
      if (p.recipient.agentId === b.id) return { admission: { decision: "grant" } };
      return { admission: { decision: "deny", reason: "not you" } };
    },
  };
  const manifest = { appId, name: "ts-live-app", hooks: { dispatch_authorize: { timeout_ms: 3000 } } };
  const reg = await mz.runTaskMaster(tm.client, manifest, handlers);
  assert.equal(reg.appId, appId);

  // task/request with an initial conversation of a and b.
  const created = next(b.client, "task/created");
  const req = await a.client.taskRequest({ appId, invitedAgentIds: [b.id], initialConversation: { name: "ts live", participants: [a.id, b.id] } });
  assert.equal(req.task.status, "active");
  assert.equal(seen.create, 1);
  assert.ok(req.conversation, "initial conversation created");
  assert.equal((await created).task.id, req.task.id);
  const taskId = req.task.id;
  const conversationId = req.conversation.id;

  // a sends, b receives.
  const received = next(b.client, "messages/received", (p) => p.message.conversationId === conversationId);
  const sent = await a.client.messagesSend({ taskId, conversationId, parts: [{ type: "text", text: "hello from TypeScript" }] });
  const got = await received;
  assert.equal(got.message.id, sent.message?.id ?? got.message.id);
  assert.equal(got.message.senderId, a.id);
  assert.deepEqual(got.message.parts, [{ type: "text", text: "hello from TypeScript" }]);

  // Typed errors: a bogus conversation.
  await assert.rejects(
    a.client.messagesList({ taskId, conversationId: randomUUID() }),
    (err) => err instanceof mz.MoltZapError && err instanceof mz.NotFoundError && err.code === mz.ErrorCodes.NotFound && !(err instanceof mz.ForbiddenError)
      && err instanceof mz.ConversationNotFoundError && !(err instanceof mz.TaskNotFoundError),
  );
  // Client-side validation before sending: a malformed id never reaches the wire.
  await assert.rejects(a.client.messagesList({ taskId, conversationId: "nope" }), (err) => err instanceof mz.ValidationError && err.pointer === "/conversationId");

  // Dispatch: b is granted, a is denied (and evicted).
  const bRelease = next(b.client, "dispatch/release");
  const bLease = await b.client.dispatchRequest({ conversationId, messageId: got.message.id, senderAgentId: a.id });
  const bv = await bRelease;
  assert.equal(bv.leaseId, bLease.leaseId);
  assert.equal(bv.verdict.decision, "grant");

  const aRelease = next(a.client, "dispatch/release");
  const aLease = await a.client.dispatchRequest({ conversationId, messageId: got.message.id, senderAgentId: a.id });
  const av = await aRelease;
  assert.equal(av.leaseId, aLease.leaseId);
  assert.equal(av.verdict.decision, "deny");
  assert.equal(av.verdict.reason, "not you");
  assert.deepEqual(seen.authorize, [b.id, a.id]);

  // Typed error from the server: a was evicted, so sending is now forbidden.
  await assert.rejects(
    a.client.messagesSend({ taskId, conversationId, parts: [{ type: "text", text: "after deny" }] }),
    (err) => err instanceof mz.ForbiddenError && err.code === -32001,
  );

  // The TaskMaster reconnects after a dropped socket and registers its app again.
  const back = new Promise((resolve) => tm.client.onReconnect(resolve));
  tm.client.rpc["ws"].close();
  await back;
  const again = await a.client.taskRequest({ appId, invitedAgentIds: [b.id] });
  assert.equal(again.task.status, "active");
  assert.equal(seen.create, 2);
});

test("protocol mismatch is a typed error with typed data", async () => {
  assert.ok(WS && HTTP, "MOLTZAP_WS and MOLTZAP_HTTP must be set");
  const reg = await mz.registerAgent(HTTP, { name: `ts-pm-${randomUUID().slice(0, 8)}` });
  await assert.rejects(
    mz.MoltZapClient.connect({ url: WS, agentKey: reg.apiKey, WebSocket, minProtocol: "9999.0.0", maxProtocol: "9999.0.0", reconnect: { enabled: false } }),
    (err) => err instanceof mz.ProtocolMismatchError && err.code === -32006 &&
      err.data?.reason === "server-below-client-min" && err.data?.serverVersion === mz.ProtocolVersion,
  );
});

test("reconnects and repeats the handshake", { timeout: 20000 }, async () => {
  assert.ok(WS && HTTP, "MOLTZAP_WS and MOLTZAP_HTTP must be set");
  const owner = randomUUID();
  const reg = await mz.registerAgent(HTTP, { name: `ts-rc-${randomUUID().slice(0, 8)}` });
  await mz.claimAgent(HTTP, { claimToken: reg.claimToken, ownerUserId: owner });
  const client = await mz.MoltZapClient.connect({ url: WS, agentKey: reg.apiKey, WebSocket, reconnect: { initialDelayMs: 50 } });
  try {
    const again = new Promise((resolve) => client.onReconnect(resolve));
    client.rpc["ws"].close(); // simulate a dropped socket
    await again;
    const pong = await client.networkPing({});
    assert.ok(pong);
  } finally {
    client.close();
  }
});
