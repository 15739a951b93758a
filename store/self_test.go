package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

func TestStore_PutSelf_revisions(t *testing.T) {
	clock := newTestClock()
	s := mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), &Options{Now: clock.Now})
	ident := mustInit(t, s, "hub-one")
	if _, _, err := s.Self(); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("Self() before PutSelf: %v, want ErrNoProfile", err)
	}

	for want := uint64(1); want <= 3; want++ {
		clock.Add(time.Minute)
		in := testProfile("hub-one")
		in.Revision = 99 // the store decides
		got, err := s.PutSelf(in)
		if err != nil {
			t.Fatalf("PutSelf #%d: %v", want, err)
		}
		if got.Revision != want {
			t.Errorf("PutSelf #%d: revision %d, want %d", want, got.Revision, want)
		}
		if !got.Updated.Equal(clock.Now()) {
			t.Errorf("Updated %v, want %v", got.Updated, clock.Now())
		}

		p, env, err := s.Self()
		if err != nil {
			t.Fatalf("Self: %v", err)
		}
		if !reflect.DeepEqual(p, got) {
			t.Errorf("Self() = %+v, want what PutSelf returned, %+v", p, got)
		}
		if err := env.Verify(ident.SignPublic()); err != nil {
			t.Errorf("stored envelope does not verify: %v", err)
		}
		opened, err := protocol.OpenProfile(env, ident.SignPublic())
		if err != nil {
			t.Fatalf("OpenProfile: %v", err)
		}
		if !reflect.DeepEqual(opened, p) {
			t.Errorf("envelope decodes to %+v, want %+v", opened, p)
		}
		if !env.Time.Equal(clock.Now()) || env.From != "hub-one" || env.Type != protocol.TypeProfile {
			t.Errorf("envelope %s from %s at %v, want profile from hub-one at %v", env.Type, env.From, env.Time, clock.Now())
		}
	}
}

