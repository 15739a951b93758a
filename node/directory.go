package node

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// directory keeps the node's view of the network: which hubs are members and how to
// reach them (from gossip), and the signed profile of each (from NATS, cached in the
// store). One loop, run, reconciles the two: it is woken by membership events and
// profile hints, and ticks on its own to notice suspect members and retry fetches.
type directory struct {
	n *Node

	self atomic.Pointer[[]byte] // the node's own signed profile, as served

	// slots holds a token for each profile request in flight: at most
	// cfg.FetchConcurrency at once.
	slots chan struct{}

	mu       sync.Mutex       // guards peers, purges, pending, inFlight and peak
	peers    map[string]*peer // every hub heard of: in the store or in gossip
	purges   []string         // revoked hubs not in peers, whose profile goes
	pending  int              // fetches started and not done, waiting included: at most maxPending per slot
	inFlight int              // fetches holding a slot, asking
	peak     int              // the most fetches ever in flight at once
	syncing  bool             // a batch sync is under way: no fetch one by one starts meanwhile
	nextSync time.Time        // no batch sync starts before this
}

// syncMin is how many profiles a hub must lack before it asks another hub for all it
// holds in batches rather than fetching each from its owner: a hub joining a network
// of hundreds then makes a few requests, not hundreds.
var syncMin = 16

// batchBytes bounds the profiles of one batch served.
var batchBytes = protocol.ProfileBatchBytes

// syncPause is the least time between two batch syncs of one hub: while hubs join, a
// holder's batch lacks the newest of them, and those come one by one.
const syncPause = 10 * time.Second

// syncTimeout bounds each batch of a sync, which may wait for a route to the holder.
const syncTimeout = 5 * time.Second

// maxPending is how many fetches may wait, their pause included, for each slot:
// enough to keep the slots busy through the pauses, few enough that a hub joining a
// network of hundreds does not hold a goroutine per hub.
const maxPending = 8

// maxHolders bounds the holders remembered for one hub's profile.
const maxHolders = 8

// peer is what the node knows of one other hub.
type peer struct {
	meta      protocol.Meta // last gossiped; zero until the hub is seen alive this run
	gossip    string        // its gossip address
	member    bool          // alive in gossip, as the last membership event said
	left      bool          // it said goodbye, rather than failing
	revoked   bool          // the steward revoked it: not a member unless readmitted
	purged    bool          // its profile and routes are gone since it was revoked
	reachable bool          // as last reconciled: member, with routes and fetches set up
	lastSeen  time.Time     // last time it was known alive
	cached    uint64        // revision of the profile in the store, 0 if none
	fetched   time.Time     // when a profile was last fetched from it, as a member; zero if none is stored
	hinted    uint64        // highest revision announced by a profile hint
	fetching  bool
	holders   map[string]uint64 // hubs of this node's cluster that said they hold its profile, at which revision
	failures  int               // fetches from the owner failed in a row
	nextFetch time.Time         // no fetch before this, after a failure
}

// fetchBackoffMax bounds the wait before a profile fetch from its owner is tried
// again after failures: while hundreds of hubs start, fetches fail until routes and
// gateways are up, and a longer wait keeps a directory incomplete long after the
// network is whole.
const fetchBackoffMax = 16 * time.Second

// routeGrace is how long a route to a hub that gossip says failed is kept: on a busy
// machine or network, gossip suspects live hubs now and then, and a route removed and
// added again costs every hub of the cluster a configuration reload and a TLS
// handshake. A hub that left, or whose admission ended, loses its route at once.
const routeGrace = 30 * time.Second

// keepsRoute reports whether the route to p stays: it is alive in gossip, or failed
// less than routeGrace ago without leaving, and its certificate holds.
func (p *peer) keepsRoute(now time.Time) bool {
	if p.meta.Route == "" || p.revoked || p.left || now.Unix() > p.meta.Cert.NotAfter {
		return false
	}
	return p.member || now.Sub(p.lastSeen) < routeGrace
}

func newDirectory(n *Node) *directory {
	return &directory{n: n, peers: map[string]*peer{}, slots: make(chan struct{}, n.cfg.FetchConcurrency)}
}

// load reads the cached directory and the node's own profile from the store.
func (d *directory) load() error {
	hubs, err := d.n.store.Hubs()
	if err != nil {
		return fmt.Errorf("load directory: %w", err)
	}
	profiles := make([]protocol.Profile, len(hubs))
	d.mu.Lock()
	for i, h := range hubs {
		d.peers[h.Profile.ID] = &peer{cached: h.Profile.Revision, lastSeen: h.LastSeen, fetched: h.Fetched}
		profiles[i] = h.Profile
	}
	d.mu.Unlock()
	d.n.index.load(profiles)
	_, err = d.n.publishSelf()
	return err
}

