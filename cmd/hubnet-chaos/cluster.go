package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The cluster: real `hubnet run` processes on 127.0.0.1, each with its own data
// directory under the run's root. Every process is started here and remembered by
// PID until it has exited, so that the harness signals only its own processes and
// kills them all on the way out.

const (
	readyTimeout = 30 * time.Second // for node.json after a start
	exitTimeout  = 10 * time.Second // for a process to exit after SIGKILL
	logTailLines = 40               // of a hub's log, quoted when it fails
)

// nodeFile is what `hubnet run -d DIR` writes into DIR/node.json once it is ready.
type nodeFile struct {
	ID      string `json:"id"`
	HTTP    string `json:"http"`
	Gossip  string `json:"gossip"`
	Cluster string `json:"cluster"` // the NATS route listener
	Gateway string `json:"gateway"` // the NATS gateway listener, in a network with a region map
	URL     string `json:"url"`
}

// process is one `hubnet run` process.
type process struct {
	cmd    *exec.Cmd
	pid    int
	done   chan struct{} // closed when it has exited
	err    error         // of Wait, valid after done
	killed atomic.Bool   // the harness killed it, so its exit is expected
}

// hub is one hub of the cluster and the process that runs it, if any.
type hub struct {
	id      string
	cluster string // of the region map; "" in a single mesh
	dir     string // data directory
	log     string // its processes' stdout and stderr, appended start after start
	token   string // operator token, read after init

	mu      sync.Mutex // guards the fields below
	proc    *process   // nil while the hub is down
	node    nodeFile   // where proc listens
	paused  bool       // proc is stopped with SIGSTOP
	upSince time.Time  // when proc last became able to serve; zero while down or paused
	starts  int
}

// url returns the base URL of the hub's HTTP API, or "" while it is down.
func (h *hub) url() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
		return ""
	}
	return h.node.URL
}

// servingSince returns since when the hub has served without a break, and false while
// it is down or paused.
func (h *hub) servingSince() (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.upSince, h.proc != nil && !h.paused
}

// cluster is the run's hubs and every process started for them.
type cluster struct {
	bin     string // the hubnet binary
	root    string // the run's directory
	netFile string // network.json
	// admissionKey is the steward's admission.key, which admits every hub at init.
	admissionKey string
	gossip       string // gossip timers of every hub
	clusters     int    // of the region map; 1 is one full mesh without a map
	gateways     int    // gateway hubs per cluster; 0: every hub a gateway
	hubs         []*hub
	logf         func(format string, args ...any)

	mu    sync.Mutex       // guards procs and exits
	procs map[int]*process // started and not yet exited, by PID
	exits []string         // processes that exited without the harness killing them
}

// newCluster creates a network in root and initialises n hubs in it; none is started.
// With clusters 1 the network has no region map and its hubs form one full mesh; with
// more, its region map puts the hubs' countries into that many clusters, joined by
// gateways (see regionMap), carried by gateways hubs of each cluster when gateways
// is above 0.
func newCluster(ctx context.Context, bin, root, gossip string, n, clusters, gateways int, logf func(string, ...any)) (*cluster, error) {
	c := &cluster{bin: bin, root: root, netFile: filepath.Join(root, "network.json"),
		admissionKey: filepath.Join(root, "admission.key"), gossip: gossip, clusters: clusters, gateways: gateways, logf: logf, procs: map[int]*process{}}
	if _, err := c.hubnet(ctx, "network", "create", "chaos", "-o", c.netFile, "--key", c.admissionKey, "--no-clusters"); err != nil {
		return nil, err
	}
	if clusters > 1 {
		if err := c.writeRegionMap(regionMap(clusters), gateways); err != nil {
			return nil, err
		}
	}
	for i := range n {
		id := fmt.Sprintf("hub-%d", i+1)
		h := &hub{id: id, dir: filepath.Join(root, id), log: filepath.Join(root, id+".log")}
		if clusters > 1 {
			h.cluster = clusterName(placeOf(i) % clusters)
		}
		if err := c.initHub(ctx, h, hubProfile(i, id)); err != nil {
			return nil, err
		}
		c.hubs = append(c.hubs, h)
	}
	return c, nil
}

