// The scale benchmark's worker: a child process that runs some of the federation's
// hubs and answers the benchmark's questions about them, one JSON line per command.
// A federation of several hundred hubs needs more open files than one process may
// have (both ends of every connection between two hubs of one process count), so the
// benchmark spreads its hubs over workers, each a copy of hubnet-bench started with
// workerEnv set.

package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/spread"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// processStart is about when the process started.
var processStart = time.Now()

// workerEnv, when set in a hubnet-bench process's environment, makes it a worker; its
// value holds the worker's arguments (see workerArgs).
const workerEnv = "HUBNET_BENCH_SCALE_WORKER"

// workerArgs tell a worker which hubs to run: hubs From to To-1 of a federation of N,
// whose data directories the benchmark made under Root, joining Join (the first hub's
// gossip address; empty for the worker that runs the first hub).
type workerArgs struct {
	Root string `json:"root"`
	N    int    `json:"n"`
	From int    `json:"from,omitempty"`
	To   int    `json:"to"`
	Join string `json:"join,omitempty"`
	// Procs is how many workers run the federation, this one among them.
	Procs int `json:"procs"`
	// Profile, when set, is a directory where the worker writes CPU profiles of
	// its run, one for each phase (see cpuPhases), and a heap profile at its stop.
	Profile string `json:"profile,omitempty"`
	// Paced starts each hub but the first once the one before it has settled
	// (spread.Settle).
	Paced bool `json:"paced,omitempty"`
}

// workerReply is a worker's answer to one command; which fields are set depends on
// the command. Err is set when the command failed.
type workerReply struct {
	Err string `json:"err,omitempty"`
	// started
	Gossip string   `json:"gossip,omitempty"` // the worker's first hub's gossip address
	Failed string   `json:"failed,omitempty"` // a hub that did not start, and why
	Absent []string `json:"absent,omitempty"` // every hub that did not start, the first hub not among them
	// status
	Complete bool   `json:"complete,omitempty"`
	Missing  string `json:"missing,omitempty"`
	// usage
	CPU        time.Duration `json:"cpu,omitempty"`       // when answered
	CPUAsked   time.Duration `json:"cpu_asked,omitempty"` // when asked, before the collection
	At         time.Time     `json:"at,omitzero"`
	AskedAt    time.Time     `json:"asked_at,omitzero"`
	RSS        float64       `json:"rss,omitempty"` // MB, after a collection
	Memory     memoryParts   `json:"memory,omitzero"`
	Goroutines int           `json:"goroutines,omitempty"`
	Files      int           `json:"files,omitempty"`
	// live
	Took     []time.Duration `json:"took,omitempty"`
	Asked    []int           `json:"asked,omitempty"`
	Answered []int           `json:"answered,omitempty"`
	// unreachable
	Seen bool `json:"seen,omitempty"`
}

// runWorker is a worker's main: it starts its hubs one after another, reports
// "started" and its usage before the start, then answers commands from in until
// "stop" or the end of in, and shuts its hubs down.
func runWorker(spec string, in io.Reader, out io.Writer) error {
	var a workerArgs
	if err := json.Unmarshal([]byte(spec), &a); err != nil {
		return fmt.Errorf("%s: %w", workerEnv, err)
	}
	enc := json.NewEncoder(out)
	w := &worker{args: a}
	// A worker holds up to a hundred hubs; memory is measured after a forced
	// collection.
	spread.PaceCollector(a.Procs)
	if a.Profile != "" {
		if err := w.nextProfile(); err != nil {
			return err
		}
		defer func() {
			if w.stopProfile != nil {
				w.stopProfile()
			}
		}()
	}
	defer w.shutdown()

	// Three replies at start: its usage before any hub, the first hub's gossip
	// address, and how long starting them all took.
	runtime.GC()
	debug.FreeOSMemory()
	if err := enc.Encode(w.usage()); err != nil {
		return err
	}
	// Commands are read from the start: a "stop" sent while the hubs still start
	// (the benchmark gave up on them) ends the start, so the profiles are written.
	lines, stopping := readCommands(in)
	t0 := time.Now()
	failed, absent := w.start(stopping, func(gossip string) error { return enc.Encode(workerReply{Gossip: gossip}) })
	if err := enc.Encode(workerReply{Failed: failed, Absent: absent, Took: []time.Duration{time.Since(t0)}}); err != nil {
		return err
	}
	for line := range lines {
		cmd, arg, _ := strings.Cut(line, " ")
		if cmd == "stop" {
			if a.Profile != "" {
				writeHeapProfile(a)
			}
			w.shutdown()
			return enc.Encode(workerReply{})
		}
		reply := w.do(cmd, arg)
		if cmd == "usage" && a.Profile != "" {
			// The idle period lies between two usages: its profile is its own.
			if err := w.nextProfile(); err != nil {
				reply.Err = err.Error()
			}
		}
		if err := enc.Encode(reply); err != nil {
			return err
		}
	}
	return nil
}

