package schemacheck

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// status is the outcome of validating one value.
type status uint8

const (
	stOK     status = iota
	stFail          // does not match
	stFatal         // the reference would panic (a number big.Rat cannot hold); fails oneOf too
	stSyntax        // not valid JSON: aborts everything
)

// validator is the per-call state. The evaluation mirrors the reference exactly: every
// keyword of a schema is evaluated (no short-circuit) once its "type" matched, so that the
// set of numbers the reference converts — and would panic on — is the same set here.
// Validation runs quietly first (no error values are built); only a failing document is
// validated a second time, verbosely, to build the *Error.
type validator struct {
	data    []byte
	scratch []byte
	verbose bool
	path    []string
	synPos  int
	synCtx  string
}

var validators = sync.Pool{New: func() any { return &validator{scratch: make([]byte, 0, 512)} }}

// Validate checks raw (one JSON document) against the schema ref ("#/$defs/Name"). It
// returns nil or a *Error.
func (s *Set) Validate(ref string, raw []byte) error {
	n, ok := s.defs[ref]
	if !ok {
		return &Error{Reason: "unknown schema " + strconv.Quote(ref)}
	}
	v := validators.Get().(*validator)
	defer v.release()
	st, _ := v.run(n, raw, false)
	switch st {
	case stOK:
		return nil
	case stSyntax:
		return &Error{Reason: "not valid JSON: " + v.syntaxMessage()}
	}
	_, e := v.run(n, raw, true)
	if e == nil {
		e = &Error{Reason: "does not validate"}
	}
	return e
}

func (v *validator) release() {
	v.data = nil
	v.path = v.path[:0]
	if cap(v.scratch) > 64<<10 {
		v.scratch = make([]byte, 0, 512)
	}
	validators.Put(v)
}

// run validates one document: a value, then only whitespace, or a byte json.Decoder.More
// does not count as more data (']' or '}').
func (v *validator) run(n *node, raw []byte, verbose bool) (status, *Error) {
	v.data, v.verbose, v.path, v.synPos, v.synCtx = raw, verbose, v.path[:0], -1, ""
	pos := v.ws(0)
	if pos >= len(raw) {
		return v.syntaxErr(pos, ""), nil
	}
	end, st, e := v.value(n, pos, 0)
	if st == stSyntax {
		return st, nil
	}
	pos = v.ws(end)
	if pos < len(raw) && raw[pos] != ']' && raw[pos] != '}' {
		v.synPos, v.synCtx = pos, "trailing"
		return stSyntax, nil
	}
	return st, e
}

// newErr builds an error at the current instance location (verbose mode only).
func (v *validator) newErr(kw, reason string) *Error {
	p := ""
	if len(v.path) > 0 {
		p = "/" + strings.Join(v.path, "/")
	}
	return &Error{Pointer: p, Reason: reason, kw: kw}
}

// merge folds a sub-result into an accumulated one: the strongest status wins, and the
// first error of that status is kept.
func merge(st *status, e **Error, s status, se *Error) {
	if s > *st {
		*st, *e = s, se
	} else if s == *st && *e == nil {
		*e = se
	}
}

var kindNames = [...]string{kNull: "null", kBool: "boolean", kNumber: "number", kString: "string", kArray: "array", kObject: "object"}

var typeWords = [...]string{tNull: "null", tBool: "boolean", tNumber: "number", tInteger: "integer", tString: "string", tArray: "array", tObject: "object"}

