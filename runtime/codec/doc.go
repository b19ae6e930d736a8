// Package codec holds the small runtime the generated JSON codecs of generated/protocol call:
// a one-pass decoder over the runtime/wire scanner, the member visitor every generated struct
// implements (one line per property, used to decode and to encode), the constraint checks
// (lengths in code points, formats, patterns compiled once, integer bounds) and append-style
// encoding helpers.
//
// A generated struct lists its members once:
//
//	func (x *TextPart) fields(o *codec.Object) {
//		o.Const("type", "text")
//		codec.String(o, "text", &x.Text, codec.StringRule{Min: 1, Max: 32768})
//	}
//
// Decoding walks the bytes once: for each member of the input object the visitor runs with
// that key, the matching helper reads and checks the value, an unmatched key is an unknown
// property (every protocol object is closed) and a final visit reports the first missing
// required member. Encoding runs the visitor once, appending each present member.
//
// The decoder copies the document into one string, so string values without escapes are
// substrings of it and cost no allocation of their own; the strings a decoded value holds
// therefore keep that copy alive. Duplicate member names are rejected (JSON parsers disagree
// on them). Errors are *Error values naming the JSON pointer and the failed constraint.
package codec
