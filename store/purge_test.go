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

// testDetails returns an outbox entry of referral ref to hub to that carries the
// SME's details, as a referral-details envelope.
func testDetails(t testing.TB, ref, to string) Outgoing {
	t.Helper()
	id := mustUUID(t)
	return Outgoing{ID: id, To: to, Referral: ref,
		Envelope: []byte(`{"v":1,"id":"` + id + `","type":"referral-details","body":{"sme":"sealed"}}`)}
}

func TestStore_ReferralsWithSME(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	var want []string
	for i := range 5 {
		role := protocol.RoleSender
		if i%2 == 1 {
			role = protocol.RoleReceiver // holds no SME yet
		}
		rec := testRecord(t, role, testTime.Add(time.Duration(i)*time.Second))
		mustSave(t, s, rec, nil, nil)
		if rec.SME != nil {
			want = append(want, rec.Referral.ID)
		}
	}
	slices.Sort(want)

	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatalf("paging did not end after %d pages", pages)
		}
		recs, err := s.ReferralsWithSME(after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if r.SME == nil || r.SME.Name != testSME().Name {
				t.Errorf("referral %s: SME %+v, want it read with the record", r.Referral.ID, r.SME)
			}
			got = append(got, r.Referral.ID)
		}
		after = got[len(got)-1]
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages of 2 gave %v, want %v", got, want)
	}

	var ve *protocol.ValidationError
	if _, err := s.ReferralsWithSME("", 0); !errors.As(err, &ve) || ve.Problems[0].Field != "limit" {
		t.Errorf("limit 0: %v, want a validation error naming limit", err)
	}
}

