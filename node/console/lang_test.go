package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node/console/consoletest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// getLang gets path from the console with the browser's Accept-Language.
func getLang(t *testing.T, br *consoletest.Browser, path, accept string) consoletest.Page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, br.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", accept)
	return br.Do(req)
}

// TestConsole_language checks that a page comes in the browser's language, that
// the switch on every page changes it and keeps the choice, and that dates and
// numbers follow it.
func TestConsole_language(t *testing.T) {
	t.Parallel()
	a, _, _ := consoleHubs(t)
	br := consoletest.NewBrowser(t, a)

	p := getLang(t, br, "/search?tech=robotics&family=test-before-invest", "de-DE,de;q=0.9,en;q=0.4")
	if p.Status != http.StatusOK {
		t.Fatalf("search in German: status %d", p.Status)
	}
	for _, s := range []string{`<html lang="de">`, "Partner finden", "Technologien", "Robotik", "Testen vor Investieren",
		"Region des KMU", "2 Hubs passen.", "Zum Hauptinhalt springen", `hreflang="fr"`, "Français"} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("the German search page lacks %q", s)
		}
	}
	for _, s := range []string{"Find a partner", "Region of the SME", "hubs match"} {
		if strings.Contains(p.Text(), s) {
			t.Errorf("the German search page still says %q", s)
		}
	}
	// Countries are named in German, in German order: Österreich between Norwegen and Polen.
	order := []string{">Belgien (BE)<", ">Deutschland (DE)<", ">Finnland (FI)<", ">Norwegen (NO)<", ">Österreich (AT)<", ">Polen (PL)<"}
	for i := 1; i < len(order); i++ {
		if a, b := strings.Index(p.Text(), order[i-1]), strings.Index(p.Text(), order[i]); a < 0 || b < 0 || a > b {
			t.Errorf("the German country list has %s at %d and %s at %d", order[i-1], a, order[i], b)
		}
	}
	if got := p.Header.Get("Content-Language"); got != "de" {
		t.Errorf("Content-Language %q, want de", got)
	}

	// A browser that asks for a language the console lacks gets English.
	if p := getLang(t, br, "/search", "sv-SE"); !strings.Contains(p.Body, `<html lang="en">`) || !strings.Contains(p.Text(), "Find a partner") {
		t.Errorf("a Swedish browser does not get the English page")
	}

	// The switch: a link on every page, which keeps the choice over the browser's.
	if !strings.Contains(p.Text(), `href="/language?lang=fi&next=%2Fsearch%3Ftech%3Drobotics%26family%3Dtest-before-invest"`) {
		t.Errorf("the page's language switch does not lead back to the page")
	}
	sw := br.Get("/language?lang=fi&next=" + url.QueryEscape("/search?tech=robotics"))
	wantRedirect(t, "switch to Finnish", sw, "/search?tech=robotics")
	if ck := sw.Header.Get("Set-Cookie"); !strings.Contains(ck, "hubnet_lang=fi") || !strings.Contains(ck, "HttpOnly") {
		t.Errorf("the switch sets %q, want the cookie hubnet_lang=fi", ck)
	}
	p = getLang(t, br, "/search?tech=robotics", "de")
	for _, s := range []string{`<html lang="fi">`, "Etsi kumppani", "Robotiikka", "Sopivia keskittymiä: 2."} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("after choosing Finnish the page lacks %q", s)
		}
	}
	if p := br.Get("/language?lang=xx&next=/search"); p.Status != http.StatusBadRequest {
		t.Errorf("an unknown language: status %d, want 400", p.Status)
	}
	if p := br.Get("/language?lang=de&next=https://evil.example/"); p.Header.Get("Location") != "/" {
		t.Errorf("the switch follows next=%q to another site", p.Header.Get("Location"))
	}

	// Dates and numbers: the hub page's capacity date in Polish, the score with a comma.
	br.Get("/language?lang=pl&next=/")
	p = br.Get("/hubs/hub-b")
	day := time.Now().UTC().Format("02.01.2006")
	for _, s := range []string{`<html lang="pl">`, "4 z 10", day, "Obsługiwane regiony"} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("the Polish hub page lacks %q", s)
		}
	}
}

