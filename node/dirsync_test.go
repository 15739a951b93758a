package node_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// syncClusters is the region map of the directory sync tests.
var syncClusters = []protocol.Cluster{
	{Name: "fi", Countries: []string{"FI"}},
	{Name: "it", Countries: []string{"IT"}},
}

// startSync starts hub id in country with its fetches paced by jitter (negative: not
// at all), joining join.
func startSync(t *testing.T, net protocol.Network, id, country string, jitter time.Duration, join ...string) *nodetest.Hub {
	t.Helper()
	dir := t.TempDir()
	p := nodetest.ProfileIn(id, country)
	nodetest.Init(t, dir, net, id, &p)
	cfg := nodetest.Config(dir, join...)
	cfg.FetchJitter = jitter
	return nodetest.StartConfig(t, cfg)
}

// fetches reads hubnet_profile_fetches_total of one source and result.
func fetches(t *testing.T, h *nodetest.Hub, source, result string) float64 {
	t.Helper()
	return metric(t, h, fmt.Sprintf(`hubnet_profile_fetches_total{result=%q,source=%q}`, result, source))
}

// profileAt waits until h holds id's profile at revision rev, and returns it.
func profileAt(t *testing.T, h *nodetest.Hub, id string, rev uint64) protocol.Profile {
	t.Helper()
	var p protocol.Profile
	nodetest.Eventually(t, 15*time.Second, func() error {
		info, err := h.Hub(id)
		if err != nil {
			return err
		}
		if info.Revision != rev {
			return fmt.Errorf("%s holds %s at revision %d, want %d", h.ID(), id, info.Revision, rev)
		}
		p = info.Profile
		return nil
	})
	return p
}

// A changed profile reaches a cluster from its owner once: the hub of the cluster that
// asks first fetches it from the owner and says so, and the other fetches the copy
// from it, checked against the owner's signature.
func TestDirectory_fetchFromClusterPeer(t *testing.T) {
	net := nodetest.ClusteredNetwork(t, syncClusters...)
	owner := startSync(t, net, "it-1", "IT", -1)
	first := startSync(t, net, "fi-1", "FI", -1, owner.GossipAddr())
	// fi-2 waits 2 to 4 s before each fetch: fi-1 has the new profile by then.
	second := startSync(t, net, "fi-2", "FI", 4*time.Second, owner.GossipAddr())
	hubs := []*nodetest.Hub{owner, first, second}
	nodetest.Eventually(t, 30*time.Second, func() error { return nodetest.Converged(hubs) })

	fromOwner, fromPeer := fetches(t, first, "owner", "ok"), fetches(t, second, "peer", "ok")
	secondOwner := fetches(t, second, "owner", "ok")
	p := nodetest.ProfileIn("it-1", "IT")
	p.Name = "Hub Italia, renamed"
	changed, err := owner.PutProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := profileAt(t, second, "it-1", changed.Revision); got.Name != p.Name {
		t.Errorf("fi-2 holds it-1 named %q, want %q", got.Name, p.Name)
	}
	if got := fetches(t, first, "owner", "ok") - fromOwner; got != 1 {
		t.Errorf("fi-1 fetched from the owner %v times, want 1", got)
	}
	nodetest.Eventually(t, 5*time.Second, func() error { // counted a moment after it is stored
		if got := fetches(t, second, "peer", "ok") - fromPeer; got != 1 {
			return fmt.Errorf("fi-2 fetched from a cluster peer %v times, want 1", got)
		}
		return nil
	})
	if got := fetches(t, second, "owner", "ok") - secondOwner; got != 0 {
		t.Errorf("fi-2 fetched from the owner %v times, want 0", got)
	}
}

// forgeCopy stops liar, renames its stored copy of hub id's profile to "Forged",
// keeping the owner's signature, and starts it again joining join. It returns the
// restarted hub and the forged entry.
func forgeCopy(t *testing.T, liar *nodetest.Hub, id, join string) (*nodetest.Hub, store.Hub) {
	t.Helper()
	liar.Kill()
	s, err := store.Open(filepath.Join(liar.Dir, node.StoreFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Hub(id)
	if err != nil {
		t.Fatal(err)
	}
	h.Profile.Name = "Forged"
	if h.Envelope.Body, err = json.Marshal(h.Profile); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHub(id); err != nil {
		t.Fatal(err)
	}
	if err := s.PutHub(h); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return liar.Restart(join), h
}

// A holder that serves a forged copy is refused, and the profile comes from its owner.
func TestDirectory_forgedCopyRefused(t *testing.T) {
	net := nodetest.ClusteredNetwork(t, syncClusters...)
	owner := startSync(t, net, "it-1", "IT", -1)
	liar := startSync(t, net, "fi-1", "FI", -1, owner.GossipAddr())
	nodetest.Eventually(t, 30*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{owner, liar}) })

	// fi-1's copy of it-1's profile is changed in its store, the owner's signature kept.
	liar, h := forgeCopy(t, liar, "it-1", owner.GossipAddr())

	// fi-2 waits at least 2 s before it fetches, and hears meanwhile that fi-1 holds
	// the profile it wants.
	fresh := startSync(t, net, "fi-2", "FI", 4*time.Second, liar.GossipAddr())
	nc, err := nats.Connect(fresh.Addrs().Client, nodetest.Token(fresh))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	note, _ := json.Marshal(protocol.ProfileHave{V: protocol.Version, ID: "fi-1", Hub: "it-1", Revision: h.Profile.Revision})
	for range 5 {
		if err := nc.Publish(protocol.HaveSubject("fi"), note); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // a few notes, in case fi-2 has not seen fi-1 alive yet
	}

	if got := profileAt(t, fresh, "it-1", h.Profile.Revision); got.Name == "Forged" {
		t.Errorf("fi-2 holds the forged copy of it-1's profile")
	}
	if got := fetches(t, fresh, "peer", "refused"); got != 1 {
		t.Errorf("fi-2 refused %v copies from a peer, want 1", got)
	}
}

