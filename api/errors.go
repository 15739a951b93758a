package api

import (
	"fmt"
	"net/http"

	"github.com/hubnet-eu/hubnet/protocol"
)

// ErrorResponse is the body of every error answer of the API.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what failed: a stable code, a message and, for invalid input,
// every field problem.
type ErrorBody struct {
	Code     string                `json:"code"`
	Message  string                `json:"message"`
	Problems []protocol.FieldError `json:"problems,omitempty"`
}

// Codes of the API's errors besides the wire codes of package protocol
// (protocol.CodeBadRequest, protocol.CodeNotFound, protocol.CodeTooLarge and
// protocol.CodeInternal). They are stable: clients match on them.
const (
	CodeUnauthorized   = "unauthorized"    // 401: the request needs the operator token
	CodeNotAllowed     = "not-allowed"     // 409: refused in the current state, such as a referral action its lifecycle does not allow
	CodeNoProfile      = "no-profile"      // 409: the hub has no profile yet
	CodeBadCertificate = "bad-certificate" // 400: a certificate that does not verify
	CodeStarting       = "starting"        // 503: the node is not ready yet
	// CodeRateLimited (429) is a request over a rate limit, or a token tried while the
	// address must wait after wrong ones; Retry-After says how many seconds to wait.
	CodeRateLimited          = "rate-limited"
	CodeCrossOrigin          = "cross-origin"           // 403: a change sent from a page of another site
	CodeUnsupportedMediaType = "unsupported-media-type" // 415: a request body that is not JSON
)

// Codes of the errors of a write the data file did not take.
const (
	CodeStorageFull     = "storage-full"      // 507: no space for the data file
	CodeStorageReadOnly = "storage-read-only" // 503: its file system is read-only
	CodeStorageFailed   = "storage-failed"    // 500: the disk failed otherwise
)

// Error is an error answer of the node: its HTTP status and, when the body was an
// [ErrorResponse], its code, message and field problems. It matches the sentinel of
// package protocol its code stands for with errors.Is: protocol.ErrInvalid for
// bad-request, protocol.ErrNotFound for not-found, and so on.
type Error struct {
	Method   string                // of the request, such as "GET"
	Path     string                // of the request, with its query string: "/v1/hubs/robocoast"
	Status   int                   // HTTP status, 300 or more
	Code     string                // the error's code; empty when the body was not an ErrorResponse
	Message  string                // the node's message for people
	Problems []protocol.FieldError // every field problem of invalid input
}

// Error returns the node's message, or "node answered 502 Bad Gateway" when it
// sent none.
func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("node answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}

// Unwrap returns the sentinel of package protocol that e's code stands for, or nil
// for a code that has none.
func (e *Error) Unwrap() error {
	switch e.Code {
	case protocol.CodeBadRequest:
		return protocol.ErrInvalid
	case protocol.CodeBadSignature:
		return protocol.ErrBadSignature
	case protocol.CodeUnknownVersion:
		return protocol.ErrUnknownVersion
	case protocol.CodeWrongRecipient:
		return protocol.ErrWrongRecipient
	case protocol.CodeNotFound:
		return protocol.ErrNotFound
	case protocol.CodeTooLarge:
		return protocol.ErrTooLarge
	case protocol.CodeInternal:
		return protocol.ErrInternal
	}
	return nil
}

// Is reports whether target is an *Error whose Status and Code, where set, are e's:
// errors.Is(err, &api.Error{Code: api.CodeNotAllowed}) or &api.Error{Status: 401}.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t.Code == "" || t.Code == e.Code) && (t.Status == 0 || t.Status == e.Status)
}

// UnreachableError is returned when no whole answer came from the node: the
// connection was refused, timed out or was cut, the name did not resolve, or the
// answer could not be read. A request that was sent may have been carried out.
type UnreachableError struct {
	URL    string // the node's base URL
	Method string // of the request
	Path   string // of the request, with its query string
	Err    error  // the cause, without the request net/http names in its message
}

// Error returns "node at URL is unreachable: cause".
func (e *UnreachableError) Error() string {
	return "node at " + e.URL + " is unreachable: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *UnreachableError) Unwrap() error { return e.Err }
