package node

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/hubnet-eu/hubnet/protocol"
)

// memberlistConfig builds memberlist's configuration for the node: the network's gossip
// key and label, the timers of the chosen preset, and the node's delegates.
func (n *Node) memberlistConfig() *memberlist.Config {
	var c *memberlist.Config
	switch n.cfg.Gossip {
	case "wan":
		c = memberlist.DefaultWANConfig()
	case "local":
		// The LAN preset with faster failure detection, for many hubs on one machine.
		// (memberlist's own local preset missed alive broadcasts for many seconds.)
		c = memberlist.DefaultLANConfig()
		c.ProbeInterval = 300 * time.Millisecond
		c.ProbeTimeout = 250 * time.Millisecond
		c.GossipInterval = 50 * time.Millisecond
		c.PushPullInterval = 5 * time.Second
		c.GossipToTheDeadTime = 5 * time.Second
		c.RetransmitMult = 6
	case "lan":
		if n.net.Clustered() {
			c = largeNetworkConfig()
			break
		}
		fallthrough
	default:
		c = memberlist.DefaultLANConfig()
		// A probe every 750ms instead of 1s and a suspicion multiplier of three
		// instead of four: a dead hub is declared within about 5s at 25 hubs.
		c.ProbeInterval = 750 * time.Millisecond
		c.SuspicionMult = 3
		// Twice as often as the preset: a new hub is known to 25 others within
		// about half a second, at a few hundred bytes a second per hub.
		c.GossipInterval = 100 * time.Millisecond
		// A join is retransmitted 4·log10(n) times by each hub that hears it; with 10
		// hubs that leaves about one start in ten where some hub misses a newcomer
		// until the next push/pull. Six, and a push/pull every 10s, make that rare and
		// short.
		c.RetransmitMult = 6
		c.PushPullInterval = 10 * time.Second
	}
	c.Name = n.id.ID
	c.BindAddr, c.BindPort, _ = splitHostPort(n.cfg.GossipAddr)
	if a := n.cfg.GossipAdvertise; a != "" {
		// Port 0 advertises the bound port (gossipTransport.FinalAdvertiseAddr).
		c.AdvertiseAddr, c.AdvertisePort, _ = splitHostPort(a)
	}
	c.Keyring = n.keyring
	c.Label = n.net.GossipLabel()
	c.DeadNodeReclaimTime = n.cfg.DeadReclaim
	c.Delegate = n.delegate
	c.Events = eventDelegate{n}
	c.Alive = aliveDelegate{n}
	c.Logger = memberlistLogger(n.log.With("part", "memberlist"), n.refusals, func(reason string) {
		n.metrics.dropped.WithLabelValues(reason).Inc()
	}, &n.closing)
	return c
}

// createMemberlist starts the node's memberlist on its own transport, bound to the
// gossip address.
func (n *Node) createMemberlist() (*memberlist.Memberlist, error) {
	c := n.memberlistConfig()
	tr, err := newGossipTransport(c.BindAddr, c.BindPort, n.log.With("part", "memberlist"))
	if err != nil {
		return nil, err
	}
	c.Transport = tr
	n.gossipTr = tr
	// memberlist reads BindPort as the port of members that gossip none, and of a Join
	// address without one; with its own transport it set the bound port there.
	c.BindPort = tr.Port()
	ml, err := memberlist.Create(c)
	if err != nil {
		// memberlist does not shut the transport down when it refuses the advertise
		// address.
		tr.Shutdown()
		return nil, fmt.Errorf("start memberlist: %w", err)
	}
	// Read once, now, before any metadata update: memberlist changes its local node
	// then, from another goroutine (setMeta).
	ln := ml.LocalNode()
	n.gossipAddr = hostPort(ln.Addr.String(), int(ln.Port))
	return ml, nil
}

