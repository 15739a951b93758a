package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"
)

// This file holds what the region map adds to the bus: the remote gateways a hub dials
// at start, the wait for them, and the cutting off of a revoked hub's gateways.

// maxRemoteURLs bounds the addresses a hub dials for one remote cluster at start: any
// one of its hubs leads to the rest.
const maxRemoteURLs = 3

// gatewayRemotes returns the gateways to dial at start: for each other cluster whose
// hubs gossip a gateway, up to maxRemoteURLs of their addresses, picked at random so
// that the hubs of a network do not all dial the same.
func (n *Node) gatewayRemotes() map[string][]string {
	type gateway struct{ cluster, addr string }
	var all []gateway
	n.dir.eachMember(func(p *peer) {
		if a, c := p.meta.GatewayAddr(), p.meta.Cluster; a != "" && c != n.cluster && c != "" {
			all = append(all, gateway{c, a})
		}
	})
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	out := map[string][]string{}
	for _, g := range all {
		if len(out[g.cluster]) < maxRemoteURLs {
			out[g.cluster] = append(out[g.cluster], g.addr)
		}
	}
	return out
}

// gatewayPeersKnown reports whether gossip has shown a live hub of another cluster with
// a gateway, or one of the hub's own cluster: its routes bring the gateways the cluster
// knows.
func (n *Node) gatewayPeersKnown() bool {
	known := false
	n.dir.eachMember(func(p *peer) {
		known = known || p.meta.Cluster == n.cluster || p.meta.GatewayAddr() != ""
	})
	return known
}

// awaitGatewayPeers joins the network and waits, at most Config.GatewayWait, until
// gossip shows a hub through which this one reaches the other clusters: one of another
// cluster to dial, or one of its own. A hub that finds none starts without remote
// gateways, and the hubs that see it later dial it or repairGateways restarts its
// server. The first hub of a network, with nothing to join, does not wait.
func (n *Node) awaitGatewayPeers(ctx context.Context) {
	if len(n.cfg.Join) == 0 {
		return
	}
	deadline := time.Now().Add(n.cfg.GatewayWait)
	var lastJoin time.Time
	for {
		if n.ml.NumMembers() <= 1 && time.Since(lastJoin) >= min(n.cfg.RejoinInterval, time.Second) {
			n.join()
			lastJoin = time.Now()
		}
		if n.gatewayPeersKnown() || !time.Now().Before(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(100*time.Millisecond, time.Until(deadline))):
		}
	}
}

// eachMember calls fn with every live, admitted member, in no particular order, under
// the directory's lock: fn must not call back into the directory nor keep p. The
// peers are read in place: copying every one of several hundred on each look was 5%
// of the CPU of 457 idle hubs, most of them leaf hubs looking every 5 s.
func (d *directory) eachMember(fn func(p *peer)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.peers {
		if p.member {
			fn(p)
		}
	}
}

// gatewayConns records the gateway connections a hub accepted, by the signing key of
// the hub on the other end, so that those of a revoked hub can be closed: nats-server
// has no call that closes one gateway connection.
type gatewayConns struct {
	mu    sync.Mutex                // guards conns
	conns map[net.Conn]acceptedConn // connection -> whom it came from, and when
}

// acceptedConn is a connection's peer key and the time its handshake was verified.
type acceptedConn struct {
	key string
	at  time.Time
}

// maxGatewayConns bounds the connections recorded; past it, those nats-server no
// longer lists are forgotten first (see prune).
const maxGatewayConns = 4096

// gatewayConnGrace is how long a recorded connection is kept while nats-server does
// not list it yet: it is recorded at the TLS handshake, and listed only once the
// server has taken its CONNECT, which on a busy machine comes a while later. A
// connection forgotten in between could not be cut.
const gatewayConnGrace = time.Minute

func newGatewayConns() *gatewayConns { return &gatewayConns{conns: map[net.Conn]acceptedConn{}} }

// add records an accepted connection from the hub with key.
func (g *gatewayConns) add(key ed25519.PublicKey, c net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.conns) >= maxGatewayConns {
		for old := range g.conns { // forget one at random: the set is over its bound
			delete(g.conns, old)
			break
		}
	}
	g.conns[c] = acceptedConn{key: string(key), at: time.Now()}
}

