// A strict JSON reader for the validators: RFC 8259 grammar only, duplicate member names
// rejected, nothing after the document but whitespace, and numbers kept as their exact
// literal (JSON.parse rounds integers past 2^53 and silently keeps the last duplicate).
// Lone surrogates in strings become U+FFFD, as in the Go decoder.

/** JNode is one parsed JSON value; numbers keep their literal. */
export type JNode =
  | { readonly kind: "object"; readonly members: ReadonlyArray<readonly [string, JNode]> }
  | { readonly kind: "array"; readonly items: readonly JNode[] }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "number"; readonly literal: string }
  | { readonly kind: "boolean"; readonly value: boolean }
  | { readonly kind: "null" };

/**
 * ValidationError is a document that is not valid for its type: pointer is the RFC 6901
 * JSON pointer of the offending value ("" is the whole document), constraint the JSON Schema
 * keyword it fails ("required", "maxLength", "format", "syntax", "duplicate", ...).
 */
export class ValidationError extends Error {
  readonly pointer: string;
  readonly constraint: string;
  readonly reason: string;
  constructor(pointer: string, constraint: string, reason: string) {
    super((pointer === "" ? "" : pointer + ": ") + reason);
    this.name = "ValidationError";
    this.pointer = pointer;
    this.constraint = constraint;
    this.reason = reason;
  }
}

const maxDepth = 10000;

class Reader {
  i = 0;
  constructor(readonly s: string) {}

  fail(reason: string): never {
    throw new ValidationError("", "syntax", reason + " at offset " + this.i);
  }

  space(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.i++;
    }
  }

  value(depth: number): JNode {
    this.space();
    const c = this.s[this.i];
    switch (c) {
      case "{":
        return this.object(depth + 1);
      case "[":
        return this.array(depth + 1);
      case '"':
        return { kind: "string", value: this.string() };
      case "t":
        return this.literal("true", { kind: "boolean", value: true });
      case "f":
        return this.literal("false", { kind: "boolean", value: false });
      case "n":
        return this.literal("null", { kind: "null" });
    }
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    return this.fail("malformed JSON");
  }

  literal(word: string, node: JNode): JNode {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return node;
    }
    return this.fail("malformed JSON");
  }

  object(depth: number): JNode {
    if (depth > maxDepth) this.fail("nesting too deep");
    this.i++; // '{'
    const members: Array<readonly [string, JNode]> = [];
    const seen = new Set<string>();
    this.space();
    if (this.s[this.i] === "}") {
      this.i++;
      return { kind: "object", members };
    }
    for (;;) {
      this.space();
      if (this.s[this.i] !== '"') this.fail("malformed JSON");
      const key = this.string();
      this.space();
      if (this.s[this.i] !== ":") this.fail("malformed JSON");
      this.i++;
      const v = this.value(depth);
      if (seen.has(key)) {
        throw new ValidationError("", "duplicate", "property " + JSON.stringify(key) + " appears twice");
      }
      seen.add(key);
      members.push([key, v]);
      this.space();
      const c = this.s[this.i];
      this.i++;
      if (c === "}") return { kind: "object", members };
      if (c !== ",") { this.i--; this.fail("malformed JSON"); }
    }
  }

  array(depth: number): JNode {
    if (depth > maxDepth) this.fail("nesting too deep");
    this.i++; // '['
    const items: JNode[] = [];
    this.space();
    if (this.s[this.i] === "]") {
      this.i++;
      return { kind: "array", items };
    }
    for (;;) {
      items.push(this.value(depth));
      this.space();
      const c = this.s[this.i];
      this.i++;
      if (c === "]") return { kind: "array", items };
      if (c !== ",") { this.i--; this.fail("malformed JSON"); }
    }
  }

  number(): JNode {
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (r === null) return this.fail("malformed number");
    this.i += r[0].length;
    return { kind: "number", literal: r[0] };
  }

  string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = "";
    let start = i;
    for (;;) {
      if (i >= s.length) this.fail("unterminated string");
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) { this.i = i; this.fail("control character in string"); }
      if (c === 0x5c) {
        out += s.slice(start, i);
        const e = s[i + 1];
        switch (e) {
          case '"': out += '"'; i += 2; break;
          case "\\": out += "\\"; i += 2; break;
          case "/": out += "/"; i += 2; break;
          case "b": out += "\b"; i += 2; break;
          case "f": out += "\f"; i += 2; break;
          case "n": out += "\n"; i += 2; break;
          case "r": out += "\r"; i += 2; break;
          case "t": out += "\t"; i += 2; break;
          case "u": {
            const h = hex4(s, i + 2);
            if (h < 0) { this.i = i; this.fail("malformed \\u escape"); }
            if (h >= 0xd800 && h <= 0xdbff && s[i + 6] === "\\" && s[i + 7] === "u") {
              const l = hex4(s, i + 8);
              if (l >= 0xdc00 && l <= 0xdfff) {
                out += String.fromCharCode(h, l);
                i += 12;
                break;
              }
            }
            out += h >= 0xd800 && h <= 0xdfff ? "\ufffd" : String.fromCharCode(h);
            i += 6;
            break;
          }
          default:
            this.i = i;
            this.fail("malformed escape");
        }
        start = i;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        // A raw surrogate: keep a valid pair, replace a lone one.
        const n = s.charCodeAt(i + 1);
        if (c <= 0xdbff && n >= 0xdc00 && n <= 0xdfff) {
          i += 2;
          continue;
        }
        out += s.slice(start, i) + "\ufffd";
        i++;
        start = i;
        continue;
      }
      i++;
    }
    out += s.slice(start, i);
    this.i = i + 1;
    return out;
  }
}