// subscribe answers profile requests and listens for profile hints.
func (d *directory) subscribe() error {
	nc := d.n.bus.nc
	if _, err := nc.Subscribe(protocol.SubjectProfileEvent, d.onHint); err != nil {
		return fmt.Errorf("subscribe profile hints: %w", err)
	}
	if _, err := nc.Subscribe(d.haveSubject(), d.onHave); err != nil {
		return fmt.Errorf("subscribe profile holdings: %w", err)
	}
	// As long as the handshake with its own server may take: with 457 hubs starting
	// on two cores, nats.go's default of 10 s failed a hub's start (hub 445).
	return nc.FlushTimeout(inProcessTimeout)
}

// haveSubject is where the hubs of this node's cluster tell each other which profiles
// they hold; a network without a region map is one cluster.
func (d *directory) haveSubject() string {
	if d.n.cluster == "" {
		return protocol.HaveSubject("all")
	}
	return protocol.HaveSubject(d.n.cluster)
}

// serveProfile replies with the node's signed profile, or the verified copy it holds
// of another hub's, or a signed not-found error.
func (d *directory) serveProfile(m *nats.Msg) {
	req, err := protocol.ParseProfileRequest(m.Data)
	if err != nil {
		d.n.replyError(m, "", err)
		return
	}
	if req.Batch {
		d.serveBatch(m, req.After)
		return
	}
	if req.Hub != "" && req.Hub != d.n.id.ID {
		d.serveCopy(m, req)
		return
	}
	if b := d.self.Load(); b != nil {
		m.Respond(*b)
		return
	}
	d.n.replyError(m, "", fmt.Errorf("hub %s has no profile yet: %w", d.n.id.ID, protocol.ErrNotFound))
}

// serveCopy replies with the stored copy of another hub's profile: the owner's signed
// envelope as it was fetched and verified, if it is at the revision asked or newer.
func (d *directory) serveCopy(m *nats.Msg, req protocol.ProfileRequest) {
	h, err := d.n.store.Hub(req.Hub)
	if err == nil && h.Profile.Revision < req.Revision {
		err = fmt.Errorf("revision %d of %s held, %d asked: %w", h.Profile.Revision, req.Hub, req.Revision, protocol.ErrNotFound)
	}
	var b []byte
	if err == nil {
		b, err = h.Envelope.Marshal()
	}
	if err != nil {
		d.n.replyError(m, "", fmt.Errorf("profile of %s from %s: %w", req.Hub, d.n.id.ID, err))
		return
	}
	m.Respond(b)
}

// serveBatch replies with the profiles the node holds, its own included, in order of
// hub ID after after, as many as fit in one protocol.ProfileBatch.
func (d *directory) serveBatch(m *nats.Msg, after string) {
	b := protocol.ProfileBatch{V: protocol.Version}
	size := 0
	// add adds one profile, or reports that the batch is full.
	add := func(id string, env []byte) bool {
		if len(b.Profiles) > 0 && size+len(env) > batchBytes {
			b.Next = after
			return false
		}
		b.Profiles = append(b.Profiles, env)
		size += len(env)
		after = id
		return true
	}
	own, self := d.self.Load(), d.n.id.ID
	ownDue := own != nil && self > after
	err := d.n.store.HubEnvelopes(after, func(id string, env protocol.Envelope) bool {
		if ownDue && self < id {
			ownDue = false
			if !add(self, *own) {
				return false
			}
		}
		raw, err := env.Marshal()
		return err != nil || add(id, raw)
	})
	if err != nil {
		d.n.replyError(m, "", fmt.Errorf("profiles held by %s: %w", self, err))
		return
	}
	if ownDue && b.Next == "" {
		add(self, *own)
	}
	m.Respond(b.Encode())
}