// readCommands hands in's lines on, read in the background. The second channel it
// returns closes when "stop" is read, before the line is handed on, or at the end
// of in.
func readCommands(in io.Reader) (<-chan string, <-chan struct{}) {
	lines, stopping := make(chan string), make(chan struct{})
	go func() {
		defer close(lines)
		var once sync.Once
		defer once.Do(func() { close(stopping) })
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			if cmd, _, _ := strings.Cut(sc.Text(), " "); cmd == "stop" {
				once.Do(func() { close(stopping) })
			}
			lines <- sc.Text()
		}
	}()
	return lines, stopping
}

// worker holds a worker's hubs.
type worker struct {
	args workerArgs
	mu   sync.Mutex
	hubs []*node.Node

	phase       int    // the CPU profile being written, an index of cpuPhases
	stopProfile func() // stops it; nil when none is
}

// cpuPhases names a worker's CPU profiles: from its start to the first usage (the
// hubs starting and the directories filling), between the first two (the idle
// federation), and the rest, of which the live queries and what follows them (the
// killed hub's detection) each get a profile of their own.
var cpuPhases = []string{"start", "idle", "rest"}

// start starts hubs From to To-1 and returns why the first that did not start did
// not, "" when all did, and the IDs of those that did not, but the worker's first
// hub. It hands the first hub's gossip address to first, or, when the first hub does
// not start, an empty one. It starts no more hubs once stopping closes.
func (w *worker) start(stopping <-chan struct{}, first func(gossip string) error) (failed string, absent []string) {
	join := w.args.Join
	for i := w.args.From; i < w.args.To; i++ {
		select {
		case <-stopping:
			return fmt.Sprintf("stopped before hub %d of %d", i+1, w.args.N), absent
		default:
		}
		if started := i - w.args.From; w.args.Profile != "" && started > 0 && started%50 == 0 {
			// The heap on the way, and the CPU from here on in a profile of its own,
			// for a start that does not end.
			writeHeapProfileAs(w.args, fmt.Sprintf("start-%03d.heap", started))
			if err := w.splitProfile(fmt.Sprintf("start-%03d", started)); err != nil {
				return err.Error(), absent
			}
		}
		cfg := node.DefaultLocalConfig()
		cfg.DataDir = filepath.Join(w.args.Root, scaleHubID(i))
		cfg.HTTPAddr = ""
		// The timers of a real network: with the fast ones of "local", hundreds of
		// hubs on two cores probe each other thousands of times a second, time out
		// and declare live hubs dead.
		cfg.Gossip = "lan"
		if w.args.Profile != "" {
			// Profiled: the hubs' warnings and errors go to the worker's log too.
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
		if join != "" {
			cfg.Join = []string{join}
		}
		h, err := node.New(cfg)
		if err == nil {
			err = h.Start(context.Background())
			if err != nil {
				h.Shutdown()
			}
		}
		if err != nil {
			// On a starved machine a hub's own NATS connection can time out: that is
			// a figure of this size, not a failure of the benchmark. The worker's
			// other hubs start all the same; without its first, none does.
			failed = cmp.Or(failed, fmt.Sprintf("hub %d of %d did not start: %v", i+1, w.args.N, err))
			if i == w.args.From {
				first("")
				return failed, nil
			}
			absent = append(absent, scaleHubID(i))
			continue
		}
		w.mu.Lock()
		w.hubs = append(w.hubs, h)
		w.mu.Unlock()
		if i == w.args.From {
			if err := first(h.GossipAddr()); err != nil {
				return err.Error(), absent
			}
		}
		if join == "" {
			join = h.GossipAddr()
		}
		if w.args.Paced && i > w.args.From {
			spread.Settle(h, w.hubs[0], i-w.args.From+1, stopping)
		}
	}
	return failed, absent
}

// profileName is the path, without its extension, of worker a's profiles and log.
func profileName(a workerArgs) string {
	return filepath.Join(a.Profile, fmt.Sprintf("hubs-%03d-%03d", a.From, a.To-1))
}

// nextProfile stops the worker's CPU profile, if one is being written, and starts
// the next phase's in w.args.Profile.
func (w *worker) nextProfile() error {
	if w.stopProfile != nil {
		w.stopProfile()
		w.stopProfile = nil
		w.phase++
	}
	if w.phase >= len(cpuPhases) {
		return nil
	}
	return w.startProfile(cpuPhases[w.phase])
}

// splitProfile goes on with the phase's CPU profile in a file of its own, NAME.
func (w *worker) splitProfile(name string) error {
	if w.stopProfile == nil {
		return nil
	}
	w.stopProfile()
	return w.startProfile(name)
}

// startProfile starts a CPU profile in NAME.cpu.pprof in w.args.Profile.
func (w *worker) startProfile(name string) error {
	f, err := os.Create(profileName(w.args) + "." + name + ".cpu.pprof")
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	w.stopProfile = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
	return nil
}

// writeHeapProfile writes a profile of worker a's heap, its hubs running, beside its
// CPU profile.
func writeHeapProfile(a workerArgs) { writeHeapProfileAs(a, "heap") }

// writeHeapProfileAs writes a profile of worker a's heap as NAME.pprof beside its CPU
// profile, with a line in its log of what the runtime holds.
func writeHeapProfileAs(a workerArgs, name string) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "%s: heap in use %d MB, objects %d MB; stacks %d MB; from the OS %d MB; %d goroutines; %d collections\n",
		name, ms.HeapInuse>>20, ms.HeapAlloc>>20, ms.StackInuse>>20, ms.Sys>>20, runtime.NumGoroutine(), ms.NumGC)
	if h, err := os.Create(profileName(a) + "." + name + ".pprof"); err == nil {
		pprof.WriteHeapProfile(h)
		h.Close()
	}
}

