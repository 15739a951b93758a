package console_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console"
	"github.com/hubnet-eu/hubnet/node/console/consoletest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// wantRedirect checks that p redirects (303) to location.
func wantRedirect(t *testing.T, what string, p consoletest.Page, location string) {
	t.Helper()
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != location {
		t.Fatalf("%s: got %d to %q, want 303 to %q\n%s", what, p.Status, p.Header.Get("Location"), location, p.Body)
	}
}

// twoHubs starts hub-1 and hub-2, joined, with their test profiles.
func twoHubs(t *testing.T) (a, b *nodetest.Hub) {
	t.Helper()
	hubs := nodetest.StartN(t, nodetest.Network(t), 2)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return hubs[0], hubs[1]
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
	br := consoletest.NewBrowser(t, a)

	wantRedirect(t, "GET /", br.Get("/"), "/search")

	q := protocol.Query{Technologies: []string{"robotics"}, Family: protocol.FamilyTestBeforeInvest}
	want, err := a.Search(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Hits) != 2 || want.Hits[0].ID != "hub-b" || want.Hits[1].ID != "hub-c" {
		t.Fatalf("search: %+v", want.Hits)
	}
	p := br.Get("/search?tech=robotics&family=test-before-invest")
	if p.Status != http.StatusOK {
		t.Fatalf("search: status %d\n%s", p.Status, p.Body)
	}
	ib, ic := strings.Index(p.Body, `href="/hubs/hub-b"`), strings.Index(p.Body, `href="/hubs/hub-c"`)
	if ib < 0 || ic < 0 || ib > ic {
		t.Errorf("hub-b at %d and hub-c at %d in the results, want hub-b first", ib, ic)
	}
	for _, s := range []string{want.Hits[0].Explanation, want.Hits[1].Explanation, "2 hubs match", "Robo Coast"} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("search page lacks %q", s)
		}
	}
	for _, s := range []string{`value="robotics" checked`, `value="test-before-invest" selected`, `aria-live="polite"`} {
		if !strings.Contains(p.Body, s) {
			t.Errorf("search page lacks %s", s)
		}
	}

	// A bad query names each problem next to its field and keeps what was typed.
	p = br.Get("/search?tech=robotics&region=XX999&text=vision+lab&min_capacity=lots")
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad search: status %d, want 400", p.Status)
	}
	for _, s := range []string{
		`<ul class="field-errors" id="e-region"><li><span class="vh">Error: </span>"XX999" is not a NUTS 2021 region code such as FI1C1 or DE21</li></ul>`,
		`id="e-min-capacity"`, `must be a whole number, got "lots"`,
		`value="XX999"`, `value="vision lab"`, `value="lots"`, `value="robotics" checked`,
		`aria-describedby="h-region e-region" aria-invalid="true"`,
	} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("bad search page lacks %s", s)
		}
	}
	if strings.Contains(p.Body, `href="/hubs/hub-b"`) {
		t.Error("a bad search shows results")
	}
	if strings.Contains(p.Body, `id="e-country"`) {
		t.Error("a bad region is also blamed on the country field, which was left empty")
	}

	// A live query lists the hubs that answered.
	p = br.Get("/search?tech=robotics&live=1")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "<dt>Answered</dt><dd>hub-b, hub-c</dd>") ||
		!strings.Contains(p.Body, `name="live" value="1" aria-describedby="h-live" checked`) {
		t.Errorf("live search: status %d, want both hubs answered\n%s", p.Status, p.Body)
	}
}

func TestConsole_hub(t *testing.T) {
	t.Parallel()
	a, _, _ := consoleHubs(t)
	br := consoletest.NewBrowser(t, a)

	p := br.Get("/hubs/hub-b")
	if p.Status != http.StatusOK {
		t.Fatalf("hub page: status %d\n%s", p.Status, p.Body)
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
		if !strings.Contains(p.Text(), s) {
			t.Errorf("hub page lacks %s", s)
		}
	}
	if p = br.Get("/hubs/hub-a"); p.Status != http.StatusOK || strings.Contains(p.Body, "/refer?to=") {
		t.Errorf("own hub page: status %d; it must offer no referral to itself", p.Status)
	}
	if p = br.Get("/hubs/no-such-hub"); p.Status != http.StatusNotFound {
		t.Errorf("unknown hub: status %d, want 404", p.Status)
	}
}

