package golang

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// memberLines are the body of a struct's fields method: one codec helper call per property.
func (e *emitter) memberLines(t *gen.Type) ([]jen.Code, error) {
	if len(t.Consts)+len(t.Fields) > 64 {
		return nil, fmt.Errorf("%s has more than 64 properties, which the Go codec cannot track", t.Name)
	}
	var lines []jen.Code
	for _, c := range t.Consts {
		lines = append(lines, jen.Id("o").Dot("Const").Call(jen.Lit(c.JSONName), jen.Lit(c.Value)))
	}
	for _, fl := range t.Fields {
		line, err := memberLine(t, fl)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", fl.JSONName, err)
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// presence is the helper prefix of a field's Go shape: "" required value, "Opt" optional,
// "Null" required but nullable.
func presence(fl *gen.Field) string {
	switch {
	case fl.Required && fl.Nullable:
		return "Null"
	case fl.Required:
		return ""
	}
	return "Opt"
}

// inlinePatternVar names the variable of a pattern written inline on a property.
func inlinePatternVar(parent *gen.Type, fl *gen.Field) string {
	return gen.LowerFirst(parent.Name) + fl.GoName + "Pattern"
}

// memberLine is the codec call for one property of parent.
func memberLine(parent *gen.Type, fl *gen.Field) (jen.Code, error) {
	t, pre := fl.Type, presence(fl)
	call := func(helper string, args ...jen.Code) jen.Code {
		all := append([]jen.Code{jen.Id("o"), jen.Lit(fl.JSONName)}, args...)
		return jen.Qual(codecPkg, pre+helper).Call(all...)
	}
	ptr := jen.Op("&").Id("x").Dot(fl.GoName)
	if pre == "Null" && (t.Kind == gen.KindArray || t.Kind == gen.KindMap) {
		return nil, fmt.Errorf("a nullable array or map is not supported by the Go emitter")
	}
	switch t.Kind {
	case gen.KindString:
		if t.Name == "" && t.Pattern != "" {
			return call("String", ptr, jen.Qual(codecPkg, "StringRule").Values(stringRuleDict(t, inlinePatternVar(parent, fl))...)), nil
		}
		return call("String", ptr, stringRule(t)), nil
	case gen.KindEnum:
		if pre == "Null" {
			return nil, fmt.Errorf("a nullable enum is not supported by the Go emitter")
		}
		return call("Enum", ptr), nil
	case gen.KindInteger:
		return call("Int", ptr, intRule(t)), nil
	case gen.KindNumber:
		if pre == "Null" {
			return nil, fmt.Errorf("a nullable number is not supported by the Go emitter")
		}
		return call("Float", ptr, floatRule(t)), nil
	case gen.KindBool:
		if pre == "Null" {
			return nil, fmt.Errorf("a nullable boolean is not supported by the Go emitter")
		}
		return call("Bool", ptr), nil
	case gen.KindStruct:
		if pre == "" {
			return call("Struct", jen.Id("x").Dot(fl.GoName).Dot("fields")), nil
		}
		return call("Struct", ptr, jen.Parens(jen.Op("*").Id(t.Name)).Dot("fields")), nil
	case gen.KindUnion:
		return call("Union", ptr, jen.Id("read"+t.Name)), nil
	case gen.KindArray:
		return arrayLine(call, ptr, t)
	case gen.KindMap:
		return mapLine(call, ptr, t)
	}
	return nil, fmt.Errorf("kind %d cannot be mapped", t.Kind)
}

func arrayLine(call func(string, ...jen.Code) jen.Code, ptr jen.Code, t *gen.Type) (jen.Code, error) {
	el := t.Elem
	if t.UniqueItems && el.Kind != gen.KindString && el.Kind != gen.KindEnum && el.Kind != gen.KindInteger {
		return nil, fmt.Errorf("uniqueItems is supported on arrays of strings and integers only")
	}
	switch el.Kind {
	case gen.KindString:
		return call("Strings", ptr, arrayRule(t), stringRule(el)), nil
	case gen.KindEnum:
		return call("Enums", ptr, arrayRule(t)), nil
	case gen.KindInteger:
		return call("Ints", ptr, arrayRule(t), intRule(el)), nil
	case gen.KindStruct:
		return call("Structs", ptr, arrayRule(t), jen.Parens(jen.Op("*").Id(el.Name)).Dot("fields")), nil
	case gen.KindUnion:
		return call("Unions", ptr, arrayRule(t), jen.Id("read"+el.Name)), nil
	case gen.KindArray, gen.KindMap:
		if el.Name != "" {
			return call("Values", ptr, arrayRule(t), jen.Id("read"+el.Name)), nil
		}
	}
	return nil, fmt.Errorf("an array of this item type is not supported by the Go emitter")
}

func mapLine(call func(string, ...jen.Code) jen.Code, ptr jen.Code, t *gen.Type) (jen.Code, error) {
	switch t.Elem.Kind {
	case gen.KindString:
		return call("StringMap", ptr, stringRule(t.Elem)), nil
	case gen.KindInteger:
		return call("IntMap", ptr, intRule(t.Elem)), nil
	}
	return nil, fmt.Errorf("a map of this value type is not supported by the Go emitter")
}

func isStringy(t *gen.Type) bool { return t.Kind == gen.KindString }

// ruleVar names the package variable holding a named type's rule.
func ruleVar(t *gen.Type) string { return gen.LowerFirst(t.Name) + "Rule" }

func patternVar(t *gen.Type) string { return gen.LowerFirst(t.Name) + "Pattern" }

// ruleLiteral is the rule of a named scalar type, or nil when it states none.
func ruleLiteral(t *gen.Type) *jen.Statement {
	switch t.Kind {
	case gen.KindString:
		if d := stringRuleDict(t, patternVar(t)); len(d) > 0 {
			return jen.Qual(codecPkg, "StringRule").Values(d...)
		}
	case gen.KindInteger:
		if _, _, hasMin, hasMax := t.IntBounds(); hasMin || hasMax {
			return intRuleExpr(t)
		}
	}
	return nil
}

// stringRule is the rule argument for a string type: the named type's variable, or a literal.
func stringRule(t *gen.Type) jen.Code {
	if t.Name != "" && ruleLiteral(t) != nil {
		return jen.Id(ruleVar(t))
	}
	return jen.Qual(codecPkg, "StringRule").Values(stringRuleDict(t, "")...)
}

// stringRuleDict is the keyed fields of a StringRule literal, in a fixed order; pattern
// names the compiled pattern.
func stringRuleDict(t *gen.Type, pattern string) []jen.Code {
	d := countBounds(t.MinLength, t.MaxLength)
	switch t.Format {
	case "uuid":
		d = append(d, keyed("Format", jen.Qual(codecPkg, "UUID")))
	case "date-time":
		d = append(d, keyed("Format", jen.Qual(codecPkg, "DateTime")))
	case "uri":
		d = append(d, keyed("Format", jen.Qual(codecPkg, "URI")))
	}
	if t.Pattern != "" {
		d = append(d, keyed("Pattern", jen.Id(pattern)))
	}
	return d
}

// countBounds is the Min and Max fields of a StringRule or ArrayRule literal (a zero minimum
// is the default and left out).
func countBounds(min, max *int64) []jen.Code {
	var d []jen.Code
	if min != nil && *min > 0 {
		d = append(d, keyed("Min", jen.Lit(int(*min))))
	}
	if max != nil {
		d = append(d, keyed("Max", jen.Lit(int(*max))))
	}
	return d
}

// keyed is one "Key: value" element of a composite literal, kept on one line.
func keyed(key string, v jen.Code) jen.Code { return jen.Id(key).Op(":").Add(v) }

// intRule is the rule argument for an integer type.
func intRule(t *gen.Type) jen.Code {
	if t.Name != "" && ruleLiteral(t) != nil {
		return jen.Id(ruleVar(t))
	}
	return intRuleExpr(t)
}

func intRuleExpr(t *gen.Type) *jen.Statement {
	min, max, hasMin, hasMax := t.IntBounds()
	switch {
	case hasMin && hasMax:
		return jen.Qual(codecPkg, "Between").Call(jen.Lit(min), jen.Lit(max))
	case hasMin:
		return jen.Qual(codecPkg, "AtLeast").Call(jen.Lit(min))
	case hasMax:
		return jen.Qual(codecPkg, "AtMost").Call(jen.Lit(max))
	}
	return jen.Qual(codecPkg, "IntRule").Values()
}

func floatRule(t *gen.Type) jen.Code {
	var d []jen.Code
	bound := func(n *gen.Number, v, has, excl string, exclusive bool) {
		if n == nil {
			return
		}
		f, _ := strconv.ParseFloat(n.Literal, 64)
		d = append(d, keyed(v, jen.Lit(f)), keyed(has, jen.True()))
		if exclusive {
			d = append(d, keyed(excl, jen.True()))
		}
	}
	bound(t.Minimum, "Min", "HasMin", "ExclusiveMin", false)
	bound(t.ExclusiveMinimum, "Min", "HasMin", "ExclusiveMin", true)
	bound(t.Maximum, "Max", "HasMax", "ExclusiveMax", false)
	bound(t.ExclusiveMaximum, "Max", "HasMax", "ExclusiveMax", true)
	return jen.Qual(codecPkg, "FloatRule").Values(d...)
}

// arrayRule is the ArrayRule literal of an array type.
func arrayRule(t *gen.Type) jen.Code {
	d := countBounds(t.MinItems, t.MaxItems)
	if t.UniqueItems {
		d = append(d, keyed("Unique", jen.True()))
	}
	return jen.Qual(codecPkg, "ArrayRule").Values(d...)
}