// TestConsole_referFromSearch checks that Refer an SME from a search result, and
// from the hub page the result links to, opens the form filled in with what the
// advisor searched for, and that the region box takes a town's name.
func TestConsole_referFromSearch(t *testing.T) {
	t.Parallel()
	a, b, _ := consoleHubs(t)
	br := consoletest.NewBrowser(t, a)
	br.SignIn(a)

	p := br.Get("/search?tech=robotics&tech=ai-decision-support&family=test-before-invest&sector=10&category=small&region=Jyv%C3%A4skyl%C3%A4")
	if p.Status != http.StatusOK {
		t.Fatalf("search: status %d\n%s", p.Status, p.Body)
	}
	if !strings.Contains(p.Text(), "Jyväskylä is in Keski-Suomi (FI193).") || !strings.Contains(p.Body, `value="FI193"`) {
		t.Errorf("the search does not read Jyväskylä as Keski-Suomi (FI193)")
	}
	referLink := "/refer?to=hub-b&category=small&family=test-before-invest&region=FI193&sector=10&tech=robotics&tech=ai-decision-support"
	for _, s := range []string{`href="` + referLink + `"`, `href="/hubs/hub-b?category=small&family=test-before-invest&region=FI193&sector=10&tech=robotics&tech=ai-decision-support"`} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("the result lacks %s", s)
		}
	}
	hub := br.Get("/hubs/hub-b?category=small&family=test-before-invest&region=FI193&sector=10&tech=robotics&tech=ai-decision-support")
	if !strings.Contains(hub.Text(), `href="`+referLink+`"`) {
		t.Errorf("the hub page's Refer an SME does not carry the search")
	}

	f := br.Get(referLink)
	if f.Status != http.StatusOK {
		t.Fatalf("refer form: status %d", f.Status)
	}
	for _, s := range []string{`value="test-before-invest" selected`, `value="10" selected`, `value="small" selected`,
		`value="robotics" checked`, `value="ai-decision-support" checked`, `value="Keski-Suomi (FI193)"`, `list="region-choices"`,
		`<option value="Pirkanmaa (FI197)">`} {
		if !strings.Contains(f.Text(), s) {
			t.Errorf("the refer form lacks %s", s)
		}
	}
	if strings.Contains(f.Body, `maxlength="5"`) {
		t.Error("the region box still cuts names to 5 characters")
	}

	// Sent as typed, a town without its accents: the referral has the region's code.
	vals := f.Form(t, "refer-form")
	vals.Set("need.region", "jyvaskyla")
	vals.Set("need.description", "Wants to test machine vision for quality control on a bakery line.")
	vals.Set("sme.name", "Leipomo Esimerkki Oy")
	vals.Set("sme.contact_name", "Aino Example")
	vals.Set("consent.given_by", "managing director")
	vals.Set("consent.purpose", "referral for AI test-before-invest services")
	vals.Set("consent.until", time.Now().AddDate(0, 3, 0).Format(time.DateOnly))

	// A name the console does not know comes back with suggestions, the label of
	// the field in the summary, and everything typed kept.
	bad := url.Values{}
	for k, v := range vals {
		bad[k] = v
	}
	bad.Set("need.region", "Jyvaskyl")
	bad.Set("sme.contact_email", "aino at leipomo")
	p = br.Post("/refer", bad)
	if p.Status != http.StatusBadRequest {
		t.Fatalf("a region not known: status %d, want 400", p.Status)
	}
	for _, s := range []string{
		`<a href="#f-need-region">Region of the SME</a>: No NUTS region or town is called "Jyvaskyl". Did you mean Keski-Suomi (FI193)?`,
		`<a href="#f-sme-contact-email">SME contact e-mail</a>:`,
		`value="Jyvaskyl"`, `value="aino at leipomo"`, `value="robotics" checked`, `value="10" selected`, "bakery line",
	} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("the form sent back lacks %s", s)
		}
	}
	if strings.Contains(p.Text(), ">need.region<") || strings.Contains(p.Text(), ">sme.contact_email<") {
		t.Error("the error summary shows the fields' internal names")
	}
	// The same in German: labels, the region's problem and the common rules.
	de := url.Values{}
	for k, v := range bad {
		de[k] = v
	}
	de.Set("sme.name", "")
	br.Get("/language?lang=de&next=/")
	p = br.Post("/refer", de)
	for _, s := range []string{
		`<a href="#f-need-region">Region des KMU</a>: Keine NUTS-Region und kein Ort heißt "Jyvaskyl". Meinten Sie Keski-Suomi (FI193)?`,
		`<a href="#f-sme-contact-email">E-Mail der Kontaktperson im KMU</a>: muss eine einfache E-Mail-Adresse sein`,
		`<a href="#f-sme-name">Firmenname des KMU</a>: ist erforderlich`, "Bitte 3 Probleme beheben",
	} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("the German form sent back lacks %s", s)
		}
	}
	br.Get("/language?lang=en&next=/")

	p = br.Post("/refer", vals)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("referral: status %d, want 303\n%s", p.Status, p.Text())
	}
	list, err := a.Referrals(api.ReferralQuery{})
	if err != nil || len(list) != 1 {
		t.Fatalf("hub-a holds %d referrals (%v), want 1", len(list), err)
	}
	n := list[0].Referral.Need
	if n.Region != "FI193" || n.Family != protocol.FamilyTestBeforeInvest || n.Sector != "10" || len(n.Technologies) != 2 {
		t.Errorf("the referral's need is %+v, want FI193, test before invest, sector 10 and both technologies", n)
	}

	// Declined, the referral is rejected, the state's one name, and the filter takes
	// the verb's word too.
	id := list[0].Referral.ID
	nodetest.WaitState(t, b, id, protocol.StateReceived)
	if _, err := b.Act(id, protocol.EventDecline, api.ReferralAction{Reason: "no-capacity"}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, id, protocol.StateRejected)
	p = br.Get("/referrals?dir=out&state=declined")
	if p.Status != http.StatusOK || !strings.Contains(p.Text(), "1 referral sent (state: rejected).") ||
		!strings.Contains(p.Text(), `<span class="state state-rejected">rejected</span>`) {
		t.Errorf("sent referrals, state declined: status %d\n%s", p.Status, p.Text())
	}
	if !strings.Contains(p.Body, `<option value="rejected" selected>rejected</option>`) {
		t.Error("the filter does not show the state it found, rejected")
	}
}

