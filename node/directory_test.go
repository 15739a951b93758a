package node_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

func TestDirectory_fiveHubsConverge(t *testing.T) {
	hubs := nodetest.StartN(t, nodetest.Network(t), 5)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })

	// Every hub sees the four others as reachable peers.
	for _, h := range hubs {
		alive := 0
		for _, p := range h.Peers() {
			if !p.Self && p.State == "alive" {
				alive++
			}
		}
		if alive != 4 {
			t.Errorf("hub %s sees %d alive peers, want 4", h.ID(), alive)
		}
	}
}

func TestDirectory_profileChangeReachesEveryHub(t *testing.T) {
	hubs := nodetest.StartN(t, nodetest.Network(t), 5)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })

	p := nodetest.Profile("hub-3")
	p.Name = "Hub three, renamed"
	saved, err := hubs[2].PutProfile(p)
	if err != nil {
		t.Fatalf("put profile: %v", err)
	}
	if saved.Revision != 2 {
		t.Fatalf("revision after change: got %d, want 2", saved.Revision)
	}
	nodetest.Eventually(t, 5*time.Second, func() error {
		for _, h := range hubs {
			got, err := h.Hub("hub-3")
			if err != nil {
				return err
			}
			if got.Profile.Name != p.Name || got.Revision != 2 {
				return fmt.Errorf("hub %s has hub-3 as %q rev %d", h.ID(), got.Profile.Name, got.Revision)
			}
		}
		return nil
	})

	// A capacity change is a profile change too.
	zero := 0
	if _, err := hubs[0].SetCapacity(protocol.FamilyTestBeforeInvest, api.CapacityChange{Available: &zero}); err != nil {
		t.Fatalf("set capacity: %v", err)
	}
	nodetest.Eventually(t, 5*time.Second, func() error {
		got, err := hubs[4].Hub("hub-1")
		if err != nil {
			return err
		}
		if c := got.Profile.Capacity[protocol.FamilyTestBeforeInvest]; c.Available != 0 || c.Maximum != 5 {
			return fmt.Errorf("hub-5 sees hub-1 capacity %+v, want 0 of 5", c)
		}
		return nil
	})
}

func TestDirectory_killedHubUnreachableThenBack(t *testing.T) {
	net := nodetest.Network(t)
	hubs := nodetest.StartN(t, net, 4)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })

	victim := hubs[3]
	before, err := victim.Self()
	if err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	victim.Kill()

	nodetest.Eventually(t, 10*time.Second, func() error {
		for _, h := range hubs[:3] {
			got, err := h.Hub("hub-4")
			if err != nil {
				return err
			}
			if got.Reachable {
				return fmt.Errorf("hub %s still sees hub-4 reachable", h.ID())
			}
			// Last seen alive: after it started, and no later than the failure detector
			// needed to notice it was gone.
			if got.LastSeen.Before(killedAt.Add(-time.Minute)) || got.LastSeen.After(time.Now()) {
				return fmt.Errorf("hub %s: hub-4 last seen %v, killed at %v", h.ID(), got.LastSeen, killedAt)
			}
		}
		return nil
	})
	// The profile stays in the directory while the hub is away.
	if got, err := hubs[0].Hub("hub-4"); err != nil || got.Profile.Name != "Hub hub-4" {
		t.Fatalf("hub-4 while away: %+v, %v", got.Profile.Name, err)
	}

	back := victim.Restart(hubs[0].GossipAddr())
	after, err := back.Self()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after.SignKey, before.SignKey) || after.Revision != before.Revision || after.Profile.Name != before.Profile.Name {
		t.Fatalf("after restart: key/revision/name %x/%d/%q, want %x/%d/%q",
			after.SignKey, after.Revision, after.Profile.Name, before.SignKey, before.Revision, before.Profile.Name)
	}
	// Its directory survived the restart: it knows the others before any fetch.
	if got, err := back.Hubs(); err != nil || len(got) != 4 {
		t.Fatalf("restarted hub's directory: %d hubs, %v; want 4", len(got), err)
	}
	// It comes back at another gossip port: memberlist takes it once the dead state
	// is older than DeadReclaim, at hub-4's next push/pull if its join came sooner
	// (every 5 s here, with jitter): 6 to 10 s on an idle machine, more on a busy one.
	nodetest.Eventually(t, 30*time.Second, func() error {
		for _, h := range hubs[:3] {
			got, err := h.Hub("hub-4")
			if err != nil {
				return err
			}
			if !got.Reachable {
				return fmt.Errorf("hub %s does not see hub-4 back", h.ID())
			}
		}
		return nil
	})
}

