package console

// The console's languages: which one a request gets, the message catalogue, and
// dates and numbers written the way each language writes them.
//
// Messages are keyed by their English text. translations/<code>.json holds, for
// each language but English, the translation of every key; the vocabulary's labels
// are translated in internal/i18n, for the command line too. A key a file lacks is
// shown in English, and TestCatalog_complete fails on it. Templates translate with
// {{t "English text" args...}}, Go code with webLang.T.

import (
	"embed"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hubnet-eu/hubnet/internal/i18n"
	"github.com/hubnet-eu/hubnet/protocol"
)

//go:embed translations/*.json
var translationFS embed.FS

// webLanguages are the languages the console is written in, English first: it is
// the fallback, and the language of the keys.
var webLanguages = []consoleLanguage{
	{"en", "English", "2 Jan 2006", "2 Jan 2006 15:04 UTC"},
	{"de", "Deutsch", "02.01.2006", "02.01.2006 15:04 UTC"},
	{"fr", "Français", "02/01/2006", "02/01/2006 15:04 UTC"},
	{"it", "Italiano", "02/01/2006", "02/01/2006 15:04 UTC"},
	{"es", "Español", "02/01/2006", "02/01/2006 15:04 UTC"},
	{"fi", "Suomi", "2.1.2006", "2.1.2006 klo 15.04 UTC"},
	{"pl", "Polski", "02.01.2006", "02.01.2006 15:04 UTC"},
}

// consoleLanguage is one language of the console: its BCP 47 code, its name in
// itself, and how it writes a day and a time (Go layouts, numeric per CLDR's
// short formats).
type consoleLanguage struct {
	Code, Name     string
	DateLayout     string
	DateTimeLayout string
}

// langCookie names the cookie that keeps a browser's choice of language. It is the
// same for every hub on a host: a person reads every console in one language.
const langCookie = "hubnet_lang"

// webCatalog holds every translation, the console's and the vocabulary's, built once
// from the embedded files.
var webCatalog = sync.OnceValues(func() (*i18n.Catalog, error) {
	return i18n.NewCatalog(translationFS, "translations")
})

// readTranslations reads translations/<code>.json: English key -> translation.
func readTranslations(code string) (map[string]string, error) {
	return i18n.ReadFile(translationFS, "translations/"+code+".json")
}

// webMatcher picks the nearest language the console has.
var webMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(webLanguages))
	for i, l := range webLanguages {
		tags[i] = language.MustParse(l.Code)
	}
	return language.NewMatcher(tags)
}()

// webLang is the language of one request, with its printer. Its methods are safe
// for concurrent use.
type webLang struct {
	consoleLanguage
	tag  language.Tag
	lang *i18n.Lang
	p    *message.Printer

	// fixed caches the translations of messages without values, which pages show by
	// the hundred: key -> text. It holds at most webCacheMax, as a template may
	// translate a value that came from elsewhere (a state, an event).
	fixed  sync.Map
	cached atomic.Int32

	countriesOnce sync.Once
	countries     []protocol.Country // in the language's order; set once by Countries
}

// webCacheMax bounds webLang.fixed; the console has about 550 messages.
const webCacheMax = 4096

// webLangs are the console's languages by code, each with its printer, made once.
var webLangs = sync.OnceValue(func() map[string]*webLang {
	cat, err := webCatalog()
	if err != nil {
		panic(err) // the translations are embedded: a broken file is a defect every test catches
	}
	m := map[string]*webLang{}
	for _, l := range webLanguages {
		cl := cat.Lang(l.Code)
		m[l.Code] = &webLang{consoleLanguage: l, tag: cl.Tag, lang: cl, p: cl.Printer()}
	}
	return m
})

// langByCode returns the console's language code is or is nearest to, and whether
// the console has one near enough; English when not.
func langByCode(code string) (*webLang, bool) {
	tag, err := language.Parse(strings.TrimSpace(code))
	if err != nil || code == "" {
		return webLangs()["en"], false
	}
	_, i, conf := webMatcher.Match(tag)
	if conf < language.High {
		return webLangs()["en"], false
	}
	return webLangs()[webLanguages[i].Code], true
}