// do runs one command.
func (w *worker) do(cmd, arg string) workerReply {
	w.mu.Lock()
	hubs := slices.Clone(w.hubs)
	w.mu.Unlock()
	switch cmd {
	case "status":
		// Complete when every hub here holds the current profile of all N but the
		// absent ones, which arg lists (comma-separated): those that did not start.
		absent := map[string]bool{}
		for id := range strings.SplitSeq(arg, ",") {
			if id != "" {
				absent[id] = true
			}
		}
		for _, h := range hubs {
			if !holdsAll(h, w.args.N, absent) {
				return workerReply{Missing: firstLines(missingOf(hubs, w.args.N, absent), 5) + "; " + h.ID() + ": " + fetchMetrics(h)}
			}
		}
		return workerReply{Complete: true}
	case "usage":
		// The CPU is read before the collection as well as after it: an idle
		// period from one usage to the next is the hubs', not the measurement's.
		asked, askedAt := processCPU(), time.Now()
		runtime.GC()
		debug.FreeOSMemory()
		u := w.usage()
		u.CPUAsked, u.AskedAt, u.At = asked, askedAt, time.Now()
		return u
	case "live":
		k, err := strconv.Atoi(arg)
		if err != nil || len(hubs) == 0 {
			return workerReply{Err: fmt.Sprintf("live %q: want a count, on the worker of the first hub", arg)}
		}
		// The query is made before its profile starts: making it prepares every
		// hub's profile for matching, which is the benchmark's work, not the hubs'.
		q, _ := liveQuery(scaleProfiles(w.args.N))
		var log io.Writer
		if w.args.Profile != "" {
			// The queries' CPU in a profile of their own, each query's time in
			// the log, and the rest (the killed hub's detection) after them.
			log = os.Stderr
			if err := w.splitProfile("live"); err != nil {
				return workerReply{Err: err.Error()}
			}
			defer w.splitProfile("kill")
		}
		return liveFrom(hubs[0], q, k, log)
	case "kill":
		for i, h := range hubs {
			if h.ID() == arg {
				h.Shutdown()
				w.mu.Lock()
				w.hubs = slices.Delete(w.hubs, i, i+1)
				w.mu.Unlock()
			}
		}
		return workerReply{}
	case "unreachable":
		for _, h := range hubs {
			if hi, err := h.Hub(arg); err != nil || hi.Reachable {
				return workerReply{}
			}
		}
		return workerReply{Seen: true}
	}
	return workerReply{Err: fmt.Sprintf("unknown command %q", cmd)}
}

