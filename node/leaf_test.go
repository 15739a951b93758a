package node_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// leafHubs starts a network of two gateway hubs per cluster: fi-1 and fi-2, then the
// leaf hubs fi-3 and fi-4 in Finland; it-1 and it-2, then the leaf hub it-3 in Italy;
// de-1 alone in cluster west. Each hub joins fi-1, and the next starts once fi-1's
// gossip shows it on the mesh, so the first two of each cluster are its gateway hubs.
// It waits until every directory is complete, every gateway hub reaches both other
// clusters and every leaf hub is joined to a gateway hub.
func leafHubs(t *testing.T) (protocol.Network, map[string]*nodetest.Hub, map[string]protocol.Identity) {
	t.Helper()
	net := nodetest.ClusteredNetwork(t, testClusters...)
	net.GatewayHubs = 2
	hubs := map[string]*nodetest.Hub{}
	idents := map[string]protocol.Identity{}
	for _, h := range []struct{ id, country string }{
		{"fi-1", "FI"}, {"fi-2", "FI"}, {"it-1", "IT"}, {"it-2", "IT"}, {"de-1", "DE"},
		{"fi-3", "FI"}, {"fi-4", "FI"}, {"it-3", "IT"},
	} {
		idents[h.id] = addLeafHub(t, net, hubs, h.id, h.country)
	}
	waitSupercluster(t, all(hubs)...)
	return net, hubs, idents
}

// addLeafHub starts hub id of country in net, joining fi-1 when it runs, and waits
// until fi-1's gossip shows it on the mesh.
func addLeafHub(t *testing.T, net protocol.Network, hubs map[string]*nodetest.Hub, id, country string) protocol.Identity {
	t.Helper()
	dir := t.TempDir()
	p := nodetest.ProfileIn(id, country)
	nodetest.Init(t, dir, net, id, &p)
	ident := readIdentity(t, dir)
	var join []string
	first := hubs["fi-1"]
	if first != nil {
		join = []string{first.GossipAddr()}
	}
	hubs[id] = nodetest.StartConfig(t, nodetest.Config(dir, join...))
	if first != nil {
		onMesh(t, first, id)
	}
	return ident
}

// onMesh waits until h's gossip shows hub id with its cluster.
func onMesh(t *testing.T, h *nodetest.Hub, id string) {
	t.Helper()
	nodetest.Eventually(t, 10*time.Second, func() error {
		for _, p := range h.Peers() {
			if p.ID == id && p.Cluster != "" {
				return nil
			}
		}
		return fmt.Errorf("%s does not see %s on the mesh", h.ID(), id)
	})
}

// gatewayHubs returns the IDs of the hubs that show a gateway address, sorted.
func gatewayHubs(t *testing.T, hubs map[string]*nodetest.Hub) []string {
	t.Helper()
	var out []string
	for _, h := range all(hubs) {
		self, err := h.Self()
		if err != nil {
			t.Fatal(err)
		}
		if self.Addrs.Gateway != "" {
			out = append(out, h.ID())
		}
	}
	return out
}

// The first two hubs of a cluster carry its gateways; the others are leaf hubs, with no
// gateway, in every hub's view, each joined to one gateway hub of its own cluster.
// Referrals and live queries go from leaf hub to leaf hub across clusters, once.
func TestLeafHubs_roleAndTraffic(t *testing.T) {
	net, hubs, _ := leafHubs(t)
	want := []string{"de-1", "fi-1", "fi-2", "it-1", "it-2"}
	if got := gatewayHubs(t, hubs); !slices.Equal(got, want) {
		t.Fatalf("gateway hubs %v, want %v", got, want)
	}
	for _, h := range all(hubs) {
		for _, p := range h.Peers() {
			if leaf := !slices.Contains(want, p.ID); leaf != (p.Gateway == "") || p.Cluster == "" {
				t.Errorf("%s sees %s in cluster %q with gateway %q", h.ID(), p.ID, p.Cluster, p.Gateway)
			}
		}
	}
	if got := metric(t, hubs["fi-1"], "hubnet_leaf_connections") + metric(t, hubs["fi-2"], "hubnet_leaf_connections"); got != 2 {
		t.Errorf("fi's gateway hubs hold %v leaf node connections, want fi-3's and fi-4's", got)
	}
	for _, pair := range [][2]string{{"fi-3", "it-3"}, {"it-3", "fi-4"}, {"fi-4", "de-1"}} {
		acceptedOnce(t, hubs[pair[0]], hubs[pair[1]])
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		res, err := hubs["fi-4"].Query(t.Context(), aiQuery, 2*time.Second)
		if err != nil {
			return err
		}
		want := []string{"de-1", "fi-1", "fi-2", "fi-3", "it-1", "it-2", "it-3"}
		if got := slices.Sorted(slices.Values(res.Live.Answered)); !slices.Equal(got, want) {
			return fmt.Errorf("answered by %v (late %v, unreachable %v), want %v", got, res.Live.Late, res.Live.Unreachable, want)
		}
		return nil
	})

	// A leaf hub more adds two subscriptions to a leaf hub's server: its mailbox's and
	// the subject nats-server detects leaf node loops with. What a leaf hub holds
	// grows with the network by that, not by each kind of message a hub takes.
	before := metric(t, hubs["fi-3"], "hubnet_nats_subscriptions")
	addLeafHub(t, net, hubs, "it-4", "IT")
	waitSupercluster(t, all(hubs)...)
	acceptedOnce(t, hubs["fi-3"], hubs["it-4"])
	if got := metric(t, hubs["fi-3"], "hubnet_nats_subscriptions"); got != before+2 {
		t.Errorf("fi-3's server holds %v subscriptions with it-4 in the network, %v before; want two more", got, before)
	}
}

