// The scale benchmark: federations of up to the whole EDIH catalogue, in the regional
// clusters of the default region map and as one full mesh, started hub after hub,
// each joining the first, spread over as many worker processes (worker.go) as their
// open files need.
//
//	go run ./cmd/hubnet-bench -out docs/benchmarks.md -sizes 25,50,100 scale
//
// Every wait has a deadline (-wait, else 5 minutes per size and topology); the full
// mesh is not tried at sizes above the first at which it did not converge; a size
// that would need more than scaleMaxProcs workers is reported as not measured.

package main

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hubnet-eu/hubnet/internal/catalogue"
	"github.com/hubnet-eu/hubnet/internal/spread"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// scaleMaxHubs is the largest size: the hubs of the EDIH catalogue.
const scaleMaxHubs = 457

// scalePoll is how often the benchmark asks its workers whether they are there yet:
// each answer reads every hub's directory.
const scalePoll = 100 * time.Millisecond

// scaleTarget is how soon after the last start every directory should be complete
// (issue 14's target); a wait longer than that logs what is missing.
const scaleTarget = 10 * time.Second

// scaleMaxProcs bounds the worker processes of one federation.
const scaleMaxProcs = 8

// scaleWait bounds each wait of a size when -wait is not given.
const scaleWait = 5 * time.Minute

// scaleResult holds one size and topology's measurements.
type scaleResult struct {
	n         int
	topology  string // "leaves", "clusters" or "mesh"
	procs     int    // worker processes the hubs ran in
	clusters  int    // clusters the hubs are in
	skipped   string // why the size was not measured, "" when it was
	converge  time.Duration
	failed    string   // why the directories were not complete, "" when they were
	absent    []string // hubs that did not start, when so few that the others were measured
	whyAbsent string   // the first of them, and why
	detect    time.Duration
	detected  bool
	live      latencies
	asked     []int // hubs each live query asked
	answered  []int // hubs that answered each live query
	rssPer    float64
	memPer    memoryParts // what rssPer is made of
	gorPer    float64
	fdsPer    float64
	idleCPU   float64 // share of one core over the idle period
	usage     bool    // the resources above were measured
	idle      time.Duration
}

// scaleBench measures each size in each of topologies: the default region map with
// gateway hubs and leaf hubs (leaves), the same map with every hub a gateway
// (clusters), and, up to the first size at which it fails to converge, one full mesh. After each
// measurement it hands the report so far to partial, when set, so that a run cut
// short keeps what it measured.
func scaleBench(sizes []int, topologies []string, o scaleOptions, partial func(string) error) (string, error) {
	o.wait = cmp.Or(o.wait, scaleWait)
	limit := spread.Limit()
	loadBefore := loadAverages()
	var results []scaleResult
	meshFailed := 0
	for _, n := range sizes {
		for _, topo := range topologies {
			r := scaleResult{n: n, topology: topo}
			netw := scaleNetwork(protocol.Network{}, topo)
			need := spread.Files(netw, scaleCountries(n))
			procs := spread.Procs(need, limit)
			if o.procs > 0 {
				procs = o.procs
			}
			switch {
			case topo == "mesh" && meshFailed > 0:
				r.skipped = fmt.Sprintf("not tried: the mesh of %d hubs did not converge", meshFailed)
			case procs > scaleMaxProcs:
				r.skipped = fmt.Sprintf("not measured: about %d open files needed, more than %d processes of %d each", need, scaleMaxProcs, limit)
			default:
				var err error
				if r, err = scaleOnce(n, topo, procs, o); err != nil {
					return "", fmt.Errorf("%d hubs, %s: %w", n, topo, err)
				}
				if r.failed != "" && topo == "mesh" {
					meshFailed = n
				}
			}
			fmt.Fprintf(os.Stderr, "scale %d %s: %s\n", n, topo, r.line())
			results = append(results, r)
			if partial != nil {
				if err := partial(renderScale(results, o, limit, loadBefore, loadAverages())); err != nil {
					return "", err
				}
			}
		}
	}
	return renderScale(results, o, limit, loadBefore, loadAverages()), nil
}

// scaleOptions are the scale benchmark's settings, the same for every size.
type scaleOptions struct {
	procs   int           // worker processes per federation; 0: as many as its open files need
	wait    time.Duration // bounds each wait; 0: scaleWait
	idle    time.Duration // how long the idle federation's CPU is measured
	queries int           // live queries timed
	profile string        // a directory for the workers' profiles, or ""
	paced   bool          // each hub starts once the one before it has settled
}

