package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// catalog emits the version, the name constants, result aliases and the Catalog value.
func (e *emitter) catalog(f *jen.File) {
	f.Comment("ProtocolVersion is the one protocol version this package speaks.")
	f.Const().Id("ProtocolVersion").Op("=").Lit(e.m.Version)
	f.Line()
	f.Comment("Wire names of the client -> server methods.")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, m := range e.m.Methods {
			g.Id("Method" + m.GoName).Op("=").Lit(m.Name)
		}
	})
	f.Comment("Wire names of the server -> client notifications.")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, n := range e.m.Notifications {
			g.Id("Notification" + n.GoName).Op("=").Lit(n.Name)
		}
	})
	f.Comment("Wire names of the server -> TaskMaster callbacks.")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, m := range e.m.Callbacks {
			g.Id("Callback" + m.GoName).Op("=").Lit(m.Name)
		}
	})
	f.Line()
	aliasResults(f, e.m.Methods)
	aliasResults(f, e.m.Callbacks)
	f.Line()
	e.catalogTypes(f)
	f.Comment("Catalog returns a description of the whole protocol: every method with its callers,")
	f.Comment("notification, callback and error.")
	f.Func().Id("Catalog").Params().Id("CatalogInfo").Block(jen.Return(jen.Id("CatalogInfo").Values(jen.Dict{
		jen.Id("Version"):       jen.Id("ProtocolVersion"),
		jen.Id("Methods"):       methodInfos(e.m.Methods),
		jen.Id("Callbacks"):     methodInfos(e.m.Callbacks),
		jen.Id("Notifications"): e.notificationInfos(),
		jen.Id("Errors"):        e.errorInfos(),
	})))
}

func (e *emitter) catalogTypes(f *jen.File) {
	f.Comment("MethodInfo describes a method or callback.")
	f.Type().Id("MethodInfo").Struct(
		jen.Id("Name").String().Tag(map[string]string{"json": "name"}),
		jen.Id("Area").String().Tag(map[string]string{"json": "area"}),
		jen.Id("Description").String().Tag(map[string]string{"json": "description"}),
		jen.Id("Callers").Index().String().Tag(map[string]string{"json": "callers,omitempty"}),
		jen.Id("Requires").Index().String().Tag(map[string]string{"json": "requires,omitempty"}),
		jen.Id("Errors").Index().String().Tag(map[string]string{"json": "errors,omitempty"}),
		jen.Id("ParamsSchema").String().Tag(map[string]string{"json": "paramsSchema"}),
		jen.Id("ResultSchema").String().Tag(map[string]string{"json": "resultSchema"}),
	)
	f.Comment("NotificationInfo describes a notification.")
	f.Type().Id("NotificationInfo").Struct(
		jen.Id("Name").String().Tag(map[string]string{"json": "name"}),
		jen.Id("Area").String().Tag(map[string]string{"json": "area"}),
		jen.Id("Description").String().Tag(map[string]string{"json": "description"}),
		jen.Id("Recipients").String().Tag(map[string]string{"json": "recipients,omitempty"}),
		jen.Id("ParamsSchema").String().Tag(map[string]string{"json": "paramsSchema"}),
	)
	f.Comment("ErrorInfo describes a registry error.")
	f.Type().Id("ErrorInfo").Struct(
		jen.Id("Name").String().Tag(map[string]string{"json": "name"}),
		jen.Id("Code").Int64().Tag(map[string]string{"json": "code"}),
		jen.Id("Message").String().Tag(map[string]string{"json": "message"}),
		jen.Id("Description").String().Tag(map[string]string{"json": "description"}),
	)
	f.Comment("CatalogInfo is the whole protocol catalog.")
	f.Type().Id("CatalogInfo").Struct(
		jen.Id("Version").String().Tag(map[string]string{"json": "version"}),
		jen.Id("Methods").Index().Id("MethodInfo").Tag(map[string]string{"json": "methods"}),
		jen.Id("Notifications").Index().Id("NotificationInfo").Tag(map[string]string{"json": "notifications"}),
		jen.Id("Callbacks").Index().Id("MethodInfo").Tag(map[string]string{"json": "callbacks"}),
		jen.Id("Errors").Index().Id("ErrorInfo").Tag(map[string]string{"json": "errors"}),
	)
	f.Line()
}

func strs(list []string) jen.Code {
	if len(list) == 0 {
		return jen.Nil()
	}
	vals := make([]jen.Code, len(list))
	for i, s := range list {
		vals[i] = jen.Lit(s)
	}
	return jen.Index().String().Values(vals...)
}

func methodInfos(ms []*gen.Method) jen.Code {
	return jen.Index().Id("MethodInfo").ValuesFunc(func(g *jen.Group) {
		for _, m := range ms {
			g.Line().Values(jen.Dict{
				jen.Id("Name"): jen.Lit(m.Name), jen.Id("Area"): jen.Lit(m.Area), jen.Id("Description"): jen.Lit(m.Description),
				jen.Id("Callers"): strs(m.Callers), jen.Id("Requires"): strs(m.Requires), jen.Id("Errors"): strs(m.Errors),
				jen.Id("ParamsSchema"): jen.Lit(m.Params.Schema), jen.Id("ResultSchema"): jen.Lit(m.Result.Schema),
			})
		}
		g.Line()
	})
}

func (e *emitter) notificationInfos() jen.Code {
	return jen.Index().Id("NotificationInfo").ValuesFunc(func(g *jen.Group) {
		for _, n := range e.m.Notifications {
			g.Line().Values(jen.Dict{
				jen.Id("Name"): jen.Lit(n.Name), jen.Id("Area"): jen.Lit(n.Area), jen.Id("Description"): jen.Lit(n.Description),
				jen.Id("Recipients"): jen.Lit(n.Recipients), jen.Id("ParamsSchema"): jen.Lit(n.Params.Schema),
			})
		}
		g.Line()
	})
}

func (e *emitter) errorInfos() jen.Code {
	return jen.Index().Id("ErrorInfo").ValuesFunc(func(g *jen.Group) {
		for _, er := range e.m.Errors {
			g.Line().Values(jen.Dict{
				jen.Id("Name"): jen.Lit(er.Name), jen.Id("Code"): jen.Lit(int(er.Code)),
				jen.Id("Message"): jen.Lit(er.Message), jen.Id("Description"): jen.Lit(er.Description),
			})
		}
		g.Line()
	})
}
