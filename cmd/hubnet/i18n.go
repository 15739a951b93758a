package main

// The command line's languages. Messages are keyed by their English text, as the
// console's are: translations/<code>.json translates every key for one language, and
// the vocabulary's labels come from internal/i18n. Code translates with a.T, or
// marks a literal that is translated later (a hint, an operation's name) with msg;
// fail and usagef take keys. TestCLICatalog_complete finds the keys in the source
// and fails on a language that misses one or keeps one nothing uses.

import (
	"embed"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hubnet-eu/hubnet/internal/i18n"
	"github.com/hubnet-eu/hubnet/protocol"
)

//go:embed translations/*.json
var translationFS embed.FS

// cliCatalog holds the command line's translations, built once.
var cliCatalog = sync.OnceValue(func() *i18n.Catalog {
	c, err := i18n.NewCatalog(translationFS, "translations")
	if err != nil {
		panic(err) // the translations are embedded: a broken file is a defect every test catches
	}
	return c
})

// msg marks s as a message that is translated where it is shown, not here.
func msg(s string) string { return s }

// langFlag returns the value of --lang in args, before any "--", and whether it is
// there. The language must be known before cobra parses the flags: the commands'
// short help is written in it.
func langFlag(args []string) (string, bool) {
	for i, arg := range args {
		switch {
		case arg == "--":
			return "", false
		case arg == "--lang" && i+1 < len(args):
			return args[i+1], true
		case strings.HasPrefix(arg, "--lang="):
			return strings.TrimPrefix(arg, "--lang="), true
		}
	}
	return "", false
}

// chooseLang returns the language to write in while the flags are parsed: --lang,
// else HUBNET_LANG, else the locale of LC_ALL, LC_MESSAGES or LANG, else English.
// A --lang hubnet is not written in is refused by setLang, later.
func chooseLang(args []string, getenv func(string) string) *i18n.Lang {
	cat := cliCatalog()
	code, ok := langFlag(args)
	if !ok {
		code = getenv(envName("lang"))
	}
	if l := cat.Lang(strings.ToLower(strings.TrimSpace(code))); l != nil {
		return l
	}
	if code := i18n.FromEnv(getenv); code != "" {
		return cat.Lang(code)
	}
	return cat.Lang("en")
}

// setLang sets the language from --lang, given or read from the environment or the
// config file, once the flags are parsed.
func (a *app) setLang() error {
	if a.langCode == "" {
		return nil
	}
	l := cliCatalog().Lang(strings.ToLower(strings.TrimSpace(a.langCode)))
	if l == nil {
		return usagef("--lang is the language of hubnet's messages, one of %s; got %q (a search names the SME's languages with --languages)", languageCodes(), a.langCode)
	}
	a.lang = l
	return nil
}

// T translates the message key into the command line's language and fills in args
// as fmt does. Whole numbers are written without grouping, as the English command
// line always wrote them: many are ports, revisions or IDs, and scripts read them.
func (a *app) T(key string, args ...any) string {
	if a.lang == nil { // an app made by a test, not by execute
		a.lang = cliCatalog().Lang("en")
	}
	if len(args) == 0 {
		return a.lang.T(key)
	}
	vals := make([]any, len(args))
	for i, v := range args {
		switch n := v.(type) {
		case int:
			vals[i] = plainInt(n)
		case int64:
			vals[i] = plainInt(n)
		case uint64:
			vals[i] = plainUint(n)
		default:
			vals[i] = v
		}
	}
	return a.lang.T(key, vals...)
}

// plainInt and plainUint are whole numbers that fmt writes, not the language's
// printer: 12345, not 12.345.
type (
	plainInt  int64
	plainUint uint64
)

func (n plainInt) Format(f fmt.State, verb rune) { fmt.Fprintf(f, fmt.FormatString(f, verb), int64(n)) }
func (n plainUint) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), uint64(n))
}

// techLabel is a technology's label in the language; the slug when unknown.
func (a *app) techLabel(slug string) string {
	if t, ok := protocol.TechnologyBySlug(slug); ok {
		return a.lang.Text(t.Label)
	}
	return slug
}

// familyLabel is a service family's label in the language.
func (a *app) familyLabel(f protocol.Family) string {
	if fi, ok := protocol.FamilyBySlug(string(f)); ok {
		return a.lang.Text(fi.Label)
	}
	return string(f)
}

// languageCodes are the codes --lang takes, for its help and its error.
func languageCodes() string { return strings.Join(slices.Clone(i18n.Languages), ", ") }

// cliWords are words the node writes that the command line shows translated with
// Text: the states of a token and the roles of people.
var cliWords = []string{msg("active"), msg("expired"), msg("revoked"), msg("advisor"), msg("operator")}