func TestConsole_signIn(t *testing.T) {
	t.Parallel()
	net := nodetest.Network(t)
	pa := nodetest.Profile("hub-a")
	a := nodetest.Start(t, net, "hub-a", &pa)
	br := consoletest.NewBrowser(t, a)

	for _, path := range []string{"/referrals", "/referrals?dir=out", "/referrals/0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37",
		"/refer?to=hub-b", "/me", "/reports", "/reports.csv"} {
		wantRedirect(t, path, br.Get(path), "/login?next="+url.QueryEscape(path))
	}
	if p := br.Get("/search"); p.Status != http.StatusOK {
		t.Errorf("public search: status %d, want 200", p.Status)
	}
	// A form posted without a session changes nothing.
	if p := br.Post("/me/capacity/test-before-invest", url.Values{"available": {"0"}}); p.Status != http.StatusForbidden {
		t.Errorf("capacity without a session: status %d, want 403", p.Status)
	}

	login := br.Get("/login?next=/reports")
	if login.Status != http.StatusOK || !strings.Contains(login.Body, `<label for="f-token">Operator token</label>`) {
		t.Fatalf("login page: status %d\n%s", login.Status, login.Body)
	}
	p := br.Post("/login", url.Values{"csrf": {login.CSRF(t)}, "token": {"not-the-token"}, "next": {"/reports"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "That is not this hub&#39;s operator token") {
		t.Fatalf("wrong token: status %d\n%s", p.Status, p.Body)
	}
	if p.Header.Get("Set-Cookie") != "" && strings.Contains(p.Header.Get("Set-Cookie"), "hubnet_session") {
		t.Errorf("wrong token set a session cookie: %s", p.Header.Get("Set-Cookie"))
	}
	wantRedirect(t, "after a wrong token", br.Get("/me"), "/login?next=%2Fme")

	token, err := node.ReadToken(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	// The sign-in form needs its own token: a form posted from elsewhere is refused.
	if p := br.Post("/login", url.Values{"token": {token}}); p.Status != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: status %d, want 403", p.Status)
	}
	login = br.Get("/login?next=/reports")
	p = br.Post("/login", url.Values{"csrf": {login.CSRF(t)}, "token": {token}, "next": {"/reports"}})
	wantRedirect(t, "sign in", p, "/reports")
	var session *http.Cookie
	for _, c := range p.Header.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(c); err == nil && ck.Name == "hubnet_session_hub-a" && ck.Value != "" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Secure {
		t.Fatalf("session cookie: %+v, want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", session)
	}
	for _, path := range []string{"/me", "/referrals", "/reports"} {
		if p := br.Get(path); p.Status != http.StatusOK {
			t.Errorf("%s signed in: status %d, want 200", path, p.Status)
		}
	}

	// Only paths on this site are followed after sign-in.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		// Signed in already: the login page sends you on, to a safe place only.
		wantRedirect(t, "login page with next="+next, br.Get("/login?next="+url.QueryEscape(next)), "/")
	}

	// Sign out, with the session's CSRF token; afterwards the pages are closed again.
	me := br.Get("/me")
	if p := br.Post("/logout", url.Values{}); p.Status != http.StatusForbidden {
		t.Errorf("sign out without the CSRF token: status %d, want 403", p.Status)
	}
	wantRedirect(t, "sign out", br.Post("/logout", url.Values{"csrf": {me.CSRF(t)}}), "/login?out=1")
	wantRedirect(t, "after sign out", br.Get("/me"), "/login?next=%2Fme")

	// With Public off, the directory pages need a session too.
	a.Kill()
	cfg := a.Cfg
	cfg.Join = nil
	closed := nodetest.StartConsole(t, cfg, console.Config{Public: false})
	br = consoletest.NewBrowser(t, closed)
	wantRedirect(t, "closed search", br.Get("/search?tech=robotics"), "/login?next=%2Fsearch%3Ftech%3Drobotics")
	wantRedirect(t, "closed hub page", br.Get("/hubs/hub-a"), "/login?next=%2Fhubs%2Fhub-a")
	br.SignIn(closed)
	if p := br.Get("/search?tech=robotics"); p.Status != http.StatusOK {
		t.Errorf("closed search signed in: status %d, want 200", p.Status)
	}
}

func TestConsole_referral(t *testing.T) {
	t.Parallel()
	a, b := twoHubs(t)
	ba, bb := consoletest.NewBrowser(t, a), consoletest.NewBrowser(t, b)
	ba.SignIn(a)
	bb.SignIn(b)

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
		if list, err := a.Referrals(api.ReferralQuery{}); err != nil || len(list) != 0 {
			t.Fatalf("%s: hub-a holds %d referrals (%v), want none", what, len(list), err)
		}
	}

	refer := ba.Get("/refer?to=" + b.ID())
	if refer.Status != http.StatusOK || !strings.Contains(refer.Body, "Refer an SME to Hub hub-2") {
		t.Fatalf("refer page: status %d\n%s", refer.Status, refer.Body)
	}
	csrf := refer.CSRF(t)

	// Bad input: every problem next to its field, the values kept, nothing stored.
	bad := form(csrf)
	bad.Set("need.region", "FI1C")
	bad.Set("sme.contact_email", "aino at leipomo")
	bad.Set("sme.name", "")
	bad.Set("consent.until", "next spring")
	bad.Set("need.maturity.strategy", "40")
	p := ba.Post("/refer", bad)
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad referral: status %d, want 400\n%s", p.Status, p.Body)
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
		if !strings.Contains(p.Text(), s) {
			t.Errorf("bad referral page lacks %s", s)
		}
	}
	noReferrals("after a bad form")

	// No CSRF token, or a wrong one: refused, nothing stored.
	good := form("")
	good.Del("csrf")
	if p := ba.Post("/refer", good); p.Status != http.StatusForbidden {
		t.Errorf("referral without CSRF: status %d, want 403", p.Status)
	}
	good.Set("csrf", "forged")
	if p := ba.Post("/refer", good); p.Status != http.StatusForbidden {
		t.Errorf("referral with a forged CSRF token: status %d, want 403", p.Status)
	}
	noReferrals("after forms without a valid CSRF token")

	p = ba.Post("/refer", form(csrf))
	loc := p.Header.Get("Location")
	id := strings.TrimPrefix(loc, "/referrals/")
	if p.Status != http.StatusSeeOther || id == loc {
		t.Fatalf("referral: got %d to %q, want 303 to the referral\n%s", p.Status, loc, p.Body)
	}
	p = ba.Get(loc)
	if p.Status != http.StatusOK || !strings.Contains(p.Text(), "Leipomo Esimerkki Oy") || !strings.Contains(p.Body, `action="/referrals/`+id+`/cancel"`) {
		t.Fatalf("referral page at hub-a: status %d\n%s", p.Status, p.Body)
	}

	// Hub B's console: the referral is in the inbox, the SME sealed until acceptance.
	nodetest.WaitState(t, b, id, protocol.StateReceived)
	p = bb.Get("/referrals?dir=in")
	if !strings.Contains(p.Body, `href="/referrals/`+id+`"`) || !strings.Contains(p.Body, "Accept or decline by") {
		t.Fatalf("hub-b inbox lacks the referral\n%s", p.Body)
	}
	if p = bb.Get("/referrals?dir=out"); strings.Contains(p.Body, id) {
		t.Error("hub-b lists a received referral as sent")
	}
	p = bb.Get("/referrals/" + id)
	if strings.Contains(p.Body, "Leipomo") || !strings.Contains(p.Body, "The SME&#39;s identity is sealed") {
		t.Errorf("hub-b shows the SME before accepting\n%s", p.Body)
	}
	for _, s := range []string{`action="/referrals/` + id + `/accept"`, `action="/referrals/` + id + `/decline"`, `action="/referrals/` + id + `/hold"`} {
		if !strings.Contains(p.Body, s) {
			t.Errorf("received referral lacks the form %s", s)
		}
	}
	if strings.Contains(p.Body, "/complete\"") || strings.Contains(p.Body, "/cancel\"") {
		t.Error("received referral offers actions not allowed now")
	}
	csrf = p.CSRF(t)
	wantRedirect(t, "accept", bb.Post("/referrals/"+id+"/accept", url.Values{"csrf": {csrf}, "note": {"vision lab free"}}), "/referrals/"+id)
	// Declining an accepted referral is refused with the lifecycle's rule.
	p = bb.Post("/referrals/"+id+"/decline", url.Values{"csrf": {csrf}, "reason": {"no-capacity"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Text(), "an accepted referral ends only as completed, failed or cancelled") {
		t.Errorf("decline after accept: status %d, want 409 with the rule\n%s", p.Status, p.Body)
	}
	wantRedirect(t, "start", bb.Post("/referrals/"+id+"/start", url.Values{"csrf": {csrf}}), "/referrals/"+id)
	// Completing needs an outcome: the form comes back with the problem.
	p = bb.Post("/referrals/"+id+"/complete", url.Values{"csrf": {csrf}, "note": {"done"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="complete-outcome-err"`) || !strings.Contains(p.Body, ">done</textarea>") {
		t.Errorf("complete without an outcome: status %d, want 400 with the field error\n%s", p.Status, p.Body)
	}
	wantRedirect(t, "complete", bb.Post("/referrals/"+id+"/complete", url.Values{"csrf": {csrf}, "outcome": {"service-delivered"}}), "/referrals/"+id)
	// The SME's details come from hub A once it has heard of the acceptance.
	nodetest.Eventually(t, 10*time.Second, func() error {
		if info, err := b.Referral(id); err != nil || info.SME == nil {
			return fmt.Errorf("hub-b has not received the SME's details (%v)", err)
		}
		return nil
	})
	p = bb.Get("/referrals/" + id)
	if !strings.Contains(p.Body, `state-completed">completed</span>`) || !strings.Contains(p.Body, "Leipomo Esimerkki Oy") {
		t.Errorf("hub-b: completed referral page\n%s", p.Body)
	}

	// Hub A's console shows the new state.
	nodetest.WaitState(t, a, id, protocol.StateCompleted)
	p = ba.Get("/referrals?dir=out")
	if !strings.Contains(p.Body, `href="/referrals/`+id+`"`) || !strings.Contains(p.Body, `state-completed">completed</span>`) {
		t.Errorf("hub-a outbox does not show the referral completed\n%s", p.Body)
	}
	p = ba.Get("/referrals/" + id)
	for _, s := range []string{"Service delivered", "<th scope=\"row\">accept</th>", "vision lab free", "<th scope=\"row\">complete</th>"} {
		if !strings.Contains(p.Body, s) {
			t.Errorf("hub-a referral page lacks %s", s)
		}
	}
	if strings.Contains(p.Body, `class="action"`) {
		t.Error("a completed referral offers actions")
	}

	// Reports: the service hub B delivered, and its CSV.
	year := time.Now().UTC().Year()
	p = bb.Get(fmt.Sprintf("/reports?from=%d-01-01&to=%d-01-01", year, year+1))
	csvLink := fmt.Sprintf(`href="/reports.csv?from=%d-01-01&amp;to=%d-01-01"`, year, year+1)
	for _, s := range []string{"<dt>Services delivered</dt><dd>1</dd>", "<dt>Collaborations with other hubs</dt><dd>1</dd>",
		`<th scope="row">Test before invest</th><td class="num">1</td>`, "<desc id=\"chart-desc\">Test before invest: 1;",
		`<code>10</code> Manufacture of food products`, `<code>hub-1</code> Hub hub-1`, csvLink} {
		if !strings.Contains(p.Body, s) {
			t.Errorf("reports page lacks %s", s)
		}
	}
	if p = bb.Get("/reports?from=someday"); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="e-from"`) {
		t.Errorf("reports with a bad date: status %d, want 400 with the field error", p.Status)
	}
	p = bb.Get(fmt.Sprintf("/reports.csv?from=%d-01-01&to=%d-01-01", year, year+1))
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("report CSV: status %d, type %q", p.Status, p.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "kind" {
		t.Fatalf("report CSV: %v rows, %v\n%s", len(rows), err, p.Body)
	}
	if !strings.Contains(p.Body, "service-delivered,"+id+",hub-2,hub-1,receiver") {
		t.Errorf("report CSV lacks the service delivered\n%s", p.Body)
	}

	// Capacity: the form changes it; a bad value is refused and changes nothing.
	me := bb.Get("/me")
	if !strings.Contains(me.Body, `id="cap-test-before-invest"`) || !strings.Contains(me.Body, "hub-1") {
		t.Fatalf("my hub page\n%s", me.Body)
	}
	csrf = me.CSRF(t)
	p = bb.Post("/me/capacity/test-before-invest", url.Values{"csrf": {csrf}, "available": {"9"}, "maximum": {"5"}, "unit": {"SMEs per month"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="test-before-invest-available-err"`) || !strings.Contains(p.Body, `value="9"`) {
		t.Errorf("capacity over the maximum: status %d, want 400 with the field error\n%s", p.Status, p.Body)
	}
	if p := bb.Post("/me/capacity/test-before-invest", url.Values{"available": {"1"}}); p.Status != http.StatusForbidden {
		t.Errorf("capacity without CSRF: status %d, want 403", p.Status)
	}
	if s, _ := b.Self(); s.Profile.Capacity[protocol.FamilyTestBeforeInvest].Available != 3 {
		t.Fatalf("refused capacity forms changed it: %+v", s.Profile.Capacity)
	}
	wantRedirect(t, "capacity", bb.Post("/me/capacity/skills-and-training", url.Values{"csrf": {csrf}, "available": {"2"}, "maximum": {"6"}, "unit": {"trainees per month"}}),
		"/me?saved=skills-and-training#cap-skills-and-training")
	s, _ := b.Self()
	if got := s.Profile.Capacity[protocol.FamilySkills]; got.Available != 2 || got.Maximum != 6 || got.Unit != "trainees per month" {
		t.Errorf("capacity after the form: %+v", got)
	}
	if p := bb.Get("/me?saved=skills-and-training"); !strings.Contains(p.Body, "Capacity of skills and training saved") || !strings.Contains(p.Body, `value="trainees per month"`) {
		t.Errorf("my hub page after saving\n%s", p.Body)
	}

	// Every page, public or not, carries the security headers (checked by the
	// browser on each response) and is whole.
	for _, path := range []string{"/search", "/search?tech=robotics&live=1", "/hubs/hub-1", "/refer?to=hub-1", "/referrals",
		"/referrals?dir=out", "/referrals/" + id, "/me", "/reports", "/static/console.css", "/login?next=/me"} {
		p := bb.Get(path)
		if p.Status != http.StatusOK && p.Status != http.StatusSeeOther {
			t.Errorf("%s: status %d", path, p.Status)
		}
		if p.Status == http.StatusOK && strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") && !strings.HasSuffix(strings.TrimSpace(p.Body), "</html>") {
			t.Errorf("%s: the page is cut short", path)
		}
	}
}

func TestConsole_profile(t *testing.T) {
	t.Parallel()
	a, b, _ := consoleHubs(t)
	br := consoletest.NewBrowser(t, a)
	br.SignIn(a)

	before, err := a.Self()
	if err != nil || before.Profile == nil {
		t.Fatalf("self: %v", err)
	}
	me := br.Get("/me")
	if !strings.Contains(me.Body, `<span class="ok">admitted</span> until`) {
		t.Error("My hub does not say the hub is admitted")
	}
	if !strings.Contains(me.Body, `<link rel="icon" href="/static/hub.svg" type="image/svg+xml">`) {
		t.Error("the layout links no icon")
	}
	if p := br.Get("/favicon.ico"); p.Status != http.StatusOK || p.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(p.Body, "<svg") {
		t.Errorf("GET /favicon.ico: status %d, %s", p.Status, p.Header.Get("Content-Type"))
	}
	// A family not published suggests its unit rather than filling it in.
	if !strings.Contains(me.Body, `id="skills-and-training-unit" name="unit" value=""`) ||
		!strings.Contains(me.Body, `placeholder="SMEs per month"`) {
		t.Error("the capacity form of an unpublished family does not suggest its unit")
	}
	f := me.Form(t, "profile-form")
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
	if p := br.Post("/me/profile", noCSRF); p.Status != http.StatusForbidden {
		t.Errorf("profile without CSRF: status %d, want 403", p.Status)
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
	p := br.Post("/me/profile", bad)
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad profile: status %d, want 400\n%s", p.Status, p.Body)
	}
	for _, s := range []string{
		`id="e-website"><li><span class="vh">Error: </span>must be an absolute http or https URL</li>`,
		`id="e-regions"><li><span class="vh">Error: </span>XX999 is not a NUTS 2021 region`,
		`id="e-sectors"><li><span class="vh">Error: </span>"ten" must be a NACE code and a level, such as C:4</li>`,
		`value="not a url"`, `value="FI1C, XX999"`, `value="Typed but not saved"`, `Please correct 3 problems`,
	} {
		if !strings.Contains(p.Text(), s) {
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
	p = br.Post("/me/profile", f)
	want := before.Profile.Revision + 1
	wantRedirect(t, "save profile", p, fmt.Sprintf("/me?profile=%d", want))
	if p = br.Get(p.Header.Get("Location")); !strings.Contains(p.Text(), fmt.Sprintf("Profile saved, revision %d", want)) {
		t.Errorf("after saving, /me lacks the notice\n%s", p.Body)
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

// importedProfile is a hub as `hubnet import edih-xlsx` writes it: its region,
// languages and one sector guessed, each with its source; its capacity two months old.
func importedProfile(id string) protocol.Profile {
	p := nodetest.Profile(id)
	p.Name = "Aachen Robotics"
	p.Country, p.Regions, p.Languages = "DE", nil, []string{"de"}
	p.Technologies = map[string]int{"robotics": 4}
	p.Capacity = map[protocol.Family]protocol.Capacity{
		protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 5, Unit: "SMEs per month", Updated: time.Date(2025, 1, 2, 9, 0, 0, 0, time.UTC)},
	}
	p.Inferred = &protocol.Inferred{
		Regions:   []protocol.Hint{{Value: "DEA2D", Source: `Contact Location: town "52062 Aachen"`}},
		Languages: []protocol.Hint{{Value: "de", Source: "official language of DE"}},
		Sectors:   []protocol.Hint{{Value: "O", Level: 3, Source: `catalogue sector "Defence" - 3`}},
	}
	return p
}

// TestConsole_guesses: the advisor's search results and the hub page show the
// imported hub's guessed values as guesses and its old capacity as stale.
func TestConsole_guesses(t *testing.T) {
	t.Parallel()
	net := nodetest.Network(t)
	pa, pi := nodetest.Profile("hub-a"), importedProfile("imported-hub")
	a := nodetest.Start(t, net, "hub-a", &pa)
	i := nodetest.Start(t, net, "imported-hub", &pi, a.GossipAddr())
	hubs := []*nodetest.Hub{a, i}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	br := consoletest.NewBrowser(t, a)

	p := br.Get("/search?tech=robotics&family=test-before-invest&lang=sv")
	if p.Status != http.StatusOK || !strings.Contains(p.Text(), "1 hub matches.") {
		t.Fatalf("search: status %d; want the imported hub, not excluded by its guessed language\n%s", p.Status, p.Body)
	}
	for _, s := range []string{
		`<ul class="guesses" aria-label="Guessed, not declared"><li>probably works in de (German), its country's language, not declared</li>` +
			`<li>region DEA2D Städteregion Aachen from the address, not declared</li>` +
			`<li>capacity of test before invest stale: updated 2 Jan 2025</li></ul>`,
		`<td class="num">3 <strong class="stale">stale</strong></td>`,
		"languages not declared; sv not among those of its country",
	} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("search results lack %s\n%s", s, p.Body)
		}
	}

	p = br.Get("/hubs/imported-hub")
	for _, s := range []string{
		`<dd class="guess">probably German <span class="code">(de)</span>: guessed from the country, not declared</dd>`,
		`Probably <code>DEA2D</code> Städteregion Aachen: region from the address, not declared <span class="hint">(Contact Location: town "52062 Aachen")</span>`,
		`<strong class="stale">stale</strong>`,
		`<caption>Sectors read from catalogue labels, not declared</caption>`,
		`catalogue sector "Defence" - 3`,
	} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("hub page lacks %s\n%s", s, p.Body)
		}
	}
	// A hub that declared its values shows them plainly.
	if p = br.Get("/hubs/hub-a"); strings.Contains(p.Body, "guess") || strings.Contains(p.Body, "stale") {
		t.Errorf("hub-a's page marks guesses or stale capacity it does not have\n%s", p.Body)
	}
}