// scaleNetwork returns netw with the region map of topology topo: the default one for
// clusters, with DefaultGatewayHubs per cluster for leaves, none for mesh.
func scaleNetwork(netw protocol.Network, topo string) protocol.Network {
	if topo != "mesh" {
		netw.Clusters = protocol.DefaultClusters(catalogue.HubsPerCountry)
	}
	if topo == "leaves" {
		netw.GatewayHubs = protocol.DefaultGatewayHubs
	}
	return netw
}

// scaleCountries returns the countries of n hubs drawn, without replacement, from the
// hubs of the EDIH catalogue, the same every run: at 457, the whole catalogue.
func scaleCountries(n int) []string {
	var all []string
	for _, c := range slices.Sorted(maps.Keys(catalogue.HubsPerCountry)) {
		for range catalogue.HubsPerCountry[c] {
			all = append(all, c)
		}
	}
	r := mrand.New(mrand.NewPCG(1, 2))
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(n, len(all))]
}

// scaleProfiles returns n synthetic profiles in the countries of scaleCountries, each
// covering the first NUTS 2 region of its country.
func scaleProfiles(n int) []protocol.Profile {
	ps := liveProfiles(n, uint64(n))
	for i, c := range scaleCountries(n) {
		ps[i].ID = fmt.Sprintf("hub-%03d", i)
		ps[i].Country = c
		ps[i].Regions = nil
		if rs := protocol.RegionsOf(c, 2); len(rs) > 0 {
			ps[i].Regions = []string{rs[0].Code}
		}
	}
	return ps
}

