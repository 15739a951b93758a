package node_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// revisionAt returns the profile revision of hub id that hub h has heard gossiped.
func revisionAt(h *nodetest.Hub, id string) uint64 {
	for _, p := range h.Peers() {
		if p.ID == id {
			return p.Revision
		}
	}
	return 0
}

// A revocation rolls the gossip key of the hubs that remain, with nothing more from
// the steward: afterwards they all hold the new key alone and keep their membership,
// while the revoked hub, which holds only the old key, hears no profile revision.
func TestKeyRoll_revokedHubHearsNothing(t *testing.T) {
	net, adm := nodetest.NetworkKey(t)
	hubs, _ := startHubs(t, net, "hub-1", "hub-2", "hub-3", "hub-4")
	a, b, c, r := hubs[0], hubs[1], hubs[2], hubs[3]
	remaining := hubs[:3]
	old := node.KeyFingerprint(net.GossipKey)

	rev, err := protocol.Revoke(adm, r.ID(), "laptop stolen", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	postRevocation(t, a, rev)
	var primary string
	nodetest.Eventually(t, 30*time.Second, func() error {
		primary = a.GossipKeys().Primary
		for _, h := range remaining {
			info := h.GossipKeys()
			if len(info.Keys) != 1 || info.Primary == old || info.Primary != primary {
				return fmt.Errorf("%s's keyring %+v, want one new key, %s's", h.ID(), info, a.ID())
			}
		}
		return nil
	})
	if got := r.GossipKeys(); got.Primary != old || len(got.Keys) != 1 {
		t.Errorf("the revoked hub's keyring %+v, want the old key alone", got)
	}
	// The hubs that remain are members of each other, and gossip spreads among them.
	nodetest.Eventually(t, 15*time.Second, func() error { return nodetest.Converged(remaining) })
	heard := revisionAt(r, a.ID())
	one := 1
	p, err := a.SetCapacity(protocol.FamilyTestBeforeInvest, api.CapacityChange{Available: &one})
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 15*time.Second, func() error {
		for _, h := range []*nodetest.Hub{b, c} {
			if got := revisionAt(h, a.ID()); got != p.Revision {
				return fmt.Errorf("%s heard revision %d of %s, want %d", h.ID(), got, a.ID(), p.Revision)
			}
		}
		return nil
	})
	// The revoked hub does not, over two push/pull rounds of the local preset.
	holds(t, 12*time.Second, func() error {
		if got := revisionAt(r, a.ID()); got != heard {
			return fmt.Errorf("the revoked hub heard revision %d of %s after the roll (had %d)", got, a.ID(), heard)
		}
		return nil
	})
	t.Logf("revoked hub: revision %d of %s, the others %d", revisionAt(r, a.ID()), a.ID(), p.Revision)
	stillWorking(t, a, b)

	// A hub admitted after the roll, with network.json's key, is not let in until its
	// operator installs and uses the key an operator of the network reads from a hub.
	pn := nodetest.Profile("hub-5")
	late := nodetest.Start(t, net, "hub-5", &pn, a.GossipAddr())
	holds(t, 2*time.Second, notMember(late.ID(), a, b, c))
	key := a.CurrentGossipKey()
	if key.Fingerprint != primary || node.KeyFingerprint(key.Key) != primary {
		t.Fatalf("hub-1's current key %s, want %s", key.Fingerprint, primary)
	}
	for _, op := range []string{"install", "use"} {
		if _, err := late.ChangeGossipKeys(api.GossipKeyChange{Op: op, Key: key.Key}); err != nil {
			t.Fatal(err)
		}
	}
	nodetest.Eventually(t, 15*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{a, b, c, late}) })
}

// Two revocations handed to two hubs at once start two rolls that cross: the hubs
// that remain end with one key, the same at each, and neither revoked hub holds it,
// even one that was still a member when the other roll began.
func TestKeyRoll_crossingRevocations(t *testing.T) {
	net, adm := nodetest.NetworkKey(t)
	hubs, _ := startHubs(t, net, "hub-1", "hub-2", "hub-3", "hub-4", "hub-5")
	a, b, r1, r2 := hubs[0], hubs[1], hubs[3], hubs[4]
	remaining := hubs[:3]
	// The rolls run in the background: the key of before is not the one they end on.
	before := a.GossipKeys().Primary
	for _, x := range []struct{ at, revoked *nodetest.Hub }{{a, r1}, {b, r2}} {
		rev, err := protocol.Revoke(adm, x.revoked.ID(), "left the programme", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		postRevocation(t, x.at, rev)
	}
	// Where the rolls cross, the remaining hubs may agree for a while on the key of
	// the later roll, which one revoked hub was given before its revocation was
	// known there; the earlier roll then rolls again without either. The end state
	// is one key at every remaining hub that neither revoked hub holds.
	nodetest.Eventually(t, 30*time.Second, func() error {
		primary := a.GossipKeys().Primary
		if primary == before {
			return fmt.Errorf("%s still uses the key of before the revocations, %s", a.ID(), before)
		}
		for _, h := range remaining {
			if info := h.GossipKeys(); len(info.Keys) != 1 || info.Primary != primary {
				return fmt.Errorf("%s's keyring %+v, want one key, %s's %s", h.ID(), info, a.ID(), primary)
			}
		}
		for _, r := range []*nodetest.Hub{r1, r2} {
			if info := r.GossipKeys(); slices.Contains(info.Keys, primary) {
				return fmt.Errorf("revoked %s holds the key in use %s: %+v", r.ID(), primary, info)
			}
		}
		return nil
	})
	nodetest.Eventually(t, 15*time.Second, func() error { return nodetest.Converged(remaining) })
}
