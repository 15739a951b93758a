// The live query benchmark: how long a live query to every hub of a federation takes,
// beside bare NATS scatter-gather over the same mesh and a Serf query among as many
// agents, all measured in the same run.
//
//	go run ./cmd/hubnet-bench -out docs/benchmarks.md -rounds 3 -sizes 10,25 live
//
// Every wait has a deadline and every query a timeout; everything runs on 127.0.0.1
// and is stopped before the next round starts.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/internal/synth"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// How many queries each system answers untimed before the timed ones. A Serf query
// waits for gossip, a hundred times longer than the others, so it warms up less.
const (
	liveWarmup = 20
	serfWarmup = 5
)

// liveResult holds one size's measurements over all rounds.
type liveResult struct {
	n        int
	rounds   int
	queries  int   // hubnet and NATS queries timed per round
	serfN    int   // Serf queries timed per round
	matching []int // per round: hubs that pass the query's filters, the asker included
	hubnet   latencies
	nats     latencies
	serf     latencies
}

// liveBench measures every size in rounds fresh federations, timing that many hubnet
// and bare NATS queries, and serfN Serf queries, in each. With cpuProfile set, it
// writes a CPU profile of the timed hubnet and NATS queries of the first round at the
// largest size.
func liveBench(sizes []int, rounds, queries, serfN int, cpuProfile string, wait time.Duration) (string, error) {
	var results []liveResult
	for _, n := range sizes {
		r := liveResult{n: n, rounds: rounds, queries: queries, serfN: serfN}
		for round := range rounds {
			profiles := liveProfiles(n, uint64(1000*n+round))
			q, matching := liveQuery(profiles)
			prof := ""
			if round == 0 && n == slices.Max(sizes) {
				prof = cpuProfile
			}
			hub, bare, err := liveFederation(profiles, q, queries, prof, wait)
			if err != nil {
				return "", fmt.Errorf("%d hubs, round %d: %w", n, round+1, err)
			}
			sq, err := serfQueries(profiles, q, matching, serfN)
			if err != nil {
				return "", fmt.Errorf("%d hubs, round %d: serf: %w", n, round+1, err)
			}
			r.hubnet = append(r.hubnet, hub...)
			r.nats = append(r.nats, bare...)
			r.serf = append(r.serf, sq...)
			r.matching = append(r.matching, matching)
			fmt.Fprintf(os.Stderr, "%d hubs round %d (%d match %s, %s): medians hubnet %s, NATS %s, Serf %s\n",
				n, round+1, matching, q.Technologies[0], q.Family, fine(hub.quantile(0.5)), fine(bare.quantile(0.5)), fine(sq.quantile(0.5)))
		}
		results = append(results, r)
	}
	return renderLive(results), nil
}

// liveProfiles returns n synthetic profiles named bench-hub-00 onwards.
func liveProfiles(n int, seed uint64) []protocol.Profile {
	ps := synth.Profiles(n, seed)
	for i := range ps {
		ps[i].ID = fmt.Sprintf("bench-hub-%02d", i)
	}
	return ps
}

// liveQuery picks the technology and family that about half of the hubs other than
// the asker (hub 0) pass, so that hubs answer both ways, and returns the query and how
// many of all the hubs pass it.
func liveQuery(ps []protocol.Profile) (protocol.Query, int) {
	var (
		best      protocol.Query
		bestDist  = len(ps) + 1
		bestMatch int
	)
	for _, t := range protocol.Technologies {
		for _, f := range protocol.Families {
			q := protocol.Query{Technologies: []string{t.Slug}, Family: f.Slug}
			others := matches(q, ps[1:])
			if d := abs(others - (len(ps)-1)/2); d < bestDist {
				best, bestDist, bestMatch = q, d, matches(q, ps)
			}
		}
	}
	return best, bestMatch
}

// matches counts the profiles that pass q's filters.
func matches(q protocol.Query, ps []protocol.Profile) int {
	m, err := protocol.NewMatcher(q)
	if err != nil {
		panic(err) // the queries are built from the vocabulary
	}
	k := 0
	for i := range ps {
		if _, ok := m.Score(protocol.NewCandidate(&ps[i])); ok {
			k++
		}
	}
	return k
}

func abs(x int) int { return max(x, -x) }

