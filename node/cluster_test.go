package node_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// testClusters is the region map of the cluster tests: three clusters, one of them
// ("west") of two countries.
var testClusters = []protocol.Cluster{
	{Name: "fi", Countries: []string{"FI"}},
	{Name: "it", Countries: []string{"IT"}},
	{Name: "west", Countries: []string{"DE", "FR"}},
}

// clusterHubs starts fi-1 and fi-2 in Finland, it-1 and it-2 in Italy, and de-1, the
// only hub of cluster west, in Germany, every one joining fi-1, and waits until every
// directory is complete and every hub has a gateway to both other clusters. It returns
// the hubs and their keys by ID.
func clusterHubs(t *testing.T) (protocol.Network, map[string]*nodetest.Hub, map[string]protocol.Identity) {
	t.Helper()
	net := nodetest.ClusteredNetwork(t, testClusters...)
	hubs := map[string]*nodetest.Hub{}
	idents := map[string]protocol.Identity{}
	for _, h := range []struct{ id, country string }{{"fi-1", "FI"}, {"fi-2", "FI"}, {"it-1", "IT"}, {"it-2", "IT"}, {"de-1", "DE"}} {
		dir := t.TempDir()
		p := nodetest.ProfileIn(h.id, h.country)
		nodetest.Init(t, dir, net, h.id, &p)
		idents[h.id] = readIdentity(t, dir)
		var join []string
		if first := hubs["fi-1"]; first != nil {
			join = []string{first.GossipAddr()}
		}
		hubs[h.id] = nodetest.StartConfig(t, nodetest.Config(dir, join...))
	}
	waitSupercluster(t, all(hubs)...)
	return net, hubs, idents
}

// all returns the hubs sorted by ID.
func all(hubs map[string]*nodetest.Hub) []*nodetest.Hub {
	out := make([]*nodetest.Hub, 0, len(hubs))
	for _, h := range hubs {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *nodetest.Hub) int { return strings.Compare(a.ID(), b.ID()) })
	return out
}

// waitSupercluster waits until every directory holds every hub's profile, every
// gateway hub has an outbound gateway to each other cluster of the hubs, and every leaf
// hub is joined to a gateway hub of its cluster.
func waitSupercluster(t *testing.T, hubs ...*nodetest.Hub) {
	t.Helper()
	clusters := map[string]bool{}
	for _, h := range hubs {
		self, err := h.Self()
		if err != nil {
			t.Fatal(err)
		}
		clusters[self.Cluster] = true
	}
	nodetest.Eventually(t, 30*time.Second, func() error {
		if err := nodetest.Converged(hubs); err != nil {
			return err
		}
		for _, h := range hubs {
			if self, err := h.Self(); err != nil || self.Addrs.Gateway == "" {
				// A leaf hub: joined to one gateway hub of its cluster.
				if got := metric(t, h, "hubnet_leaf_connections"); got != 1 {
					return fmt.Errorf("leaf hub %s has %v leaf node connections, want 1 (%v)", h.ID(), got, err)
				}
				continue
			}
			if got, want := metric(t, h, "hubnet_gateway_clusters_reached"), float64(len(clusters)-1); got != want {
				return fmt.Errorf("%s reaches %v other clusters by gateway, want %v", h.ID(), got, want)
			}
		}
		return nil
	})
}

// metric reads a metric without labels from the hub's /metrics.
func metric(t *testing.T, h *nodetest.Hub, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + h.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", name, v, err)
			}
			return f
		}
	}
	t.Fatalf("%s's /metrics lacks %s", h.ID(), name)
	return 0
}

// Each hub is in the cluster of its country, says so in its own and its peers' view,
// and has routes to its own cluster only: the gateway is how the others reach it.
func TestClusters_membership(t *testing.T) {
	_, hubs, _ := clusterHubs(t)
	want := map[string]string{"fi-1": "fi", "fi-2": "fi", "it-1": "it", "it-2": "it", "de-1": "west"}
	for id, h := range hubs {
		self, err := h.Self()
		if err != nil {
			t.Fatal(err)
		}
		if self.Cluster != want[id] || self.Addrs.Gateway == "" {
			t.Errorf("%s: cluster %q, gateway %q; want %q and a gateway", id, self.Cluster, self.Addrs.Gateway, want[id])
		}
		for _, p := range h.Peers() {
			if p.Cluster != want[p.ID] || p.Gateway == "" {
				t.Errorf("%s sees %s in cluster %q with gateway %q, want %q and a gateway", id, p.ID, p.Cluster, p.Gateway, want[p.ID])
			}
		}
	}
}

