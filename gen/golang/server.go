package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func ctxParam() *jen.Statement { return jen.Id("ctx").Qual(contextPkg, "Context") }

// methodDoc is the comment on a handler or stub method.
func methodDoc(goName string, m *gen.Method) string {
	d := goName + " handles \"" + m.Name + "\""
	if m.Description != "" {
		d += ": " + m.Description
	}
	return d
}

// server emits Caller, ServerHandlers, UnimplementedServerHandlers and ServerDispatcher.
func (e *emitter) server(f *jen.File) {
	f.Comment("Caller is what the dispatcher needs to know about the connection making a request.")
	f.Type().Id("Caller").Interface(
		jen.Comment("Authenticated reports whether network/connect succeeded on this connection."),
		jen.Id("Authenticated").Params().Bool(),
		jen.Comment("Active reports whether the agent's status is active."),
		jen.Id("Active").Params().Bool(),
		jen.Comment("HasOwner reports whether the agent has an owner user."),
		jen.Id("HasOwner").Params().Bool(),
	)
	f.Line()
	f.Comment("ServerHandlers has one method per client -> server method of the catalog. A handler set")
	f.Comment("that misses one does not compile; embed UnimplementedServerHandlers to opt out of that.")
	f.Comment("C is the server's own connection type.")
	f.Type().Id("ServerHandlers").Types(jen.Id("C").Id("Caller")).InterfaceFunc(func(g *jen.Group) {
		for _, m := range e.m.Methods {
			g.Comment(methodDoc(m.GoName, m))
			g.Id(m.GoName).Params(ctxParam(), jen.Id("caller").Id("C"), jen.Id("p").Add(typeExpr(m.Params))).Params(resultType(m), jen.Error())
		}
	})
	f.Line()
	f.Comment("UnimplementedServerHandlers answers every method with MethodNotFoundError.")
	f.Type().Id("UnimplementedServerHandlers").Types(jen.Id("C").Id("Caller")).Struct()
	for _, m := range e.m.Methods {
		f.Comment(m.GoName + " reports that \"" + m.Name + "\" is not implemented.")
		f.Func().Params(jen.Id("UnimplementedServerHandlers").Types(jen.Id("C"))).Id(m.GoName).
			Params(jen.Qual(contextPkg, "Context"), jen.Id("C"), typeExpr(m.Params)).Params(resultType(m), jen.Error()).
			Block(jen.Return(zeroValue(m.Result), jen.Id("MethodNotFoundError").Values(jen.Dict{jen.Id("Message"): jen.Lit("Method not implemented: " + m.Name)})))
	}
	f.Line()
	e.serverDispatcher(f)
}

func resultType(m *gen.Method) *jen.Statement {
	return jen.Id(m.GoName + "Result")
}