// TestConsole_profileKeepsGuesses: the imported hub's operator saves the profile form
// with the languages as they were: the guesses stay guesses, and the region and
// sector guesses, which the form does not show, are kept. Changing the languages
// declares them.
func TestConsole_profileKeepsGuesses(t *testing.T) {
	t.Parallel()
	pi := importedProfile("imported-hub")
	i := nodetest.Start(t, nodetest.Network(t), "imported-hub", &pi)
	br := consoletest.NewBrowser(t, i)
	br.SignIn(i)

	me := br.Get("/me")
	if !strings.Contains(me.Text(), "probably German: guessed from the country, not declared") ||
		!strings.Contains(me.Text(), "region from the address, not declared") {
		t.Errorf("My hub does not mark the guesses\n%s", me.Body)
	}
	f := me.Form(t, "profile-form")
	f.Set("name", "Aachen Robotics Hub")
	if p := br.Post("/me/profile", f); p.Status != http.StatusSeeOther {
		t.Fatalf("save: status %d\n%s", p.Status, p.Body)
	}
	s, err := i.Self()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Profile; got.Name != "Aachen Robotics Hub" || got.Inferred == nil || len(got.Inferred.Languages) != 1 ||
		len(got.Inferred.Regions) != 1 || len(got.Inferred.Sectors) != 1 {
		t.Errorf("saved with the languages unchanged: %+v, inferred %+v; want every guess kept", got, got.Inferred)
	}

	f.Set("languages", "de, en")
	if p := br.Post("/me/profile", f); p.Status != http.StatusSeeOther {
		t.Fatalf("save: status %d\n%s", p.Status, p.Body)
	}
	if s, err = i.Self(); err != nil {
		t.Fatal(err)
	}
	if got := s.Profile; got.GuessedLanguages() != nil || got.Inferred == nil || len(got.Inferred.Regions) != 1 {
		t.Errorf("saved with languages changed: languages %v, inferred %+v; want them declared and the region still guessed", got.Languages, got.Inferred)
	}
}

