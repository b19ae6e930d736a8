package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// types emits every named type with its JSON methods.
func (e *emitter) types(f *jen.File) {
	for _, t := range e.m.Types {
		switch t.Kind {
		case gen.KindStruct:
			e.structType(f, t)
		case gen.KindEnum:
			e.enumType(f, t)
		case gen.KindUnion:
			e.unionType(f, t)
		default:
			f.Add(doc(t.Name, t.Doc, "is a named protocol type."))
			f.Type().Id(t.Name).Add(typeExpr(&gen.Type{Kind: t.Kind, Elem: t.Elem}))
			if t.Kind == gen.KindArray && t.Elem.Kind == gen.KindUnion {
				e.unionSliceUnmarshal(f, t)
			}
		}
		f.Line()
	}
}

func (e *emitter) structType(f *jen.File, t *gen.Type) {
	f.Add(doc(t.Name, t.Doc, "is a protocol object."))
	f.Type().Id(t.Name).StructFunc(func(g *jen.Group) {
		for _, fl := range t.Fields {
			typ, tag := fieldType(fl)
			if fl.Doc != "" {
				g.Comment(fl.GoName + ": " + fl.Doc)
			}
			g.Id(fl.GoName).Add(typ).Tag(map[string]string{"json": tag})
		}
	})
	for _, u := range e.unions[t] {
		f.Func().Params(jen.Id(t.Name)).Id("is" + u.Name).Params().Block()
	}
	if len(t.Consts) > 0 || len(t.RequiredNilable()) > 0 {
		e.structMarshal(f, t)
	}
	if len(t.Consts) > 0 || t.HasUnionField() {
		e.structUnmarshal(f, t)
	}
}

// structMarshal writes const properties and never lets a required slice or map be null.
func (e *emitter) structMarshal(f *jen.File, t *gen.Type) {
	f.Comment("MarshalJSON writes " + t.Name + " with its fixed properties; required lists are never null.")
	f.Func().Params(jen.Id("x").Id(t.Name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).BlockFunc(func(g *jen.Group) {
		g.Type().Id("plain").Id(t.Name)
		g.Id("p").Op(":=").Id("plain").Call(jen.Id("x"))
		for _, fl := range t.RequiredNilable() {
			g.If(jen.Id("p").Dot(fl.GoName).Op("==").Nil()).Block(
				jen.Id("p").Dot(fl.GoName).Op("=").Add(typeExpr(fl.Type)).Values(),
			)
		}
		if len(t.Consts) == 0 {
			g.Return(jen.Qual(jsonPkg, "Marshal").Call(jen.Id("p")))
			return
		}
		g.Return(jen.Qual(jsonPkg, "Marshal").Call(jen.StructFunc(func(s *jen.Group) {
			for i, c := range t.Consts {
				s.Id(constField(i)).String().Tag(map[string]string{"json": c.JSONName})
			}
			s.Id("plain")
		}).ValuesFunc(func(v *jen.Group) {
			for i, c := range t.Consts {
				v.Id(constField(i)).Op(":").Lit(c.Value)
			}
			v.Id("plain").Op(":").Id("p")
		})))
	})
}

func constField(i int) string { return "Const" + string(rune('0'+i)) }
func rawField(i int) string   { return "Raw" + string(rune('A'+i)) }

// structUnmarshal checks const properties and decodes union fields through their decoders.
func (e *emitter) structUnmarshal(f *jen.File, t *gen.Type) {
	f.Comment("UnmarshalJSON reads " + t.Name + ", checking its fixed properties and decoding union fields.")
	f.Func().Params(jen.Id("x").Op("*").Id(t.Name)).Id("UnmarshalJSON").Params(jen.Id("b").Index().Byte()).Error().BlockFunc(func(g *jen.Group) {
		g.Type().Id("plain").Id(t.Name)
		var unionFields []*gen.Field
		g.Var().Id("v").StructFunc(func(s *jen.Group) {
			for i, c := range t.Consts {
				s.Id(constField(i)).Op("*").String().Tag(map[string]string{"json": c.JSONName})
			}
			for _, fl := range t.Fields {
				switch fl.UnionShape() {
				case "one":
					s.Id(rawField(len(unionFields))).Qual(jsonPkg, "RawMessage").Tag(map[string]string{"json": fl.JSONName})
					unionFields = append(unionFields, fl)
				case "array":
					s.Id(rawField(len(unionFields))).Index().Qual(jsonPkg, "RawMessage").Tag(map[string]string{"json": fl.JSONName})
					unionFields = append(unionFields, fl)
				}
			}
			s.Op("*").Id("plain")
		})
		g.Id("v").Dot("plain").Op("=").Parens(jen.Op("*").Id("plain")).Parens(jen.Id("x"))
		g.If(jen.Err().Op(":=").Qual(jsonPkg, "Unmarshal").Call(jen.Id("b"), jen.Op("&").Id("v")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err()))
		for i, c := range t.Consts {
			g.If(jen.Id("v").Dot(constField(i)).Op("==").Nil().Op("||").Op("*").Id("v").Dot(constField(i)).Op("!=").Lit(c.Value)).Block(
				jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit(t.Name + ": property \"" + c.JSONName + "\" must be \"" + c.Value + "\""))),
			)
		}
		for i, fl := range unionFields {
			raw := jen.Id("v").Dot(rawField(i))
			dec := "Unmarshal" + unionOf(fl).Name
			if fl.UnionShape() == "one" {
				g.Id("x").Dot(fl.GoName).Op("=").Nil()
				g.If(jen.Len(raw.Clone()).Op(">").Lit(0).Op("&&").String().Call(raw.Clone()).Op("!=").Lit("null")).Block(
					jen.List(jen.Id("u"), jen.Err()).Op(":=").Id(dec).Call(raw.Clone()),
					jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit(t.Name+"."+fl.JSONName+": %w"), jen.Err()))),
					jen.Id("x").Dot(fl.GoName).Op("=").Id("u"),
				)
				continue
			}
			g.Id("x").Dot(fl.GoName).Op("=").Nil()
			g.If(raw.Clone().Op("!=").Nil()).Block(
				jen.Id("x").Dot(fl.GoName).Op("=").Make(typeExpr(fl.Type), jen.Len(raw.Clone())),
				jen.For(jen.List(jen.Id("i"), jen.Id("r")).Op(":=").Range().Add(raw.Clone())).Block(
					jen.List(jen.Id("u"), jen.Err()).Op(":=").Id(dec).Call(jen.Id("r")),
					jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit(t.Name+"."+fl.JSONName+"[%d]: %w"), jen.Id("i"), jen.Err()))),
					jen.Id("x").Dot(fl.GoName).Index(jen.Id("i")).Op("=").Id("u"),
				),
			)
		}
		g.Return(jen.Nil())
	})
}

