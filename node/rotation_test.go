package node_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// A hub rolls its signing and box keys with a new certificate in the middle of a
// referral: the referral goes on to completion, and the other hub checks the hub's
// messages with its new key and seals the SME's details to its new box key.
func TestKeyRotation_keepsReferrals(t *testing.T) {
	net, adm := nodetest.NetworkKey(t)
	pa, pb := nodetest.Profile("hub-1"), nodetest.Profile("hub-2")
	a := nodetest.Start(t, net, "hub-1", &pa)
	b := nodetest.Start(t, net, "hub-2", &pb, a.GossipAddr())
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{a, b}) })
	id := receivedReferral(t, a, b, referralTo(b.ID()))
	oldSelf, err := b.Self()
	if err != nil {
		t.Fatal(err)
	}

	b.Kill()
	next, err := node.RotateKeys(b.Dir)
	if err != nil {
		t.Fatalf("RotateKeys: %v", err)
	}
	if again, _ := node.RotateKeys(b.Dir); !bytes.Equal(again.SignKey, next.SignKey) {
		t.Error("RotateKeys again made other keys; want the ones waiting")
	}
	cert, err := protocol.Admit(adm, "hub-2", next.SignKey, next.BoxKey, time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res, err := node.InstallCertificate(b.Dir, cert, nil)
	if err != nil || !res.Rotated {
		t.Fatalf("InstallCertificate of the new keys: %+v, %v; want rotated", res, err)
	}
	b = b.Restart(a.GossipAddr())
	// hub-1 takes hub-2 back at its new address once its failure detector has declared
	// the old one dead: a few seconds, longer on a loaded machine. The rotation is what
	// is tested here, not how soon a restarted hub is seen again.
	nodetest.Eventually(t, 30*time.Second, func() error {
		for _, p := range a.Peers() {
			if p.ID == b.ID() && (!p.Reachable || p.Gossip != b.GossipAddr()) {
				return fmt.Errorf("hub-1 sees hub-2 %s at %s, want alive at %s", p.State, p.Gossip, b.GossipAddr())
			}
		}
		return nil
	})
	self, err := b.Self()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(self.SignKey, next.SignKey) || bytes.Equal(self.SignKey, oldSelf.SignKey) || !self.Cert.Valid {
		t.Fatalf("after the restart: sign key %x, certificate %+v; want the new key %x, valid", self.SignKey, self.Cert, next.SignKey)
	}
	if rec, err := b.Referral(id); err != nil || rec.Referral.State != protocol.StateReceived {
		t.Fatalf("referral at hub-2 after the rotation: %+v, %v; want it still received", rec.Referral.State, err)
	}

	// hub-2 goes on with the referral under its new keys.
	for _, ev := range []protocol.Event{protocol.EventAccept, protocol.EventStart} {
		if _, err := b.Act(id, ev, api.ReferralAction{}); err != nil {
			t.Fatalf("%s at hub-2: %v", ev, err)
		}
	}
	nodetest.WaitState(t, a, id, protocol.StateInProgress)
	nodetest.Eventually(t, 10*time.Second, func() error {
		rec, err := b.Referral(id)
		if err != nil {
			return err
		}
		if rec.SME == nil {
			return errors.New("hub-2 has no SME identity yet")
		}
		return nil
	})
	if a.Dropped("bad-signature") != 0 {
		t.Errorf("hub-1 dropped %v messages with a bad signature", a.Dropped("bad-signature"))
	}
}

// The gossip key is rolled network-wide in three rounds (install, use, remove), each
// done at every hub in turn, and no hub loses another on the way. Afterwards a hub
// with only the new key joins, and one with only the old key cannot.
func TestGossipKeyRotation_withoutDowntime(t *testing.T) {
	net := nodetest.Network(t)
	hubs := nodetest.StartN(t, net, 3)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	newKey := make([]byte, 32)
	rand.Read(newKey)

	for _, op := range []string{"install", "use", "remove"} {
		key := newKey
		if op == "remove" {
			key = net.GossipKey
		}
		for _, h := range hubs {
			if _, err := h.ChangeGossipKeys(api.GossipKeyChange{Op: op, Key: key}); err != nil {
				t.Fatalf("%s at %s: %v", op, h.ID(), err)
			}
			// Between two hubs' steps every hub still has every other.
			if err := nodetest.Converged(hubs); err != nil {
				t.Fatalf("after %s at %s: %v", op, h.ID(), err)
			}
		}
	}
	// Gossip goes on under the new key alone: a profile change spreads.
	one := 1
	if _, err := hubs[2].SetCapacity(protocol.FamilyTestBeforeInvest, api.CapacityChange{Available: &one}); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	for _, h := range hubs {
		info := h.GossipKeys()
		if len(info.Keys) != 1 || info.Primary != node.KeyFingerprint(newKey) {
			t.Errorf("%s: keyring %+v, want only the new key %s", h.ID(), info, node.KeyFingerprint(newKey))
		}
	}

	// A hub given only the new key joins; restarted, the others keep the new key.
	p := nodetest.Profile("hub-4")
	dir := t.TempDir()
	nodetest.Init(t, dir, net, "hub-4", &p)
	setGossipKeys(t, dir, newKey)
	hubs = append(hubs, nodetest.StartConfig(t, nodetest.Config(dir, hubs[0].GossipAddr())))
	nodetest.Eventually(t, 15*time.Second, func() error { return nodetest.Converged(hubs) })

	// A hub with only the old key is refused before its packets are read.
	before := hubs[0].Dropped("gossip-key")
	p = nodetest.Profile("hub-5")
	stale := nodetest.Start(t, net, "hub-5", &p, hubs[0].GossipAddr())
	nodetest.Eventually(t, 10*time.Second, func() error {
		if hubs[0].Dropped("gossip-key") == before {
			return errors.New("hub-1 counted no gossip under the old key")
		}
		return nil
	})
	for _, pi := range hubs[0].Peers() {
		if pi.ID == stale.ID() {
			t.Errorf("hub-1 lists %s, which has only the old gossip key", stale.ID())
		}
	}
}

// setGossipKeys gives the stopped hub in dir the keyring of key alone.
func setGossipKeys(t *testing.T, dir string, key []byte) {
	t.Helper()
	s, err := store.Open(filepath.Join(dir, node.StoreFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutGossipKeys(store.GossipKeys{Primary: key, Keys: [][]byte{key}}); err != nil {
		t.Fatal(err)
	}
}
