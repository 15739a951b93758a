package synth_test

import (
	"testing"

	"github.com/hubnet-eu/hubnet/internal/synth"
	"github.com/hubnet-eu/hubnet/protocol"
)

func TestProfiles_valid(t *testing.T) {
	for _, p := range synth.Profiles(2000, 1) {
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
	}
	for i, q := range synth.Queries(2000, 1) {
		if _, err := protocol.NewMatcher(q); err != nil {
			t.Fatalf("query %d %+v: %v", i, q, err)
		}
	}
}

func TestProfile_valid(t *testing.T) {
	p := synth.Profile("hub-1")
	if err := p.Validate(); err != nil {
		t.Fatalf("got %v, want a valid profile", err)
	}
	if p.ID != "hub-1" {
		t.Fatalf("got ID %q, want hub-1", p.ID)
	}
}
