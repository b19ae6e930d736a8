package golang

import (
	"bytes"
	"fmt"
	"path"

	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// Import paths used by the test-only package.
const (
	jsonschemaPkg = "github.com/santhosh-tekuri/jsonschema/v5"
	slicesPkg     = "slices"
)

// TestPackage is the name of the generated test-only package, a subdirectory of the output.
const TestPackage = "protocoltest"

// GeneratedRoot is the import path the generated packages live under (generated/<pkg>).
const GeneratedRoot = "github.com/moltzap/moltzap-go/generated/"

// protocolTest renders the test-only package protocoltest of the generated package at
// importPath: its files, keyed "protocoltest/<name>.go".
func (e *emitter) protocolTest(importPath string) (map[string][]byte, error) {
	f := jen.NewFilePathName(path.Join(importPath, TestPackage), TestPackage)
	f.HeaderComment(Header)
	f.PackageComment("Package " + TestPackage + " holds what only tests need of package " + e.pkg + ": every")
	f.PackageComment("schema-backed type with its decoder and encoder (for round trips), the schema of each")
	f.PackageComment("catalog entry, and ValidateReference, the jsonschema/v5 reference the generated decoders")
	f.PackageComment("are proven against. It links jsonschema/v5, so only tests import it.")
	f.ImportName(importPath, e.pkg)
	f.ImportAlias(jsonschemaPkg, "jsonschema")
	e.typeTable(f, importPath)
	e.schemaLookups(f)
	referenceValidator(f, importPath)
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, fmt.Errorf("render %s/%s.go: %w", TestPackage, TestPackage, err)
	}
	return map[string][]byte{TestPackage + "/" + TestPackage + ".go": buf.Bytes()}, nil
}

// schemaTypes lists the schema-backed named types, in the model's (name) order.
func (e *emitter) schemaTypes() []*gen.Type {
	var out []*gen.Type
	for _, t := range e.m.Types {
		if t.Schema != "" {
			out = append(out, t)
		}
	}
	return out
}

// typeTable emits TypeInfo, the table of every schema-backed type and its helpers.
func (e *emitter) typeTable(f *jen.File, importPath string) {
	f.Comment("TypeInfo describes one schema-backed protocol type.")
	f.Type().Id("TypeInfo").Struct(
		jen.Comment("Name is the Go type name."),
		jen.Id("Name").String(),
		jen.Comment("Schema is the schema reference, \"#/$defs/<Name>\"."),
		jen.Id("Schema").String(),
		jen.Comment("Decode decodes a JSON value into the type with its generated decoder."),
		jen.Id("Decode").Func().Params(jen.Index().Byte()).Params(jen.Any(), jen.Error()),
		jen.Comment("Encode encodes a value of the type: AppendJSON, or encoding/json for the named"),
		jen.Comment("strings, arrays and maps."),
		jen.Id("Encode").Func().Params(jen.Any()).Params(jen.Index().Byte(), jen.Error()),
	)
	f.Comment("types lists every schema-backed protocol type, sorted by name.")
	f.Var().Id("types").Op("=").Index().Id("TypeInfo").ValuesFunc(func(g *jen.Group) {
		for _, t := range e.schemaTypes() {
			var dec *jen.Statement
			switch t.Kind {
			case gen.KindStruct:
				dec = jen.Qual(importPath, "Decode").Types(jen.Qual(importPath, t.Name))
			case gen.KindUnion, gen.KindArray, gen.KindMap:
				dec = jen.Qual(importPath, decoderName(t))
			default:
				continue // named scalars are decoded, and checked, inside the objects that hold them
			}
			g.Line().Id("info").Call(jen.Lit(t.Name), jen.Lit(t.Schema), dec)
		}
		g.Line()
	})
	f.Comment("Types lists every schema-backed protocol type, sorted by name.")
	f.Func().Id("Types").Params().Index().Id("TypeInfo").Add(inline(jen.Return(jen.Qual(slicesPkg, "Clone").Call(jen.Id("types")))))
	f.Comment("info is the TypeInfo of the type decode decodes.")
	f.Func().Id("info").Types(jen.Id("T").Any()).Params(jen.List(jen.Id("name"), jen.Id("schema")).String(),
		jen.Id("decode").Func().Params(jen.Index().Byte()).Params(jen.Id("T"), jen.Error())).Id("TypeInfo").Block(
		jen.Id("dec").Op(":=").Func().Params(jen.Id("b").Index().Byte()).Params(jen.Any(), jen.Error()).
			Add(inline(jen.Return(jen.Id("decode").Call(jen.Id("b"))))),
		jen.Return(jen.Id("TypeInfo").Values(jen.Dict{
			jen.Id("Name"): jen.Id("name"), jen.Id("Schema"): jen.Id("schema"),
			jen.Id("Decode"): jen.Id("dec"), jen.Id("Encode"): jen.Id("encode").Types(jen.Id("T")),
		})),
	)
	f.Comment("encode encodes v, which must hold a T.")
	f.Func().Id("encode").Types(jen.Id("T").Any()).Params(jen.Id("v").Any()).Params(jen.Index().Byte(), jen.Error()).Block(
		jen.List(jen.Id("x"), jen.Id("ok")).Op(":=").Id("v").Assert(jen.Id("T")),
		jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Nil(), jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("encode: %T is not a %T"), jen.Id("v"), jen.Id("x")))),
		jen.If(jen.List(jen.Id("a"), jen.Id("ok")).Op(":=").Any().Call(jen.Id("x")).Assert(jen.Interface(
			jen.Id("AppendJSON").Params(jen.Index().Byte()).Index().Byte())), jen.Id("ok")).Block(
			jen.Return(jen.Id("a").Dot("AppendJSON").Call(jen.Nil()), jen.Nil())),
		jen.Return(jen.Qual(jsonPkg, "Marshal").Call(jen.Id("x"))),
	)
}