func (e *emitter) serverDispatcher(f *jen.File) {
	f.Comment("ServerDispatcher routes a request to its ServerHandlers method: caller check, params")
	f.Comment("validation and decoding, invocation, result encoding and validation.")
	f.Type().Id("ServerDispatcher").Types(jen.Id("C").Id("Caller")).Struct(jen.Id("h").Id("ServerHandlers").Types(jen.Id("C")))
	f.Comment("NewServerDispatcher returns a dispatcher over h.")
	f.Func().Id("NewServerDispatcher").Types(jen.Id("C").Id("Caller")).Params(jen.Id("h").Id("ServerHandlers").Types(jen.Id("C"))).
		Op("*").Id("ServerDispatcher").Types(jen.Id("C")).Block(jen.Return(jen.Op("&").Id("ServerDispatcher").Types(jen.Id("C")).Values(jen.Dict{jen.Id("h"): jen.Id("h")})))
	f.Line()
	f.Comment("Dispatch runs one request. Errors are registry errors (MethodNotFoundError, UnauthorizedError,")
	f.Comment("ForbiddenError, InvalidParamsError, ...) or whatever the handler returned.")
	f.Func().Params(jen.Id("d").Op("*").Id("ServerDispatcher").Types(jen.Id("C"))).Id("Dispatch").
		Params(ctxParam(), jen.Id("caller").Id("C"), jen.Id("method").String(), jen.Id("params").Qual(jsonPkg, "RawMessage")).
		Params(jen.Qual(jsonPkg, "RawMessage"), jen.Error()).BlockFunc(func(g *jen.Group) {
		g.If(jen.Len(jen.Id("params")).Op("==").Lit(0)).Block(jen.Id("params").Op("=").Qual(jsonPkg, "RawMessage").Call(jen.Lit("{}")))
		g.Switch(jen.Id("method")).BlockFunc(func(s *jen.Group) {
			for _, m := range e.m.Methods {
				s.Case(jen.Id("Method"+m.GoName)).Block(
					jen.If(jen.Err().Op(":=").Id("checkCaller").Call(jen.Id("caller"), jen.Lit(has(m.Callers, "unauthenticated")), jen.Lit(has(m.Requires, "active")), jen.Lit(has(m.Requires, "owner"))), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
					jen.List(jen.Id("p"), jen.Err()).Op(":=").Id("Decode"+m.Params.Name).Call(jen.Id("params")),
					jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
					jen.List(jen.Id("r"), jen.Err()).Op(":=").Id("d").Dot("h").Dot(m.GoName).Call(jen.Id("ctx"), jen.Id("caller"), jen.Id("p")),
					jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
					jen.Return(jen.Id("encodeChecked").Call(jen.Lit(m.Name), jen.Lit(m.Result.Schema), jen.Id("r"))),
				)
			}
		})
		g.Return(jen.Nil(), jen.Id("MethodNotFoundError").Values(jen.Dict{jen.Id("Message"): jen.Lit("Unknown method: ").Op("+").Id("method")}))
	})
	f.Line()
	f.Comment("checkCaller applies the catalog's caller rules before params are looked at.")
	f.Func().Id("checkCaller").Params(jen.Id("c").Id("Caller"), jen.List(jen.Id("unauthenticated"), jen.Id("active"), jen.Id("owner")).Bool()).Error().Block(
		jen.Switch().Block(
			jen.Case(jen.Op("!").Id("c").Dot("Authenticated").Call().Op("&&").Op("!").Id("unauthenticated")).Block(jen.Return(jen.Id("UnauthorizedError").Values())),
			jen.Case(jen.Id("active").Op("&&").Op("!").Id("c").Dot("Active").Call()).Block(jen.Return(jen.Id("ForbiddenError").Values(jen.Dict{jen.Id("Message"): jen.Lit("Agent must be claimed before performing this action")}))),
			jen.Case(jen.Id("owner").Op("&&").Op("!").Id("c").Dot("HasOwner").Call()).Block(jen.Return(jen.Id("UnauthorizedError").Values(jen.Dict{jen.Id("Message"): jen.Lit("Contacts require a claimed agent owner")}))),
		),
		jen.Return(jen.Nil()),
	)
	f.Line()
	f.Comment("InvalidResultError is a handler result that failed its schema: a server bug, answered")
	f.Comment("as -32603 on the wire and logged with its cause.")
	f.Type().Id("InvalidResultError").Struct(jen.Id("Method").String(), jen.Id("Err").Error())
	f.Comment("Error names the method and the cause.")
	f.Func().Params(jen.Id("e").Op("*").Id("InvalidResultError")).Id("Error").Params().String().Block(
		jen.Return(jen.Lit("invalid result for ").Op("+").Id("e").Dot("Method").Op("+").Lit(": ").Op("+").Id("e").Dot("Err").Dot("Error").Call()))
	f.Comment("Unwrap returns the cause.")
	f.Func().Params(jen.Id("e").Op("*").Id("InvalidResultError")).Id("Unwrap").Params().Error().Block(jen.Return(jen.Id("e").Dot("Err")))
	f.Comment("WireError is the generic -32603 error object.")
	f.Func().Params(jen.Id("e").Op("*").Id("InvalidResultError")).Id("WireError").Params().Qual(wirePkg, "Error").Block(
		jen.Return(jen.Id("InternalError").Values().Dot("WireError").Call()))
	f.Line()
	f.Comment("encodeChecked marshals a result and validates it against its schema.")
	f.Func().Id("encodeChecked").Params(jen.List(jen.Id("method"), jen.Id("ref")).String(), jen.Id("v").Any()).Params(jen.Qual(jsonPkg, "RawMessage"), jen.Error()).Block(
		jen.List(jen.Id("b"), jen.Err()).Op(":=").Qual(jsonPkg, "Marshal").Call(jen.Id("v")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Op("&").Id("InvalidResultError").Values(jen.Dict{jen.Id("Method"): jen.Id("method"), jen.Id("Err"): jen.Err()}))),
		jen.If(jen.Err().Op(":=").Id("Validate").Call(jen.Id("ref"), jen.Id("b")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Op("&").Id("InvalidResultError").Values(jen.Dict{jen.Id("Method"): jen.Id("method"), jen.Id("Err"): jen.Err()}))),
		jen.Return(jen.Id("b"), jen.Nil()),
	)
}