// TestConsole_searchPages checks that the search pages through every result and
// shows them all on one page when asked.
func TestConsole_searchPages(t *testing.T) {
	t.Parallel()
	a, _, _ := consoleHubs(t)
	br := consoletest.NewBrowser(t, a)
	p := br.Get("/search?tech=robotics&limit=1")
	if p.Status != http.StatusOK {
		t.Fatalf("search: status %d", p.Status)
	}
	for _, s := range []string{"2 hubs match. Showing 1 to 1 of 2.", `href="/search?limit=1&page=2&tech=robotics" rel="next"`,
		`href="/search?all=1&limit=1&tech=robotics">Show all 2</a>`, `aria-current="page">1</a>`} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("page 1 lacks %s", s)
		}
	}
	if !strings.Contains(p.Body, `href="/hubs/hub-b?tech=robotics"`) || strings.Contains(p.Body, `href="/hubs/hub-c`) {
		t.Errorf("page 1 does not show hub-b alone")
	}
	p = br.Get("/search?limit=1&page=2&tech=robotics")
	if !strings.Contains(p.Text(), "Showing 2 to 2 of 2.") || !strings.Contains(p.Body, `href="/hubs/hub-c?tech=robotics"`) ||
		strings.Contains(p.Body, `href="/hubs/hub-b`) || !strings.Contains(p.Body, `<td class="num">2</td>`) {
		t.Errorf("page 2 does not show hub-c, ranked 2, alone\n%s", p.Text())
	}
	p = br.Get("/search?all=1&limit=1&tech=robotics")
	if !strings.Contains(p.Body, `href="/hubs/hub-b`) || !strings.Contains(p.Body, `href="/hubs/hub-c`) {
		t.Errorf("all on one page does not show both hubs")
	}
}

// TestConsole_personLanguage checks that a person who signs in reads the console
// in the language their operator gave them, over the browser's, until they choose
// another with the switch.
func TestConsole_personLanguage(t *testing.T) {
	t.Parallel()
	h := nodetest.Start(t, nodetest.Network(t), "hub-1", nil)
	op := consoletest.NewBrowser(t, h)
	op.SignIn(h)
	page := op.Get("/people")
	p := op.Post("/people", url.Values{"csrf": {page.CSRF(t)}, "name": {"Anna Kowalska"}, "email": {"anna@hub-1.example.eu"},
		"role": {"advisor"}, "language": {"pl-PL"}})
	m := signInLink.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("add a person: %d\n%s", p.Status, p.Body)
	}
	code, _ := url.QueryUnescape(m[1])
	br := consoletest.NewBrowser(t, h)
	f := br.Get("/login/link?code="+url.QueryEscape(code)).Form(t, "link")
	f.Set("password", password)
	f.Set("password2", password)
	wantRedirect(t, "set password", br.Post("/login/link", f), "/referrals")

	p = getLang(t, br, "/referrals", "en-GB,en;q=0.9")
	for _, s := range []string{`<html lang="pl">`, "Skierowania", "Brak otrzymanych skierowań.", `(doradca)`} {
		if !strings.Contains(p.Text(), s) {
			t.Errorf("Anna's referrals page lacks %q", s)
		}
	}
	br.Get("/language?lang=de&next=/referrals")
	if p := getLang(t, br, "/referrals", "en"); !strings.Contains(p.Body, `<html lang="de">`) || !strings.Contains(p.Text(), "Keine Vermittlung erhalten.") {
		t.Errorf("after choosing German, Anna's page is not German")
	}
}