// value validates the value at pos against n and returns the position after the value.
func (v *validator) value(n *node, pos, depth int) (int, status, *Error) {
	if n.boolSchema != 0 {
		end, st := v.skip(pos, depth)
		if st != stOK {
			return 0, st, nil
		}
		if n.boolSchema < 0 {
			var e *Error
			if v.verbose {
				e = v.newErr("false", "not allowed")
			}
			return end, stFail, e
		}
		return end, stOK, nil
	}
	var k kind
	switch c := v.at(pos); {
	case c == '{':
		k = kObject
	case c == '[':
		k = kArray
	case c == '"':
		k = kString
	case c == 't' || c == 'f':
		k = kBool
	case c == 'n':
		k = kNull
	case c == '-' || '0' <= c && c <= '9':
		k = kNumber
	default:
		return 0, v.syntaxErr(pos, "looking for beginning of value"), nil
	}
	numEnd := 0
	var info numInfo
	analyzed := false
	if k == kNumber {
		var st status
		if numEnd, st = v.scanNumber(pos); st != stOK {
			return 0, st, nil
		}
	}

	// type: on a mismatch the reference evaluates nothing else of this schema.
	if n.typ != tAny {
		match, fatal := false, false
		switch n.typ {
		case tNull:
			match = k == kNull
		case tBool:
			match = k == kBool
		case tNumber:
			match = k == kNumber
		case tInteger:
			if k == kNumber {
				info, analyzed = analyzeNumber(v.data[pos:numEnd]), true
				fatal = !info.ratOK
				match = info.ratOK && info.integral
			}
		case tString:
			match = k == kString
		case tArray:
			match = k == kArray
		case tObject:
			match = k == kObject
		}
		if !match {
			end := numEnd
			if k != kNumber {
				var st status
				if end, st = v.skip(pos, depth); st != stOK {
					return 0, st, nil
				}
			}
			var e *Error
			if fatal {
				if v.verbose {
					e = v.newErr("type", fmt.Sprintf("number %s is too large to evaluate", v.data[pos:numEnd]))
				}
				return end, stFatal, e
			}
			if v.verbose {
				got := kindNames[k]
				if n.typ == tInteger && k == kNumber {
					got = "number"
				}
				e = v.newErr("type", fmt.Sprintf("expected %s, but got %s", typeWords[n.typ], got))
			}
			return end, stFail, e
		}
	}

	st := stOK
	var first *Error
	end := -1
	switch k {
	case kObject:
		if n.objKw {
			e, s, se := v.object(n, pos, depth)
			if s == stSyntax {
				return 0, s, nil
			}
			end = e
			merge(&st, &first, s, se)
		}
	case kArray:
		if n.arrKw {
			e, s, se := v.array(n, pos, depth)
			if s == stSyntax {
				return 0, s, nil
			}
			end = e
			merge(&st, &first, s, se)
		}
	case kString:
		if n.strKw {
			e, s, se := v.str(n, pos)
			if s == stSyntax {
				return 0, s, nil
			}
			end = e
			merge(&st, &first, s, se)
		}
	case kNumber:
		end = numEnd
		if n.numKw {
			if !analyzed {
				info = analyzeNumber(v.data[pos:numEnd])
			}
			s, se := v.bounds(n, v.data[pos:numEnd], &info)
			merge(&st, &first, s, se)
		}
	case kBool, kNull:
		word := "null"
		if k == kBool {
			word = "true"
			if v.data[pos] == 'f' {
				word = "false"
			}
		}
		var s status
		if end, s = v.scanLiteral(pos, word); s != stOK {
			return 0, s, nil
		}
	}
	if k != kString && (n.hasConst || n.hasEnum) {
		var e *Error
		if v.verbose {
			e = v.constErr(n)
		}
		merge(&st, &first, stFail, e)
	}
	if n.ref != nil {
		e, s, se := v.value(n.ref, pos, depth)
		if s == stSyntax {
			return 0, s, nil
		}
		end = e
		merge(&st, &first, s, se)
	}
	if len(n.oneOf) > 0 {
		e, s, se := v.oneOf(n, pos, depth)
		if s == stSyntax {
			return 0, s, nil
		}
		end = e
		merge(&st, &first, s, se)
	}
	if end < 0 {
		var s status
		if end, s = v.skip(pos, depth); s != stOK {
			return 0, s, nil
		}
	}
	return end, st, first
}

func (v *validator) constErr(n *node) *Error {
	if n.hasConst {
		return v.newErr("const", fmt.Sprintf("value must be %q", n.constStr))
	}
	q := make([]string, len(n.enum))
	for i, s := range n.enum {
		q[i] = strconv.Quote(s)
	}
	if len(q) == 1 {
		return v.newErr("enum", "value must be "+q[0])
	}
	return v.newErr("enum", "value must be one of "+strings.Join(q, ", "))
}