// usage returns the worker's CPU time so far, and its memory, goroutines and open
// files now.
func (w *worker) usage() workerReply {
	kernel := statusMB("VmRSS:", "RssAnon:", "RssFile:")
	return workerReply{CPU: processCPU(), RSS: kernel[0], Memory: memoryNow(kernel[1], kernel[2]),
		Goroutines: runtime.NumGoroutine(), Files: openFiles()}
}

// memoryParts is what a process's resident memory is made of, in MB: the kernel's
// split of it, and the Go runtime's account of its heap and stacks.
type memoryParts struct {
	Anon   float64 `json:"anon,omitempty"`   // resident and anonymous: the heap, stacks, the runtime's own
	File   float64 `json:"file,omitempty"`   // resident and mapped from files: the hubs' bbolt stores, the program's code
	Live   float64 `json:"live,omitempty"`   // heap objects, after a collection
	Spans  float64 `json:"spans,omitempty"`  // heap spans in use: the objects and the room between them
	Stacks float64 `json:"stacks,omitempty"` // goroutine stacks
}

// memoryNow returns the process's memory parts, anon and file as the kernel counts
// them; a collection just before makes Live what is live.
func memoryNow(anon, file float64) memoryParts {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	const mb = 1 << 20
	return memoryParts{Anon: anon, File: file,
		Live: float64(ms.HeapAlloc) / mb, Spans: float64(ms.HeapInuse) / mb, Stacks: float64(ms.StackInuse) / mb}
}

// plusScaled returns m plus k times o, part by part.
func (m memoryParts) plusScaled(o memoryParts, k float64) memoryParts {
	return memoryParts{m.Anon + k*o.Anon, m.File + k*o.File, m.Live + k*o.Live, m.Spans + k*o.Spans, m.Stacks + k*o.Stacks}
}

// shutdown stops every hub at once: one after another, hubs still redialling the
// others took minutes.
func (w *worker) shutdown() {
	w.mu.Lock()
	hubs := w.hubs
	w.hubs = nil
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, h := range hubs {
		wg.Go(func() { h.Shutdown() })
	}
	wg.Wait()
}

// liveFrom times k live queries q from h (after liveWarmup untimed). When log is not
// nil, it gets a line per timed query with its start in seconds since the process
// started, as the runtime's collection trace (GODEBUG=gctrace=1) dates each
// collection.
func liveFrom(h *node.Node, q protocol.Query, k int, log io.Writer) workerReply {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var r workerReply
	for i := range k + liveWarmup {
		at := time.Since(processStart)
		took, out, err := askHubnet(ctx, h, q)
		if err != nil {
			return workerReply{Err: "live query: " + err.Error()}
		}
		if i < liveWarmup {
			continue
		}
		if log != nil {
			fmt.Fprintf(log, "live query %d: @%.3fs took %v, %d answered of %d asked\n", i-liveWarmup+1, at.Seconds(), took, out.answered, out.asked)
		}
		r.Took = append(r.Took, took)
		r.Answered = append(r.Answered, out.answered)
		r.Asked = append(r.Asked, out.answered+len(out.late)+len(out.failed))
	}
	return r
}

// fetchMetrics returns h's profile fetches and gateway connections, as its metrics
// count them, for a report of what keeps its directory incomplete.
func fetchMetrics(h *node.Node) string {
	rec := httptest.NewRecorder()
	h.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	var out []string
	for line := range strings.Lines(rec.Body.String()) {
		if (strings.HasPrefix(line, "hubnet_profile_fetches_total") && !strings.HasSuffix(line, " 0\n")) ||
			strings.HasPrefix(line, "hubnet_gateway_") || strings.HasPrefix(line, "hubnet_peers_reachable") {
			out = append(out, strings.TrimSpace(strings.TrimPrefix(line, "hubnet_")))
		}
	}
	return strings.Join(out, ", ")
}

