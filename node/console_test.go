package node_test

import (
	"encoding/csv"
	"fmt"
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
	"github.com/hubnet-eu/hubnet/protocol"
)

// browser is a client of one hub's console, as a browser without JavaScript would
// be: a cookie jar, and redirects left for the test to see. Every response it gets
// is checked for the console's security headers and for inline script.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, h *nodetest.Hub) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: "http://" + h.HTTPAddr(), hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response of the console.
type page struct {
	status int
	header http.Header
	body   string
}

// text is the body with HTML entities decoded, for comparing with what a user reads.
func (p page) text() string { return html.UnescapeString(p.body) }

func (b *browser) do(req *http.Request) page {
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
	p := page{status: resp.StatusCode, header: resp.Header, body: string(body)}
	checkSecure(b.t, req.Method+" "+req.URL.RequestURI(), p)
	return p
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfField    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	inlineScript = regexp.MustCompile(`(?i)<script|\son[a-z]+\s*=|\sstyle\s*=|javascript:`)
)

// csrf returns the CSRF token of the first form on the page.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", p.body)
	}
	return m[1]
}

// checkSecure checks the headers every console response carries and that an HTML
// page runs no inline script or style.
func checkSecure(t *testing.T, what string, p page) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
	} {
		if got := p.header.Get(k); got != want {
			t.Errorf("%s: %s is %q, want %q", what, k, got, want)
		}
	}
	csp := p.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy allows inline code: %q", what, csp)
	}
	if strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
		if m := inlineScript.FindString(p.body); m != "" {
			t.Errorf("%s: inline script or style %q in the page", what, m)
		}
	}
}