// cut closes every recorded connection from the hub with key and returns how many.
// nats-server reads an error from each and drops the gateway.
func (g *gatewayConns) cut(key ed25519.PublicKey) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for c, a := range g.conns {
		if a.key == string(key) {
			c.Close()
			delete(g.conns, c)
			n++
		}
	}
	return n
}

// prune forgets the connections whose remote address is not in live, the server's
// list, unless their handshake was less than gatewayConnGrace ago. Connections
// live in wall-clock time: add and prune read it, not the node's clock.
func (g *gatewayConns) prune(live map[string]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for c, a := range g.conns {
		if !live[c.RemoteAddr().String()] && time.Since(a.at) > gatewayConnGrace {
			delete(g.conns, c)
		}
	}
}

// gatewayState is what the running server says of its gateway connections.
type gatewayState struct {
	outbound map[string]string // remote cluster (NATS name) -> host:port dialled
	inbound  map[string]bool   // remote host:port of every inbound connection, leaf nodes' too
	from     map[string]bool   // remote clusters (NATS names) with an inbound connection
}

// gateways returns the server's gateway connections, counted from the connections
// themselves, not from its list of known gateways.
func (b *bus) gateways() (gatewayState, error) {
	st := gatewayState{outbound: map[string]string{}, inbound: map[string]bool{}, from: map[string]bool{}}
	b.mu.Lock()
	srv, gateway, leafs := b.srv, b.spec.gateway(), b.spec.leafPort != 0
	b.mu.Unlock()
	if !gateway {
		return st, nil
	}
	gz, err := srv.Gatewayz(nil)
	if err != nil {
		return st, fmt.Errorf("gateway state: %w", err)
	}
	if leafs {
		lz, err := srv.Leafz(nil)
		if err != nil {
			return st, fmt.Errorf("leaf node state: %w", err)
		}
		for _, l := range lz.Leafs {
			st.inbound[net.JoinHostPort(l.IP, strconv.Itoa(l.Port))] = true
		}
	}
	for name, r := range gz.OutboundGateways {
		if r != nil && r.Connection != nil && r.Connection.Stop == nil {
			st.outbound[name] = net.JoinHostPort(r.Connection.IP, strconv.Itoa(r.Connection.Port))
		}
	}
	for name, rs := range gz.InboundGateways {
		for _, r := range rs {
			if r != nil && r.Connection != nil && r.Connection.Stop == nil {
				st.inbound[net.JoinHostPort(r.Connection.IP, strconv.Itoa(r.Connection.Port))] = true
				st.from[name] = true
			}
		}
	}
	return st, nil
}

// cut is what a revoked hub listened on, for cutGateways: its gateway and leaf node
// listeners' host:port, "" for none.
type cut struct{ gateway, leaf string }

// cutGateways closes the gateway and leaf node connections of a revoked hub: those it
// opened to this one, recorded at their handshake, and the one this hub opened to it,
// which only a restart of the server closes. TLS refuses the hub's new handshakes
// already. It reports whether the server was restarted.
func (n *Node) cutGateways(id string, keys []ed25519.PublicKey, c cut) (bool, error) {
	if n.bus.gw == nil {
		return false, nil
	}
	for _, k := range keys {
		if c := n.bus.gw.cut(k); c > 0 {
			n.log.Info("gateway connections of revoked hub closed", "peer", id, "connections", c)
		}
	}
	if n.leafHub.Load() {
		return n.cutLeaf(id, c.leaf)
	}
	gatewayAddr := c.gateway
	if gatewayAddr == "" {
		return false, nil
	}
	st, err := n.bus.gateways()
	if err != nil {
		return false, err
	}
	for cluster, addr := range st.outbound {
		if addr == gatewayAddr {
			n.log.Warn("restarting nats: the gateway to a cluster goes through a revoked hub", "peer", id, "gateway", cluster)
			return true, n.bus.restart(n.gatewayRemotes())
		}
	}
	return false, nil
}

// largeGatewayRepair is the least Config.GatewayRepair of a directory of hundreds.
const largeGatewayRepair = 2 * time.Minute

