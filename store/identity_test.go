package store

import (
	"errors"
	"testing"

	"github.com/hubnet-eu/hubnet/protocol"
)

func TestStore_CreateIdentity(t *testing.T) {
	s := mustOpen(t)
	if _, err := s.Network(); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("Network() before init: %v, want ErrNoIdentity", err)
	}
	ident := mustIdentity(t, "hub-one")
	net := mustNetwork(t)
	if err := s.CreateIdentity(ident, net); err != nil {
		t.Fatalf("CreateIdentity: %v", err)
	}
	got, err := s.Identity()
	if err != nil {
		t.Fatalf("Identity: %v", err)
	}
	if !identityEqual(got, ident) {
		t.Errorf("Identity() = %+v, want %+v", got, ident)
	}
	gotNet, err := s.Network()
	if err != nil {
		t.Fatalf("Network: %v", err)
	}
	if gotNet.V != net.V || gotNet.Name != net.Name || string(gotNet.GossipKey) != string(net.GossipKey) {
		t.Errorf("Network() = %+v, want %+v", gotNet, net)
	}

	// The stored keys still sign and verify.
	env, err := protocol.SignProfile(got, testProfile("hub-one"), newTestClock().Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Verify(ident.SignPublic()); err != nil {
		t.Errorf("signature with the stored key: %v", err)
	}
}

func TestStore_CreateIdentity_exists(t *testing.T) {
	s := mustOpen(t)
	first := mustInit(t, s, "hub-one")
	err := s.CreateIdentity(mustIdentity(t, "hub-two"), mustNetwork(t))
	if !errors.Is(err, ErrIdentityExists) {
		t.Fatalf("second CreateIdentity: %v, want ErrIdentityExists", err)
	}
	got, err := s.Identity()
	if err != nil || !identityEqual(got, first) {
		t.Errorf("identity changed by a refused CreateIdentity")
	}
}

func TestStore_CreateIdentity_invalid(t *testing.T) {
	good := mustIdentity(t, "hub-one")
	other := mustIdentity(t, "hub-two")
	badNet := mustNetwork(t)
	badNet.GossipKey = badNet.GossipKey[:16]

	mismatchedBox := good
	mismatchedBox.BoxPub = other.BoxPub
	shortKey := good
	shortKey.SignKey = good.SignKey[:32]
	badID := good
	badID.ID = "Hub One"

	tests := []struct {
		name  string
		id    protocol.Identity
		net   protocol.Network
		field string
	}{
		{"bad network", good, badNet, "gossip_key"},
		{"box keys do not match", mismatchedBox, mustNetwork(t), "box_pub"},
		{"short signing key", shortKey, mustNetwork(t), "sign_key"},
		{"bad id", badID, mustNetwork(t), "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			err := s.CreateIdentity(tt.id, tt.net)
			var ve *protocol.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("CreateIdentity: %v, want a *protocol.ValidationError", err)
			}
			if !hasField(ve, tt.field) {
				t.Errorf("problems %v, want one on %q", ve.Problems, tt.field)
			}
			if _, err := s.Identity(); !errors.Is(err, ErrNoIdentity) {
				t.Errorf("Identity() after a refused CreateIdentity: %v, want ErrNoIdentity", err)
			}
		})
	}
}

func hasField(ve *protocol.ValidationError, field string) bool {
	for _, p := range ve.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}