// oneOf evaluates the arms in order, like the reference: it stops at the second match.
func (v *validator) oneOf(n *node, pos, depth int) (int, status, *Error) {
	matched := -1
	end := -1
	var best *Error
	bestScore := -2
	for i, arm := range n.oneOf {
		e, s, se := v.value(arm, pos, depth)
		if s == stSyntax {
			return 0, s, nil
		}
		end = e
		switch s {
		case stFatal:
			return end, stFatal, se // the reference panics here
		case stOK:
			if matched >= 0 {
				var err *Error
				if v.verbose {
					err = v.newErr("oneOf", fmt.Sprintf("valid against schemas at indexes %d and %d", matched, i))
				}
				return end, stFail, err
			}
			matched = i
		default:
			if v.verbose && se != nil {
				// Report the most specific arm failure; a failed discriminator (const)
				// says least about what the sender meant.
				score := strings.Count(se.Pointer, "/")
				if se.kw == "const" || se.kw == "enum" {
					score = -1
				}
				if score > bestScore {
					best, bestScore = se, score
				}
			}
		}
	}
	if matched >= 0 {
		return end, stOK, nil
	}
	var err *Error
	if v.verbose {
		err = v.newErr("oneOf", "oneOf failed")
		if best != nil {
			err = &Error{Pointer: best.Pointer, Reason: "oneOf failed: " + best.Reason, kw: "oneOf"}
		}
	}
	return end, stFail, err
}

// Per-property states in object validation.
const (
	pUnseen uint8 = iota
	pOK
	pFail
	pFatal
)

// extra is a failed additionalProperties value; a later duplicate of the key replaces it.
type extra struct {
	key string
	st  status
	err *Error
	pos int
}

