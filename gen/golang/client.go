package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// client emits the Invoker, the typed client stubs for methods and callbacks, and the
// notification decoding helpers.
func (e *emitter) client(f *jen.File) {
	f.Comment("Invoker sends one request and returns the raw result. Implementations turn a wire")
	f.Comment("error response into its registry type with ErrorFromWire.")
	f.Type().Id("Invoker").Interface(
		jen.Id("Invoke").Params(ctxParam(), jen.Id("method").String(), jen.Id("params").Any()).Params(jen.Qual(jsonPkg, "RawMessage"), jen.Error()),
	)
	f.Line()
	e.stubs(f, "Client", "NewClient", "Client calls the server's methods with typed params and results.", e.m.Methods, "Method")
	e.stubs(f, "TaskMasterClient", "NewTaskMasterClient", "TaskMasterClient calls a TaskMaster's callbacks (the server side of the reverse channel).", e.m.Callbacks, "Callback")
	e.notifications(f)
}

func (e *emitter) stubs(f *jen.File, typ, ctor, comment string, ms []*gen.Method, prefix string) {
	f.Comment(comment)
	f.Type().Id(typ).Struct(jen.Id("inv").Id("Invoker"))
	f.Comment(ctor + " returns stubs that send through inv.")
	f.Func().Id(ctor).Params(jen.Id("inv").Id("Invoker")).Op("*").Id(typ).Block(jen.Return(jen.Op("&").Id(typ).Values(jen.Dict{jen.Id("inv"): jen.Id("inv")})))
	for _, m := range ms {
		f.Comment(m.GoName + " calls \"" + m.Name + "\" and decodes its validated result.")
		f.Func().Params(jen.Id("c").Op("*").Id(typ)).Id(m.GoName).Params(ctxParam(), jen.Id("p").Add(typeExpr(m.Params))).Params(resultType(m), jen.Error()).Block(
			jen.List(jen.Id("raw"), jen.Err()).Op(":=").Id("c").Dot("inv").Dot("Invoke").Call(jen.Id("ctx"), jen.Id(prefix+m.GoName), jen.Id("p")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(zeroValue(m.Result), jen.Err())),
			jen.Return(jen.Id("Decode"+m.Result.Name).Call(jen.Id("raw"))),
		)
	}
	f.Line()
}

func (e *emitter) notifications(f *jen.File) {
	f.Comment("Notification is implemented by every notification params type; Method returns its wire name.")
	f.Type().Id("Notification").Interface(jen.Id("Method").Params().String())
	for _, n := range e.m.Notifications {
		f.Comment("Method returns \"" + n.Name + "\".")
		f.Func().Params(jen.Id(n.Params.Name)).Id("Method").Params().String().Block(jen.Return(jen.Id("Notification" + n.GoName)))
	}
	f.Line()
	f.Comment("DecodeNotification validates and decodes the params of a notification into its typed value.")
	f.Func().Id("DecodeNotification").Params(jen.Id("method").String(), jen.Id("raw").Index().Byte()).Params(jen.Id("Notification"), jen.Error()).Block(
		jen.If(jen.Len(jen.Id("raw")).Op("==").Lit(0)).Block(jen.Id("raw").Op("=").Index().Byte().Call(jen.Lit("{}"))),
		jen.Switch(jen.Id("method")).BlockFunc(func(g *jen.Group) {
			for _, n := range e.m.Notifications {
				g.Case(jen.Id("Notification" + n.GoName)).Block(
					jen.Return(jen.Id("Decode" + n.Params.Name).Call(jen.Id("raw"))),
				)
			}
		}),
		jen.Return(jen.Nil(), jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("unknown notification %q"), jen.Id("method"))),
	)
}
