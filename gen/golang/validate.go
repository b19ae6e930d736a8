package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// validate emits the embedded schema, the compiled validators, one Decode function per
// schema-backed type and the type registry used by tests and tools.
func (e *emitter) validate(f *jen.File) {
	f.Anon("embed")
	f.Comment("//go:embed " + SchemaFile)
	f.Var().Id("schemaJSON").Index().Byte()
	f.Line()
	f.Comment("BundleURL is the name the embedded schema is compiled under; schema references are")
	f.Comment("BundleURL + \"#/$defs/<Name>\".")
	f.Const().Id("BundleURL").Op("=").Lit(gen.BundleURL)
	f.Line()
	f.Comment("SchemaJSON returns a copy of the bundled JSON Schema every validator is compiled from.")
	f.Func().Id("SchemaJSON").Params().Index().Byte().Block(jen.Return(jen.Qual(bytesPkg, "Clone").Call(jen.Id("schemaJSON"))))
	f.Line()
	e.schemaRefs(f)
	e.compiler(f)
	e.decoders(f)
	e.lookups(f)
	e.typeRegistry(f)
}

func (e *emitter) schemaTypes() []*gen.Type {
	var out []*gen.Type
	for _, t := range e.m.Types {
		if t.Schema != "" {
			out = append(out, t)
		}
	}
	return out
}

func (e *emitter) schemaRefs(f *jen.File) {
	f.Comment("schemaRefs lists every schema compiled at first use.")
	f.Func().Id("schemaRefs").Params().Index().String().Block(jen.Return(jen.Index().String().ValuesFunc(func(g *jen.Group) {
		for _, t := range e.schemaTypes() {
			g.Line().Lit(t.Schema)
		}
		g.Line()
	})))
}

