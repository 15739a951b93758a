package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hubnet-eu/hubnet/internal/spread"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console"
	"github.com/hubnet-eu/hubnet/protocol"
)

// A demo of more hubs than one process may hold files for (the whole EDIH catalogue
// needs about 45,000 where a process may have 20,000) runs the first hubs itself and
// the others in helper processes: copies of this program started with demoWorkerEnv
// set, each running a consecutive share of the hubs, joining the first hub, and
// answering the demo's questions, one JSON line per command on its standard input
// and output. Their logs go to the demo's standard error.

// demoWorkerEnv, when set, makes this program a demo's helper process; its value is
// the helper's demoWorkerArgs.
const demoWorkerEnv = "HUBNET_DEMO_WORKER"

// demoWorkerArgs tell a helper process which hubs to run: those of Dirs, each joining
// Join; the first on HTTP port BasePort when it is not 0, the others following. IDs
// are every hub of the demo, which each directory must list.
type demoWorkerArgs struct {
	Dirs      []string   `json:"dirs"`
	IDs       []string   `json:"ids"`
	Join      string     `json:"join"`
	BasePort  int        `json:"base_port,omitempty"`
	Gossip    string     `json:"gossip"` // the gossip preset, see demoGossip
	LogLevel  slog.Level `json:"log_level"`
	LogFormat string     `json:"log_format,omitempty"`
	Procs     int        `json:"procs"` // the demo's processes, this one among them
}

// demoWorkerReply answers one command: started (Err when a hub did not start), status
// (Missing lists what some directory lacks, "" when none), stop.
type demoWorkerReply struct {
	Err     string `json:"err,omitempty"`
	Missing string `json:"missing,omitempty"`
}

// runDemoWorker is a helper process's main. It starts its hubs, writes each one's
// node.json, answers commands until "stop" or the end of in, then makes its hubs
// leave and stops them. Ctrl-C reaches it along with the demo, which tells it when to
// stop: it ignores the signal.
func runDemoWorker(spec string, in io.Reader, out, stderr io.Writer) int {
	signal.Ignore(os.Interrupt)
	var a demoWorkerArgs
	if err := json.Unmarshal([]byte(spec), &a); err != nil {
		fmt.Fprintf(stderr, "hubnet demo helper: %s: %v\n", demoWorkerEnv, err)
		return exitError
	}
	log := slogFor(stderr, a.LogLevel, a.LogFormat)
	spread.PaceCollector(a.Procs)
	enc := json.NewEncoder(out)
	var nodes []*node.Node
	defer func() { stopDemo(nodes, a.Dirs, log) }()
	for i, dir := range a.Dirs {
		n, err := startDemoHub(context.Background(), dir, a.Join, a.Gossip, a.BasePort, i, log)
		if err != nil {
			enc.Encode(demoWorkerReply{Err: err.Error()})
			return exitError
		}
		nodes = append(nodes, n)
		if err := writeNodeFile(dir, nodeFileOf(n)); err != nil {
			enc.Encode(demoWorkerReply{Err: err.Error()})
			return exitError
		}
		if i > 0 && len(a.IDs) >= demoSettleFrom {
			spread.Settle(n, nodes[0], i+1, nil)
		}
	}
	for _, n := range nodes {
		select {
		case <-n.Ready():
		case <-time.After(demoReadyTimeout + time.Duration(len(a.IDs))*demoWaitPerHub):
			enc.Encode(demoWorkerReply{Err: fmt.Sprintf("hub %s not ready", n.ID())})
			return exitError
		}
	}
	if err := enc.Encode(demoWorkerReply{}); err != nil {
		return exitError
	}
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		var r demoWorkerReply
		switch lines.Text() {
		case "status":
			r.Missing = missingAmong(nodes, a.IDs)
		case "stop":
			stopDemo(nodes, a.Dirs, log)
			nodes = nil
			enc.Encode(r)
			return exitOK
		default:
			r.Err = fmt.Sprintf("unknown command %q", lines.Text())
		}
		if err := enc.Encode(r); err != nil {
			return exitError
		}
	}
	return exitOK
}