// onHave records that a hub of this node's cluster holds a copy of a profile.
func (d *directory) onHave(m *nats.Msg) {
	h, err := protocol.ParseProfileHave(m.Data)
	if err != nil || h.ID == d.n.id.ID {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	holder, p := d.peers[h.ID], d.peers[h.Hub]
	if holder == nil || !holder.member || holder.meta.Cluster != d.n.cluster || p == nil {
		return // a holder must be a member of this cluster, seen in gossip
	}
	if p.holders == nil {
		p.holders = map[string]uint64{}
	}
	if _, ok := p.holders[h.ID]; ok || len(p.holders) < maxHolders {
		p.holders[h.ID] = max(p.holders[h.ID], h.Revision)
	}
}

// announce tells the hubs of this node's cluster that it holds revision rev of hub
// id's profile, so they fetch it from here rather than from the owner.
func (d *directory) announce(id string, rev uint64) {
	b, err := json.Marshal(protocol.ProfileHave{V: protocol.Version, ID: d.n.id.ID, Hub: id, Revision: rev})
	if err == nil {
		err = d.n.bus.nc.Publish(d.haveSubject(), b)
	}
	if err != nil {
		d.n.log.Debug("announce profile held", "peer", id, "err", err)
	}
}

// replyError answers a request with a signed wire error, addressed to hub to ("" when
// the asker is not known).
func (n *Node) replyError(m *nats.Msg, to string, cause error) {
	env, err := protocol.Sign(n.id, protocol.TypeError, to, protocol.WireError(cause), n.cfg.Now())
	if err != nil {
		return
	}
	if b, err := env.Marshal(); err == nil {
		m.Respond(b)
	}
}

// onHint handles a profile hint: a signed note from a hub that its profile changed.
func (d *directory) onHint(m *nats.Msg) {
	env, _, err := d.n.admit(m.Data, inbound{toAll: true, once: true})
	if err != nil {
		return // not a member known yet, perhaps: gossip will bring its revision
	}
	if env.Type != protocol.TypeProfileHint {
		d.n.drop(env.From, "malformed", fmt.Errorf("%s on the profile hint subject", env.Type))
		return
	}
	var h protocol.ProfileHint
	if err := env.Decode(&h); err != nil || h.ID != env.From || h.V != protocol.Version {
		if err == nil {
			err = fmt.Errorf("hint of version %d for %s: %w", h.V, h.ID, protocol.ErrInvalid)
		}
		d.n.drop(env.From, "malformed", fmt.Errorf("profile hint: %w", err))
		return
	}
	d.noteRevision(env.From, h.Revision)
}

// noteRevision records that hub id has announced revision rev of its profile, so the
// reconcile loop fetches it at once if it is newer than the cached one.
func (d *directory) noteRevision(id string, rev uint64) {
	d.mu.Lock()
	p := d.peers[id]
	newer := p != nil && rev > p.hinted && rev > p.cached
	if newer {
		p.hinted = rev
		p.nextFetch = time.Time{}
	}
	d.mu.Unlock()
	if newer {
		d.n.wake()
	}
}

// run is the reconcile loop. It returns when the node stops.
func (d *directory) run() {
	d.join()
	d.reconcile()
	close(d.n.ready)
	tick := time.NewTicker(d.tickInterval())
	defer tick.Stop()
	lastJoin, last := time.Now(), time.Now()
	for {
		select {
		case <-d.n.ctx.Done():
			return
		case <-d.n.wakeCh:
		case <-tick.C:
			if d.large() && time.Since(last) < largeTickSkip {
				continue // every other tick when idle
			}
		}
		if d.large() {
			// Woken by each of the many events of a large network, one after
			// another: one reconcile takes them all.
			select {
			case <-d.n.ctx.Done():
				return
			case <-time.After(reconcileGap):
			}
		}
		if d.n.ml.NumMembers() <= 1 && len(d.n.cfg.Join) > 0 && time.Since(lastJoin) >= d.n.cfg.RejoinInterval {
			d.join()
			lastJoin = time.Now()
		}
		d.reconcile()
		last = time.Now()
	}
}

// largeTickSkip is how recent a reconcile makes a large directory skip a tick:
// every hub walks every other on each, and suspect members, the only change a tick
// must notice, come no faster than memberlist's probes, every 2 s there. Idle, a
// large directory reconciles every other tick.
const largeTickSkip = time.Second

// reconcileGap is the least time between two reconciles of a large directory. Each
// walks every hub; while several hundred join, gossip wakes the loop thousands of
// times a minute.
const reconcileGap = 100 * time.Millisecond

// large reports whether the directory holds more than a hundred hubs, where
// reconciles are spaced by reconcileGap.
func (d *directory) large() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.peers) > 100
}

// tickInterval is how often run checks member health without being woken: the
// failure detector's probe interval, so a suspect member is marked promptly.
func (d *directory) tickInterval() time.Duration {
	if d.n.cfg.Gossip == "local" {
		return 250 * time.Millisecond
	}
	return time.Second
}

// join tries the configured hubs once, and reports whether one answered.
func (n *Node) join() bool {
	if len(n.cfg.Join) == 0 {
		return false
	}
	joined, err := n.ml.Join(n.cfg.Join)
	if err != nil && joined == 0 {
		n.log.Warn("join failed; will retry", "hubs", n.cfg.Join, "err", err, "retry", n.cfg.RejoinInterval)
		return false
	}
	n.log.Info("joined network", "contacted", joined)
	return true
}