// TestConsole_languagesRender renders the pages of a signed-in operator in every
// language and checks no message shows escaped twice or in English where a
// translation exists.
func TestConsole_languagesRender(t *testing.T) {
	t.Parallel()
	a, _, _ := consoleHubs(t)
	br := consoletest.NewBrowser(t, a)
	br.SignIn(a)
	for _, lang := range []string{"en", "de", "fr", "it", "es", "fi", "pl"} {
		br.Get("/language?lang=" + lang + "&next=/")
		for _, path := range []string{"/search?tech=robotics&family=test-before-invest", "/hubs/hub-b", "/refer?to=hub-b", "/referrals",
			"/me", "/reports", "/people", "/tokens", "/search?region=nowhere-at-all"} {
			p := br.Get(path)
			if p.Status != http.StatusOK && p.Status != http.StatusBadRequest {
				t.Errorf("%s %s: status %d", lang, path, p.Status)
			}
			if strings.Contains(p.Body, "&amp;#") || strings.Contains(p.Body, "%!") {
				i := max(strings.Index(p.Body, "&amp;#"), strings.Index(p.Body, "%!"))
				t.Errorf("%s %s: escaped twice or a value missing near %q", lang, path, p.Body[max(0, i-60):min(len(p.Body), i+40)])
			}
			if !strings.Contains(p.Body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: not in %s", lang, path, lang)
			}
		}
	}
}

// TestConsole_reasonsInLanguage checks that a search result says why a hub ranks
// where it does in the reader's language, NACE names included, while the API's
// explanation stays English.
func TestConsole_reasonsInLanguage(t *testing.T) {
	t.Parallel()
	a, _, _ := consoleHubs(t)
	br := consoletest.NewBrowser(t, a)
	const path = "/search?tech=robotics&tech=cybersecurity&family=test-before-invest&sector=10&region=FI193"

	en, err := a.Search(protocol.Query{Technologies: []string{"robotics", "cybersecurity"}, Family: protocol.FamilyTestBeforeInvest,
		Sector: "10", Country: "FI", Region: "FI193"})
	if err != nil || len(en.Hits) == 0 || en.Hits[0].ID != "hub-b" {
		t.Fatalf("search: %v %+v", err, en.Hits)
	}
	for _, want := range []string{"Robotics level 5 (wanted)", "lacks Cybersecurity", "sector 10 Manufacture of food products level 5", "same region"} {
		if !strings.Contains(en.Hits[0].Explanation, want) {
			t.Errorf("the API's explanation %q lacks %q", en.Hits[0].Explanation, want)
		}
	}

	p := getLang(t, br, path, "de")
	if p.Status != http.StatusOK {
		t.Fatalf("search in German: status %d\n%s", p.Status, p.Body)
	}
	for _, s := range []string{"Robotik Stufe 5 (gesucht)", "fehlt: Cybersicherheit", "bietet Testen vor Investieren, 4 von 10 frei",
		"Sektor 10 Herstellung von Nahrungs- und Futtermitteln Stufe 5", "Region FI19, gleiche Region",
		"Herstellung von Möbeln"} { // the sector list
		if !strings.Contains(p.Text(), s) {
			t.Errorf("the German search page lacks %q", s)
		}
	}
	for _, s := range []string{en.Hits[0].Reasons[0], "Manufacture of food products", "same region"} {
		if strings.Contains(p.Text(), s) {
			t.Errorf("the German search page still says %q", s)
		}
	}
	if p := getLang(t, br, path, "en"); !strings.Contains(p.Text(), en.Hits[0].Explanation) {
		t.Errorf("the English search page lacks the explanation %q", en.Hits[0].Explanation)
	}
}