// repairGateways restarts the server with fresh remote gateways when gossip shows
// live hubs of another cluster that this hub has had no gateway connection with, in
// either direction, for Config.GatewayRepair: it started without knowing them, and
// nats-server cannot add a gateway to a running server. An inbound connection is
// enough: nats-server dials back the cluster of every gateway that dials it, and
// tells the other servers of its cluster, over their routes, to do the same. A cluster that stays unreached after a
// restart, its gateway port blocked say, waits twice as long before the next, up to
// an hour, so a hub does not restart its server over and over.
func (n *Node) repairGateways(now time.Time) {
	if n.bus.gw == nil {
		return
	}
	if n.leafHub.Load() {
		n.repairLeaf(now)
		return
	}
	large := n.dir.large()
	// The reconcile loop runs on every event; the gateway state is read once a
	// second; in a directory of hundreds of hubs, whose reads add up, every five
	// while a cluster lacks a gateway and every fifteen while none does.
	due := n.gatewayLookDue(now, func() time.Duration {
		switch {
		case large && n.gwMissingSince.IsZero():
			return 15 * time.Second
		case large:
			return 5 * time.Second
		}
		return time.Second
	})
	if !due {
		return
	}
	st, err := n.bus.gateways()
	if err != nil {
		n.log.Error("read gateway state", "err", err)
		return
	}
	if len(st.inbound) > 0 {
		n.bus.gw.prune(st.inbound)
	}
	n.fetchThroughNewGateways(st)
	missing := ""
	for c := range n.gatewayRemotes() {
		name := n.net.NATSCluster(c)
		if _, ok := st.outbound[name]; !ok && !st.from[name] {
			missing = c
			break
		}
	}
	n.gwMu.Lock()
	defer n.gwMu.Unlock()
	if missing == "" {
		n.gwMissingSince, n.gwRepairs = time.Time{}, 0
		return
	}
	if n.gwMissingSince.IsZero() {
		n.gwMissingSince = now
		return
	}
	repair := n.cfg.GatewayRepair
	if large {
		// In a network of hundreds, a gateway handshake that failed on a busy
		// machine is retried by nats-server itself; a restart drops every route and
		// gateway of the hub, hundreds of handshakes to make again.
		repair = max(repair, largeGatewayRepair)
	}
	if now.Sub(n.gwMissingSince) < min(repair<<min(n.gwRepairs, 10), time.Hour) {
		return
	}
	n.gwMissingSince = time.Time{}
	n.gwRepairs++
	n.log.Warn("restarting nats: no gateway to a cluster that gossip shows", "cluster", missing)
	if err := n.bus.restart(n.gatewayRemotes()); err != nil {
		n.log.Error("restart nats for gateways", "err", err)
	}
	n.metrics.gatewayRestarts.Inc()
}

// gatewayLookDue reports whether the reconcile loop should look at the server's
// gateway or leaf node connections at now, and records the look when it should: the
// last look was at least every() ago. every is called with gwMu held.
func (n *Node) gatewayLookDue(now time.Time, every func() time.Duration) bool {
	n.gwMu.Lock()
	defer n.gwMu.Unlock()
	if now.Sub(n.gwChecked) < every() {
		return false
	}
	n.gwChecked = now
	return true
}

// fetchThroughNewGateways makes the profile fetches that failed from hubs of a cluster
// due at once when an outbound gateway to that cluster has come up since the last
// look: they failed for want of it, most likely, and would otherwise wait out their
// backoff.
func (n *Node) fetchThroughNewGateways(st gatewayState) {
	n.gwMu.Lock()
	up := map[string]bool{}
	for name := range st.outbound {
		if !n.gwUp[name] {
			up[name] = true
		}
	}
	n.gwUp = map[string]bool{}
	for name := range st.outbound {
		n.gwUp[name] = true
	}
	n.gwMu.Unlock()
	if len(up) == 0 {
		return
	}
	d := n.dir
	d.mu.Lock()
	due := false
	for _, p := range d.peers {
		if p.member && p.failures > 0 && up[n.net.NATSCluster(p.meta.Cluster)] {
			p.nextFetch = time.Time{}
			due = true
		}
	}
	d.mu.Unlock()
	if due {
		n.wake()
	}
}