// join joins the network and, once a hub answered, catches up on the joins its
// gossip may miss (catchUp).
func (d *directory) join() {
	if d.n.join() {
		d.n.wg.Go(d.catchUp)
	}
}

// catchUpAfter is when, counted from its join, a hub asks a member drawn at random
// for the whole membership again, as its join did (a push/pull). Gossip spreads a
// hub's arrival only to the hubs that know of the ones that tell it, and for less
// than a second: a hub that joined moments before is known to few, and may hear of
// none of the hubs that join just after it. In five of seven runs of 100 hubs
// started one after another on two cores, a hub missed one or two joins, mostly of
// the hubs started just after it, until its next push/pull, 80 s later at that size.
// Once its own join has spread, every hub hears of the joins after it.
var catchUpAfter = []time.Duration{3 * time.Second, 15 * time.Second}

// catchUp asks a random member for the membership at each of catchUpAfter.
func (d *directory) catchUp() {
	start := time.Now()
	for _, after := range catchUpAfter {
		select {
		case <-d.n.ctx.Done():
			return
		case <-time.After(time.Until(start.Add(after))):
		}
		from := d.randomMember()
		if from == "" {
			continue
		}
		if _, err := d.n.ml.Join([]string{from}); err != nil {
			d.n.log.Debug("catch up on membership", "from", from, "err", err)
		}
	}
}

// randomMember returns the gossip address of a live member drawn at random, "" if
// there is none.
func (d *directory) randomMember() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, addr := 0, ""
	for _, p := range d.peers {
		if p.member && p.gossip != "" {
			if k++; rand.N(k) == 0 {
				addr = p.gossip
			}
		}
	}
	return addr
}

// observe records a membership event. memberlist calls it with its locks held and
// reuses the node it passes, so the fields are copied here and nothing blocks.
func (d *directory) observe(m *memberlist.Node, alive bool) {
	if m.Name == d.n.id.ID {
		return
	}
	meta, err := protocol.DecodeMeta(m.Meta)
	if err != nil {
		return // refused by the alive delegate already
	}
	// The alive delegate checked the certificate when it came; a revocation or the
	// end of its term may have come since.
	admitted := d.n.trust.check(meta.ID, meta.Cert, d.n.cfg.Now()) == nil
	d.mu.Lock()
	p := d.peers[m.Name]
	if p == nil {
		p = &peer{}
		d.peers[m.Name] = p
	}
	if admitted {
		p.meta, p.revoked = meta, false
	}
	p.gossip = m.Address()
	p.member, p.left = alive && admitted, m.State == memberlist.StateLeft
	d.mu.Unlock()
	d.n.wake()
}

// revoke applies a revocation of hub id: it is no longer a member and its keys are
// forgotten, so nothing it sends is accepted. The reconcile loop, woken, takes its
// profile out of the directory and search and closes the routes to and from it.
// memberlist may be the caller, so nothing here blocks.
func (d *directory) revoke(id string, r protocol.Revocation) {
	d.n.alive.Delete(id)
	d.mu.Lock()
	if p := d.peers[id]; p == nil {
		// Not seen this run: its profile may still be in the store.
		d.purges = append(d.purges, id)
	} else if p.meta.Cert.Issued <= r.At {
		p.member, p.revoked, p.purged = false, true, false
		p.meta.Cert = protocol.Cert{}
	}
	d.mu.Unlock()
	d.n.wake()
}

// purge removes a revoked hub's profile from the directory and search, and closes
// its routes.
func (d *directory) purge(id string) {
	d.n.index.remove(id)
	if err := d.n.store.DeleteHub(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		d.n.log.Error("remove revoked hub from the directory", "peer", id, "err", err)
	}
}