// scaleOnce starts n hubs in topology topo over procs worker processes, one hub after
// another, and measures them. A federation whose directories are not complete within
// wait is reported with failed set, and its resources, but no live queries and no
// failure detection.
func scaleOnce(n int, topo string, procs int, o scaleOptions) (r scaleResult, err error) {
	wait, idle, queries := o.wait, o.idle, o.queries
	r = scaleResult{n: n, topology: topo, procs: procs, idle: idle}
	root, err := os.MkdirTemp("", "hubnet-bench-scale-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(root)
	netw, adm, err := protocol.NewNetwork("bench", rand.Reader)
	if err != nil {
		return r, err
	}
	netw = scaleNetwork(netw, topo)
	profiles := scaleProfiles(n)
	clusters := map[string]bool{}
	for _, p := range profiles {
		clusters[netw.ClusterOf(p.Country)] = true
	}
	r.clusters = len(clusters)
	for i := range profiles {
		p := profiles[i]
		dir := filepath.Join(root, p.ID)
		if _, err := node.InitDataDir(dir, netw, p.ID, &p); err != nil {
			return r, fmt.Errorf("init %s: %w", p.ID, err)
		}
		if _, err := node.Admit(dir, adm, 24*time.Hour); err != nil {
			return r, fmt.Errorf("admit %s: %w", p.ID, err)
		}
	}

	// The workers, each starting its hubs one after another and joining them to the
	// first hub: the first worker until its first hub has started, then the others
	// at once.
	var workers []*workerProc
	defer func() {
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(w.stop)
		}
		wg.Wait()
	}()
	join := ""
	for _, rg := range spread.Ranges(n, procs) {
		w, err := startWorker(workerArgs{Root: root, N: n, From: rg[0], To: rg[1], Join: join, Procs: procs, Profile: o.profile, Paced: o.paced})
		if err != nil {
			return r, err
		}
		workers = append(workers, w)
		if join == "" {
			first, err := w.next(wait)
			if err != nil {
				return r, err
			}
			if join = first.Gossip; join == "" { // the first hub did not start
				started, err := w.next(wait)
				r.failed = cmp.Or(started.Failed, fmt.Sprint("the first hub did not start: ", err))
				return r, nil
			}
		}
	}
	// Each hub takes a second or more to start on a busy machine: it waits for
	// gossip to show the other clusters' gateways before its server starts. With
	// over 400 hubs on two cores, the last ones of a worker took 10 s each or more.
	for i, w := range workers {
		if i > 0 {
			if _, err := w.next(wait); err != nil { // the first hub's address
				return r, err
			}
		}
		within := wait + time.Duration(w.args.To-w.args.From)*20*time.Second
		started, err := w.next(within)
		if err != nil {
			// A worker too starved to start its hubs in time is a figure of this size.
			r.failed = fmt.Sprintf("hubs %d to %d not started within %v", w.args.From, w.args.To-1, within)
			fmt.Fprintf(os.Stderr, "scale %d %s: %v\n", n, topo, err)
			return r, nil
		}
		fmt.Fprintf(os.Stderr, "scale %d %s: hubs %d to %d started in %v\n", n, topo, w.args.From, w.args.To-1, started.Took[0].Round(time.Millisecond))
		switch {
		case len(started.Absent) > 0:
			r.absent = append(r.absent, started.Absent...)
			r.whyAbsent = cmp.Or(r.whyAbsent, started.Failed)
		case started.Failed != "":
			r.failed = cmp.Or(r.failed, started.Failed)
		}
	}
	// A few hubs that did not start (a time-out on a starved machine) leave a
	// federation of the others to measure, and the row says so; more do not.
	if len(r.absent) > maxAbsent(n) && r.failed == "" {
		r.failed = fmt.Sprintf("%d of %d hubs did not start; %s", len(r.absent), n, r.whyAbsent)
	}
	if r.failed != "" {
		return r, nil
	}
	statusCmd := "status " + strings.Join(r.absent, ",")
	last := time.Now()
	ask := func(command string) ([]workerReply, error) {
		replies := make([]workerReply, len(workers))
		for i, w := range workers {
			var err error
			if replies[i], err = w.ask(command, wait); err != nil {
				return nil, err
			}
		}
		return replies, nil
	}
	missing, gone := "", error(nil)
	var told time.Time // when stderr last said what was missing
	if err := waitEvery(wait, scalePoll, func() bool {
		replies, err := ask(statusCmd)
		if err != nil {
			gone = err
			return true
		}
		for _, rep := range replies {
			if !rep.Complete {
				missing = rep.Missing
				// Past the 10 s asked, what is missing, every 30 s: a run that
				// completes late says why in its log.
				if since := time.Since(last); since > scaleTarget && time.Since(told) > 30*time.Second {
					told = time.Now()
					fmt.Fprintf(os.Stderr, "scale %d %s: not complete %v after the last start: %s\n", n, topo, since.Round(time.Second), firstLines(missing, 3))
				}
				return false
			}
		}
		missing = ""
		return true
	}); gone != nil {
		// A worker that stops answering is a figure of this size too: its hubs
		// starved it.
		r.failed = "not within " + wait.String() + ": " + gone.Error()
		return r, nil
	} else if err != nil || missing != "" {
		r.failed = fmt.Sprintf("not within %v", wait)
		fmt.Fprintf(os.Stderr, "scale %d %s: not complete; %s\n", n, topo, missing)
	} else {
		r.converge = time.Since(last)
	}

	// Idle: what the federation costs when nothing happens.
	before, err := ask("usage")
	if err != nil {
		return r, err
	}
	time.Sleep(idle)
	after, err := ask("usage")
	if err != nil {
		return r, err
	}
	running := float64(n - len(r.absent))
	var rss float64
	var gor, files int
	for i, w := range workers {
		// Each worker's CPU from its first answer to the second question: the
		// collections before the answers are the measurement's.
		r.idleCPU += (after[i].CPUAsked - before[i].CPU).Seconds() / after[i].AskedAt.Sub(before[i].At).Seconds()
		rss += after[i].RSS - w.base.RSS
		r.memPer = r.memPer.plusScaled(after[i].Memory, 1/running).plusScaled(w.base.Memory, -1/running)
		gor += after[i].Goroutines - w.base.Goroutines
		files += after[i].Files - w.base.Files
	}
	r.rssPer, r.gorPer, r.fdsPer = rss/running, float64(gor)/running, float64(files)/running
	r.usage = true
	if r.failed != "" {
		return r, nil
	}

	live, err := workers[0].ask("live "+strconv.Itoa(queries), wait)
	if err != nil {
		return r, err
	}
	r.live, r.asked, r.answered = live.Took, live.Asked, live.Answered

	victim := n / 2
	for slices.Contains(r.absent, scaleHubID(victim)) {
		victim++
	}
	t1 := time.Now()
	for _, w := range workers {
		if w.args.From <= victim && victim < w.args.To {
			if _, err := w.ask("kill "+scaleHubID(victim), wait); err != nil {
				return r, err
			}
		}
	}
	if err := waitEvery(wait, scalePoll, func() bool {
		replies, err := ask("unreachable " + scaleHubID(victim))
		if err != nil {
			return true
		}
		for _, rep := range replies {
			if !rep.Seen {
				return false
			}
		}
		return true
	}); err == nil {
		r.detect, r.detected = time.Since(t1), true
	}
	return r, nil
}

// maxAbsent is how many of n hubs may fail to start for the others to be measured:
// one in twenty.
func maxAbsent(n int) int { return n / 20 }

// line is the short form of r for progress on stderr.
func (r scaleResult) line() string {
	switch {
	case r.skipped != "":
		return r.skipped
	case r.failed != "":
		return "directories " + r.failed
	}
	line := fmt.Sprintf("complete %v after the last start, live median %s p99 %s, idle CPU %.0f%%",
		r.converge.Round(time.Millisecond), fine(r.live.quantile(0.5)), fine(r.live.quantile(0.99)), 100*r.idleCPU)
	if len(r.absent) > 0 {
		line += fmt.Sprintf("; %d hubs did not start", len(r.absent))
	}
	return line
}

