package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/faultfs"
	"github.com/hubnet-eu/hubnet/node"
)

// The faults, one at a time, at times drawn from the seed over the load: a hub killed
// and restarted, a hub stopped past the failure detector's timeout and let go on, and
// a hub killed in the middle of a commit that a power cut tore, then restarted. With a
// region map every hub is a gateway of its cluster; a gateway fault is aimed, when it
// comes, at the hub of the planned hub's cluster that the most hubs of other clusters
// have their outbound gateway to, so that their traffic into the cluster is cut.

// faultKind is a kind of fault.
type faultKind int

const (
	faultKill  faultKind = iota // SIGKILL, then a restart from the same data directory
	faultPause                  // SIGSTOP until the others declare the hub failed, then SIGCONT
	faultTorn                   // SIGKILL, the next commit torn in the data file, then a restart
)

var faultNames = [...]string{"kill", "pause", "torn write"}

func (k faultKind) String() string { return faultNames[k] }

// maxPause bounds how long a hub stays stopped while the others have not declared it
// failed; maxBack how long the harness waits for every hub to list a hub alive again.
const (
	maxPause = 30 * time.Second
	maxBack  = 30 * time.Second
)

// fault is one planned fault.
type fault struct {
	kind   faultKind
	hub    int
	at     time.Duration // into the load
	down   time.Duration // kill, torn write: how long the hub stays down
	hold   time.Duration // pause: the least time the hub stays stopped
	margin time.Duration // pause: how long it stays stopped after a hub declared it failed
	seed   uint64        // torn write: which pages
	// gateway aims the fault at the busiest gateway hub of the planned hub's cluster.
	gateway bool
}

// planFaults draws n faults over a load of the given duration from seed: every kind
// once, in a random order, then any. With more than one cluster, the first fault and
// about half of the others are gateway faults.
func planFaults(seed uint64, hubs, clusters, n int, duration time.Duration) []fault {
	rng := rand.New(rand.NewPCG(seed, 5))
	kinds := []faultKind{faultKill, faultPause, faultTorn}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	// Spread over all but the first tenth of the load, so that there is load before
	// the first; the last comes near its end, so that the settling after the load
	// follows a fault.
	first, span := duration/10, duration*4/5
	var plan []fault
	for i := range n {
		f := fault{hub: rng.IntN(hubs), seed: rng.Uint64(),
			at:     first + time.Duration((float64(i)+0.5+rng.Float64()/2)*float64(span)/float64(n)),
			hold:   time.Second + time.Duration(rng.IntN(3000))*time.Millisecond,
			margin: 500*time.Millisecond + time.Duration(rng.IntN(2000))*time.Millisecond}
		if i < len(kinds) {
			f.kind = kinds[i]
		} else {
			f.kind = faultKind(rng.IntN(len(kinds)))
		}
		// A quarter of the restarts come at once, before the others can have noticed.
		if rng.IntN(4) > 0 {
			f.down = time.Duration(rng.IntN(4000)) * time.Millisecond
		}
		if clusters > 1 {
			f.gateway = rng.IntN(2) == 0 || i == 0
		}
		plan = append(plan, f)
	}
	return plan
}

// faultRecord is what came of one fault.
type faultRecord struct {
	fault
	hubID  string
	pid    int
	start  time.Duration // into the load
	detail string
	err    error // the fault could not be injected or the hub did not come back
}

// injector injects the planned faults into a cluster.
type injector struct {
	c    *cluster
	api  *client
	logf func(string, ...any)
}

// run injects the faults of plan at their times after start, one at a time, and
// returns what came of each. A fault whose time comes after end is left out; one
// after which a hub did not come back ends the run of faults.
func (inj *injector) run(ctx context.Context, plan []fault, start, end time.Time) []faultRecord {
	var recs []faultRecord
	for _, f := range plan {
		at := start.Add(f.at)
		if at.After(end) {
			break
		}
		if !sleep(ctx, time.Until(at)) {
			break
		}
		h := inj.c.hubs[f.hub]
		aim := ""
		if inj.c.clusters > 1 {
			h, aim = inj.aim(ctx, h, f.gateway)
		}
		rec := faultRecord{fault: f, hubID: h.id, start: time.Since(start)}
		switch f.kind {
		case faultKill:
			rec.pid, rec.detail, rec.err = inj.kill(ctx, h, f)
		case faultPause:
			rec.pid, rec.detail, rec.err = inj.pause(ctx, h, f)
		case faultTorn:
			rec.pid, rec.detail, rec.err = inj.torn(ctx, h, f)
		}
		if rec.err == nil {
			rec.detail = aim + rec.detail + "; " + inj.back(ctx, h)
		}
		if rec.err != nil {
			inj.logf("fault %s of %s: %v", f.kind, h.id, rec.err)
		} else {
			inj.logf("%v  %s %s (pid %d): %s", rec.start.Round(100*time.Millisecond), f.kind, h.id, rec.pid, rec.detail)
		}
		recs = append(recs, rec)
		if rec.err != nil {
			break
		}
	}
	return recs
}

func (inj *injector) kill(ctx context.Context, h *hub, f fault) (int, string, error) {
	pid, err := inj.c.crash(h)
	if err != nil {
		return pid, "", err
	}
	if !sleep(ctx, f.down) {
		return pid, "", ctx.Err()
	}
	t := time.Now()
	if err := inj.c.start(ctx, h); err != nil {
		return pid, "", fmt.Errorf("restart: %w", err)
	}
	return pid, fmt.Sprintf("SIGKILL, restarted after %v, ready in %v", f.down.Round(time.Millisecond), time.Since(t).Round(time.Millisecond)), nil
}