func (v *validator) object(n *node, pos, depth int) (int, status, *Error) {
	depth++
	if depth > maxDepth {
		return 0, v.depthErr(pos), nil
	}
	np := len(n.props)
	var buf [32]uint8
	var sts []uint8
	if np <= len(buf) {
		sts = buf[:np]
	} else {
		sts = make([]uint8, np)
	}
	var propErr []*Error
	var propPos []int
	if v.verbose {
		propErr, propPos = make([]*Error, np), make([]int, np)
	}
	var extras []extra
	unexpected := ""
	hasUnexpected := false

	pos = v.ws(pos + 1)
	if v.at(pos) == '}' {
		pos++
	} else {
		for {
			if v.at(pos) != '"' {
				return 0, v.syntaxErr(pos, "looking for beginning of object key string"), nil
			}
			keyPos := pos
			key, kend, decoded, _, st := v.stringValue(pos)
			if st != stOK {
				return 0, st, nil
			}
			idx := -1
			if np > 0 {
				idx = n.lookup(key)
			}
			tok := ""
			if v.verbose {
				tok = escapeToken(string(key))
			}
			pos = v.ws(kend)
			if v.at(pos) != ':' {
				return 0, v.syntaxErr(pos, "after object key"), nil
			}
			pos = v.ws(pos + 1)
			var end int
			if idx >= 0 && n.props[idx].sch != nil {
				if v.verbose {
					v.path = append(v.path, tok)
				}
				e, s, se := v.value(n.props[idx].sch, pos, depth)
				if v.verbose {
					v.path = v.path[:len(v.path)-1]
					propErr[idx], propPos[idx] = se, keyPos
				}
				if s == stSyntax {
					return 0, s, nil
				}
				sts[idx] = pOK + uint8(s) // the last occurrence wins
				end = e
			} else {
				if idx >= 0 && sts[idx] == pUnseen {
					sts[idx] = pOK
				}
				switch n.addl {
				case addlAny, addlFalse:
					if n.addl == addlFalse && !hasUnexpected {
						hasUnexpected = true
						if v.verbose {
							unexpected = string(key)
						}
					}
					if end, st = v.skip(pos, depth); st != stOK {
						return 0, st, nil
					}
				case addlSchema:
					if len(extras) > 0 {
						extras = dropExtra(extras, key)
					}
					stable := key
					if decoded {
						stable = append([]byte(nil), key...)
					}
					if v.verbose {
						v.path = append(v.path, tok)
					}
					e, s, se := v.value(n.addlSch, pos, depth)
					if v.verbose {
						v.path = v.path[:len(v.path)-1]
					}
					if s == stSyntax {
						return 0, s, nil
					}
					if s != stOK {
						extras = append(extras, extra{key: string(stable), st: s, err: se, pos: keyPos})
					}
					end = e
				}
			}
			pos = v.ws(end)
			switch v.at(pos) {
			case ',':
				pos = v.ws(pos + 1)
				continue
			case '}':
				pos++
			default:
				return 0, v.syntaxErr(pos, "after object key:value pair"), nil
			}
			break
		}
	}

	st := stOK
	var first *Error
	if n.reqCount > 0 {
		var missing []string
		for i := range n.props {
			if n.props[i].required && sts[i] == pUnseen {
				if !v.verbose {
					st = stFail
					break
				}
				missing = append(missing, strconv.Quote(n.props[i].name))
			}
		}
		if len(missing) > 0 {
			merge(&st, &first, stFail, v.newErr("required", "missing properties: "+strings.Join(missing, ", ")))
		}
	}
	if hasUnexpected {
		var e *Error
		if v.verbose {
			e = v.newErr("additionalProperties", fmt.Sprintf("additionalProperties %q not allowed", unexpected))
		}
		merge(&st, &first, stFail, e)
	}
	// Child failures, in document order among the strongest status.
	childSt := stOK
	for _, s := range sts {
		if s > pOK && status(s-pOK) > childSt {
			childSt = status(s - pOK)
		}
	}
	for _, x := range extras {
		if x.st > childSt {
			childSt = x.st
		}
	}
	if childSt != stOK {
		var ce *Error
		if v.verbose {
			cpos := -1
			for i, s := range sts {
				if s > pOK && status(s-pOK) == childSt && (cpos < 0 || propPos[i] < cpos) {
					ce, cpos = propErr[i], propPos[i]
				}
			}
			for _, x := range extras {
				if x.st == childSt && (cpos < 0 || x.pos < cpos) {
					ce, cpos = x.err, x.pos
				}
			}
			// A mismatched discriminator (a const property) explains the failure best.
			for i, s := range sts {
				if s == pFail && childSt == stFail && propErr[i] != nil && propErr[i].kw == "const" {
					ce = propErr[i]
					first = nil
					break
				}
			}
		}
		merge(&st, &first, childSt, ce)
	}
	return pos, st, first
}

func dropExtra(extras []extra, key []byte) []extra {
	out := extras[:0]
	for _, x := range extras {
		if x.key != string(key) {
			out = append(out, x)
		}
	}
	return out
}

type span struct{ start, end int }

func (v *validator) array(n *node, pos, depth int) (int, status, *Error) {
	depth++
	if depth > maxDepth {
		return 0, v.depthErr(pos), nil
	}
	st := stOK
	var first *Error
	var childSt status
	var childErr *Error
	var spans []span
	count := 0
	pos = v.ws(pos + 1)
	if v.at(pos) == ']' {
		pos++
	} else {
		for {
			start := pos
			var end int
			if n.items != nil {
				if v.verbose {
					v.path = append(v.path, strconv.Itoa(count))
				}
				e, s, se := v.value(n.items, pos, depth)
				if v.verbose {
					v.path = v.path[:len(v.path)-1]
				}
				if s == stSyntax {
					return 0, s, nil
				}
				merge(&childSt, &childErr, s, se)
				end = e
			} else {
				var s status
				if end, s = v.skip(pos, depth); s != stOK {
					return 0, s, nil
				}
			}
			if n.unique {
				spans = append(spans, span{start, end})
			}
			count++
			pos = v.ws(end)
			switch v.at(pos) {
			case ',':
				pos = v.ws(pos + 1)
				continue
			case ']':
				pos++
			default:
				return 0, v.syntaxErr(pos, "after array element"), nil
			}
			break
		}
	}
	if n.minItems >= 0 && count < n.minItems {
		var e *Error
		if v.verbose {
			e = v.newErr("minItems", fmt.Sprintf("minimum %d items required, but found %d items", n.minItems, count))
		}
		merge(&st, &first, stFail, e)
	}
	if n.maxItems >= 0 && count > n.maxItems {
		var e *Error
		if v.verbose {
			e = v.newErr("maxItems", fmt.Sprintf("maximum %d items allowed, but found %d items", n.maxItems, count))
		}
		merge(&st, &first, stFail, e)
	}
	if n.unique && len(spans) > 1 {
		s, i, j := v.uniqueItems(spans)
		var e *Error
		if v.verbose && s != stOK {
			if s == stFatal {
				e = v.newErr("uniqueItems", "a number is too large to evaluate")
			} else {
				e = v.newErr("uniqueItems", fmt.Sprintf("items at index %d and %d are equal", i, j))
			}
		}
		merge(&st, &first, s, e)
	}
	merge(&st, &first, childSt, childErr)
	return pos, st, first
}