// reconcile brings routes, reachability and cached profiles in line with the current
// membership. It is the only writer of routes and reachability.
func (d *directory) reconcile() {
	now := d.n.cfg.Now()
	routes := map[string]string{}
	type change struct {
		id        string
		reachable bool
		at        time.Time
	}
	var changes []change
	var fetches []string     // hubs whose profile to fetch
	cuts := map[string]cut{} // revoked hubs -> their listeners, whose connections to close
	d.mu.Lock()
	purges := d.purges
	d.purges = nil
	syncFrom := d.syncSourceLocked(now)
	for id, p := range d.peers {
		if p.revoked && !p.purged {
			p.purged, p.cached, p.hinted, p.fetched = true, 0, 0, time.Time{}
			purges = append(purges, id)
			cuts[id] = cut{gateway: p.meta.GatewayAddr(), leaf: p.meta.LeafAddr()}
		}
		if p.member && now.Unix() > p.meta.Cert.NotAfter {
			d.n.log.Warn("hub's certificate expired", "peer", id, "not_after", time.Unix(p.meta.Cert.NotAfter, 0).UTC())
			p.member = false
		}
		if p.member {
			p.lastSeen = now
		}
		// One side of each pair opens the route: when both dial at once NATS
		// closes one as a duplicate and may redial only a second later. Routes
		// join the hubs of one cluster that have gateways (every hub of a network
		// without gateway hubs); gateways join the clusters.
		if id > d.n.id.ID && p.meta.Cluster == d.n.cluster && (d.n.cluster == "" || p.meta.Gateway != 0) && !d.n.leafHub.Load() && p.keepsRoute(now) {
			routes[id] = p.meta.Route
		}
		if p.member != p.reachable {
			p.reachable = p.member
			changes = append(changes, change{id, p.member, p.lastSeen})
			if p.member {
				// Back after a failure, or one gossip falsely suspected: what failed
				// while it was away is tried again now, not after its back-off.
				p.failures, p.nextFetch = 0, time.Time{}
			}
		}
		if !p.member {
			continue
		}
		if want := max(p.meta.Revision, p.hinted); want > p.cached && !d.syncing && !p.fetching && !now.Before(p.nextFetch) && d.pending < maxPending*d.n.cfg.FetchConcurrency {
			p.fetching = true
			d.pending++
			fetches = append(fetches, id)
		}
	}
	d.mu.Unlock()

	for _, id := range purges {
		d.purge(id)
	}
	if err := d.n.bus.setRoutes(routes); err != nil {
		d.n.log.Error("set routes", "err", err)
	}
	if len(purges) > 0 {
		// Routes the revoked hubs opened to this one are checked again, and close.
		if err := d.n.bus.recheck(); err != nil {
			d.n.log.Error("close routes of revoked hubs", "err", err)
		}
	}
	for _, id := range purges {
		restarted, err := d.n.cutGateways(id, d.n.trust.keysOf(id), cuts[id])
		if err != nil {
			d.n.log.Error("close gateways of revoked hub", "peer", id, "err", err)
		}
		if restarted {
			d.n.metrics.gatewayRestarts.Inc()
			break // the new server has none of the revoked hubs' connections
		}
	}
	d.n.repairGateways(now)
	// Recorded at once, so that the store commits the changes together: while
	// hundreds of hubs join, one reconcile sees dozens.
	var wg sync.WaitGroup
	for _, c := range changes {
		if c.reachable {
			d.n.log.Info("hub reachable", "peer", c.id)
		} else {
			d.n.log.Info("hub unreachable", "peer", c.id, "last_seen", c.at)
		}
		wg.Go(func() {
			if c.reachable {
				d.n.referrals.peerUp(c.id)
			}
			if err := d.n.store.MarkSeen(c.id, c.reachable, c.at); err != nil && !errors.Is(err, store.ErrNotFound) {
				d.n.log.Error("record reachability", "peer", c.id, "err", err)
			}
		})
	}
	wg.Wait()
	if syncFrom != "" {
		d.n.wg.Go(func() { d.sync(syncFrom) })
	}
	for _, id := range fetches {
		d.n.wg.Go(func() { d.fetch(id) })
	}
}

// syncSourceLocked decides whether the node asks another hub for every profile it
// holds rather than fetching what it lacks one by one: when it lacks at least
// syncMin, no sync is under way and none was in the last syncPause. It returns the
// hub to ask, "" for none, and marks the sync as under way. The hub is a member of
// the node's own cluster, over a route, where one is alive; any member otherwise.
// d.mu is held.
func (d *directory) syncSourceLocked(now time.Time) string {
	if d.syncing || now.Before(d.nextSync) {
		return ""
	}
	lacking := 0
	for _, p := range d.peers {
		if p.member && max(p.meta.Revision, p.hinted) > p.cached && !p.fetching {
			lacking++
		}
	}
	if lacking < syncMin {
		return "" // the common case, on every reconcile: no draw
	}
	near, far := 0, 0
	var nearest, any string
	for id, p := range d.peers {
		if !p.member {
			continue
		}
		// One of each kind, each member as likely as the others.
		if p.meta.Cluster == d.n.cluster {
			if near++; rand.N(near) == 0 {
				nearest = id
			}
		}
		if far++; rand.N(far) == 0 {
			any = id
		}
	}
	d.syncing = true
	return cmp.Or(nearest, any)
}

