package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// mustUUID returns a fresh referral or message ID.
func mustUUID(t testing.TB) string {
	t.Helper()
	return uuid.Must(uuid.NewV7()).String()
}

// testReferral returns a valid referral from hub-one to hub-two, created at created and
// sent at once: in state requested.
func testReferral(t testing.TB, created time.Time) protocol.Referral {
	t.Helper()
	r := protocol.Referral{
		V:       protocol.Version,
		ID:      mustUUID(t),
		From:    "hub-one",
		To:      "hub-two",
		Created: created,
		State:   protocol.StateDraft,
		Need: protocol.Need{
			Sector:       "C",
			Region:       "FI1B1",
			Category:     protocol.CategorySmall,
			Family:       protocol.FamilyTestBeforeInvest,
			Technologies: []string{"robotics", "ai-decision-support"},
			Description:  "A metal workshop wants to try a cobot on its welding line before it buys one.",
		},
		Consent: protocol.Consent{
			GivenBy:   "managing director",
			GivenAt:   created.Add(-time.Hour),
			Recipient: "hub-two",
			Purpose:   "referral to hub-two for a test before invest",
			Until:     created.Add(90 * 24 * time.Hour),
		},
		AckBy:    created.Add(24 * time.Hour),
		DecideBy: created.Add(14 * 24 * time.Hour),
	}
	if err := r.Apply(protocol.EventSend, protocol.RoleSender, "hub-one", created, ""); err != nil {
		t.Fatalf("Apply(send): %v", err)
	}
	return r
}

// testRecord returns the record of a fresh test referral as the hub in role keeps it:
// the sender knows the SME, the receiver not yet.
func testRecord(t testing.TB, role protocol.Role, created time.Time) ReferralRecord {
	t.Helper()
	rec := ReferralRecord{Referral: testReferral(t, created), Role: role}
	if role == protocol.RoleSender {
		rec.SME = testSME()
	}
	return rec
}

func testSME() *protocol.SME {
	return &protocol.SME{Name: "Konepaja Virtanen Oy", ContactName: "Aino Virtanen",
		ContactEmail: "aino@konepaja.example.fi", ContactPhone: "+358 40 123 4567"}
}

// testOutgoing returns an outbox entry for the referral ref to the hub to. Its envelope
// has spacing and escapes that a JSON encoder would change, to show it is kept as is.
func testOutgoing(t testing.TB, ref, to string, due time.Time) Outgoing {
	t.Helper()
	id := mustUUID(t)
	return Outgoing{ID: id, To: to, Referral: ref, Due: due,
		Envelope: []byte(`{"v":1, "id":"` + id + `","type":"referral-offer","body":{"x":"\u00e9"}}`)}
}

// testKPI returns a valid KPI record of the referral ref written by hub-two.
func testKPI(kind protocol.KPIKind, ref string, at time.Time) protocol.KPIRecord {
	return protocol.KPIRecord{Kind: kind, Referral: ref, Hub: "hub-two", Partner: "hub-one",
		Role: protocol.RoleReceiver, At: at, Category: protocol.CategorySmall, Sector: "C", Region: "FI1B1",
		Family: protocol.FamilyTestBeforeInvest, Outcome: "service-delivered"}
}

// mustOpenClock opens a fresh store whose clock is clock.
func mustOpenClock(t testing.TB, clock *testClock) *Store {
	t.Helper()
	return mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), &Options{Now: clock.Now})
}

func mustSave(t testing.TB, s *Store, rec ReferralRecord, out []Outgoing, kpis []protocol.KPIRecord) {
	t.Helper()
	if err := s.SaveReferral(rec, out, kpis); err != nil {
		t.Fatalf("SaveReferral(%s): %v", rec.Referral.ID, err)
	}
}

func mustOutbox(t testing.TB, s *Store) []Outgoing {
	t.Helper()
	out, err := s.Outbox()
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	return out
}

func mustKPIs(t testing.TB, s *Store, from, to time.Time) []protocol.KPIRecord {
	t.Helper()
	kpis, err := s.KPIs(from, to)
	if err != nil {
		t.Fatalf("KPIs: %v", err)
	}
	return kpis
}

func mustReferrals(t testing.TB, s *Store, f ReferralFilter) []ReferralRecord {
	t.Helper()
	recs, err := s.Referrals(f)
	if err != nil {
		t.Fatalf("Referrals(%+v): %v", f, err)
	}
	return recs
}

// assertEmpty fails unless s holds no referral, outbox entry or KPI record.
func assertEmpty(t *testing.T, s *Store) {
	t.Helper()
	if recs := mustReferrals(t, s, ReferralFilter{}); len(recs) != 0 {
		t.Errorf("%d referrals stored, want none", len(recs))
	}
	if out := mustOutbox(t, s); len(out) != 0 {
		t.Errorf("%d outbox entries stored, want none", len(out))
	}
	if kpis := mustKPIs(t, s, time.Time{}, time.Time{}); len(kpis) != 0 {
		t.Errorf("%d KPI records stored, want none", len(kpis))
	}
}

// ids returns the referral IDs of recs.
func ids(recs []ReferralRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Referral.ID
	}
	return out
}

