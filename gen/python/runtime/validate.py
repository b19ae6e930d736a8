"""Runtime helpers of the generated decoders: strict JSON parsing and the constraint checks.

The verdicts match the Go codec (runtime/codec): duplicate keys are rejected, integers are
any integral number that fits int64 (1.0 and 1e2 are integers, 1.5 is not), string lengths
are counted in code points, and the uuid, date-time and uri formats are ports of
runtime/codec/format.go.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")

__all__ = ["ValidationError"]


class ValidationError(ValueError):
    """A document that does not match its schema.

    pointer is the RFC 6901 pointer of the offending value ("" for the whole document),
    constraint the JSON Schema keyword that failed ("type", "required", "maxLength", ...,
    or "syntax"), reason a sentence for people.
    """

    def __init__(self, pointer: str, constraint: str, reason: str) -> None:
        super().__init__(f"{pointer or '/'}: {reason}")
        self.pointer = pointer
        self.constraint = constraint
        self.reason = reason


class Lit:
    """A JSON number kept as its literal text, so integer verdicts are exact."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in pairs:
        if k in out:
            raise ValidationError("", "duplicate", f"property {json.dumps(k)} appears twice")
        out[k] = v
    return out


def _constant(name: str) -> object:
    raise ValidationError("", "syntax", f"malformed JSON ({name})")


_decoder = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_int=Lit, parse_float=Lit, parse_constant=_constant
)


def parse(doc: str | bytes | bytearray | object) -> object:
    """Parse one JSON document (text or bytes) strictly; any other value is returned as is."""
    if isinstance(doc, (bytes, bytearray)):
        try:
            doc = bytes(doc).decode("utf-8")
        except UnicodeDecodeError:
            doc = bytes(doc).decode("utf-8", "replace")
    if not isinstance(doc, str):
        return doc
    try:
        value, end = _decoder.raw_decode(doc, _skip(doc, 0))
    except ValidationError:
        raise
    except (ValueError, RecursionError) as e:
        raise ValidationError("", "syntax", "malformed JSON") from e
    if _skip(doc, end) != len(doc):
        raise ValidationError("", "syntax", "unexpected data after the document")
    return value


