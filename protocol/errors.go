package protocol

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the protocol. Wire errors received from another hub map back to
// these, so errors.Is works across hubs.
var (
	// ErrInvalid is returned (wrapped in a *ValidationError) when a value breaks a rule.
	ErrInvalid = errors.New("protocol: invalid value")
	// ErrBadSignature is returned when a signature does not verify against the sender's key.
	ErrBadSignature = errors.New("protocol: bad signature")
	// ErrUnknownVersion is returned when a message carries a version this hub does not speak.
	ErrUnknownVersion = errors.New("protocol: unknown version")
	// ErrWrongRecipient is returned when a message is addressed to another hub.
	ErrWrongRecipient = errors.New("protocol: wrong recipient")
	// ErrNotFound is returned by a hub asked for something it does not have.
	ErrNotFound = errors.New("protocol: not found")
	// ErrTooLarge is returned when a message or value is over its size limit.
	ErrTooLarge = errors.New("protocol: too large")
	// ErrOutsideWindow is returned for a message whose time is too far from the
	// receiver's clock: see MaxClockSkew.
	ErrOutsideWindow = errors.New("protocol: message outside the time window")
	// ErrReplay is returned for a message a hub has seen before.
	ErrReplay = errors.New("protocol: message seen before")
	// ErrBadSeal is returned when a sealed body does not open with the recipient's
	// box keys, or was sealed for another message.
	ErrBadSeal = errors.New("protocol: sealed body does not open")
	// ErrInternal is returned when a hub failed for a reason of its own.
	ErrInternal = errors.New("protocol: internal error")
)

// FieldError is one broken rule: the field's path, as it is spelled in JSON and YAML
// ("capacity.test-before-invest.available"), and the rule it breaks.
type FieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

// Error returns "field: rule".
func (e FieldError) Error() string { return e.Field + ": " + e.Rule }

// ValidationError holds every problem found in one value, so a user can fix them all
// at once. It matches ErrInvalid with errors.Is.
type ValidationError struct {
	What     string       `json:"what"` // "profile", "meta", "envelope", ...
	Problems []FieldError `json:"problems"`
}

// Error lists every problem on one line.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return fmt.Sprintf("invalid %s: %s", e.What, strings.Join(parts, "; "))
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Add adds the problems of err, the result of a part's Validate, to e with each
// field under prefix ("need." makes "need.region"). An error that lists no fields
// becomes one problem of the field prefix names; nil adds nothing.
func (e *ValidationError) Add(prefix string, err error) {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		for _, p := range ve.Problems {
			e.Problems = append(e.Problems, FieldError{Field: prefix + p.Field, Rule: p.Rule})
		}
	case err != nil:
		e.Problems = append(e.Problems, FieldError{Field: strings.TrimSuffix(prefix, "."), Rule: err.Error()})
	}
}

// ProblemsOf returns the field problems of err when it is (or wraps) a
// *ValidationError, and nil otherwise.
func ProblemsOf(err error) []FieldError {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	return nil
}

// Err returns e, or nil when it lists no problem.
func (e *ValidationError) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// MaxProblems is the most problems a ValidationError made by this package lists; one
// more says how many were left out. A value with a hundred thousand bad list entries
// gets an answer of a few kilobytes, not of many megabytes.
const MaxProblems = 100

// MoreProblems is the field of the last problem of a list cut at MaxProblems.
const MoreProblems = "(more)"

// problems collects field errors while a value is checked.
type problems struct {
	what string
	list []FieldError
	more int // problems past MaxProblems, counted, not listed
}

func (p *problems) add(field, rule string, args ...any) {
	if len(p.list) >= MaxProblems {
		p.more++
		return
	}
	if len(args) > 0 {
		rule = fmt.Sprintf(rule, args...)
	}
	p.list = append(p.list, FieldError{Field: field, Rule: rule})
}

// err returns nil when nothing was added.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	list := p.list
	if p.more > 0 {
		list = append(list, FieldError{Field: MoreProblems, Rule: fmt.Sprintf("%d more problems not listed", p.more)})
	}
	return &ValidationError{What: p.what, Problems: list}
}

// Wire error codes. They are stable: other hubs match on them.
const (
	CodeBadRequest     = "bad-request"
	CodeBadSignature   = "bad-signature"
	CodeUnknownVersion = "unknown-version"
	CodeWrongRecipient = "wrong-recipient"
	CodeNotFound       = "not-found"
	CodeTooLarge       = "too-large"
	CodeInternal       = "internal"
)

// Error is an error as it crosses the wire: a stable code and a message for people.
type Error struct {
	V       int    `json:"v"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns "code: message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap maps the code back to the sentinel it stands for.
func (e *Error) Unwrap() error {
	switch e.Code {
	case CodeBadRequest:
		return ErrInvalid
	case CodeBadSignature:
		return ErrBadSignature
	case CodeUnknownVersion:
		return ErrUnknownVersion
	case CodeWrongRecipient:
		return ErrWrongRecipient
	case CodeNotFound:
		return ErrNotFound
	case CodeTooLarge:
		return ErrTooLarge
	default:
		return ErrInternal
	}
}

// WireError turns err into the Error to send, choosing the code from the sentinel it wraps.
func WireError(err error) *Error {
	if err == nil {
		return &Error{V: Version, Code: CodeInternal, Message: "unknown error"}
	}
	var we *Error
	if errors.As(err, &we) {
		return we
	}
	code := CodeInternal
	switch {
	case errors.Is(err, ErrInvalid):
		code = CodeBadRequest
	case errors.Is(err, ErrBadSignature):
		code = CodeBadSignature
	case errors.Is(err, ErrUnknownVersion):
		code = CodeUnknownVersion
	case errors.Is(err, ErrWrongRecipient):
		code = CodeWrongRecipient
	case errors.Is(err, ErrNotFound):
		code = CodeNotFound
	case errors.Is(err, ErrTooLarge):
		code = CodeTooLarge
	}
	return &Error{V: Version, Code: code, Message: err.Error()}
}
