// Every vector of testdata/vectors/protocol.json (the Go decoders' verdicts on valid and
// mutated documents) must get the same verdict from the generated TypeScript decoders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mz, root } from "./load.mjs";

const file = process.env.MOLTZAP_VECTORS ?? join(root, "testdata/vectors/protocol.json");
const { vectors } = JSON.parse(readFileSync(file, "utf8"));

test("vector file is not empty", () => {
  assert.ok(Array.isArray(vectors) && vectors.length > 0, `no vectors in ${file}`);
});

test("every vector gets the Go verdict", () => {
  const wrong = [];
  const types = new Set();
  for (const [i, v] of vectors.entries()) {
    const decode = mz.decoders[v.type];
    if (decode === undefined) {
      wrong.push(`#${i} ${v.type}: no decoder`);
      continue;
    }
    types.add(v.type);
    let got = true;
    let why = "";
    try {
      decode(v.json);
    } catch (err) {
      if (!(err instanceof mz.ValidationError)) throw err;
      got = false;
      why = err.message;
    }
    if (got !== v.valid) wrong.push(`#${i} ${v.type} want valid=${v.valid}, got ${got}${why ? " (" + why + ")" : ""}: ${v.json.slice(0, 200)}`);
  }
  assert.deepEqual(wrong.slice(0, 40), [], `${wrong.length} of ${vectors.length} vectors disagree`);
  assert.ok(types.size > 10, `vectors cover only ${types.size} types`);
});

test("errors carry a JSON pointer and the constraint", () => {
  assert.throws(() => mz.decodeTextPart('{"type":"text","text":""}'), (err) => err instanceof mz.ValidationError && err.pointer === "/text" && err.constraint === "minLength");
  assert.throws(() => mz.decodeTextPart('{"type":"text","text":"a","text":"b"}'), (err) => err.constraint === "duplicate");
  assert.throws(() => mz.decodeTextPart('{"type":"text","text":"a"} x'), (err) => err.constraint === "syntax");
  assert.throws(() => mz.decodeTextPart('{"type":"text","text":"a","x":1}'), (err) => err.constraint === "additionalProperties");
  assert.equal(mz.parseInteger("9223372036854775807"), 9223372036854775807n);
  assert.equal(mz.parseInteger("9223372036854775808"), "range");
  assert.equal(mz.parseInteger("1.5"), "fraction");
  assert.equal(mz.parseInteger("120e-1"), 12n);
  assert.ok(mz.isURI("http://[::1]:80/a?b#c"));
  assert.ok(!mz.isURI("http://a b/"));
  assert.ok(mz.isDateTime("2026-01-01T00:00:00Z"));
  assert.ok(!mz.isDateTime("2026-02-30T00:00:00Z"));
});