def _skip(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\r\n":
        i += 1
    return i


def dumps(value: object) -> str:
    """Encode a JSON value compactly."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def at(p: str, key: str) -> str:
    """Append an object member name to a JSON pointer."""
    return p + "/" + key.replace("~", "~0").replace("/", "~1")


def _what(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (Lit, int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _type(p: str, want: str, v: object) -> ValidationError:
    return ValidationError(p, "type", f"must be {want}, not {_what(v)}")


# --- objects -------------------------------------------------------------------------------


def obj(v: object, p: str, keys: frozenset[str], required: tuple[str, ...]) -> dict[str, object]:
    """Check that v is an object with only the properties keys and every required one."""
    o = obj_any(v, p)
    for k in o:
        if k not in keys:
            raise ValidationError(p, "additionalProperties", f"property {json.dumps(k)} is not allowed")
    for k in required:
        if k not in o:
            raise ValidationError(p, "required", f"missing property {json.dumps(k)}")
    return o


def const(o: Mapping[str, object], p: str, name: str, value: str) -> None:
    """Check a property fixed to one string (a union discriminator)."""
    v = string(o[name], at(p, name))
    if v != value:
        raise ValidationError(at(p, name), "const", f"must be {json.dumps(value)}")


def tag(v: object, p: str, name: str, values: tuple[str, ...]) -> str:
    """Return the discriminator of a union value, one of values."""
    o = obj_any(v, p)
    t = o.get(name)
    if t is None and name not in o:
        raise ValidationError(p, "required", f"missing property {json.dumps(name)}")
    if not isinstance(t, str) or t not in values:
        raise ValidationError(at(p, name), "const", "must be one of " + ", ".join(json.dumps(x) for x in values))
    return t


def match(v: object, p: str, arms: tuple[tuple[str, ...], ...]) -> int:
    """Return the index of the one alternative whose required properties are all present."""
    o = obj_any(v, p)
    hits = [i for i, keys in enumerate(arms) if all(k in o for k in keys)]
    if len(hits) != 1:
        raise ValidationError(p, "oneOf", f"must match exactly one of its {len(arms)} alternatives")
    return hits[0]


# --- scalars -------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def string(
    v: object,
    p: str,
    min_len: int = 0,
    max_len: int | None = None,
    fmt: str = "",
    pattern: re.Pattern[str] | None = None,
) -> str:
    """Check a string: length in code points, format and pattern."""
    if not isinstance(v, str):
        raise _type(p, "a string", v)
    s = _SURROGATE.sub("\ufffd", v)  # lone surrogates decode to U+FFFD, as in Go
    n = len(s)
    if n < min_len:
        raise ValidationError(p, "minLength", f"must be at least {min_len} characters long, not {n}")
    if max_len is not None and n > max_len:
        raise ValidationError(p, "maxLength", f"must be at most {max_len} characters long, not {n}")
    if fmt and not _FORMATS[fmt](s.encode("utf-8")):
        raise ValidationError(p, "format", f"must be a valid {fmt}, not {json.dumps(s[:40])}")
    if pattern is not None and pattern.search(s) is None:
        raise ValidationError(p, "pattern", f"must match {pattern.pattern}")
    return s


def enum(v: object, p: str, values: frozenset[str]) -> str:
    """Check one of the values of an enumeration."""
    if not isinstance(v, str):
        raise _type(p, "a string", v)
    if v not in values:
        raise ValidationError(p, "enum", f"{json.dumps(v[:40])} is not one of the allowed values")
    return v


def boolean(v: object, p: str) -> bool:
    """Check a boolean."""
    if not isinstance(v, bool):
        raise _type(p, "a boolean", v)
    return v


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?)([0-9]+))?\Z")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _int_of_literal(lit: str, p: str) -> int:
    m = _NUMBER.match(lit)
    if m is None:
        raise ValidationError(p, "syntax", "malformed number")
    neg = lit.startswith("-")
    int_digits, frac = m.group(1), m.group(2) or ""
    exp = 0
    exp_overflow = False
    if m.group(4) is not None:
        digits = m.group(4).lstrip("0") or "0"
        limit = _INT64_MAX + (1 if m.group(3) == "-" else 0)
        if len(digits) > 19 or int(digits) > limit:
            exp_overflow = True
            exp = 1 << 60
        else:
            exp = min(int(digits), 1 << 60)
        if m.group(3) == "-":
            exp = -exp
    mant = int_digits + frac
    sig = mant.strip("0")
    if sig == "":
        if exp_overflow:
            raise ValidationError(p, "maximum", f"integer {lit[:40]} does not fit 64 bits")
        return 0
    trailing = len(mant) - len(mant.rstrip("0"))
    e = exp - len(frac) + trailing
    if e < 0:
        raise ValidationError(p, "type", f"must be an integer, not {lit[:40]}")
    if len(sig) + e > 19:
        raise ValidationError(p, "maximum", f"integer {lit[:40]} does not fit 64 bits")
    u = int(sig) * 10**e
    value = -u if neg else u
    if value < _INT64_MIN or value > _INT64_MAX:
        raise ValidationError(p, "maximum", f"integer {lit[:40]} does not fit 64 bits")
    return value


def integer(v: object, p: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check a JSON Schema integer that fits int64, with inclusive bounds."""
    if isinstance(v, bool) or not isinstance(v, (Lit, int, float)):
        raise _type(p, "an integer", v)
    if isinstance(v, Lit):
        n = _int_of_literal(v.text, p)
    elif isinstance(v, float):
        if not v.is_integer():
            raise ValidationError(p, "type", f"must be an integer, not {v}")
        n = int(v)
    else:
        n = v
    if n < _INT64_MIN or n > _INT64_MAX:
        raise ValidationError(p, "maximum", f"integer {n} does not fit 64 bits")
    if minimum is not None and n < minimum:
        raise ValidationError(p, "minimum", f"must be >= {minimum}, not {n}")
    if maximum is not None and n > maximum:
        raise ValidationError(p, "maximum", f"must be <= {maximum}, not {n}")
    return n


def number(
    v: object,
    p: str,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
    exclusive_maximum: float | None = None,
) -> float:
    """Check a JSON number that fits float64, with its bounds."""
    if isinstance(v, bool) or not isinstance(v, (Lit, int, float)):
        raise _type(p, "a number", v)
    f = float(v.text) if isinstance(v, Lit) else float(v)
    if f in (float("inf"), float("-inf")) or f != f:
        raise ValidationError(p, "maximum", "number is out of range")
    if minimum is not None and f < minimum or exclusive_minimum is not None and f <= exclusive_minimum:
        raise ValidationError(p, "minimum", "must be above the minimum")
    if maximum is not None and f > maximum or exclusive_maximum is not None and f >= exclusive_maximum:
        raise ValidationError(p, "maximum", "must be below the maximum")
    return f


# --- arrays and maps -----------------------------------------------------------------------


def array(
    v: object,
    p: str,
    item: Callable[[object, str], T],
    min_items: int = 0,
    max_items: int | None = None,
    unique: bool = False,
) -> list[T]:
    """Check an array, each item with item, then its count and uniqueness."""
    if not isinstance(v, list):
        raise _type(p, "an array", v)
    items: list[object] = v  # pyright: ignore[reportUnknownVariableType]
    out = [item(x, f"{p}/{i}") for i, x in enumerate(items)]
    n = len(out)
    if n < min_items:
        raise ValidationError(p, "minItems", f"must have at least {min_items} items, not {n}")
    if max_items is not None and n > max_items:
        raise ValidationError(p, "maxItems", f"must have at most {max_items} items, not {n}")
    if unique and len({(type(x), x) for x in out}) != n:  # strings and integers only
        raise ValidationError(p, "uniqueItems", "items must be unique")
    return out


def mapping(v: object, p: str, item: Callable[[object, str], T]) -> dict[str, T]:
    """Check an object of values checked by item."""
    o = obj_any(v, p)
    return {k: item(x, at(p, k)) for k, x in o.items()}


def obj_any(v: object, p: str) -> dict[str, object]:
    """Check that v is an object, whatever its properties."""
    if not isinstance(v, dict):
        raise _type(p, "an object", v)
    out: dict[str, object] = {}
    for k, x in v.items():  # pyright: ignore[reportUnknownVariableType]
        out[str(k)] = x  # pyright: ignore[reportUnknownArgumentType]
    return out


def nullable(v: object, p: str, item: Callable[[object, str], T]) -> T | None:
    """Check a value that may be null."""
    return None if v is None else item(v, p)


# --- formats: ports of runtime/codec/format.go (bytes of the UTF-8 encoding) ---------------

_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UNRESERVED = _ALPHA | _DIGITS | frozenset(b"-._~")
_SUBDELIM = frozenset(b"!$&'()*+,;=")
_SCHEME = _ALPHA | _DIGITS | frozenset(b"+-.")


def is_uuid(s: bytes) -> bool:
    """Five groups of 8-4-4-4-12 hexadecimal digits separated by '-' (IsUUID)."""
    if len(s) != 36:
        return False
    for i, c in enumerate(s):
        if i in (8, 13, 18, 23):
            if c != 0x2D:
                return False
        elif c not in _HEX:
            return False
    return True


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _is_date(s: bytes) -> bool:
    if len(s) != 10 or s[4] != 0x2D or s[7] != 0x2D:
        return False
    if any(s[i] not in _DIGITS for i in (0, 1, 2, 3, 5, 6, 8, 9)):
        return False
    year = int(s[0:4])
    month = int(s[5:7])
    day = int(s[8:10])
    return 1 <= month <= 12 and 1 <= day <= _days_in(month, year)


def _field(a: int, b: int, mx: int) -> int | None:
    if b not in _DIGITS:
        return None
    if a in _DIGITS:
        n = (a - 48) * 10 + (b - 48)
    elif a == 0x2B:
        n = b - 48
    elif a == 0x2D:
        n = -(b - 48)
    else:
        return None
    return n if 0 <= n <= mx else None


def _is_time(s: bytes) -> bool:
    if len(s) < 9 or s[2] != 0x3A or s[5] != 0x3A:
        return False
    h = _field(s[0], s[1], 23)
    m = _field(s[3], s[4], 59)
    sec = _field(s[6], s[7], 60)
    if h is None or m is None or sec is None:
        return False
    s = s[8:]
    if s[0] == 0x2E:
        n = 1
        while n < len(s) and s[n] in _DIGITS:
            n += 1
        if n == 1:
            return False
        s = s[n:]
    if len(s) == 0:
        return False
    if s[0] in (0x7A, 0x5A):
        if len(s) != 1:
            return False
    else:
        if len(s) != 6 or s[3] != 0x3A:
            return False
        if s[0] == 0x2B:
            sign = -1
        elif s[0] == 0x2D:
            sign = 1
        else:
            return False
        zh = _field(s[1], s[2], 23)
        zm = _field(s[4], s[5], 59)
        if zh is None or zm is None:
            return False
        hm = (h * 60 + m) + sign * (zh * 60 + zm)
        if hm < 0:
            hm += 24 * 60
        h, m = hm // 60, hm % 60
    return sec != 60 or (h == 23 and m == 59)


def is_date_time(s: bytes) -> bool:
    """An RFC 3339 date-time with the verdicts of IsDateTime."""
    if len(s) < 20 or s[10] not in (0x54, 0x74):
        return False
    return _is_date(s[:10]) and _is_time(s[11:])


def _uri_chars(s: bytes, extra: bytes) -> bool:
    i = 0
    while i < len(s):
        c = s[i]
        if c in _UNRESERVED or c in _SUBDELIM:
            i += 1
            continue
        if c == 0x25:
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                return False
            i += 3
            continue
        if c not in extra:
            return False
        i += 1
    return True


def _uri_ipv6(s: bytes) -> bool:
    if len(s) < 2:
        return False
    if any(c not in _HEX and c not in (0x3A, 0x2E) for c in s):
        return False
    try:
        ipaddress.IPv6Address(s.decode("ascii"))
    except ValueError:
        return False
    return True


def _uri_authority(a: bytes) -> bool:
    at_ = a.find(b"@")
    if at_ >= 0:
        if not _uri_chars(a[:at_], b":"):
            return False
        a = a[at_ + 1 :]
    if len(a) > 0 and a[0] == 0x5B:
        end = a.find(b"]")
        if end < 0 or not _uri_ipv6(a[1:end]):
            return False
        a = a[end + 1 :]
        if len(a) > 0 and a[0] != 0x3A:
            return False
    else:
        i = 0
        while i < len(a) and a[i] != 0x3A:
            c = a[i]
            if c in _UNRESERVED or c in _SUBDELIM:
                i += 1
                continue
            if c != 0x25 or i + 2 >= len(a) or a[i + 1] not in _HEX or a[i + 2] not in _HEX:
                return False
            if a[i + 1] < 0x38 and (a[i + 1] != 0x32 or a[i + 2] != 0x35):
                return False
            i += 3
        a = a[i:]
    return all(c in _DIGITS for c in a[1:])


def is_uri(s: bytes) -> bool:
    """An absolute RFC 3986 URI with the verdicts of IsURI."""
    if len(s) == 0 or s[0] not in _ALPHA:
        return False
    i = 1
    while i < len(s) and s[i] in _SCHEME:
        i += 1
    if i == len(s) or s[i] != 0x3A:
        return False
    rest = s[i + 1 :]
    h = rest.find(b"#")
    if h >= 0:
        if not _uri_chars(rest[h + 1 :], b"/?:@"):
            return False
        rest = rest[:h]
    q = rest.find(b"?")
    if q >= 0:
        if not _uri_chars(rest[q + 1 :], b"/?:@"):
            return False
        rest = rest[:q]
    if rest.startswith(b"//"):
        rest = rest[2:]
        end = rest.find(b"/")
        if end < 0:
            end = len(rest)
        if not _uri_authority(rest[:end]):
            return False
        rest = rest[end:]
    return _uri_chars(rest, b"/:@")


_FORMATS: dict[str, Callable[[bytes], bool]] = {
    "uuid": is_uuid,
    "date-time": is_date_time,
    "uri": is_uri,
}
