// The Observatory page in headless Chromium, against a real moltzap-server that
// scripts/browser-test.sh started and populated (agents alice, bob listening, a rule-based
// TaskMaster (agent moderator) blocking "secret" on app OBS_APP, a task OBS_TASK with conversation OBS_CONV
// on the built-in app). Run it through that script:
//
//   bash scripts/browser-test.sh
//
// Env: OBS_URL, OBS_TOKEN, OBS_TASK, OBS_CONV, OBS_ALICE_ID, OBS_BOB_ID, OBS_BOB_KEY (bob's
// agent key, for the JSON-RPC calls the CLI has no command for), OBS_PROTOCOL, OBS_APP,
// OBS_MOLTZAP (the CLI; MOLTZAP_CONFIG_DIR and MOLTZAP_SERVER are set), OBS_SERVER_CTL
// (start|stop the server), OBS_OUT (screenshot directory), OBS_CHROMIUM.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run this test through scripts/browser-test.sh`);
  return v;
};
const URL_ = env("OBS_URL");
const TOKEN = env("OBS_TOKEN");
const TASK = env("OBS_TASK");
const CONV = env("OBS_CONV");
const ALICE = env("OBS_ALICE_ID");
const BOB = env("OBS_BOB_ID");
const BOB_KEY = env("OBS_BOB_KEY");
const PROTOCOL = env("OBS_PROTOCOL");
const APP = env("OBS_APP");
const MOLTZAP = env("OBS_MOLTZAP");
const SERVER_CTL = env("OBS_SERVER_CTL");
const OUT = env("OBS_OUT");
const CHROMIUM = process.env.OBS_CHROMIUM || "/usr/bin/chromium";

// A message must be on the page this soon after the CLI that sent it returned.
const LIVE_MS = 1000;

const run = promisify(execFile);
const mz = async (...args) => (await run(MOLTZAP, args, { timeout: 15000 })).stdout;
const send = (conv, text) => mz("--profile", "alice", "send", "--conversation", conv, text);

let browser, page;
let finished = false; // the last step passed
const pageErrors = [];
const requestURLs = [];
const sent = []; // texts sent to CONV, in order
const moderated = {}; // the task and conversation requested on the TaskMaster's app

// agentClient opens a JSON-RPC agent connection as the agent of key, from a blank tab of the
// same browser (the CLI has no command for dispatch/request), and returns its call function.
async function agentClient(key) {
  const tab = await browser.newPage();
  await tab.evaluate(async ({ url, key, proto }) => {
    const ws = new WebSocket(url);
    const waiting = new Map();
    let n = 0;
    window.rpc = (method, params) => new Promise((resolve, reject) => {
      const id = String(++n);
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      const w = f.id !== undefined && waiting.get(f.id);
      if (!w) return;
      waiting.delete(f.id);
      if (f.error) w.reject(new Error(JSON.stringify(f.error)));
      else w.resolve(f.result);
    };
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error("cannot open " + url)); });
    await window.rpc("network/connect", { agentKey: key, minProtocol: proto, maxProtocol: proto });
  }, { url: URL_.replace(/^http/, "ws") + "/ws", key, proto: PROTOCOL });
  return {
    call: (method, params) => tab.evaluate(([m, p]) => window.rpc(m, p), [method, params]),
    close: () => tab.close(),
  };
}

const status = () => page.locator("#status").textContent();
const waitStatus = (want, timeout = 5000) =>
  page.waitForFunction((w) => document.getElementById("status")?.textContent === w, want, { timeout, polling: 20 });
const messageItem = (text) => page.locator("#messages [data-message-id]", { hasText: text });

// sendAndSee sends text to conv with the CLI and returns how long after the CLI returned
// the message was on the page; it fails when that is more than LIVE_MS.
async function sendAndSee(conv, text) {
  await send(conv, text);
  if (conv === CONV) sent.push(text);
  const returned = Date.now();
  await messageItem(text).first().waitFor({ timeout: LIVE_MS });
  return Date.now() - returned;
}

// messageTexts lists the texts of the messages shown, in order.
const messageTexts = () => page.$$eval("#messages [data-message-id] .text", (els) => els.map((e) => e.textContent));

async function selectTaskAndConversation(task, conv) {
  await page.locator(`#tasks [data-task-id="${task}"]`).click();
  await page.locator(`#task-detail[data-task-id="${task}"]`).waitFor({ timeout: 3000 });
  await page.locator(`#conversations [data-conversation-id="${conv}"]`).click();
  await page.locator(`#conversation-detail[data-conversation-id="${conv}"]`).waitFor({ timeout: 3000 });
  await page.waitForFunction((c) => {
    const o = window.__observatory;
    return o.view.conv !== null && o.view.leases !== null && o.snapshots["conversation:" + c] > 0 && o.snapshots["dispatch:" + c] > 0;
  }, conv, { timeout: 3000 });
}

