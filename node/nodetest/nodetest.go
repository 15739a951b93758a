package nodetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/contract"
	"github.com/hubnet-eu/hubnet/internal/synth"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console"
	"github.com/hubnet-eu/hubnet/protocol"
)

// Hub is a started node with its data directory and configuration.
type Hub struct {
	*node.Node
	Dir     string
	Cfg     node.Config
	Console console.Config // of the web console mounted on the node
	t       testing.TB
}

// Network returns a fresh network for a test. Hubs that Start or Init make in it are
// admitted with its admission key: see Admission.
func Network(t testing.TB) protocol.Network {
	t.Helper()
	n, _ := NetworkKey(t)
	return n
}

// NetworkKey returns a fresh network for a test and its admission key.
func NetworkKey(t testing.TB) (protocol.Network, protocol.AdmissionKey) {
	t.Helper()
	n, adm, err := protocol.NewNetwork("testnet", rand.Reader)
	if err != nil {
		t.Fatalf("new network: %v", err)
	}
	admissions.Store(string(n.AdmissionKeys[0]), adm)
	return n, adm
}

// ClusteredNetwork returns a fresh network, as Network does, whose region map is
// clusters. Hubs join the cluster of their profile's country: see ProfileIn.
func ClusteredNetwork(t testing.TB, clusters ...protocol.Cluster) protocol.Network {
	t.Helper()
	n := Network(t)
	n.Clusters = clusters
	if err := n.Validate(); err != nil {
		t.Fatalf("region map: %v", err)
	}
	return n
}

// ProfileIn returns Profile(id) for a hub in country, covering its first NUTS 2
// region.
func ProfileIn(id, country string) protocol.Profile {
	p := Profile(id)
	p.Country = country
	p.Regions = nil
	if rs := protocol.RegionsOf(country, 2); len(rs) > 0 {
		p.Regions = []string{rs[0].Code}
	}
	return p
}

// StartIn starts hub id with ProfileIn(id, country), joined to join: in a network with
// a region map, a hub of country's cluster.
func StartIn(t testing.TB, net protocol.Network, id, country string, join ...string) *Hub {
	t.Helper()
	p := ProfileIn(id, country)
	return Start(t, net, id, &p, join...)
}

// admissions holds the admission key of every network Network made, by public key.
var admissions sync.Map

// Admission returns the admission key of a network Network made.
func Admission(t testing.TB, net protocol.Network) protocol.AdmissionKey {
	t.Helper()
	adm, ok := admissions.Load(string(net.AdmissionKeys[0]))
	if !ok {
		t.Fatalf("network %s was not made by nodetest.Network", net.Name)
	}
	return adm.(protocol.AdmissionKey)
}

// Init prepares a data directory for hub id with profile p (none when nil), as
// `hubnet init` does, and admits the hub to net for a year.
func Init(t testing.TB, dir string, net protocol.Network, id string, p *protocol.Profile) {
	t.Helper()
	if _, err := node.InitDataDir(dir, net, id, p); err != nil {
		t.Fatalf("init %s: %v", id, err)
	}
	if _, err := node.Admit(dir, Admission(t, net), 365*24*time.Hour); err != nil {
		t.Fatalf("admit %s: %v", id, err)
	}
}

// Profile returns a valid profile for hub id, in Finland: [synth.Profile], which
// benchmarks use without a testing.TB.
func Profile(id string) protocol.Profile { return synth.Profile(id) }

// Logger returns a logger for test nodes: silent unless HUBNET_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("HUBNET_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Config returns the local test configuration for a data directory.
func Config(dir string, join ...string) node.Config {
	c := node.DefaultLocalConfig()
	c.DataDir = dir
	c.Join = join
	c.Logger = Logger()
	return c
}

// Start initialises a data directory for hub id with profile p (none when nil), starts
// the node joined to join, and stops it when the test ends.
func Start(t testing.TB, net protocol.Network, id string, p *protocol.Profile, join ...string) *Hub {
	t.Helper()
	dir := t.TempDir()
	Init(t, dir, net, id, p)
	return StartConfig(t, Config(dir, join...))
}

// StartConfig starts a node from an initialised data directory with cfg, its web
// console mounted with console.DefaultConfig, as `hubnet run` mounts it.
func StartConfig(t testing.TB, cfg node.Config) *Hub {
	t.Helper()
	return StartConsole(t, cfg, console.DefaultConfig())
}