func (inj *injector) torn(ctx context.Context, h *hub, f fault) (int, string, error) {
	pid, err := inj.c.crash(h)
	if err != nil {
		return pid, "", err
	}
	path := filepath.Join(h.dir, node.StoreFile)
	t, err := faultfs.TearNextCommit(path, rand.New(rand.NewPCG(f.seed, 6)))
	if err != nil {
		return pid, "", fmt.Errorf("tear the next commit: %w", err)
	}
	// The fault must be what it claims: bbolt opens the file at the last complete
	// commit, and the file is consistent there.
	if err := faultfs.CheckOpens(path, t.Txid); err != nil {
		return pid, "", fmt.Errorf("after %v: %w", t, err)
	}
	if !sleep(ctx, f.down) {
		return pid, "", ctx.Err()
	}
	s := time.Now()
	if err := inj.c.start(ctx, h); err != nil {
		return pid, "", fmt.Errorf("restart after %v: %w", t, err)
	}
	return pid, fmt.Sprintf("SIGKILL, %v; bbolt opens it at txid %d; restarted after %v, ready in %v",
		t, t.Txid, f.down.Round(time.Millisecond), time.Since(s).Round(time.Millisecond)), nil
}

// pause stops h until another hub's failure detector has declared it failed, and at
// least f.hold, then lets it go on.
func (inj *injector) pause(ctx context.Context, h *hub, f fault) (int, string, error) {
	observer := inj.observer(h)
	if observer == nil {
		return 0, "", fmt.Errorf("no other hub running to watch %s", h.id)
	}
	// Only a failure declared after the stop counts.
	for t := time.Now(); !inj.lists(ctx, observer, h, "alive"); {
		if time.Since(t) > maxBack || !sleep(ctx, 50*time.Millisecond) {
			return 0, "", fmt.Errorf("%s has not listed %s alive for %v", observer.id, h.id, maxBack)
		}
	}
	pid, err := inj.c.pause(h)
	if err != nil {
		return pid, "", err
	}
	t0 := time.Now()
	var declared time.Duration // when observer declared h failed, since t0
	for {
		elapsed := time.Since(t0)
		if declared == 0 && inj.lists(ctx, observer, h, "failed") {
			declared = elapsed
		}
		if declared > 0 && elapsed >= max(f.hold, declared+f.margin) {
			break
		}
		if elapsed >= maxPause || !sleep(ctx, 100*time.Millisecond) {
			break
		}
	}
	stopped := time.Since(t0)
	if err := inj.c.resume(h); err != nil {
		return pid, "", err
	}
	if declared == 0 {
		if ctx.Err() != nil {
			return pid, "", ctx.Err()
		}
		return pid, "", fmt.Errorf("stopped %v, and %s never declared it failed", stopped.Round(time.Millisecond), observer.id)
	}
	return pid, fmt.Sprintf("SIGSTOP for %v, %s declared it failed after %v, then SIGCONT",
		stopped.Round(time.Millisecond), observer.id, declared.Round(time.Millisecond)), nil
}

// aim returns the hub a fault planned for h hits, and says where that hub is: with
// gateway, the running hub of h's cluster with the most gateway connections from
// other clusters' hubs (h on a tie, or when none can be read), else h.
func (inj *injector) aim(ctx context.Context, h *hub, gateway bool) (*hub, string) {
	l, err := inj.api.links(ctx, h)
	best := l.inbound
	if err != nil {
		best = -1
	}
	target := h
	if gateway {
		for _, o := range inj.c.hubs {
			if o == h || o.cluster != h.cluster {
				continue
			}
			if l, err := inj.api.links(ctx, o); err == nil && l.inbound > best {
				target, best = o, l.inbound
			}
		}
	}
	what := "hub"
	if gateway {
		what = "gateway fault at the busiest hub"
	}
	if best < 0 {
		return target, fmt.Sprintf("%s of cluster %s; ", what, target.cluster)
	}
	return target, fmt.Sprintf("%s of cluster %s, %d gateway connections from other clusters; ", what, target.cluster, best)
}

// back waits until every other hub lists h alive again at its current address, and
// says how long that took from the moment h served again.
func (inj *injector) back(ctx context.Context, h *hub) string {
	since, _ := h.servingSince()
	var missing []string
	for {
		missing = missing[:0]
		for _, o := range inj.c.hubs {
			if o != h && !inj.lists(ctx, o, h, "alive") {
				missing = append(missing, o.id)
			}
		}
		if len(missing) == 0 {
			return fmt.Sprintf("every hub lists it alive at its address %v after it served again", time.Since(since).Round(time.Millisecond))
		}
		if time.Since(since) > maxBack || !sleep(ctx, 50*time.Millisecond) {
			return fmt.Sprintf("%v after it served again, %v still do not list it alive", maxBack, missing)
		}
	}
}

// observer returns a running hub other than h, or nil.
func (inj *injector) observer(h *hub) *hub {
	for _, o := range inj.c.hubs {
		if _, serving := o.servingSince(); o != h && serving {
			return o
		}
	}
	return nil
}

// lists reports whether hub o lists h in its member list in state ("alive",
// "failed" or "left"); alive, at h's current gossip address. A hub restarted on new
// ports may stay listed alive at its old address until the failure detector gives
// that one up.
func (inj *injector) lists(ctx context.Context, o, h *hub, state string) bool {
	var peers []api.PeerInfo
	if inj.api.get(o, func(ac *api.Client) (err error) { peers, err = ac.Peers(ctx); return err }) != nil {
		return false
	}
	h.mu.Lock()
	addr := h.node.Gossip
	h.mu.Unlock()
	for _, p := range peers {
		if p.ID == h.id {
			return p.State == state && (state != "alive" || p.Gossip == addr)
		}
	}
	return false
}

// sleep waits for d or until ctx is done, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
