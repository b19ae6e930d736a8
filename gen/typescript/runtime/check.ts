// The checks the generated validators call: one small function per JSON type and format,
// each failing with a ValidationError that names the JSON pointer and the constraint. The
// format checks are ports of runtime/codec/format.go (the Go decoder's verdicts), and
// integers are read from their literal exactly, so every language agrees on every document.

import { type JNode, ValidationError, escapePointer } from "./json.js";

/** at is the pointer of member key (or index) below pointer p. */
export function at(p: string, key: string | number): string {
  return p + "/" + (typeof key === "number" ? String(key) : escapePointer(key));
}

function kindName(n: JNode): string {
  switch (n.kind) {
    case "object": return "an object";
    case "array": return "an array";
    case "string": return "a string";
    case "number": return "a number";
    case "boolean": return "a boolean";
  }
  return "null";
}

function typeError(n: JNode, p: string, want: string): never {
  throw new ValidationError(p, "type", "must be " + want + ", not " + kindName(n));
}

/** StringRule is the constraints of a string: lengths in code points, format, pattern. */
export interface StringRule {
  readonly min?: number;
  readonly max?: number;
  readonly format?: "uuid" | "date-time" | "uri";
  readonly pattern?: RegExp;
}

/** codePoints counts the Unicode code points of s (a lone surrogate counts as one). */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** checkString reports the first constraint of r that s fails. */
export function checkString(s: string, p: string, r: StringRule): string {
  if (r.min !== undefined || r.max !== undefined) {
    const n = codePoints(s);
    if (r.min !== undefined && n < r.min) {
      throw new ValidationError(p, "minLength", `must be at least ${r.min} characters long, not ${n}`);
    }
    if (r.max !== undefined && n > r.max) {
      throw new ValidationError(p, "maxLength", `must be at most ${r.max} characters long, not ${n}`);
    }
  }
  if (r.format !== undefined) {
    const ok = r.format === "uuid" ? isUUID(s) : r.format === "date-time" ? isDateTime(s) : isURI(s);
    if (!ok) throw new ValidationError(p, "format", "must be a valid " + r.format + ", not " + JSON.stringify(clip(s)));
  }
  if (r.pattern !== undefined && !r.pattern.test(s)) {
    throw new ValidationError(p, "pattern", "must match " + r.pattern.source);
  }
  return s;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + "..." : s;
}

/** str reads a string checked by r. */
export function str(n: JNode, p: string, r: StringRule): string {
  if (n.kind !== "string") typeError(n, p, "a string");
  return checkString(n.value, p, r);
}

/** enm reads a string that must be one of values. */
export function enm(n: JNode, p: string, values: readonly string[]): string {
  if (n.kind !== "string") typeError(n, p, "a string");
  if (!values.includes(n.value)) {
    throw new ValidationError(p, "enum", JSON.stringify(clip(n.value)) + " is not one of the allowed values");
  }
  return n.value;
}

/** konst reads a string fixed to value (a union discriminator). */
export function konst<V extends string>(n: JNode, p: string, value: V): V {
  if (n.kind !== "string") typeError(n, p, "a string");
  if (n.value !== value) throw new ValidationError(p, "const", "must be " + JSON.stringify(value));
  return value;
}