func TestStore_Purge(t *testing.T) {
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s := mustOpenPath(t, path, &Options{Now: clock.Now})
	rec := testRecord(t, protocol.RoleSender, testTime)
	other := testRecord(t, protocol.RoleSender, testTime)
	id := rec.Referral.ID
	offer, details := testOutgoing(t, id, "hub-two", time.Time{}), testDetails(t, id, "hub-two")
	mustSave(t, s, rec, []Outgoing{offer, details}, nil)
	otherDetails := testDetails(t, other.Referral.ID, "hub-two")
	mustSave(t, s, other, []Outgoing{otherDetails}, nil)
	lapsed := rec.Referral.Consent.Until
	cancel := testOutgoing(t, id, "hub-two", time.Time{})

	// retire cancels and purges rec, and leaves other as it is.
	retire := func(r *ReferralRecord) (bool, []Outgoing, error) {
		if r.Referral.ID != id {
			return false, nil, nil
		}
		if err := r.Referral.Apply(protocol.EventCancel, protocol.RoleSystem, "hub-one", lapsed, "consent ran out"); err != nil {
			return false, nil, err
		}
		r.Referral.SetReasons(protocol.EventCancel, "consent-expired", "")
		r.PurgeSME(clock.Now(), "consent-expired")
		return true, []Outgoing{cancel}, nil
	}
	outbox := func() []string {
		t.Helper()
		var ids []string
		for _, o := range mustOutbox(t, s) {
			ids = append(ids, o.ID)
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }

	// An error from fn, or a change that breaks a rule, writes nothing of the batch.
	boom := errors.New("boom")
	if _, err := s.Purge([]string{other.Referral.ID, id}, func(r *ReferralRecord) (bool, []Outgoing, error) {
		if r.Referral.ID == id {
			return false, nil, boom
		}
		r.PurgeSME(clock.Now(), "retention")
		return true, nil, nil
	}); err != boom {
		t.Fatalf("Purge with a failing fn: %v, want fn's error", err)
	}
	var ve *protocol.ValidationError
	if _, err := s.Purge([]string{id}, func(r *ReferralRecord) (bool, []Outgoing, error) {
		r.Purged, r.PurgeReason = clock.Now(), "retention" // the SME left in place
		return true, nil, nil
	}); !errors.As(err, &ve) || ve.Problems[0].Field != "sme" {
		t.Fatalf("Purge that keeps the SME: %v, want a validation error naming sme", err)
	}
	if recs, _ := s.ReferralsWithSME("", 10); len(recs) != 2 {
		t.Fatalf("after failed purges: %d referrals hold an SME, want 2", len(recs))
	}
	if got, want := outbox(), sorted(offer.ID, details.ID, otherDetails.ID); !slices.Equal(got, want) {
		t.Fatalf("outbox after failed purges: %v, want %v", got, want)
	}

	clock.Add(time.Minute)
	done, err := s.Purge([]string{mustUUID(t), id, other.Referral.ID}, retire)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].Record.Referral.ID != id || done[0].Dropped != 1 {
		t.Fatalf("Purge returned %+v, want referral %s with 1 message dropped", done, id)
	}
	// The details go with the SME; the offer stays, the cancel is queued, and the
	// other referral keeps its details.
	if got, want := outbox(), sorted(offer.ID, cancel.ID, otherDetails.ID); !slices.Equal(got, want) {
		t.Errorf("outbox after the purge: %v, want %v", got, want)
	}
	check := func(s *Store) {
		t.Helper()
		got, err := s.Referral(id)
		if err != nil {
			t.Fatal(err)
		}
		if got.SME != nil || !got.Purged.Equal(clock.Now()) || got.PurgeReason != "consent-expired" ||
			got.Referral.State != protocol.StateCancelled || got.Referral.Reason != "consent-expired" {
			t.Errorf("after the purge: SME %+v, purged %v (%q), state %s (%s); want none, purged %v (consent-expired), cancelled (consent-expired)",
				got.SME, got.Purged, got.PurgeReason, got.Referral.State, got.Referral.Reason, clock.Now())
		}
		if err := s.view(func(tx *bolt.Tx) error {
			if v := tx.Bucket(bucketSMEs).Get([]byte(id)); v != nil {
				t.Errorf("the SME's bytes are still stored after the purge: %s", v)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if recs, _ := s.ReferralsWithSME("", 10); len(recs) != 1 || recs[0].Referral.ID != other.Referral.ID {
			t.Errorf("referrals with an SME after the purge: %v, want only %s", ids(recs), other.Referral.ID)
		}
	}
	check(s)

	// A purged record does not take an SME again.
	if _, err := s.UpdateReferral(id, func(r *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		r.SME = testSME()
		return nil, nil, nil
	}); !errors.As(err, &ve) || ve.Problems[0].Field != "sme" {
		t.Errorf("an SME stored again after the purge: %v, want a validation error naming sme", err)
	}

	// The purge outlives a restart.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(mustOpenPath(t, path, &Options{Now: clock.Now}))

	tooMany := make([]string, MaxPurgeBatch+1)
	if _, err := s.Purge(tooMany, retire); !errors.As(err, &ve) {
		t.Errorf("Purge of %d referrals: %v, want a validation error", len(tooMany), err)
	}
}

func TestReferralRecord_PurgeSME(t *testing.T) {
	rec := testRecord(t, protocol.RoleSender, testTime)
	at := testTime.Add(time.Hour)
	if !rec.PurgeSME(at, "retention") || rec.SME != nil || !rec.Purged.Equal(at) || rec.PurgeReason != "retention" {
		t.Fatalf("first purge: %+v", rec)
	}
	if rec.PurgeSME(at.Add(time.Hour), "consent-expired") || !rec.Purged.Equal(at) || rec.PurgeReason != "retention" {
		t.Errorf("second purge changed the record: purged %v (%s), want %v (retention)", rec.Purged, rec.PurgeReason, at)
	}
	recv := testRecord(t, protocol.RoleReceiver, testTime)
	if recv.PurgeSME(at, "retention") || !recv.Purged.IsZero() {
		t.Errorf("purge of a record without an SME: purged %v, want it unchanged", recv.Purged)
	}
}

// BenchmarkStore_ReferralsWithSME reads one round of the node's retention check: a
// page of 1,024 referrals that hold an SME's identity, out of 10,000.
func BenchmarkStore_ReferralsWithSME(b *testing.B) {
	s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), &Options{NoSync: true})
	const n = 10_000
	for start := 0; start < n; start += MaxPurgeBatch {
		err := s.update(func(tx *bolt.Tx) error {
			for i := start; i < min(start+MaxPurgeBatch, n); i++ {
				rec := testRecord(b, protocol.RoleSender, testTime.Add(time.Duration(i)*time.Second))
				if err := putReferral(tx, &rec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	after := ""
	for b.Loop() {
		recs, err := s.ReferralsWithSME(after, 1024)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) < 1024 {
			after = ""
		} else {
			after = recs[len(recs)-1].Referral.ID
		}
	}
}