// liveFederation starts a federation of the profiles' hubs, waiting up to wait for
// their directories (see directoryWait), and times that many live queries from hub 0
// and as many bare NATS scatter-gathers over the same servers, alternating, so that
// both see the federation in the same state.
func liveFederation(profiles []protocol.Profile, q protocol.Query, queries int, cpuProfile string, wait time.Duration) (hub, bare latencies, err error) {
	t0 := time.Now()
	f, err := startFederation(profiles, wait)
	if err != nil {
		return nil, nil, err
	}
	defer f.stop()
	hubs := f.hubs
	fmt.Fprintf(os.Stderr, "  %d hubs started, directories complete in %v\n", len(hubs), time.Since(t0).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	want := len(hubs) - 1 // what the bare scatter-gather, which asks every hub, awaits
	// The routes may still be settling: ask until every hub asked (those that can
	// match) answers.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, l, err := askHubnet(ctx, hubs[0], q)
		if err != nil {
			return nil, nil, fmt.Errorf("first live query: %w", err)
		}
		if l.asked > 0 && l.answered == l.asked {
			break
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("first live query: %d of %d hubs asked answered after 30s; late %v, failed %v", l.answered, l.asked, l.late, l.failed)
		}
	}
	sc, err := newScatter(f.servers, q)
	if err != nil {
		return nil, nil, fmt.Errorf("bare NATS: %w", err)
	}
	defer sc.close()
	for range liveWarmup {
		if _, _, err := askHubnet(ctx, hubs[0], q); err != nil {
			return nil, nil, fmt.Errorf("warm-up live query: %w", err)
		}
		if _, _, err := sc.ask(); err != nil {
			return nil, nil, fmt.Errorf("warm-up scatter: %w", err)
		}
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var (
		failures []string
		missed   int
	)
	hubnet := func(i int) error {
		took, l, err := askHubnet(ctx, hubs[0], q)
		if err != nil {
			return fmt.Errorf("live query %d: %w", i+1, err)
		}
		if l.answered != l.asked {
			failures = append(failures, fmt.Sprintf("query %d: %d of %d asked answered, late %v, failed %v", i+1, l.answered, l.asked, l.late, l.failed))
		}
		hub = append(hub, took)
		return nil
	}
	nats := func(int) error {
		took, got, err := sc.ask()
		if err != nil {
			return fmt.Errorf("scatter: %w", err)
		}
		if got < want {
			missed++
			return nil
		}
		bare = append(bare, took)
		return nil
	}
	for i := range queries {
		first, second := hubnet, nats
		if i%2 == 1 {
			first, second = nats, hubnet
		}
		if err := first(i); err != nil {
			return nil, nil, err
		}
		if err := second(i); err != nil {
			return nil, nil, err
		}
	}
	if len(failures) > 0 {
		return nil, nil, fmt.Errorf("%d of %d live queries missed hubs: %s", len(failures), queries, strings.Join(failures[:min(len(failures), 5)], "; "))
	}
	if missed > 0 {
		return nil, nil, fmt.Errorf("bare NATS: %d of %d scatters: %w", missed, queries, errIncomplete)
	}
	return hub, bare, nil
}

// askHubnet sends one live query from h and returns how long it took and who answered.
func askHubnet(ctx context.Context, h *node.Node, q protocol.Query) (time.Duration, liveOutcome, error) {
	start := time.Now()
	res, err := h.Query(ctx, q, 0)
	took := time.Since(start)
	if err != nil {
		return 0, liveOutcome{}, err
	}
	return took, liveOutcome{asked: len(res.Live.Asked), answered: len(res.Live.Answered), late: res.Live.Late, failed: res.Live.Failed}, nil
}

// liveOutcome is what a live query's result says about who answered.
type liveOutcome struct {
	asked        int // the hubs that could match, up to the bound
	answered     int
	late, failed []string
}

// errIncomplete is returned when a scatter-gather or a Serf query did not hear from
// every hub it should have within its timeout.
var errIncomplete = errors.New("not every hub answered in time")

func renderLive(results []liveResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s. Per size, fresh federations of real hubs in one process on 127.0.0.1, each followed by as many Serf agents; the figures are over all timed queries of all rounds, one query at a time from the first hub.\n\n",
		time.Now().UTC().Format("2006-01-02"), machine())
	b.WriteString("| hubs | rounds × queries (Serf) | matching hubs (Serf answers awaited) | hubnet live query median / p99 | bare NATS scatter-gather median / p99 | Serf query median / p99 | hubnet ÷ NATS | hubnet ÷ Serf |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		hm, nm, sm := r.hubnet.quantile(0.5), r.nats.quantile(0.5), r.serf.quantile(0.5)
		fmt.Fprintf(&b, "| %d | %d × %d (%d) | %s | %s / %s | %s / %s | %s / %s | %.1f× | %.2f× |\n",
			r.n, r.rounds, r.queries, r.serfN, spreadInt(r.matching),
			fine(hm), fine(r.hubnet.quantile(0.99)), fine(nm), fine(r.nats.quantile(0.99)),
			fine(sm), fine(r.serf.quantile(0.99)), ratio(hm, nm), ratio(hm, sm))
	}
	b.WriteString("\nTargets: hubnet p99 under 10 ms at 25 hubs; hubnet median within 2× of bare NATS.\n")
	return b.String()
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// spreadInt formats one count per round: the count when all agree, else min–max.
func spreadInt(v []int) string {
	lo, hi := slices.Min(v), slices.Max(v)
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}