// StartConsole starts a node as StartConfig does, its web console mounted with cc.
// Unless cfg wraps the HTTP handler itself, every request to the node's API and its
// answer are checked against the API's OpenAPI document (package contract): one the
// document does not describe fails t.
func StartConsole(t testing.TB, cfg node.Config, cc console.Config) *Hub {
	t.Helper()
	if cfg.WrapHTTP == nil {
		cfg.WrapHTTP = func(h http.Handler) http.Handler { return contract.Wrap(t, h) }
	}
	n, err := node.New(cfg)
	if err != nil {
		t.Fatalf("new node: %v", err)
	}
	console.Mount(n, cc)
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { n.Shutdown() })
	select {
	case <-n.Ready():
	case <-time.After(10 * time.Second):
		t.Fatalf("node %s not ready in 10s", n.ID())
	}
	return &Hub{Node: n, Dir: cfg.DataDir, Cfg: cfg, Console: cc, t: t}
}

// StartN starts n hubs named hub-1 ... hub-n with test profiles, each joining the first.
func StartN(t testing.TB, net protocol.Network, n int) []*Hub {
	t.Helper()
	hubs := make([]*Hub, 0, n)
	for i := range n {
		id := fmt.Sprintf("hub-%d", i+1)
		p := Profile(id)
		var join []string
		if i > 0 {
			join = []string{hubs[0].GossipAddr()}
		}
		hubs = append(hubs, Start(t, net, id, &p, join...))
	}
	return hubs
}

// Clock is a clock a test moves forward: the real time plus what Advance added, so
// that timers and tickers run as they do, and deadlines days away pass at once. Give
// its Now to every hub of a test (node.Config.Now): hubs whose clocks differ by more
// than a few minutes refuse each other's messages. It is safe for concurrent use.
type Clock struct {
	offset atomic.Int64 // nanoseconds added to the real time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Kill stops the hub without leaving, as a crash would.
func (h *Hub) Kill() {
	h.t.Helper()
	if err := h.Shutdown(); err != nil {
		h.t.Fatalf("kill %s: %v", h.ID(), err)
	}
}

// Restart starts a new node from the hub's data directory, joining join.
func (h *Hub) Restart(join ...string) *Hub {
	h.t.Helper()
	cfg := h.Cfg
	cfg.Join = join
	return StartConsole(h.t, cfg, h.Console)
}

// Eventually polls cond until it returns nil or timeout passes, then fails the test
// with cond's last error.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Converged returns nil when every hub's directory holds every hub's profile at the
// revision the hub itself has.
func Converged(hubs []*Hub) error {
	want := map[string]uint64{}
	for _, h := range hubs {
		s, err := h.Self()
		if err != nil {
			return err
		}
		want[s.ID] = s.Revision
	}
	for _, h := range hubs {
		got, err := h.Hubs()
		if err != nil {
			return err
		}
		have := map[string]uint64{}
		for _, g := range got {
			have[g.ID] = g.Revision
		}
		for id, rev := range want {
			if have[id] != rev {
				return fmt.Errorf("hub %s has %s at revision %d, want %d", h.ID(), id, have[id], rev)
			}
		}
	}
	return nil
}

// Token returns the option that connects a NATS client to the hub's loopback client
// listener: it takes the operator token.
func Token(h *Hub) nats.Option {
	tok, err := node.ReadToken(h.Dir)
	if err != nil {
		h.t.Fatalf("read token of %s: %v", h.ID(), err)
	}
	return nats.Token(tok)
}

// WaitState waits until hub h holds referral id in state want with nothing left to
// deliver, and returns it; it fails the test after 10 s.
func WaitState(t testing.TB, h *Hub, id string, want protocol.State) api.ReferralInfo {
	t.Helper()
	var info api.ReferralInfo
	Eventually(t, 10*time.Second, func() error {
		var err error
		info, err = h.Referral(id)
		if err != nil {
			return err
		}
		if info.Referral.State != want || info.Pending != 0 {
			return fmt.Errorf("%s holds %s as %s with %d pending, want %s", h.ID(), id, info.Referral.State, info.Pending, want)
		}
		return nil
	})
	return info
}