// A referral from Finland to Italy crosses a gateway, is received once, accepted, and
// the SME's sealed identity follows; a referral to the lone hub of cluster west too.
func TestClusters_referralAcrossClusters(t *testing.T) {
	_, hubs, _ := clusterHubs(t)
	for _, pair := range [][2]string{{"fi-1", "it-2"}, {"it-1", "de-1"}, {"de-1", "fi-2"}} {
		a, b := hubs[pair[0]], hubs[pair[1]]
		acceptedOnce(t, a, b)
		in, err := b.Referrals(api.ReferralQuery{Direction: "in", Partner: a.ID()})
		if err != nil || len(in) != 1 {
			t.Errorf("%s holds %d referrals from %s (%v), want 1", b.ID(), len(in), a.ID(), err)
		}
	}
}

// acceptedOnce has a refer a referral to b, b accept it, and checks that a's history of
// it holds one receipt.
func acceptedOnce(t *testing.T, a, b *nodetest.Hub) {
	t.Helper()
	id := acceptedReferral(t, a, b, referralTo(b.ID()))
	info := nodetest.WaitState(t, a, id, protocol.StateAccepted)
	received := 0
	for _, c := range info.Referral.History {
		if c.To == protocol.StateReceived {
			received++
		}
	}
	if received != 1 {
		t.Errorf("%s -> %s: received %d times in the history %+v, want once", a.ID(), b.ID(), received, info.Referral.History)
	}
}

// A live query from one cluster is answered by every hub of every cluster.
func TestClusters_liveQueryAcrossClusters(t *testing.T) {
	_, hubs, _ := clusterHubs(t)
	want := []string{"de-1", "fi-2", "it-1", "it-2"}
	nodetest.Eventually(t, 10*time.Second, func() error {
		res, err := hubs["fi-1"].Query(t.Context(), aiQuery, 2*time.Second)
		if err != nil {
			return err
		}
		got := slices.Sorted(slices.Values(res.Live.Answered))
		if !slices.Equal(got, want) {
			return fmt.Errorf("answered by %v (late %v, unreachable %v), want %v", got, res.Live.Late, res.Live.Unreachable, want)
		}
		return nil
	})
}

// A profile change in one cluster reaches the directory of every hub in every cluster.
func TestClusters_profileChangeReachesEveryCluster(t *testing.T) {
	_, hubs, _ := clusterHubs(t)
	avail := 1
	p, err := hubs["it-2"].SetCapacity(protocol.FamilyTestBeforeInvest, api.CapacityChange{Available: &avail})
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		for _, h := range all(hubs) {
			got, err := h.Hub("it-2")
			if err != nil {
				return fmt.Errorf("%s: %w", h.ID(), err)
			}
			if got.Revision != p.Revision || got.Profile.Capacity[protocol.FamilyTestBeforeInvest].Available != 1 {
				return fmt.Errorf("%s has it-2 at revision %d, want %d", h.ID(), got.Revision, p.Revision)
			}
		}
		return nil
	})
}

// de-1 is the only hub of cluster west, so every gateway to west is de-1's. It fails:
// the others mark it unreachable and a referral to it waits. It returns, at new
// ports: the others reach it again, the referral is delivered, once, and its own
// gateways reach both other clusters.
func TestClusters_gatewayHubLostAndBack(t *testing.T) {
	_, hubs, _ := clusterHubs(t)
	de := hubs["de-1"]
	de.Kill()
	nodetest.Eventually(t, 15*time.Second, func() error {
		for _, id := range []string{"fi-1", "it-1"} {
			info, err := hubs[id].Hub("de-1")
			if err != nil {
				return err
			}
			if info.Reachable {
				return fmt.Errorf("%s still sees de-1 reachable", id)
			}
		}
		return nil
	})
	sent, err := hubs["it-1"].Refer(referralTo("de-1"))
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := hubs["it-1"].Referral(sent.Referral.ID); info.Pending == 0 {
		t.Fatalf("referral to a lost hub has nothing pending: %+v", info)
	}

	hubs["de-1"] = de.Restart(hubs["fi-2"].GossipAddr())
	nodetest.WaitState(t, hubs["it-1"], sent.Referral.ID, protocol.StateReceived)
	info := nodetest.WaitState(t, hubs["de-1"], sent.Referral.ID, protocol.StateReceived)
	if n := len(info.Referral.History); n != 2 {
		t.Errorf("de-1's history of the referral: %+v, want requested and received once", info.Referral.History)
	}
	waitSupercluster(t, all(hubs)...)
	stillWorking(t, hubs["de-1"], hubs["fi-1"])
	stillWorking(t, hubs["fi-2"], hubs["de-1"])
}