// largeNetworkConfig is the "lan" preset for a network with a region map: several
// hundred hubs spread over Europe, in one memberlist pool. Each hub's load is set by
// the timers, not by the network's size, except push/pull, whose state grows with it
// (every member's metadata, about 550 bytes each: 250 KB at 457 hubs).
//
// memberlist's LAN timers, with the choices of the small-network preset undone:
//   - a probe every 3 s, timing out after 2 s, which the round trip across Europe
//     (under 100 ms) and a busy hub leave room for (with a probe a second timing out
//     after 500 ms, 250 hubs starting on two cores suspected each other thousands of
//     times; with a probe every 2 s timing out after 1 s, 457 hubs still refuted
//     about 500 suspicions a minute while they started, each suspicion and its
//     refutation a broadcast to every hub, which was most of their gossip); the
//     suspicion multiplier of 4 makes a dead hub's timeout 4·log10(n) probe
//     intervals: about 32 s at 457 hubs;
//   - gossip every 200 ms to 4 members instead of 3: a join or profile revision
//     reaches every hub in about log4(n) rounds, a second at 457. Every 400 ms, 50
//     hubs took 10 to 74 s after the last start to complete their directories in
//     three runs, against 4 to 5 s in two at 200 ms; memberlist picks the members of
//     each round by walking its list of all, 3% of the CPU of 457 idle hubs;
//   - each hub retransmits a broadcast 4·log10(n+1) times (12 at 457), not 6·;
//   - a full push/pull every 30 s, which memberlist stretches past 32 members by
//     log2(n/32)+1 (to about 2.4 minutes at 457): it repairs what gossip missed, a
//     join now and then among hundreds. It costs a tenth of the CPU of 457 idle hubs
//     (each exchange encodes and decodes every member, 270 KB each way); every 60 s,
//     457 hubs started one after another were once incomplete 3 minutes after the
//     last start, a hub still not knowing two of the last to join.
func largeNetworkConfig() *memberlist.Config {
	c := memberlist.DefaultLANConfig()
	c.ProbeInterval = 3 * time.Second
	c.ProbeTimeout = 2 * time.Second
	c.SuspicionMult = 4
	c.GossipInterval = 200 * time.Millisecond
	c.GossipNodes = 4
	c.RetransmitMult = 4
	c.PushPullInterval = 30 * time.Second
	// memberlist compresses each message with a fresh LZW writer, whose tables are
	// allocated anew: at 100 hubs on two cores that was an eighth of the CPU and much
	// of the garbage. Messages here are small; a hub still reads compressed ones.
	c.EnableCompression = false
	return c
}

// delegate gives memberlist the node's metadata and carries the steward's revocations:
// broadcast when new, and every one in each push/pull, so a hub that was away learns
// them too. Everything else travels over NATS.
type delegate struct {
	meta  atomic.Pointer[[]byte] // encoded protocol.Meta, replaced on every profile change
	trust *trust
}

func (d *delegate) NodeMeta(limit int) []byte {
	if m := d.meta.Load(); m != nil && len(*m) <= limit {
		return *m
	}
	return nil
}

// NotifyMsg gets a user message; memberlist reuses msg, so it is copied.
func (d *delegate) NotifyMsg(msg []byte) { d.trust.onGossip(bytes.Clone(msg)) }
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.trust.queue.GetBroadcasts(overhead, limit)
}
func (d *delegate) LocalState(join bool) []byte { return d.trust.localState() }
func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	d.trust.mergeState(bytes.Clone(buf))
}

// eventDelegate passes membership changes to the directory. memberlist's Members()
// hands out nodes it keeps changing, so events are the node's only view of members.
type eventDelegate struct{ n *Node }

func (e eventDelegate) NotifyJoin(m *memberlist.Node)   { e.n.dir.observe(m, true) }
func (e eventDelegate) NotifyLeave(m *memberlist.Node)  { e.n.dir.observe(m, false) }
func (e eventDelegate) NotifyUpdate(m *memberlist.Node) { e.n.dir.observe(m, true) }