// A hub that joins a network fetches its profiles a few at a time.
func TestDirectory_fetchesBounded(t *testing.T) {
	net := nodetest.Network(t)
	hubs := nodetest.StartN(t, net, 5)
	dir := t.TempDir()
	p := nodetest.Profile("hub-6")
	nodetest.Init(t, dir, net, "hub-6", &p)
	cfg := nodetest.Config(dir, hubs[0].GossipAddr())
	cfg.FetchConcurrency = 2
	cfg.FetchJitter = -1 // every fetch asks for a slot at once
	late := nodetest.StartConfig(t, cfg)
	hubs = append(hubs, late)
	nodetest.Eventually(t, 30*time.Second, func() error { return nodetest.Converged(hubs) })
	if got := metric(t, late, "hubnet_profile_fetches_in_flight_peak"); got < 1 || got > 2 {
		t.Errorf("at most %v fetches in flight at once, want 1 or 2", got)
	}
	// The store has a profile a moment before the fetch that brought it is counted.
	nodetest.Eventually(t, 5*time.Second, func() error {
		if got := fetches(t, late, "owner", "ok") + fetches(t, late, "peer", "ok"); got != 5 {
			return fmt.Errorf("%v profiles fetched, want 5", got)
		}
		return nil
	})
}

// A hub that joins lacking many profiles asks a hub of its cluster for all it holds,
// batch by batch, rather than each owner for its own.
func TestDirectory_batchSync(t *testing.T) {
	// Two missing profiles are enough, and each batch holds one profile: the three
	// come in three batches.
	t.Cleanup(node.SetBatchSync(2, 1))
	net := nodetest.ClusteredNetwork(t, syncClusters...)
	owner := startSync(t, net, "it-1", "IT", -1)
	other := startSync(t, net, "it-2", "IT", -1, owner.GossipAddr())
	holder := startSync(t, net, "fi-1", "FI", -1, owner.GossipAddr())
	hubs := []*nodetest.Hub{owner, other, holder}
	nodetest.Eventually(t, 30*time.Second, func() error { return nodetest.Converged(hubs) })

	// fi-2 would wait 10 to 20 s before each fetch one by one.
	fresh := startSync(t, net, "fi-2", "FI", 20*time.Second, holder.GossipAddr())
	hubs = append(hubs, fresh)
	nodetest.Eventually(t, 8*time.Second, func() error { return nodetest.Converged(hubs) })
	if got := fetches(t, fresh, "batch", "ok"); got != 3 {
		t.Errorf("fi-2 has %v profiles from batches, want 3: it-1, it-2 and fi-1", got)
	}
	if got := fetches(t, fresh, "owner", "ok") + fetches(t, fresh, "peer", "ok"); got != 0 {
		t.Errorf("fi-2 fetched %v profiles one by one, want none", got)
	}
}

// A forged copy in a batch is refused, and the profile comes from its owner; the
// others of the batch are kept.
func TestDirectory_forgedCopyInBatchRefused(t *testing.T) {
	t.Cleanup(node.SetBatchSync(2, protocol.ProfileBatchBytes))
	net := nodetest.ClusteredNetwork(t, syncClusters...)
	owner := startSync(t, net, "it-1", "IT", -1)
	other := startSync(t, net, "it-2", "IT", -1, owner.GossipAddr())
	liar := startSync(t, net, "fi-1", "FI", -1, owner.GossipAddr())
	nodetest.Eventually(t, 30*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{owner, other, liar}) })

	// fi-1's copy of it-1's profile is changed in its store, the owner's signature kept.
	liar, h := forgeCopy(t, liar, "it-1", owner.GossipAddr())

	fresh := startSync(t, net, "fi-2", "FI", -1, liar.GossipAddr())
	if got := profileAt(t, fresh, "it-1", h.Profile.Revision); got.Name == "Forged" {
		t.Errorf("fi-2 holds the forged copy of it-1's profile")
	}
	nodetest.Eventually(t, 15*time.Second, func() error {
		return nodetest.Converged([]*nodetest.Hub{owner, other, liar, fresh})
	})
	if got := fetches(t, fresh, "batch", "refused"); got != 1 {
		t.Errorf("fi-2 refused %v profiles of a batch, want 1", got)
	}
	if got := fetches(t, fresh, "batch", "ok"); got != 2 {
		t.Errorf("fi-2 kept %v profiles of the batch, want 2: it-2 and fi-1", got)
	}
}
