package console

// The plumbing of the console: routes, templates, access control, security headers
// and rendering. session.go signs people in and guards forms, pages.go,
// profile.go and referrals.go are the pages, and form.go the forms' values and
// field errors.

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

//go:embed templates/*.html
var consoleTemplateFS embed.FS

//go:embed static
var consoleStaticFS embed.FS

// consoleMaxForm is the largest form body the console reads, in bytes: a referral
// with a 4,000-character need is well under it.
const consoleMaxForm = 64 << 10

// contentSecurityPolicy allows the console's own stylesheet and nothing inline: no
// scripts at all, no frames, forms posted only to the node itself.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Config configures a console. Build one with DefaultConfig and change what you need.
type Config struct {
	// Public lets the directory pages (search and hub pages) be read without signing
	// in; referrals, reports and the hub's own pages always need the operator token.
	// Default true; false puts every page behind sign-in.
	Public bool
}

// DefaultConfig returns the configuration of a hub's console: the directory public.
func DefaultConfig() Config {
	return Config{Public: true}
}

// Console is the web console of one node, an [http.Handler] that serves its pages
// alone. Every field is set by New and read-only after, except sessions, which locks
// itself; it is safe for concurrent use.
type Console struct {
	n        *node.Node
	cfg      Config
	pages    map[string]map[string]*template.Template // language code -> page name -> layout and page, parsed once
	sessions *webSessions
	cop      *http.CrossOriginProtection
	css      string // URL of the stylesheet, versioned by its hash so it can be cached
	mux      *http.ServeMux
}

