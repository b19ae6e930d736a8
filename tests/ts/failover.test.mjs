// Live failover of the generated TypeScript client between two moltzap-server nodes on one
// PostgreSQL schema (scripts/lang-test.sh starts them): MOLTZAP_CLUSTER_WS1 and
// MOLTZAP_CLUSTER_WS2 (ws://HOST:PORT/ws), MOLTZAP_CLUSTER_HTTP1 (http://HOST:PORT of node 1)
// and MOLTZAP_CLUSTER_NODE1_PID (the test kills node 1 with SIGKILL) must be set; the test
// fails when they are not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { mz } from "./load.mjs";

const WS1 = process.env.MOLTZAP_CLUSTER_WS1;
const WS2 = process.env.MOLTZAP_CLUSTER_WS2;
const HTTP1 = process.env.MOLTZAP_CLUSTER_HTTP1;
const PID1 = Number(process.env.MOLTZAP_CLUSTER_NODE1_PID);
const DEFAULT_APP = "e12fe562-ed1f-4d2d-bed5-68b8edfa41cb"; // installed by every server

async function until(cond, what, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("a listener fails over to node 2 and receives every message once, in seq order", { timeout: 60000 }, async (t) => {
  assert.ok(WS1 && WS2 && HTTP1 && PID1 > 0, "MOLTZAP_CLUSTER_WS1, _WS2, _HTTP1 and _NODE1_PID must name a running two-node cluster");
  const sender = await mz.registerAgent(HTTP1, { name: `ts-fo-s-${randomUUID().slice(0, 8)}` });
  const listener = await mz.registerAgent(HTTP1, { name: `ts-fo-l-${randomUUID().slice(0, 8)}` });
  const s1 = await mz.MoltZapClient.connect({ url: WS1, agentKey: sender.apiKey, WebSocket, reconnect: { enabled: false } });
  const s2 = await mz.MoltZapClient.connect({ url: WS2, agentKey: sender.apiKey, WebSocket });
  // The first reconnect attempt comes 0.5-1 s after the drop: the messages sent right after
  // the kill are missed and recovered from node 2's history.
  const l = await mz.MoltZapClient.connect({ urls: [WS1, WS2], agentKey: listener.apiKey, WebSocket, reconnect: { initialDelayMs: 1000, maxDelayMs: 2000 } });
  t.after(() => { s1.close(); s2.close(); l.close(); });
  assert.equal(l.url, WS1);

  const got = [];
  l.on("messages/received", (p) => got.push(p.message));
  const reports = [];
  l.onCatchUp((r) => reports.push(r));

  const req = await s1.taskRequest({ appId: DEFAULT_APP, invitedAgentIds: [listener.agentId], initialConversation: { name: "ts failover" } });
  const taskId = req.task.id;
  const conversationId = req.conversation.id;
  const sent = [];
  const send = async (c, text) => {
    const r = await c.messagesSend({ taskId, conversationId, parts: [{ type: "text", text }] });
    sent.push(r.message);
  };
  for (const text of ["before 1", "before 2", "before 3"]) await send(s1, text);
  await until(() => got.length === 3, "the messages before the kill");

  const dropped = new Promise((r) => l.rpc.onDisconnect(r));
  // A message sent the moment the listener is back may arrive live before the catch-up
  // has listed the missed ones: it must still come after them.
  const atReconnect = new Promise((resolve, reject) => l.onReconnect(() => { send(s2, "at reconnect").then(resolve, reject); }));
  process.kill(PID1, "SIGKILL");
  await dropped;
  for (const text of ["missed 1", "missed 2", "missed 3", "missed 4"]) await send(s2, text);
  await atReconnect;
  await until(() => reports.length > 0, "the catch-up report");
  assert.equal(l.url, WS2, "the listener moved to node 2");
  assert.deepEqual(reports[0].errors, []);
  assert.ok(reports[0].recovered >= 4, `recovered ${reports[0].recovered}, want the 4 missed`);
  for (const text of ["after 1", "after 2"]) await send(s2, text);

  await until(() => got.length >= sent.length, `${sent.length} messages (got ${got.length})`);
  await new Promise((r) => setTimeout(r, 300)); // a duplicate would show up now
  const want = [...sent].sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  assert.deepEqual(got.map((m) => m.id), want.map((m) => m.id), `delivered seqs ${got.map((m) => m.seq)}`);
  assert.equal(new Set(got.map((m) => m.id)).size, got.length);
});
