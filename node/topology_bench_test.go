package node_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/internal/catalogue"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// catalogueCountries returns n countries drawn, without replacement, from the hubs of
// the EDIH catalogue, the same every run: a federation of n hubs spread as the real
// one is.
func catalogueCountries(n int) []string {
	var all []string
	for _, c := range slices.Sorted(maps.Keys(catalogue.HubsPerCountry)) {
		for range catalogue.HubsPerCountry[c] {
			all = append(all, c)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(n, len(all))]
}

// BenchmarkFederation_converge starts a federation of hubs in one process, one hub
// after the other, each joining the first, with the countries of the EDIH catalogue:
// as one full mesh (a network without a region map) and in the clusters of the
// default map. It reports the time from the last start until every directory holds
// every profile, and per hub the goroutines, heap and open files of the process.
//
//	go test ./node -run '^$' -bench 'Federation_converge' -benchtime 1x
//
// It starts 10 hubs of each, so that the smoke run of every benchmark in make test
// stays short on two busy cores; HUBNET_BENCH_SIZES=20,40,60 measures other sizes,
// HUBNET_BENCH_TOPOLOGY=clusters (or mesh) one topology only. hubnet-bench scale
// measures the large sizes.
func BenchmarkFederation_converge(b *testing.B) {
	sizes := []int{10}
	if s := os.Getenv("HUBNET_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			var n int
			if _, err := fmt.Sscan(f, &n); err != nil || n < 2 {
				b.Fatalf("HUBNET_BENCH_SIZES: %q is not a size of 2 hubs or more", f)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		for _, topo := range []string{"mesh", "clusters"} {
			if only := os.Getenv("HUBNET_BENCH_TOPOLOGY"); only != "" && only != topo {
				continue
			}
			b.Run(fmt.Sprintf("%s/%d", topo, n), func(b *testing.B) {
				for range b.N {
					convergeOnce(b, topo, n)
				}
			})
		}
	}
}

func convergeOnce(b *testing.B, topo string, n int) {
	net := nodetest.Network(b)
	if topo == "clusters" {
		net.Clusters = protocol.DefaultClusters(catalogue.HubsPerCountry)
	}
	countries := catalogueCountries(n)
	goroutines := runtime.NumGoroutine()
	fds := openFiles()
	var hubs []*nodetest.Hub
	defer func() {
		for _, h := range hubs {
			h.Shutdown()
		}
	}()
	start := time.Now()
	for i, c := range countries {
		id := fmt.Sprintf("hub-%03d", i+1)
		var join []string
		if i > 0 {
			join = []string{hubs[0].GossipAddr()}
		}
		hubs = append(hubs, nodetest.StartIn(b, net, id, c, join...))
	}
	last := time.Now()
	deadline := last.Add(5 * time.Minute)
	for {
		err := nodetest.Converged(hubs)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			for _, h := range hubs {
				for _, p := range h.Peers() {
					if !p.Self && (p.Cached != p.Revision || !p.Reachable) {
						b.Logf("%s sees %s: %+v", h.ID(), p.ID, p)
					}
				}
			}
			b.Fatalf("%s of %d hubs: not converged 5 minutes after the last start: %v", topo, n, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	done := time.Now()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	clusters := map[string]bool{}
	for _, h := range hubs {
		if s, err := h.Self(); err == nil {
			clusters[s.Cluster] = true
		}
	}
	b.ReportMetric(done.Sub(last).Seconds(), "s-after-last-start")
	b.ReportMetric(done.Sub(start).Seconds(), "s-from-first-start")
	b.ReportMetric(float64(len(clusters)), "clusters")
	b.ReportMetric(float64(runtime.NumGoroutine()-goroutines)/float64(n), "goroutines/hub")
	b.ReportMetric(float64(ms.HeapInuse)/float64(n)/(1<<20), "heap-MB/hub")
	if f := openFiles(); f >= 0 && fds >= 0 {
		b.ReportMetric(float64(f-fds)/float64(n), "fds/hub")
	}
}

// openFiles returns the process's open files, -1 where /proc is not there.
func openFiles() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}
