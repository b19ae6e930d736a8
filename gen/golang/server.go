package golang

import (
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// endpointPkg is the generic runtime the dispatch tables, stubs and errors are written over.
const endpointPkg = "github.com/moltzap/moltzap-go/runtime/endpoint"

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func ctxParam() *jen.Statement { return jen.Id("ctx").Qual(contextPkg, "Context") }

func resultType(m *gen.Method) *jen.Statement { return jen.Id(m.GoName + "Result") }

// inline renders a function body of one statement on the signature's line.
func inline(s jen.Code) *jen.Statement {
	return jen.Custom(jen.Options{Open: "{", Close: "}"}, s)
}

// methodDoc is the comment on a handler method: `X handles "wire": description`.
func methodDoc(m *gen.Method) string {
	d := m.GoName + " handles \"" + m.Name + "\""
	if m.Description == "" {
		return d + "."
	}
	text := strings.TrimSpace(m.Description)
	if first, _, _ := strings.Cut(text, " "); isLowerable(first) {
		text = strings.ToLower(text[:1]) + text[1:]
	}
	return d + ": " + text
}

// server emits Caller, the access rules, ServerHandlers, UnimplementedServerHandlers and
// the dispatch table.
func (e *emitter) server(f *jen.File) {
	f.Comment("Caller is what the dispatcher needs to know about the connection making a request.")
	f.Type().Id("Caller").Op("=").Qual(endpointPkg, "Caller")
	e.accessRules(f)
	f.Comment("ServerHandlers has one method per client -> server method of the catalog; a handler set")
	f.Comment("that misses one does not compile. C is the server's own connection type.")
	f.Type().Id("ServerHandlers").Types(jen.Id("C").Id("Caller")).InterfaceFunc(func(g *jen.Group) {
		for _, m := range e.m.Methods {
			g.Add(comment(methodDoc(m), 1))
			g.Id(m.GoName).Params(ctxParam(), jen.Id("caller").Id("C"), jen.Id("p").Add(typeExpr(m.Params))).
				Params(resultType(m), jen.Error())
		}
	})
	e.unimplemented(f)
	e.serverDispatcher(f)
}

// accessName names a caller rule: "Anyone" when unauthenticated callers are admitted, else
// the callers ("Agent", "TaskMaster", "AgentOrTaskMaster") prefixed by what the rule
// requires ("Active", "Owned") or suffixed by "Only" when it requires nothing.
func accessName(callers, requires []string) string {
	base := "Anyone"
	if !has(callers, "unauthenticated") {
		var names []string
		for _, c := range callers {
			names = append(names, map[string]string{"agent": "Agent", "taskmaster": "TaskMaster"}[c])
		}
		base = strings.Join(names, "Or")
	}
	prefix := ""
	if has(requires, "active") {
		prefix += "Active"
	}
	if has(requires, "owner") {
		prefix += "Owned"
	}
	if prefix == "" && base != "Anyone" {
		return base + "Only"
	}
	return prefix + base
}

// accessExpr is the endpoint.Access expression of a caller rule.
func accessExpr(callers, requires []string) *jen.Statement {
	bits := map[string]string{
		"unauthenticated": "CallerUnauthenticated", "agent": "CallerAgent", "taskmaster": "CallerTaskMaster",
		"active": "RequireActive", "owner": "RequireOwner",
	}
	var s *jen.Statement
	for _, name := range append(append([]string{}, callers...), requires...) {
		bit := jen.Qual(endpointPkg, bits[name])
		if s == nil {
			s = bit
		} else {
			s = s.Op("|").Add(bit)
		}
	}
	if s == nil {
		return jen.Qual(endpointPkg, "Access").Call(jen.Lit(0))
	}
	return s
}

// accessDoc describes a caller rule: "ActiveAgent admits agents that are active."
func accessDoc(name string, callers, requires []string) string {
	who := map[string]string{"unauthenticated": "unauthenticated connections", "agent": "agents", "taskmaster": "TaskMasters"}
	var cs, rs []string
	for _, c := range callers {
		cs = append(cs, who[c])
	}
	for _, r := range requires {
		rs = append(rs, map[string]string{"active": "are active", "owner": "have an owner"}[r])
	}
	d := name + " admits " + strings.Join(cs, " and ")
	if len(rs) > 0 {
		d += " that " + strings.Join(rs, " and ")
	}
	return d + "."
}

// accessRules emits one named endpoint.Access per caller rule the catalog uses.
func (e *emitter) accessRules(f *jen.File) {
	seen := map[string]bool{}
	f.Comment("The caller rules of the catalog's methods, checked before the params are decoded.")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, m := range e.m.Methods {
			name := accessName(m.Callers, m.Requires)
			if seen[name] {
				continue
			}
			seen[name] = true
			g.Add(comment(accessDoc(name, m.Callers, m.Requires), 1))
			g.Id(name).Op("=").Add(accessExpr(m.Callers, m.Requires))
		}
	})
}