func TestDirectory_tamperedProfileRefused(t *testing.T) {
	net := nodetest.Network(t)
	hubs := nodetest.StartN(t, net, 3)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	a, b := hubs[0], hubs[1]

	// A process on hub A's NATS server answers requests for hub B's profile with B's
	// genuine signed profile, its body changed: the name, and a newer revision.
	env := mustSigned(t, b)
	var forged protocol.Profile
	if err := env.Decode(&forged); err != nil {
		t.Fatal(err)
	}
	forged.Name = "Forged name"
	forged.Revision += 100
	env.Body, _ = json.Marshal(forged)
	forgery, _ := env.Marshal()
	nc, err := nats.Connect(a.Addrs().Client, nodetest.Token(a))
	if err != nil {
		t.Fatalf("connect to hub A's NATS: %v", err)
	}
	defer nc.Close()
	sub, err := nc.Subscribe(protocol.ProfileSubject("hub-2"), func(m *nats.Msg) { m.Respond(forgery) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	nc.Flush()

	// Hub B changes its profile until hub A has refused a forged answer at least once:
	// each change makes A fetch, and either B or the forger answers first.
	for i := 0; i < 30 && a.Dropped("bad-signature") == 0; i++ {
		p := nodetest.Profile("hub-2")
		p.Name = fmt.Sprintf("Hub two, change %d", i)
		saved, err := b.PutProfile(p)
		if err != nil {
			t.Fatal(err)
		}
		nodetest.Eventually(t, 5*time.Second, func() error {
			if got, _ := a.Hub("hub-2"); got.Revision < saved.Revision && a.Dropped("bad-signature") == 0 {
				return fmt.Errorf("hub A neither refused a forgery nor fetched revision %d", saved.Revision)
			}
			return nil
		})
	}
	if got := a.Dropped("bad-signature"); got == 0 {
		t.Fatalf("hub A refused no forged profile")
	}
	got, err := a.Hub("hub-2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Profile.Name == "Forged name" || got.Revision > 100 {
		t.Fatalf("hub A stored the forged profile: %q rev %d", got.Profile.Name, got.Revision)
	}
	// Hub C, with no forger near it, keeps up with B.
	nodetest.Eventually(t, 5*time.Second, func() error {
		want, _ := b.Self()
		got, err := hubs[2].Hub("hub-2")
		if err != nil || got.Revision != want.Revision {
			return fmt.Errorf("hub C has hub-2 rev %d, want %d (%v)", got.Revision, want.Revision, err)
		}
		return nil
	})
}

// mustSigned asks hub h's own NATS server for h's signed profile.
func mustSigned(t *testing.T, h *nodetest.Hub) protocol.Envelope {
	t.Helper()
	nc, err := nats.Connect(h.Addrs().Client, nodetest.Token(h))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	m, err := nc.Request(protocol.ProfileSubject(h.ID()), []byte(`{"v":1}`), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	env, err := protocol.OpenEnvelope(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestAPI_badProfileChangesNothing(t *testing.T) {
	net := nodetest.Network(t)
	p := nodetest.Profile("hub-api")
	h := nodetest.Start(t, net, "hub-api", &p)
	token, err := node.ReadToken(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + h.HTTPAddr()

	bad := `{"id":"hub-api","name":"","type":"XYZ","country":"FI","languages":["english"],
		"technologies":{"teleportation":3,"ai-decision-support":9},
		"capacity":{"test-before-invest":{"available":7,"maximum":5,"unit":"SMEs per month"}}}`
	cases := []struct {
		name, body, token string
		status            int
		fields            []string
	}{
		{"invalid fields", bad, token, 400, []string{"name", "type", "languages.0", "technologies.teleportation",
			"technologies.ai-decision-support", "capacity.test-before-invest.available"}},
		{"unknown field", `{"id":"hub-api","nmae":"x"}`, token, 400, []string{"(json)"}},
		{"not json", `{"id":`, token, 400, []string{"(json)"}},
		{"no token", `{}`, "", 401, nil},
		{"wrong token", `{}`, "nope", 401, nil},
		{"too large", `{"name":"` + strings.Repeat("x", node.MaxBodySize) + `"}`, token, 413, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("PUT", url+"/v1/self/profile", strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			var e api.ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
				t.Fatalf("error body %s: %v", body, err)
			}
			got := map[string]bool{}
			for _, p := range e.Error.Problems {
				got[p.Field] = true
			}
			for _, f := range tc.fields {
				if !got[f] {
					t.Errorf("no problem reported for field %s in %+v", f, e.Error.Problems)
				}
			}
		})
	}
	self, err := h.Self()
	if err != nil {
		t.Fatal(err)
	}
	if self.Revision != 1 || self.Profile.Name != p.Name {
		t.Fatalf("after bad input: revision %d name %q, want 1 %q", self.Revision, self.Profile.Name, p.Name)
	}
	// The node still answers a good request.
	p.Name = "Renamed"
	body, _ := json.Marshal(p)
	req, _ := http.NewRequest("PUT", url+"/v1/self/profile", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("good request after bad ones: status %d", resp.StatusCode)
	}
	if self, _ := h.Self(); self.Revision != 2 {
		t.Fatalf("revision after good change: %d, want 2", self.Revision)
	}
}

func TestAPI_readEndpoints(t *testing.T) {
	hubs := nodetest.StartN(t, nodetest.Network(t), 2)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	url := "http://" + hubs[0].HTTPAddr()

	var list []api.HubInfo
	getJSON(t, url+"/v1/hubs", 200, &list)
	if len(list) != 2 || list[0].ID != "hub-1" || !list[0].Self || list[1].ID != "hub-2" || !list[1].Reachable {
		t.Fatalf("GET /v1/hubs: %+v", list)
	}
	var one api.HubInfo
	getJSON(t, url+"/v1/hubs/hub-2", 200, &one)
	if one.Profile.Name != "Hub hub-2" || one.Revision != 1 {
		t.Fatalf("GET /v1/hubs/hub-2: %+v", one)
	}
	var e api.ErrorResponse
	getJSON(t, url+"/v1/hubs/nobody", 404, &e)
	if e.Error.Code != "not-found" {
		t.Fatalf("GET unknown hub: %+v", e)
	}
	var peers []api.PeerInfo
	getJSON(t, url+"/v1/peers", 200, &peers)
	if len(peers) != 2 || peers[1].State != "alive" || peers[1].Route == "" {
		t.Fatalf("GET /v1/peers: %+v", peers)
	}
	var self api.SelfInfo
	getJSON(t, url+"/v1/self", 200, &self)
	if self.ID != "hub-1" || self.Network != "testnet" || len(self.SignKey) != 32 || self.Profile == nil {
		t.Fatalf("GET /v1/self: %+v", self)
	}
	var health map[string]any
	getJSON(t, url+"/healthz", 200, &health)
	if health["status"] != "ok" {
		t.Fatalf("GET /healthz: %v", health)
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte("hubnet_peers_reachable 1")) {
		t.Fatalf("/metrics lacks hubnet_peers_reachable 1")
	}
}

func getJSON(t *testing.T, url string, status int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("GET %s: status %d, want %d", url, resp.StatusCode, status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func TestNode_secondProcessOnSameDataDir(t *testing.T) {
	h := nodetest.Start(t, nodetest.Network(t), "hub-lock", nil)
	start := time.Now()
	_, err := node.New(h.Cfg)
	if err == nil {
		t.Fatal("second node on the same data directory started")
	}
	// The lock wait is one second; the rest is slack for a loaded CI machine. What
	// matters is that the second node is refused rather than left hanging.
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("refusal took %v, want about a second", took)
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("error %q does not say the directory is in use", err)
	}
}

// TestDirectory_joinMissedByGossipCaughtUp: a hub that gossip does not tell of a hub
// joining after it, as a hub that joined moments before is hardly told, knows it within
// seconds all the same: soon after its join it asks a member for the membership again.
// Its own push/pull comes every 30 s with the large network's timers.
func TestDirectory_joinMissedByGossipCaughtUp(t *testing.T) {
	const catchUp = 6 * time.Second
	t.Cleanup(node.SetCatchUp(catchUp))
	net := nodetest.ClusteredNetwork(t, testClusters...)
	start := func(id string, join ...string) *nodetest.Hub {
		dir := t.TempDir()
		p := nodetest.ProfileIn(id, "FI")
		nodetest.Init(t, dir, net, id, &p)
		cfg := nodetest.Config(dir, join...)
		cfg.Gossip = "lan"
		return nodetest.StartConfig(t, cfg)
	}
	a := start("fi-1")
	b := start("fi-2", a.GossipAddr())
	joined := time.Now()
	node.SetGossipDeaf(b.Node, true) // only what fi-2 asks for reaches it
	c := start("fi-3", a.GossipAddr())
	if took := time.Since(joined); took > catchUp {
		t.Fatalf("fi-3 took %v to start, past fi-2's catch-up %v after its join", took.Round(time.Millisecond), catchUp)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		if _, err := a.Hub(c.ID()); err != nil {
			return fmt.Errorf("fi-1 does not know fi-3 yet: %w", err)
		}
		return nil
	})
	nodetest.Eventually(t, time.Until(joined.Add(catchUp+4*time.Second)), func() error {
		for _, p := range b.Peers() {
			if p.ID == c.ID() && p.Reachable {
				return nil
			}
		}
		return fmt.Errorf("fi-2 does not know fi-3 %v after its join", time.Since(joined).Round(time.Millisecond))
	})
}
