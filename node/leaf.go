package node

import (
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// This file holds the leaf hubs of a network with gateway hubs
// (protocol.Network.GatewayHubs): in each cluster a few hubs carry its routes and
// gateways, and the others join one of them as NATS leaf nodes. A leaf hub's server
// has one connection, so the NATS supercluster is the gateway hubs alone.

// maxLeafRemotes bounds the gateway hubs a leaf hub's server is given to connect to:
// the one it reaches tells it of the others.
const maxLeafRemotes = 8

// chooseRole decides, once gossip shows the network at Start, whether the hub is a
// gateway hub or a leaf hub of its cluster: a leaf hub when the network has gateway
// hubs and gossip shows as many of its cluster alive. Hubs that start at the same
// moment may all see too few and all become gateway hubs; a cluster has at least
// Network.GatewayHubs then, which costs a few routes more, never a lost hub.
func (n *Node) chooseRole() {
	k := n.net.GatewayHubs
	if k == 0 {
		return
	}
	hubs := len(n.leafRemotes(""))
	n.leafHub.Store(hubs >= min(k, maxLeafRemotes))
	if n.leafHub.Load() {
		n.log.Info("leaf hub of the cluster", "cluster", n.cluster, "gateway_hubs", hubs)
	}
}

// leafRemotes returns the leaf node listeners (host:port) of the live gateway hubs of
// the hub's cluster that gossip shows, in random order, at most maxLeafRemotes, but
// not except.
func (n *Node) leafRemotes(except string) []string {
	var out []string
	n.dir.eachMember(func(p *peer) {
		if a := p.meta.LeafAddr(); a != "" && a != except && p.meta.Cluster == n.cluster {
			out = append(out, a)
		}
	})
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(len(out), maxLeafRemotes)]
}

// firstLeaf reports whether the hub has the lowest ID of the live leaf hubs of its
// cluster that gossip shows: the one that becomes a gateway hub when the cluster has
// too few.
func (n *Node) firstLeaf() bool {
	first := true
	n.dir.eachMember(func(p *peer) {
		first = first && !(p.meta.Cluster == n.cluster && p.meta.Gateway == 0 && p.meta.ID < n.id.ID)
	})
	return first
}

// repairLeaf keeps a leaf hub joined to its cluster, on the reconcile loop:
//
//   - when gossip has shown fewer live gateway hubs of the cluster than the network
//     wants for Config.GatewayRepair, the leaf hub with the lowest ID becomes one, so
//     that a cluster whose gateway hubs went away is not cut off for good;
//   - when its server has had no leaf node connection for as long while gossip shows
//     gateway hubs, or for a moment while gossip shows one it was not given, it
//     restarts its server with them: those it was given may all be gone, and
//     nats-server only learns of others through a connection.
func (n *Node) repairLeaf(now time.Time) {
	large := n.dir.large()
	every := time.Second
	if large {
		every = 5 * time.Second
	}
	if !n.gatewayLookDue(now, func() time.Duration { return every }) {
		return
	}
	hubs := n.leafRemotes("")
	connected := n.bus.server().NumLeafNodes() > 0
	few := len(hubs) < min(n.net.GatewayHubs, maxLeafRemotes) && n.firstLeaf()
	down := !connected && len(hubs) > 0
	repair := n.cfg.GatewayRepair
	if large {
		repair = max(repair, largeGatewayRepair)
	}
	// Without a connection, a gateway hub that the server was not given is dialled
	// after two looks: nats-server would not learn of it.
	wait := repair
	if down && !n.bus.knowsLeafRemotes(hubs) {
		wait = every
	}
	n.gwMu.Lock()
	promote := since(&n.fewSince, few, now) >= repair
	reconnect := since(&n.gwMissingSince, down, now) >= wait
	if promote || reconnect {
		n.fewSince, n.gwMissingSince = time.Time{}, time.Time{}
	}
	n.gwMu.Unlock()
	switch {
	case promote:
		n.log.Warn("becoming a gateway hub: gossip shows too few in the cluster", "cluster", n.cluster, "gateway_hubs", len(hubs), "want", n.net.GatewayHubs)
		if err := n.becomeGatewayHub(); err != nil {
			n.log.Error("become a gateway hub", "err", err)
		}
	case reconnect:
		n.log.Warn("restarting nats: no leaf node connection to a gateway hub of the cluster", "gateway_hubs", len(hubs))
		if err := n.bus.restartAs(func(s *busSpec) { s.leafRemotes = hubs }); err != nil {
			n.log.Error("restart nats for the leaf node connection", "err", err)
		}
	default:
		return
	}
	n.metrics.gatewayRestarts.Inc()
}

// since returns for how long cond has held, as *start records it: start is set when
// cond begins to hold and cleared when it stops. 0 while cond does not hold.
func since(start *time.Time, cond bool, now time.Time) time.Duration {
	switch {
	case !cond:
		*start = time.Time{}
		return 0
	case start.IsZero():
		*start = now
	}
	return now.Sub(*start)
}

// becomeGatewayHub turns a leaf hub into a gateway hub of its cluster: its server is
// restarted with routes, a gateway and a leaf node listener on the ports held since
// Start, and the hub gossips them, so the other gateway hubs route to it and the
// leaf hubs may join it.
func (n *Node) becomeGatewayHub() error {
	remotes := n.gatewayRemotes()
	n.leafHub.Store(false)
	n.release()
	err := n.bus.restartAs(func(s *busSpec) {
		s.leaf, s.leafRemotes, s.remotes = false, nil, remotes
		s.gatewayAdv = n.gatewayAddr()
	})
	if err != nil {
		return err
	}
	n.selfMu.Lock()
	defer n.selfMu.Unlock()
	_, err = n.publishSelf()
	return err
}

// cutLeaf restarts a leaf hub's server with the other gateway hubs of its cluster
// when its leaf node connection goes to leaf, the listener of a revoked hub: only a
// restart closes it. It reports whether the server was restarted.
func (n *Node) cutLeaf(id, leaf string) (bool, error) {
	if leaf == "" {
		return false, nil
	}
	lz, err := n.bus.server().Leafz(nil)
	if err != nil {
		return false, err
	}
	if !slices.ContainsFunc(lz.Leafs, func(l *server.LeafInfo) bool { return net.JoinHostPort(l.IP, strconv.Itoa(l.Port)) == leaf }) {
		return false, nil
	}
	n.log.Warn("restarting nats: the leaf node connection goes to a revoked hub", "peer", id)
	return true, n.bus.restartAs(func(s *busSpec) { s.leafRemotes = n.leafRemotes(leaf) })
}

// knowsLeafRemotes reports whether the server was given every one of hubs as a
// gateway hub to connect to.
func (b *bus) knowsLeafRemotes(hubs []string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range hubs {
		if !slices.Contains(b.spec.leafRemotes, h) {
			return false
		}
	}
	return true
}