// signIn signs b in to hub h's console with its operator token.
func (b *browser) signIn(h *nodetest.Hub) {
	b.t.Helper()
	token, err := node.ReadToken(h.Dir)
	if err != nil {
		b.t.Fatal(err)
	}
	login := b.get("/login")
	p := b.post("/login", url.Values{"csrf": {login.csrf(b.t)}, "token": {token}, "next": {"/me"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/me" {
		b.t.Fatalf("sign in: got %d to %q, want 303 to /me\n%s", p.status, p.header.Get("Location"), p.body)
	}
}

// wantRedirect checks that p redirects (303) to location.
func wantRedirect(t *testing.T, what string, p page, location string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.header.Get("Location") != location {
		t.Fatalf("%s: got %d to %q, want 303 to %q\n%s", what, p.status, p.header.Get("Location"), location, p.body)
	}
}

// consoleHubs starts hub-a, where the advisor works, and two hubs in robotics:
// hub-b, strong and with room, and hub-c, weaker.
func consoleHubs(t *testing.T) (a, b, c *nodetest.Hub) {
	t.Helper()
	net := nodetest.Network(t)
	pa, pb, pc := nodetest.Profile("hub-a"), nodetest.Profile("hub-b"), nodetest.Profile("hub-c")
	pb.Name, pc.Name = "Robo Coast", "Small Robot Lab"
	pb.Technologies = map[string]int{"robotics": 5, "ai-decision-support": 3}
	pb.Services = map[string]int{"prototyping": 4}
	pb.Sectors = map[string]int{"10": 5, "C": 3}
	pb.Regions = []string{"FI19"}
	pb.Capacity = map[protocol.Family]protocol.Capacity{protocol.FamilyTestBeforeInvest: {Available: 4, Maximum: 10, Unit: "SMEs per month"}}
	pc.Technologies = map[string]int{"robotics": 2}
	a = nodetest.Start(t, net, "hub-a", &pa)
	b = nodetest.Start(t, net, "hub-b", &pb, a.GossipAddr())
	c = nodetest.Start(t, net, "hub-c", &pc, a.GossipAddr())
	hubs := []*nodetest.Hub{a, b, c}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return a, b, c
}

func TestConsole_search(t *testing.T) {
	t.Parallel()
	a, _, _ := consoleHubs(t)
	br := newBrowser(t, a)

	wantRedirect(t, "GET /", br.get("/"), "/search")

	q := protocol.Query{Technologies: []string{"robotics"}, Family: protocol.FamilyTestBeforeInvest}
	want, err := a.Search(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Hits) != 2 || want.Hits[0].ID != "hub-b" || want.Hits[1].ID != "hub-c" {
		t.Fatalf("search: %+v", want.Hits)
	}
	p := br.get("/search?tech=robotics&family=test-before-invest")
	if p.status != http.StatusOK {
		t.Fatalf("search: status %d\n%s", p.status, p.body)
	}
	ib, ic := strings.Index(p.body, `href="/hubs/hub-b"`), strings.Index(p.body, `href="/hubs/hub-c"`)
	if ib < 0 || ic < 0 || ib > ic {
		t.Errorf("hub-b at %d and hub-c at %d in the results, want hub-b first", ib, ic)
	}
	for _, s := range []string{want.Hits[0].Explanation, want.Hits[1].Explanation, "2 hubs match", "Robo Coast"} {
		if !strings.Contains(p.text(), s) {
			t.Errorf("search page lacks %q", s)
		}
	}
	for _, s := range []string{`value="robotics" checked`, `value="test-before-invest" selected`, `aria-live="polite"`} {
		if !strings.Contains(p.body, s) {
			t.Errorf("search page lacks %s", s)
		}
	}

	// A bad query names each problem next to its field and keeps what was typed.
	p = br.get("/search?tech=robotics&region=XX999&text=vision+lab&min_capacity=lots")
	if p.status != http.StatusBadRequest {
		t.Fatalf("bad search: status %d, want 400", p.status)
	}
	for _, s := range []string{
		`<ul class="field-errors" id="e-region"><li><span class="vh">Error: </span>is not a NUTS 2021 region; use a level 2 or 3 code such as FI1C1</li></ul>`,
		`id="e-min-capacity"`, `must be a whole number, got "lots"`,
		`value="XX999"`, `value="vision lab"`, `value="lots"`, `value="robotics" checked`,
		`aria-describedby="h-region e-region" aria-invalid="true"`,
	} {
		if !strings.Contains(p.text(), s) {
			t.Errorf("bad search page lacks %s", s)
		}
	}
	if strings.Contains(p.body, `href="/hubs/hub-b"`) {
		t.Error("a bad search shows results")
	}
	if strings.Contains(p.body, `id="e-country"`) {
		t.Error("a bad region is also blamed on the country field, which was left empty")
	}

	// A live query lists the hubs that answered.
	p = br.get("/search?tech=robotics&live=1")
	if p.status != http.StatusOK || !strings.Contains(p.body, "<dt>Answered</dt><dd>hub-b, hub-c</dd>") ||
		!strings.Contains(p.body, `name="live" value="1" aria-describedby="h-live" checked`) {
		t.Errorf("live search: status %d, want both hubs answered\n%s", p.status, p.body)
	}
}

func TestConsole_hub(t *testing.T) {
	t.Parallel()
	a, _, _ := consoleHubs(t)
	br := newBrowser(t, a)

	p := br.get("/hubs/hub-b")
	if p.status != http.StatusOK {
		t.Fatalf("hub page: status %d\n%s", p.status, p.body)
	}
	for _, s := range []string{
		"<h1>Robo Coast</h1>",
		`<th scope="row">Robotics</th><td><span class="level" aria-hidden="true">●●●●●</span> <span class="vh">level 5 of 5</span></td>`,
		`<span class="level" aria-hidden="true">●●●○○</span> <span class="vh">level 3 of 5</span>`,
		`<th scope="row">Prototyping</th><td>Test before invest</td>`,
		"Manufacture of food products",
		`<td class="num">4 of 10</td><td>SMEs per month</td>`,
		"<code>FI19</code> Länsi-Suomi",
		`href="/refer?to=hub-b"`,
		"reachable",
	} {
		if !strings.Contains(p.text(), s) {
			t.Errorf("hub page lacks %s", s)
		}
	}
	if p = br.get("/hubs/hub-a"); p.status != http.StatusOK || strings.Contains(p.body, "/refer?to=") {
		t.Errorf("own hub page: status %d; it must offer no referral to itself", p.status)
	}
	if p = br.get("/hubs/no-such-hub"); p.status != http.StatusNotFound {
		t.Errorf("unknown hub: status %d, want 404", p.status)
	}
}

func TestConsole_signIn(t *testing.T) {
	t.Parallel()
	net := nodetest.Network(t)
	pa := nodetest.Profile("hub-a")
	a := nodetest.Start(t, net, "hub-a", &pa)
	br := newBrowser(t, a)

	for _, path := range []string{"/referrals", "/referrals?dir=out", "/referrals/0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37",
		"/refer?to=hub-b", "/me", "/reports", "/reports.csv"} {
		wantRedirect(t, path, br.get(path), "/login?next="+url.QueryEscape(path))
	}
	if p := br.get("/search"); p.status != http.StatusOK {
		t.Errorf("public search: status %d, want 200", p.status)
	}
	// A form posted without a session changes nothing.
	if p := br.post("/me/capacity/test-before-invest", url.Values{"available": {"0"}}); p.status != http.StatusForbidden {
		t.Errorf("capacity without a session: status %d, want 403", p.status)
	}

	login := br.get("/login?next=/reports")
	if login.status != http.StatusOK || !strings.Contains(login.body, `<label for="f-token">Operator token</label>`) {
		t.Fatalf("login page: status %d\n%s", login.status, login.body)
	}
	p := br.post("/login", url.Values{"csrf": {login.csrf(t)}, "token": {"not-the-token"}, "next": {"/reports"}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "That is not this hub&#39;s operator token") {
		t.Fatalf("wrong token: status %d\n%s", p.status, p.body)
	}
	if p.header.Get("Set-Cookie") != "" && strings.Contains(p.header.Get("Set-Cookie"), "hubnet_session") {
		t.Errorf("wrong token set a session cookie: %s", p.header.Get("Set-Cookie"))
	}
	wantRedirect(t, "after a wrong token", br.get("/me"), "/login?next=%2Fme")

	token, err := node.ReadToken(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	// The sign-in form needs its own token: a form posted from elsewhere is refused.
	if p := br.post("/login", url.Values{"token": {token}}); p.status != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: status %d, want 403", p.status)
	}
	login = br.get("/login?next=/reports")
	p = br.post("/login", url.Values{"csrf": {login.csrf(t)}, "token": {token}, "next": {"/reports"}})
	wantRedirect(t, "sign in", p, "/reports")
	var session *http.Cookie
	for _, c := range p.header.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(c); err == nil && ck.Name == "hubnet_session_hub-a" && ck.Value != "" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Secure {
		t.Fatalf("session cookie: %+v, want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", session)
	}
	for _, path := range []string{"/me", "/referrals", "/reports"} {
		if p := br.get(path); p.status != http.StatusOK {
			t.Errorf("%s signed in: status %d, want 200", path, p.status)
		}
	}

	// Only paths on this site are followed after sign-in.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		// Signed in already: the login page sends you on, to a safe place only.
		wantRedirect(t, "login page with next="+next, br.get("/login?next="+url.QueryEscape(next)), "/")
	}

	// Sign out, with the session's CSRF token; afterwards the pages are closed again.
	me := br.get("/me")
	if p := br.post("/logout", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("sign out without the CSRF token: status %d, want 403", p.status)
	}
	wantRedirect(t, "sign out", br.post("/logout", url.Values{"csrf": {me.csrf(t)}}), "/login?out=1")
	wantRedirect(t, "after sign out", br.get("/me"), "/login?next=%2Fme")

	// With ConsolePublic off, the directory pages need a session too.
	a.Kill()
	cfg := a.Cfg
	cfg.Join, cfg.ConsolePublic = nil, false
	closed := nodetest.StartConfig(t, cfg)
	br = newBrowser(t, closed)
	wantRedirect(t, "closed search", br.get("/search?tech=robotics"), "/login?next=%2Fsearch%3Ftech%3Drobotics")
	wantRedirect(t, "closed hub page", br.get("/hubs/hub-a"), "/login?next=%2Fhubs%2Fhub-a")
	br.signIn(closed)
	if p := br.get("/search?tech=robotics"); p.status != http.StatusOK {
		t.Errorf("closed search signed in: status %d, want 200", p.status)
	}
}

func TestConsole_referral(t *testing.T) {
	t.Parallel()
	a, b := twoHubs(t)
	ba, bb := newBrowser(t, a), newBrowser(t, b)
	ba.signIn(a)
	bb.signIn(b)

	form := func(csrf string) url.Values {
		return url.Values{
			"csrf": {csrf}, "to": {b.ID()},
			"need.sector": {"10"}, "need.region": {"FI193"}, "need.category": {"small"},
			"need.family": {"test-before-invest"}, "need.technologies": {"ai-decision-support"},
			"need.description": {"Wants to test machine vision for quality control on a bakery line."},
			"sme.name":         {"Leipomo Esimerkki Oy"}, "sme.contact_name": {"Aino Example"},
			"sme.contact_email": {"aino@leipomo.example"},
			"consent.given_by":  {"managing director"}, "consent.given_at": {time.Now().UTC().Format(time.DateOnly)},
			"consent.purpose": {"referral for AI test-before-invest services"},
			"consent.until":   {time.Now().AddDate(0, 3, 0).Format(time.DateOnly)},
		}
	}
	noReferrals := func(what string) {
		t.Helper()
		if list, err := a.Referrals(node.ReferralQuery{}); err != nil || len(list) != 0 {
			t.Fatalf("%s: hub-a holds %d referrals (%v), want none", what, len(list), err)
		}
	}

	refer := ba.get("/refer?to=" + b.ID())
	if refer.status != http.StatusOK || !strings.Contains(refer.body, "Refer an SME to Hub hub-2") {
		t.Fatalf("refer page: status %d\n%s", refer.status, refer.body)
	}
	csrf := refer.csrf(t)

	// Bad input: every problem next to its field, the values kept, nothing stored.
	bad := form(csrf)
	bad.Set("need.region", "FI1C")
	bad.Set("sme.contact_email", "aino at leipomo")
	bad.Set("sme.name", "")
	bad.Set("consent.until", "next spring")
	bad.Set("need.maturity.strategy", "40")
	p := ba.post("/refer", bad)
	if p.status != http.StatusBadRequest {
		t.Fatalf("bad referral: status %d, want 400\n%s", p.status, p.body)
	}
	for _, s := range []string{
		`id="e-need-region"><li><span class="vh">Error: </span>must be a NUTS 2021 code of level 3, such as FI1C1, got level 2</li>`,
		`id="e-sme-contact-email"><li><span class="vh">Error: </span>must be a plain e-mail address`,
		`id="e-sme-name"><li><span class="vh">Error: </span>is required`,
		`id="e-consent-until"><li><span class="vh">Error: </span>must be a date such as 2026-11-22, got "next spring"`,
		`id="e-need-maturity-readiness"><li><span class="vh">Error: </span>is required when any score is given`,
		`value="FI1C"`, `value="aino at leipomo"`, `value="next spring"`, "Wants to test machine vision",
		`<a href="#f-need-region">need.region</a>`,
	} {
		if !strings.Contains(p.text(), s) {
			t.Errorf("bad referral page lacks %s", s)
		}
	}
	noReferrals("after a bad form")

	// No CSRF token, or a wrong one: refused, nothing stored.
	good := form("")
	good.Del("csrf")
	if p := ba.post("/refer", good); p.status != http.StatusForbidden {
		t.Errorf("referral without CSRF: status %d, want 403", p.status)
	}
	good.Set("csrf", "forged")
	if p := ba.post("/refer", good); p.status != http.StatusForbidden {
		t.Errorf("referral with a forged CSRF token: status %d, want 403", p.status)
	}
	noReferrals("after forms without a valid CSRF token")

	p = ba.post("/refer", form(csrf))
	loc := p.header.Get("Location")
	id := strings.TrimPrefix(loc, "/referrals/")
	if p.status != http.StatusSeeOther || id == loc {
		t.Fatalf("referral: got %d to %q, want 303 to the referral\n%s", p.status, loc, p.body)
	}
	p = ba.get(loc)
	if p.status != http.StatusOK || !strings.Contains(p.text(), "Leipomo Esimerkki Oy") || !strings.Contains(p.body, `action="/referrals/`+id+`/cancel"`) {
		t.Fatalf("referral page at hub-a: status %d\n%s", p.status, p.body)
	}

	// Hub B's console: the referral is in the inbox, the SME sealed until acceptance.
	waitState(t, b, id, protocol.StateReceived)
	p = bb.get("/referrals?dir=in")
	if !strings.Contains(p.body, `href="/referrals/`+id+`"`) || !strings.Contains(p.body, "Accept or decline by") {
		t.Fatalf("hub-b inbox lacks the referral\n%s", p.body)
	}
	if p = bb.get("/referrals?dir=out"); strings.Contains(p.body, id) {
		t.Error("hub-b lists a received referral as sent")
	}
	p = bb.get("/referrals/" + id)
	if strings.Contains(p.body, "Leipomo") || !strings.Contains(p.body, "The SME&#39;s identity is sealed") {
		t.Errorf("hub-b shows the SME before accepting\n%s", p.body)
	}
	for _, s := range []string{`action="/referrals/` + id + `/accept"`, `action="/referrals/` + id + `/decline"`, `action="/referrals/` + id + `/hold"`} {
		if !strings.Contains(p.body, s) {
			t.Errorf("received referral lacks the form %s", s)
		}
	}
	if strings.Contains(p.body, "/complete\"") || strings.Contains(p.body, "/cancel\"") {
		t.Error("received referral offers actions not allowed now")
	}
	csrf = p.csrf(t)
	wantRedirect(t, "accept", bb.post("/referrals/"+id+"/accept", url.Values{"csrf": {csrf}, "note": {"vision lab free"}}), "/referrals/"+id)
	// Declining an accepted referral is refused with the lifecycle's rule.
	p = bb.post("/referrals/"+id+"/decline", url.Values{"csrf": {csrf}, "reason": {"no-capacity"}})
	if p.status != http.StatusConflict || !strings.Contains(p.text(), "an accepted referral ends only as completed, failed or cancelled") {
		t.Errorf("decline after accept: status %d, want 409 with the rule\n%s", p.status, p.body)
	}
	wantRedirect(t, "start", bb.post("/referrals/"+id+"/start", url.Values{"csrf": {csrf}}), "/referrals/"+id)
	// Completing needs an outcome: the form comes back with the problem.
	p = bb.post("/referrals/"+id+"/complete", url.Values{"csrf": {csrf}, "note": {"done"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="complete-outcome-err"`) || !strings.Contains(p.body, ">done</textarea>") {
		t.Errorf("complete without an outcome: status %d, want 400 with the field error\n%s", p.status, p.body)
	}
	wantRedirect(t, "complete", bb.post("/referrals/"+id+"/complete", url.Values{"csrf": {csrf}, "outcome": {"service-delivered"}}), "/referrals/"+id)
	p = bb.get("/referrals/" + id)
	if !strings.Contains(p.body, `state-completed">completed</span>`) || !strings.Contains(p.body, "Leipomo Esimerkki Oy") {
		t.Errorf("hub-b: completed referral page\n%s", p.body)
	}

	// Hub A's console shows the new state.
	waitState(t, a, id, protocol.StateCompleted)
	p = ba.get("/referrals?dir=out")
	if !strings.Contains(p.body, `href="/referrals/`+id+`"`) || !strings.Contains(p.body, `state-completed">completed</span>`) {
		t.Errorf("hub-a outbox does not show the referral completed\n%s", p.body)
	}
	p = ba.get("/referrals/" + id)
	for _, s := range []string{"Service delivered", "<th scope=\"row\">accept</th>", "vision lab free", "<th scope=\"row\">complete</th>"} {
		if !strings.Contains(p.body, s) {
			t.Errorf("hub-a referral page lacks %s", s)
		}
	}
	if strings.Contains(p.body, `class="action"`) {
		t.Error("a completed referral offers actions")
	}

	// Reports: the service hub B delivered, and its CSV.
	year := time.Now().UTC().Year()
	p = bb.get(fmt.Sprintf("/reports?from=%d-01-01&to=%d-01-01", year, year+1))
	csvLink := fmt.Sprintf(`href="/reports.csv?from=%d-01-01&amp;to=%d-01-01"`, year, year+1)
	for _, s := range []string{"<dt>Services delivered</dt><dd>1</dd>", "<dt>Collaborations with other hubs</dt><dd>1</dd>",
		`<th scope="row">Test before invest</th><td class="num">1</td>`, "<desc id=\"chart-desc\">Test before invest: 1;",
		`<code>10</code> Manufacture of food products`, `<code>hub-1</code> Hub hub-1`, csvLink} {
		if !strings.Contains(p.body, s) {
			t.Errorf("reports page lacks %s", s)
		}
	}
	if p = bb.get("/reports?from=someday"); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-from"`) {
		t.Errorf("reports with a bad date: status %d, want 400 with the field error", p.status)
	}
	p = bb.get(fmt.Sprintf("/reports.csv?from=%d-01-01&to=%d-01-01", year, year+1))
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("report CSV: status %d, type %q", p.status, p.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "kind" {
		t.Fatalf("report CSV: %v rows, %v\n%s", len(rows), err, p.body)
	}
	if !strings.Contains(p.body, "service-delivered,"+id+",hub-2,hub-1,receiver") {
		t.Errorf("report CSV lacks the service delivered\n%s", p.body)
	}

	// Capacity: the form changes it; a bad value is refused and changes nothing.
	me := bb.get("/me")
	if !strings.Contains(me.body, `id="cap-test-before-invest"`) || !strings.Contains(me.body, "hub-1") {
		t.Fatalf("my hub page\n%s", me.body)
	}
	csrf = me.csrf(t)
	p = bb.post("/me/capacity/test-before-invest", url.Values{"csrf": {csrf}, "available": {"9"}, "maximum": {"5"}, "unit": {"SMEs per month"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="test-before-invest-available-err"`) || !strings.Contains(p.body, `value="9"`) {
		t.Errorf("capacity over the maximum: status %d, want 400 with the field error\n%s", p.status, p.body)
	}
	if p := bb.post("/me/capacity/test-before-invest", url.Values{"available": {"1"}}); p.status != http.StatusForbidden {
		t.Errorf("capacity without CSRF: status %d, want 403", p.status)
	}
	if s, _ := b.Self(); s.Profile.Capacity[protocol.FamilyTestBeforeInvest].Available != 3 {
		t.Fatalf("refused capacity forms changed it: %+v", s.Profile.Capacity)
	}
	wantRedirect(t, "capacity", bb.post("/me/capacity/skills-and-training", url.Values{"csrf": {csrf}, "available": {"2"}, "maximum": {"6"}, "unit": {"trainees per month"}}),
		"/me?saved=skills-and-training#cap-skills-and-training")
	s, _ := b.Self()
	if got := s.Profile.Capacity[protocol.FamilySkills]; got.Available != 2 || got.Maximum != 6 || got.Unit != "trainees per month" {
		t.Errorf("capacity after the form: %+v", got)
	}
	if p := bb.get("/me?saved=skills-and-training"); !strings.Contains(p.body, "Capacity of skills and training saved") || !strings.Contains(p.body, `value="trainees per month"`) {
		t.Errorf("my hub page after saving\n%s", p.body)
	}

	// Every page, public or not, carries the security headers (checked by the
	// browser on each response) and is whole.
	for _, path := range []string{"/search", "/search?tech=robotics&live=1", "/hubs/hub-1", "/refer?to=hub-1", "/referrals",
		"/referrals?dir=out", "/referrals/" + id, "/me", "/reports", "/static/console.css", "/login?next=/me"} {
		p := bb.get(path)
		if p.status != http.StatusOK && p.status != http.StatusSeeOther {
			t.Errorf("%s: status %d", path, p.status)
		}
		if p.status == http.StatusOK && strings.HasPrefix(p.header.Get("Content-Type"), "text/html") && !strings.HasSuffix(strings.TrimSpace(p.body), "</html>") {
			t.Errorf("%s: the page is cut short", path)
		}
	}
}

var (
	formInput    = regexp.MustCompile(`<input ([^>]*)>`)
	formAttr     = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
	formTextarea = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`)
	formSelect   = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	formSelected = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// form returns the values the form with the id would send as the page fills it in.
func (p page) form(t *testing.T, id string) url.Values {
	t.Helper()
	start := strings.Index(p.body, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no form %s in the page:\n%s", id, p.body)
	}
	body := p.body[start:]
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

func TestConsole_profile(t *testing.T) {
	t.Parallel()
	a, b, _ := consoleHubs(t)
	br := newBrowser(t, a)
	br.signIn(a)

	before, err := a.Self()
	if err != nil || before.Profile == nil {
		t.Fatalf("self: %v", err)
	}
	me := br.get("/me")
	if !strings.Contains(me.body, `<span class="ok">admitted</span> until`) {
		t.Error("My hub does not say the hub is admitted")
	}
	if !strings.Contains(me.body, `<link rel="icon" href="/static/hub.svg" type="image/svg+xml">`) {
		t.Error("the layout links no icon")
	}
	if p := br.get("/favicon.ico"); p.status != http.StatusOK || p.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(p.body, "<svg") {
		t.Errorf("GET /favicon.ico: status %d, %s", p.status, p.header.Get("Content-Type"))
	}
	// A family not published suggests its unit rather than filling it in.
	if !strings.Contains(me.body, `id="skills-and-training-unit" name="unit" value=""`) ||
		!strings.Contains(me.body, `placeholder="SMEs per month"`) {
		t.Error("the capacity form of an unpublished family does not suggest its unit")
	}
	f := me.form(t, "profile-form")
	for k, want := range map[string]string{"name": "Hub hub-a", "type": "EDIH", "country": "FI", "regions": "FI1C",
		"languages": "fi, en", "contact.role": "SME desk", "technologies.ai-decision-support": "4", "technologies.robotics": ""} {
		if got := f.Get(k); got != want {
			t.Errorf("profile form %s = %q, want %q", k, got, want)
		}
	}

	// Without the CSRF token: refused, nothing stored.
	noCSRF := url.Values{}
	for k, vs := range f {
		if k != "csrf" {
			noCSRF[k] = vs
		}
	}
	noCSRF.Set("name", "Hijacked")
	if p := br.post("/me/profile", noCSRF); p.status != http.StatusForbidden {
		t.Errorf("profile without CSRF: status %d, want 403", p.status)
	}

	// Bad values: every problem next to its field, what was typed kept, nothing stored.
	bad := url.Values{}
	for k, vs := range f {
		bad[k] = vs
	}
	bad.Set("website", "not a url")
	bad.Set("regions", "FI1C, XX999")
	bad.Set("sectors", "C:4, ten")
	bad.Set("name", "Typed but not saved")
	p := br.post("/me/profile", bad)
	if p.status != http.StatusBadRequest {
		t.Fatalf("bad profile: status %d, want 400\n%s", p.status, p.body)
	}
	for _, s := range []string{
		`id="e-website"><li><span class="vh">Error: </span>must be an absolute http or https URL</li>`,
		`id="e-regions"><li><span class="vh">Error: </span>XX999 is not a NUTS 2021 region`,
		`id="e-sectors"><li><span class="vh">Error: </span>"ten" must be a NACE code and a level, such as C:4</li>`,
		`value="not a url"`, `value="FI1C, XX999"`, `value="Typed but not saved"`, `Please correct 3 problems`,
	} {
		if !strings.Contains(p.text(), s) {
			t.Errorf("bad profile page lacks %s", s)
		}
	}
	if s, _ := a.Self(); s.Profile.Revision != before.Profile.Revision || s.Profile.Name != before.Profile.Name {
		t.Fatalf("refused profile forms changed it: revision %d, name %q", s.Profile.Revision, s.Profile.Name)
	}

	// A good change: saved, announced, and the other hubs get the new revision.
	f.Set("name", "Hub Keski-Suomi")
	f.Set("technologies.robotics", "3")
	f.Set("sectors", "C:4, 10:3")
	p = br.post("/me/profile", f)
	want := before.Profile.Revision + 1
	wantRedirect(t, "save profile", p, fmt.Sprintf("/me?profile=%d", want))
	if p = br.get(p.header.Get("Location")); !strings.Contains(p.text(), fmt.Sprintf("Profile saved, revision %d", want)) {
		t.Errorf("after saving, /me lacks the notice\n%s", p.body)
	}
	s, err := a.Self()
	if err != nil {
		t.Fatal(err)
	}
	got := s.Profile
	if got.Name != "Hub Keski-Suomi" || got.Technologies["robotics"] != 3 || got.Technologies["ai-decision-support"] != 4 ||
		got.Sectors["C"] != 4 || got.Sectors["10"] != 3 || got.Revision != want {
		t.Errorf("saved profile: %+v", got)
	}
	if c := got.Capacity[protocol.FamilyTestBeforeInvest]; c.Available != 3 || c.Maximum != 5 || c.Unit != "SMEs per month" {
		t.Errorf("saving the profile changed the capacity: %+v", got.Capacity)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		h, err := b.Hub("hub-a")
		if err != nil {
			return err
		}
		if h.Profile.Revision != want || h.Profile.Name != "Hub Keski-Suomi" || h.Profile.Technologies["robotics"] != 3 {
			return fmt.Errorf("hub-b holds hub-a at revision %d, %q", h.Profile.Revision, h.Profile.Name)
		}
		return nil
	})
}
