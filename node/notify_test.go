package node_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// hookCall is one call a webhook receiver took.
type hookCall struct {
	Delivery string
	Event    api.Event
	Status   int // what the receiver answered
	At       time.Time
}

// hookReceiver is a real HTTP server that takes webhook calls, checks their
// signature as docs/api.md tells a receiver to, and answers 503 while failing is set.
type hookReceiver struct {
	srv     *httptest.Server
	secret  atomic.Pointer[string]
	failing atomic.Bool

	mu    sync.Mutex // guards calls and bad
	calls []hookCall
	bad   []string // calls refused, and why
}

func startHookReceiver(t testing.TB) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	h.secret.Store(new(string))
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifySignature(*h.secret.Load(), r.Header.Get(api.HeaderSignature), body, time.Now()); err != nil {
			h.mu.Lock()
			h.bad = append(h.bad, err.Error())
			h.mu.Unlock()
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev api.Event
		if err := json.Unmarshal(body, &ev); err != nil || r.Header.Get(api.HeaderEvent) != ev.Type {
			h.mu.Lock()
			h.bad = append(h.bad, fmt.Sprintf("body %s, event header %q: %v", body, r.Header.Get(api.HeaderEvent), err))
			h.mu.Unlock()
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		status := http.StatusNoContent
		if h.failing.Load() {
			status = http.StatusServiceUnavailable
		}
		h.mu.Lock()
		h.calls = append(h.calls, hookCall{Delivery: r.Header.Get(api.HeaderDelivery), Event: ev, Status: status, At: time.Now()})
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// verifySignature checks the header Hubnet-Signature of a webhook call, as a
// receiver should: the HMAC of "<t>.<body>" under the secret, compared in constant
// time, and t within 5 minutes of now.
func verifySignature(secret, header string, body []byte, now time.Time) error {
	var ts, sig string
	for _, kv := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("signature header %q: no t or v1", header)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("signature made %v ago", d)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("signature does not match")
	}
	return nil
}

// Calls returns the calls taken so far.
func (h *hookReceiver) Calls() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// Bad returns the calls refused.
func (h *hookReceiver) Bad() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.bad)
}

// waitCall waits for a call taken with 2xx of an event that match accepts.
func (h *hookReceiver) waitCall(t *testing.T, what string, match func(c hookCall) bool) hookCall {
	t.Helper()
	var found hookCall
	nodetest.Eventually(t, 15*time.Second, func() error {
		for _, c := range h.Calls() {
			if c.Status < 300 && match(c) {
				found = c
				return nil
			}
		}
		return fmt.Errorf("no webhook call of %s among %d (refused: %v)", what, len(h.Calls()), h.Bad())
	})
	return found
}

// register adds a webhook to h's hub through the API and keeps its secret.
func (h *hookReceiver) register(t testing.TB, hub *nodetest.Hub, id string, topics ...string) api.NewWebhook {
	t.Helper()
	nw, err := operatorClient(t, hub).AddWebhook(t.Context(), api.WebhookRequest{ID: id, URL: h.srv.URL + "/hubnet", Topics: topics})
	if err != nil {
		t.Fatalf("add webhook: %v", err)
	}
	if !strings.HasPrefix(nw.Secret, "whsec_") || nw.Webhook.ID != id {
		t.Errorf("new webhook %+v", nw)
	}
	h.secret.Store(&nw.Secret)
	return nw
}