function hex4(s: string, i: number): number {
  if (i + 4 > s.length) return -1;
  let v = 0;
  for (let k = i; k < i + 4; k++) {
    const c = s.charCodeAt(k);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/** parseJSON reads one JSON document strictly (see the file comment). */
export function parseJSON(text: string): JNode {
  const r = new Reader(text);
  const v = r.value(0);
  r.space();
  if (r.i !== text.length) {
    throw new ValidationError("", "syntax", "unexpected data after the document");
  }
  return v;
}

/**
 * fromValue converts a JavaScript value (what JSON.stringify would write) into a JNode, so
 * that values built in code go through the same validators as received documents.
 * Properties whose value is undefined are left out, as JSON.stringify does.
 */
export function fromValue(v: unknown, pointer = ""): JNode {
  switch (typeof v) {
    case "string":
      return { kind: "string", value: v };
    case "boolean":
      return { kind: "boolean", value: v };
    case "number":
      if (!Number.isFinite(v)) throw new ValidationError(pointer, "type", "must be a finite number");
      return { kind: "number", literal: Object.is(v, -0) ? "0" : String(v) };
    case "bigint":
      return { kind: "number", literal: v.toString() };
    case "object": {
      if (v === null) return { kind: "null" };
      if (Array.isArray(v)) {
        return { kind: "array", items: v.map((x, i) => fromValue(x, pointer + "/" + i)) };
      }
      const members: Array<readonly [string, JNode]> = [];
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === undefined) continue;
        members.push([k, fromValue(x, pointer + "/" + escapePointer(k))]);
      }
      return { kind: "object", members };
    }
  }
  throw new ValidationError(pointer, "type", "must be a JSON value, not " + typeof v);
}

/** escapePointer escapes one reference token of a JSON pointer (RFC 6901). */
export function escapePointer(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** toValue converts a JNode into the JavaScript value JSON.parse would give. */
export function toValue(n: JNode): unknown {
  switch (n.kind) {
    case "object":
      return Object.fromEntries(n.members.map(([k, v]) => [k, toValue(v)]));
    case "array":
      return n.items.map(toValue);
    case "number":
      return Number(n.literal);
    case "null":
      return null;
  }
  return n.value;
}