// sync asks hub from for every profile it holds, batch by batch, and stores those
// newer than the node's own copies, each checked against its owner's signature.
// What it does not bring is fetched one by one afterwards.
func (d *directory) sync(from string) {
	stored, err := d.syncFrom(from)
	d.mu.Lock()
	d.syncing = false
	d.nextSync = d.n.cfg.Now().Add(syncPause)
	d.mu.Unlock()
	d.n.wake()
	if err != nil {
		d.n.log.Debug("profile batch sync failed", "holder", from, "stored", stored, "err", err)
		return
	}
	d.n.log.Debug("profiles synced in batches", "holder", from, "stored", stored)
}

// syncFrom asks hub from for its profiles, batch by batch, keeps the ones wanted, and
// returns how many it stored.
func (d *directory) syncFrom(from string) (int, error) {
	stored, after := 0, ""
	for {
		req, err := json.Marshal(protocol.ProfileRequest{V: protocol.Version, Batch: true, After: after})
		if err != nil {
			return stored, err
		}
		ctx, cancel := context.WithTimeout(d.n.ctx, syncTimeout)
		msg, err := d.request(ctx, from, req)
		cancel()
		if err != nil {
			return stored, fmt.Errorf("profile batch from %s after %q: %w", from, after, err)
		}
		b, err := protocol.ParseProfileBatch(msg.Data)
		if err != nil {
			return stored, fmt.Errorf("profile batch from %s: %w", from, err)
		}
		stored += d.keep(from, b.Profiles)
		if b.Next <= after { // the last batch, or a holder going round in circles
			return stored, nil
		}
		after = b.Next
	}
}

// keep checks and stores the profiles of one batch that the node wants: of a member,
// newer than its copy, signed by the member. It returns how many it stored.
func (d *directory) keep(from string, batch []json.RawMessage) int {
	type kept struct {
		p   protocol.Profile
		env protocol.Envelope
	}
	var ks []kept
	for _, raw := range batch {
		env, err := protocol.OpenEnvelope(raw)
		if err != nil || env.From == d.n.id.ID {
			continue
		}
		d.mu.Lock()
		p := d.peers[env.From]
		// Checked only when lacked: a batch holds every profile its sender has.
		wanted := p != nil && p.member && !p.revoked && max(p.meta.Revision, p.hinted) > p.cached
		cached := uint64(0)
		if wanted {
			cached = p.cached
		}
		d.mu.Unlock()
		if !wanted {
			continue
		}
		// As from a holder one at a time: the owner's signature, or nothing.
		env, _, err = d.n.admit(raw, inbound{from: env.From, toAll: true, document: true})
		if err != nil || env.Type != protocol.TypeProfile {
			d.n.metrics.fetches.WithLabelValues("batch", "refused").Inc()
			continue
		}
		p2, err := protocol.ProfileOf(env)
		if err != nil || p2.ID != env.From {
			d.n.metrics.fetches.WithLabelValues("batch", "refused").Inc()
			continue
		}
		if p2.Revision > cached {
			ks = append(ks, kept{p2, env})
		}
	}
	// Stored at once, so the store commits them together rather than one by one.
	now := d.n.cfg.Now()
	ok := make([]bool, len(ks))
	var wg sync.WaitGroup
	profiles := make([]protocol.Profile, len(ks))
	for i, k := range ks {
		profiles[i] = k.p
	}
	d.n.index.put(profiles...) // search sees them no later than the directory does
	for i, k := range ks {
		wg.Go(func() {
			err := d.n.store.PutHub(store.Hub{Profile: k.p, Envelope: k.env, Reachable: true, LastSeen: now, Fetched: now})
			ok[i] = err == nil || errors.Is(err, store.ErrStale)
			if !ok[i] {
				d.n.log.Error("store synced profile", "peer", k.p.ID, "holder", from, "err", err)
			}
		})
	}
	wg.Wait()
	stored := 0
	d.mu.Lock()
	for i, k := range ks {
		if !ok[i] {
			continue
		}
		stored++
		if p := d.peers[k.p.ID]; p != nil {
			p.cached = max(p.cached, k.p.Revision)
			p.fetched = now
			p.failures, p.nextFetch = 0, time.Time{}
			if p.hinted > 0 && p.hinted <= p.cached {
				p.hinted = 0
			}
		}
	}
	d.mu.Unlock()
	d.n.metrics.fetches.WithLabelValues("batch", "ok").Add(float64(stored))
	return stored
}