// writeRegionMap puts the region map cs and the gateway hubs per cluster into the
// network file, as a steward editing network.json would, before any hub is
// initialised with it.
func (c *cluster) writeRegionMap(cs []protocol.Cluster, gateways int) error {
	data, err := os.ReadFile(c.netFile)
	if err != nil {
		return err
	}
	var n protocol.Network
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("%s: %w", c.netFile, err)
	}
	n.Clusters, n.GatewayHubs = cs, gateways
	if err := n.Validate(); err != nil {
		return fmt.Errorf("region map of the run: %w", err)
	}
	if data, err = json.MarshalIndent(n, "", "  "); err != nil {
		return err
	}
	return os.WriteFile(c.netFile, append(data, '\n'), 0o600)
}

// regionMap returns a region map of n clusters, c1 to cn, for the countries of the
// hubs' profiles: the k-th country of places is in cluster k mod n, so that hub i is
// in cluster (i mod 6) mod n and every cluster has hubs once there are n of them.
func regionMap(n int) []protocol.Cluster {
	cs := make([]protocol.Cluster, n)
	for k := range cs {
		cs[k].Name = clusterName(k)
	}
	for k, pl := range places {
		cs[k%n].Countries = append(cs[k%n].Countries, pl.country)
	}
	return cs
}

func clusterName(k int) string { return fmt.Sprintf("c%d", k+1) }

// layout says how the hubs are spread: "one full mesh", or their clusters.
func (c *cluster) layout() string {
	if c.clusters < 2 {
		return "one full mesh"
	}
	byCluster := map[string][]string{}
	for _, h := range c.hubs {
		byCluster[h.cluster] = append(byCluster[h.cluster], h.id)
	}
	var parts []string
	for k := range c.clusters {
		name := clusterName(k)
		parts = append(parts, fmt.Sprintf("%s (%s)", name, strings.Join(byCluster[name], " ")))
	}
	if c.gateways > 0 {
		return fmt.Sprintf("%d clusters joined by gateways, %d gateway hubs in each, the others leaf hubs: %s", c.clusters, c.gateways, strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%d clusters joined by gateways: %s", c.clusters, strings.Join(parts, ", "))
}

// initHub is the whole setup of one hub before its first start: `hubnet init` with the
// network, admitted at once with the steward's key, and its first profile; then the
// operator token.
func (c *cluster) initHub(ctx context.Context, h *hub, p protocol.Profile) error {
	data, err := yaml.Marshal(p)
	if err != nil {
		return fmt.Errorf("profile of %s: %w", h.id, err)
	}
	profileFile := filepath.Join(c.root, h.id+".yaml")
	if err := os.WriteFile(profileFile, data, 0o600); err != nil {
		return fmt.Errorf("profile of %s: %w", h.id, err)
	}
	if _, err := c.hubnet(ctx, "init", "-d", h.dir, "--network", c.netFile, "--id", h.id, "--profile", profileFile,
		"--admission-key", c.admissionKey); err != nil {
		return err
	}
	if h.token, err = node.ReadToken(h.dir); err != nil {
		return fmt.Errorf("hub %s: %w", h.id, err)
	}
	return nil
}

// hubnet runs a short hubnet command to its end.
func (c *cluster) hubnet(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = cleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("hubnet %s: %w\n%s", strings.Join(args, " "), err, out.Bytes())
	}
	return out.Bytes(), nil
}

// cleanEnv is the harness's environment without HUBNET_ variables, so that nothing
// of the caller's own hub leaks into the run.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUBNET_") {
			env = append(env, kv)
		}
	}
	return env
}