// consoleTemplates parses the embedded templates once per process and language:
// the layout and partials with each page's file. A fixed message, {{t "Search"}},
// is translated as the template is parsed (staticMessage), so a page pays for
// translation only where a message has values or depends on the data.
var consoleTemplates = sync.OnceValues(func() (map[string]map[string]*template.Template, error) {
	files, err := fs.Glob(consoleTemplateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	src := map[string]string{}
	for _, f := range files {
		b, err := consoleTemplateFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		src[strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")] = string(b)
	}
	out := map[string]map[string]*template.Template{}
	for code, l := range webLangs() {
		translate := func(s string) string {
			return staticMessage.ReplaceAllStringFunc(s, func(m string) string {
				key, err := strconv.Unquote(staticMessage.FindStringSubmatch(m)[1])
				if err != nil {
					return m // left for the parser to report
				}
				return html.EscapeString(l.T(key))
			})
		}
		base, err := template.New("console").Funcs(webFuncs).Funcs(l.funcs()).Parse(translate(src["layout"]))
		if err != nil {
			return nil, fmt.Errorf("console layout in %s: %w", code, err)
		}
		out[code] = map[string]*template.Template{}
		for name, text := range src {
			if name == "layout" {
				continue
			}
			t, err := template.Must(base.Clone()).New(name + ".html").Parse(translate(text))
			if err != nil {
				return nil, fmt.Errorf("console page %s in %s: %w", name, code, err)
			}
			out[code][name] = t
		}
	}
	return out, nil
})

// staticMessage is a fixed message of a template, {{t "…"}}, alone in its action.
var staticMessage = regexp.MustCompile(`\{\{t ("(?:[^"\\]|\\.)*")\}\}`)

// consoleCSS is the stylesheet's versioned URL.
var consoleCSS = sync.OnceValue(func() string {
	b, err := consoleStaticFS.ReadFile("static/console.css")
	if err != nil {
		return "/static/console.css"
	}
	sum := sha256.Sum256(b)
	return "/static/console.css?v=" + hex.EncodeToString(sum[:6])
})

// New returns the console of node n. Its sessions live in it, so a node serves one
// console: Mount it, or serve it on a listener of its own.
func New(n *node.Node, cfg Config) *Console {
	pages, err := consoleTemplates()
	if err != nil {
		panic(err) // the templates are embedded: a parse error is a defect caught by every test
	}
	c := &Console{n: n, cfg: cfg, pages: pages, sessions: newWebSessions(), cop: http.NewCrossOriginProtection(),
		css: consoleCSS(), mux: http.NewServeMux()}
	c.routes(c.mux)
	return c
}

// Mount adds the console of node n to n's HTTP server, beside the API, with
// [node.Node.Handle]. Call it once, before n.Start.
func Mount(n *node.Node, cfg Config) {
	// Route by route rather than the whole console at "/": the node's mux then
	// answers a path of the API with a method it does not serve (POST /healthz) with
	// 405, not with the console's 404.
	New(n, cfg).routes(n)
}

// ServeHTTP serves the console's pages; any other path is not found.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mux.ServeHTTP(w, r)
}

// router is where the console's routes go: an [*http.ServeMux], or a [*node.Node]
// before Start.
type router interface {
	Handle(pattern string, h http.Handler)
}

// routes adds the console's pages to mux.
func (c *Console) routes(mux router) {
	mux.Handle("GET /{$}", c.handle(webOpen, func(w http.ResponseWriter, r *http.Request, v *webView) {
		http.Redirect(w, r, "/search", http.StatusSeeOther)
	}))
	mux.Handle("GET /static/", c.static())
	mux.Handle("GET /favicon.ico", c.favicon())
	mux.Handle("GET /language", c.handle(webOpen, c.setLanguage))
	mux.Handle("GET /login", c.handle(webOpen, c.loginPage))
	mux.Handle("POST /login", c.handle(webOpen, c.login))
	mux.Handle("POST /login/email", c.handle(webOpen, c.askLink))
	mux.Handle("POST /logout", c.handle(webOpen, c.logout))
	mux.Handle("GET /search", c.handle(webDirectory, c.search))
	mux.Handle("GET /hubs/{id}", c.handle(webDirectory, c.hub))
	mux.Handle("GET /refer", c.handle(webSignedIn, c.referPage))
	mux.Handle("POST /refer", c.handle(webSignedIn, c.refer))
	mux.Handle("GET /referrals", c.handle(webSignedIn, c.referrals))
	mux.Handle("GET /worklist", c.handle(webSignedIn, c.worklist))           // worklist.go
	mux.Handle("GET /notifications", c.handle(webSignedIn, c.notifications)) // notifications.go
	mux.Handle("POST /notifications", c.handle(webSignedIn, c.saveTopics))
	mux.Handle("GET /referrals/{id}", c.handle(webSignedIn, c.referral))
	mux.Handle("POST /referrals/{id}/{action}", c.handle(webSignedIn, c.act))
	mux.Handle("GET /me", c.handle(webSignedIn, c.me))
	mux.Handle("POST /me/profile", c.handle(webOperator, c.saveProfile))
	mux.Handle("POST /me/capacity/{family}", c.handle(webOperator, c.setCapacity))
	c.peopleRoutes(mux) // people.go: sign-in links, people and API tokens
	mux.Handle("GET /reports", c.handle(webSignedIn, c.reports))
	mux.Handle("GET /reports.csv", c.handle(webSignedIn, c.reportCSV))
}

// webAccess says who may see a page.
type webAccess int

const (
	webOpen      webAccess = iota // anyone: sign-in and sign-out check their own forms
	webDirectory                  // anyone when Config.Public, else a session
	webSignedIn                   // anyone signed in: a person, or the operator token
	webOperator                   // someone signed in with the scope admin: an operator
)

// webView is what every console handler knows about its request.
type webView struct {
	session string     // the session cookie's value when it names a live session, else ""
	csrf    string     // the CSRF token of the session
	actor   node.Actor // who the session signs in
	lang    *webLang   // the language to answer in
}

// consoleHandler serves one console page.
type consoleHandler func(w http.ResponseWriter, r *http.Request, v *webView)

// handle wraps a page: security headers, the session, access control, and for a
// POST a bounded body, a cross-origin check and, with a session, its CSRF token.
func (c *Console) handle(a webAccess, h consoleHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webSecurityHeaders(w.Header())
		w.Header().Set("Cache-Control", "no-store")
		v := &webView{}
		if s, a, ok := c.session(r); ok {
			v.session, v.csrf, v.actor = s, c.sessions.csrf(s), a
		}
		v.lang = requestLang(r, v.actor.Language)
		w.Header().Set("Content-Language", v.lang.Code)
		w.Header().Add("Vary", "Accept-Language, Cookie")
		post := r.Method == http.MethodPost
		if post {
			if err := c.cop.Check(r); err != nil {
				c.fail(w, r, v, http.StatusForbidden, v.lang.T("Refused: this form was sent from another site."))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, consoleMaxForm)
			if err := r.ParseForm(); err != nil {
				// Only a form over the limit is too large; one that does not decode
				// (a bad %-escape) is a bad request.
				status := http.StatusBadRequest
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					status = http.StatusRequestEntityTooLarge
				}
				c.fail(w, r, v, status, v.lang.T("The form could not be read: %s", err.Error()))
				return
			}
		}
		if a == webSignedIn || a == webOperator || (a == webDirectory && !c.cfg.Public) {
			if v.session == "" {
				if post {
					c.fail(w, r, v, http.StatusForbidden, v.lang.T("Your session has ended: sign in again, then send the form again."))
					return
				}
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			if post && !c.sessions.checkCSRF(v.session, r.PostForm.Get("csrf")) {
				c.fail(w, r, v, http.StatusForbidden, v.lang.T("Refused: the form's security token is missing or out of date. Reload the page and try again."))
				return
			}
			if a == webOperator && !v.actor.Can(api.ScopeAdmin) {
				c.fail(w, r, v, http.StatusForbidden, v.lang.T("Refused: this is for the hub's operators. You are signed in as %s, %s: advisors search, refer, act on referrals and read reports, but do not change the hub's profile, capacity, people or tokens.",
					v.actor.Name, v.lang.T("an "+v.actor.Role)))
				return
			}
		}
		h(w, r, v)
	})
}

