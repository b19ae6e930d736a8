package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// catalog emits the version, the name constants, result aliases and the Catalog value, one
// line per entry.
func (e *emitter) catalog(f *jen.File) {
	f.Comment("ProtocolVersion is the one protocol version this package speaks.")
	f.Const().Id("ProtocolVersion").Op("=").Lit(e.m.Version)
	if e.m.DefaultAppID != "" {
		f.Comment("DefaultAppID is the id of the app every server installs at boot: tasks of this app")
		f.Comment("are moderated by the server itself, messages forwarded to every other participant.")
		f.Const().Id("DefaultAppID").Op("=").Lit(e.m.DefaultAppID)
	}
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
	aliasResults(f, e.m.Methods)
	aliasResults(f, e.m.Callbacks)
	f.Comment("The descriptions of the catalog's entries.")
	f.Type().DefsFunc(func(g *jen.Group) {
		for _, n := range []string{"CatalogInfo", "MethodInfo", "NotificationInfo", "ErrorInfo"} {
			g.Id(n).Op("=").Qual(endpointPkg, n)
		}
	})
	f.Comment("catalog is the whole protocol: every method with its callers, notification, callback")
	f.Comment("and error.")
	f.Var().Id("catalog").Op("=").Id("CatalogInfo").Values(
		jen.Line().Id("Version").Op(":").Id("ProtocolVersion"),
		jen.Line().Id("Methods").Op(":").Add(methodInfos(e.m.Methods)),
		jen.Line().Id("Notifications").Op(":").Add(e.notificationInfos()),
		jen.Line().Id("Callbacks").Op(":").Add(methodInfos(e.m.Callbacks)),
		jen.Line().Id("Errors").Op(":").Add(e.errorInfos()),
		jen.Line(),
	)
	f.Comment("Catalog returns a description of the whole protocol (a copy the caller may change).")
	f.Func().Id("Catalog").Params().Id("CatalogInfo").Add(inline(jen.Return(jen.Id("catalog").Dot("Clone").Call())))
}

// field renders "Key: value" inside a one-line composite literal.
func field(key string, v jen.Code) jen.Code { return jen.Id(key).Op(":").Add(v) }

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

// entries renders a slice literal with one element per line.
func entries(typ string, n int, entry func(i int) []jen.Code) jen.Code {
	return jen.Index().Id(typ).ValuesFunc(func(g *jen.Group) {
		for i := 0; i < n; i++ {
			g.Line().Values(entry(i)...)
		}
		g.Line()
	})
}

func methodInfos(ms []*gen.Method) jen.Code {
	return entries("MethodInfo", len(ms), func(i int) []jen.Code {
		m := ms[i]
		out := []jen.Code{field("Name", jen.Lit(m.Name)), field("Area", jen.Lit(m.Area)), field("Description", jen.Lit(m.Description))}
		for _, l := range []struct {
			key  string
			list []string
		}{{"Callers", m.Callers}, {"Requires", m.Requires}, {"Errors", m.Errors}} {
			if len(l.list) > 0 {
				out = append(out, field(l.key, strs(l.list)))
			}
		}
		return append(out, field("ParamsSchema", jen.Lit(m.Params.Schema)), field("ResultSchema", jen.Lit(m.Result.Schema)))
	})
}

func (e *emitter) notificationInfos() jen.Code {
	return entries("NotificationInfo", len(e.m.Notifications), func(i int) []jen.Code {
		n := e.m.Notifications[i]
		return []jen.Code{field("Name", jen.Lit(n.Name)), field("Area", jen.Lit(n.Area)), field("Description", jen.Lit(n.Description)),
			field("Recipients", jen.Lit(n.Recipients)), field("ParamsSchema", jen.Lit(n.Params.Schema))}
	})
}

func (e *emitter) errorInfos() jen.Code {
	return entries("ErrorInfo", len(e.m.Errors), func(i int) []jen.Code {
		er := e.m.Errors[i]
		return []jen.Code{field("Name", jen.Lit(er.Name)), field("Code", jen.Lit(int(er.Code))),
			field("Message", jen.Lit(er.Message)), field("Description", jen.Lit(er.Description))}
	})
}