/** bool reads true or false. */
export function bool(n: JNode, p: string): boolean {
  if (n.kind !== "boolean") typeError(n, p, "a boolean");
  return n.value;
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/**
 * parseInteger is the exact value of a JSON number literal for a JSON Schema "integer" (any
 * integral spelling counts: 1.0, 1e2, -0), "fraction" when it is not integral and "range"
 * when it does not fit int64 (as runtime/codec.ParseInteger).
 */
export function parseInteger(lit: string): bigint | "fraction" | "range" {
  const m = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(lit);
  if (m === null) return "fraction";
  const neg = m[1] === "-";
  const frac = m[3] ?? "";
  const digits = (m[2] ?? "") + frac;
  const exp = m[4] !== undefined ? BigInt(m[4]) : 0n;
  const expOverflow = exp > int64Max || exp < int64Min;
  let first = 0;
  while (first < digits.length && digits[first] === "0") first++;
  if (first === digits.length) return expOverflow ? "range" : 0n;
  let last = digits.length - 1;
  while (last > first && digits[last] === "0") last--;
  const e = exp - BigInt(frac.length) + BigInt(digits.length - 1 - last);
  if (e < 0n) return "fraction";
  if (BigInt(last - first + 1) + e > 19n) return "range";
  let u = BigInt(digits.slice(first, last + 1)) * 10n ** e;
  if (neg) u = -u;
  return u < int64Min || u > int64Max ? "range" : u;
}

/** int reads an integer that fits int64, within the inclusive bounds given. */
export function int(n: JNode, p: string, min?: bigint, max?: bigint): number {
  if (n.kind !== "number") typeError(n, p, "an integer");
  const v = parseInteger(n.literal);
  if (v === "fraction") throw new ValidationError(p, "type", "must be an integer, not " + clip(n.literal));
  if (v === "range") throw new ValidationError(p, "maximum", "integer " + clip(n.literal) + " does not fit 64 bits");
  if (min !== undefined && v < min) throw new ValidationError(p, "minimum", `must be >= ${min}, not ${v}`);
  if (max !== undefined && v > max) throw new ValidationError(p, "maximum", `must be <= ${max}, not ${v}`);
  return Number(v);
}

/** NumberRule is the bounds of a JSON Schema "number". */
export interface NumberRule {
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
}

/** num reads a number (finite as a float64) checked by r. */
export function num(n: JNode, p: string, r: NumberRule): number {
  if (n.kind !== "number") typeError(n, p, "a number");
  const v = Number(n.literal);
  if (!Number.isFinite(v)) throw new ValidationError(p, "maximum", "number " + clip(n.literal) + " is out of range");
  if (r.min !== undefined && (v < r.min || (r.exclusiveMin === true && v === r.min))) {
    throw new ValidationError(p, "minimum", "must be above the minimum " + r.min);
  }
  if (r.max !== undefined && (v > r.max || (r.exclusiveMax === true && v === r.max))) {
    throw new ValidationError(p, "maximum", "must be below the maximum " + r.max);
  }
  return v;
}

/** ArrayRule is the item count bounds and uniqueness of an array. */
export interface ArrayRule {
  readonly min?: number;
  readonly max?: number;
  readonly unique?: boolean;
}

function uniqueKey(n: JNode): string {
  if (n.kind === "string") return "s" + n.value;
  if (n.kind === "number") {
    const v = parseInteger(n.literal);
    return "n" + (typeof v === "bigint" ? v.toString() : n.literal);
  }
  return "x" + JSON.stringify(n);
}

/** arr reads an array whose items are read by item. */
export function arr<T>(n: JNode, p: string, r: ArrayRule, item: (n: JNode, p: string) => T): T[] {
  if (n.kind !== "array") typeError(n, p, "an array");
  const out = n.items.map((x, i) => item(x, at(p, i)));
  const count = n.items.length;
  if (r.min !== undefined && count < r.min) {
    throw new ValidationError(p, "minItems", `must have at least ${r.min} items, not ${count}`);
  }
  if (r.max !== undefined && count > r.max) {
    throw new ValidationError(p, "maxItems", `must have at most ${r.max} items, not ${count}`);
  }
  if (r.unique === true) {
    const seen = new Set<string>();
    n.items.forEach((x, i) => {
      const k = uniqueKey(x);
      if (seen.has(k)) throw new ValidationError(at(p, i), "uniqueItems", "duplicates an earlier item");
      seen.add(k);
    });
  }
  return out;
}

/** map reads an object of arbitrary keys whose values are read by item. */
export function map<T>(n: JNode, p: string, item: (n: JNode, p: string) => T): Record<string, T> {
  if (n.kind !== "object") typeError(n, p, "an object");
  return Object.fromEntries(n.members.map(([k, v]) => [k, item(v, at(p, k))]));
}

/**
 * members opens a closed object: every key must be in allowed ("additionalProperties"
 * otherwise) and every key of required present.
 */
export function members(n: JNode, p: string, allowed: readonly string[], required: readonly string[]): Map<string, JNode> {
  if (n.kind !== "object") typeError(n, p, "an object");
  const m = new Map<string, JNode>();
  for (const [k, v] of n.members) {
    if (!allowed.includes(k)) {
      throw new ValidationError(p, "additionalProperties", "property " + JSON.stringify(k) + " is not allowed");
    }
    m.set(k, v);
  }
  for (const k of required) {
    if (!m.has(k)) throw new ValidationError(p, "required", "missing property " + JSON.stringify(k));
  }
  return m;
}

/** req returns the member key of a members map whose presence members checked. */
export function req(m: Map<string, JNode>, key: string): JNode {
  return m.get(key) as JNode;
}

/** nullable reads null as null and anything else with read. */
export function nullable<T>(n: JNode, p: string, read: (n: JNode, p: string) => T): T | null {
  return n.kind === "null" ? null : read(n, p);
}

/** tag returns the string value of property name of an object, or undefined. */
export function tag(n: JNode, name: string): string | undefined {
  if (n.kind !== "object") return undefined;
  for (const [k, v] of n.members) {
    if (k === name && v.kind === "string") return v.value;
  }
  return undefined;
}

/** noArm fails a discriminated union whose tag names no alternative. */
export function noArm(n: JNode, p: string, name: string, values: readonly string[]): never {
  if (n.kind !== "object") typeError(n, p, "an object");
  if (tag(n, name) === undefined) throw new ValidationError(p, "required", "missing property " + JSON.stringify(name));
  throw new ValidationError(at(p, name), "const", "must be one of " + values.map((v) => JSON.stringify(v)).join(", "));
}

/**
 * match returns the index of the one alternative whose required keys are all present in
 * the object n, or -1 when none or several are (an undiscriminated union).
 */
export function match(n: JNode, arms: ReadonlyArray<readonly string[]>): number {
  if (n.kind !== "object") return -1;
  const present = new Set(n.members.map(([k]) => k));
  let found = -1;
  for (let i = 0; i < arms.length; i++) {
    if ((arms[i] ?? []).every((k) => present.has(k))) {
      if (found >= 0) return -1;
      found = i;
    }
  }
  return found;
}

/** noMatch fails an undiscriminated union none (or several) of whose alternatives match. */
export function noMatch(n: JNode, p: string, count: number): never {
  if (n.kind !== "object") typeError(n, p, "an object");
  throw new ValidationError(p, "oneOf", `must match exactly one of its ${count} alternatives`);
}

// ---- formats (ports of runtime/codec/format.go) ----

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** isUUID reports whether s is 8-4-4-4-12 hexadecimal digits (either case). */
export function isUUID(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!isHex(c)) {
      return false;
    }
  }
  return true;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isDate(s: string): boolean {
  if (s.length !== 10 || s[4] !== "-" || s[7] !== "-") return false;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9]) if (!isDigit(s.charCodeAt(i))) return false;
  const year = Number(s.slice(0, 4));
  const month = Number(s.slice(5, 7));
  const day = Number(s.slice(8, 10));
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(month, year);
}

