package golang

import (
	"strconv"

	"github.com/dave/jennifer/jen"
)

// errors emits the wire error registry: a value type per error, code constants and the
// lookup that turns a wire error object back into its typed value.
func (e *emitter) errors(f *jen.File) {
	f.Comment("Codes of the wire error registry.")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, er := range e.m.Errors {
			g.Id("Code" + trimError(er.GoName)).Int64().Op("=").Lit(int(er.Code))
		}
	})
	for _, er := range e.m.Errors {
		name := er.GoName
		f.Commentf("%s is wire error %d (%s): %s", name, er.Code, er.Name, er.Description)
		f.Type().Id(name).StructFunc(func(g *jen.Group) {
			g.Comment("Message overrides the default message " + strconv.Quote(er.Message) + " when set.")
			g.Id("Message").String()
			if er.Data != nil {
				g.Comment("Data is the typed error data; nil when absent.")
				g.Id("Data").Op("*").Id(er.Data.Name)
			} else {
				g.Comment("Data is optional free-form error data.")
				g.Id("Data").Qual(jsonPkg, "RawMessage")
			}
		})
		f.Commentf("Code returns %d.", er.Code)
		f.Func().Params(jen.Id(name)).Id("Code").Params().Int64().Block(jen.Return(jen.Id("Code" + trimError(name))))
		f.Comment("Text returns the message sent on the wire.")
		f.Func().Params(jen.Id("e").Id(name)).Id("Text").Params().String().Block(
			jen.If(jen.Id("e").Dot("Message").Op("!=").Lit("")).Block(jen.Return(jen.Id("e").Dot("Message"))),
			jen.Return(jen.Lit(er.Message)),
		)
		f.Comment("Error describes the error with its code.")
		f.Func().Params(jen.Id("e").Id(name)).Id("Error").Params().String().Block(
			jen.Return(jen.Qual(fmtPkg, "Sprintf").Call(jen.Lit("%s (%d)"), jen.Id("e").Dot("Text").Call(), jen.Id("e").Dot("Code").Call())),
		)
		f.Comment("WireError returns the JSON-RPC error object.")
		f.Func().Params(jen.Id("e").Id(name)).Id("WireError").Params().Qual(wirePkg, "Error").BlockFunc(func(g *jen.Group) {
			g.Id("w").Op(":=").Qual(wirePkg, "Error").Values(jen.Dict{jen.Id("Code"): jen.Id("e").Dot("Code").Call(), jen.Id("Message"): jen.Id("e").Dot("Text").Call()})
			if er.Data != nil {
				g.If(jen.Id("e").Dot("Data").Op("!=").Nil()).Block(
					jen.If(jen.List(jen.Id("b"), jen.Err()).Op(":=").Qual(jsonPkg, "Marshal").Call(jen.Id("e").Dot("Data")), jen.Err().Op("==").Nil()).Block(
						jen.Id("w").Dot("Data").Op("=").Id("b"),
					),
				)
			} else {
				g.Id("w").Dot("Data").Op("=").Id("e").Dot("Data")
			}
			g.Return(jen.Id("w"))
		})
		f.Line()
	}
	e.errorFromWire(f)
}

func trimError(goName string) string {
	if len(goName) > 5 && goName[len(goName)-5:] == "Error" {
		return goName[:len(goName)-5]
	}
	return goName
}

func (e *emitter) errorFromWire(f *jen.File) {
	f.Comment("UnknownError is a wire error whose code is not in the registry.")
	f.Type().Id("UnknownError").Struct(jen.Id("Wire").Qual(wirePkg, "Error"))
	f.Comment("Error describes the error with its code.")
	f.Func().Params(jen.Id("e").Id("UnknownError")).Id("Error").Params().String().Block(
		jen.Return(jen.Qual(fmtPkg, "Sprintf").Call(jen.Lit("%s (%d)"), jen.Id("e").Dot("Wire").Dot("Message"), jen.Id("e").Dot("Wire").Dot("Code"))))
	f.Comment("WireError returns the JSON-RPC error object as received.")
	f.Func().Params(jen.Id("e").Id("UnknownError")).Id("WireError").Params().Qual(wirePkg, "Error").Block(jen.Return(jen.Id("e").Dot("Wire")))
	f.Line()
	f.Comment("ErrorFromWire returns the typed registry error for a wire error object, so that")
	f.Comment("errors.As works on the client side; an unknown code gives an UnknownError. Data that")
	f.Comment("does not match the registered schema is dropped (the code and message are kept).")
	f.Func().Id("ErrorFromWire").Params(jen.Id("w").Qual(wirePkg, "Error")).Error().Block(
		jen.Switch(jen.Id("w").Dot("Code")).BlockFunc(func(g *jen.Group) {
			for _, er := range e.m.Errors {
				var body []jen.Code
				body = append(body, jen.Id("e").Op(":=").Id(er.GoName).Values(jen.Dict{jen.Id("Message"): jen.Id("w").Dot("Message")}))
				if er.Data != nil {
					body = append(body, jen.If(jen.Len(jen.Id("w").Dot("Data")).Op(">").Lit(0)).Block(
						jen.Var().Id("d").Id(er.Data.Name),
						jen.If(jen.Qual(jsonPkg, "Unmarshal").Call(jen.Id("w").Dot("Data"), jen.Op("&").Id("d")).Op("==").Nil()).Block(
							jen.Id("e").Dot("Data").Op("=").Op("&").Id("d")),
					))
				} else {
					body = append(body, jen.Id("e").Dot("Data").Op("=").Id("w").Dot("Data"))
				}
				body = append(body, jen.Return(jen.Id("e")))
				g.Case(jen.Id("Code" + trimError(er.GoName))).Block(body...)
			}
		}),
		jen.Return(jen.Id("UnknownError").Values(jen.Dict{jen.Id("Wire"): jen.Id("w")})),
	)
}