// schemaLookups emits name -> schema reference lookups for each kind of catalog entry.
func (e *emitter) schemaLookups(f *jen.File) {
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
	lookup(f, "ParamsSchema", "params of a method", ps)
	lookup(f, "ResultSchema", "result of a method", rs)
	lookup(f, "NotificationSchema", "params of a notification", ns)
	lookup(f, "CallbackParamsSchema", "params of a TaskMaster callback", cps)
	lookup(f, "CallbackResultSchema", "result of a TaskMaster callback", crs)
}

// lookup emits a map from wire name to schema reference and the function reading it.
func lookup(f *jen.File, fn, what string, pairs [][2]string) {
	table := gen.LowerFirst(fn) + "s"
	f.Var().Id(table).Op("=").Map(jen.String()).String().Values(jen.DictFunc(func(d jen.Dict) {
		for _, p := range pairs {
			d[jen.Lit(p[0])] = jen.Lit(p[1])
		}
	}))
	f.Add(comment(fn+" returns the schema reference of the "+what+", if the name is in the catalog.", 0))
	f.Func().Id(fn).Params(jen.Id("name").String()).Params(jen.String(), jen.Bool()).Block(
		jen.List(jen.Id("ref"), jen.Id("ok")).Op(":=").Id(table).Index(jen.Id("name")),
		jen.Return(jen.Id("ref"), jen.Id("ok")),
	)
}