/** dtField reads a two-character field like Go's strconv.Atoi and checks it against 0..max. */
function dtField(s: string, i: number, max: number): number | undefined {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  if (!isDigit(b)) return undefined;
  let n: number;
  if (isDigit(a)) n = (a - 0x30) * 10 + (b - 0x30);
  else if (a === 0x2b) n = b - 0x30;
  else if (a === 0x2d) n = -(b - 0x30);
  else return undefined;
  return n >= 0 && n <= max ? n : undefined;
}

function isTime(str: string): boolean {
  if (str.length < 9 || str[2] !== ":" || str[5] !== ":") return false;
  let h = dtField(str, 0, 23);
  let m = dtField(str, 3, 59);
  const sec = dtField(str, 6, 60);
  if (h === undefined || m === undefined || sec === undefined) return false;
  str = str.slice(8);
  if (str[0] === ".") {
    let n = 1;
    while (n < str.length && isDigit(str.charCodeAt(n))) n++;
    if (n === 1) return false;
    str = str.slice(n);
  }
  if (str.length === 0) return false;
  if (str[0] === "z" || str[0] === "Z") {
    if (str.length !== 1) return false;
  } else {
    if (str.length !== 6 || str[3] !== ":") return false;
    let sign: number;
    if (str[0] === "+") sign = -1;
    else if (str[0] === "-") sign = 1;
    else return false;
    const zh = dtField(str, 1, 23);
    const zm = dtField(str, 4, 59);
    if (zh === undefined || zm === undefined) return false;
    let hm = h * 60 + m + sign * (zh * 60 + zm);
    if (hm < 0) hm += 24 * 60;
    h = Math.floor(hm / 60);
    m = hm % 60;
  }
  return sec !== 60 || (h === 23 && m === 59);
}