func unionOf(fl *gen.Field) *gen.Type {
	if fl.Type.Kind == gen.KindUnion {
		return fl.Type
	}
	return fl.Type.Elem
}

func (e *emitter) enumType(f *jen.File, t *gen.Type) {
	f.Add(doc(t.Name, t.Doc, "is a protocol enumeration."))
	f.Type().Id(t.Name).String()
	f.Comment("The values of " + t.Name + ".")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, v := range t.Enum {
			g.Id(t.Name + gen.GoName(v)).Id(t.Name).Op("=").Lit(v)
		}
	})
	f.Comment("Valid reports whether v is one of the values of " + t.Name + ".")
	f.Func().Params(jen.Id("v").Id(t.Name)).Id("Valid").Params().Bool().Block(
		jen.Switch(jen.Id("v")).Block(
			jen.CaseFunc(func(g *jen.Group) {
				for _, v := range t.Enum {
					g.Id(t.Name + gen.GoName(v))
				}
			}).Block(jen.Return(jen.True())),
		),
		jen.Return(jen.False()),
	)
}

func (e *emitter) unionType(f *jen.File, t *gen.Type) {
	names := ""
	for i, a := range t.Arms {
		if i > 0 {
			names += ", "
		}
		names += a.Type.Name
	}
	f.Add(doc(t.Name, t.Doc, "is a union."))
	f.Comment("It is one of: " + names + ".")
	f.Type().Id(t.Name).Interface(jen.Id("is" + t.Name).Params())
	f.Line()
	if t.Discriminator != "" {
		e.discriminatedUnmarshal(f, t)
	} else {
		e.requiredKeysUnmarshal(f, t)
	}
}

func (e *emitter) discriminatedUnmarshal(f *jen.File, t *gen.Type) {
	fn := "Unmarshal" + t.Name
	f.Comment(fn + " decodes a " + t.Name + ", choosing the alternative by its \"" + t.Discriminator + "\" property.")
	f.Func().Id(fn).Params(jen.Id("b").Index().Byte()).Params(jen.Id(t.Name), jen.Error()).BlockFunc(func(g *jen.Group) {
		g.Var().Id("probe").Struct(jen.Id("Tag").Op("*").String().Tag(map[string]string{"json": t.Discriminator}))
		g.If(jen.Err().Op(":=").Qual(jsonPkg, "Unmarshal").Call(jen.Id("b"), jen.Op("&").Id("probe")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Qual(fmtPkg, "Errorf").Call(jen.Lit(t.Name+": %w"), jen.Err())))
		g.If(jen.Id("probe").Dot("Tag").Op("==").Nil()).Block(
			jen.Return(jen.Nil(), jen.Qual(errorsPkg, "New").Call(jen.Lit(t.Name+": missing \""+t.Discriminator+"\""))))
		g.Switch(jen.Op("*").Id("probe").Dot("Tag")).BlockFunc(func(s *jen.Group) {
			for _, a := range t.Arms {
				s.Case(jen.Lit(a.Tag)).Block(decodeArm(a.Type)...)
			}
		})
		g.Return(jen.Nil(), jen.Qual(fmtPkg, "Errorf").Call(jen.Lit(t.Name+": unknown "+t.Discriminator+" %q"), jen.Op("*").Id("probe").Dot("Tag")))
	})
}