// fetch gets hub id's signed profile and stores it if it verifies. It waits between
// half of FetchJitter and all of it first, so that hubs hearing of a change at once do
// not all ask at once, and a holder in this node's cluster has time to announce its
// copy; then it waits for one of the FetchConcurrency slots. It asks such a holder
// when one is known, the owner otherwise. A failure at a holder is
// retried soon, from another holder or the owner; a failure at the owner backs off,
// doubling up to fetchBackoffMax.
func (d *directory) fetch(id string) {
	defer d.n.wake() // room for the next fetch
	var err error
	if j := d.n.cfg.FetchJitter; j > 0 {
		select {
		case <-d.n.ctx.Done():
			err = d.n.ctx.Err()
		case <-time.After(j/2 + rand.N(j/2+1)):
		}
	}
	if err == nil {
		select {
		case <-d.n.ctx.Done():
			err = d.n.ctx.Err()
		case d.slots <- struct{}{}:
		}
	}
	d.mu.Lock()
	p := d.peers[id]
	if err != nil {
		d.pending--
		p.fetching = false
		d.mu.Unlock()
		return
	}
	d.inFlight++
	d.peak = max(d.peak, d.inFlight)
	want := max(p.meta.Revision, p.hinted)
	source := d.holderLocked(id, p, want)
	d.mu.Unlock()

	var rev uint64
	rev, err = d.fetchOnce(id, source, want)
	d.mu.Lock()
	defer d.mu.Unlock()
	// The slot goes after the count is down, so that the next fetch to take it is
	// never counted beside this one (the peak read 3 of 2 slots).
	d.inFlight--
	<-d.slots
	d.pending--
	p.fetching = false
	kind := "owner"
	if source != id {
		kind = "peer"
	}
	if err != nil {
		result := "failed"
		if errors.Is(err, errForged) {
			result = "refused"
		}
		d.n.metrics.fetches.WithLabelValues(kind, result).Inc()
		if source != id {
			// The holder may have lost or never had the copy: forgotten, and the next
			// fetch, from another holder or the owner, goes as soon as the loop runs.
			delete(p.holders, source)
			d.n.log.Debug("profile fetch from holder failed", "peer", id, "holder", source, "err", err)
			return
		}
		p.failures++
		backoff := min(time.Second<<min(p.failures-1, 4), fetchBackoffMax)
		p.nextFetch = d.n.cfg.Now().Add(backoff/2 + rand.N(backoff/2))
		d.n.log.Debug("profile fetch failed", "peer", id, "err", err, "retry_in", backoff)
		return
	}
	p.failures, p.nextFetch = 0, time.Time{}
	p.cached = max(p.cached, rev)
	p.fetched = d.n.cfg.Now()
	if p.hinted > p.cached {
		// The hub serves an older revision than its hint said: the hint is forgotten
		// rather than fetched for on every tick; gossip brings the real revision.
		p.hinted = 0
	}
	d.n.metrics.fetches.WithLabelValues(kind, "ok").Inc()
	if source == id {
		// Only copies from the owner are announced: one or a few hubs of the cluster
		// fetch from the owner, and the others from them.
		d.n.wg.Go(func() { d.announce(id, rev) })
	}
}

// holderLocked returns a hub of this node's cluster, alive in gossip, that said it
// holds p's profile at revision want or newer; p's owner when none did. d.mu is held.
func (d *directory) holderLocked(id string, p *peer, want uint64) string {
	var ids []string
	for h, rev := range p.holders {
		if hp := d.peers[h]; rev >= want && hp != nil && hp.member && hp.meta.Cluster == d.n.cluster {
			ids = append(ids, h)
		}
	}
	if len(ids) == 0 {
		return id
	}
	return ids[rand.N(len(ids))]
}

// errForged marks a profile that failed its owner's signature or checks.
var errForged = errors.New("profile copy refused")