// referenceValidator emits ValidateReference over jsonschema/v5, compiled once from the
// embedded bundle, and SchemaError.
func referenceValidator(f *jen.File, importPath string) {
	f.Comment("BundleURL is the name the bundled schema is compiled under; schema references are")
	f.Comment("BundleURL + \"#/$defs/<Name>\".")
	f.Const().Id("BundleURL").Op("=").Lit(gen.BundleURL)
	schemaErrorType(f)
	sch := jen.Op("*").Qual(jsonschemaPkg, "Schema")
	f.Comment("compiled holds the reference validators of every type, compiled once.")
	f.Var().Id("compiled").Op("=").Qual(syncPkg, "OnceValues").Call(jen.Func().Params().Params(jen.Map(jen.String()).Add(sch), jen.Error()).Block(
		jen.Id("c").Op(":=").Qual(jsonschemaPkg, "NewCompiler").Call(),
		jen.Id("c").Dot("Draft").Op("=").Qual(jsonschemaPkg, "Draft2020"),
		jen.Id("c").Dot("AssertFormat").Op("=").True(),
		jen.If(jen.Err().Op(":=").Id("c").Dot("AddResource").Call(jen.Id("BundleURL"),
			jen.Qual(bytesPkg, "NewReader").Call(jen.Qual(importPath, "SchemaJSON").Call())), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err())),
		jen.Id("out").Op(":=").Make(jen.Map(jen.String()).Add(sch), jen.Len(jen.Id("types"))),
		jen.For(jen.List(jen.Id("_"), jen.Id("t")).Op(":=").Range().Id("types")).Block(
			jen.List(jen.Id("s"), jen.Err()).Op(":=").Id("c").Dot("Compile").Call(jen.Id("BundleURL").Op("+").Id("t").Dot("Schema")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("compile %s: %w"), jen.Id("t").Dot("Schema"), jen.Err()))),
			jen.Id("out").Index(jen.Id("t").Dot("Schema")).Op("=").Id("s"),
		),
		jen.Return(jen.Id("out"), jen.Nil()),
	))
	f.Comment("ValidateReference checks raw JSON against the schema ref (\"#/$defs/<Name>\") with")
	f.Comment("jsonschema/v5, the reference implementation. raw must be exactly one JSON value (white")
	f.Comment("space aside); a mismatch is a *SchemaError.")
	f.Func().Id("ValidateReference").Params(jen.Id("ref").String(), jen.Id("raw").Index().Byte()).Error().Block(
		jen.List(jen.Id("byRef"), jen.Err()).Op(":=").Id("compiled").Call(),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("protocol schema: %w"), jen.Err()))),
		jen.List(jen.Id("s"), jen.Id("ok")).Op(":=").Id("byRef").Index(jen.Id("ref")),
		jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("protocol schema: unknown schema %q"), jen.Id("ref")))),
		jen.List(jen.Id("doc"), jen.Err()).Op(":=").Id("decodeJSON").Call(jen.Id("raw")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Op("&").Id("SchemaError").Values(jen.Dict{
			jen.Id("Schema"): jen.Id("ref"), jen.Id("Reason"): jen.Lit("not valid JSON: ").Op("+").Err().Dot("Error").Call()}))),
		jen.If(jen.Err().Op(":=").Id("s").Dot("Validate").Call(jen.Id("doc")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Id("schemaError").Call(jen.Id("ref"), jen.Err()))),
		jen.Return(jen.Nil()),
	)
	referenceHelpers(f)
}

// schemaErrorType emits SchemaError.
func schemaErrorType(f *jen.File) {
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
}

// referenceHelpers emits decodeJSON and schemaError.
func referenceHelpers(f *jen.File) {
	f.Comment("decodeJSON decodes one JSON value with numbers kept exact, as the validator expects;")
	f.Comment("anything but white space after the value (a trailing ] or } too) is an error.")
	f.Func().Id("decodeJSON").Params(jen.Id("raw").Index().Byte()).Params(jen.Any(), jen.Error()).Block(
		jen.Id("dec").Op(":=").Qual(jsonPkg, "NewDecoder").Call(jen.Qual(bytesPkg, "NewReader").Call(jen.Id("raw"))),
		jen.Id("dec").Dot("UseNumber").Call(),
		jen.Var().Id("v").Any(),
		jen.If(jen.Err().Op(":=").Id("dec").Dot("Decode").Call(jen.Op("&").Id("v")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.If(jen.List(jen.Id("_"), jen.Err()).Op(":=").Id("dec").Dot("Token").Call(), jen.Err().Op("!=").Qual("io", "EOF")).Block(
			jen.Return(jen.Nil(), jen.Qual(errorsPkg, "New").Call(jen.Lit("trailing data after the JSON value")))),
		jen.Return(jen.Id("v"), jen.Nil()),
	)
	f.Comment("schemaError reduces a jsonschema error to its first most specific cause.")
	f.Func().Id("schemaError").Params(jen.Id("ref").String(), jen.Err().Error()).Op("*").Id("SchemaError").Block(
		jen.Var().Id("ve").Op("*").Qual(jsonschemaPkg, "ValidationError"),
		jen.If(jen.Op("!").Qual(errorsPkg, "As").Call(jen.Err(), jen.Op("&").Id("ve"))).Block(
			jen.Return(jen.Op("&").Id("SchemaError").Values(jen.Dict{jen.Id("Schema"): jen.Id("ref"), jen.Id("Reason"): jen.Err().Dot("Error").Call()}))),
		jen.For(jen.Len(jen.Id("ve").Dot("Causes")).Op(">").Lit(0)).Block(jen.Id("ve").Op("=").Id("ve").Dot("Causes").Index(jen.Lit(0))),
		jen.Return(jen.Op("&").Id("SchemaError").Values(jen.Dict{jen.Id("Schema"): jen.Id("ref"),
			jen.Id("Pointer"): jen.Id("ve").Dot("InstanceLocation"), jen.Id("Reason"): jen.Id("ve").Dot("Message")})),
	)
}
