package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node/console/consoletest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// personBrowser adds a person to hub h, sets their password with the sign-in link,
// and returns their browser, signed in on the console's form.
func personBrowser(t *testing.T, h *nodetest.Hub, name, email, role string) *consoletest.Browser {
	t.Helper()
	l, err := h.AddPerson(api.PersonRequest{Name: name, Email: email, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := h.UseSignInLink(l.Code, password, "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	br := consoletest.NewBrowser(t, h)
	f := br.Get("/login").Form(t, "login-person")
	f.Set("email", email)
	f.Set("password", password)
	f.Set("next", "/worklist")
	wantRedirect(t, "sign in "+email, br.Post("/login", f), "/worklist")
	return br
}

var workRow = regexp.MustCompile(`<a href="/referrals/([0-9a-f-]+)">([^<]+)</a>`)

// worklistRows returns the referral IDs and what to do of a worklist page, in order.
func worklistRows(t *testing.T, br *consoletest.Browser, path string) (ids, todo []string, body string) {
	t.Helper()
	p := br.Get(path)
	if p.Status != http.StatusOK {
		t.Fatalf("%s: %d\n%s", path, p.Status, p.Body)
	}
	table, _, _ := strings.Cut(p.Body, "</table>")
	for _, m := range workRow.FindAllStringSubmatch(table, -1) {
		ids, todo = append(ids, m[1]), append(todo, m[2])
	}
	return ids, todo, p.Text()
}

// The worklist shows each person the referrals waiting for them, and those nobody
// at the hub has taken yet, oldest first, with the due date; the hub's view shows
// every referral waiting for the hub.
func TestConsole_worklist(t *testing.T) {
	t.Parallel()
	a, b := twoHubs(t)
	aino := personBrowser(t, b, "Aino Virtanen", "aino@hub-b.example.eu", "advisor")
	mikko := personBrowser(t, b, "Mikko Mallikas", "mikko@hub-b.example.eu", "advisor")
	if _, body := worklistEmpty(t, aino); !strings.Contains(body, "Nothing to do") {
		t.Errorf("empty worklist:\n%s", body)
	}
	var ids []string
	for i := range 3 {
		now := time.Now()
		sent, err := a.Refer(api.ReferralRequest{To: b.ID(),
			Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall,
				Family: protocol.FamilyTestBeforeInvest, Description: fmt.Sprintf("Bakery line %d wants machine vision.", i+1)},
			SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
			Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: b.ID(),
				Purpose: "referral for test-before-invest services", Until: now.Add(90 * 24 * time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		nodetest.WaitState(t, b, sent.Referral.ID, protocol.StateReceived)
		ids = append(ids, sent.Referral.ID)
	}
	accept := func(br *consoletest.Browser, id string) {
		t.Helper()
		csrf := br.Get("/referrals/" + id).CSRF(t)
		wantRedirect(t, "accept", br.Post("/referrals/"+id+"/accept", url.Values{"csrf": {csrf}}), "/referrals/"+id)
	}
	accept(aino, ids[0])
	accept(mikko, ids[2])

	// Aino: the referral nobody took, then hers; not Mikko's.
	got, todo, body := worklistRows(t, aino, "/worklist")
	if want := []string{ids[1], ids[0]}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Aino's worklist %v, want %v\n%s", got, want, body)
	}
	if len(todo) == 2 && (!strings.HasPrefix(todo[0], "Accept or decline by ") || todo[1] != "Start the service") {
		t.Errorf("to do %q", todo)
	}
	decideBy := nodetest.WaitState(t, b, ids[1], protocol.StateReceived).Referral.DecideBy
	if !strings.Contains(body, decideBy.UTC().Format("2 Jan 2006")) || !strings.Contains(body, "nobody yet") ||
		!strings.Contains(body, "today") || !strings.Contains(body, "aino@hub-b.example.eu") {
		t.Errorf("Aino's worklist lacks the due date, the waiting time or the contacts\n%s", body)
	}
	// The hub's view: all three, oldest first.
	got, _, _ = worklistRows(t, aino, "/worklist?who=hub")
	if want := []string{ids[1], ids[0], ids[2]}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the hub's worklist %v, want %v", got, want)
	}
	// In Finnish, every word of the page is Finnish.
	aino.Get("/language?lang=fi&next=/worklist")
	_, _, body = worklistRows(t, aino, "/worklist")
	for _, want := range []string{"<h1>Työlista</h1>", "Ohjaukset, jotka odottavat sinun toimiasi", "Valitse sähköpostisi", ">Omat<",
		">Keskittymän<", "2 ohjausta odottaa.", ">Tehtävä<", ">Odottanut<", ">Määräaika<", "Yhteyshenkilö täällä", "tänään", "ei vielä ketään"} {
		if !strings.Contains(body, want) {
			t.Errorf("the Finnish worklist lacks %q\n%s", want, body)
		}
	}
	for _, english := range []string{"Worklist", "waiting for you", "Choose your e-mails", ">Mine<", "referrals wait", ">To do<", "nobody yet", "today"} {
		if strings.Contains(body, english) {
			t.Errorf("the Finnish worklist says %q in English", english)
		}
	}
	aino.Get("/language?lang=en&next=/worklist")
	// The operator token is nobody: it sees the hub's.
	op := consoletest.NewBrowser(t, b)
	op.SignIn(b)
	if got, _, body := worklistRows(t, op, "/worklist"); len(got) != 3 || strings.Contains(body, `href="/worklist?who=me"`) {
		t.Errorf("the operator token's worklist %v\n%s", got, body)
	}
	if p := op.Get("/worklist?who=everyone"); p.Status != http.StatusBadRequest {
		t.Errorf("who=everyone: %d, want 400", p.Status)
	}
	if p := consoletest.NewBrowser(t, b).Get("/worklist"); p.Status != http.StatusSeeOther {
		t.Errorf("worklist without signing in: %d, want a redirect to sign in", p.Status)
	}
}

func worklistEmpty(t *testing.T, br *consoletest.Browser) ([]string, string) {
	t.Helper()
	ids, _, body := worklistRows(t, br, "/worklist")
	return ids, body
}

// A person chooses the topics of their e-mails on the notifications page; the
// operator token, which is nobody, has none, and sees the hub's webhooks.
func TestConsole_notifications(t *testing.T) {
	t.Parallel()
	_, b := twoHubs(t)
	aino := personBrowser(t, b, "Aino Virtanen", "aino@hub-b.example.eu", "advisor")
	p := aino.Get("/notifications")
	checked := regexp.MustCompile(`value="([a-z]+)" checked`)
	var got []string
	for _, m := range checked.FindAllStringSubmatch(p.Body, -1) {
		got = append(got, m[1])
	}
	if p.Status != http.StatusOK || strings.Join(got, ",") != "received,decision,hold,deadline,expiry" {
		t.Fatalf("notifications page: %d, checked %v\n%s", p.Status, got, p.Body)
	}
	if strings.Contains(p.Text(), "Webhooks") {
		t.Error("an advisor sees the hub's webhooks")
	}
	f := p.Form(t, "topics")
	f["topic"] = []string{"decision", "deadline"}
	p = aino.Post("/notifications", f)
	if p.Status != http.StatusOK || !strings.Contains(p.Text(), "Saved") {
		t.Fatalf("save: %d\n%s", p.Status, p.Body)
	}
	people, err := b.People()
	if err != nil {
		t.Fatal(err)
	}
	topics, err := b.PersonTopics(people[0].ID)
	if err != nil || strings.Join(topics.Topics, ",") != "decision,deadline" {
		t.Errorf("stored topics %v, %v", topics, err)
	}
	f["topic"] = []string{"directory"}
	if p := aino.Post("/notifications", f); p.Status != http.StatusBadRequest || !strings.Contains(p.Text(), "topics.0") {
		t.Errorf("a topic that is none: %d\n%s", p.Status, p.Body)
	}
	// In Polish, the labels of the topics too.
	aino.Get("/language?lang=pl&next=/notifications")
	pl := aino.Get("/notifications").Text()
	for _, want := range []string{"<h1>Powiadomienia</h1>", "Twoje e-maile", "Wyślij mi e-mail, gdy", "przychodzi skierowanie",
		"skierowanie zostaje przyjęte lub odrzucone", ">Zapisz<"} {
		if !strings.Contains(pl, want) {
			t.Errorf("the Polish notifications page lacks %q\n%s", want, pl)
		}
	}
	for _, english := range []string{"Your e-mails", "a referral arrives", ">Save<"} {
		if strings.Contains(pl, english) {
			t.Errorf("the Polish notifications page says %q in English", english)
		}
	}
	op := consoletest.NewBrowser(t, b)
	op.SignIn(b)
	if p := op.Get("/notifications"); p.Status != http.StatusOK || !strings.Contains(p.Text(), "you get no e-mails") ||
		!strings.Contains(p.Text(), "Webhooks") || !strings.Contains(p.Text(), "hubnet recipients add") {
		t.Errorf("the operator token's notifications page: %d\n%s", p.Status, p.Body)
	}
}
