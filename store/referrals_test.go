package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
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

func TestReferralRecord_Partner(t *testing.T) {
	for _, tt := range []struct {
		role protocol.Role
		want string
	}{
		{protocol.RoleSender, "hub-two"},
		{protocol.RoleReceiver, "hub-one"},
	} {
		rec := testRecord(t, tt.role, testTime)
		if got := rec.Partner(); got != tt.want {
			t.Errorf("Partner of a referral from hub-one to hub-two, as %s: got %s, want %s", tt.role, got, tt.want)
		}
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