// start starts h's node, joined to the gossip addresses of the other running hubs, and
// waits until it has written its node.json.
func (c *cluster) start(ctx context.Context, h *hub) error {
	join := c.joinAddrs(h)
	// A killed node leaves its node.json behind; the new one writes its own.
	if err := os.Remove(filepath.Join(h.dir, "node.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	args := []string{"run", "-d", h.dir, "--gossip", c.gossip,
		"--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}
	if c.clusters > 1 {
		args = append(args, "--gateway-addr", "127.0.0.1:0", "--leaf-addr", "127.0.0.1:0")
	}
	if len(join) > 0 {
		args = append(args, "--join", strings.Join(join, ","))
	}
	logFile, err := os.OpenFile(h.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own descriptor
	h.mu.Lock()
	h.starts++
	fmt.Fprintf(logFile, "=== start %d of %s at %s: hubnet %s\n", h.starts, h.id, time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	h.mu.Unlock()

	cmd := exec.Command(c.bin, args...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A process group of its own: Ctrl-C in the terminal reaches the harness only,
	// which then kills its hubs by PID.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", h.id, err)
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	c.mu.Lock()
	c.procs[p.pid] = p
	c.mu.Unlock()
	go c.wait(h, p)

	nf, err := c.waitReady(ctx, h, p)
	if err != nil {
		c.kill(h, p)
		return err
	}
	h.mu.Lock()
	h.proc, h.node, h.paused, h.upSince = p, nf, false, time.Now()
	h.mu.Unlock()
	return nil
}

// startAll starts the first hub, then all the others at once, joined to it.
func (c *cluster) startAll(ctx context.Context) error {
	if err := c.start(ctx, c.hubs[0]); err != nil {
		return err
	}
	if c.gateways > 0 {
		// One after another, so that the first of each cluster are its gateway hubs
		// and the others, seeing enough of them, leaf hubs.
		for _, h := range c.hubs[1:] {
			if err := c.start(ctx, h); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(c.hubs))
	var wg sync.WaitGroup
	for i, h := range c.hubs[1:] {
		wg.Go(func() {
			defer c.closeOnPanic()
			errs[i] = c.start(ctx, h)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// wait reaps p and records an exit the harness did not cause.
func (c *cluster) wait(h *hub, p *process) {
	p.err = p.cmd.Wait()
	c.mu.Lock()
	delete(c.procs, p.pid)
	if !p.killed.Load() {
		c.exits = append(c.exits, fmt.Sprintf("%s (pid %d) exited by itself: %v; the end of %s:\n%s",
			h.id, p.pid, p.err, h.log, logTail(h.log, logTailLines)))
	}
	c.mu.Unlock()
	h.mu.Lock()
	if h.proc == p {
		h.proc, h.paused, h.upSince = nil, false, time.Time{}
	}
	h.mu.Unlock()
	close(p.done)
}

// waitReady polls for h's node.json until p writes it, p exits or the time is up.
func (c *cluster) waitReady(ctx context.Context, h *hub, p *process) (nodeFile, error) {
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var nf nodeFile
		data, err := os.ReadFile(filepath.Join(h.dir, "node.json"))
		if err == nil {
			if err := json.Unmarshal(data, &nf); err != nil {
				return nf, fmt.Errorf("%s: node.json: %w", h.id, err)
			}
			return nf, nil
		}
		if time.Now().After(deadline) {
			return nf, fmt.Errorf("%s (pid %d) wrote no node.json within %v; the end of %s:\n%s",
				h.id, p.pid, readyTimeout, h.log, logTail(h.log, logTailLines))
		}
		select {
		case <-ctx.Done():
			return nf, ctx.Err()
		case <-p.done:
			return nf, fmt.Errorf("%s (pid %d) exited before it was ready: %v; the end of %s:\n%s",
				h.id, p.pid, p.err, h.log, logTail(h.log, logTailLines))
		case <-tick.C:
		}
	}
}

// joinAddrs returns the gossip addresses of the running hubs other than h.
func (c *cluster) joinAddrs(h *hub) []string {
	var addrs []string
	for _, o := range c.hubs {
		if o == h {
			continue
		}
		o.mu.Lock()
		if o.proc != nil {
			addrs = append(addrs, o.node.Gossip)
		}
		o.mu.Unlock()
	}
	return addrs
}

// crash kills h's process with SIGKILL, as a crash would: no leave, no shutdown,
// whatever was in flight is cut off. It returns the PID it killed.
func (c *cluster) crash(h *hub) (int, error) {
	h.mu.Lock()
	p := h.proc
	h.mu.Unlock()
	if p == nil {
		return 0, fmt.Errorf("%s is not running", h.id)
	}
	return p.pid, c.kill(h, p)
}

// kill sends SIGKILL to p, by its PID, and waits until it has exited. A stopped
// process is killed too.
func (c *cluster) kill(h *hub, p *process) error {
	p.killed.Store(true)
	if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("SIGKILL %s (pid %d): %w", h.id, p.pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(exitTimeout):
		return fmt.Errorf("%s (pid %d) still running %v after SIGKILL", h.id, p.pid, exitTimeout)
	}
}

// pause stops h's process with SIGSTOP: it keeps its sockets but answers nothing.
func (c *cluster) pause(h *hub) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
		return 0, fmt.Errorf("%s is not running", h.id)
	}
	if err := syscall.Kill(h.proc.pid, syscall.SIGSTOP); err != nil {
		return 0, fmt.Errorf("SIGSTOP %s (pid %d): %w", h.id, h.proc.pid, err)
	}
	h.paused, h.upSince = true, time.Time{}
	return h.proc.pid, nil
}

// resume lets a paused process go on with SIGCONT.
func (c *cluster) resume(h *hub) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
		return fmt.Errorf("%s is not running", h.id)
	}
	if err := syscall.Kill(h.proc.pid, syscall.SIGCONT); err != nil {
		return fmt.Errorf("SIGCONT %s (pid %d): %w", h.id, h.proc.pid, err)
	}
	h.paused, h.upSince = false, time.Now()
	return nil
}

// unexpectedExits returns what processes exited without the harness killing them.
func (c *cluster) unexpectedExits() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.exits...)
}

// close kills every process the cluster started that is still running, by PID, and
// waits for each. It is safe to call more than once.
func (c *cluster) close() {
	c.mu.Lock()
	procs := make([]*process, 0, len(c.procs))
	for _, p := range c.procs {
		procs = append(procs, p)
	}
	c.mu.Unlock()
	for _, p := range procs {
		p.killed.Store(true)
		if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			c.logf("SIGKILL pid %d: %v", p.pid, err)
		}
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(exitTimeout):
			c.logf("pid %d still running %v after SIGKILL", p.pid, exitTimeout)
		}
	}
}

// closeOnPanic, deferred by a goroutine of the harness, kills the cluster's processes
// when the goroutine panics, then lets the panic go on: a panic outside the main
// goroutine ends the program without running main's deferred calls.
func (c *cluster) closeOnPanic() {
	if r := recover(); r != nil {
		c.close()
		panic(r)
	}
}

// logTail returns the last n lines of a log file.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\t" + strings.Join(lines, "\n\t")
}

