package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Config is one chaos run.
type Config struct {
	Hubs     int           // hubs started; at least 3
	Clusters int           // clusters of the region map, 1 to 6 and at most Hubs; 1 is one full mesh without a map
	Gateways int           // gateway hubs per cluster, the others leaf hubs (network.json's gateway_hubs); 0: every hub a gateway
	Ops      int           // operations planned
	Duration time.Duration // of the load, over which the operations and the faults are spread
	Faults   int           // faults planned; 0 means one per 15s of load, and at least 3
	Workers  int           // operations run at once
	Settle   time.Duration // the longest wait for the network to settle after the load
	Seed     uint64        // draws the plan of operations and faults
	Bin      string        // the hubnet binary; "" builds ./cmd/hubnet
	Dir      string        // where the hubs' data and logs go; "" makes a temporary directory
	Keep     bool          // keep Dir even when the run finds nothing
	Gossip   string        // gossip timers of the hubs: local, lan or wan
	Cross    float64       // the share of actions both hubs take at once, 0 to 1
	Logf     func(format string, args ...any)
}

// validate checks c and fills in the defaults.
func (c *Config) validate() error {
	var errs []error
	if c.Hubs < 3 {
		errs = append(errs, fmt.Errorf("-hubs must be at least 3, got %d", c.Hubs))
	}
	if c.Clusters < 1 || c.Clusters > len(places) || c.Clusters > c.Hubs {
		errs = append(errs, fmt.Errorf("-clusters must be from 1 to %d (the hubs' countries) and at most -hubs, got %d", len(places), c.Clusters))
	}
	if c.Gateways < 0 || c.Gateways > protocol.MaxGatewayHubs || (c.Gateways > 0 && c.Clusters < 2) {
		errs = append(errs, fmt.Errorf("-gateway-hubs must be from 0 to %d, and 0 without -clusters, got %d", protocol.MaxGatewayHubs, c.Gateways))
	}
	if c.Ops < 1 {
		errs = append(errs, fmt.Errorf("-ops must be at least 1, got %d", c.Ops))
	}
	if c.Duration < 10*time.Second {
		errs = append(errs, fmt.Errorf("-duration must be at least 10s, got %v", c.Duration))
	}
	if c.Faults < 0 || c.Workers < 1 || c.Settle <= 0 {
		errs = append(errs, errors.New("-faults must not be negative, -workers and -settle must be positive"))
	}
	if c.Cross < 0 || c.Cross > 1 {
		errs = append(errs, fmt.Errorf("-cross must be from 0 to 1, got %v", c.Cross))
	}
	if c.Faults == 0 {
		c.Faults = max(3, int(c.Duration/(15*time.Second)))
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return errors.Join(errs...)
}

// setupTimeout bounds building the binary and starting the hubs until they know each
// other.
const setupTimeout = 3 * time.Minute

// Report is what a run did and found.
type Report struct {
	Config       Config
	Binary       string
	Layout       string   // the hubs' clusters, or one full mesh
	LeafStart    []string // the leaf hubs once the hubs know each other, with gateway hubs
	LeafEnd      []string // the leaf hubs once the network settled after the load
	Dir          string
	Kept         bool
	Build        time.Duration // of the hubnet binary, when the harness built it
	Setup        time.Duration // from init until every hub knew every other
	Load         time.Duration
	Started      int // operations started
	Referred     int // referrals created with an answer
	AcrossGW     int // of them, from a hub of one cluster to a hub of another
	Tallies      map[string]*tally
	Skipped      map[string]int
	Refusals     []string
	ServerErrors []string
	Faults       []faultRecord
	Settle       time.Duration
	Settled      bool
	Summary      summary
	Problems     []string // every inconsistency found
}

// run makes one chaos run. It returns an error when the run could not be made; what
// the run found is in the report.
func run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	logf := cfg.Logf
	rep = &Report{Config: cfg, Dir: cfg.Dir, Kept: true}
	if rep.Dir == "" {
		if rep.Dir, err = os.MkdirTemp("", "hubnet-chaos-"); err != nil {
			return nil, err
		}
		defer func() {
			if err == nil && len(rep.Problems) == 0 && !cfg.Keep {
				rep.Kept = os.RemoveAll(rep.Dir) != nil
			}
		}()
	} else if err := os.MkdirAll(rep.Dir, 0o700); err != nil {
		return nil, err
	}

	setupCtx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	rep.Binary = cfg.Bin
	if rep.Binary == "" {
		logf("building hubnet")
		t := time.Now()
		if rep.Binary, err = build(setupCtx, rep.Dir); err != nil {
			return rep, err
		}
		rep.Build = time.Since(t)
	}
	t0 := time.Now()
	c, err := newCluster(setupCtx, rep.Binary, rep.Dir, cfg.Gossip, cfg.Hubs, cfg.Clusters, cfg.Gateways, logf)
	if err != nil {
		return rep, err
	}
	defer c.close()
	rep.Layout = c.layout()
	logf("starting %d hubs in %s", cfg.Hubs, c.layout())
	if err := c.startAll(setupCtx); err != nil {
		return rep, err
	}
	cl := newClient()
	periodFrom := time.Now().AddDate(0, 0, -1)
	views, _, problems := settle(setupCtx, c, cl, time.Minute, periodFrom)
	if len(problems) > 0 {
		return rep, fmt.Errorf("the hubs did not get to know each other within a minute:\n\t%s", joinLines(problems))
	}
	if problems := clusterProblems(c, views); len(problems) > 0 {
		return rep, fmt.Errorf("the hubs are not in the clusters of the region map:\n\t%s", joinLines(problems))
	}
	rep.Setup = time.Since(t0)
	rep.LeafStart = leafHubs(setupCtx, c, cl)
	logf("%d hubs know each other after %v", cfg.Hubs, rep.Setup.Round(time.Millisecond))

	// The load, and the faults meanwhile.
	d := newDriver(c, cl, newPlan(cfg.Seed, cfg.Hubs, cfg.Ops), cfg.Cross)
	if err := d.readRevisions(ctx); err != nil {
		return rep, err
	}
	inj := &injector{c: c, api: cl, logf: logf}
	faults := planFaults(cfg.Seed, cfg.Hubs, cfg.Clusters, cfg.Faults, cfg.Duration)
	logf("load: %d operations and %d faults over %v, seed %d", cfg.Ops, len(faults), cfg.Duration, cfg.Seed)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		defer c.closeOnPanic()
		d.run(ctx, cfg.Duration, cfg.Workers)
	})
	wg.Go(func() {
		defer c.closeOnPanic()
		rep.Faults = inj.run(ctx, faults, start, start.Add(cfg.Duration))
	})
	wg.Wait()
	rep.Load = time.Since(start)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	d.mu.Lock()
	rep.Started, rep.Tallies, rep.Skipped = d.started, d.tallies, d.skipped
	rep.Refusals, rep.ServerErrors = d.refusals, d.srvErrors
	for _, cr := range d.creates {
		if cr.outcome == outcomeOK {
			rep.Referred++
			if c.hubs[cr.from].cluster != c.hubs[cr.to].cluster {
				rep.AcrossGW++
			}
		}
	}
	rep.Problems = append(rep.Problems, d.findings...)
	d.mu.Unlock()
	for _, f := range rep.Faults {
		if f.err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("fault: %s of %s at %v: %v", f.kind, f.hubID, f.start.Round(time.Millisecond), f.err))
		}
	}
	// A fault that went wrong may have left a hub stopped or down.
	for _, h := range c.hubs {
		h.mu.Lock()
		down, paused := h.proc == nil, h.paused
		h.mu.Unlock()
		var err error
		switch {
		case paused:
			err = c.resume(h)
		case down:
			err = c.start(ctx, h)
		}
		if err != nil {
			return rep, err
		}
	}

	logf("load done in %v; waiting up to %v for the network to settle", rep.Load.Round(time.Millisecond), cfg.Settle)
	views, took, problems := settle(ctx, c, cl, cfg.Settle, periodFrom)
	rep.Settle, rep.Settled = took, len(problems) == 0
	rep.LeafEnd = leafHubs(ctx, c, cl)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if !rep.Settled {
		rep.Problems = append(rep.Problems, fmt.Sprintf("unsettled: after %v:\n\t%s", cfg.Settle, joinLines(problems)))
	}
	d.mu.Lock()
	found, sum := check(views, outcomes{creates: d.creates, byID: d.byID, profiles: d.profiles})
	d.mu.Unlock()
	rep.Summary = sum
	rep.Problems = append(rep.Problems, found...)
	for _, e := range c.unexpectedExits() {
		rep.Problems = append(rep.Problems, "exited: "+e)
	}
	return rep, nil
}