// The steward revokes it-2. Every hub, in its own cluster and in the others, refuses
// it: its requests find no responder anywhere, through routes or gateways, and the
// others go on working across clusters.
func TestClusters_revokedHubCutOffFromGateways(t *testing.T) {
	net, hubs, idents := clusterHubs(t)
	m := hubs["it-2"]
	mc := natsClient(t, m)
	mid := idents["it-2"]
	r, err := protocol.Revoke(nodetest.Admission(t, net), m.ID(), "signing key stolen", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	postRevocation(t, hubs["fi-1"], r)
	delete(hubs, "it-2")
	nodetest.Eventually(t, 10*time.Second, func() error {
		for _, h := range all(hubs) {
			if !revoked(h, m.ID()) {
				return fmt.Errorf("%s has not heard of the revocation", h.ID())
			}
		}
		return nil
	})
	// A hub whose gateway to cluster it went through it-2 restarts its NATS server to
	// close it; the honest hubs go on working across clusters.
	waitSupercluster(t, all(hubs)...)
	stillWorking(t, hubs["it-1"], hubs["de-1"])
	stillWorking(t, hubs["fi-2"], hubs["it-1"])
	stillWorking(t, hubs["de-1"], hubs["it-1"])
	for _, h := range all(hubs) {
		refusesRevoked(t, h, m, mc, mid)
	}
	restarts := 0.0
	for _, h := range all(hubs) {
		restarts += metric(t, h, "hubnet_gateway_restarts_total")
	}
	t.Logf("NATS servers restarted to close a gateway through it-2: %v", restarts)
}

// Two hubs start apart, each the first of its network as far as it knows: fi-1 in
// cluster fi and it-1 in cluster it. de-1 then joins both, and gossip becomes one pool.
// Every hub ends with a gateway to both other clusters, though neither first hub knew
// the other's when its NATS server started, and a referral crosses from fi to it.
func TestClusters_clustersStartedApartJoin(t *testing.T) {
	net := nodetest.ClusteredNetwork(t, testClusters...)
	fi := nodetest.StartIn(t, net, "fi-1", "FI")
	it := nodetest.StartIn(t, net, "it-1", "IT")
	de := nodetest.StartIn(t, net, "de-1", "DE", fi.GossipAddr(), it.GossipAddr())
	waitSupercluster(t, fi, it, de)
	stillWorking(t, fi, it)
	stillWorking(t, it, fi)
	restarts := 0.0
	for _, h := range []*nodetest.Hub{fi, it, de} {
		restarts += metric(t, h, "hubnet_gateway_restarts_total")
	}
	t.Logf("NATS servers restarted to reach a cluster: %v", restarts)
}

// it-2 moves to Germany: its operator changes the profile's country, and the hub stays
// in cluster it until it restarts; then it is in cluster west, with its referrals and
// directory, and reached from every cluster.
func TestClusters_hubChangesCluster(t *testing.T) {
	_, hubs, _ := clusterHubs(t)
	m := hubs["it-2"]
	id := receivedReferral(t, hubs["fi-1"], m, referralTo(m.ID()))
	p, err := m.Profile()
	if err != nil {
		t.Fatal(err)
	}
	moved := nodetest.ProfileIn(m.ID(), "DE")
	p.Country, p.Regions, p.Languages = moved.Country, moved.Regions, []string{"de", "en"}
	if _, err := m.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	if self, _ := m.Self(); self.Cluster != "it" {
		t.Errorf("before the restart: cluster %q, want it", self.Cluster)
	}
	m.Kill()
	hubs["it-2"] = m.Restart(hubs["it-1"].GossipAddr())
	self, err := hubs["it-2"].Self()
	if err != nil {
		t.Fatal(err)
	}
	if self.Cluster != "west" {
		t.Errorf("after the restart: cluster %q, want west", self.Cluster)
	}
	// Killed, not left: each hub takes the new address only once it has declared the
	// old one dead (DeadReclaim after the suspicion), and learns it from gossip's
	// retransmissions or the next push/pull, which a machine busy with other tests
	// can stretch past 10 s.
	nodetest.Eventually(t, 30*time.Second, func() error {
		for _, h := range all(hubs) {
			for _, peer := range h.Peers() {
				if peer.ID == "it-2" && (peer.Cluster != "west" || !peer.Reachable) {
					return fmt.Errorf("%s sees it-2 in cluster %q, reachable %v", h.ID(), peer.Cluster, peer.Reachable)
				}
			}
		}
		return nil
	})
	waitSupercluster(t, all(hubs)...)
	if _, err := hubs["it-2"].Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, hubs["fi-1"], id, protocol.StateAccepted)
	stillWorking(t, hubs["it-1"], hubs["it-2"])
	stillWorking(t, hubs["it-2"], hubs["de-1"])
}