// When the SME's consent ends, the referral's page at each hub says when the SME's
// details were deleted and why, and shows them no more.
func TestConsole_referralPurged(t *testing.T) {
	t.Parallel()
	clock := new(nodetest.Clock)
	net := nodetest.Network(t)
	var hubs []*nodetest.Hub
	for _, id := range []string{"hub-1", "hub-2"} {
		dir := t.TempDir()
		p := nodetest.Profile(id)
		nodetest.Init(t, dir, net, id, &p)
		cfg := nodetest.Config(dir)
		if len(hubs) > 0 {
			cfg.Join = []string{hubs[0].GossipAddr()}
		}
		cfg.Now, cfg.DecisionGrace = clock.Now, 200*time.Millisecond
		hubs = append(hubs, nodetest.StartConfig(t, cfg))
	}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	a, b := hubs[0], hubs[1]
	now := clock.Now()
	sent, err := a.Refer(api.ReferralRequest{To: b.ID(),
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall, Family: protocol.FamilyTestBeforeInvest,
			Description: "Wants to test machine vision for quality control on a bakery line."},
		SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: b.ID(),
			Purpose: "referral for AI test-before-invest services", Until: now.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	id := sent.Referral.ID
	nodetest.WaitState(t, b, id, protocol.StateReceived)
	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		if info, _ := b.Referral(id); info.SME == nil {
			return fmt.Errorf("no SME at hub-2 yet")
		}
		return nil
	})

	clock.Advance(2 * time.Hour)
	for _, h := range []*nodetest.Hub{a, b} {
		var info api.ReferralInfo
		nodetest.Eventually(t, 10*time.Second, func() error {
			info, _ = h.Referral(id)
			if info.SMEPurged.IsZero() {
				return fmt.Errorf("%s: not purged yet", h.ID())
			}
			return nil
		})
		br := consoletest.NewBrowser(t, h)
		br.SignIn(h)
		p := br.Get("/referrals/" + id)
		at := info.SMEPurged.UTC()
		want := `SME details purged on <time datetime="` + at.Format(time.RFC3339) + `">` + at.Format("2 Jan 2006 15:04 UTC") +
			"</time> (consent-expired: the SME's consent ended)"
		if p.Status != http.StatusOK || !strings.Contains(p.Text(), want) || strings.Contains(p.Text(), "Leipomo Esimerkki Oy") {
			t.Errorf("referral page at %s: status %d\n%s\nwant it to say %q, and not name the SME", h.ID(), p.Status, p.Text(), want)
		}
	}
}