// places are the countries of the hubs, the i-th hub in places[i mod 6].
var places = []struct{ country, region, lang string }{
	{"FI", "FI1C", "fi"}, {"SE", "SE11", "sv"}, {"SI", "SI04", "sl"},
	{"PT", "PT11", "pt"}, {"PL", "PL91", "pl"}, {"IT", "ITH4", "it"},
}

// placeOf returns the index in places of the i-th hub's country.
func placeOf(i int) int { return i % len(places) }

// hubProfile is the first profile of the i-th hub: hubs in six countries, each with
// room in two service families.
func hubProfile(i int, id string) protocol.Profile {
	pl := places[placeOf(i)]
	return protocol.Profile{
		ID:           id,
		Name:         "Chaos hub " + id,
		Type:         protocol.HubEDIH,
		Country:      pl.country,
		Regions:      []string{pl.region},
		Languages:    []string{pl.lang, "en"},
		Description:  "A hub of the chaos run.",
		Contact:      protocol.Contact{Role: "SME desk"},
		Technologies: map[string]int{"ai-decision-support": 1 + i%5, "robotics": 5 - i%5},
		Capacity: map[protocol.Family]protocol.Capacity{
			protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 10, Unit: "SMEs per month"},
			protocol.FamilySkills:           {Available: 5, Maximum: 10, Unit: "SMEs per month"},
		},
	}
}