func decodeArm(arm *gen.Type) []jen.Code {
	return []jen.Code{
		jen.Var().Id("v").Id(arm.Name),
		jen.If(jen.Err().Op(":=").Qual(jsonPkg, "Unmarshal").Call(jen.Id("b"), jen.Op("&").Id("v")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("v"), jen.Nil()),
	}
}

func (e *emitter) requiredKeysUnmarshal(f *jen.File, t *gen.Type) {
	fn := "Unmarshal" + t.Name
	f.Comment(fn + " decodes a " + t.Name + ": exactly one alternative's required properties must all be present.")
	f.Func().Id(fn).Params(jen.Id("b").Index().Byte()).Params(jen.Id(t.Name), jen.Error()).BlockFunc(func(g *jen.Group) {
		g.Var().Id("keys").Map(jen.String()).Qual(jsonPkg, "RawMessage")
		g.If(jen.Err().Op(":=").Qual(jsonPkg, "Unmarshal").Call(jen.Id("b"), jen.Op("&").Id("keys")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Qual(fmtPkg, "Errorf").Call(jen.Lit(t.Name+": %w"), jen.Err())))
		g.Id("has").Op(":=").Func().Params(jen.Id("names").Op("...").String()).Bool().Block(
			jen.For(jen.List(jen.Id("_"), jen.Id("k")).Op(":=").Range().Id("names")).Block(
				jen.If(jen.List(jen.Id("_"), jen.Id("ok")).Op(":=").Id("keys").Index(jen.Id("k")), jen.Op("!").Id("ok")).Block(jen.Return(jen.False())),
			),
			jen.Return(jen.True()),
		)
		g.Var().Id("matched").Index().Func().Params().Params(jen.Id(t.Name), jen.Error())
		for _, a := range t.Arms {
			var req []jen.Code
			for _, fl := range a.Type.Fields {
				if fl.Required {
					req = append(req, jen.Lit(fl.JSONName))
				}
			}
			g.If(jen.Id("has").Call(req...)).Block(
				jen.Id("matched").Op("=").Append(jen.Id("matched"), jen.Func().Params().Params(jen.Id(t.Name), jen.Error()).Block(decodeArm(a.Type)...)),
			)
		}
		g.If(jen.Len(jen.Id("matched")).Op("!=").Lit(1)).Block(
			jen.Return(jen.Nil(), jen.Qual(fmtPkg, "Errorf").Call(jen.Lit(t.Name+": the object matches %d of its "+itoa(len(t.Arms))+" alternatives, want exactly 1"), jen.Len(jen.Id("matched")))))
		g.Return(jen.Id("matched").Index(jen.Lit(0)).Call())
	})
}

func (e *emitter) unionSliceUnmarshal(f *jen.File, t *gen.Type) {
	f.Comment("UnmarshalJSON decodes every element of " + t.Name + " as a " + t.Elem.Name + ".")
	f.Func().Params(jen.Id("x").Op("*").Id(t.Name)).Id("UnmarshalJSON").Params(jen.Id("b").Index().Byte()).Error().Block(
		jen.Var().Id("raw").Index().Qual(jsonPkg, "RawMessage"),
		jen.If(jen.Err().Op(":=").Qual(jsonPkg, "Unmarshal").Call(jen.Id("b"), jen.Op("&").Id("raw")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.If(jen.Id("raw").Op("==").Nil()).Block(jen.Op("*").Id("x").Op("=").Nil(), jen.Return(jen.Nil())),
		jen.Id("out").Op(":=").Make(jen.Id(t.Name), jen.Len(jen.Id("raw"))),
		jen.For(jen.List(jen.Id("i"), jen.Id("r")).Op(":=").Range().Id("raw")).Block(
			jen.List(jen.Id("u"), jen.Err()).Op(":=").Id("Unmarshal"+t.Elem.Name).Call(jen.Id("r")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit(t.Name+"[%d]: %w"), jen.Id("i"), jen.Err()))),
			jen.Id("out").Index(jen.Id("i")).Op("=").Id("u"),
		),
		jen.Op("*").Id("x").Op("=").Id("out"),
		jen.Return(jen.Nil()),
	)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
