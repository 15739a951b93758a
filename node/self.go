package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Self returns what the node says about itself.
func (n *Node) Self() (api.SelfInfo, error) {
	s := api.SelfInfo{ID: n.id.ID, Network: n.net.Name, Cluster: n.cluster, SignKey: n.id.SignPublic(), BoxKey: n.id.BoxPub[:], Addrs: n.Addrs(), Cert: n.certInfo()}
	if c, ok := n.ClockSkew(); ok {
		s.ClockSkew = &c
	}
	p, _, err := n.store.Self()
	switch {
	case errors.Is(err, store.ErrNoProfile):
	case err != nil:
		return api.SelfInfo{}, err
	default:
		s.Profile, s.Revision = &p, p.Revision
	}
	return s, nil
}

// Profile returns the hub's own profile as stored; store.ErrNoProfile when it has
// none yet.
func (n *Node) Profile() (protocol.Profile, error) {
	p, _, err := n.store.Self()
	return p, err
}

func (n *Node) selfHub(p protocol.Profile) api.HubInfo {
	return api.HubInfo{ID: p.ID, Self: true, Reachable: true, LastSeen: n.cfg.Now(), Revision: p.Revision, Fetched: p.Updated, Profile: p}
}

// PutProfile replaces the hub's profile, bumping its revision, and announces it. An
// invalid profile returns a *protocol.ValidationError and changes nothing.
func (n *Node) PutProfile(p protocol.Profile) (protocol.Profile, error) {
	if p.ID == "" {
		p.ID = n.id.ID
	}
	p.Normalize()
	return n.putSelf(p)
}

// SetCapacity changes the capacity of one service family, named in any case or by its
// label. Places available above the family's published maximum are refused unless c
// gives a maximum as well: raising the maximum is said, never done on the side. A
// family without capacity yet gets the places available as its maximum.
func (n *Node) SetCapacity(family protocol.Family, c api.CapacityChange) (protocol.Profile, error) {
	if f, ok := protocol.FamilyVocab.Canonical(string(family)); ok {
		family = protocol.Family(f)
	} else {
		return protocol.Profile{}, &protocol.ValidationError{What: "capacity", Problems: []protocol.FieldError{{Field: "family", Rule: protocol.FamilyVocab.Rule(string(family))}}}
	}
	if c.Available == nil {
		return protocol.Profile{}, &protocol.ValidationError{What: "capacity", Problems: []protocol.FieldError{{Field: "available", Rule: "is required"}}}
	}
	return n.updateSelf(func(p *protocol.Profile) error {
		if cur, ok := p.Capacity[family]; ok && c.Maximum == nil && *c.Available > cur.Maximum {
			return &protocol.ValidationError{What: "capacity", Problems: []protocol.FieldError{{Field: "available",
				Rule: fmt.Sprintf("must be at most the published maximum, %d; give maximum as well to raise it", cur.Maximum)}}}
		}
		applyCapacity(p, family, c)
		return nil
	})
}

// applyCapacity makes change c, whose Available is set, to the capacity of family in
// p: the maximum is kept (or raised to the places available) unless c gives one, and
// the unit is kept, or "SMEs per month" for a family that had none.
func applyCapacity(p *protocol.Profile, family protocol.Family, c api.CapacityChange) {
	cur := p.Capacity[family]
	cur.Available = *c.Available
	if c.Maximum != nil {
		cur.Maximum = *c.Maximum
	} else if cur.Maximum < cur.Available {
		cur.Maximum = cur.Available
	}
	if c.Unit != "" {
		cur.Unit = c.Unit
	} else if cur.Unit == "" {
		cur.Unit = "SMEs per month"
	}
	cur.Updated = time.Time{} // the store stamps it
	if p.Capacity == nil {
		p.Capacity = map[protocol.Family]protocol.Capacity{}
	}
	p.Capacity[family] = cur
}

// publishSelf makes the stored own profile the one the node serves and gossips, and
// returns its revision (0 before the hub has a profile). Callers hold selfMu, or run
// before Start has made the node reachable, so the gossiped revision never goes back.
func (n *Node) publishSelf() (uint64, error) {
	p, env, err := n.store.Self()
	switch {
	case errors.Is(err, store.ErrNoProfile):
		return 0, n.setMeta(0)
	case err != nil:
		return 0, fmt.Errorf("load own profile: %w", err)
	}
	b, err := env.Marshal()
	if err != nil {
		return 0, fmt.Errorf("encode own profile: %w", err)
	}
	n.dir.self.Store(&b)
	n.selfCand.Store(protocol.NewCandidate(&p))
	if c := n.net.ClusterOf(p.Country); c != n.cluster {
		// The cluster is fixed for the life of the NATS server: its routes and
		// gateway name follow it.
		n.log.Warn("the profile's country belongs to another cluster: restart the hub to move it", "cluster", n.cluster, "new_cluster", c)
	}
	return p.Revision, n.setMeta(p.Revision)
}

// metaBroadcastWait bounds how long a goroutine of setMeta waits for memberlist's
// broadcast of new metadata to be done.
const metaBroadcastWait = 30 * time.Second

// setMeta publishes rev in the node's gossip metadata.
func (n *Node) setMeta(rev uint64) error {
	b, err := n.localMeta(rev)
	if err != nil {
		return err
	}
	n.delegate.meta.Store(&b)
	if ml := n.ml; ml != nil {
		// Gossip the new revision; the hint on NATS usually arrives first. memberlist
		// returns only when its broadcast is done, which in a network of hundreds
		// waits behind many others: not on the caller's time.
		// UpdateNode is not safe for concurrent use (two at once raced in
		// memberlist's state), so the goroutines take turns, and one that finds the
		// latest metadata sent already by an earlier one does nothing.
		n.metaDirty.Store(true)
		go func() {
			n.metaMu.Lock()
			defer n.metaMu.Unlock()
			if !n.metaDirty.Swap(false) {
				return
			}
			if err := ml.UpdateNode(metaBroadcastWait); err != nil {
				n.log.Debug("gossip metadata update", "err", err)
			}
		}()
	}
	return nil
}

// updateSelf changes the node's own profile in the store, then announces it.
func (n *Node) updateSelf(fn func(p *protocol.Profile) error) (protocol.Profile, error) {
	saved, err := n.store.UpdateSelf(fn)
	if err != nil {
		return protocol.Profile{}, err
	}
	return saved, n.announce()
}

// putSelf replaces the node's own profile in the store, then announces it.
func (n *Node) putSelf(p protocol.Profile) (protocol.Profile, error) {
	saved, err := n.store.PutSelf(p)
	if err != nil {
		return protocol.Profile{}, err
	}
	return saved, n.announce()
}

// announce publishes the stored own profile: new gossip metadata, and a signed hint on
// NATS so other hubs fetch it at once. Announcements are serialized and each reads
// the store, so concurrent changes end with the newest revision announced.
func (n *Node) announce() error {
	n.selfMu.Lock()
	defer n.selfMu.Unlock()
	rev, err := n.publishSelf()
	if err != nil {
		return err
	}
	hint, err := protocol.Sign(n.id, protocol.TypeProfileHint, "", protocol.ProfileHint{V: protocol.Version, ID: n.id.ID, Revision: rev}, n.cfg.Now())
	if err != nil {
		return err
	}
	b, err := hint.Marshal()
	if err != nil {
		return err
	}
	if err := n.bus.nc.Publish(protocol.SubjectProfileEvent, b); err != nil {
		n.log.Warn("publish profile hint", "err", err)
	}
	return nil
}
