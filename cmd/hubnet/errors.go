package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// Exit codes of hubnet. They are listed in the root command's --help as well.
const (
	exitOK          = 0 // the command did what was asked
	exitError       = 1 // it failed for another reason
	exitUsage       = 2 // a bad flag, argument, environment variable or config file
	exitUnreachable = 3 // no node answered at the URL the command resolved
	exitInvalid     = 4 // the input broke a rule: a profile, network.json, a capacity, a referral or its action
)

// failure says what failed, why, and what the user can do about it. main prints it as
// "hubnet: <Op>: <Err> (<Hint>)".
type failure struct {
	Op   string // what failed, such as "list hubs"
	Err  error  // why
	Hint string // what to do; empty leaves it to an inner error or the command's help
}

func (e *failure) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *failure) Unwrap() error { return e.Err }
func (e *failure) hint() string  { return e.Hint }

// fail wraps err with what failed and what to do.
func fail(op string, err error, hint string) error {
	return &failure{Op: op, Err: err, Hint: hint}
}

// usageError is a bad flag or argument found by a command itself (exit code 2). Cobra's
// own errors, returned before any command runs, are usage errors too.
type usageError struct {
	err    error
	format string // the message's key, when made by usagef: report translates it
	args   []any
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error with a formatted message; format is a message key.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...), format: format, args: args}
}

// unreachableError is returned when no node answers (exit code 3).
type unreachableError struct {
	URL string // the node's URL, empty when none was found
	Err error
}

func (e *unreachableError) Error() string {
	if e.URL == "" {
		return "no running node found: " + e.Err.Error()
	}
	return "node at " + e.URL + " is unreachable: " + e.Err.Error()
}
func (e *unreachableError) Unwrap() error { return e.Err }
func (e *unreachableError) hint() string {
	return msg("is `hubnet run` running? give --node or -d")
}

// apiError is an error response of a node's HTTP API.
type apiError struct {
	Status int
	Body   api.ErrorBody
}

// Error summarises the answer; main prints field problems on lines of their own.
func (e *apiError) Error() string {
	if len(e.Body.Problems) > 0 {
		return english().summary(e.Body.Message, len(e.Body.Problems))
	}
	if e.Body.Message == "" {
		return fmt.Sprintf("node answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Body.Message
}

func (e *apiError) hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		if strings.HasPrefix(e.Body.Message, "wrong token") || strings.HasPrefix(e.Body.Message, "refused") {
			return msg("the token given is not one this hub takes: check --token, HUBNET_TOKEN or the file token of -d DIR")
		}
		return msg("give the hub's operator token with --token, HUBNET_TOKEN or -d DIR")
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return msg("fix what is listed below and try again")
	case http.StatusConflict:
		if e.Body.Code == api.CodeNoProfile {
			return msg("apply a profile first: hubnet profile apply -f profile.yaml")
		}
	}
	switch e.Body.Code {
	case api.CodeStorageFull, api.CodeStorageReadOnly, api.CodeStorageFailed:
		return msg("the hub's disk refused the write, not the input")
	}
	return ""
}

// invalid reports whether the node refused the request's content, or refused a
// referral action its lifecycle does not allow now (409 "not-allowed"; a 409 for a
// hub without a profile is a state of the hub, not bad input).
func (e *apiError) invalid() bool {
	switch e.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return true
	case http.StatusConflict:
		return e.Body.Code == api.CodeNotAllowed
	}
	return false
}

// summary turns "invalid profile: a: b; c: d" into "invalid profile, 2 problems",
// in the language of the command line.
func (a *app) summary(message string, n int) string {
	what, _, _ := strings.Cut(message, ":")
	if !strings.HasPrefix(what, "invalid ") {
		what = "invalid input"
	}
	if row, ok := strings.CutPrefix(what, "invalid catalogue row "); ok {
		what = a.T("invalid catalogue row %s", row)
	} else {
		what = a.lang.Text(what)
	}
	if n == 1 {
		return a.T("%s, 1 problem", what)
	}
	return a.T("%s, %d problems", what, n)
}

// invalidWhat are the inputs a summary names in the language of the command line:
// what a user gives hubnet or a node refuses from it. Others stay as the node wrote
// them.
var invalidWhat = []string{
	msg("invalid input"), msg("invalid profile"), msg("invalid capacity"), msg("invalid referral"),
	msg("invalid action"), msg("invalid referral list"), msg("invalid search"), msg("invalid query"),
	msg("invalid live query"), msg("invalid query string"), msg("invalid network"), msg("invalid catalogue"),
	msg("invalid config file"), msg("invalid request body"), msg("invalid person"), msg("invalid password"),
	msg("invalid token"), msg("invalid webhook"), msg("invalid recipients"), msg("invalid report"),
	msg("invalid certificate"), msg("invalid revocation"), msg("invalid gossip key change"),
}