// Both gateway hubs of cluster fi are lost. The leaf hub with the lowest ID, fi-3,
// becomes one, and a referral from fi-4 to it-3 that waited is delivered once. The
// cluster still has fewer gateway hubs than the network wants, so fi-4, now its
// lowest leaf hub, becomes the second. fi-1 and fi-2 return to a cluster with
// enough gateway hubs: both are leaf hubs, and work.
func TestLeafHubs_gatewayHubsLostAndBack(t *testing.T) {
	_, hubs, _ := leafHubs(t)
	fi1, fi2 := hubs["fi-1"], hubs["fi-2"]
	fi1.Kill()
	fi2.Kill()
	delete(hubs, "fi-1")
	delete(hubs, "fi-2")
	sent, err := hubs["fi-4"].Refer(referralTo("it-3"))
	if err != nil {
		t.Fatal(err)
	}
	// Gossip notices the loss, fi-3 waits GatewayRepair (10 s here) before it becomes a
	// gateway hub, and the referral is retried with back-off.
	var info api.ReferralInfo
	nodetest.Eventually(t, 60*time.Second, func() error {
		for _, h := range []*nodetest.Hub{hubs["it-3"], hubs["fi-4"]} {
			var err error
			if info, err = h.Referral(sent.Referral.ID); err != nil {
				return err
			}
			if info.Referral.State != protocol.StateReceived || info.Pending != 0 {
				return fmt.Errorf("%s holds the referral as %s with %d pending", h.ID(), info.Referral.State, info.Pending)
			}
		}
		return nil
	})
	if n := len(info.Referral.History); n != 2 {
		t.Errorf("fi-4's history of the referral: %+v, want requested and received once", info.Referral.History)
	}
	if got := gatewayHubs(t, hubs); !slices.Contains(got, "fi-3") {
		t.Errorf("gateway hubs %v, want fi-3 among them", got)
	}
	want := []string{"de-1", "fi-3", "fi-4", "it-1", "it-2"}
	nodetest.Eventually(t, 60*time.Second, func() error {
		if got := gatewayHubs(t, hubs); !slices.Equal(got, want) {
			return fmt.Errorf("gateway hubs %v, want %v", got, want)
		}
		return nil
	})
	waitSupercluster(t, all(hubs)...)

	hubs["fi-1"] = fi1.Restart(hubs["it-1"].GossipAddr())
	hubs["fi-2"] = fi2.Restart(hubs["it-1"].GossipAddr())
	waitSupercluster(t, all(hubs)...)
	if got := gatewayHubs(t, hubs); !slices.Equal(got, want) {
		t.Errorf("after the return: gateway hubs %v, want %v, fi-1 and fi-2 leaf hubs", got, want)
	}
	stillWorking(t, hubs["fi-1"], hubs["it-3"])
	stillWorking(t, hubs["it-3"], hubs["fi-2"])
}

// The steward revokes it-3, a leaf hub, and fi-1, a gateway hub that the leaf hubs of
// fi may be joined to. Every hub refuses both: their requests find no responder,
// through routes, gateways or leaf node connections. The others go on working across
// clusters, the leaf hubs of fi through fi-2 or, once fi has too few gateway hubs for
// a while, through fi-3 become one.
func TestLeafHubs_revokedHubsCutOff(t *testing.T) {
	net, hubs, idents := leafHubs(t)
	adm := nodetest.Admission(t, net)
	for _, id := range []string{"it-3", "fi-1"} {
		m := hubs[id]
		mc := natsClient(t, m)
		r, err := protocol.Revoke(adm, id, "signing key stolen", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		postRevocation(t, hubs["it-2"], r)
		delete(hubs, id)
		for _, h := range all(hubs) {
			refusesRevoked(t, h, m, mc, idents[id])
		}
	}
	waitSupercluster(t, all(hubs)...)
	stillWorking(t, hubs["fi-3"], hubs["it-2"])
	stillWorking(t, hubs["fi-4"], hubs["de-1"])
	stillWorking(t, hubs["it-1"], hubs["fi-4"])
}
