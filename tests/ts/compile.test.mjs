// Type-level guarantees of the generated package, checked with tsc: it compiles with
// --strict; a TaskMasterHandlers missing a callback and an AgentId built from a
// ConversationId are compile errors. MOLTZAP_TS_PKG is the package source (default
// ../../generated/ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, process.env.MOLTZAP_TS_PKG ?? "../../generated/ts");
const tsc = join(here, "node_modules", "typescript", "bin", "tsc");

function check(source) {
  const dir = mkdtempSync(join(tmpdir(), "moltzap-ts-check-"));
  writeFileSync(join(dir, "probe.ts"), source);
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "DOM"], types: [], strict: true, noEmit: true, skipLibCheck: true },
    files: ["probe.ts"],
  }));
  const r = spawnSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

const src = JSON.stringify(join(pkg, "src", "index.js"));

test("the package compiles with tsc --strict", () => {
  const r = spawnSync(process.execPath, [tsc, "--strict", "--noEmit", "-p", pkg], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("a complete TaskMasterHandlers compiles", () => {
  const r = check(`import type { TaskMasterHandlers } from ${src};
const h: TaskMasterHandlers = {
  taskCreate: () => ({ verdict: { decision: "accept" } }),
  messagesAuthorize: () => ({ verdict: { decision: "Forward", recipients: [] } }),
  dispatchAuthorize: async () => ({ admission: { decision: "grant" } }),
};
void h;
`);
  assert.ok(r.ok, r.out);
});

test("a TaskMasterHandlers missing a callback does not compile", () => {
  const r = check(`import type { TaskMasterHandlers } from ${src};
const h: TaskMasterHandlers = {
  taskCreate: () => ({ verdict: { decision: "accept" } }),
  messagesAuthorize: () => ({ verdict: { decision: "Forward", recipients: [] } }),
};
void h;
`);
  assert.ok(!r.ok, "compiled without dispatchAuthorize");
  assert.match(r.out, /dispatchAuthorize/);
});

test("an AgentId is not assignable from a ConversationId", () => {
  const r = check(`import { type AgentId, asConversationId } from ${src};
const a: AgentId = asConversationId("6f1c2a3e-0000-4000-8000-000000000000");
void a;
`);
  assert.ok(!r.ok, "ConversationId assigned to AgentId");
  assert.match(r.out, /ConversationId/);
});

test("notification params are typed by method", () => {
  const r = check(`import type { MoltZapClient } from ${src};
declare const c: MoltZapClient;
c.on("messages/received", (p) => { const n: number = p.message.parts.length; void n; });
c.on("messages/received", (p) => { const s: number = p.message.senderId; void s; });
`);
  assert.ok(!r.ok);
  assert.match(r.out, /probe\.ts\(4,/);
  assert.doesNotMatch(r.out, /probe\.ts\(3,/);
});