// fetchOnce asks source (the owner id, or a holder of its profile) for id's signed
// profile at revision want or newer, checks it against the owner's signature and
// stores it. It returns the revision stored.
func (d *directory) fetchOnce(id, source string, want uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(d.n.ctx, d.n.cfg.FetchTimeout)
	defer cancel()
	r := protocol.ProfileRequest{V: protocol.Version}
	if source != id {
		r.Hub, r.Revision = id, want
	}
	req, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	msg, err := d.request(ctx, source, req)
	if err != nil {
		return 0, fmt.Errorf("request profile of %s from %s: %w", id, source, err)
	}
	if source != id {
		if env, err := protocol.OpenEnvelope(msg.Data); err == nil && env.From == source && env.Type == protocol.TypeError {
			// The holder's own signed refusal: it has no copy at that revision.
			if _, _, err := d.n.admit(msg.Data, inbound{from: source, toAll: true, document: true}); err != nil {
				return 0, err
			}
			return 0, env.Decode(nil)
		}
	}
	// Whoever served it, the profile must carry its owner's signature.
	env, _, err := d.n.admit(msg.Data, inbound{from: id, toAll: true, document: true})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errForged, err)
	}
	if env.Type == protocol.TypeError {
		return 0, env.Decode(nil)
	}
	p, err := protocol.ProfileOf(env)
	if err != nil {
		d.n.drop(id, "bad-profile", err)
		return 0, fmt.Errorf("%w: %w", errForged, err)
	}
	if p.ID != id {
		return 0, fmt.Errorf("%w: profile of %s in answer for %s", errForged, p.ID, id)
	}
	// Search sees the profile no later than the directory does: once a caller can
	// read it from the store, a search finds it too. The index keeps the newest
	// revision whatever the order of puts.
	d.n.index.put(p)
	err = d.n.store.PutHub(store.Hub{Profile: p, Envelope: env, Reachable: true, LastSeen: d.n.cfg.Now(), Fetched: d.n.cfg.Now()})
	if err != nil && !errors.Is(err, store.ErrStale) {
		return 0, fmt.Errorf("store profile of %s: %w", id, err)
	}
	d.n.log.Debug("profile stored", "peer", id, "revision", p.Revision, "from", source)
	return p.Revision, nil
}

// request sends a profile request to hub to and returns the answer. While no route
// or gateway to the hub is up yet, NATS answers at once that no one listens: the
// request is sent again, more slowly each time, until ctx ends.
func (d *directory) request(ctx context.Context, to string, req []byte) (*nats.Msg, error) {
	for wait := 10 * time.Millisecond; ; wait = min(wait*2, 200*time.Millisecond) {
		msg, err := d.n.mail.request(ctx, protocol.ProfileSubject(to), req)
		if !errors.Is(err, nats.ErrNoResponders) {
			return msg, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no route yet: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// fetchPeak returns the most profile fetches this node has had in flight at once.
func (d *directory) fetchPeak() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.peak
}

// peerView is a copy of one peer's state for the API.
type peerView struct {
	ID        string
	Gossip    string
	Route     string
	Cluster   string // its cluster, as it gossips it
	Gateway   string // host:port of its gateway, "" if none
	Revision  uint64
	Cached    uint64
	Fetched   time.Time // when a profile was last fetched from it; zero if none is stored
	Member    bool
	Left      bool
	Reachable bool
	LastSeen  time.Time
	SignKey   []byte // from its gossiped metadata, certified; nil until seen alive this run
	BoxKey    []byte // likewise
	Issued    int64  // its certificate's dates, Unix seconds
	NotAfter  int64
	Revoked   bool
}

// view copies the peer's state.
func (p *peer) view(id string) peerView {
	return peerView{ID: id, Gossip: p.gossip, Route: p.meta.Route, Cluster: p.meta.Cluster, Gateway: p.meta.GatewayAddr(), Revision: p.meta.Revision,
		Cached: p.cached, Fetched: p.fetched, Member: p.member, Left: p.left, Reachable: p.reachable, LastSeen: p.lastSeen,
		SignKey: p.meta.Cert.SignKey, BoxKey: p.meta.Cert.BoxKey, Issued: p.meta.Cert.Issued, NotAfter: p.meta.Cert.NotAfter,
		Revoked: p.revoked}
}

// snapshot returns every known peer, sorted by ID.
func (d *directory) snapshot() []peerView {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]peerView, 0, len(d.peers))
	for _, id := range slices.Sorted(maps.Keys(d.peers)) {
		out = append(out, d.peers[id].view(id))
	}
	return out
}

// linkGone reports whether addr is the route or gateway address of a hub that is
// not a member now, and of none that is: it left, failed or was revoked.
func (d *directory) linkGone(addr string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	gone := false
	for _, p := range d.peers {
		if p.meta.Route == addr || p.meta.GatewayAddr() == addr || p.meta.LeafAddr() == addr {
			if p.member {
				return false
			}
			gone = true
		}
	}
	return gone
}

// reach returns whether the peer is reachable and when it was last seen alive, as
// peer does, without copying the rest of its state: a search asks it of every hub it
// returns.
func (d *directory) reach(id string) (reachable bool, lastSeen time.Time, known bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.peers[id]
	if !ok {
		return false, time.Time{}, false
	}
	return p.reachable, p.lastSeen, true
}

// peer returns one peer's state.
func (d *directory) peer(id string) (peerView, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.peers[id]
	if !ok {
		return peerView{}, false
	}
	return p.view(id), true
}