func TestStore_PutSelf_capacityUpdated(t *testing.T) {
	clock := newTestClock()
	s := mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), &Options{Now: clock.Now})
	mustInit(t, s, "hub-one")

	in := testProfile("hub-one")
	set := clock.Now().Add(-time.Hour)
	in.Capacity[protocol.FamilySkills] = protocol.Capacity{Available: 1, Maximum: 2, Unit: "courses", Updated: set}
	first, err := s.PutSelf(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := first.Capacity[protocol.FamilyTestBeforeInvest].Updated; !got.Equal(clock.Now()) {
		t.Errorf("zero capacity Updated became %v, want now %v", got, clock.Now())
	}
	if got := first.Capacity[protocol.FamilySkills].Updated; !got.Equal(set) {
		t.Errorf("given capacity Updated became %v, want %v kept", got, set)
	}
	if !in.Capacity[protocol.FamilyTestBeforeInvest].Updated.IsZero() {
		t.Errorf("PutSelf changed the caller's Capacity map")
	}

	// Changing the figures of a profile read back, without touching Updated, re-dates
	// that family only.
	clock.Add(time.Hour)
	second, err := s.UpdateSelf(func(p *protocol.Profile) error {
		c := p.Capacity[protocol.FamilySkills]
		c.Available = 0
		p.Capacity[protocol.FamilySkills] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Capacity[protocol.FamilySkills].Updated; !got.Equal(clock.Now()) {
		t.Errorf("edited capacity Updated %v, want now %v", got, clock.Now())
	}
	if got, want := second.Capacity[protocol.FamilyTestBeforeInvest].Updated, first.Updated; !got.Equal(want) {
		t.Errorf("unchanged capacity Updated %v, want %v kept", got, want)
	}

	// A time the caller gives with new figures is kept.
	clock.Add(time.Hour)
	given := clock.Now().Add(-time.Minute)
	third, err := s.UpdateSelf(func(p *protocol.Profile) error {
		p.Capacity[protocol.FamilySkills] = protocol.Capacity{Available: 2, Maximum: 2, Unit: "courses", Updated: given}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := third.Capacity[protocol.FamilySkills].Updated; !got.Equal(given) {
		t.Errorf("capacity Updated %v, want the given %v", got, given)
	}
}

func TestStore_PutSelf_invalid(t *testing.T) {
	s := mustOpen(t)
	mustInit(t, s, "hub-one")
	if _, err := s.PutSelf(testProfile("hub-one")); err != nil {
		t.Fatal(err)
	}

	bad := testProfile("hub-one")
	bad.Country = "XX"
	bad.Languages = nil
	_, err := s.PutSelf(bad)
	ve, ok := err.(*protocol.ValidationError)
	if !ok {
		t.Fatalf("PutSelf of an invalid profile: %T %v, want an unwrapped *protocol.ValidationError", err, err)
	}
	if !hasField(ve, "country") || !hasField(ve, "languages") {
		t.Errorf("problems %v, want country and languages", ve.Problems)
	}

	other := testProfile("hub-two")
	_, err = s.PutSelf(other)
	if ve, ok := err.(*protocol.ValidationError); !ok || !hasField(ve, "id") {
		t.Errorf("PutSelf of another hub's profile: %v, want a validation error on id", err)
	}

	p, _, err := s.Self()
	if err != nil {
		t.Fatal(err)
	}
	if p.Revision != 1 || p.Country != "FI" {
		t.Errorf("after refused PutSelf: revision %d country %s, want 1 FI", p.Revision, p.Country)
	}
}

func TestStore_PutSelf_noIdentity(t *testing.T) {
	s := mustOpen(t)
	if _, err := s.PutSelf(testProfile("hub-one")); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("PutSelf without identity: %v, want ErrNoIdentity", err)
	}
}

func TestStore_UpdateSelf(t *testing.T) {
	s := mustOpen(t)
	ident := mustInit(t, s, "hub-one")
	if _, err := s.UpdateSelf(func(*protocol.Profile) error { return nil }); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("UpdateSelf before PutSelf: %v, want ErrNoProfile", err)
	}
	if _, err := s.PutSelf(testProfile("hub-one")); err != nil {
		t.Fatal(err)
	}

	got, err := s.UpdateSelf(func(p *protocol.Profile) error {
		p.Name = "Renamed Hub"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateSelf: %v", err)
	}
	if got.Revision != 2 || got.Name != "Renamed Hub" {
		t.Errorf("UpdateSelf = revision %d name %q, want 2 %q", got.Revision, got.Name, "Renamed Hub")
	}
	_, env, err := s.Self()
	if err != nil {
		t.Fatal(err)
	}
	if p, err := protocol.OpenProfile(env, ident.SignPublic()); err != nil || p.Name != "Renamed Hub" {
		t.Errorf("signed profile = %q, %v; want the renamed one", p.Name, err)
	}
}

func TestStore_UpdateSelf_fnError(t *testing.T) {
	s := mustOpen(t)
	mustInit(t, s, "hub-one")
	if _, err := s.PutSelf(testProfile("hub-one")); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("operator said no")
	_, err := s.UpdateSelf(func(p *protocol.Profile) error {
		p.Name = "Half-done"
		return stop
	})
	if err != stop {
		t.Errorf("UpdateSelf: %v, want fn's error unchanged", err)
	}
	_, err = s.UpdateSelf(func(p *protocol.Profile) error {
		p.Name = ""
		return nil
	})
	if ve, ok := err.(*protocol.ValidationError); !ok || !hasField(ve, "name") {
		t.Errorf("UpdateSelf to an invalid profile: %v, want a validation error on name", err)
	}
	p, _, err := s.Self()
	if err != nil || p.Revision != 1 || p.Name != testProfile("hub-one").Name {
		t.Errorf("after aborted updates: revision %d name %q, %v; want 1 and the original name", p.Revision, p.Name, err)
	}
}
