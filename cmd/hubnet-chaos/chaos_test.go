package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// TestRun_short makes a chaos run of about two minutes: six hubnet processes in two
// clusters joined by gateways, two gateway hubs and a leaf hub in each, 500
// operations over 75 seconds, a third of the actions
// taken by both hubs of a referral at once, every kind of fault at least once (the
// first at the busiest gateway hub of a cluster), then the checks. The
// seed comes from the clock unless HUBNET_CHAOS_SEED gives one; a failure names it.
func TestRun_short(t *testing.T) {
	if testing.Short() {
		t.Skip("a chaos run takes about two minutes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HUBNET_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("HUBNET_CHAOS_SEED: %v", err)
		}
	}
	cfg := Config{Hubs: 6, Clusters: 2, Gateways: 2, Ops: 500, Duration: 75 * time.Second, Faults: 5, Workers: 4, Settle: time.Minute, Cross: 0.3,
		Seed: seed, Dir: t.TempDir(), Gossip: "local", Logf: t.Logf}
	rep, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	var buf bytes.Buffer
	rep.write(&buf)
	t.Logf("report:\n%s", buf.String())

	if len(rep.Problems) > 0 {
		for _, h := range []string{"hub-1", "hub-2", "hub-3", "hub-4", "hub-5", "hub-6"} {
			log := filepath.Join(cfg.Dir, h+".log")
			t.Logf("the end of %s:\n%s", log, logTail(log, 30))
		}
		t.Fatalf("%d inconsistencies; run again with HUBNET_CHAOS_SEED=%d, or: go run ./cmd/hubnet-chaos -seed %d -clusters %d -gateway-hubs %d -ops %d -duration %v -faults %d -cross %v",
			len(rep.Problems), seed, seed, cfg.Clusters, cfg.Gateways, cfg.Ops, cfg.Duration, cfg.Faults, cfg.Cross)
	}
	// The run did what it is for: every kind of fault, and referrals to their end.
	kinds := map[faultKind]bool{}
	for _, f := range rep.Faults {
		kinds[f.kind] = true
	}
	if len(kinds) != len(faultNames) {
		t.Errorf("seed %d: faults of %d kinds injected, want all %d", seed, len(kinds), len(faultNames))
	}
	if n := rep.Summary.states[protocol.StateCompleted]; n == 0 || rep.Summary.delivered != n {
		t.Errorf("seed %d: %d referrals completed and %d services delivered; want some, and as many of each", seed, n, rep.Summary.delivered)
	}
	if len(rep.LeafStart) != 2 {
		t.Errorf("seed %d: leaf hubs at the start %v, want one in each cluster", seed, rep.LeafStart)
	}
	if rep.AcrossGW == 0 || rep.AcrossGW == rep.Referred {
		t.Errorf("seed %d: %d of %d referrals across a gateway; want some, and some inside a cluster", seed, rep.AcrossGW, rep.Referred)
	}
	gatewayFault := false
	for _, f := range rep.Faults {
		gatewayFault = gatewayFault || (f.gateway && f.err == nil)
	}
	if !gatewayFault {
		t.Errorf("seed %d: no fault was aimed at a gateway hub", seed)
	}
	if rep.Summary.crossed == 0 {
		t.Errorf("seed %d: no referral was acted on by both hubs at once, with -cross %v", seed, cfg.Cross)
	}
}

// TestRegionMap checks the region map -clusters writes: a valid map of the network,
// every cluster with hubs, and each hub in the cluster of its profile's country.
func TestRegionMap(t *testing.T) {
	for n := 2; n <= len(places); n++ {
		cs := regionMap(n)
		net, _, err := protocol.NewNetwork("chaos", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		net.Clusters = cs
		if err := net.Validate(); err != nil {
			t.Errorf("%d clusters: %v", n, err)
		}
		hubs := map[string]int{}
		for i := range n {
			p := hubProfile(i, "hub")
			c := net.ClusterOf(p.Country)
			if want := clusterName(placeOf(i) % n); c != want {
				t.Errorf("%d clusters: hub %d (%s) in %q, want %q", n, i+1, p.Country, c, want)
			}
			hubs[c]++
		}
		if len(cs) != n || len(hubs) != n {
			t.Errorf("%d clusters: map of %d, the first %d hubs in %d: %v", n, len(cs), n, len(hubs), cs)
		}
	}
}

// TestConfig_clusters checks that -clusters out of range is refused, naming the flag.
func TestConfig_clusters(t *testing.T) {
	for _, tc := range []struct{ hubs, clusters int }{{6, 0}, {6, 7}, {3, 4}} {
		cfg := Config{Hubs: tc.hubs, Clusters: tc.clusters, Ops: 1, Duration: time.Minute, Workers: 1, Settle: time.Minute}
		err := cfg.validate()
		if err == nil || !strings.Contains(err.Error(), "-clusters must be from 1 to 6") {
			t.Errorf("-hubs %d -clusters %d: %v, want -clusters refused", tc.hubs, tc.clusters, err)
		}
	}
}

// TestConfig_gatewayHubs checks that -gateway-hubs out of range, or without clusters,
// is refused, naming the flag, and that it is taken with clusters.
func TestConfig_gatewayHubs(t *testing.T) {
	for _, tc := range []struct {
		clusters, gateways int
		ok                 bool
	}{{1, 2, false}, {2, -1, false}, {2, 51, false}, {2, 0, true}, {2, 2, true}, {1, 0, true}} {
		cfg := Config{Hubs: 6, Clusters: tc.clusters, Gateways: tc.gateways, Ops: 1, Duration: time.Minute, Workers: 1, Settle: time.Minute}
		err := cfg.validate()
		if refused := err != nil && strings.Contains(err.Error(), "-gateway-hubs must be from 0 to 50, and 0 without -clusters"); refused == tc.ok {
			t.Errorf("-clusters %d -gateway-hubs %d: %v, want taken %t", tc.clusters, tc.gateways, err, tc.ok)
		}
	}
}