func TestStore_SaveReferral(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	rec := testRecord(t, protocol.RoleSender, testTime)
	out := []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", time.Time{})}
	kpi := testKPI(protocol.KPICollaboration, rec.Referral.ID, testTime)
	mustSave(t, s, rec, out, []protocol.KPIRecord{kpi})

	got, err := s.Referral(rec.Referral.ID)
	if err != nil {
		t.Fatalf("Referral: %v", err)
	}
	want := rec
	want.Updated = clock.Now()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Referral() = %+v\nwant %+v", got, want)
	}

	gotOut := mustOutbox(t, s)
	wantOut := out[0]
	wantOut.Created, wantOut.Due = clock.Now(), clock.Now() // zero times mean now
	if len(gotOut) != 1 || !reflect.DeepEqual(gotOut[0], wantOut) {
		t.Errorf("Outbox() = %+v\nwant [%+v]", gotOut, wantOut)
	}
	if kpis := mustKPIs(t, s, time.Time{}, time.Time{}); len(kpis) != 1 || !reflect.DeepEqual(kpis[0], kpi) {
		t.Errorf("KPIs() = %+v, want [%+v]", kpis, kpi)
	}

	// Saving again replaces the referral and stamps Updated again.
	clock.Add(time.Minute)
	rec.Referral.Reason = "duplicate"
	mustSave(t, s, rec, nil, nil)
	got, err = s.Referral(rec.Referral.ID)
	if err != nil || got.Referral.Reason != "duplicate" || !got.Updated.Equal(clock.Now()) {
		t.Errorf("Referral after a second save = reason %q, updated %v, %v; want duplicate, %v",
			got.Referral.Reason, got.Updated, err, clock.Now())
	}
	if n := len(mustReferrals(t, s, ReferralFilter{})); n != 1 {
		t.Errorf("%d referrals after saving one twice, want 1", n)
	}
}

func TestStore_Referral_notFound(t *testing.T) {
	s := mustOpen(t)
	id := mustUUID(t)
	_, err := s.Referral(id)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), id) {
		t.Errorf("Referral of an unknown ID: %v, want ErrNotFound naming %s", err, id)
	}
}

func TestStore_SaveReferral_invalid(t *testing.T) {
	ref := mustUUID(t)
	tests := []struct {
		name   string
		change func(rec *ReferralRecord, out *Outgoing, kpi *protocol.KPIRecord)
		out    int // how many copies of the outgoing message to save
		fields []string
	}{
		{"no referral ID", func(rec *ReferralRecord, _ *Outgoing, _ *protocol.KPIRecord) { rec.Referral.ID = "" },
			1, []string{"referral.id"}},
		{"bad need", func(rec *ReferralRecord, _ *Outgoing, _ *protocol.KPIRecord) {
			rec.Referral.Need.Region = "FI"
			rec.Referral.State = "lost"
		}, 1, []string{"referral.need.region", "referral.state"}},
		{"system role", func(rec *ReferralRecord, _ *Outgoing, _ *protocol.KPIRecord) { rec.Role = protocol.RoleSystem },
			1, []string{"role"}},
		{"bad SME", func(rec *ReferralRecord, _ *Outgoing, _ *protocol.KPIRecord) {
			rec.SME.ContactEmail = "aino at konepaja"
		},
			1, []string{"sme.contact_email"}},
		{"empty message", func(_ *ReferralRecord, o *Outgoing, _ *protocol.KPIRecord) { *o = Outgoing{} },
			1, []string{"out.0.id", "out.0.to", "out.0.envelope"}},
		{"message twice", func(*ReferralRecord, *Outgoing, *protocol.KPIRecord) {}, 2, []string{"out.1.id"}},
		{"bad KPI", func(_ *ReferralRecord, _ *Outgoing, k *protocol.KPIRecord) {
			k.Kind = "served"
			k.Hub = ""
			k.At = time.Time{}
		}, 1, []string{"kpis.0.kind", "kpis.0.hub", "kpis.0.at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			rec := testRecord(t, protocol.RoleSender, testTime)
			o := testOutgoing(t, ref, "hub-two", testTime)
			kpi := testKPI(protocol.KPIServiceDelivered, ref, testTime)
			tt.change(&rec, &o, &kpi)
			out := slices.Repeat([]Outgoing{o}, tt.out)
			err := s.SaveReferral(rec, out, []protocol.KPIRecord{kpi})
			var ve *protocol.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("SaveReferral: %v, want a *protocol.ValidationError", err)
			}
			if !errors.Is(err, protocol.ErrInvalid) {
				t.Errorf("error %v does not match protocol.ErrInvalid", err)
			}
			for _, f := range tt.fields {
				if !hasField(ve, f) {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
			if len(ve.Problems) != len(tt.fields) {
				t.Errorf("got %d problems %v, want %d naming %v", len(ve.Problems), ve.Problems, len(tt.fields), tt.fields)
			}
			assertEmpty(t, s)
		})
	}
}

func TestStore_UpdateReferral(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	rec := testRecord(t, protocol.RoleReceiver, testTime)
	id := rec.Referral.ID
	mustSave(t, s, rec, nil, nil)

	clock.Add(time.Hour)
	msg := testOutgoing(t, id, "hub-one", time.Time{})
	kpi := testKPI(protocol.KPICollaboration, id, clock.Now())
	got, err := s.UpdateReferral(id, func(r *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		if err := r.Referral.Apply(protocol.EventReceive, protocol.RoleSystem, "hub-two", clock.Now(), ""); err != nil {
			return nil, nil, err
		}
		return []Outgoing{msg}, []protocol.KPIRecord{kpi}, nil
	})
	if err != nil {
		t.Fatalf("UpdateReferral: %v", err)
	}
	if got.Referral.State != protocol.StateReceived || !got.Updated.Equal(clock.Now()) {
		t.Errorf("UpdateReferral returned state %s, updated %v; want received, %v", got.Referral.State, got.Updated, clock.Now())
	}
	stored, err := s.Referral(id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, got) {
		t.Errorf("Referral() = %+v\nwant what UpdateReferral returned, %+v", stored, got)
	}
	if out := mustOutbox(t, s); len(out) != 1 || out[0].ID != msg.ID {
		t.Errorf("Outbox() = %+v, want the message returned by fn", out)
	}
	if kpis := mustKPIs(t, s, time.Time{}, time.Time{}); len(kpis) != 1 || kpis[0].Referral != id {
		t.Errorf("KPIs() = %+v, want the record returned by fn", kpis)
	}
}

func TestStore_UpdateReferral_fnError(t *testing.T) {
	s := mustOpen(t)
	rec := testRecord(t, protocol.RoleReceiver, testTime)
	id := rec.Referral.ID
	mustSave(t, s, rec, nil, nil)
	before, err := s.Referral(id)
	if err != nil {
		t.Fatal(err)
	}

	boom := errors.New("boom")
	_, err = s.UpdateReferral(id, func(r *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		r.Referral.State = protocol.StateAccepted
		r.SME = testSME()
		return []Outgoing{testOutgoing(t, id, "hub-one", testTime)},
			[]protocol.KPIRecord{testKPI(protocol.KPICollaboration, id, testTime)}, boom
	})
	if err != boom {
		t.Errorf("UpdateReferral: %v, want fn's error as is", err)
	}
	after, err := s.Referral(id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("referral after a failed update = %+v\nwant it unchanged, %+v", after, before)
	}
	if out := mustOutbox(t, s); len(out) != 0 {
		t.Errorf("outbox after a failed update = %+v, want empty", out)
	}
	if kpis := mustKPIs(t, s, time.Time{}, time.Time{}); len(kpis) != 0 {
		t.Errorf("KPIs after a failed update = %+v, want none", kpis)
	}
}

func TestStore_UpdateReferral_invalid(t *testing.T) {
	s := mustOpen(t)
	rec := testRecord(t, protocol.RoleReceiver, testTime)
	id := rec.Referral.ID
	mustSave(t, s, rec, nil, nil)

	other := mustUUID(t)
	_, err := s.UpdateReferral(id, func(r *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		r.Referral.ID = other
		return []Outgoing{{ID: mustUUID(t), To: "hub-one"}}, nil, nil
	})
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) || !hasField(ve, "referral.id") || !hasField(ve, "out.0.envelope") {
		t.Fatalf("UpdateReferral that changes the ID: %v, want a validation error naming referral.id and out.0.envelope", err)
	}
	if _, err := s.Referral(other); !errors.Is(err, ErrNotFound) {
		t.Errorf("Referral(%s) after a refused update: %v, want ErrNotFound", other, err)
	}
	if out := mustOutbox(t, s); len(out) != 0 {
		t.Errorf("outbox after a refused update = %+v, want empty", out)
	}
}