describe("observatory page", { concurrency: false }, () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("request", (r) => requestURLs.push(r.url()));
    page.on("websocket", (ws) => requestURLs.push(ws.url()));
  });

  after(async () => {
    // A failed run leaves the page as it was at the failure.
    if (page && !finished) await page.screenshot({ path: join(OUT, "observatory-failure.png"), fullPage: true }).catch(() => {});
    if (browser) await browser.close();
  });

  it("asks for the token and refuses a wrong one", async () => {
    await page.goto(URL_ + "/observatory/");
    assert.equal(await status(), "signed out");
    assert.ok(await page.locator("#login").isVisible(), "the login form is shown");
    assert.ok(!(await page.locator("#app").isVisible()), "the view is hidden before authentication");
    await page.fill("#token", "not-the-token");
    await page.click("#connect");
    await waitStatus("unauthorized");
    assert.match(await page.locator("#login-error").textContent(), /refused/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("moltzap.observatory.token")), null);
  });

  it("goes live with the right token, kept in sessionStorage and never in a URL", async () => {
    await page.fill("#token", TOKEN);
    await page.click("#connect");
    await waitStatus("live");
    assert.ok(await page.locator("#app").isVisible());
    assert.equal(await page.evaluate(() => sessionStorage.getItem("moltzap.observatory.token")), TOKEN);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    // A reload reconnects with the stored token, without asking again.
    await page.reload();
    await waitStatus("live");
    assert.ok(!(await page.locator("#login").isVisible()));
    assert.equal(await page.locator("#token").inputValue(), "", "the token is not left in the input");
  });

  it("lists the agents online from the network snapshot", async () => {
    const bob = page.locator(`#agents [data-agent-id="${BOB}"]`);
    await bob.waitFor({ timeout: 3000 });
    assert.equal(await bob.locator(".name").textContent(), "bob");
    assert.match(await bob.getAttribute("data-status"), /^(online|working)$/);
    assert.ok(Number(await bob.locator(".connections").textContent()) >= 1);
    await page.locator("#agents tr[data-agent-id] .name", { hasText: /^moderator$/ }).waitFor({ timeout: 3000 });
  });

  it("lists the task and shows its participants and conversations", async () => {
    await page.locator(`#tasks [data-task-id="${TASK}"]`).waitFor({ timeout: 3000 });
    await page.locator(`#tasks [data-task-id="${TASK}"]`).click();
    await page.locator(`#task-detail[data-task-id="${TASK}"]`).waitFor({ timeout: 3000 });
    assert.equal(await page.locator(`#tasks [data-task-id="${TASK}"]`).getAttribute("aria-pressed"), "true");
    await page.locator(`#participants [data-agent-id="${ALICE}"]`).waitFor({ timeout: 3000 });
    await page.locator(`#participants [data-agent-id="${BOB}"]`).waitFor({ timeout: 3000 });
    const conv = page.locator(`#conversations [data-conversation-id="${CONV}"]`);
    await conv.waitFor({ timeout: 3000 });
    assert.match(await conv.textContent(), /obs/);
  });

  it("streams a message sent with the CLI within one second", async () => {
    await selectTaskAndConversation(TASK, CONV);
    assert.equal(await page.locator("#messages [data-message-id]").count(), 0);
    const ms = await sendAndSee(CONV, "hello observatory 1");
    const item = messageItem("hello observatory 1").first();
    assert.equal(await item.locator(".sender").textContent(), "alice");
    assert.equal(await item.getAttribute("data-verdict"), "forward");
    assert.match(await item.locator("time").textContent(), /^\d\d:\d\d:\d\d$/);
    console.log(`# message on the page ${ms} ms after the CLI returned`);
  });

  it("shows a task created meanwhile and a blocked message with its reason", async () => {
    const res = JSON.parse(await mz("--profile", "alice", "--json", "task", "request", "--app", APP, "--invite", "bob",
      "--conversation-name", "moderated"));
    const task = res.task.id, conv = res.conversation.id;
    Object.assign(moderated, { task, conv });
    await page.locator(`#tasks [data-task-id="${task}"]`).waitFor({ timeout: LIVE_MS });
    await selectTaskAndConversation(task, conv);
    // The old conversation's messages are gone and its topics were left.
    assert.equal(await page.locator("#messages [data-message-id]").count(), 0);
    assert.deepEqual(await page.evaluate(() => window.__observatory.topics()),
      ["network", "task:" + task, "conversation:" + conv, "dispatch:" + conv]);
    await assert.rejects(send(conv, "the <b>secret</b> plan"), /HookBlocked|-32019/);
    const blocked = messageItem("the <b>secret</b> plan").first();
    await blocked.waitFor({ timeout: LIVE_MS });
    assert.equal(await blocked.getAttribute("data-verdict"), "block");
    assert.match(await blocked.locator(".reason").textContent(), /^blocked: .*secret/);
    // The text is shown as text: the markup in it is not parsed.
    assert.equal(await page.locator("#messages b").count(), 0);
    await send(conv, "all clear");
    const clear = messageItem("all clear").first();
    await clear.waitFor({ timeout: LIVE_MS });
    assert.equal(await clear.getAttribute("data-verdict"), "forward");
    assert.equal(await clear.locator(".reason").count(), 0);
  });

  it("shows a dispatch lease and its transitions", async () => {
    const { task, conv } = moderated;
    assert.ok(conv, "the moderated conversation exists");
    assert.equal(await page.locator("#leases [data-lease-id]").count(), 0);
    const messageId = await messageItem("all clear").first().getAttribute("data-message-id");
    const bob = await agentClient(BOB_KEY);
    try {
      const { leaseId } = await bob.call("dispatch/request", { conversationId: conv, messageId, senderAgentId: ALICE });
      const lease = page.locator(`#leases [data-lease-id="${leaseId}"]`);
      await lease.waitFor({ timeout: LIVE_MS });
      // The TaskMaster grants it (dispatch/authorize), the page follows lease:granted.
      await page.locator(`#leases [data-lease-id="${leaseId}"][data-state="GRANTED"]`).waitFor({ timeout: 3000 });
      assert.equal(await lease.locator(".name").textContent(), "bob");
      assert.match(await lease.textContent(), /grant/);
      await bob.call("messages/send", { taskId: task, conversationId: conv, parts: [{ type: "text", text: "bob acts on it" }], dispatchLeaseId: leaseId });
      await page.locator(`#leases [data-lease-id="${leaseId}"][data-state="CONSUMED"]`).waitFor({ timeout: LIVE_MS });
      const reply = messageItem("bob acts on it").first();
      await reply.waitFor({ timeout: LIVE_MS });
      assert.equal(await reply.locator(".sender").textContent(), "bob");
      assert.equal(await page.locator("#leases [data-lease-id]").count(), 1);
    } finally {
      await bob.close();
    }
    await page.screenshot({ path: join(OUT, "observatory-moderated.png"), fullPage: true });
  });

  it("goes back to the first conversation with its snapshot", async () => {
    await selectTaskAndConversation(TASK, CONV);
    await messageItem("hello observatory 1").first().waitFor({ timeout: 3000 });
    assert.deepEqual(await messageTexts(), sent);
  });

  it("reconnects by itself after its socket closes", async () => {
    const snaps = await page.evaluate((c) => window.__observatory.snapshots["conversation:" + c] ?? 0, CONV);
    await page.evaluate(() => { window.__oldSocket = window.__observatory.socket; window.__observatory.socket.close(); });
    await waitStatus("reconnecting", 2000);
    await waitStatus("live", 5000);
    assert.ok(await page.evaluate(() => window.__observatory.socket !== window.__oldSocket), "a new socket");
    await page.waitForFunction(([c, n]) => (window.__observatory.snapshots["conversation:" + c] ?? 0) > n, [CONV, snaps], { timeout: 3000 });
    assert.deepEqual(await messageTexts(), sent, "the snapshot replaced the messages, nothing doubled");
    await sendAndSee(CONV, "hello observatory 2");
  });

  it("shows reconnecting while the server is down and recovers when it is back", async () => {
    const snaps = await page.evaluate((c) => window.__observatory.snapshots["conversation:" + c] ?? 0, CONV);
    await run(SERVER_CTL, ["stop"], { timeout: 15000 });
    await waitStatus("reconnecting", 3000);
    // Still reconnecting a while later: the server is down.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await status(), "reconnecting");
    await run(SERVER_CTL, ["start"], { timeout: 20000 });
    await waitStatus("live", 8000);
    await page.waitForFunction(([c, n]) => (window.__observatory.snapshots["conversation:" + c] ?? 0) > n, [CONV, snaps], { timeout: 3000 });
    assert.deepEqual(await messageTexts(), sent, "after the restart the snapshot shows each message once");
    assert.deepEqual(await page.evaluate(() => window.__observatory.topics()),
      ["network", "task:" + TASK, "conversation:" + CONV, "dispatch:" + CONV], "every topic re-subscribed");
    await page.locator(`#task-detail[data-task-id="${TASK}"]`).waitFor({ timeout: 3000 });
    const ms = await sendAndSee(CONV, "after the restart");
    console.log(`# after the restart: message on the page ${ms} ms after the CLI returned`);
    // bob's listen reconnects by itself; the page shows it online again (agent:connected).
    await page.locator(`#agents [data-agent-id="${BOB}"]`).waitFor({ timeout: 10000 });
  });

  it("saves a screenshot, leaked no token and threw no error", async () => {
    const path = join(OUT, "observatory.png");
    await page.screenshot({ path, fullPage: true });
    console.log(`# screenshot ${path}`);
    const leaked = requestURLs.filter((u) => u.includes(TOKEN));
    assert.deepEqual(leaked, [], "no URL carries the token");
    assert.ok(requestURLs.some((u) => u.startsWith(URL_.replace(/^http/, "ws") + "/observatory")), "the page opened /observatory");
    assert.deepEqual(pageErrors, []);
    finished = true;
  });
});