// it-1 starts first, set to join fi-1, which is not up yet: it waits GatewayWait, then
// starts its NATS server with no gateway to dial. fi-1 then starts as the first hub,
// with nothing to join either. Gossip meets when it-1 retries its join, but neither
// NATS server knows the other: the hubs restart their servers with gateways to dial
// (GatewayRepair), and a referral crosses.
func TestClusters_gatewayRepairedAfterLateJoin(t *testing.T) {
	net := nodetest.ClusteredNetwork(t, testClusters...)
	fiDir := t.TempDir()
	p := nodetest.ProfileIn("fi-1", "FI")
	nodetest.Init(t, fiDir, net, "fi-1", &p)
	fiCfg := nodetest.Config(fiDir)
	fiCfg.GossipAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))

	it := nodetest.StartIn(t, net, "it-1", "IT", fiCfg.GossipAddr)
	fi := nodetest.StartConfig(t, fiCfg)
	waitSupercluster(t, fi, it)
	restarts := metric(t, fi, "hubnet_gateway_restarts_total") + metric(t, it, "hubnet_gateway_restarts_total")
	if restarts == 0 {
		t.Errorf("no NATS server restarted for its gateways, yet both started knowing no other cluster")
	}
	stillWorking(t, fi, it)
	stillWorking(t, it, fi)
}

// freePort returns a TCP and UDP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port for gossip")
	return 0
}

// A live query asks only the hubs whose profile can match, in every cluster, at most
// as many as the asking hub's bound; a matching hub that stops is named unreachable.
func TestClusters_liveQueryAsksHubsThatCanMatch(t *testing.T) {
	net, hubs, _ := clusterHubs(t)
	quantum := map[string]string{"de-1": "DE", "fi-2": "FI", "it-1": "IT"}
	for id, country := range quantum {
		p := nodetest.ProfileIn(id, country)
		p.Technologies = map[string]int{"quantum-technologies": 4}
		if _, err := hubs[id].PutProfile(p); err != nil {
			t.Fatal(err)
		}
	}
	// fi-3 asks two hubs at most.
	dir := t.TempDir()
	p := nodetest.ProfileIn("fi-3", "FI")
	nodetest.Init(t, dir, net, "fi-3", &p)
	cfg := nodetest.Config(dir, hubs["fi-1"].GossipAddr())
	cfg.LiveQueryHubs = 2
	hubs["fi-3"] = nodetest.StartConfig(t, cfg)
	waitSupercluster(t, all(hubs)...)

	q := protocol.Query{Technologies: []string{"quantum-technologies"}}
	res, err := hubs["fi-1"].Query(t.Context(), q, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"de-1", "fi-2", "it-1"}
	if got := res.Live; !slices.Equal(got.Asked, want) || !slices.Equal(got.Answered, want) || len(got.Late)+len(got.Unreachable)+len(got.NotAsked) != 0 {
		t.Errorf("fi-1 asked %v, answered %v, late %v, unreachable %v, not asked %v; want %v asked and answering",
			got.Asked, got.Answered, got.Late, got.Unreachable, got.NotAsked, want)
	}

	res, err = hubs["fi-3"].Query(t.Context(), q, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Live; len(got.Asked) != 2 || !slices.Equal(got.Answered, got.Asked) || len(got.NotAsked) != 1 ||
		!slices.Equal(slices.Sorted(slices.Values(append(slices.Clone(got.Asked), got.NotAsked...))), want) {
		t.Errorf("fi-3, bound 2, asked %v, answered %v, not asked %v; want two of %v asked and answering, the third not asked",
			got.Asked, got.Answered, got.NotAsked, want)
	}

	// it-1 stops. Whether or not gossip has noticed yet, it is not counted as answering,
	// and once gossip has it is unreachable and not asked.
	hubs["it-1"].Kill()
	nodetest.Eventually(t, 15*time.Second, func() error {
		res, err := hubs["fi-1"].Query(t.Context(), q, time.Second)
		if err != nil {
			return err
		}
		got := res.Live
		if slices.Contains(got.Answered, "it-1") {
			t.Fatalf("stopped it-1 answered: %+v", got)
		}
		if want := []string{"de-1", "fi-2"}; !slices.Equal(got.Asked, want) || !slices.Equal(got.Answered, want) ||
			!slices.Equal(got.Unreachable, []string{"it-1"}) || len(got.Late) != 0 {
			return fmt.Errorf("asked %v, answered %v, late %v, unreachable %v; want it-1 alone unreachable",
				got.Asked, got.Answered, got.Late, got.Unreachable)
		}
		return nil
	})
}
