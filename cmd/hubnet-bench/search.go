// The search benchmark: how long one local search over a directory of 10,000 hubs
// takes, the way an advisor's hub answers from its cache.
//
//	go run ./cmd/hubnet-bench -out docs/benchmarks.md search

package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hubnet-eu/hubnet/internal/synth"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// Sizes and seeds of the search benchmark: the same every run, so runs compare.
// searchHubs is the default of -hubs.
const (
	searchHubs      = 10000
	searchHubsSeed  = 7
	searchQuerySeed = 3
	searchWarmSeed  = 4
	searchWarmup    = 200
)

// searchBench fills one hub's directory with hubs synthetic profiles (searchHubs in
// `make bench`), starts the hub alone and times n synthetic queries through
// node.Search, after an untimed warm-up.
func searchBench(n, hubs int) (string, error) {
	root, err := os.MkdirTemp("", "hubnet-bench-search-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(root)
	netw, _, err := protocol.NewNetwork("bench", rand.Reader)
	if err != nil {
		return "", err
	}
	const id = "bench-advisor"
	p := synth.Profile(id)
	if _, err := node.InitDataDir(root, netw, id, &p); err != nil {
		return "", fmt.Errorf("init %s: %w", id, err)
	}
	t0 := time.Now()
	if err := synth.FillDirectory(root, synth.Profiles(hubs, searchHubsSeed)); err != nil {
		return "", fmt.Errorf("fill directory: %w", err)
	}
	fmt.Fprintf(os.Stderr, "search: directory of %d hubs stored in %v\n", hubs, time.Since(t0).Round(time.Millisecond))

	cfg := node.DefaultLocalConfig()
	cfg.DataDir = root
	h, err := node.New(cfg)
	if err != nil {
		return "", err
	}
	defer h.Shutdown()
	t0 = time.Now()
	if err := h.Start(context.Background()); err != nil {
		return "", fmt.Errorf("start %s: %w", id, err)
	}
	select {
	case <-h.Ready():
	case <-time.After(30 * time.Second):
		return "", fmt.Errorf("start %s: not ready after 30s", id)
	}
	fmt.Fprintf(os.Stderr, "search: hub started in %v\n", time.Since(t0).Round(time.Millisecond))

	for _, q := range synth.Queries(searchWarmup, searchWarmSeed) {
		if _, err := h.Search(q); err != nil {
			return "", fmt.Errorf("warm-up query %+v: %w", q, err)
		}
	}
	var all, text, plain latencies
	hits := 0
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	load := loadAverage()
	cpu0 := processCPU()
	queries := synth.Queries(n, searchQuerySeed)
	for _, q := range queries {
		start := time.Now()
		res, err := h.Search(q)
		took := time.Since(start)
		if err != nil {
			return "", fmt.Errorf("query %+v: %w", q, err)
		}
		all = append(all, took)
		if q.Text != "" {
			text = append(text, took)
		} else {
			plain = append(plain, took)
		}
		if len(res.Hits) > 0 {
			hits++
		}
	}
	use := searchUse{cpu: (processCPU() - cpu0) / time.Duration(max(n, 1)), load: load}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	use.bytes = (after.TotalAlloc - before.TotalAlloc) / uint64(max(n, 1))
	use.gcs = after.NumGC - before.NumGC
	// Two more passes over the same queries, in the same order: the best of a query's
	// three times is what the search itself costs, with little of the machine's other
	// work or of the collector in it.
	best := slices.Clone(all)
	for range searchBestOf - 1 {
		for i, q := range queries {
			start := time.Now()
			if _, err := h.Search(q); err != nil {
				return "", fmt.Errorf("query %+v: %w", q, err)
			}
			best[i] = min(best[i], time.Since(start))
		}
	}
	use.best = best
	// Every other hub is in the directory: a search that saw fewer would time less work.
	probe, err := h.Search(protocol.Query{Technologies: []string{protocol.Technologies[0].Slug}, Limit: 1})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "search: %d queries, median %v, p99 %v (best of %d: %v), CPU %v and %d bytes a query, %d collections; %d of %d hubs have %s\n",
		n, fine(all.quantile(0.5)), fine(all.quantile(0.99)), searchBestOf, fine(best.quantile(0.99)), fine(use.cpu), use.bytes, use.gcs, probe.Total, hubs, protocol.Technologies[0].Slug)
	return renderSearch(hubs, all, text, plain, hits, use), nil
}

// searchUse is what the timed queries cost the process, beside their wall time: on a
// shared machine the CPU time is the steadier figure, and the bytes allocated set how
// often the collector runs, which sets much of the p99.
type searchUse struct {
	cpu   time.Duration // user and system time of the whole process per query
	bytes uint64        // allocated per query
	gcs   uint32        // garbage collections during the timed queries
	load  string        // the machine's load average over a minute when they began; "" if unknown
	best  latencies     // each query's best of searchBestOf times
}

// searchBestOf is how many times each query is timed for its best time.
const searchBestOf = 3

// loadAverage returns the first figure of /proc/loadavg, "" where there is none.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// processCPU is the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func renderSearch(hubs int, all, text, plain latencies, hits int, use searchUse) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s. One hub with %d synthetic hubs in its directory (`synth.Profiles(%d, %d)`); %d queries from `synth.Queries(%d, %d)`, one at a time, after %d untimed warm-up queries.\n\n",
		time.Now().UTC().Format("2006-01-02"), machine(), hubs, hubs, searchHubsSeed, len(all), len(all), searchQuerySeed, searchWarmup)
	b.WriteString("| queries | count | median | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range []struct {
		name string
		d    latencies
	}{{"all", all}, {"with free text", text}, {"without free text", plain}} {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", r.name, len(r.d),
			fine(r.d.quantile(0.5)), fine(r.d.quantile(0.9)), fine(r.d.quantile(0.99)), fine(r.d.max()))
	}
	fmt.Fprintf(&b, "\n%d of the %d queries (%.0f%%) returned at least one hub.\n", hits, len(all), 100*float64(hits)/float64(max(len(all), 1)))
	fmt.Fprintf(&b, "\nPer query the process used %s of CPU time (user and system, all goroutines, the collector's included) and allocated %.1f kB; the collector ran %d times during the timed queries.",
		fine(use.cpu), float64(use.bytes)/1000, use.gcs)
	if use.load != "" {
		fmt.Fprintf(&b, " The load average was %s when they began: on a shared machine the wall times, the p99 most, follow it.", use.load)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "\nTimed %d times, in %d passes over the queries in the same order, each query's best time has a median of %s and a p99 of %s: the search's own cost, little of the machine's other work or of the collector in it.\n",
		searchBestOf, searchBestOf, fine(use.best.quantile(0.5)), fine(use.best.quantile(0.99)))
	b.WriteString("\nTarget: p99 under 1 ms per query.\n")
	return b.String()
}
