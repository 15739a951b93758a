package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console/consoletest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

var signInLink = regexp.MustCompile(`<code>http://[^<]+/login/link\?code=([^<]+)</code>`)

const password = "correct horse battery staple"

// addPerson has the operator's browser op add a person on the people page, and the
// person's own browser choose a password with the sign-in link the page shows; it
// returns the person's browser, signed in.
func addPerson(t *testing.T, h *nodetest.Hub, op *consoletest.Browser, name, email, role string) *consoletest.Browser {
	t.Helper()
	page := op.Get("/people")
	if page.Status != http.StatusOK {
		t.Fatalf("people page: %d\n%s", page.Status, page.Body)
	}
	p := op.Post("/people", url.Values{"csrf": {page.CSRF(t)}, "name": {name}, "email": {email}, "role": {role}})
	m := signInLink.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil || !strings.Contains(p.Text(), name+" was added") {
		t.Fatalf("add %s: %d, no sign-in link\n%s", email, p.Status, p.Body)
	}
	code, _ := url.QueryUnescape(m[1])
	br := consoletest.NewBrowser(t, h)
	link := br.Get("/login/link?code=" + url.QueryEscape(code))
	if link.Status != http.StatusOK || !strings.Contains(link.Body, `value="`+code+`"`) {
		t.Fatalf("link page: %d, code not filled in\n%s", link.Status, link.Body)
	}
	f := link.Form(t, "link")
	f.Set("password", password)
	f.Set("password2", password+"x")
	if p := br.Post("/login/link", f); p.Status != http.StatusBadRequest || !strings.Contains(p.Text(), "The two passwords differ") {
		t.Errorf("two passwords that differ: %d\n%s", p.Status, p.Body)
	}
	link = br.Get("/login/link?code=" + url.QueryEscape(code))
	f = link.Form(t, "link")
	f.Set("password", password)
	f.Set("password2", password)
	wantRedirect(t, "set password", br.Post("/login/link", f), "/referrals")
	// The link works once.
	other := consoletest.NewBrowser(t, h)
	f = other.Get("/login/link").Form(t, "link")
	f.Set("code", code)
	f.Set("password", password)
	f.Set("password2", password)
	if p := other.Post("/login/link", f); p.Status != http.StatusUnauthorized || !strings.Contains(p.Text(), "used already or expired") {
		t.Errorf("the link a second time: %d\n%s", p.Status, p.Body)
	}
	return br
}