// settle polls every hub until the network has settled or bound has passed, and
// returns the last views, how long it took, and what was still unsettled. With a
// region map, settled includes every hub's gateways to every other cluster.
func settle(ctx context.Context, c *cluster, cl *client, bound time.Duration, from time.Time) ([]hubView, time.Duration, []string) {
	t0 := time.Now()
	for {
		views := snapshot(ctx, c, cl, from, time.Now().AddDate(0, 0, 2))
		problems := unsettled(views)
		if len(problems) == 0 {
			problems = gatewayProblems(ctx, c, cl)
		}
		if len(problems) == 0 || time.Since(t0) > bound || !sleep(ctx, 250*time.Millisecond) {
			return views, time.Since(t0), problems
		}
	}
}

// gatewayProblems returns, in a network with a region map, the hubs without an
// outbound gateway to every other cluster; with gateway hubs, the leaf hubs not
// joined to one, and the clusters with fewer gateway hubs than the network wants.
func gatewayProblems(ctx context.Context, c *cluster, cl *client) []string {
	if c.clusters < 2 {
		return nil
	}
	var out []string
	gateways, size := map[string]int{}, map[string]int{}
	for _, h := range c.hubs {
		size[h.cluster]++
		l, err := cl.links(ctx, h)
		switch {
		case err != nil:
			out = append(out, err.Error())
		case c.gateways > 0 && l.reached == 0:
			if l.leafs != 1 {
				out = append(out, fmt.Sprintf("%s is a leaf hub with %d leaf node connections, want 1", h.id, l.leafs))
			}
		case l.reached != c.clusters-1:
			out = append(out, fmt.Sprintf("%s has gateways to %d other clusters, want %d", h.id, l.reached, c.clusters-1))
		default:
			gateways[h.cluster]++
		}
	}
	if len(out) > 0 || c.gateways == 0 {
		return out
	}
	for k := range c.clusters {
		name := clusterName(k)
		if want := min(c.gateways, size[name]); gateways[name] < want {
			out = append(out, fmt.Sprintf("cluster %s has %d gateway hubs, want %d", name, gateways[name], want))
		}
	}
	return out
}