// operatorClient is an API client of hub with the operator token.
func operatorClient(t testing.TB, hub *nodetest.Hub) *api.Client {
	t.Helper()
	tok, err := node.ReadToken(hub.Dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.NewClient("http://"+hub.HTTPAddr(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// smtpConfig points a node at the test's mail server.
func smtpConfig(m *mailServer, tlsMode string) node.SMTPConfig {
	host, port, _ := net.SplitHostPort(m.Addr)
	p, _ := strconv.Atoi(port)
	return node.SMTPConfig{Host: host, Port: p, TLS: tlsMode, Username: smtpUser, Password: smtpPassword,
		From: "Hub Two <" + smtpUser + ">", RootCAs: m.Roots}
}

// A referral received and then accepted: the receiving hub's people get e-mails,
// each in their language, plain text and HTML, with the link to the referral; the
// hub's recipient of decisions gets the decision; the webhook gets both events,
// signed. The mail server speaks STARTTLS and AUTH PLAIN.
func TestNotify_mailsAndWebhooks(t *testing.T) {
	ms := startMailServer(t, false, "PLAIN")
	hook := startHookReceiver(t)
	a, b := hubsWith(t, func(c *node.Config) {
		c.Notify.SMTP = smtpConfig(ms, "starttls")
		c.Notify.AllowHTTPWebhooks = true
		c.PublicURL = "https://hub.example.eu"
	})
	for _, p := range []api.PersonRequest{
		{Name: "Anna Beispiel", Email: "anna@hub-2.example.eu", Role: api.RoleAdvisor, Language: "de-AT"},
		{Name: "Claire Exemple", Email: "claire@hub-2.example.eu", Role: api.RoleAdvisor, Language: "fr"},
		{Name: "Eve Example", Email: "eve@hub-2.example.eu", Role: api.RoleOperator},
	} {
		if _, err := b.AddPerson(p); err != nil {
			t.Fatal(err)
		}
	}
	oc := operatorClient(t, b)
	if _, err := oc.SetRecipients(t.Context(), []api.Recipient{{Email: "team@hub-2.example.eu", Language: "en", Topics: []string{api.TopicDecision}}}); err != nil {
		t.Fatal(err)
	}
	hook.register(t, b, "crm")

	id := receivedReferral(t, a, b, referralTo("hub-2"))
	link := "https://hub.example.eu/referrals/" + id
	for _, want := range []struct{ to, lang, subject string }{
		{"anna@hub-2.example.eu", "de", "Neue Vermittlung von hub-1"},
		{"claire@hub-2.example.eu", "fr", "Nouvelle orientation de hub-1"},
		{"eve@hub-2.example.eu", "en", "New referral from hub-1"},
	} {
		var got []readMail
		nodetest.Eventually(t, 15*time.Second, func() error {
			if got = mailTo(t, ms, want.to); len(got) == 0 {
				return fmt.Errorf("no e-mail to %s yet", want.to)
			}
			return nil
		})
		m := got[0]
		if m.Subject != want.subject || m.Language != want.lang {
			t.Errorf("to %s: subject %q in %q, want %q in %q", want.to, m.Subject, m.Language, want.subject, want.lang)
		}
		if !slices.Equal(m.Parts, []string{"text/plain", "text/html"}) {
			t.Errorf("to %s: parts %v, want text/plain and text/html", want.to, m.Parts)
		}
		if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+link+`"`) {
			t.Errorf("to %s: no link %s in\n%s\n%s", want.to, link, m.Text, m.HTML)
		}
	}
	if got := mailTo(t, ms, "team@hub-2.example.eu"); len(got) != 0 {
		t.Errorf("the recipient of decisions got %d e-mails of a referral received", len(got))
	}
	rec := hook.waitCall(t, "referral.received", func(c hookCall) bool {
		return c.Event.Type == "referral.received" && c.Event.Referral.ID == id
	})
	if e := rec.Event; e.Version != 1 || e.Source != "hub-2" || e.Referral.Partner != "hub-1" || e.Referral.State != "received" ||
		e.Referral.URL != link || e.Referral.Due.IsZero() || rec.Delivery == "" {
		t.Errorf("webhook call %+v %+v", rec, e.Referral)
	}

	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	hook.waitCall(t, "referral.accepted", func(c hookCall) bool {
		return c.Event.Type == "referral.accepted" && c.Event.Referral.ID == id && c.Event.Referral.Previous == "received"
	})
	nodetest.Eventually(t, 15*time.Second, func() error {
		got := mailTo(t, ms, "team@hub-2.example.eu")
		if len(got) != 1 || got[0].Subject != "Referral with hub-1 accepted" {
			return fmt.Errorf("e-mails to the team: %+v", got)
		}
		return nil
	})
	if bad := hook.Bad(); len(bad) > 0 {
		t.Errorf("webhook calls refused: %v", bad)
	}
	ms.mu.Lock()
	auth := slices.Clone(ms.auth)
	ms.mu.Unlock()
	if len(auth) == 0 || auth[0] != "PLAIN" {
		t.Errorf("AUTH used %v, want PLAIN", auth)
	}
	log, err := oc.Deliveries(t.Context(), "crm", 0)
	if err != nil || len(log) < 2 {
		t.Fatalf("delivery log of crm: %+v, %v", log, err)
	}
}

// A mail server with implicit TLS that offers only AUTH LOGIN gets the e-mails too.
func TestNotify_mailImplicitTLSLogin(t *testing.T) {
	ms := startMailServer(t, true, "LOGIN")
	a, b := hubsWith(t, func(c *node.Config) { c.Notify.SMTP = smtpConfig(ms, "tls") })
	if _, err := b.AddPerson(api.PersonRequest{Name: "Eve Example", Email: "eve@hub-2.example.eu", Role: api.RoleAdvisor}); err != nil {
		t.Fatal(err)
	}
	id := receivedReferral(t, a, b, referralTo("hub-2"))
	nodetest.Eventually(t, 15*time.Second, func() error {
		got := mailTo(t, ms, "eve@hub-2.example.eu")
		if len(got) == 0 {
			return fmt.Errorf("no e-mail yet")
		}
		if !strings.Contains(got[0].Text, "/referrals/"+id) {
			return fmt.Errorf("e-mail without the link: %s", got[0].Text)
		}
		return nil
	})
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if len(ms.auth) == 0 || ms.auth[0] != "LOGIN" {
		t.Errorf("AUTH used %v, want LOGIN", ms.auth)
	}
}

// A webhook that fails gets the delivery later, once: through a restart of the
// node, from the durable outbox, and no more after it took it. The operator reads
// the attempts in the delivery log and has the delivery sent again.
func TestNotify_webhookRetriedOnceAfterRestart(t *testing.T) {
	hook := startHookReceiver(t)
	hook.failing.Store(true)
	net := nodetest.Network(t)
	dir := t.TempDir()
	pa := nodetest.Profile("hub-1")
	nodetest.Init(t, dir, net, "hub-1", &pa)
	cfg := nodetest.Config(dir)
	cfg.Notify.AllowHTTPWebhooks = true
	cfg.Notify.RetryMin, cfg.Notify.RetryMax = 50*time.Millisecond, 200*time.Millisecond
	a := nodetest.StartConfig(t, cfg)
	hook.register(t, a, "dir", api.TopicDirectory)

	pb := nodetest.Profile("hub-2")
	b := nodetest.Start(t, net, "hub-2", &pb, a.GossipAddr())
	var first hookCall
	nodetest.Eventually(t, 15*time.Second, func() error {
		calls := hook.Calls()
		if len(calls) < 2 {
			return fmt.Errorf("%d calls, want 2 failed ones", len(calls))
		}
		first = calls[0]
		return nil
	})
	if first.Event.Type != "hub.added" || first.Event.Hub.ID != "hub-2" || first.Status != http.StatusServiceUnavailable {
		t.Fatalf("first call %+v", first)
	}

	a.Kill()
	hook.failing.Store(false)
	a = a.Restart(b.GossipAddr())
	ok := hook.waitCall(t, "the delivery after the restart", func(c hookCall) bool { return c.Delivery == first.Delivery })
	if ok.Event.Seq != first.Event.Seq {
		t.Errorf("delivered event %d, first tried %d", ok.Event.Seq, first.Event.Seq)
	}
	// Another event, delivered after it, shows that the notifier went on: the first
	// delivery is not sent again.
	avail := 2
	if _, err := b.SetCapacity(protocol.FamilySkills, api.CapacityChange{Available: &avail}); err != nil {
		t.Fatal(err)
	}
	hook.waitCall(t, "hub.updated", func(c hookCall) bool { return c.Event.Type == "hub.updated" && c.Event.Seq > first.Event.Seq })
	taken := 0
	for _, c := range hook.Calls() {
		if c.Delivery == first.Delivery && c.Status < 300 {
			taken++
		}
	}
	if taken != 1 {
		t.Errorf("delivery %s taken %d times, want once", first.Delivery, taken)
	}

	oc := operatorClient(t, a)
	log, err := oc.Deliveries(t.Context(), "dir", 0)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(log, func(d api.Delivery) bool { return d.ID == first.Delivery })
	// The first failure at least is recorded before the next attempt; one cut short by
	// the stop may not be.
	if i < 0 || log[i].Status != "delivered" || log[i].Attempts < 2 || log[i].LastStatus != http.StatusNoContent {
		t.Fatalf("delivery log %+v, want %s delivered after a failure or more", log, first.Delivery)
	}
	again, err := oc.Redeliver(t.Context(), first.Delivery)
	if err != nil || again.RedeliveryOf != first.Delivery || again.Event != first.Event.Seq {
		t.Fatalf("Redeliver = %+v, %v", again, err)
	}
	hook.waitCall(t, "the redelivery", func(c hookCall) bool { return c.Delivery == again.ID && c.Event.Seq == first.Event.Seq })
	if _, err := oc.Redeliver(t.Context(), "ffffffffffffffff"); !errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("Redeliver of no delivery: %v, want 404", err)
	}
	if bad := hook.Bad(); len(bad) > 0 {
		t.Errorf("webhook calls refused: %v", bad)
	}
}

// A consumer of the feed that stops and starts again, while the node restarts too,
// reads every event once, in order, from where it stopped.
func TestEvents_consumerResumes(t *testing.T) {
	a, b := twoHubs(t)
	oc := operatorClient(t, a)
	var seen []uint64
	read := func(after uint64, c *api.Client) uint64 {
		t.Helper()
		for range 100 {
			evs, err := c.Events(t.Context(), after, 2, 0)
			if err != nil {
				t.Fatal(err)
			}
			if evs.Next < after || (len(evs.Events) == 0) != (evs.Next == after) {
				t.Fatalf("after %d: next %d with %d events", after, evs.Next, len(evs.Events))
			}
			for _, e := range evs.Events {
				seen = append(seen, e.Seq)
			}
			if len(evs.Events) == 0 {
				return after
			}
			after = evs.Next
		}
		t.Fatal("the feed did not end")
		return 0
	}
	id := receivedReferral(t, b, a, referralTo("hub-1"))
	cursor := read(0, oc)
	if cursor == 0 {
		t.Fatal("no events")
	}
	// Changes while the consumer is away, and a restart of the node.
	if _, err := a.Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	a.Kill()
	a = a.Restart(b.GossipAddr())
	if _, err := a.Act(id, protocol.EventStart, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	cursor = read(cursor, operatorClient(t, a))
	for i, s := range seen {
		if s != uint64(i+1) {
			t.Fatalf("events read %v: want 1, 2, 3... each once", seen)
		}
	}
	var types []string
	evs, err := operatorClient(t, a).Events(t.Context(), 0, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Events {
		if e.Referral != nil && e.Referral.ID == id {
			types = append(types, e.Type)
		}
	}
	if want := []string{"referral.received", "referral.accepted", "referral.changed"}; !slices.Equal(types, want) {
		t.Errorf("events of the referral %v, want %v", types, want)
	}

	// The long poll answers as soon as an event comes.
	done := make(chan api.Events, 1)
	go func() {
		evs, err := operatorClient(t, a).Events(t.Context(), cursor, 10, 10*time.Second)
		if err != nil {
			t.Error(err)
		}
		done <- evs
	}()
	if _, err := a.Act(id, protocol.EventComplete, api.ReferralAction{Outcome: "service-delivered"}); err != nil {
		t.Fatal(err)
	}
	select {
	case evs := <-done:
		if len(evs.Events) == 0 || evs.Events[0].Seq != cursor+1 || evs.Events[0].Referral.State != "completed" {
			t.Errorf("long poll answered %+v, want event %d, completed", evs, cursor+1)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the long poll did not answer")
	}
}

// The API lists the store's event types and topics.
func TestNotify_listsAgree(t *testing.T) {
	if !slices.Equal(api.EventTypes, store.EventTypes) {
		t.Errorf("api.EventTypes %v, store.EventTypes %v", api.EventTypes, store.EventTypes)
	}
	if want := append(slices.Clone(store.Topics), store.TopicDirectory); !slices.Equal(api.Topics, want) {
		t.Errorf("api.Topics %v, want the store's %v", api.Topics, want)
	}
}

// A person chooses the topics of their e-mails with their session; a token has
// none to choose.
func TestNotify_personTopics(t *testing.T) {
	h := oneHubWith(t, func(c *node.Config) {})
	tok := mustPerson(t, h, "Aino Advisor", "aino@hub-1.example.eu", api.RoleAdvisor)
	c, _ := api.NewClient("http://"+h.HTTPAddr(), tok)
	got, err := c.MyTopics(t.Context())
	if err != nil || !slices.Equal(got.Topics, store.DefaultTopics) {
		t.Fatalf("MyTopics = %v, %v; want the defaults %v", got, err, store.DefaultTopics)
	}
	if got, err = c.SetMyTopics(t.Context(), api.NotifyTopics{Topics: []string{"decision", "deadline"}}); err != nil ||
		!slices.Equal(got.Topics, []string{"decision", "deadline"}) {
		t.Fatalf("SetMyTopics = %v, %v", got, err)
	}
	_, err = c.SetMyTopics(t.Context(), api.NotifyTopics{Topics: []string{"directory"}})
	var ae *api.Error
	if !errors.As(err, &ae) || len(ae.Problems) != 1 || ae.Problems[0].Field != "topics.0" {
		t.Errorf("SetMyTopics(directory) = %v, want a 400 naming topics.0", err)
	}
	if _, err := operatorClient(t, h).MyTopics(t.Context()); !errors.As(err, &ae) || ae.Status != 400 {
		t.Errorf("MyTopics with the operator token = %v, want 400", err)
	}
}

// A referral not decided: the receiving hub's people and webhook hear, once, that
// the decision is due within 24 hours, and then that it expired.
func TestNotify_deadlineAndExpiry(t *testing.T) {
	ms := startMailServer(t, false, "PLAIN")
	hook := startHookReceiver(t)
	a, b := hubsWith(t, func(c *node.Config) {
		c.ReceiveWithin, c.DecideWithin, c.DecisionGrace = time.Second, 3*time.Second, 200*time.Millisecond
		c.Notify.SMTP = smtpConfig(ms, "starttls")
		c.Notify.AllowHTTPWebhooks = true
	})
	if _, err := b.AddPerson(api.PersonRequest{Name: "Eve Example", Email: "eve@hub-2.example.eu", Role: api.RoleAdvisor}); err != nil {
		t.Fatal(err)
	}
	hook.register(t, b, "deadlines", api.TopicDeadline, api.TopicExpiry)
	id := receivedReferral(t, a, b, referralTo(b.ID()))
	due := hook.waitCall(t, "referral.due-soon", func(c hookCall) bool {
		return c.Event.Type == "referral.due-soon" && c.Event.Referral.ID == id
	})
	if due.Event.Referral.Due.IsZero() || due.Event.Referral.State != "received" {
		t.Errorf("due-soon event %+v", due.Event.Referral)
	}
	hook.waitCall(t, "referral.expired", func(c hookCall) bool {
		return c.Event.Type == "referral.expired" && c.Event.Referral.ID == id
	})
	var subjects []string
	nodetest.Eventually(t, 15*time.Second, func() error {
		subjects = nil
		for _, m := range mailTo(t, ms, "eve@hub-2.example.eu") {
			subjects = append(subjects, m.Subject)
		}
		if !slices.Contains(subjects, "Referral with hub-1 expired") {
			return fmt.Errorf("e-mails to Eve: %q", subjects)
		}
		return nil
	})
	want := []string{"New referral from hub-1", "Referral from hub-1: decision due within 24 hours", "Referral with hub-1 expired"}
	if !slices.Equal(subjects, want) {
		t.Errorf("e-mails to Eve: %q, want %q", subjects, want)
	}
	n := 0
	for _, c := range hook.Calls() {
		if c.Event.Type == "referral.due-soon" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d calls of referral.due-soon, want 1", n)
	}
}
