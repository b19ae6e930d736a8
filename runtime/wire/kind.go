package wire

// Kind classifies a frame (REFERENCE 2.3).
type Kind int

const (
	// KindInvalid is a frame that is not valid JSON or not a valid JSON-RPC
	// object. It is the zero value.
	KindInvalid Kind = iota
	// KindRequest has a string id and a method.
	KindRequest
	// KindNotification has a method and no id.
	KindNotification
	// KindResponse has an id (string or null) and exactly one of result/error.
	KindResponse
)

// String returns the lower-case name of k.
func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	default:
		return "invalid"
	}
}
