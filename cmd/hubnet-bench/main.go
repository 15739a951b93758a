// The federation benchmark: how fast directories converge, how fast a killed hub is
// marked unreachable, and how much memory an idle hub holds.
//
//	go run ./cmd/hubnet-bench -out docs/benchmarks.md federation
//
// Every run is bounded: a fixed number of rounds, each with deadlines, on 127.0.0.1.

package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

const usage = `usage: hubnet-bench [-out FILE] [-rounds N] [-sizes 10,25] [-wait D] federation
       hubnet-bench [-out FILE] gobench BENCH-OUTPUT
       hubnet-bench [-out FILE] [-queries N] [-hubs N] search
       hubnet-bench [-out FILE] [-rounds N] [-sizes 10,25] [-wait D] [-queries N] [-serf-queries N] live
       hubnet-bench [-out FILE] [-n N] [-m M] [-callers C] [-rounds R] [-wait D] referrals
       hubnet-bench [-out FILE] [-sizes 25,50,100,250,457] [-wait D] [-idle D] [-queries N] [-procs N] [-topologies leaves,clusters,mesh] [-cpuprofile DIR] scale`

func main() {
	if spec := os.Getenv(workerEnv); spec != "" {
		if err := runWorker(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "hubnet-bench worker:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the benchmark that args name, prints its report to stdout and writes it
// into -out, and returns the exit code: 0, 1 when the benchmark failed, 2 for a usage
// error. Progress goes to os.Stderr, errors and usage to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hubnet-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "markdown file to update between the benchmark's markers (stdout only when empty)")
	rounds := fs.Int("rounds", 0, "rounds per size: fresh federations (default 5 for federation, 3 for live and referrals)")
	sizes := fs.String("sizes", "10,25", "federation sizes, comma-separated (scale: default "+scaleSizes+")")
	topologies := fs.String("topologies", "leaves,clusters,mesh", "scale: the topologies to measure, comma-separated: leaves (clusters with gateway hubs and leaf hubs), clusters (every hub a gateway) and mesh")
	paced := fs.Bool("paced", false, "scale: start each hub once the one before it holds every profile it knows of and the first hub holds its (at most 15s): hubs of one machine starting no faster than the federation takes them in")
	procs := fs.Int("procs", 0, "scale: worker processes per federation (0: as many as its open files need)")
	idle := fs.Duration("idle", 30*time.Second, "scale: how long the federation idles while its CPU is measured")
	gossip := fs.String("gossip", "lan,local", "gossip presets to measure failure detection with")
	queries := fs.Int("queries", 0, "queries timed per run (default 5000 for search, 500 per round and size for live)")
	hubs := fs.Int("hubs", searchHubs, "search: synthetic hubs in the directory")
	serfQueries := fs.Int("serf-queries", 100, "live: Serf queries timed per round and size (each waits for gossip, about 0.1 s)")
	cpuProfile := fs.String("cpuprofile", "", "live: write a CPU profile of the timed hubnet and NATS queries of the first round at the largest size to this file; referrals: of the first round's hubnet throughput run; scale: a directory for CPU profiles of each worker process (its hubs starting, the idle federation, the live queries, the rest), a heap profile at its stop and its log")
	n := fs.Int("n", 300, "referrals: referrals timed one at a time per round")
	m := fs.Int("m", 3000, "referrals: referrals sent at once per round, for throughput")
	callers := fs.Int("callers", 8, "referrals: goroutines calling Refer (and publishing to JetStream) at once")
	wait := fs.Duration("wait", 0, "federation, live, referrals: how long every directory may take to be complete once the hubs are started (0: a minute plus 2s per hub)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	wantArgs := 1 // the benchmark
	if fs.Arg(0) == "gobench" {
		wantArgs = 2 // and the file of `go test -bench` output
	}
	if fs.NArg() != wantArgs {
		fs.Usage()
		return 2
	}
	if *rounds < 0 || *procs < 0 || *queries < 0 || *wait < 0 || *idle <= 0 || *hubs < 1 || *serfQueries < 1 || *n < 1 || *m < 1 || *callers < 1 {
		fmt.Fprintln(stderr, "hubnet-bench: -rounds, -procs, -queries and -wait must not be negative; -idle, -hubs, -serf-queries, -n, -m and -callers must be positive")
		return 2
	}
	var (
		name   = fs.Arg(0) // the section of -out the report goes into
		report string
		err    error
	)
	switch name {
	case "gobench":
		name = "go"
		report, err = goBench(fs.Arg(1))
	case "federation", "live":
		ns, serr := parseSizes(*sizes)
		if serr != nil {
			fmt.Fprintln(stderr, "hubnet-bench:", serr)
			return 2
		}
		if name == "federation" {
			report, err = federation(ns, strings.Split(*gossip, ","), cmp.Or(*rounds, 5), *wait)
		} else {
			report, err = liveBench(ns, cmp.Or(*rounds, 3), cmp.Or(*queries, 500), *serfQueries, *cpuProfile, *wait)
		}
	case "scale":
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "sizes" })
		if !set {
			*sizes = scaleSizes
		}
		ns, serr := parseSizesUpTo(*sizes, scaleMaxHubs)
		if serr != nil {
			fmt.Fprintln(stderr, "hubnet-bench:", serr)
			return 2
		}
		if *paced {
			name = "scale-paced" // a section of its own beside the hubs started back to back
		}
		var partial func(string) error
		if *out != "" {
			partial = func(report string) error { return writeSection(*out, name, report) }
		}
		topos := strings.Split(*topologies, ",")
		if slices.ContainsFunc(topos, func(t string) bool { return t != "clusters" && t != "leaves" && t != "mesh" }) {
			fmt.Fprintln(stderr, "hubnet-bench: -topologies must list some of leaves, clusters and mesh, got", *topologies)
			return 2
		}
		report, err = scaleBench(ns, topos, scaleOptions{procs: *procs, wait: *wait, idle: *idle,
			queries: cmp.Or(*queries, 100), profile: *cpuProfile, paced: *paced}, partial)
	case "search":
		report, err = searchBench(cmp.Or(*queries, 5000), *hubs)
	case "referrals":
		report, err = referralBench(cmp.Or(*rounds, 3), *n, *m, *callers, *cpuProfile, *wait)
	default:
		fs.Usage()
		return 2
	}
	if err == nil {
		fmt.Fprint(stdout, report)
		if *out != "" {
			err = writeSection(*out, name, report)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "hubnet-bench:", err)
		return 1
	}
	return 0
}

// parseSizes reads -sizes: numbers from 2 to 60, comma-separated.
func parseSizes(sizes string) ([]int, error) { return parseSizesUpTo(sizes, 60) }

// scaleSizes are the sizes the scale benchmark measures by default.
const scaleSizes = "25,50,100,250,457"

// parseSizesUpTo reads -sizes: numbers from 2 to most, separated by commas.
func parseSizesUpTo(sizes string, most int) ([]int, error) {
	var ns []int
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 || n > most {
			return nil, fmt.Errorf("-sizes: %q must be numbers from 2 to %d", s, most)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// result holds one size's measurements, one value per round.
type result struct {
	n        int
	converge []time.Duration
	detect   map[string][]time.Duration // gossip preset -> time to mark a killed hub unreachable
	rssPer   float64                    // MB per idle hub
}

// federation measures every size with every gossip preset in rounds fresh
// federations, each waiting up to wait for its directories (see directoryWait).
func federation(sizes []int, presets []string, rounds int, wait time.Duration) (string, error) {
	var results []result
	for _, n := range sizes {
		r := result{n: n, detect: map[string][]time.Duration{}}
		for _, preset := range presets {
			for round := range rounds {
				conv, det, rss, err := measure(n, preset, round == 0 && preset == presets[0], wait)
				if err != nil {
					return "", fmt.Errorf("%d hubs, %s, round %d: %w", n, preset, round+1, err)
				}
				if preset == presets[0] {
					r.converge = append(r.converge, conv)
				}
				r.detect[preset] = append(r.detect[preset], det)
				if rss > 0 {
					r.rssPer = rss
				}
				fmt.Fprintf(os.Stderr, "%d hubs %s round %d: converged %v, killed hub unreachable after %v\n", n, preset, round+1, conv.Round(time.Millisecond), det.Round(time.Millisecond))
			}
		}
		results = append(results, r)
	}
	return render(results, presets, rounds), nil
}

// measure starts n hubs, the last one timed, kills one and times its detection. The
// directories may take up to wait to be complete (see directoryWait). With memory set
// it also measures resident memory per idle hub.
func measure(n int, preset string, memory bool, wait time.Duration) (converge, detect time.Duration, rssPerHub float64, err error) {
	root, err := os.MkdirTemp("", "hubnet-bench-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(root)
	netw, adm, err := protocol.NewNetwork("bench", rand.Reader)
	if err != nil {
		return 0, 0, 0, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	rssBefore := rssMB()

	var hubs []*node.Node
	defer func() {
		for _, h := range hubs {
			h.Shutdown()
		}
	}()
	start := func(i int) (*node.Node, error) {
		id := fmt.Sprintf("bench-hub-%02d", i)
		dir := filepath.Join(root, id)
		p := benchProfile(id, i)
		if _, err := node.InitDataDir(dir, netw, id, &p); err != nil {
			return nil, err
		}
		if _, err := node.Admit(dir, adm, 24*time.Hour); err != nil {
			return nil, err
		}
		cfg := node.DefaultLocalConfig()
		cfg.Gossip = preset
		cfg.DataDir = dir
		if os.Getenv("HUBNET_BENCH_LOG") != "" {
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		if len(hubs) > 0 {
			cfg.Join = []string{hubs[0].GossipAddr()}
		}
		h, err := node.New(cfg)
		if err != nil {
			return nil, err
		}
		if err := h.Start(context.Background()); err != nil {
			h.Shutdown()
			return nil, err
		}
		return h, nil
	}
	for i := range n - 1 {
		h, err := start(i)
		if err != nil {
			return 0, 0, 0, err
		}
		hubs = append(hubs, h)
	}
	wait = directoryWait(wait, n)
	if err := waitFor(wait, func() bool { return complete(hubs) }); err != nil {
		return 0, 0, 0, fmt.Errorf("first %d hubs: %w; %s", n-1, err, missing(hubs))
	}
	t0 := time.Now()
	last, err := start(n - 1)
	if err != nil {
		return 0, 0, 0, err
	}
	hubs = append(hubs, last)
	if err := waitFor(wait, func() bool { return complete(hubs) }); err != nil {
		return 0, 0, 0, fmt.Errorf("last hub: %w; %s", err, missing(hubs))
	}
	converge = time.Since(t0)

	if memory {
		time.Sleep(3 * time.Second) // idle, so gossip and routes settle
		runtime.GC()
		debug.FreeOSMemory()
		rssPerHub = (rssMB() - rssBefore) / float64(n)
	}

	victim := hubs[n/2]
	t1 := time.Now()
	victim.Shutdown()
	others := slices.Delete(slices.Clone(hubs), n/2, n/2+1)
	err = waitFor(60*time.Second, func() bool {
		for _, h := range others {
			hi, err := h.Hub(victim.ID())
			if err != nil || hi.Reachable {
				return false
			}
		}
		return true
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("detect killed hub: %w", err)
	}
	return converge, time.Since(t1), rssPerHub, nil
}

// complete reports whether every hub holds every other hub's current profile.
func complete(hubs []*node.Node) bool {
	for _, h := range hubs {
		if !holdsAll(h, len(hubs), nil) {
			return false
		}
	}
	return true
}

// missing describes what keeps complete from being true.
func missing(hubs []*node.Node) string { return missingOf(hubs, len(hubs), nil) }

func waitFor(timeout time.Duration, cond func() bool) error {
	return waitEvery(timeout, 5*time.Millisecond, cond)
}

// waitEvery checks cond every interval until it holds or timeout has passed.
func waitEvery(timeout, interval time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out after " + timeout.String())
		}
		time.Sleep(interval)
	}
	return nil
}

func benchProfile(id string, i int) protocol.Profile {
	countries := []string{"FI", "SE", "DE", "FR", "IT", "ES", "SI", "PL"}
	c := countries[i%len(countries)]
	return protocol.Profile{
		ID: id, Name: "Benchmark hub " + id, Type: protocol.HubEDIH, Country: c,
		Languages:    []string{"en"},
		Technologies: map[string]int{"ai-decision-support": 1 + i%5, "cybersecurity": 1 + (i+2)%5},
		Capacity: map[protocol.Family]protocol.Capacity{
			protocol.FamilyTestBeforeInvest: {Available: i % 4, Maximum: 5, Unit: "SMEs per month"},
		},
	}
}

// rssMB returns the process's resident memory in MB, from /proc.
func rssMB() float64 { return statusMB("VmRSS:")[0] }

// statusMB returns the fields of /proc/self/status named keys, sizes in kB, in MB,
// in the order of keys, from one read; 0 for a field that is not there.
func statusMB(keys ...string) []float64 {
	out := make([]float64, len(keys))
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if i := slices.Index(keys, f[0]); i >= 0 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			out[i] = kb / 1024
		}
	}
	return out
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func render(results []result, presets []string, rounds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s. Medians of %d rounds (min–max in brackets); every hub is a real node (memberlist, embedded NATS, bbolt with fsync) on 127.0.0.1 in one process.\n\n",
		time.Now().UTC().Format("2006-01-02"), machine(), rounds)
	b.WriteString("| hubs | last start → every directory complete | killed hub marked unreachable by all (")
	b.WriteString(strings.Join(presets, " / "))
	b.WriteString(" timers) | resident memory per idle hub |\n|---:|---:|---:|---:|\n")
	for _, r := range results {
		var det []string
		for _, p := range presets {
			det = append(det, spreadDur(r.detect[p]))
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %.1f MB |\n", r.n, spreadDur(r.converge), strings.Join(det, " / "), r.rssPer)
	}
	b.WriteString("\nTargets: directory complete under 1 s at 25 hubs; killed hub unreachable under 6 s; under 40 MB per idle hub.\n")
	return b.String()
}

func spreadDur(d []time.Duration) string {
	if len(d) == 0 {
		return "–"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return fmt.Sprintf("%s (%s–%s)", ms(median(s)), ms(s[0]), ms(s[len(s)-1]))
}

func ms(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// machine describes the host: CPU model, cores, memory, Go version.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if out, err := exec.Command("free", "-g").Output(); err == nil {
		if f := strings.Fields(strings.Split(string(out), "\n")[1]); len(f) > 1 {
			mem = ", " + f[1] + " GiB RAM"
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s %s/%s", cpu, runtime.NumCPU(), mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// writeSection replaces the text between <!-- bench:NAME --> and <!-- /bench:NAME -->
// in path, appending the section when the markers are missing.
func writeSection(path, name, body string) error {
	open, closing := "<!-- bench:"+name+" -->", "<!-- /bench:"+name+" -->"
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	s := string(old)
	section := open + "\n" + body + closing
	i, j := strings.Index(s, open), strings.Index(s, closing)
	if i >= 0 && j > i {
		s = s[:i] + section + s[j+len(closing):]
	} else {
		s += "\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