// renderScale writes the results as a markdown table with how they were measured.
func renderScale(results []scaleResult, o scaleOptions, limit int, loadBefore, loadAfter string) string {
	wait, idle := o.wait, o.idle
	starting := "each process starting its hubs one after another"
	if o.paced {
		starting = fmt.Sprintf("each process starting its hubs one after another, each once the one before it held the profile of every hub it knew of and the first hub held its (at most %v: `-paced`)", spread.SettleWait)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured on %s; load average %s before the run and %s after (the machine is shared).\n", machine(), loadBefore, loadAfter)
	fmt.Fprintf(&b, "Every hub a real node, in as many worker processes as its open files need (a process may open %d here; "+
		"both ends of a connection between two hubs of one process count), %s (the first process its first hub before the others start), each joining the first hub, "+
		"with the countries of the EDIH catalogue (hubs drawn at random, the same every run) and synthetic profiles; "+
		"`leaves` is the default region map of the catalogue with 3 gateway hubs per cluster and the other hubs leaf nodes of them, `clusters` the same map with every hub a gateway of its cluster, `mesh` one full mesh of routes. "+
		"Each wait is bounded by %v; resources are per hub, over all processes, after %v idle; CPU is the processes' over those %v, in shares of one core. "+
		"The live query is timed from the first hub, after 20 untimed; “asked” counts the hubs it asked.\n\n", limit, starting, wait, idle, idle)
	b.WriteString("| hubs | topology | clusters | processes | last start → every directory complete | killed hub unreachable for all | live query median / p99 (answered of asked) | memory per hub | goroutines per hub | open files per hub | idle CPU |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		if r.skipped != "" {
			fmt.Fprintf(&b, "| %d | %s | – | – | %s | – | – | – | – | – | – |\n", r.n, r.topology, r.skipped)
			continue
		}
		conv, det, live := "**"+r.failed+"**", "–", "–"
		if !r.usage { // did not start, or a worker stopped answering: nothing more measured
			fmt.Fprintf(&b, "| %d | %s | %d | %d | %s | – | – | – | – | – | – |\n", r.n, r.topology, r.clusters, r.procs, conv)
			continue
		}
		if r.failed == "" {
			conv = fine(r.converge)
			if len(r.absent) > 0 {
				conv += fmt.Sprintf(" (%d of %d started; %s)", r.n-len(r.absent), r.n, r.whyAbsent)
			}
			det = "not within " + wait.String()
			if r.detected {
				det = fine(r.detect)
			}
			live = fmt.Sprintf("%s / %s (%s of %s)", fine(r.live.quantile(0.5)), fine(r.live.quantile(0.99)), spreadInt(r.answered), spreadInt(r.asked))
		}
		fmt.Fprintf(&b, "| %d | %s | %d | %d | %s | %s | %s | %.1f MB | %.0f | %.1f | %.0f%% |\n",
			r.n, r.topology, r.clusters, r.procs, conv, det, live, r.rssPer, r.gorPer, r.fdsPer, 100*r.idleCPU)
	}
	b.WriteString(memoryNotes(results))
	return b.String()
}

// memoryNotes says, for each result with its resources measured, what its memory
// per hub is made of; "" when the workers did not report the parts.
func memoryNotes(results []scaleResult) string {
	var b strings.Builder
	for _, r := range results {
		m := r.memPer
		if !r.usage || m == (memoryParts{}) {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nMemory per hub, the parts (resident memory split by the kernel; heap and stacks by the Go runtime, after a collection):\n\n")
		}
		fmt.Fprintf(&b, "- %d %s: %.1f MB resident, %.1f MB anonymous and %.1f MB mapped from files (the hubs' stores, the program's code); "+
			"heap objects %.1f MB in %.1f MB of spans, goroutine stacks %.1f MB.\n",
			r.n, r.topology, r.rssPer, m.Anon, m.File, m.Live, m.Spans, m.Stacks)
	}
	return b.String()
}

// firstLines returns the first k parts of a missing() report.
func firstLines(s string, k int) string {
	parts := strings.Split(s, "; ")
	if len(parts) > k {
		return strings.Join(parts[:k], "; ") + fmt.Sprintf("; ... (%d more)", len(parts)-k)
	}
	return s
}

// openFiles returns the process's open files, -1 where /proc is not there.
func openFiles() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// loadAverages returns the machine's load averages over 1, 5 and 15 minutes,
// "unknown" where /proc is not there.
func loadAverages() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " / ")
	}
	return "unknown"
}
