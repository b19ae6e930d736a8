package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// client emits the Invoker, the typed client stubs for methods and callbacks, and the
// notification helpers.
func (e *emitter) client(f *jen.File) {
	f.Comment("Invoker sends one request and returns the raw result; the stubs pass the encoded params")
	f.Comment("as a json.RawMessage. Implementations turn a wire error response into its registry type")
	f.Comment("with ErrorFromWire.")
	f.Type().Id("Invoker").Op("=").Qual(endpointPkg, "Invoker")
	e.stubs(f, "Client", "NewClient", "Client calls the server's methods with typed params and results.",
		e.m.Methods, "Method", "ServerHandlers")
	e.stubs(f, "TaskMasterClient", "NewTaskMasterClient",
		"TaskMasterClient calls a TaskMaster's callbacks (the server side of the reverse channel).",
		e.m.Callbacks, "Callback", "TaskMasterHandlers")
	e.notifications(f)
}

// stubs emits a client type and one stub per method, each a single call of endpoint.Call.
func (e *emitter) stubs(f *jen.File, typ, ctor, doc string, ms []*gen.Method, prefix, handlers string) {
	f.Comment(doc)
	f.Type().Id(typ).Struct(jen.Id("inv").Id("Invoker"))
	f.Comment(ctor + " returns stubs that send through inv.")
	f.Func().Id(ctor).Params(jen.Id("inv").Id("Invoker")).Op("*").Id(typ).
		Add(inline(jen.Return(jen.Op("&").Id(typ).Values(jen.Id("inv").Op(":").Id("inv")))))
	for _, m := range ms {
		f.Comment(m.GoName + " calls \"" + m.Name + "\" (see " + handlers + "." + m.GoName + ").")
		f.Func().Params(jen.Id("c").Op("*").Id(typ)).Id(m.GoName).Params(ctxParam(), jen.Id("p").Add(typeExpr(m.Params))).
			Params(resultType(m), jen.Error()).Block(
			jen.Return(jen.Qual(endpointPkg, "Call").Call(jen.Id("ctx"), jen.Id("c").Dot("inv"), jen.Id(prefix+m.GoName),
				jen.Id("p"), e.decoder(m.Result))))
	}
}

// notifications emits the Notification interface, Method per notification type and
// DecodeNotification.
func (e *emitter) notifications(f *jen.File) {
	f.Comment("Notification is implemented by every notification params type: Method returns its wire")
	f.Comment("name, AppendJSON its encoding.")
	f.Type().Id("Notification").Interface(
		jen.Id("Method").Params().String(),
		jen.Id("AppendJSON").Params(jen.Id("b").Index().Byte()).Index().Byte(),
	)
	f.Comment("Method returns the wire name of the notification.")
	var group jen.Statement
	for i, n := range e.m.Notifications {
		if i > 0 {
			group.Line()
		}
		group.Func().Params(jen.Id(n.Params.Name)).Id("Method").Params().String().
			Add(inline(jen.Return(jen.Id("Notification" + n.GoName))))
	}
	f.Add(&group)
	f.Comment("DecodeNotification decodes the params of a notification (empty params count as {}) into")
	f.Comment("its typed value, checking every constraint.")
	f.Func().Id("DecodeNotification").Params(jen.Id("method").String(), jen.Id("raw").Index().Byte()).
		Params(jen.Id("Notification"), jen.Error()).Block(
		jen.If(jen.Len(jen.Id("raw")).Op("==").Lit(0)).Block(jen.Id("raw").Op("=").Index().Byte().Call(jen.Lit("{}"))),
		jen.Switch(jen.Id("method")).BlockFunc(func(g *jen.Group) {
			for _, n := range e.m.Notifications {
				g.Case(jen.Id("Notification" + n.GoName)).Block(jen.Return(e.decoder(n.Params).Call(jen.Id("raw"))))
			}
		}),
		jen.Return(jen.Nil(), jen.Qual(fmtPkg, "Errorf").Call(jen.Lit("unknown notification %q"), jen.Id("method"))),
	)
}
