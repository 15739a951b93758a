package store

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

func mustEvents(t *testing.T, s *Store, after uint64) []Event {
	t.Helper()
	evs, _, err := s.Events(after, 1000)
	if err != nil {
		t.Fatalf("Events(%d): %v", after, err)
	}
	return evs
}

func eventTypes(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// A referral's new record and each change of its state are events, numbered in order
// and written with the change; a change of contact only is none. The numbers go on
// after the file is opened again.
func TestStore_Events_referralChanges(t *testing.T) {
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s := mustOpenPath(t, path, &Options{Now: clock.Now})
	rec := testRecord(t, protocol.RoleReceiver, clock.Now())
	rec.Referral.State = protocol.StateReceived
	mustSave(t, s, rec, nil, nil)
	change := func(fn func(r *ReferralRecord)) {
		t.Helper()
		_, err := s.UpdateReferral(rec.Referral.ID, func(r *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
			fn(r)
			return nil, nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	change(func(r *ReferralRecord) {
		r.Contacts = &Contacts{Own: &protocol.PersonContact{Hub: "hub-two", Name: "Aino", Email: "Aino@hub-two.example.eu"}}
	})
	change(func(r *ReferralRecord) {
		if err := r.Referral.Apply(protocol.EventAccept, protocol.RoleReceiver, "hub-two", clock.Now(), ""); err != nil {
			t.Fatal(err)
		}
		r.Referral.History[len(r.Referral.History)-1].Person = "Aino Virtanen"
	})
	evs := mustEvents(t, s, 0)
	if got, want := eventTypes(evs), []string{EventReferralReceived, EventReferralAccepted}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	acc := evs[1]
	if acc.Seq != 2 || acc.Referral.Previous != protocol.StateReceived || acc.Referral.State != protocol.StateAccepted ||
		acc.Referral.Partner != "hub-one" || acc.Referral.Person != "Aino Virtanen" {
		t.Errorf("accepted event %+v %+v", acc, acc.Referral)
	}
	if got := mustEvents(t, s, 1); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("Events(after 1) = %v, want the event 2 alone", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpenPath(t, path, &Options{Now: clock.Now})
	change(func(r *ReferralRecord) {
		if err := r.Referral.Apply(protocol.EventStart, protocol.RoleReceiver, "hub-two", clock.Now(), ""); err != nil {
			t.Fatal(err)
		}
	})
	evs = mustEvents(t, s, 2)
	if len(evs) != 1 || evs[0].Seq != 3 || evs[0].Type != EventReferralChanged {
		t.Errorf("after reopening: %+v, want event 3 referral.changed", evs)
	}
}

// Each event queues a delivery for every webhook of its topics, and while mail is on
// an e-mail for each recipient and person who chose its topics and whose referral it
// is; one address gets one e-mail.
func TestStore_queueNotifications(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	s.SetMail(true)
	for _, p := range []Person{testPerson("aino", "aino@hub-two.example.eu", RoleAdvisor),
		testPerson("mikko", "mikko@hub-two.example.eu", RoleOperator),
		testPerson("liisa", "liisa@hub-two.example.eu", RoleAdvisor)} {
		if _, err := s.AddPerson(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetPersonTopics("liisa", []string{TopicChange}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRecipients([]Recipient{{Email: "team@hub-two.example.eu", Language: "de", Topics: []string{TopicReceived}},
		{Email: "MIKKO@hub-two.example.eu", Topics: []string{TopicDecision}}}); err != nil {
		t.Fatal(err)
	}
	secret := "0123456789abcdef0123456789abcdef"
	for _, w := range []Webhook{{ID: "crm", URL: "https://crm.example.eu/h", Secret: secret},
		{ID: "decisions", URL: "https://crm.example.eu/d", Secret: secret, Topics: []string{TopicDecision}}} {
		if _, err := s.AddWebhook(w, false); err != nil {
			t.Fatal(err)
		}
	}
	rec := testRecord(t, protocol.RoleReceiver, clock.Now())
	rec.Referral.State = protocol.StateReceived
	mustSave(t, s, rec, nil, nil)
	due, _, err := s.NotifyDue(clock.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range due {
		got = append(got, d.Channel+":"+d.Target)
	}
	slices.Sort(got)
	want := []string{"email:aino@hub-two.example.eu", "email:liisa@hub-two.example.eu", "email:mikko@hub-two.example.eu",
		"email:team@hub-two.example.eu", "webhook:crm"}
	if !slices.Equal(got, want) {
		t.Errorf("deliveries of referral.received %v, want %v", got, want)
	}

	// Aino takes it: the decision goes to her, not to Liisa's "change" of others'
	// referrals, and to the webhooks and the recipient of decisions.
	for _, d := range due {
		if err := s.NotifyAttempt(d.ID, DeliveryDelivered, time.Time{}, "", 200); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.UpdateReferral(rec.Referral.ID, func(r *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		r.Contacts = &Contacts{Own: &protocol.PersonContact{Hub: "hub-two", Name: "Aino Virtanen", Email: "aino@hub-two.example.eu"}}
		return nil, nil, r.Referral.Apply(protocol.EventAccept, protocol.RoleReceiver, "hub-two", clock.Now(), "")
	})
	if err != nil {
		t.Fatal(err)
	}
	due, _, _ = s.NotifyDue(clock.Now(), 100)
	got = nil
	for _, d := range due {
		got = append(got, d.Channel+":"+d.Target)
	}
	slices.Sort(got)
	want = []string{"email:MIKKO@hub-two.example.eu", "email:aino@hub-two.example.eu", "webhook:crm", "webhook:decisions"}
	if !slices.Equal(got, want) {
		t.Errorf("deliveries of referral.accepted %v, want %v", got, want)
	}
}

// A failed attempt keeps the delivery pending until it is due again; one that ends
// moves to the log, where it can be sent again as a new delivery.
func TestStore_NotifyAttempt_retryAndRedeliver(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	if _, err := s.AddWebhook(Webhook{ID: "crm", URL: "https://crm.example.eu/h", Secret: "0123456789abcdef0123456789abcdef"}, false); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, testRecord(t, protocol.RoleSender, clock.Now()), nil, nil)
	due, _, _ := s.NotifyDue(clock.Now(), 10)
	if len(due) != 1 {
		t.Fatalf("%d due, want 1", len(due))
	}
	id := due[0].ID
	later := clock.Now().Add(time.Minute)
	if err := s.NotifyAttempt(id, DeliveryPending, later, "503 Service Unavailable", 503); err != nil {
		t.Fatal(err)
	}
	if due, next, _ := s.NotifyDue(clock.Now(), 10); len(due) != 0 || !next.Equal(later) {
		t.Errorf("after a failure: %d due, next %v; want none, next %v", len(due), next, later)
	}
	if _, err := s.Redeliver(id); fieldsOf(t, err) == nil {
		t.Errorf("Redeliver of a pending delivery: %v, want a validation error", err)
	}
	if err := s.NotifyAttempt(id, DeliveryDelivered, time.Time{}, "", 204); err != nil {
		t.Fatal(err)
	}
	log, err := s.Deliveries(DeliveryFilter{Target: "crm"})
	if err != nil || len(log) != 1 || log[0].Status != DeliveryDelivered || log[0].Attempts != 2 || log[0].LastStatus != 204 {
		t.Fatalf("Deliveries = %+v, %v; want one delivered in 2 attempts", log, err)
	}
	again, err := s.Redeliver(id)
	if err != nil || again.ID == id || again.RedeliveryOf != id || again.Event != log[0].Event {
		t.Fatalf("Redeliver = %+v, %v", again, err)
	}
	if due, _, _ := s.NotifyDue(clock.Now(), 10); len(due) != 1 || due[0].ID != again.ID {
		t.Errorf("after Redeliver: due %+v, want %s", due, again.ID)
	}
	if _, err := s.Redeliver("ffffffffffffffff"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Redeliver of no delivery: %v, want ErrNotFound", err)
	}
}

// A webhook must be https, unless allowed for tests, and its topics must be topics.
func TestWebhook_Validate(t *testing.T) {
	w := Webhook{ID: "crm", URL: "http://127.0.0.1:9/h", Secret: "short", Topics: []string{"decision", "gossip"}}
	got := fieldsOf(t, w.Validate(false))
	if want := []string{"url", "secret", "topics.1"}; !slices.Equal(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	w.Secret, w.Topics = "0123456789abcdef0123456789abcdef", nil
	if err := w.Validate(true); err != nil {
		t.Errorf("http allowed: %v", err)
	}
}

// The deadline within 24 hours is one event per deadline.
func TestStore_NoteDueSoon_once(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	rec := testRecord(t, protocol.RoleSender, clock.Now())
	mustSave(t, s, rec, nil, nil)
	due := DueOf(rec.Referral)
	for i, want := range []bool{true, false} {
		if wrote, err := s.NoteDueSoon(rec.Referral.ID, due); err != nil || wrote != want {
			t.Errorf("NoteDueSoon #%d = %v, %v; want %v", i, wrote, err, want)
		}
	}
	if wrote, _ := s.NoteDueSoon(rec.Referral.ID, due.Add(time.Hour)); wrote {
		t.Error("NoteDueSoon of a deadline the referral does not have wrote an event")
	}
	if got := eventTypes(mustEvents(t, s, 0)); !slices.Equal(got, []string{EventReferralSent, EventReferralDueSoon}) {
		t.Errorf("events %v", got)
	}
}

// The hubs entering the directory, changing and leaving it are events.
func TestStore_Events_directory(t *testing.T) {
	s := mustOpen(t)
	ident := mustIdentity(t, "hub-two")
	for _, rev := range []uint64{1, 2} {
		if err := s.PutHub(mustSignedHub(t, ident, rev)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteHub("hub-two"); err != nil {
		t.Fatal(err)
	}
	evs := mustEvents(t, s, 0)
	if got := eventTypes(evs); !slices.Equal(got, []string{EventHubAdded, EventHubUpdated, EventHubRemoved}) {
		t.Fatalf("events %v", got)
	}
	if evs[1].Hub.ID != "hub-two" || evs[1].Hub.Revision != 2 {
		t.Errorf("hub.updated %+v", evs[1].Hub)
	}
}

// Schema 5 added the change feed and notifications.
func writeSchema5(t *testing.T, tx *bolt.Tx, file int, d *oldData) {
	at := time.Unix(1741944413, 0).UTC()
	ev := eventRow{Event: Event{Seq: 1, Type: EventHubAdded, At: at, Hub: &EventHub{ID: "hub-two", Revision: 7}}}
	rawPut(t, tx, "events", string(seqKey(1)), mustJSONBytes(t, ev))
	if err := tx.Bucket([]byte("events")).SetSequence(1); err != nil {
		t.Fatal(err)
	}
	rawPut(t, tx, "webhooks", "crm", mustJSONBytes(t, Webhook{ID: "crm", URL: "https://crm.example.eu/h",
		Secret: "0123456789abcdef0123456789abcdef", Created: at}))
	rawPut(t, tx, "notify_log", "0000000000000001", mustJSONBytes(t, Delivery{ID: "0000000000000001", Event: 1,
		Type: EventHubAdded, Channel: ChannelWebhook, Target: "crm", Status: DeliveryDelivered, Attempts: 1, Created: at, Finished: at}))
	// Delivery IDs are numbered by the outbox bucket's sequence.
	if err := tx.Bucket([]byte("notify_outbox")).SetSequence(1); err != nil {
		t.Fatal(err)
	}
	rawPut(t, tx, "notify_settings", "person/p1", []byte(`["decision"]`))
}

func checkSchema5(t *testing.T, s *Store, d *oldData) {
	t.Helper()
	// The checks of older fixtures, which ran before, made events of their own: they
	// go on from the fixture's.
	evs, last, err := s.Events(0, 100)
	if err != nil || len(evs) == 0 || evs[0].Hub == nil || evs[0].Hub.Revision != 7 || last != uint64(len(evs)) {
		t.Fatalf("Events = %+v, %d, %v", evs, last, err)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Errorf("event %d has number %d", i+1, e.Seq)
		}
	}
	if w, err := s.Webhook("crm"); err != nil || w.Secret == "" {
		t.Fatalf("Webhook = %+v, %v", w, err)
	}
	if topics, chose, err := s.PersonTopics("p1"); err != nil || !chose || !slices.Equal(topics, []string{TopicDecision}) {
		t.Errorf("PersonTopics = %v, %v, %v", topics, chose, err)
	}
	again, err := s.Redeliver("0000000000000001")
	if err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	if again.ID == "0000000000000001" {
		t.Errorf("redelivery took the ID of the delivery it repeats")
	}
}

// Events and ended deliveries older than the retention are pruned; the numbering
// goes on. Removing a webhook drops what it still had to send.
func TestStore_prune(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	if _, err := s.AddWebhook(Webhook{ID: "crm", URL: "https://crm.example.eu/h", Secret: "0123456789abcdef0123456789abcdef"}, false); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, testRecord(t, protocol.RoleSender, clock.Now()), nil, nil)
	due, _, _ := s.NotifyDue(clock.Now(), 10)
	if err := s.NotifyAttempt(due[0].ID, DeliveryDelivered, time.Time{}, "", 200); err != nil {
		t.Fatal(err)
	}
	clock.Add(48 * time.Hour)
	mustSave(t, s, testRecord(t, protocol.RoleSender, clock.Now()), nil, nil)
	cut := clock.Now().Add(-time.Hour)
	if n, err := s.PruneEvents(cut, 100); err != nil || n != 1 {
		t.Errorf("PruneEvents = %d, %v; want 1", n, err)
	}
	if n, err := s.PruneDeliveries(cut, 100); err != nil || n != 1 {
		t.Errorf("PruneDeliveries = %d, %v; want 1", n, err)
	}
	if oldest, _ := s.OldestEvent(); oldest != 2 {
		t.Errorf("oldest event %d, want 2", oldest)
	}
	if _, err := s.RemoveWebhook("crm"); err != nil {
		t.Fatal(err)
	}
	if due, _, _ := s.NotifyDue(clock.Now(), 10); len(due) != 0 {
		t.Errorf("%d deliveries pending after the webhook was removed", len(due))
	}
	mustSave(t, s, testRecord(t, protocol.RoleSender, clock.Now()), nil, nil)
	if evs := mustEvents(t, s, 0); len(evs) != 2 || evs[1].Seq != 3 {
		t.Errorf("events after pruning %+v, want 2 and 3", evs)
	}
}

// The hub's recipients are checked field by field, and stored whole or not at all.
func TestStore_SetRecipients_checked(t *testing.T) {
	s := mustOpen(t)
	err := s.SetRecipients([]Recipient{{Email: "team@hub.example.eu", Topics: []string{"decision"}},
		{Email: "TEAM@hub.example.eu", Language: "not a tag!", Topics: []string{"directory"}}, {Email: "x", Topics: nil}})
	want := []string{"recipients.1.email", "recipients.1.language", "recipients.1.topics.0", "recipients.2.email", "recipients.2.topics"}
	if got := fieldsOf(t, err); !slices.Equal(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	if list, _ := s.Recipients(); len(list) != 0 {
		t.Errorf("stored %v after a refusal", list)
	}
}