// exitCode chooses the exit code for err. started tells whether a command's hooks ran:
// an error cobra returned before that is a usage error.
func exitCode(err error, started bool) int {
	var (
		ue  *usageError
		une *unreachableError
		ve  *protocol.ValidationError
		ae  *apiError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &une):
		return exitUnreachable
	case errors.As(err, &ve), errors.As(err, &ae) && ae.invalid():
		return exitInvalid
	case !started:
		return exitUsage
	}
	return exitError
}

// report prints err to w as one line, "hubnet: <what failed>: <why> (<what to do>)",
// followed by one line for each field problem it carries. What hubnet says itself
// is in the language of the command line; what a node or the system says is not.
func (a *app) report(w io.Writer, cmd *cobra.Command, err error) {
	msg := oneLine(a.say(err))
	hint := a.lang.Text(hintOf(err))
	if name, ok := unknownCommand(err.Error()); ok && cmd != nil {
		if s := cmd.SuggestionsFor(name); len(s) > 0 {
			hint = a.T("did you mean '%s %s'?", cmd.CommandPath(), s[0])
		}
	}
	probs := problemsOf(err)
	if hint == "" && len(probs) > 0 {
		hint = a.T("fix what is listed below and try again")
	}
	if hint == "" && cmd != nil {
		hint = a.T("see '%s --help'", cmd.CommandPath())
	}
	fmt.Fprintf(w, "hubnet: %s (%s)\n", msg, hint)
	for _, p := range probs {
		fmt.Fprintf(w, "  %s: %s%s\n", p.Field, p.Rule, a.vocabPointer(p.Rule))
	}
}

// say is err's message in the language of the command line: what failed and the
// usage errors hubnet finds are translated, the causes below them are not.
func (a *app) say(err error) string {
	switch e := err.(type) {
	case *failure:
		return a.lang.Text(e.Op) + ": " + a.say(e.Err)
	case *usageError:
		if e.format != "" {
			return a.T(e.format, e.args...)
		}
	case *apiError:
		if len(e.Body.Problems) > 0 {
			return a.summary(e.Body.Message, len(e.Body.Problems))
		}
	case *unreachableError:
		if e.URL == "" {
			return a.T("no running node found: %s", a.say(e.Err))
		}
		return a.T("node at %s is unreachable: %s", e.URL, a.say(e.Err))
	}
	return a.message(err)
}

// vocabPointer returns, for the rule of a value no vocabulary knows, where the
// vocabulary's list is: " (see 'hubnet vocab technologies')"; "" for other rules.
func (a *app) vocabPointer(rule string) string {
	v, sug := protocol.VocabularyOfRule(rule)
	if v == nil || v.List == "" {
		return ""
	}
	list := v.List
	if v == protocol.RegionVocab {
		country := "COUNTRY"
		if len(sug) > 0 {
			country = protocol.RegionCountry(sug[0])
		}
		list += " " + country
	}
	return " (" + a.T("see 'hubnet vocab %s'", list) + ")"
}

// message is err's text with a validation error's list of problems replaced by a
// count: report lists the problems below.
func (a *app) message(err error) string {
	msg := err.Error()
	var ve *protocol.ValidationError
	if errors.As(err, &ve) {
		msg = strings.Replace(msg, ve.Error(), a.summary(ve.Error(), len(ve.Problems)), 1)
	}
	return msg
}

// hintOf returns the outermost hint in err's chain.
func hintOf(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if h, ok := e.(interface{ hint() string }); ok && h.hint() != "" {
			return h.hint()
		}
	}
	return ""
}

// problemsOf returns the field problems err carries, if any.
func problemsOf(err error) []protocol.FieldError {
	var (
		ve *protocol.ValidationError
		ae *apiError
	)
	switch {
	case errors.As(err, &ve):
		return ve.Problems
	case errors.As(err, &ae):
		return ae.Body.Problems
	}
	return nil
}

// unknownCommand returns the name in cobra's `unknown command "x" for "hubnet"`.
func unknownCommand(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "unknown command ")
	if !ok {
		return "", false
	}
	name, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return "", false
	}
	name, err = strconv.Unquote(name)
	return name, err == nil
}

// oneLine joins the lines of a multi-line message (errors.Join) with "; ".
func oneLine(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}

// english is an app that writes in English, for the text of errors.
func english() *app { return &app{lang: cliCatalog().Lang("en")} }