/** isDateTime reports whether s is an RFC 3339 date-time, with the Go decoder's verdict. */
export function isDateTime(s: string): boolean {
  if (s.length < 20) return false;
  if (s[10] !== "T" && s[10] !== "t") return false;
  return isDate(s.slice(0, 10)) && isTime(s.slice(11));
}

const unreserved = /[A-Za-z0-9\-._~]/;
const subDelim = /[!$&'()*+,;=]/;

function uriChars(s: string, extra: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (unreserved.test(c) || subDelim.test(c)) continue;
    if (c === "%") {
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (!extra.includes(c)) return false;
  }
  return true;
}

function ipv4Fields(s: string): boolean {
  let val = 0;
  let pos = 0;
  let digLen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      if (digLen === 1 && val === 0) return false;
      val = val * 10 + (c - 0x30);
      digLen++;
      if (val > 255) return false;
    } else if (c === 0x2e) {
      if (i === 0 || i === s.length - 1 || s[i - 1] === ".") return false;
      if (pos === 3) return false;
      pos++;
      val = 0;
      digLen = 0;
    } else {
      return false;
    }
  }
  return pos >= 3;
}

/** isIPv6 is Go's netip.ParseAddr(s) succeeding with an IPv6 address (no zone). */
function isIPv6(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ".") return false; // ParseAddr reads an IPv4 address
    if (c === ":") break;
    if (c === "%") return false;
    if (i === s.length - 1) return false;
  }
  if (s.length === 0) return false;
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return true;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    for (; off < s.length; off++) {
      if (!isHex(s.charCodeAt(off))) break;
      if (off > 3) return false;
    }
    if (off === 0) return false;
    if (off < s.length && s[off] === ".") {
      if (ellipsis < 0 && i !== 12) return false;
      if (i + 4 > 16) return false;
      if (!ipv4Fields(s)) return false;
      s = "";
      i += 4;
      break;
    }
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ":" || s.length === 1) return false;
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return false;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return false;
  if (i < 16) return ellipsis >= 0;
  return ellipsis < 0;
}

function uriAuthority(a: string): boolean {
  const atSign = a.indexOf("@");
  if (atSign >= 0) {
    if (!uriChars(a.slice(0, atSign), ":")) return false;
    a = a.slice(atSign + 1);
  }
  if (a[0] === "[") {
    const end = a.indexOf("]");
    if (end < 0) return false;
    const host = a.slice(1, end);
    if (host.length < 2 || !/^[0-9A-Fa-f:.]*$/.test(host) || !isIPv6(host)) return false;
    a = a.slice(end + 1);
    if (a.length > 0 && a[0] !== ":") return false;
  } else {
    let i = 0;
    for (; i < a.length && a[i] !== ":"; i++) {
      const c = a[i] as string;
      if (unreserved.test(c) || subDelim.test(c)) continue;
      if (c !== "%" || i + 2 >= a.length || !isHex(a.charCodeAt(i + 1)) || !isHex(a.charCodeAt(i + 2))) return false;
      if ((a[i + 1] as string) < "8" && (a[i + 1] !== "2" || a[i + 2] !== "5")) return false;
      i += 2;
    }
    a = a.slice(i);
  }
  for (let i = 1; i < a.length; i++) if (!isDigit(a.charCodeAt(i))) return false;
  return true;
}

/** isURI reports whether s is an absolute URI of RFC 3986, as strictly as the Go decoder. */
export function isURI(s: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+\-.]*:/.test(s)) return false;
  let rest = s.slice(s.indexOf(":") + 1);
  const h = rest.indexOf("#");
  if (h >= 0) {
    if (!uriChars(rest.slice(h + 1), "/?:@")) return false;
    rest = rest.slice(0, h);
  }
  const q = rest.indexOf("?");
  if (q >= 0) {
    if (!uriChars(rest.slice(q + 1), "/?:@")) return false;
    rest = rest.slice(0, q);
  }
  if (rest.startsWith("//")) {
    rest = rest.slice(2);
    let end = rest.indexOf("/");
    if (end < 0) end = rest.length;
    if (!uriAuthority(rest.slice(0, end))) return false;
    rest = rest.slice(end);
  }
  return uriChars(rest, "/:@");
}