// aliveDelegate refuses a member whose metadata is not valid hubnet metadata for the
// name it claims, or whose certificate is not valid for this network: missing,
// expired, not signed by the steward for this network, ID and keys, or revoked.
type aliveDelegate struct{ n *Node }

// aliveChecked is what passed NotifyAlive's checks for one member: the digests of up
// to aliveKept of its metadata, newest first, each with until when that answer
// stands. memberlist calls NotifyAlive for every alive message, under its lock of all
// members, stale ones included: with several hundred members the same few metadata
// come again and again, and one remembered would be checked anew each time an older
// message came between two newer ones. Digests, not the metadata, so that every hub
// of a process holding several hundred does not keep another copy of everyone's. A
// revocation forgets the member's entry (directory.revoke).
type aliveChecked [aliveKept]struct {
	sum   [sha256.Size]byte
	until time.Time
}

// aliveKept is how many verified metadata of one member NotifyAlive remembers.
const aliveKept = 3

// aliveCheckedFor is how long a check of unchanged metadata stands, at most until its
// certificate ends: it is checked in full again after it, even when no revocation
// came. Every push/pull brings every member's alive message again; at a minute, 457
// idle hubs spent 4% of their CPU checking again what had not changed.
const aliveCheckedFor = 10 * time.Minute

func (a aliveDelegate) NotifyAlive(peer *memberlist.Node) error {
	if peer.Name == a.n.id.ID {
		return nil
	}
	now := a.n.cfg.Now()
	sum := sha256.Sum256(peer.Meta)
	var c aliveChecked
	if v, ok := a.n.alive.Load(peer.Name); ok {
		c = v.(aliveChecked)
		for _, e := range c {
			if e.sum == sum && now.Before(e.until) {
				return nil
			}
		}
	}
	m, err := protocol.DecodeMeta(peer.Meta)
	if err != nil {
		a.n.drop(peer.Name, "bad-meta", err)
		return fmt.Errorf("member %s: %w", peer.Name, err)
	}
	if m.ID != peer.Name {
		err := fmt.Errorf("member %s gossips metadata of %s", peer.Name, m.ID)
		a.n.drop(peer.Name, "bad-meta", err)
		return err
	}
	if err := a.n.trust.check(m.ID, m.Cert, now); err != nil {
		a.n.alive.Delete(peer.Name)
		a.n.drop(peer.Name, certReason(err), err)
		return fmt.Errorf("member %s: %w", peer.Name, err)
	}
	until := now.Add(aliveCheckedFor)
	if end := time.Unix(m.Cert.NotAfter, 0); end.Before(until) {
		until = end
	}
	kept := aliveChecked{{sum: sum, until: until}}
	k := 1
	for _, e := range c {
		if k < aliveKept && e.sum != sum && now.Before(e.until) {
			kept[k] = e
			k++
		}
	}
	a.n.alive.Store(peer.Name, kept)
	return nil
}

// localMeta encodes the node's metadata for the profile revision rev.
func (n *Node) localMeta(rev uint64) ([]byte, error) {
	m := protocol.Meta{
		V:        protocol.Version,
		ID:       n.id.ID,
		Route:    n.routeAddr,
		Revision: rev,
		Cert:     protocol.Cert{SignKey: n.id.SignPublic(), BoxKey: n.id.BoxPub[:]},
	}
	if n.onMesh.Load() {
		// Not before: the other hubs would dial the route and gateway before the NATS
		// server listens, and a hub of no cluster is routed to by none (Start).
		m.Cluster = n.cluster
		if !n.leafHub.Load() {
			m.Gateway = n.gatewayPort
			if n.net.GatewayHubs > 0 {
				m.Leaf = n.leafPort
			}
		}
	}
	if c := n.cert.Load(); c.Sig != nil {
		m.Cert = c.Gossip()
	}
	return m.Encode()
}