func (e *emitter) compiler(f *jen.File) {
	f.Comment("compiledSchemas holds the validators, compiled once from the embedded schema.")
	f.Type().Id("compiledSchemas").Struct(
		jen.Id("byRef").Map(jen.String()).Op("*").Qual(jsonschemaPkg, "Schema"),
		jen.Id("err").Error(),
	)
	f.Var().Id("compiled").Op("=").Qual(syncPkg, "OnceValue").Call(jen.Func().Params().Id("compiledSchemas").Block(
		jen.Id("c").Op(":=").Qual(jsonschemaPkg, "NewCompiler").Call(),
		jen.Id("c").Dot("Draft").Op("=").Qual(jsonschemaPkg, "Draft2020"),
		jen.Id("c").Dot("AssertFormat").Op("=").True(),
		jen.If(jen.Err().Op(":=").Id("c").Dot("AddResource").Call(jen.Id("BundleURL"), jen.Qual(bytesPkg, "NewReader").Call(jen.Id("schemaJSON"))), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Id("compiledSchemas").Values(jen.Dict{jen.Id("err"): jen.Err()}))),
		jen.Id("out").Op(":=").Id("compiledSchemas").Values(jen.Dict{jen.Id("byRef"): jen.Map(jen.String()).Op("*").Qual(jsonschemaPkg, "Schema").Values()}),
		jen.For(jen.List(jen.Id("_"), jen.Id("ref")).Op(":=").Range().Id("schemaRefs").Call()).Block(
			jen.List(jen.Id("s"), jen.Err()).Op(":=").Id("c").Dot("Compile").Call(jen.Id("BundleURL").Op("+").Id("ref")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("compiledSchemas").Values(jen.Dict{jen.Id("err"): jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("compile %s: %w"), jen.Id("ref"), jen.Err())}))),
			jen.Id("out").Dot("byRef").Index(jen.Id("ref")).Op("=").Id("s"),
		),
		jen.Return(jen.Id("out")),
	))
	f.Line()
	f.Comment("SchemaError says why a JSON value does not match its schema.")
	f.Type().Id("SchemaError").Struct(
		jen.Comment("Schema is the reference of the schema, \"#/$defs/<Name>\"."),
		jen.Id("Schema").String(),
		jen.Comment("Pointer locates the offending value inside the instance."),
		jen.Id("Pointer").String(),
		jen.Comment("Reason is the validator's explanation."),
		jen.Id("Reason").String(),
	)
	f.Comment("Error formats the problem as \"<pointer>: <reason>\".")
	f.Func().Params(jen.Id("e").Op("*").Id("SchemaError")).Id("Error").Params().String().Block(
		jen.Id("p").Op(":=").Id("e").Dot("Pointer"),
		jen.If(jen.Id("p").Op("==").Lit("")).Block(jen.Id("p").Op("=").Lit("/")),
		jen.Return(jen.Id("p").Op("+").Lit(": ").Op("+").Id("e").Dot("Reason")),
	)
	f.Line()
	f.Comment("fast holds the byte-level validators, compiled once from the embedded schema. They give")
	f.Comment("jsonschema/v5's verdict on every instance (runtime/schemacheck proves it against the")
	f.Comment("reference with synthesised, mutated and fuzzed instances) without decoding into any.")
	f.Var().Id("fast").Op("=").Qual(syncPkg, "OnceValues").Call(jen.Func().Params().Params(jen.Op("*").Qual(fastPkg, "Set"), jen.Error()).Block(
		jen.Return(jen.Qual(fastPkg, "Compile").Call(jen.Id("schemaJSON"))),
	))
	f.Line()
	f.Comment("Validate checks raw JSON against the schema ref (\"#/$defs/<Name>\"). A mismatch is a")
	f.Comment("*SchemaError. It is the fast path; ValidateReference gives the same verdict with")
	f.Comment("jsonschema/v5.")
	f.Func().Id("Validate").Params(jen.Id("ref").String(), jen.Id("raw").Index().Byte()).Error().Block(
		jen.List(jen.Id("set"), jen.Err()).Op(":=").Id("fast").Call(),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("protocol schema: %w"), jen.Err()))),
		jen.Err().Op("=").Id("set").Dot("Validate").Call(jen.Id("ref"), jen.Id("raw")),
		jen.Var().Id("fe").Op("*").Qual(fastPkg, "Error"),
		jen.If(jen.Qual(errorsPkg, "As").Call(jen.Err(), jen.Op("&").Id("fe"))).Block(
			jen.Return(jen.Op("&").Id("SchemaError").Values(jen.Dict{jen.Id("Schema"): jen.Id("ref"), jen.Id("Pointer"): jen.Id("fe").Dot("Pointer"), jen.Id("Reason"): jen.Id("fe").Dot("Reason")}))),
		jen.Return(jen.Err()),
	)
	f.Line()
	f.Comment("ValidateReference checks raw JSON against the schema ref with jsonschema/v5, the reference")
	f.Comment("implementation (slower). A mismatch is a *SchemaError.")
	f.Func().Id("ValidateReference").Params(jen.Id("ref").String(), jen.Id("raw").Index().Byte()).Error().Block(
		jen.Id("cs").Op(":=").Id("compiled").Call(),
		jen.If(jen.Id("cs").Dot("err").Op("!=").Nil()).Block(jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("protocol schema: %w"), jen.Id("cs").Dot("err")))),
		jen.List(jen.Id("s"), jen.Id("ok")).Op(":=").Id("cs").Dot("byRef").Index(jen.Id("ref")),
		jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("protocol schema: unknown schema %q"), jen.Id("ref")))),
		jen.List(jen.Id("doc"), jen.Err()).Op(":=").Id("decodeJSON").Call(jen.Id("raw")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Op("&").Id("SchemaError").Values(jen.Dict{jen.Id("Schema"): jen.Id("ref"), jen.Id("Reason"): jen.Lit("not valid JSON: ").Op("+").Err().Dot("Error").Call()}))),
		jen.If(jen.Err().Op(":=").Id("s").Dot("Validate").Call(jen.Id("doc")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Id("schemaError").Call(jen.Id("ref"), jen.Err()))),
		jen.Return(jen.Nil()),
	)
	f.Line()
	f.Comment("decodeJSON decodes one JSON value with numbers kept exact, as the validator expects.")
	f.Func().Id("decodeJSON").Params(jen.Id("raw").Index().Byte()).Params(jen.Any(), jen.Error()).Block(
		jen.Id("dec").Op(":=").Qual(jsonPkg, "NewDecoder").Call(jen.Qual(bytesPkg, "NewReader").Call(jen.Id("raw"))),
		jen.Id("dec").Dot("UseNumber").Call(),
		jen.Var().Id("v").Any(),
		jen.If(jen.Err().Op(":=").Id("dec").Dot("Decode").Call(jen.Op("&").Id("v")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.If(jen.Id("dec").Dot("More").Call()).Block(jen.Return(jen.Nil(), jen.Qual(errorsPkg, "New").Call(jen.Lit("trailing data after the JSON value")))),
		jen.Return(jen.Id("v"), jen.Nil()),
	)
	f.Line()
	f.Comment("schemaError reduces a jsonschema error to its first most specific cause.")
	f.Func().Id("schemaError").Params(jen.Id("ref").String(), jen.Err().Error()).Op("*").Id("SchemaError").Block(
		jen.Var().Id("ve").Op("*").Qual(jsonschemaPkg, "ValidationError"),
		jen.If(jen.Op("!").Qual(errorsPkg, "As").Call(jen.Err(), jen.Op("&").Id("ve"))).Block(
			jen.Return(jen.Op("&").Id("SchemaError").Values(jen.Dict{jen.Id("Schema"): jen.Id("ref"), jen.Id("Reason"): jen.Err().Dot("Error").Call()}))),
		jen.For(jen.Len(jen.Id("ve").Dot("Causes")).Op(">").Lit(0)).Block(jen.Id("ve").Op("=").Id("ve").Dot("Causes").Index(jen.Lit(0))),
		jen.Return(jen.Op("&").Id("SchemaError").Values(jen.Dict{jen.Id("Schema"): jen.Id("ref"), jen.Id("Pointer"): jen.Id("ve").Dot("InstanceLocation"), jen.Id("Reason"): jen.Id("ve").Dot("Message")})),
	)
	f.Line()
	f.Comment("invalidParams turns a decoding failure of request params into the -32602 wire error.")
	f.Func().Id("invalidParams").Params(jen.Err().Error()).Error().Block(
		jen.Return(jen.Id("InvalidParamsError").Values(jen.Dict{jen.Id("Message"): jen.Lit("Invalid params: ").Op("+").Err().Dot("Error").Call()})),
	)
	f.Line()
}

// paramsTypes are the request params types: their decoders fail with InvalidParamsError.
func (e *emitter) paramsTypes() map[*gen.Type]bool {
	out := map[*gen.Type]bool{}
	for _, m := range e.m.Methods {
		out[m.Params] = true
	}
	for _, m := range e.m.Callbacks {
		out[m.Params] = true
	}
	return out
}

func (e *emitter) decoders(f *jen.File) {
	params := e.paramsTypes()
	for _, t := range e.schemaTypes() {
		name := "Decode" + t.Name
		wrap := func(err jen.Code) jen.Code {
			if params[t] {
				return jen.Id("invalidParams").Call(err)
			}
			return jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("decode "+t.Name+": %w"), err)
		}
		f.Comment(name + " validates raw against the " + t.Name + " schema and decodes it.")
		f.Func().Id(name).Params(jen.Id("raw").Index().Byte()).Params(jen.Id(t.Name), jen.Error()).BlockFunc(func(g *jen.Group) {
			g.Var().Id("v").Id(t.Name)
			g.If(jen.Err().Op(":=").Id("Validate").Call(jen.Lit(t.Schema), jen.Id("raw")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("v"), wrap(jen.Err())))
			if t.Kind == gen.KindUnion {
				g.List(jen.Id("v"), jen.Err()).Op(":=").Id("Unmarshal" + t.Name).Call(jen.Id("raw"))
				g.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("v"), wrap(jen.Err())))
			} else {
				g.If(jen.Err().Op(":=").Qual(jsonPkg, "Unmarshal").Call(jen.Id("raw"), jen.Op("&").Id("v")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("v"), wrap(jen.Err())))
			}
			g.Return(jen.Id("v"), jen.Nil())
		})
	}
}

