package endpoint

import "slices"

// MethodInfo describes a method or callback of a catalog.
type MethodInfo struct {
	Name         string   `json:"name"`
	Area         string   `json:"area"`
	Description  string   `json:"description"`
	Callers      []string `json:"callers,omitempty"`
	Requires     []string `json:"requires,omitempty"`
	Errors       []string `json:"errors,omitempty"`
	ParamsSchema string   `json:"paramsSchema"`
	ResultSchema string   `json:"resultSchema"`
}

// NotificationInfo describes a notification of a catalog.
type NotificationInfo struct {
	Name         string `json:"name"`
	Area         string `json:"area"`
	Description  string `json:"description"`
	Recipients   string `json:"recipients,omitempty"`
	ParamsSchema string `json:"paramsSchema"`
}

// ErrorInfo describes a registry error.
type ErrorInfo struct {
	Name        string `json:"name"`
	Code        int64  `json:"code"`
	Message     string `json:"message"`
	Description string `json:"description"`
}

// CatalogInfo is a whole protocol catalog.
type CatalogInfo struct {
	Version       string             `json:"version"`
	Methods       []MethodInfo       `json:"methods"`
	Notifications []NotificationInfo `json:"notifications"`
	Callbacks     []MethodInfo       `json:"callbacks"`
	Errors        []ErrorInfo        `json:"errors"`
}

// Clone returns a deep copy of c, so that a caller may change it freely.
func (c CatalogInfo) Clone() CatalogInfo {
	c.Methods = cloneMethods(c.Methods)
	c.Callbacks = cloneMethods(c.Callbacks)
	c.Notifications = slices.Clone(c.Notifications)
	c.Errors = slices.Clone(c.Errors)
	return c
}

func cloneMethods(ms []MethodInfo) []MethodInfo {
	out := slices.Clone(ms)
	for i := range out {
		out[i].Callers = slices.Clone(out[i].Callers)
		out[i].Requires = slices.Clone(out[i].Requires)
		out[i].Errors = slices.Clone(out[i].Errors)
	}
	return out
}