func (v *validator) str(n *node, pos int) (int, status, *Error) {
	val, end, _, ascii, s := v.stringValue(pos)
	if s != stOK {
		return 0, s, nil
	}
	st := stOK
	var first *Error
	if n.hasConst && string(val) != n.constStr {
		st = stFail
		if v.verbose {
			merge(&st, &first, stFail, v.constErr(n))
		}
	}
	if n.hasEnum {
		found := false
		for _, e := range n.enum {
			if e == string(val) {
				found = true
				break
			}
		}
		if !found {
			st = stFail
			if v.verbose {
				merge(&st, &first, stFail, v.constErr(n))
			}
		}
	}
	if n.format != fmtNone && !checkFormat(n.format, val) {
		st = stFail
		if v.verbose {
			merge(&st, &first, stFail, v.newErr("format", fmt.Sprintf("%q is not valid %q", val, formatWord(n.format))))
		}
	}
	if n.minLen >= 0 || n.maxLen >= 0 {
		length := len(val)
		if !ascii {
			length = utf8.RuneCount(val)
		}
		if n.minLen >= 0 && length < n.minLen {
			st = stFail
			if v.verbose {
				merge(&st, &first, stFail, v.newErr("minLength", fmt.Sprintf("length must be >= %d, but got %d", n.minLen, length)))
			}
		}
		if n.maxLen >= 0 && length > n.maxLen {
			st = stFail
			if v.verbose {
				merge(&st, &first, stFail, v.newErr("maxLength", fmt.Sprintf("length must be <= %d, but got %d", n.maxLen, length)))
			}
		}
	}
	if n.pattern != nil && !n.pattern.Match(val) {
		st = stFail
		if v.verbose {
			merge(&st, &first, stFail, v.newErr("pattern", fmt.Sprintf("does not match pattern %q", n.pattern.String())))
		}
	}
	return end, st, first
}

func formatWord(k formatKind) string {
	for name, f := range formatNames {
		if f == k {
			return name
		}
	}
	return ""
}

// bounds checks minimum, maximum, exclusiveMinimum and exclusiveMaximum.
func (v *validator) bounds(n *node, lit []byte, info *numInfo) (status, *Error) {
	st := stOK
	var first *Error
	check := func(b *bound, kw, op string, bad func(c int) bool) {
		if b == nil || st == stFatal {
			return
		}
		c, ok := cmpBound(lit, info, b)
		if !ok {
			var e *Error
			if v.verbose {
				e = v.newErr(kw, fmt.Sprintf("number %s is too large to evaluate", lit))
			}
			st, first = stFatal, e
			return
		}
		if bad(c) {
			var e *Error
			if v.verbose {
				e = v.newErr(kw, fmt.Sprintf("must be %s %s but found %s", op, b.rat.RatString(), lit))
			}
			merge(&st, &first, stFail, e)
		}
	}
	check(n.minimum, "minimum", ">=", func(c int) bool { return c < 0 })
	check(n.exclMin, "exclusiveMinimum", ">", func(c int) bool { return c <= 0 })
	check(n.maximum, "maximum", "<=", func(c int) bool { return c > 0 })
	check(n.exclMax, "exclusiveMaximum", "<", func(c int) bool { return c >= 0 })
	return st, first
}
