package consoletest

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// Browser is a client of one hub's console. Every response it gets is checked with
// CheckSecure.
type Browser struct {
	Base string // the console's URL, http://host:port
	t    testing.TB
	hc   *http.Client
}

// NewBrowser returns a browser of hub h's console, signed out.
func NewBrowser(t testing.TB, h *nodetest.Hub) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, Base: "http://" + h.HTTPAddr(), hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Page is a response of the console.
type Page struct {
	Status int
	Header http.Header
	Body   string
}

// Text is the body with HTML entities decoded, for comparing with what a user reads.
func (p Page) Text() string { return html.UnescapeString(p.Body) }

// Do sends req with the browser's cookies and returns the response, checked.
func (b *Browser) Do(req *http.Request) Page {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := Page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
	CheckSecure(b.t, req.Method+" "+req.URL.RequestURI(), p)
	return p
}

// Get gets path, such as "/search?tech=robotics".
func (b *Browser) Get(path string) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.Base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Do(req)
}

// Post posts form to path, as a browser submits a form.
func (b *Browser) Post(path string, form url.Values) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

var (
	csrfField    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	inlineScript = regexp.MustCompile(`(?i)<script|\son[a-z]+\s*=|\sstyle\s*=|javascript:`)
)

// CSRF returns the CSRF token of the first form on the page.
func (p Page) CSRF(t testing.TB) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", p.Body)
	}
	return m[1]
}

// CheckSecure checks the headers every console response carries and that an HTML
// page runs no inline script or style.
func CheckSecure(t testing.TB, what string, p Page) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
	} {
		if got := p.Header.Get(k); got != want {
			t.Errorf("%s: %s is %q, want %q", what, k, got, want)
		}
	}
	csp := p.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy allows inline code: %q", what, csp)
	}
	if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		if m := inlineScript.FindString(p.Body); m != "" {
			t.Errorf("%s: inline script or style %q in the page", what, m)
		}
	}
}

// SignIn signs b in to hub h's console with its operator token.
func (b *Browser) SignIn(h *nodetest.Hub) {
	b.t.Helper()
	token, err := node.ReadToken(h.Dir)
	if err != nil {
		b.t.Fatal(err)
	}
	login := b.Get("/login")
	p := b.Post("/login", url.Values{"csrf": {login.CSRF(b.t)}, "token": {token}, "next": {"/me"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/me" {
		b.t.Fatalf("sign in: got %d to %q, want 303 to /me\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
}

var (
	formInput    = regexp.MustCompile(`<input ([^>]*)>`)
	formAttr     = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
	formTextarea = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`)
	formSelect   = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	formSelected = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// Form returns the values the form with the id would send as the page fills it in.
func (p Page) Form(t testing.TB, id string) url.Values {
	t.Helper()
	start := strings.Index(p.Body, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no form %s in the page:\n%s", id, p.Body)
	}
	body := p.Body[start:]
	body = body[:strings.Index(body, "</form>")]
	v := url.Values{}
	for _, m := range formInput.FindAllStringSubmatch(body, -1) {
		attrs := map[string]string{}
		for _, a := range formAttr.FindAllStringSubmatch(m[1], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		if attrs["name"] == "" || (attrs["type"] == "checkbox" && !strings.Contains(m[1], " checked")) {
			continue
		}
		v.Add(attrs["name"], attrs["value"])
	}
	for _, m := range formTextarea.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range formSelect.FindAllStringSubmatch(body, -1) {
		if s := formSelected.FindStringSubmatch(m[2]); s != nil {
			v.Set(m[1], html.UnescapeString(s[1]))
		} else {
			v.Set(m[1], "")
		}
	}
	return v
}
