package wire

// JSON-RPC 2.0 reserved error codes (REFERENCE 5.2).
const (
	// CodeParseError means the frame is not parseable JSON (answered with id null).
	CodeParseError int64 = -32700
	// CodeInvalidRequest means the frame is JSON but not a valid JSON-RPC object
	// for its direction (arrays, numeric ids, client notifications, ...).
	CodeInvalidRequest int64 = -32600
	// CodeMethodNotFound means the method is not in the receiver's catalog.
	CodeMethodNotFound int64 = -32601
	// CodeInvalidParams means the params failed the method schema.
	CodeInvalidParams int64 = -32602
	// CodeInternalError means an unexpected failure; details stay in the logs.
	CodeInternalError int64 = -32603
)

// Default messages of the reserved codes (REFERENCE 5.2).
const (
	// MessageParseError is the message sent with CodeParseError.
	MessageParseError = "Invalid JSON"
	// MessageInvalidRequest is the message sent with CodeInvalidRequest.
	MessageInvalidRequest = "Invalid request frame"
	// MessageMethodNotFound is the generic message sent with CodeMethodNotFound.
	MessageMethodNotFound = "Method not found"
	// MessageInvalidParams is the default message sent with CodeInvalidParams.
	MessageInvalidParams = "Invalid params"
	// MessageInternalError is the message sent with CodeInternalError.
	MessageInternalError = "Internal error"
)

// Version is the only accepted value of the "jsonrpc" member.
const Version = "2.0"