func TestStore_UpdateReferral_notFound(t *testing.T) {
	s := mustOpen(t)
	called := false
	_, err := s.UpdateReferral(mustUUID(t), func(*ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		called = true
		return nil, nil, nil
	})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateReferral of an unknown ID: %v, want ErrNotFound", err)
	}
	if called {
		t.Error("fn was called for a referral that does not exist")
	}
}

func TestStore_UpdateReferral_purgeSME(t *testing.T) {
	s := mustOpen(t)
	rec := testRecord(t, protocol.RoleSender, testTime)
	id := rec.Referral.ID
	mustSave(t, s, rec, nil, nil)
	if got, err := s.Referral(id); err != nil || got.SME == nil || *got.SME != *rec.SME {
		t.Fatalf("Referral before the purge: SME %+v, %v; want %+v", got.SME, err, rec.SME)
	}

	got, err := s.UpdateReferral(id, func(r *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		r.SME = nil
		return nil, nil, r.Referral.Apply(protocol.EventCancel, protocol.RoleSender, "hub-one", testTime, "consent-withdrawn")
	})
	if err != nil {
		t.Fatalf("UpdateReferral: %v", err)
	}
	if got.SME != nil {
		t.Errorf("UpdateReferral returned SME %+v after a purge, want nil", got.SME)
	}
	if got, err := s.Referral(id); err != nil || got.SME != nil || got.Referral.State != protocol.StateCancelled {
		t.Errorf("Referral after the purge: SME %+v, state %s, %v; want nil, cancelled", got.SME, got.Referral.State, err)
	}
	if err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSMEs).Get([]byte(id)); v != nil {
			t.Errorf("the SME's bytes are still stored after a purge: %s", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// receiveOffer is the fn of a Receive that stores a new referral at the receiver and
// acknowledges it with ack; it counts its calls in calls.
func receiveOffer(t *testing.T, ref protocol.Referral, ack []byte, calls *atomic.Int32) func(ReferralRecord, bool) (Incoming, error) {
	return func(cur ReferralRecord, found bool) (Incoming, error) {
		calls.Add(1)
		if found {
			t.Errorf("Receive found referral %s before it was stored", cur.Referral.ID)
		}
		return Incoming{Record: &ReferralRecord{Referral: ref, Role: protocol.RoleReceiver}, Ack: ack}, nil
	}
}

func TestStore_Receive_once(t *testing.T) {
	s := mustOpen(t)
	ref := testReferral(t, testTime)
	msgID := mustUUID(t)
	var calls atomic.Int32

	ack, dup, err := s.Receive(msgID, ref.ID, receiveOffer(t, ref, []byte("ack one"), &calls))
	if err != nil || dup || string(ack) != "ack one" {
		t.Fatalf("first Receive = %q, dup %t, %v; want %q, false, nil", ack, dup, err, "ack one")
	}
	ack, dup, err = s.Receive(msgID, ref.ID, receiveOffer(t, ref, []byte("ack two"), &calls))
	if err != nil || !dup || string(ack) != "ack one" {
		t.Errorf("second Receive = %q, dup %t, %v; want the first ack %q, true, nil", ack, dup, err, "ack one")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fn called %d times for one message ID, want 1", n)
	}
	if got, err := s.Referral(ref.ID); err != nil || got.Role != protocol.RoleReceiver {
		t.Errorf("Referral after Receive: role %q, %v; want receiver", got.Role, err)
	}

	// The next message about the same referral finds it.
	var found bool
	_, dup, err = s.Receive(mustUUID(t), ref.ID, func(cur ReferralRecord, ok bool) (Incoming, error) {
		found = ok && cur.Referral.ID == ref.ID
		return Incoming{Ack: []byte("ack three")}, nil
	})
	if err != nil || dup || !found {
		t.Errorf("Receive of a second message: dup %t, found %t, %v; want false, true, nil", dup, found, err)
	}
}

func TestStore_Receive_concurrent(t *testing.T) {
	s := mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), &Options{NoSync: true})
	ref := testReferral(t, testTime)
	msgID := mustUUID(t)
	var (
		calls atomic.Int32
		dups  atomic.Int32
		wg    sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			ack, dup, err := s.Receive(msgID, ref.ID, receiveOffer(t, ref, []byte("ack"), &calls))
			if err != nil || string(ack) != "ack" {
				t.Errorf("Receive = %q, %v; want %q, nil", ack, err, "ack")
			}
			if dup {
				dups.Add(1)
			}
		})
	}
	wg.Wait()
	if c, d := calls.Load(), dups.Load(); c != 1 || d != 7 {
		t.Errorf("8 concurrent Receives of one message: fn called %d times, %d duplicates; want 1, 7", c, d)
	}
}