// holdsAll reports whether h holds the current profile of each of the n hubs.
func holdsAll(h *node.Node, n int, absent map[string]bool) bool {
	known := 0
	for _, p := range h.Peers() {
		if absent[p.ID] {
			continue
		}
		known++
		if !p.Current() {
			return false
		}
	}
	return known == n-len(absent)
}

// missingOf describes what keeps hubs from holding all n profiles but the absent.
func missingOf(hubs []*node.Node, n int, absent map[string]bool) string {
	var b strings.Builder
	for _, h := range hubs {
		peers := slices.DeleteFunc(h.Peers(), func(p api.PeerInfo) bool { return absent[p.ID] })
		if len(peers) != n-len(absent) {
			fmt.Fprintf(&b, "%s knows %d of %d hubs (not %s); ", h.ID(), len(peers), n-len(absent), unknownTo(peers, n, absent))
		}
		for _, p := range peers {
			if !p.Current() {
				fmt.Fprintf(&b, "%s has %s at %d of %d (%s); ", h.ID(), p.ID, p.Cached, p.Revision, p.State)
			}
		}
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// unknownTo returns the first few of the n hubs, but the absent ones, that are not
// among peers, comma-separated.
func unknownTo(peers []api.PeerInfo, n int, absent map[string]bool) string {
	known := map[string]bool{}
	for _, p := range peers {
		known[p.ID] = true
	}
	var out []string
	for i := range n {
		if id := scaleHubID(i); !known[id] && !absent[id] {
			out = append(out, id)
		}
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("%d more", len(out)-3))
	}
	return strings.Join(out, ", ")
}

// scaleHubID is the ID of the scale benchmark's i-th hub.
func scaleHubID(i int) string { return fmt.Sprintf("hub-%03d", i) }

// workerProc is the benchmark's handle on a running worker.
type workerProc struct {
	*spread.Child
	args   workerArgs
	stderr *lockedWriter
	log    *os.File    // its log, when profiled; nil otherwise
	base   workerReply // its usage before its hubs started
}

// startWorker starts a worker for a's hubs and reads its usage before they start.
func startWorker(a workerArgs) (*workerProc, error) {
	p := &workerProc{args: a, stderr: new(lockedWriter)}
	var stderr io.Writer = p.stderr
	if a.Profile != "" {
		// Beside the profiles, the worker's whole log.
		f, err := os.Create(profileName(a) + ".log")
		if err != nil {
			return nil, err
		}
		p.log = f
		stderr = io.MultiWriter(p.stderr, f)
	}
	var err error
	if p.Child, err = spread.StartChild(workerEnv, a, stderr); err != nil {
		return nil, err
	}
	if p.base, err = p.next(time.Minute); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// next reads the worker's next reply, within wait.
func (p *workerProc) next(wait time.Duration) (workerReply, error) {
	var r workerReply
	if err := p.Next(context.Background(), wait, &r); err != nil {
		return r, fmt.Errorf("worker for hubs %d to %d: %w; its last words: %s", p.args.From, p.args.To-1, err, lastLines(p.stderr.String(), 5))
	}
	return r, nil
}

// ask sends a command and returns the reply, within wait.
func (p *workerProc) ask(command string, wait time.Duration) (workerReply, error) {
	if err := p.Send(command); err != nil {
		return workerReply{}, fmt.Errorf("worker for hubs %d to %d: %s: %w", p.args.From, p.args.To-1, command, err)
	}
	r, err := p.next(wait)
	if err == nil && r.Err != "" {
		err = fmt.Errorf("worker for hubs %d to %d: %s: %s", p.args.From, p.args.To-1, command, r.Err)
	}
	return r, err
}

// stop asks the worker to stop its hubs, and kills it if it has not exited within a
// minute.
func (p *workerProc) stop() {
	p.Stop(time.Minute)
	if p.log != nil {
		p.log.Close()
	}
}

// lockedWriter lets a worker's stderr be read while it is written.
type lockedWriter struct {
	mu sync.Mutex
	w  strings.Builder
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() > 1<<20 { // a worker's log is for its last words, not all of them
		s := l.w.String()
		l.w.Reset()
		l.w.WriteString(s[len(s)/2:])
	}
	return l.w.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// lastLines returns the last k lines of s.
func lastLines(s string, k int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-k):], " | ")
}