func TestConsole_people(t *testing.T) {
	t.Parallel()
	a, b := twoHubs(t)
	opA, opB := consoletest.NewBrowser(t, a), consoletest.NewBrowser(t, b)
	opA.SignIn(a)
	opB.SignIn(b)
	aino := addPerson(t, a, opA, "Aino Virtanen", "aino@hub-1.example.eu", "advisor")
	bruno := addPerson(t, b, opB, "Bruno Rossi", "bruno@hub-2.example.eu", "advisor")

	// An advisor sees who they are, and none of the operators' pages.
	me := aino.Get("/me")
	if me.Status != http.StatusOK || !strings.Contains(me.Text(), `signed in as <span class="who">Aino Virtanen</span> (advisor)`) || strings.Contains(me.Body, `href="/people"`) {
		t.Errorf("advisor's /me: %d\n%s", me.Status, me.Body)
	}
	csrf := me.CSRF(t)
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/people", nil},
		{"GET", "/tokens", nil},
		{"POST", "/people", url.Values{"csrf": {csrf}, "name": {"Mallory"}, "email": {"mallory@hub-1.example.eu"}, "role": {"operator"}}},
		{"POST", "/tokens", url.Values{"csrf": {csrf}, "name": {"mine"}, "scope": {"admin"}}},
		{"POST", "/me/capacity/test-before-invest", url.Values{"csrf": {csrf}, "available": {"0"}, "maximum": {"5"}, "unit": {"SMEs per month"}}},
		{"POST", "/me/profile", url.Values{"csrf": {csrf}}},
	} {
		var p consoletest.Page
		if tc.method == "GET" {
			p = aino.Get(tc.path)
		} else {
			p = aino.Post(tc.path, tc.form)
		}
		if p.Status != http.StatusForbidden || !strings.Contains(p.Text(), "this is for the hub's operators. You are signed in as Aino Virtanen, an advisor") {
			t.Errorf("advisor %s %s: %d, want 403 saying why\n%s", tc.method, tc.path, p.Status, p.Body)
		}
	}
	if people, _ := a.People(); len(people) != 1 {
		t.Errorf("hub-1 has %d people after the advisor's tries, want 1", len(people))
	}
	if tokens, _ := a.Tokens(); len(tokens) != 0 {
		t.Errorf("hub-1 has %d tokens after the advisor's tries, want none", len(tokens))
	}

	// The advisor refers, the other hub's advisor accepts: the referral's page names
	// both, at both hubs, and shows both contact persons.
	refer := aino.Get("/refer?to=" + b.ID())
	f := url.Values{
		"csrf": {refer.CSRF(t)}, "to": {b.ID()},
		"need.sector": {"10"}, "need.region": {"FI193"}, "need.category": {"small"},
		"need.family": {"test-before-invest"}, "need.technologies": {"ai-decision-support"},
		"need.description": {"Wants to test machine vision for quality control on a bakery line."},
		"sme.name":         {"Leipomo Esimerkki Oy"}, "sme.contact_name": {"Aino Example"},
		"consent.given_by": {"managing director"}, "consent.given_at": {time.Now().UTC().Format(time.DateOnly)},
		"consent.purpose": {"referral for AI test-before-invest services"},
		"consent.until":   {time.Now().AddDate(0, 3, 0).Format(time.DateOnly)},
	}
	p := aino.Post("/refer", f)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("refer: %d\n%s", p.Status, p.Body)
	}
	id := strings.TrimPrefix(p.Header.Get("Location"), "/referrals/")
	nodetest.WaitState(t, b, id, protocol.StateReceived)
	page := bruno.Get("/referrals/" + id)
	p = bruno.Post("/referrals/"+id+"/accept", url.Values{"csrf": {page.CSRF(t)}, "note": {"We call the SME this week"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("accept: %d\n%s", p.Status, p.Body)
	}
	nodetest.WaitState(t, a, id, protocol.StateAccepted)
	for _, tc := range []struct {
		br          *consoletest.Browser
		here, there string
		hub         string
	}{
		{aino, "Aino Virtanen <aino@hub-1.example.eu>", "Bruno Rossi <bruno@hub-2.example.eu>", "hub-1"},
		{bruno, "Bruno Rossi <bruno@hub-2.example.eu>", "Aino Virtanen <aino@hub-1.example.eu>", "hub-2"},
	} {
		text := tc.br.Get("/referrals/" + id).Text()
		for _, want := range []string{"Aino Virtanen</span></td><th scope=\"row\">send", "Bruno Rossi</span></td><th scope=\"row\">accept"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s's referral page lacks %q", tc.hub, want)
			}
		}
		name := func(s string) string { n, _, _ := strings.Cut(s, " <"); return n }
		email := func(s string) string { _, e, _ := strings.Cut(s, " <"); return strings.TrimSuffix(e, ">") }
		for _, want := range []string{
			"<dt>Here</dt><dd>" + name(tc.here) + " <<a href=\"mailto:" + email(tc.here) + "\">",
			"<dt>At ", name(tc.there) + " <<a href=\"mailto:" + email(tc.there) + "\">",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s's referral page lacks %q", tc.hub, want)
			}
		}
	}

	// The operator makes a token with a scope, sees it once, and revokes it.
	page = opA.Get("/tokens")
	p = opA.Post("/tokens", url.Values{"csrf": {page.CSRF(t)}, "name": {"crm"}, "scope": {"read", "act"}, "expires": {"2099-01-01"}})
	tok := regexp.MustCompile(`<code>(hnt_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || tok == nil {
		t.Fatalf("make token: %d\n%s", p.Status, p.Body)
	}
	c, _ := api.NewClient("http://"+a.HTTPAddr(), tok[1])
	if _, err := c.Referral(t.Context(), id); err != nil {
		t.Errorf("read with the console's token: %v", err)
	}
	if again := opA.Get("/tokens"); strings.Contains(again.Body, tok[1]) || !strings.Contains(again.Body, "read, act") {
		t.Errorf("the tokens page shows the token again, or not its scopes\n%s", again.Body)
	}
	list, _ := a.Tokens()
	p = opA.Post("/tokens/"+list[0].ID+"/revoke", url.Values{"csrf": {page.CSRF(t)}})
	if p.Status != http.StatusOK || !strings.Contains(p.Text(), "The token crm was revoked") {
		t.Errorf("revoke: %d\n%s", p.Status, p.Body)
	}
	if _, err := c.Referral(t.Context(), id); err == nil {
		t.Error("a revoked token still reads referrals")
	}
}

type testClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestConsole_signInAsPerson(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: time.Now()}
	dir := t.TempDir()
	p := nodetest.Profile("hub-1")
	nodetest.Init(t, dir, nodetest.Network(t), "hub-1", &p)
	cfg := nodetest.Config(dir)
	cfg.Now, cfg.SessionIdle, cfg.SessionMax = clock.Now, 30*time.Minute, 8*time.Hour
	h := nodetest.StartConfig(t, cfg)
	op := consoletest.NewBrowser(t, h)
	op.SignIn(h)
	addPerson(t, h, op, "Aino Virtanen", "aino@hub-1.example.eu", "operator")

	br := consoletest.NewBrowser(t, h)
	login := br.Get("/login")
	f := login.Form(t, "login-person")
	f.Set("email", "aino@hub-1.example.eu")
	f.Set("password", "not the password")
	f.Set("next", "/reports")
	if p := br.Post("/login", f); p.Status != http.StatusUnauthorized || !strings.Contains(p.Text(), "Wrong e-mail address or password") ||
		!strings.Contains(p.Body, `value="aino@hub-1.example.eu"`) {
		t.Errorf("wrong password: %d\n%s", p.Status, p.Body)
	}
	f = br.Get("/login").Form(t, "login-person")
	f.Set("email", "Aino@hub-1.example.eu")
	f.Set("password", password)
	f.Set("next", "/reports")
	wantRedirect(t, "sign in", br.Post("/login", f), "/reports")
	if p := br.Get("/people"); p.Status != http.StatusOK || !strings.Contains(p.Text(), `signed in as <span class="who">Aino Virtanen</span> (operator)`) {
		t.Errorf("an operator's people page: %d\n%s", p.Status, p.Body)
	}
	clock.Add(29 * time.Minute)
	if p := br.Get("/referrals"); p.Status != http.StatusOK {
		t.Errorf("29 minutes idle: %d, want the page", p.Status)
	}
	clock.Add(31 * time.Minute)
	wantRedirect(t, "31 minutes idle", br.Get("/referrals"), "/login?next=%2Freferrals")

	// The operator token still signs in, as "operator", and its session ends too.
	if p := op.Get("/me"); p.Status == http.StatusOK {
		t.Errorf("the operator token's session after an idle hour: %d, want it ended", p.Status)
	}
	op.SignIn(h)
	if p := op.Get("/me"); !strings.Contains(p.Text(), `signed in as <span class="who">operator</span> (operator)`) {
		t.Errorf("operator token's /me\n%s", p.Body)
	}
}

var mailedCode = regexp.MustCompile(`/login/link\?code=(\S+)`)

// With a mail server, a sign-in link made on the people page goes to the person by
// e-mail and is not shown; a person asks for one on the sign-in page, which answers
// the same for an address nobody has, and throttles the asking.
func TestConsole_signInLinkByEmail(t *testing.T) {
	t.Parallel()
	ms := nodetest.StartMailServer(t)
	dir := t.TempDir()
	p := nodetest.Profile("hub-1")
	nodetest.Init(t, dir, nodetest.Network(t), "hub-1", &p)
	cfg := nodetest.Config(dir)
	cfg.Notify.SMTP = ms.SMTP()
	cfg.Limits = node.DefaultLimits()
	h := nodetest.StartConfig(t, cfg)

	op := consoletest.NewBrowser(t, h)
	op.SignIn(h)
	page := op.Get("/people")
	added := op.Post("/people", url.Values{"csrf": {page.CSRF(t)}, "name": {"Anna Beispiel"}, "email": {"anna@hub-1.example.eu"},
		"role": {"advisor"}, "language": {"de"}})
	if added.Status != http.StatusOK || !strings.Contains(added.Text(), "Anna Beispiel was added, and their sign-in link e-mailed to them") ||
		signInLink.MatchString(added.Body) || strings.Contains(added.Body, "/login/link?code=") {
		t.Errorf("add with a mail server: %d, want the link e-mailed and not shown\n%s", added.Status, added.Body)
	}
	if m := ms.Wait(t, "anna@hub-1.example.eu", 1); m.Language != "de" || !strings.Contains(m.Subject, "Ihr Anmeldelink") {
		t.Errorf("the link's e-mail %q in %q, want German", m.Subject, m.Language)
	}

	br := consoletest.NewBrowser(t, h)
	login := br.Get("/login")
	if !strings.Contains(login.Body, `id="login-email"`) || strings.Contains(login.Text(), "An operator of the hub gives you a one-time sign-in link") {
		t.Fatalf("sign-in page with a mail server offers no link by e-mail\n%s", login.Body)
	}
	ask := func(email string) consoletest.Page {
		t.Helper()
		f := br.Get("/login").Form(t, "login-email")
		f.Set("email", email)
		return br.Post("/login/email", f)
	}
	// What the page says, with the address typed put aside.
	asked := regexp.MustCompile(`id="link-asked">([^<]*)<`)
	answer := func(p consoletest.Page, email string) string {
		m := asked.FindStringSubmatch(p.Text())
		if m == nil {
			return "(no answer)"
		}
		return strings.ReplaceAll(m[1], email, "ADDRESS")
	}
	known, unknown := ask("anna@hub-1.example.eu"), ask("nobody@hub-1.example.eu")
	if known.Status != http.StatusOK || !strings.Contains(answer(known, "anna@hub-1.example.eu"), "If ADDRESS is the address of a person at this hub, a sign-in link is on its way") {
		t.Errorf("asked for Anna: %d\n%s", known.Status, known.Body)
	}
	if unknown.Status != known.Status || answer(unknown, "nobody@hub-1.example.eu") != answer(known, "anna@hub-1.example.eu") {
		t.Errorf("the answers for Anna and for nobody differ: %q and %q", answer(known, "anna@hub-1.example.eu"), answer(unknown, "nobody@hub-1.example.eu"))
	}
	m := ms.Wait(t, "anna@hub-1.example.eu", 2)
	code := mailedCode.FindStringSubmatch(m.Text)
	if code == nil {
		t.Fatalf("no link in the e-mail:\n%s", m.Text)
	}
	c, _ := url.QueryUnescape(code[1])
	f := br.Get("/login/link?code="+url.QueryEscape(c)).Form(t, "link")
	f.Set("password", password)
	f.Set("password2", password)
	wantRedirect(t, "the e-mailed link", br.Post("/login/link", f), "/referrals")
	if n := len(ms.To("nobody@hub-1.example.eu")); n != 0 {
		t.Errorf("%d e-mails to an address nobody has", n)
	}

	// Three links for one address, then it waits: for Anna, as for anybody.
	other := consoletest.NewBrowser(t, h)
	br = other
	ask("anna@hub-1.example.eu")
	ask("anna@hub-1.example.eu")
	p4 := ask("anna@hub-1.example.eu")
	if p4.Status != http.StatusTooManyRequests || p4.Header.Get("Retry-After") == "" ||
		!strings.Contains(p4.Text(), "Too many sign-in links were asked for this e-mail address") {
		t.Errorf("a fourth link for Anna: %d, want 429 with Retry-After\n%s", p4.Status, p4.Body)
	}

	// Without a mail server: no offer, and the operator sees the link.
	_, plain := twoHubs(t)
	br = consoletest.NewBrowser(t, plain)
	if p := br.Get("/login"); strings.Contains(p.Body, `id="login-email"`) || !strings.Contains(p.Text(), "An operator of the hub gives you a one-time sign-in link") {
		t.Errorf("sign-in page without a mail server offers a link by e-mail\n%s", p.Body)
	}
	f = br.Get("/login").Form(t, "login-person")
	f.Set("email", "anna@hub-1.example.eu")
	if p := br.Post("/login/email", f); p.Status != http.StatusConflict || !strings.Contains(p.Text(), "This hub sends no e-mails") {
		t.Errorf("asked without a mail server: %d\n%s", p.Status, p.Body)
	}
}