func TestStore_Receive_fnError(t *testing.T) {
	s := mustOpen(t)
	ref := testReferral(t, testTime)
	msgID := mustUUID(t)
	boom := errors.New("boom")
	ack, dup, err := s.Receive(msgID, ref.ID, func(ReferralRecord, bool) (Incoming, error) {
		return Incoming{
			Record: &ReferralRecord{Referral: ref, Role: protocol.RoleReceiver},
			Out:    []Outgoing{testOutgoing(t, ref.ID, "hub-one", testTime)},
			KPIs:   []protocol.KPIRecord{testKPI(protocol.KPICollaboration, ref.ID, testTime)},
			Ack:    []byte("ack"),
		}, boom
	})
	if err != boom || ack != nil || dup {
		t.Errorf("Receive with a failing fn = %q, %t, %v; want nil, false and fn's error as is", ack, dup, err)
	}
	assertEmpty(t, s)

	// The message ID was not recorded: a retry applies the message.
	var calls atomic.Int32
	ack, dup, err = s.Receive(msgID, ref.ID, receiveOffer(t, ref, []byte("ack"), &calls))
	if err != nil || dup || calls.Load() != 1 || string(ack) != "ack" {
		t.Errorf("retry after a failed Receive = %q, dup %t, %d calls, %v; want applied once", ack, dup, calls.Load(), err)
	}
}

func TestStore_Receive_invalid(t *testing.T) {
	s := mustOpen(t)
	ref := testReferral(t, testTime)
	msgID := mustUUID(t)
	other := testReferral(t, testTime)

	_, _, err := s.Receive(msgID, ref.ID, func(ReferralRecord, bool) (Incoming, error) {
		// The record is another referral than the one the message is about.
		return Incoming{Record: &ReferralRecord{Referral: other, Role: protocol.RoleReceiver}}, nil
	})
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) || !hasField(ve, "referral.id") {
		t.Fatalf("Receive storing another referral: %v, want a validation error naming referral.id", err)
	}
	assertEmpty(t, s)

	var calls atomic.Int32
	if _, dup, err := s.Receive(msgID, ref.ID, receiveOffer(t, ref, nil, &calls)); err != nil || dup || calls.Load() != 1 {
		t.Errorf("retry after a refused Receive: dup %t, %d calls, %v; want applied once", dup, calls.Load(), err)
	}

	_, _, err = s.Receive("", ref.ID, func(ReferralRecord, bool) (Incoming, error) {
		t.Error("fn called for a message without an ID")
		return Incoming{}, nil
	})
	if !errors.As(err, &ve) || !hasField(ve, "id") {
		t.Errorf("Receive without a message ID: %v, want a validation error naming id", err)
	}
}

func TestStore_Outbox_order(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	now := clock.Now()
	a := testRecord(t, protocol.RoleSender, testTime)
	b := testRecord(t, protocol.RoleSender, testTime)
	late := testOutgoing(t, a.Referral.ID, "hub-two", now.Add(time.Hour))
	soon := testOutgoing(t, a.Referral.ID, "hub-two", now.Add(time.Minute))
	overdue := testOutgoing(t, b.Referral.ID, "hub-three", now.Add(-time.Minute))
	atOnce := testOutgoing(t, b.Referral.ID, "hub-three", time.Time{})
	mustSave(t, s, a, []Outgoing{late, soon}, nil)
	mustSave(t, s, b, []Outgoing{overdue, atOnce}, nil)

	out := mustOutbox(t, s)
	var got []string
	for _, o := range out {
		got = append(got, o.ID)
	}
	if want := []string{overdue.ID, atOnce.ID, soon.ID, late.ID}; !slices.Equal(got, want) {
		t.Errorf("Outbox() IDs = %v, want soonest due first %v", got, want)
	}
	for _, o := range out {
		if o.ID == late.ID && !bytes.Equal(o.Envelope, late.Envelope) {
			t.Errorf("envelope came back as %q, want the bytes given %q", o.Envelope, late.Envelope)
		}
		if !o.Created.Equal(now) {
			t.Errorf("entry %s Created %v, want the store's clock %v", o.ID, o.Created, now)
		}
	}
}