// startDemoHub opens and starts the demo hub in dir, joining join unless it is empty,
// with the gossip preset given, the web console, on HTTP port basePort+i when
// basePort is not 0.
func startDemoHub(ctx context.Context, dir, join, gossip string, basePort, i int, log *slog.Logger) (*node.Node, error) {
	cfg := node.DefaultLocalConfig()
	cfg.Gossip = gossip
	cfg.DataDir = dir
	cfg.Logger = log
	if basePort > 0 {
		cfg.HTTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(basePort+i))
	}
	if join != "" {
		cfg.Join = []string{join}
	}
	id := filepath.Base(dir)
	n, err := node.New(cfg)
	if err != nil {
		return nil, fail("demo: open "+id, err, "")
	}
	console.Mount(n, console.DefaultConfig())
	if err := n.Start(ctx); err != nil {
		hint := msg("choose free ports with --base-port, or leave it out")
		if errors.Is(err, syscall.EMFILE) || strings.Contains(err.Error(), "too many open files") {
			hint = msg("this process may not open more files: run the hubs in more processes (--processes), or fewer hubs (--hubs, --country)")
		}
		return nil, fail("demo: start "+id, err, hint)
	}
	return n, nil
}

// missingAmong says which of ids some node's directory lacks, "" when none.
func missingAmong(nodes []*node.Node, ids []string) string {
	for _, n := range nodes {
		if m := missingHubs(n, ids); m != "" {
			return n.ID() + " lacks " + m
		}
	}
	return ""
}

// slogFor is a logger at level in format ("json" or text) to w.
func slogFor(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// demoHelper is the demo's handle on one helper process.
type demoHelper struct {
	*spread.Child
	args demoWorkerArgs
}

// startDemoHelper starts a helper process for a's hubs; started tells when they run.
func startDemoHelper(a demoWorkerArgs, stderr io.Writer) (*demoHelper, error) {
	c, err := spread.StartChild(demoWorkerEnv, a, stderr)
	if err != nil {
		return nil, err
	}
	return &demoHelper{Child: c, args: a}, nil
}

// started waits until the helper's hubs have started, or ctx ends, or wait has
// passed.
func (h *demoHelper) started(ctx context.Context, wait time.Duration) error {
	if _, err := h.read(ctx, wait); err != nil {
		return fmt.Errorf("the helper process of hubs %s to %s: %w", filepath.Base(h.args.Dirs[0]), filepath.Base(h.args.Dirs[len(h.args.Dirs)-1]), err)
	}
	return nil
}

// missing asks the helper which hubs its hubs' directories lack.
func (h *demoHelper) missing(ctx context.Context) (string, error) {
	if err := h.Send("status"); err != nil {
		return "", err
	}
	r, err := h.read(ctx, time.Minute)
	return r.Missing, err
}

// read returns the helper's next reply, or an error when it failed, it exited, ctx
// ended or wait passed.
func (h *demoHelper) read(ctx context.Context, wait time.Duration) (demoWorkerReply, error) {
	var r demoWorkerReply
	if err := h.Next(ctx, wait, &r); err != nil {
		return r, err
	}
	if r.Err != "" {
		return r, errors.New(r.Err)
	}
	return r, nil
}

// stop asks the helper to make its hubs leave and stop, and waits for it to exit,
// killing it after leaveTimeout and a minute.
func (h *demoHelper) stop() { h.Stop(leaveTimeout + time.Minute) }

// demoGossip is the gossip preset of a demo's hubs: "local", whose fast timers find a
// stopped hub within seconds, for a few hubs; the real network's "lan" for a network
// with a region map, which may hold the whole catalogue: with the fast timers,
// hundreds of hubs on a small machine probe each other thousands of times a second,
// time out and declare live hubs dead.
func demoGossip(clusters []protocol.Cluster) string {
	if len(clusters) > 0 {
		return "lan"
	}
	return "local"
}

// demoProcesses returns how many processes the demo's hubs need: their estimated open
// files over three quarters of this process's limit (spread.Procs), or want when it
// is more than 0.
func demoProcesses(netw protocol.Network, profiles []protocol.Profile, want int) int {
	if want > 0 {
		return min(want, len(profiles))
	}
	countries := make([]string, len(profiles))
	for i, p := range profiles {
		countries[i] = p.Country
	}
	return min(spread.Procs(spread.Files(netw, countries), spread.Limit()), len(profiles))
}