// requestLang returns the language to show r in: the browser's choice from the
// language switch (a cookie), else the signed-in person's language, else the best
// of the browser's Accept-Language, else English.
func requestLang(r *http.Request, person string) *webLang {
	if ck, err := r.Cookie(langCookie); err == nil {
		if l, ok := langByCode(ck.Value); ok {
			return l
		}
	}
	if l, ok := langByCode(person); ok {
		return l
	}
	if accept := r.Header.Get("Accept-Language"); accept != "" {
		tags, _, err := language.ParseAcceptLanguage(accept)
		if err == nil && len(tags) > 0 {
			_, i, conf := webMatcher.Match(tags...)
			if conf >= language.Low {
				return webLangs()[webLanguages[i].Code]
			}
		}
	}
	return webLangs()["en"]
}

// T translates the message key, an English text, and fills in args as fmt would,
// with numbers written the language's way.
func (l *webLang) T(key string, args ...any) string {
	if len(args) > 0 {
		return l.p.Sprintf(key, args...)
	}
	if s, ok := l.fixed.Load(key); ok {
		return s.(string)
	}
	s := l.p.Sprintf(key)
	if l.cached.Add(1) <= webCacheMax {
		l.fixed.Store(key, s)
	}
	return s
}

// Num writes a whole number the language's way: 1,234 or 1.234 or 1 234.
func (l *webLang) Num(n int) string { return l.p.Sprint(n) }

// Date writes the day of t, in UTC.
func (l *webLang) Date(t time.Time) string { return webTime(t, l.DateLayout) }

// DateTime writes the day and time of t, in UTC.
func (l *webLang) DateTime(t time.Time) string { return webTime(t, l.DateTimeLayout) }

// Rel says how long ago, or in how long, t is from now: "3 h ago", "in 2 d".
func (l *webLang) Rel(now, t time.Time) string {
	if t.IsZero() {
		return l.T("never")
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return l.T("just now")
	case d < time.Hour:
		s = l.T("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		s = l.T("%d h", int(d.Hours()))
	default:
		s = l.T("%d d", int(d.Hours()/24))
	}
	if future {
		return l.T("in %s", s)
	}
	return l.T("%s ago", s)
}

// Country names a country in the language, from CLDR, or in English.
func (l *webLang) Country(code string) string { return l.lang.Country(code) }

// Language names a language in the console's language, from CLDR, or in English.
func (l *webLang) Language(tag string) string { return l.lang.Language(tag) }

// Countries returns the countries of the vocabulary named in the language and in
// its alphabetical order ("Deutschland" under D), made once per language.
func (l *webLang) Countries() []protocol.Country {
	l.countriesOnce.Do(func() {
		out := make([]protocol.Country, len(protocol.Countries))
		for i, c := range protocol.Countries {
			out[i] = protocol.Country{Code: c.Code, Name: l.Country(c.Code)}
		}
		col := collate.New(l.tag, collate.IgnoreCase)
		slices.SortStableFunc(out, func(a, b protocol.Country) int { return col.CompareString(a.Name, b.Name) })
		l.countries = out
	})
	return l.countries
}

// webLangLink is one entry of the language switch.
type webLangLink struct {
	Code, Name, Href string
	Current          bool
}

// langLinks are the language switch's links for the page at uri.
func langLinks(current *webLang, uri string) []webLangLink {
	out := make([]webLangLink, len(webLanguages))
	for i, l := range webLanguages {
		out[i] = webLangLink{Code: l.Code, Name: l.Name, Current: l.Code == current.Code,
			Href: "/language?" + url.Values{"lang": {l.Code}, "next": {uri}}.Encode()}
	}
	return out
}

// setLanguage is GET /language?lang=de&next=/search: it keeps the choice in a
// cookie for a year and goes back to the page. Changing the language changes
// nothing else, so a link does it, and a page needs no form.
func (c *Console) setLanguage(w http.ResponseWriter, r *http.Request, v *webView) {
	q := r.URL.Query()
	l, ok := langByCode(q.Get("lang"))
	if !ok && q.Get("lang") != "en" {
		c.fail(w, r, v, http.StatusBadRequest, v.lang.T("The console has no language %q.", q.Get("lang")))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l.Code, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, webNext(q.Get("next")), http.StatusSeeOther)
}
