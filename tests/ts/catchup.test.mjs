// The generated client's failover without a moltzap-server: SeqCatchUp against an in-memory
// message list (hold, seq order, de-duplication, refused and cut-short catch-ups), and the
// connection's URL order and round-robin reconnection against scripted WebSocket servers.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket, { WebSocketServer } from "ws";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mz, root } from "./load.mjs";

const { vectors } = JSON.parse(readFileSync(process.env.MOLTZAP_VECTORS ?? join(root, "testdata/vectors/protocol.json"), "utf8"));
const helloOk = JSON.parse(vectors.find((x) => x.type === "HelloOk" && x.valid).json);

/** history is an in-memory conversation store answering like messages/list with sinceSeq. */
function history(pageSize = 2) {
  const msgs = [];
  let seq = 0;
  const h = {
    failWith: undefined,
    calls: [],
    add(conversationId) {
      seq++;
      const m = { id: `m${seq}`, conversationId, seq: String(seq) };
      msgs.push(m);
      return m;
    },
    async list(taskId, conversationId, sinceSeq) {
      h.calls.push({ taskId, conversationId, sinceSeq });
      if (h.failWith !== undefined) throw h.failWith;
      const after = msgs.filter((m) => m.conversationId === conversationId && BigInt(m.seq) > BigInt(sinceSeq));
      return { messages: after.slice(0, pageSize), hasMore: after.length > pageSize };
    },
  };
  return h;
}

function tracker(h) {
  const got = [];
  const reports = [];
  const cu = new mz.SeqCatchUp((t, c, s) => h.list(t, c, s), (t, m) => got.push(m.id), (r) => reports.push(r));
  return { cu, got, reports };
}

