package golang

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// errors emits the wire error registry over endpoint.Error/DataError: the code constants,
// one alias and one marker kind per error, and the lookup by code.
func (e *emitter) errors(f *jen.File) {
	f.Comment("Codes of the wire error registry.")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, er := range e.m.Errors {
			g.Id("Code" + trimError(er.GoName)).Int64().Op("=").Lit(int(er.Code))
		}
	})
	for _, er := range e.m.Errors {
		f.Add(comment(errorDoc(er), 0))
		f.Type().Id(er.GoName).Op("=").Add(errorType(er))
	}
	e.errorKinds(f)
	f.Comment("UnknownError is a wire error whose code is not in the registry.")
	f.Type().Id("UnknownError").Op("=").Qual(endpointPkg, "UnknownError")
	f.Comment("InvalidResultError is a handler result that failed its own decoder: a server bug,")
	f.Comment("answered as -32603 on the wire and logged with its cause.")
	f.Type().Id("InvalidResultError").Op("=").Qual(endpointPkg, "InvalidResultError")
	e.errorFromWire(f)
}

// errorDoc documents a registry error from its description.
func errorDoc(er *gen.ErrorDef) string {
	d := fmt.Sprintf("%s is wire error %d (%s; default message %q)", er.GoName, er.Code, er.Name, er.Message)
	if desc := strings.TrimSpace(er.Description); desc != "" {
		if first, _, _ := strings.Cut(desc, " "); isLowerable(first) {
			desc = strings.ToLower(desc[:1]) + desc[1:]
		}
		d += ": " + desc
	} else {
		d += "."
	}
	if er.Data != nil {
		d += " Data is the typed " + er.Data.Name + "."
	}
	return d
}

// errorType is the endpoint instantiation an error is an alias of.
func errorType(er *gen.ErrorDef) *jen.Statement {
	if er.Data != nil {
		return jen.Qual(endpointPkg, "DataError").Types(jen.Id(kindName(er)), jen.Id(er.Data.Name))
	}
	return jen.Qual(endpointPkg, "Error").Types(jen.Id(kindName(er)))
}

// kindName is the unexported marker type of an error: "forbiddenKind".
func kindName(er *gen.ErrorDef) string {
	n := trimError(er.GoName)
	return strings.ToLower(n[:1]) + n[1:] + "Kind"
}

func trimError(goName string) string {
	if len(goName) > 5 && strings.HasSuffix(goName, "Error") {
		return goName[:len(goName)-5]
	}
	return goName
}

// errorKinds emits the marker types and their specs, one line each.
func (e *emitter) errorKinds(f *jen.File) {
	f.Comment("The kinds of the registry errors: each one's Spec gives its code and default message.")
	f.Type().DefsFunc(func(g *jen.Group) {
		for _, er := range e.m.Errors {
			g.Id(kindName(er)).Struct()
		}
	})
	var specs jen.Statement
	for i, er := range e.m.Errors {
		if i > 0 {
			specs.Line()
		}
		specs.Func().Params(jen.Id(kindName(er))).Id("Spec").Params().Qual(endpointPkg, "Spec").Add(inline(jen.Return(
			jen.Qual(endpointPkg, "Spec").Values(jen.Id("Code").Op(":").Id("Code"+trimError(er.GoName)),
				jen.Id("Message").Op(":").Lit(er.Message)))))
	}
	f.Add(&specs)
}

// errorFromWire emits the registry value, the router's own errors and ErrorFromWire.
func (e *emitter) errorFromWire(f *jen.File) {
	f.Comment("registry rebuilds the typed error of a wire error object.")
	f.Var().Id("registry").Op("=").Qual(endpointPkg, "NewRegistry").CallFunc(func(g *jen.Group) {
		for _, er := range e.m.Errors {
			if er.Data != nil {
				g.Line().Qual(endpointPkg, "Typed").Types(jen.Id(kindName(er))).Call(e.decoder(er.Data))
			} else {
				g.Line().Qual(endpointPkg, "Plain").Types(jen.Id(kindName(er))).Call()
			}
		}
		g.Line()
	})
	f.Comment("routerErrors are the registry errors the dispatchers answer with themselves.")
	f.Var().Id("routerErrors").Op("=").Qual(endpointPkg, "RouterErrors").Values(
		jen.Id("Unauthorized").Op(":").Add(e.newError("Unauthorized")),
		jen.Id("Forbidden").Op(":").Add(e.newError("Forbidden")),
		jen.Id("MethodNotFound").Op(":").Add(e.newError("MethodNotFound")),
	)
	f.Comment("ErrorFromWire returns the typed registry error for a wire error object, so that")
	f.Comment("errors.As works on the client side; an unknown code gives an UnknownError. Data that")
	f.Comment("fails its decoder is dropped (the code and message are kept).")
	f.Func().Id("ErrorFromWire").Params(jen.Id("w").Qual(wirePkg, "Error")).Error().Block(
		jen.Return(jen.Id("registry").Dot("FromWire").Call(jen.Id("w"))))
}

// newError is the endpoint constructor of the registry error named name (the catalog must
// have it: the dispatchers answer with Unauthorized, Forbidden and MethodNotFound).
func (e *emitter) newError(name string) *jen.Statement {
	for _, er := range e.m.Errors {
		if er.Name != name {
			continue
		}
		if er.Data != nil {
			return jen.Qual(endpointPkg, "NewData").Types(jen.Id(kindName(er)), jen.Id(er.Data.Name))
		}
		return jen.Qual(endpointPkg, "New").Types(jen.Id(kindName(er)))
	}
	return jen.Qual(endpointPkg, "New").Types(jen.Id(strings.ToLower(name[:1]) + name[1:] + "Kind"))
}