// leafHubs returns the hubs that are leaf hubs now, as their /metrics show.
func leafHubs(ctx context.Context, c *cluster, cl *client) []string {
	var out []string
	for _, h := range c.hubs {
		if l, err := cl.links(ctx, h); err == nil && c.gateways > 0 && l.reached == 0 && l.leafs == 1 {
			out = append(out, h.id)
		}
	}
	return out
}

// clusterProblems returns where a hub's cluster, by itself or by another hub's member
// list, is not the one the region map gives it.
func clusterProblems(c *cluster, views []hubView) []string {
	want := map[string]string{}
	for _, h := range c.hubs {
		want[h.id] = h.cluster
	}
	var out []string
	for _, v := range views {
		if v.self.Cluster != want[v.id] {
			out = append(out, fmt.Sprintf("%s says it is in cluster %q, want %q", v.id, v.self.Cluster, want[v.id]))
		}
		for _, p := range v.peers {
			if w, ok := want[p.ID]; ok && p.Cluster != w {
				out = append(out, fmt.Sprintf("%s lists %s in cluster %q, want %q", v.id, p.ID, p.Cluster, w))
			}
		}
	}
	return out
}

// build compiles the hubnet command of the module the harness runs in, into dir.
func build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "hubnet")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/hubnet-eu/hubnet/cmd/hubnet")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build hubnet (run inside the hubnet module, or give -bin): %w\n%s", err, out)
	}
	return bin, nil
}
