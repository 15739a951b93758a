package store

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// testOutgoing returns an outbox entry for the referral ref to the hub to. Its envelope
// has spacing and escapes that a JSON encoder would change, to show it is kept as is.
func testOutgoing(t testing.TB, ref, to string, due time.Time) Outgoing {
	t.Helper()
	id := mustUUID(t)
	return Outgoing{ID: id, To: to, Referral: ref, Due: due,
		Envelope: []byte(`{"v":1, "id":"` + id + `","type":"referral-offer","body":{"x":"\u00e9"}}`)}
}

func mustOutbox(t testing.TB, s *Store) []Outgoing {
	t.Helper()
	out, err := s.Outbox()
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	return out
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

	unchanged := func(*ReferralRecord) (bool, []protocol.KPIRecord, error) { return false, nil, nil }
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
	err := s.Acknowledged(out.ID, id, func(r *ReferralRecord) (bool, []protocol.KPIRecord, error) {
		return true, nil, r.Referral.Apply(protocol.EventReceive, protocol.RoleSystem, "hub-two", clock.Now(), "")
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
	if err := s.Acknowledged(out2.ID, id, func(*ReferralRecord) (bool, []protocol.KPIRecord, error) { return false, nil, boom }); err != boom {
		t.Fatalf("err = %v, want fn's error", err)
	}
	if n := len(mustOutbox(t, s)); n != 1 {
		t.Errorf("outbox after a failed fn: %d entries, want 1", n)
	}
	// Unchanged: only the entry goes.
	if err := s.Acknowledged(out2.ID, id, func(*ReferralRecord) (bool, []protocol.KPIRecord, error) { return false, nil, nil }); err != nil {
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

func TestStore_Abandon(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	rec := testRecord(t, protocol.RoleSender, testTime)
	other := testRecord(t, protocol.RoleSender, testTime)
	id := rec.Referral.ID
	first := testOutgoing(t, id, "hub-two", time.Time{})
	mustSave(t, s, rec, []Outgoing{first}, nil)
	clock.Add(time.Second)
	second := testOutgoing(t, id, "hub-two", time.Time{})
	if _, err := s.UpdateReferral(id, func(*ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		return []Outgoing{second}, nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	kept := testOutgoing(t, other.Referral.ID, "hub-two", time.Time{})
	mustSave(t, s, other, []Outgoing{kept}, nil)

	// An error from fn writes nothing: the entries stay.
	boom := errors.New("boom")
	if _, err := s.Abandon(id, "hub-two", func(*ReferralRecord, []Outgoing) (bool, error) { return false, boom }); err != boom {
		t.Fatalf("err = %v, want fn's error", err)
	}
	if n := len(mustOutbox(t, s)); n != 3 {
		t.Fatalf("outbox after a failed fn: %d entries, want 3", n)
	}

	// The referral's entries go, oldest first, with fn's change; the other's stay.
	var seen []string
	dropped, err := s.Abandon(id, "hub-two", func(r *ReferralRecord, out []Outgoing) (bool, error) {
		for _, o := range out {
			seen = append(seen, o.ID)
		}
		r.SME = nil
		return true, r.Referral.Apply(protocol.EventCancel, protocol.RoleSystem, "hub-one", clock.Now(), "partner revoked")
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{first.ID, second.ID}; !slices.Equal(seen, want) || len(dropped) != 2 || !bytes.Equal(dropped[0].Envelope, first.Envelope) {
		t.Errorf("fn saw %v, Abandon returned %d entries; want %v with their envelopes", seen, len(dropped), want)
	}
	if out := mustOutbox(t, s); len(out) != 1 || out[0].ID != kept.ID {
		t.Errorf("outbox after Abandon: %+v, want only %s", out, kept.ID)
	}
	got, err := s.Referral(id)
	if err != nil || got.Referral.State != protocol.StateCancelled || got.SME != nil {
		t.Errorf("after Abandon: state %s, SME %+v, %v; want cancelled, purged", got.Referral.State, got.SME, err)
	}

	// Nothing to drop for another hub; unchanged, the record is not written.
	if dropped, err := s.Abandon(other.Referral.ID, "hub-three", func(*ReferralRecord, []Outgoing) (bool, error) { return false, nil }); err != nil || len(dropped) != 0 {
		t.Errorf("Abandon for another hub: %v, %v; want nothing dropped", dropped, err)
	}
	if n := len(mustOutbox(t, s)); n != 1 {
		t.Errorf("outbox: %d entries, want 1", n)
	}
	if _, err := s.Abandon(mustUUID(t), "hub-two", func(*ReferralRecord, []Outgoing) (bool, error) { return true, nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("Abandon of no referral: %v, want ErrNotFound", err)
	}
}