func TestStore_Acknowledged_removes(t *testing.T) {
	s := mustOpen(t)
	rec := testRecord(t, protocol.RoleSender, testTime)
	m1 := testOutgoing(t, rec.Referral.ID, "hub-two", testTime)
	m2 := testOutgoing(t, rec.Referral.ID, "hub-two", testTime.Add(time.Second))
	mustSave(t, s, rec, []Outgoing{m1, m2}, nil)

	unchanged := func(*ReferralRecord) (bool, error) { return false, nil }
	if err := s.Acknowledged(m1.ID, rec.Referral.ID, unchanged); err != nil {
		t.Fatalf("Acknowledged: %v", err)
	}
	if out := mustOutbox(t, s); len(out) != 1 || out[0].ID != m2.ID {
		t.Errorf("Outbox() after Acknowledged(%s) = %+v, want only %s", m1.ID, out, m2.ID)
	}
	if err := s.Acknowledged(m1.ID, rec.Referral.ID, unchanged); err != nil {
		t.Errorf("second Acknowledged: %v, want nil", err)
	}
	if err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOutboxBlobs).Get([]byte(m1.ID)) != nil {
			t.Error("the envelope of a delivered message is still stored")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestStore_Retry(t *testing.T) {
	s := mustOpen(t)
	rec := testRecord(t, protocol.RoleSender, testTime)
	m := testOutgoing(t, rec.Referral.ID, "hub-two", testTime)
	mustSave(t, s, rec, []Outgoing{m}, nil)

	for i, due := range []time.Time{testTime.Add(time.Second), testTime.Add(3 * time.Second)} {
		if err := s.Retry(m.ID, due); err != nil {
			t.Fatalf("Retry: %v", err)
		}
		out := mustOutbox(t, s)
		if len(out) != 1 || out[0].Attempts != i+1 || !out[0].Due.Equal(due) || !bytes.Equal(out[0].Envelope, m.Envelope) {
			t.Errorf("after Retry %d: %+v, want attempts %d, due %v, envelope kept", i+1, out, i+1, due)
		}
	}
	if err := s.Retry(mustUUID(t), testTime); err != nil {
		t.Errorf("Retry of a message not in the outbox: %v, want nil", err)
	}
}

func TestStore_Hasten(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	now := clock.Now()
	rec := testRecord(t, protocol.RoleSender, testTime)
	later := testOutgoing(t, rec.Referral.ID, "hub-two", now.Add(time.Minute))
	muchLater := testOutgoing(t, rec.Referral.ID, "hub-two", now.Add(5*time.Minute))
	overdue := testOutgoing(t, rec.Referral.ID, "hub-two", now.Add(-time.Minute))
	elsewhere := testOutgoing(t, rec.Referral.ID, "hub-three", now.Add(time.Minute))
	muchLater.Attempts = 4
	mustSave(t, s, rec, []Outgoing{later, muchLater, overdue, elsewhere}, nil)

	n, err := s.Hasten("hub-two", now)
	if err != nil || n != 2 {
		t.Fatalf("Hasten = %d, %v; want 2, nil", n, err)
	}
	want := map[string]time.Time{later.ID: now, muchLater.ID: now, overdue.ID: overdue.Due, elsewhere.ID: elsewhere.Due}
	for _, o := range mustOutbox(t, s) {
		if !o.Due.Equal(want[o.ID]) {
			t.Errorf("entry to %s due %v, want %v", o.To, o.Due, want[o.ID])
		}
		if o.ID == muchLater.ID && o.Attempts != 4 {
			t.Errorf("Hasten changed Attempts to %d, want 4", o.Attempts)
		}
	}
	if n, err := s.Hasten("hub-two", now); err != nil || n != 0 {
		t.Errorf("second Hasten = %d, %v; want 0, nil", n, err)
	}
}

func TestStore_PruneInbox(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	ref := testReferral(t, testTime)
	old, recent := mustUUID(t), mustUUID(t)
	var calls atomic.Int32
	if _, _, err := s.Receive(old, ref.ID, receiveOffer(t, ref, nil, &calls)); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	cut := clock.Now()
	ack := func(ReferralRecord, bool) (Incoming, error) { calls.Add(1); return Incoming{}, nil }
	if _, _, err := s.Receive(recent, ref.ID, ack); err != nil {
		t.Fatal(err)
	}

	n, err := s.PruneInbox(cut)
	if err != nil || n != 1 {
		t.Fatalf("PruneInbox = %d, %v; want 1, nil", n, err)
	}
	if _, dup, err := s.Receive(recent, ref.ID, ack); err != nil || !dup {
		t.Errorf("Receive of a message received at the cut: dup %t, %v; want kept as a duplicate", dup, err)
	}
	if _, dup, err := s.Receive(old, ref.ID, ack); err != nil || dup {
		t.Errorf("Receive of a forgotten message: dup %t, %v; want applied again", dup, err)
	}
	if c := calls.Load(); c != 3 {
		t.Errorf("fn called %d times, want 3", c)
	}
}

func TestStore_KPIs(t *testing.T) {
	s := mustOpen(t)
	rec := testRecord(t, protocol.RoleReceiver, testTime)
	r1, r2 := mustUUID(t), mustUUID(t)
	day := 24 * time.Hour
	jan, feb, mar := testTime, testTime.Add(31*day), testTime.Add(59*day)
	first := testKPI(protocol.KPIServiceDelivered, r1, feb)
	mustSave(t, s, rec, nil, []protocol.KPIRecord{
		testKPI(protocol.KPICollaboration, r2, jan),
		first,
		testKPI(protocol.KPICollaboration, r1, feb),
		testKPI(protocol.KPIServiceDelivered, r2, mar),
	})
	// The same record again, as when a completion is applied a second time: it replaces
	// the first and is counted once.
	again := first
	again.Outcome = "partially-delivered"
	mustSave(t, s, rec, nil, []protocol.KPIRecord{again})
	// The partner's collaboration record of the same referral is another record.
	theirs := testKPI(protocol.KPICollaboration, r1, feb)
	theirs.Hub, theirs.Partner, theirs.Role = "hub-one", "hub-two", protocol.RoleSender
	mustSave(t, s, rec, nil, []protocol.KPIRecord{theirs})

	type key struct {
		kind protocol.KPIKind
		ref  string
		hub  string
	}
	keys := func(kpis []protocol.KPIRecord) []key {
		var out []key
		for _, k := range kpis {
			out = append(out, key{k.Kind, k.Referral, k.Hub})
		}
		return out
	}
	febKeys := []key{{protocol.KPICollaboration, r1, "hub-one"}, {protocol.KPICollaboration, r1, "hub-two"},
		{protocol.KPIServiceDelivered, r1, "hub-two"}}
	tests := []struct {
		name     string
		from, to time.Time
		want     []key
	}{
		{"all", time.Time{}, time.Time{}, slices.Concat([]key{{protocol.KPICollaboration, r2, "hub-two"}}, febKeys,
			[]key{{protocol.KPIServiceDelivered, r2, "hub-two"}})},
		{"february", feb, mar, febKeys},
		{"to is exclusive", jan.Add(time.Nanosecond), feb, nil},
		{"from is inclusive", mar, mar.Add(time.Nanosecond), []key{{protocol.KPIServiceDelivered, r2, "hub-two"}}},
		{"open start", time.Time{}, feb, []key{{protocol.KPICollaboration, r2, "hub-two"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(mustKPIs(t, s, tt.from, tt.to)); !slices.Equal(got, tt.want) {
				t.Errorf("KPIs(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
	for _, k := range mustKPIs(t, s, feb, mar) {
		if k.Kind == protocol.KPIServiceDelivered && k.Outcome != "partially-delivered" {
			t.Errorf("rewritten KPI record has outcome %q, want the second write's", k.Outcome)
		}
	}
}

func TestStore_Referrals_filter(t *testing.T) {
	s := mustOpen(t)
	hour := time.Hour
	// Four referrals an hour apart: two sent to hub-two, one of them accepted; one sent
	// to hub-three; one received from hub-four.
	sent1 := testRecord(t, protocol.RoleSender, testTime)
	sent2 := testRecord(t, protocol.RoleSender, testTime.Add(hour))
	sent2.Referral.State = protocol.StateAccepted
	toThree := testRecord(t, protocol.RoleSender, testTime.Add(2*hour))
	toThree.Referral.To, toThree.Referral.Consent.Recipient = "hub-three", "hub-three"
	got := testRecord(t, protocol.RoleReceiver, testTime.Add(3*hour))
	got.Referral.From = "hub-four"
	got.Referral.History[0].By = "hub-four"
	// Saved out of order of creation.
	for _, r := range []ReferralRecord{toThree, sent1, got, sent2} {
		mustSave(t, s, r, nil, nil)
	}
	id := func(r ReferralRecord) string { return r.Referral.ID }

	tests := []struct {
		name string
		f    ReferralFilter
		want []ReferralRecord
	}{
		{"all, newest first", ReferralFilter{}, []ReferralRecord{got, toThree, sent2, sent1}},
		{"received", ReferralFilter{Role: protocol.RoleReceiver}, []ReferralRecord{got}},
		{"sent", ReferralFilter{Role: protocol.RoleSender}, []ReferralRecord{toThree, sent2, sent1}},
		{"states", ReferralFilter{States: []protocol.State{protocol.StateAccepted, protocol.StateCompleted}}, []ReferralRecord{sent2}},
		{"partner as receiver", ReferralFilter{Partner: "hub-two"}, []ReferralRecord{sent2, sent1}},
		{"partner as sender", ReferralFilter{Partner: "hub-four"}, []ReferralRecord{got}},
		{"period", ReferralFilter{From: testTime.Add(hour), To: testTime.Add(3 * hour)}, []ReferralRecord{toThree, sent2}},
		{"from only", ReferralFilter{From: testTime.Add(2 * hour)}, []ReferralRecord{got, toThree}},
		{"to only", ReferralFilter{To: testTime.Add(time.Nanosecond)}, []ReferralRecord{sent1}},
		{"to after all", ReferralFilter{To: testTime.Add(100 * hour)}, []ReferralRecord{got, toThree, sent2, sent1}},
		{"empty period", ReferralFilter{From: testTime.Add(10 * hour)}, []ReferralRecord{}},
		{"limit", ReferralFilter{Role: protocol.RoleSender, Limit: 2}, []ReferralRecord{toThree, sent2}},
		{"all filters", ReferralFilter{Role: protocol.RoleSender, States: []protocol.State{protocol.StateRequested},
			Partner: "hub-two", From: testTime, To: testTime.Add(time.Hour), Limit: 5}, []ReferralRecord{sent1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := mustReferrals(t, s, tt.f)
			want := make([]string, len(tt.want))
			for i, r := range tt.want {
				want[i] = id(r)
			}
			if got := ids(recs); !slices.Equal(got, want) {
				t.Errorf("Referrals(%+v) = %v, want %v", tt.f, got, want)
			}
		})
	}
	if recs := mustReferrals(t, s, ReferralFilter{Role: protocol.RoleSender, Limit: 1}); len(recs) != 1 || recs[0].SME == nil {
		t.Errorf("Referrals returned a sent referral without its SME: %+v", recs)
	}
}

func TestStore_SaveReferral_createdChanged(t *testing.T) {
	s := mustOpen(t)
	rec := testRecord(t, protocol.RoleSender, testTime)
	mustSave(t, s, rec, nil, nil)
	rec.Referral.Created = testTime.Add(-time.Hour)
	mustSave(t, s, rec, nil, nil)

	if recs := mustReferrals(t, s, ReferralFilter{}); len(recs) != 1 {
		t.Errorf("Referrals() after a change of Created = %v, want the referral once", ids(recs))
	}
	if recs := mustReferrals(t, s, ReferralFilter{From: testTime}); len(recs) != 0 {
		t.Errorf("Referrals from the old Created = %v, want none", ids(recs))
	}
}

func TestStore_referrals_reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := testRecord(t, protocol.RoleSender, testTime)
	m := testOutgoing(t, rec.Referral.ID, "hub-two", testTime)
	kpi := testKPI(protocol.KPICollaboration, rec.Referral.ID, testTime)
	mustSave(t, s, rec, []Outgoing{m}, []protocol.KPIRecord{kpi})
	msgID := mustUUID(t)
	if _, _, err := s.Receive(msgID, rec.Referral.ID, func(ReferralRecord, bool) (Incoming, error) {
		return Incoming{Ack: []byte("signed ack")}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenPath(t, path, nil)
	got, err := s.Referral(rec.Referral.ID)
	if err != nil || got.SME == nil || got.Referral.ID != rec.Referral.ID || !reflect.DeepEqual(got.Referral, rec.Referral) {
		t.Errorf("Referral after reopen = %+v, %v; want %+v with its SME", got, err, rec)
	}
	if out := mustOutbox(t, s); len(out) != 1 || !bytes.Equal(out[0].Envelope, m.Envelope) {
		t.Errorf("Outbox after reopen = %+v, want %s", out, m.ID)
	}
	if kpis := mustKPIs(t, s, time.Time{}, time.Time{}); len(kpis) != 1 {
		t.Errorf("KPIs after reopen = %+v, want 1", kpis)
	}
	ack, dup, err := s.Receive(msgID, rec.Referral.ID, func(ReferralRecord, bool) (Incoming, error) {
		t.Error("fn called for a message received before the reopen")
		return Incoming{}, nil
	})
	if err != nil || !dup || string(ack) != "signed ack" {
		t.Errorf("Receive after reopen = %q, dup %t, %v; want the stored ack as a duplicate", ack, dup, err)
	}
}

func TestStore_referrals_closed(t *testing.T) {
	s := mustOpen(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rec := testRecord(t, protocol.RoleSender, testTime)
	if err := s.SaveReferral(rec, nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("SaveReferral after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Referral(rec.Referral.ID); !errors.Is(err, ErrClosed) {
		t.Errorf("Referral after Close: %v, want ErrClosed", err)
	}
	if _, _, err := s.Receive(mustUUID(t), rec.Referral.ID, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Receive after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Outbox(); !errors.Is(err, ErrClosed) {
		t.Errorf("Outbox after Close: %v, want ErrClosed", err)
	}
}

func TestMigrate_fromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	// A file as hubnet with schema 1 left it: identity and profile, no referral buckets.
	s, err := open(path, nil, migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	mustInit(t, s, "hub-one")
	if _, err := s.PutSelf(testProfile("hub-one")); err != nil {
		t.Fatal(err)
	}
	if err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketReferrals) != nil {
			t.Error("a schema 1 file has a referrals bucket")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readSchema(t, path); got != 1 {
		t.Fatalf("schema %d, want 1", got)
	}

	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("Open of a schema 1 file: %v", err)
	}
	if p, _, err := s.Self(); err != nil || p.Revision != 1 {
		t.Errorf("Self after migration = revision %d, %v; want 1", p.Revision, err)
	}
	rec := testRecord(t, protocol.RoleSender, testTime)
	mustSave(t, s, rec, []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", testTime)}, nil)
	if _, _, err := s.Receive(mustUUID(t), rec.Referral.ID, func(ReferralRecord, bool) (Incoming, error) {
		return Incoming{KPIs: []protocol.KPIRecord{testKPI(protocol.KPICollaboration, rec.Referral.ID, testTime)}}, nil
	}); err != nil {
		t.Errorf("Receive after migration: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readSchema(t, path); got != SchemaVersion {
		t.Errorf("schema %d after migration, want %d", got, SchemaVersion)
	}
}

func TestTimeKey_sorts(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(1960, 1, 1, 0, 0, 0, 999, time.UTC),
		time.Unix(0, 0),
		time.Unix(0, 1),
		testTime,
		testTime.Add(time.Nanosecond),
		testTime.Add(time.Second - time.Nanosecond),
		time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC), // past UnixNano's range
	}
	for i := 1; i < len(times); i++ {
		if a, b := timeKey(times[i-1]), timeKey(times[i]); bytes.Compare(a, b) >= 0 {
			t.Errorf("timeKey(%v) = %x is not before timeKey(%v) = %x", times[i-1], a, times[i], b)
		}
	}
}

// benchOffer returns a referral and its signed offer envelope as bytes, about the size
// of a real one.
func benchOffer(b *testing.B, ident protocol.Identity) (protocol.Referral, []byte) {
	b.Helper()
	ref := testReferral(b, testTime)
	ref.Need.Description = strings.Repeat("A metal workshop wants to try a cobot on its welding line. ", 12)
	env, err := protocol.Sign(ident, protocol.TypeReferralOffer, ref.To, protocol.ReferralOffer{V: protocol.Version, Referral: ref}, testTime)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := env.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	return ref, raw
}

func BenchmarkStore_SaveReferral(b *testing.B) {
	ident := mustIdentity(b, "hub-one")
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%t", noSync), func(b *testing.B) {
			s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), &Options{NoSync: noSync})
			ref, env := benchOffer(b, ident)
			b.SetBytes(int64(len(env)))
			// A new referral sent: the referral, its SME and its offer in the outbox.
			for b.Loop() {
				ref.ID = mustUUID(b)
				out := Outgoing{ID: mustUUID(b), To: ref.To, Referral: ref.ID, Envelope: env}
				if err := s.SaveReferral(ReferralRecord{Referral: ref, Role: protocol.RoleSender, SME: testSME()}, []Outgoing{out}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStore_Receive(b *testing.B) {
	ident := mustIdentity(b, "hub-two")
	ref, _ := benchOffer(b, ident)
	ack, err := protocol.Sign(ident, protocol.TypeReferralAck, "hub-one", protocol.ReferralAck{
		V: protocol.Version, Message: mustUUID(b), Referral: ref.ID, Result: protocol.AckApplied, State: protocol.StateReceived}, testTime)
	if err != nil {
		b.Fatal(err)
	}
	ackRaw, err := ack.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	// A new offer received: the referral stored and the ack recorded with the message ID.
	offer := func(r protocol.Referral) func(ReferralRecord, bool) (Incoming, error) {
		return func(ReferralRecord, bool) (Incoming, error) {
			return Incoming{Record: &ReferralRecord{Referral: r, Role: protocol.RoleReceiver}, Ack: ackRaw}, nil
		}
	}
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%t", noSync), func(b *testing.B) {
			s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), &Options{NoSync: noSync})
			r := ref
			for b.Loop() {
				r.ID = mustUUID(b)
				if _, dup, err := s.Receive(mustUUID(b), r.ID, offer(r)); err != nil || dup {
					b.Fatalf("Receive: dup %t, %v", dup, err)
				}
			}
		})
	}
	b.Run("duplicate", func(b *testing.B) {
		s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), nil)
		msgID := mustUUID(b)
		if _, _, err := s.Receive(msgID, ref.ID, offer(ref)); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, dup, err := s.Receive(msgID, ref.ID, offer(ref)); err != nil || !dup {
				b.Fatalf("Receive: dup %t, %v", dup, err)
			}
		}
	})
}

// BenchmarkStore_Referrals lists from 5,000 referrals: the newest 50, as the console
// does, and all of them.
func BenchmarkStore_Referrals(b *testing.B) {
	s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), &Options{NoSync: true})
	ref, _ := benchOffer(b, mustIdentity(b, "hub-one"))
	for i := range 5000 {
		r := testReferral(b, testTime.Add(time.Duration(i)*time.Minute))
		r.Need.Description = ref.Need.Description
		if err := s.SaveReferral(ReferralRecord{Referral: r, Role: protocol.RoleSender, SME: testSME()}, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	for _, limit := range []int{50, 0} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Referrals(ReferralFilter{Limit: limit}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStore_Outbox reads an outbox of 3,000 signed offers, as a dispatcher whose
// partners are all away would on every round.
func BenchmarkStore_Outbox(b *testing.B) {
	s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), &Options{NoSync: true})
	ref, env := benchOffer(b, mustIdentity(b, "hub-one"))
	out := make([]Outgoing, 3000)
	for i := range out {
		out[i] = Outgoing{ID: mustUUID(b), To: ref.To, Referral: ref.ID, Envelope: env,
			Due: testTime.Add(time.Duration((i*7919)%3000) * time.Second)}
	}
	if err := s.SaveReferral(ReferralRecord{Referral: ref, Role: protocol.RoleSender}, out, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if got, err := s.Outbox(); err != nil || len(got) != len(out) {
			b.Fatalf("Outbox: %d entries, %v", len(got), err)
		}
	}
}

func TestStore_Acknowledged(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	rec := testRecord(t, protocol.RoleSender, testTime)
	id := rec.Referral.ID
	out := testOutgoing(t, id, "hub-two", time.Time{})
	mustSave(t, s, rec, []Outgoing{out}, nil)

	// fn's change and the removal of the entry commit together.
	err := s.Acknowledged(out.ID, id, func(r *ReferralRecord) (bool, error) {
		return true, r.Referral.Apply(protocol.EventReceive, protocol.RoleSystem, "hub-two", clock.Now(), "")
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Referral(id)
	if err != nil || got.Referral.State != protocol.StateReceived || len(mustOutbox(t, s)) != 0 {
		t.Fatalf("after Acknowledged: state %s, outbox %d, %v", got.Referral.State, len(mustOutbox(t, s)), err)
	}

	// An error from fn writes nothing: the entry stays, the record is unchanged.
	out2 := testOutgoing(t, id, "hub-two", time.Time{})
	if _, err := s.UpdateReferral(id, func(*ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		return []Outgoing{out2}, nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.Acknowledged(out2.ID, id, func(*ReferralRecord) (bool, error) { return false, boom }); err != boom {
		t.Fatalf("err = %v, want fn's error", err)
	}
	if n := len(mustOutbox(t, s)); n != 1 {
		t.Errorf("outbox after a failed fn: %d entries, want 1", n)
	}
	// Unchanged: only the entry goes.
	if err := s.Acknowledged(out2.ID, id, func(*ReferralRecord) (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	if n := len(mustOutbox(t, s)); n != 0 {
		t.Errorf("outbox: %d entries, want 0", n)
	}
}

func TestStore_Pending(t *testing.T) {
	s := mustOpenClock(t, newTestClock())
	a := testRecord(t, protocol.RoleSender, testTime)
	b := testRecord(t, protocol.RoleSender, testTime)
	mustSave(t, s, a, []Outgoing{testOutgoing(t, a.Referral.ID, "hub-two", time.Time{}), testOutgoing(t, a.Referral.ID, "hub-two", time.Time{})}, nil)
	mustSave(t, s, b, []Outgoing{testOutgoing(t, b.Referral.ID, "hub-two", time.Time{})}, nil)
	got, err := s.Pending()
	if err != nil || got[a.Referral.ID] != 2 || got[b.Referral.ID] != 1 || len(got) != 2 {
		t.Errorf("Pending = %v, %v", got, err)
	}
}