// lookups emits name -> schema reference functions for each kind of catalog entry.
func (e *emitter) lookups(f *jen.File) {
	lookup := func(fn, what string, pairs [][2]string) {
		f.Comment(fn + " returns the schema reference of the " + what + ", if the name is in the catalog.")
		f.Func().Id(fn).Params(jen.Id("name").String()).Params(jen.String(), jen.Bool()).Block(
			jen.Switch(jen.Id("name")).BlockFunc(func(g *jen.Group) {
				for _, p := range pairs {
					g.Case(jen.Lit(p[0])).Block(jen.Return(jen.Lit(p[1]), jen.True()))
				}
			}),
			jen.Return(jen.Lit(""), jen.False()),
		)
	}
	var ps, rs, ns, cps, crs [][2]string
	for _, m := range e.m.Methods {
		ps = append(ps, [2]string{m.Name, m.Params.Schema})
		rs = append(rs, [2]string{m.Name, m.Result.Schema})
	}
	for _, n := range e.m.Notifications {
		ns = append(ns, [2]string{n.Name, n.Params.Schema})
	}
	for _, m := range e.m.Callbacks {
		cps = append(cps, [2]string{m.Name, m.Params.Schema})
		crs = append(crs, [2]string{m.Name, m.Result.Schema})
	}
	lookup("ParamsSchema", "params of a method", ps)
	lookup("ResultSchema", "result of a method", rs)
	lookup("NotificationSchema", "params of a notification", ns)
	lookup("CallbackParamsSchema", "params of a TaskMaster callback", cps)
	lookup("CallbackResultSchema", "result of a TaskMaster callback", crs)
}

func (e *emitter) typeRegistry(f *jen.File) {
	f.Comment("TypeInfo describes one schema-backed protocol type.")
	f.Type().Id("TypeInfo").Struct(
		jen.Comment("Name is the Go type name."),
		jen.Id("Name").String(),
		jen.Comment("Schema is the schema reference, \"#/$defs/<Name>\"."),
		jen.Id("Schema").String(),
		jen.Comment("Decode validates and decodes a JSON value into the type."),
		jen.Id("Decode").Func().Params(jen.Index().Byte()).Params(jen.Any(), jen.Error()),
	)
	f.Comment("Types lists every schema-backed protocol type, sorted by name.")
	f.Func().Id("Types").Params().Index().Id("TypeInfo").Block(jen.Return(jen.Index().Id("TypeInfo").ValuesFunc(func(g *jen.Group) {
		for _, t := range e.schemaTypes() {
			g.Line().Values(jen.Dict{
				jen.Id("Name"):   jen.Lit(t.Name),
				jen.Id("Schema"): jen.Lit(t.Schema),
				jen.Id("Decode"): jen.Func().Params(jen.Id("b").Index().Byte()).Params(jen.Any(), jen.Error()).Block(
					jen.Return(jen.Id("Decode" + t.Name).Call(jen.Id("b")))),
			})
		}
		g.Line()
	})))
}
