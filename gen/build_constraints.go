package gen

import "strconv"

// constraintKeywords maps each validation keyword to the kinds it applies to.
var constraintKeywords = map[string][]Kind{
	"minLength": {KindString, KindEnum}, "maxLength": {KindString, KindEnum},
	"pattern": {KindString}, "format": {KindString},
	"minimum": {KindInteger, KindNumber}, "maximum": {KindInteger, KindNumber},
	"exclusiveMinimum": {KindInteger, KindNumber}, "exclusiveMaximum": {KindInteger, KindNumber},
	"minItems": {KindArray}, "maxItems": {KindArray}, "uniqueItems": {KindArray},
}

// constraints reads the validation keywords of schema n, which maps to kind. A keyword that
// does not apply to the kind, or a malformed value, is a problem: the model never drops a rule.
func (b *builder) constraints(n *Node, kind Kind) Constraints {
	var c Constraints
	for _, k := range n.Keys {
		kinds, ok := constraintKeywords[k]
		if !ok {
			continue
		}
		if !hasKind(kinds, kind) {
			b.probs.add(n.Vals[k], "keyword %q does not apply to this schema's type", k)
			continue
		}
		v := n.Vals[k]
		switch k {
		case "minLength":
			c.MinLength = b.count(v, k)
		case "maxLength":
			c.MaxLength = b.count(v, k)
		case "minItems":
			c.MinItems = b.count(v, k)
		case "maxItems":
			c.MaxItems = b.count(v, k)
		case "pattern":
			c.Pattern = v.Str
		case "format":
			c.Format = v.Str
		case "uniqueItems":
			c.UniqueItems = v.Kind == NodeBool && v.Bool
		case "minimum":
			c.Minimum = b.number(v, k, kind)
		case "maximum":
			c.Maximum = b.number(v, k, kind)
		case "exclusiveMinimum":
			c.ExclusiveMinimum = b.number(v, k, kind)
		case "exclusiveMaximum":
			c.ExclusiveMaximum = b.number(v, k, kind)
		}
	}
	c.Examples = n.Get("examples").Strings()
	b.checkRanges(n, c)
	return c
}

func hasKind(kinds []Kind, k Kind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// count reads a non-negative integer keyword value.
func (b *builder) count(v *Node, kw string) *int64 {
	n, err := strconv.ParseInt(string(v.Num), 10, 64)
	if v.Kind != NodeNumber || err != nil || n < 0 {
		b.probs.add(v, "%s must be a non-negative integer", kw)
		return nil
	}
	return &n
}

// number reads a numeric bound; integer types need integer bounds that fit int64.
func (b *builder) number(v *Node, kw string, kind Kind) *Number {
	if v.Kind != NodeNumber {
		b.probs.add(v, "%s must be a number", kw)
		return nil
	}
	if kind == KindInteger {
		if _, err := strconv.ParseInt(string(v.Num), 10, 64); err != nil {
			b.probs.add(v, "%s of an integer must be an integer literal that fits 64 bits", kw)
			return nil
		}
	}
	return &Number{Literal: string(v.Num)}
}

// checkRanges reports bounds that no value can satisfy, and the zero maximums the emitters
// do not map (maxLength 0 is "only the empty string": write const "" or an enum instead).
func (b *builder) checkRanges(n *Node, c Constraints) {
	if c.MaxLength != nil && *c.MaxLength == 0 || c.MaxItems != nil && *c.MaxItems == 0 {
		b.probs.add(n, "a maximum of 0 is not supported: it only allows an empty value")
	}
	if c.MinLength != nil && c.MaxLength != nil && *c.MinLength > *c.MaxLength {
		b.probs.add(n, "minLength %d is greater than maxLength %d", *c.MinLength, *c.MaxLength)
	}
	if c.MinItems != nil && c.MaxItems != nil && *c.MinItems > *c.MaxItems {
		b.probs.add(n, "minItems %d is greater than maxItems %d", *c.MinItems, *c.MaxItems)
	}
	if min, max, hasMin, hasMax := c.IntBounds(); hasMin && hasMax && min > max {
		b.probs.add(n, "the integer bounds leave no value (%d > %d)", min, max)
	}
}

// refSiblings reports validation keywords written beside a $ref: the generator maps a
// reference to its named type, so a sibling rule would be lost.
func (b *builder) refSiblings(n *Node) {
	for _, k := range n.Keys {
		if _, ok := constraintKeywords[k]; ok {
			b.probs.add(n.Vals[k], "keyword %q beside $ref is not supported: declare a named type with the rule", k)
		}
		switch k {
		case "type", "enum", "const", "oneOf", "properties", "items", "additionalProperties", "required":
			b.probs.add(n.Vals[k], "keyword %q beside $ref is not supported", k)
		}
	}
}