// taskmaster emits TaskMasterHandlers and its dispatcher.
func (e *emitter) taskmaster(f *jen.File) {
	f.Comment("TaskMasterHandlers has one method per server -> TaskMaster callback of the catalog.")
	f.Type().Id("TaskMasterHandlers").InterfaceFunc(func(g *jen.Group) {
		for _, m := range e.m.Callbacks {
			g.Comment(methodDoc(m.GoName, m))
			g.Id(m.GoName).Params(ctxParam(), jen.Id("p").Add(typeExpr(m.Params))).Params(resultType(m), jen.Error())
		}
	})
	f.Line()
	f.Comment("TaskMasterDispatcher routes a server callback to its TaskMasterHandlers method.")
	f.Type().Id("TaskMasterDispatcher").Struct(jen.Id("h").Id("TaskMasterHandlers"))
	f.Comment("NewTaskMasterDispatcher returns a dispatcher over h.")
	f.Func().Id("NewTaskMasterDispatcher").Params(jen.Id("h").Id("TaskMasterHandlers")).Op("*").Id("TaskMasterDispatcher").Block(
		jen.Return(jen.Op("&").Id("TaskMasterDispatcher").Values(jen.Dict{jen.Id("h"): jen.Id("h")})))
	f.Comment("Dispatch runs one callback; a name outside the catalog is a MethodNotFoundError.")
	f.Func().Params(jen.Id("d").Op("*").Id("TaskMasterDispatcher")).Id("Dispatch").
		Params(ctxParam(), jen.Id("method").String(), jen.Id("params").Qual(jsonPkg, "RawMessage")).
		Params(jen.Qual(jsonPkg, "RawMessage"), jen.Error()).BlockFunc(func(g *jen.Group) {
		g.If(jen.Len(jen.Id("params")).Op("==").Lit(0)).Block(jen.Id("params").Op("=").Qual(jsonPkg, "RawMessage").Call(jen.Lit("{}")))
		g.Switch(jen.Id("method")).BlockFunc(func(s *jen.Group) {
			for _, m := range e.m.Callbacks {
				s.Case(jen.Id("Callback"+m.GoName)).Block(
					jen.List(jen.Id("p"), jen.Err()).Op(":=").Id("Decode"+m.Params.Name).Call(jen.Id("params")),
					jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
					jen.List(jen.Id("r"), jen.Err()).Op(":=").Id("d").Dot("h").Dot(m.GoName).Call(jen.Id("ctx"), jen.Id("p")),
					jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
					jen.Return(jen.Id("encodeChecked").Call(jen.Lit(m.Name), jen.Lit(m.Result.Schema), jen.Id("r"))),
				)
			}
		})
		g.Return(jen.Nil(), jen.Id("MethodNotFoundError").Values(jen.Dict{jen.Id("Message"): jen.Lit("Unknown method: ").Op("+").Id("method")}))
	})
}

// aliasResults emits "type XResult = Shared" for methods whose result is a shared type.
func aliasResults(f *jen.File, ms []*gen.Method) {
	for _, m := range ms {
		if m.ResultAlias {
			f.Comment(m.GoName + "Result is the result of \"" + m.Name + "\".")
			f.Type().Id(m.GoName + "Result").Op("=").Id(m.Result.Name)
		}
	}
}
