package typescript

import (
	"fmt"
	"testing"

	"github.com/moltzap/moltzap-go/gen"
)

func kindName(k gen.Kind) string {
	return [...]string{"?", "string", "integer", "number", "bool", "struct", "enum", "array", "map", "union"}[k]
}

func desc(t *gen.Type) string {
	if t.Name != "" {
		return t.Name
	}
	switch t.Kind {
	case gen.KindArray:
		return desc(t.Elem) + "[]"
	case gen.KindMap:
		return "map<" + desc(t.Elem) + ">"
	}
	s := kindName(t.Kind)
	c := t.Constraints
	if c.MinLength != nil || c.MaxLength != nil || c.Pattern != "" || c.Format != "" || c.Minimum != nil || c.Maximum != nil || c.ExclusiveMinimum != nil || c.ExclusiveMaximum != nil {
		s += fmt.Sprintf("(%v %v %q %q)", c.MinLength, c.MaxLength, c.Pattern, c.Format)
	}
	return s
}

func TestDump(t *testing.T) {
	m, err := gen.LoadAndLint("../../schema")
	if err != nil {
		t.Fatal(err)
	}
	for _, ty := range m.Types {
		fmt.Printf("%s %s closed=%v schema=%s", ty.Name, kindName(ty.Kind), ty.Closed, ty.Schema)
		c := ty.Constraints
		if c.MinLength != nil {
			fmt.Printf(" minLen=%d", *c.MinLength)
		}
		if c.MaxLength != nil {
			fmt.Printf(" maxLen=%d", *c.MaxLength)
		}
		if c.Pattern != "" {
			fmt.Printf(" pattern=%q", c.Pattern)
		}
		if c.Format != "" {
			fmt.Printf(" format=%s", c.Format)
		}
		if c.MinItems != nil || c.MaxItems != nil || c.UniqueItems {
			fmt.Printf(" items=%v/%v/%v", c.MinItems, c.MaxItems, c.UniqueItems)
		}
		if ty.Elem != nil {
			fmt.Printf(" elem=%s", desc(ty.Elem))
		}
		if len(ty.Enum) > 0 {
			fmt.Printf(" enum=%v", ty.Enum)
		}
		for _, a := range ty.Arms {
			fmt.Printf(" arm=%s/%s", a.Type.Name, a.Tag)
		}
		if ty.Discriminator != "" {
			fmt.Printf(" disc=%s", ty.Discriminator)
		}
		fmt.Println()
		for _, c := range ty.Consts {
			fmt.Printf("   const %s=%s\n", c.JSONName, c.Value)
		}
		for _, f := range ty.Fields {
			fmt.Printf("   %s %s req=%v null=%v\n", f.JSONName, desc(f.Type), f.Required, f.Nullable)
		}
	}
}