async function until(cond, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("live messages after a reconnection wait for the recovered ones: seq order, each once", async () => {
  const h = history();
  const { cu, got, reports } = tracker(h);
  cu.live("t", h.add("c"));
  cu.disconnected();
  const missed = [h.add("c"), h.add("c"), h.add("c")];
  // On the new connection, before the catch-up: a live message, and a live copy of a missed one.
  const live = h.add("c");
  cu.live("t", live);
  cu.live("t", missed[0]);
  assert.deepEqual(got, ["m1"]);
  cu.reconnected();
  await until(() => reports.length === 1, "the catch-up report");
  assert.deepEqual(got, ["m1", "m2", "m3", "m4", "m5"]);
  assert.equal(reports[0].recovered, 4);
  assert.deepEqual(reports[0].errors, []);
  assert.equal(h.calls[0].sinceSeq, "1", "the catch-up starts after the highest seq seen before the drop");
  cu.live("t", missed[1]); // a late duplicate: below the floor
  cu.live("t", h.add("c"));
  assert.deepEqual(got, ["m1", "m2", "m3", "m4", "m5", "m6"]);
});

test("a conversation first heard of during the gap is caught up from its start", async () => {
  const h = history();
  const { cu, got, reports } = tracker(h);
  cu.disconnected();
  const early = [h.add("new"), h.add("new")];
  cu.live("t", h.add("new"));
  cu.reconnected();
  await until(() => reports.length === 1, "the catch-up report");
  assert.deepEqual(got, [early[0].id, early[1].id, "m3"]);
  assert.equal(h.calls[0].sinceSeq, "0");
});

test("a refused catch-up releases the held messages and keeps its cursor", async () => {
  const h = history();
  const { cu, got, reports } = tracker(h);
  cu.live("t", h.add("c"));
  cu.disconnected();
  const missed = h.add("c");
  cu.live("t", h.add("c"));
  h.failWith = new mz.ForbiddenError();
  cu.reconnected();
  await until(() => reports.length === 1, "the catch-up report");
  assert.equal(reports[0].errors.length, 1);
  cu.live("t", h.add("c"));
  assert.deepEqual(got, ["m1", "m3", "m4"], "held and new messages flow after the refusal");
  h.failWith = undefined;
  cu.disconnected();
  cu.reconnected();
  await until(() => reports.length === 2, "the second report");
  assert.deepEqual(got, ["m1", "m3", "m4", missed.id], "the next run recovers the gap");
});

test("a catch-up cut short by a lost connection keeps holding until the next run", async () => {
  const h = history();
  const { cu, got, reports } = tracker(h);
  cu.live("t", h.add("c"));
  cu.disconnected();
  const missed = h.add("c");
  const held = h.add("c");
  cu.live("t", held);
  h.failWith = new mz.ConnectionClosedError("gone again");
  cu.reconnected();
  await until(() => reports.length === 1, "the catch-up report");
  assert.deepEqual(got, ["m1"]);
  h.failWith = undefined;
  cu.disconnected();
  cu.reconnected();
  await until(() => reports.length === 2, "the second report");
  assert.deepEqual(got, ["m1", missed.id, held.id]);
});

test("track catches a conversation up from the given seq", async () => {
  const h = history();
  const { cu, got, reports } = tracker(h);
  h.add("c");
  h.add("c");
  cu.track("t", "c", "1");
  cu.disconnected();
  cu.reconnected();
  await until(() => reports.length === 1, "the catch-up report");
  assert.deepEqual(got, ["m2"]);
});

/** node is a scripted server that accepts every network/connect. */
async function node() {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const n = { url: `ws://127.0.0.1:${wss.address().port}/ws`, wss, connects: 0, refuse: false };
  wss.on("connection", (sock) => {
    sock.on("message", (data) => {
      const f = JSON.parse(String(data));
      if (f.method !== "network/connect") return;
      n.connects++;
      if (n.refuse) {
        sock.send(JSON.stringify({ jsonrpc: "2.0", id: f.id, error: { code: -32000, message: "Authentication failed" } }));
        return;
      }
      sock.send(JSON.stringify({ jsonrpc: "2.0", id: f.id, result: helloOk }));
    });
  });
  n.close = () => {
    for (const s of wss.clients) s.terminate();
    return new Promise((r) => wss.close(r));
  };
  return n;
}

const deadURL = "ws://127.0.0.1:1/ws";

test("connect tries the URLs in order; a lost node hands over to the next, round-robin", { timeout: 20000 }, async () => {
  const a = await node();
  const b = await node();
  const client = await mz.MoltZapClient.connect({ url: deadURL, urls: [a.url, deadURL, b.url], agentKey: "k", WebSocket, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
  try {
    assert.equal(client.url, a.url);
    assert.equal(a.connects, 1);
    // Node a goes away: the next URL (the dead one) fails, then b answers.
    const back = new Promise((r) => client.onReconnect(r));
    await a.close();
    await back;
    assert.equal(client.url, b.url);
    assert.equal(b.connects, 1);
    assert.ok(client.rpc.connected);
  } finally {
    client.close();
    await b.close();
  }
});

test("with every URL down connect names them all; a refused key stops at the first", async () => {
  await assert.rejects(
    mz.MoltZapClient.connect({ urls: [deadURL, "ws://127.0.0.1:2/ws"], agentKey: "k", WebSocket, reconnect: { enabled: false } }),
    (err) => err instanceof mz.ConnectionClosedError && err.message.includes(deadURL) && err.message.includes("127.0.0.1:2"),
  );
  const a = await node();
  const b = await node();
  a.refuse = true;
  try {
    await assert.rejects(
      mz.MoltZapClient.connect({ urls: [a.url, b.url], agentKey: "k", WebSocket, reconnect: { enabled: false } }),
      (err) => err instanceof mz.UnauthorizedError,
    );
    assert.equal(b.connects, 0, "the second node was tried after the first refused the key");
  } finally {
    await a.close();
    await b.close();
  }
  assert.throws(() => new mz.MoltZapClient({ agentKey: "k" }), TypeError);
});

test("a lower seq still in flight when the connection dropped is recovered (messages across nodes arrive out of order)", async () => {
  const h = history();
  const { cu, got, reports } = tracker(h);
  const [m1, m2, m3] = [h.add("c"), h.add("c"), h.add("c")];
  cu.live("t", m1);
  cu.live("t", m3); // m2 comes through another node and is still on its way
  cu.disconnected();
  cu.reconnected();
  await until(() => reports.length === 1, "the catch-up report");
  assert.equal(h.calls[0].sinceSeq, "1", "the catch-up starts at the settled seq, not after the highest seen");
  assert.deepEqual(got, ["m1", "m3", "m2"]);
  assert.equal(reports[0].recovered, 1);
  // Everything up to the listing's end is settled now: the next catch-up starts after m3.
  cu.live("t", h.add("c"));
  cu.disconnected();
  cu.reconnected();
  await until(() => reports.length === 2, "the second catch-up report");
  assert.equal(h.calls[h.calls.length - 1].sinceSeq, "4");
  void m2;
});

test("the settled seq trails the highest seen by at most MaxSettleLag", async () => {
  const h = history(1000);
  const { cu, reports } = tracker(h);
  const lag = Number(mz.MaxSettleLag);
  const all = [];
  for (let i = 0; i < lag + 10; i++) all.push(h.add("c"));
  cu.live("t", all[0]);
  cu.live("t", all[all.length - 1]); // never shown the ones between (another agent's)
  cu.disconnected();
  cu.reconnected();
  await until(() => reports.length === 1, "the catch-up report");
  assert.equal(h.calls[0].sinceSeq, String(all.length - lag), "settled = highest - MaxSettleLag");
});