// webSecurityHeaders sets the headers every console response carries.
func webSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

// static serves the embedded stylesheet and icon; no directory listings.
func (c *Console) static() http.Handler {
	sub, _ := fs.Sub(consoleStaticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webSecurityHeaders(w.Header())
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// consoleIcon is the path of the console's icon in the embedded static files.
const consoleIcon = "/static/hub.svg"

// favicon answers the request every browser makes for /favicon.ico with the
// console's SVG icon, which the layout also links.
func (c *Console) favicon() http.Handler {
	static := c.static()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = consoleIcon
		static.ServeHTTP(w, r2)
	})
}

// webPage is what the layout shows around every page.
type webPage struct {
	Title    string
	Nav      string // the menu item to mark as current
	Hub      string // this hub's ID
	HubName  string
	SignedIn bool
	Who      string // who is signed in: a person's name, or "operator"
	Role     string // their role
	Operator bool   // signed in with the scope admin
	CSRF     string
	CSS      string
	Now      time.Time
	Lang     string        // the page's language code, for <html lang>
	Langs    []webLangLink // the language switch
	Data     any
}

// render executes the page into a buffer first, so that a template error gives a
// clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, v *webView, status int, name, title, nav string, data any) {
	t, ok := c.pages[v.lang.Code][name]
	if !ok {
		http.Error(w, "no such console page: "+name, http.StatusInternalServerError)
		return
	}
	who := v.actor.Name
	if v.actor.Kind == node.ActorOperator {
		who = v.lang.T(who) // "operator", a role rather than a name
	}
	p := webPage{Title: title, Nav: nav, Hub: c.n.ID(), HubName: c.n.ID(), SignedIn: v.session != "", CSRF: v.csrf,
		Who: who, Role: v.actor.Role, Operator: v.actor.Can(api.ScopeAdmin),
		CSS: c.css, Now: c.n.Now(), Lang: v.lang.Code, Langs: langLinks(v.lang, pageURI(r)), Data: data}
	if self, err := c.n.Profile(); err == nil && self.Name != "" {
		p.HubName = self.Name
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.n.Logger().Error("console page", "page", name, "err", err)
		http.Error(w, "the page could not be shown: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// pageURI is where the language switch goes back to: the page itself, or for a
// form's answer the page the form was on (its Referer, when it is this site's),
// since the switch's link cannot send the form again.
func pageURI(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path != "" {
		return ref.RequestURI()
	}
	return "/"
}

// webMessage is the data of a page that only says something.
type webMessage struct {
	Heading  string
	Message  string
	Link     string
	LinkText string
}

// fail shows a page with a message and the status.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *webView, status int, msg string) {
	mp := webMessage{Heading: http.StatusText(status), Message: msg}
	switch status {
	case http.StatusForbidden:
		mp.Heading = v.lang.T("Not allowed")
		if v.session == "" {
			mp.Link, mp.LinkText = "/login", v.lang.T("Sign in")
		}
	case http.StatusNotFound:
		mp.Heading = v.lang.T("Not found")
		mp.Link, mp.LinkText = "/search", v.lang.T("Find a partner")
	}
	c.render(w, r, v, status, "message", mp.Heading, "", mp)
}

// webFuncs are the helpers the templates use that do not depend on the language;
// webLang.funcs adds those that do.
var webFuncs = template.FuncMap{
	"levels":  webLevel,
	"region":  webRegion,
	"iso":     func(t time.Time) string { return webTime(t, time.RFC3339) },
	"fid":     webFieldID,
	"join":    strings.Join,
	"strings": func(xs ...string) []string { return xs },
	"counts": func(head string, code bool, rows []webCount) webCounts {
		return webCounts{Head: head, Code: code, Rows: rows}
	},
	"levelsel": func(f *webForm, name, label string) webLevelSelect {
		return webLevelSelect{Form: f, Name: name, Label: label}
	},
	"deref":  func(p *int) int { return *p },
	"stale":  func(h api.Hit, fam protocol.Family) bool { return fam != "" && slices.Contains(h.StaleCapacity, fam) },
	"fderef": func(p *float64) float64 { return *p },
	"add":    func(a, b int) int { return a + b },
}

// webRules are the rules of field problems that people meet most, from the
// protocol's checks and the console's own, which the console translates; any other
// rule shows in English, next to its translated label.
var webRules = []string{
	"is required",
	"must be a plain e-mail address such as info@sme.example.eu",
	"must be a plain e-mail address such as partners@hub.eu",
	"must be an absolute http or https URL",
	"must be after given_at",
	"must not be in the future",
	"must be in the future: the consent has ended",
	"must be a NACE Rev. 2 section (A-U) or division (01-99)",
	"must not be negative",
	"is required when any score is given: 0 to 100",
}

// webRulePrefixes are rules that end with the value that broke them: the rule, and
// its message with the value as %s.
var webRulePrefixes = [][2]string{
	{"must be a whole number, got ", "must be a whole number, got %s"},
	{"must be a date such as 2026-11-22, got ", "must be a date such as 2026-11-22, got %s"},
}

// rule translates the rule of a field problem into l when it is one of webRules or
// webRulePrefixes.
func (l *webLang) rule(r string) string {
	if slices.Contains(webRules, r) {
		return l.T(r)
	}
	for _, p := range webRulePrefixes {
		if rest, ok := strings.CutPrefix(r, p[0]); ok {
			return l.T(p[1], rest)
		}
	}
	return r
}

// webDefaultUnit is the unit of capacity a hub gets when it names none (node's
// SetCapacity); the console translates it, and shows any other unit as written.
const webDefaultUnit = "SMEs per month"

// funcs are the template helpers that write in language l.
func (l *webLang) funcs() template.FuncMap {
	return template.FuncMap{
		"t":        func(key string) string { return l.T(key) }, // not variadic: a call costs no slice
		"tf":       l.T,
		"num":      l.Num,
		"date":     l.Date,
		"datetime": l.DateTime,
		"rel":      l.Rel,
		"reach": func(now time.Time, reachable bool, lastSeen time.Time) webReach {
			return webReach{Reachable: reachable, LastSeen: lastSeen, Ago: l.Rel(now, lastSeen)}
		},
		"score":     func(f float64) string { return l.p.Sprintf("%.1f", f) },
		"tech":      func(slug string) string { return l.T(webTech(slug)) },
		"service":   func(slug string) string { return l.T(webService(slug)) },
		"family":    func(f protocol.Family) string { return l.T(webFamily(f)) },
		"sector":    func(code string) string { return l.T(webSector(code)) },
		"country":   l.Country,
		"language":  l.Language,
		"category":  func(c protocol.Category) string { return l.T(webCategory(c)) },
		"hubtype":   func(t protocol.HubType) string { return l.T(webHubType(t)) },
		"code":      func(code string) string { return l.T(webCode(code)) },
		"state":     func(s any) string { return l.T(webState(protocol.State(fmt.Sprint(s)))) },
		"sentence":  func(s string) string { return webSentence(l.T(s)) },
		"rule":      l.rule,
		"why":       func(h api.Hit) string { return l.lang.Why(h.Why, h.Explanation) },
		"countries": l.Countries,
		// unit translates the unit of capacity that a hub gets when it names none.
		"unit": func(u string) string {
			if u == webDefaultUnit {
				return l.T(u)
			}
			return u
		},
	}
}

func webTime(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

// webCounts is a table of a KPI breakdown, for the "counts" template.
type webCounts struct {
	Head string
	Code bool // show the keys, which are codes
	Rows []webCount
}

// webLevelSelect is the level select of one specialisation, for the "levelselect"
// template.
type webLevelSelect struct {
	Form        *webForm
	Name, Label string
}

// webReach is whether a hub is reachable, for the "reach" template.
type webReach struct {
	Reachable bool
	LastSeen  time.Time
	Ago       string
}

// webLevel draws a specialisation level 1-5 as filled and empty dots.
func webLevel(l int) string {
	l = min(max(l, 0), protocol.MaxLevel)
	return strings.Repeat("●", l) + strings.Repeat("○", protocol.MaxLevel-l)
}

func webTech(slug string) string {
	if t, ok := protocol.TechnologyBySlug(slug); ok {
		return t.Label
	}
	return slug
}

func webService(slug string) string {
	if s, ok := protocol.ServiceBySlug(slug); ok {
		return s.Label
	}
	return slug
}

// webStates name the states of a referral for people. A referral the receiver
// declined is rejected, the one name of the state in the CLI, the API and the docs
// (docs/referrals.md); the filter of the lists also takes "declined".
var webStates = map[protocol.State]string{
	protocol.StateInProgress: "in progress",
	protocol.StateOnHold:     "on hold",
}

// webEvents are the events a referral's history shows, each translated by its
// name.
var webEvents = []protocol.Event{protocol.EventSend, protocol.EventReceive, protocol.EventAccept, protocol.EventDecline,
	protocol.EventHold, protocol.EventAnswer, protocol.EventStart, protocol.EventComplete, protocol.EventFail,
	protocol.EventCancel, protocol.EventExpire}

// webState names a referral's state for people.
func webState(s protocol.State) string {
	if l, ok := webStates[s]; ok {
		return l
	}
	return string(s)
}

func webFamily(f protocol.Family) string {
	if fi, ok := protocol.FamilyBySlug(string(f)); ok {
		return fi.Label
	}
	return string(f)
}

func webSector(code string) string {
	if s, ok := protocol.SectorByCode(code); ok {
		return s.Name
	}
	return ""
}

func webRegion(code string) string {
	if r, ok := protocol.RegionByCode(code); ok {
		return r.Name
	}
	return ""
}

func webCountry(code string) string {
	if c, ok := protocol.CountryByCode(code); ok {
		return c.Name
	}
	return code
}

func webLanguage(tag string) string {
	if name := protocol.LanguageName(tag); name != "" {
		return name
	}
	return tag
}

// webCategories name the customer categories for people.
var webCategories = map[protocol.Category]string{
	protocol.CategoryMicro:       "Micro enterprise (fewer than 10 staff)",
	protocol.CategorySmall:       "Small enterprise (fewer than 50 staff)",
	protocol.CategoryMedium:      "Medium-sized enterprise (fewer than 250 staff)",
	protocol.CategorySmallMidCap: "Small mid-cap (fewer than 500 staff)",
	protocol.CategoryPublic:      "Public sector organisation",
	protocol.CategoryOther:       "Other",
}

func webCategory(c protocol.Category) string {
	if l, ok := webCategories[c]; ok {
		return l
	}
	return string(c)
}

func webHubType(t protocol.HubType) string {
	if t == protocol.HubSoE {
		return "Seal of Excellence"
	}
	return string(t)
}

// webCodes name the reason and outcome codes of referrals for people.
var webCodes = map[string]string{
	"out-of-scope":        "Outside our scope",
	"no-capacity":         "No capacity",
	"not-eligible":        "SME not eligible",
	"needs-more-info":     "Needs more information",
	"duplicate":           "Duplicate",
	"redirected":          "Redirected to another hub",
	"sme-unreachable":     "SME unreachable",
	"sme-withdrew":        "SME withdrew",
	"other":               "Other",
	"consent-withdrawn":   "Consent withdrawn",
	"sent-in-error":       "Sent in error",
	"service-delivered":   "Service delivered",
	"partially-delivered": "Partially delivered",
	"referred-on":         "Referred on to another provider",
}

func webCode(code string) string {
	if l, ok := webCodes[code]; ok {
		return l
	}
	return code
}

// webSentence starts s with a capital letter, for a label that begins a line.
func webSentence(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// webFieldID is the HTML id of a form field: "need.sector" -> "f-need-sector".
func webFieldID(name string) string {
	return "f-" + strings.NewReplacer(".", "-", "_", "-").Replace(name)
}