// unimplemented emits UnimplementedServerHandlers, kept for embedders that opt out of the
// compile-time check; its methods are one group, like grpc's Unimplemented servers.
func (e *emitter) unimplemented(f *jen.File) {
	f.Comment("UnimplementedServerHandlers answers every method with MethodNotFoundError (\"Method not")
	f.Comment("implemented: <method>\"). Embedding it switches off the compile-time check for a missing")
	f.Comment("handler.")
	f.Type().Id("UnimplementedServerHandlers").Types(jen.Id("C").Id("Caller")).Struct()
	var group jen.Statement
	for i, m := range e.m.Methods {
		if i > 0 {
			group.Line()
		}
		group.Func().Params(jen.Id("UnimplementedServerHandlers").Types(jen.Id("C"))).Id(m.GoName).
			Params(jen.Qual(contextPkg, "Context"), jen.Id("C"), typeExpr(m.Params)).Params(resultType(m), jen.Error()).
			Block(jen.Return(zeroValue(m.Result), jen.Id("MethodNotFoundError").Values(
				jen.Id("Message").Op(":").Lit("Method not implemented: "+m.Name))))
	}
	f.Add(&group)
}

// serverDispatcher emits the dispatch table: one row per method.
func (e *emitter) serverDispatcher(f *jen.File) {
	f.Comment("ServerDispatcher routes a request to its ServerHandlers method: caller check, params")
	f.Comment("decoding, invocation, result encoding and check (see package runtime/endpoint).")
	f.Type().Id("ServerDispatcher").Types(jen.Id("C").Id("Caller")).Op("=").Qual(endpointPkg, "Router").Types(jen.Id("C"))
	f.Comment("NewServerDispatcher returns the dispatcher of the catalog's methods over h.")
	f.Func().Id("NewServerDispatcher").Types(jen.Id("C").Id("Caller")).Params(jen.Id("h").Id("ServerHandlers").Types(jen.Id("C"))).
		Op("*").Id("ServerDispatcher").Types(jen.Id("C")).Block(
		jen.Return(jen.Qual(endpointPkg, "NewRouter").CallFunc(func(g *jen.Group) {
			g.Id("routerErrors")
			for _, m := range e.m.Methods {
				g.Line().Qual(endpointPkg, "Unary").Call(jen.Id("Method"+m.GoName), jen.Id(accessName(m.Callers, m.Requires)),
					jen.Id("h").Dot(m.GoName), e.decoder(m.Params), e.decoder(m.Result))
			}
			g.Line()
		})),
	)
}

// decoder is the generated decoder of a schema-backed type.
func (e *emitter) decoder(t *gen.Type) *jen.Statement {
	if e.params[t] || t.Kind != gen.KindStruct {
		return jen.Id(decoderName(t))
	}
	return jen.Id("Decode").Types(jen.Id(t.Name))
}

// decoderName names the generated decoder of a schema-backed type: DecodeT.
func decoderName(t *gen.Type) string { return "Decode" + t.Name }

// taskmaster emits TaskMasterHandlers and its dispatch table.
func (e *emitter) taskmaster(f *jen.File) {
	f.Comment("TaskMasterHandlers has one method per server -> TaskMaster callback of the catalog.")
	f.Type().Id("TaskMasterHandlers").InterfaceFunc(func(g *jen.Group) {
		for _, m := range e.m.Callbacks {
			g.Add(comment(methodDoc(m), 1))
			g.Id(m.GoName).Params(ctxParam(), jen.Id("p").Add(typeExpr(m.Params))).Params(resultType(m), jen.Error())
		}
	})
	f.Comment("TaskMasterDispatcher routes a server callback to its TaskMasterHandlers method.")
	f.Type().Id("TaskMasterDispatcher").Op("=").Qual(endpointPkg, "CallbackRouter")
	f.Comment("NewTaskMasterDispatcher returns the dispatcher of the catalog's callbacks over h, which")
	f.Comment("must not be nil.")
	f.Func().Id("NewTaskMasterDispatcher").Params(jen.Id("h").Id("TaskMasterHandlers")).Op("*").Id("TaskMasterDispatcher").Block(
		jen.Return(jen.Qual(endpointPkg, "NewCallbackRouter").CallFunc(func(g *jen.Group) {
			g.Id("routerErrors")
			for _, m := range e.m.Callbacks {
				g.Line().Qual(endpointPkg, "Callback").Call(jen.Id("Callback"+m.GoName),
					jen.Id("h").Dot(m.GoName), e.decoder(m.Params), e.decoder(m.Result))
			}
			g.Line()
		})),
	)
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
