// Package endpoint is the generic runtime the generated protocol package is written over,
// in the style of connect-go's NewUnaryHandler and NewClient: the generated code only wires
// (one table row per method, one line per client stub, one alias per registry error) and
// the code that runs a request is written here, once.
//
// A request on the serving side goes through Router.Dispatch in this order:
//
//  1. The method is looked up by its wire name; a name outside the table is answered with
//     the MethodNotFound error "Unknown method: <name>".
//  2. The caller is checked against the method's Access, before the params are looked at:
//     a caller that has not authenticated is refused with Unauthorized (default message)
//     unless the method admits CallerUnauthenticated; a method that RequireActive refuses
//     an inactive caller with Forbidden MessageNotClaimed; a method that RequireOwner
//     refuses a caller without owner with Unauthorized MessageNoOwner. Which of agent and
//     TaskMaster a caller is, is checked by the handlers, not here.
//  3. The params are decoded by the method's generated decoder (empty params count as {});
//     its error (InvalidParams, -32602) is returned as is.
//  4. The typed handler runs; its error is returned as is.
//  5. The result is encoded with AppendJSON and checked by decoding the bytes with the
//     result's generated decoder. A result that fails is an *InvalidResultError: a bug of
//     the handler, answered as -32603 "Internal error", never sent as it is.
//
// On the calling side Call encodes the params with AppendJSON, passes the bytes to an
// Invoker as a json.RawMessage, and decodes the raw result with the generated decoder.
//
// The error registry is one generic definition: Error (free-form data) and DataError
// (typed data) parameterised by a per-error Kind that gives the code and default message;
// the generated package declares one alias per wire error. A Registry turns a wire error
// object back into its typed value.
package endpoint
