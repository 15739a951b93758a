package node

import (
	"errors"
	"fmt"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/store"
)

// Peers returns the node itself and every other hub it has heard of, sorted by ID.
func (n *Node) Peers() []api.PeerInfo {
	self := api.PeerInfo{ID: n.id.ID, Self: true, State: "alive", Gossip: n.GossipAddr(), Route: n.routeAddr,
		Cluster: n.cluster, Gateway: n.gatewayAddr(), Reachable: true, LastSeen: n.cfg.Now()}
	if p, _, err := n.store.Self(); err == nil {
		self.Revision, self.Cached = p.Revision, p.Revision
	}
	out := []api.PeerInfo{self}
	for _, p := range n.dir.snapshot() {
		state := "failed"
		switch {
		case p.Revoked:
			state = "revoked"
		case p.Reachable:
			state = "alive"
		case p.Left:
			state = "left"
		}
		out = append(out, api.PeerInfo{ID: p.ID, State: state, Gossip: p.Gossip, Route: p.Route, Cluster: p.Cluster, Gateway: p.Gateway, Revision: p.Revision,
			Cached: p.Cached, LastSeen: p.LastSeen, Reachable: p.Reachable})
	}
	sortBy(out, func(p api.PeerInfo) string { return p.ID })
	return out
}

// Hubs returns the directory: every hub with a profile, this one included, by ID.
func (n *Node) Hubs() ([]api.HubInfo, error) {
	hubs, err := n.store.Hubs()
	if err != nil {
		return nil, err
	}
	out := make([]api.HubInfo, 0, len(hubs)+1)
	for _, h := range hubs {
		out = append(out, n.hubInfo(h))
	}
	if p, _, err := n.store.Self(); err == nil {
		out = append(out, n.selfHub(p))
	}
	sortBy(out, func(h api.HubInfo) string { return h.ID })
	return out, nil
}

// HubName returns the name of hub id as the search index holds it, "" when the index
// has no such hub or its profile has no name. The index holds the other hubs only.
func (n *Node) HubName(id string) string {
	if cand, ok := n.index.get(id); ok {
		return cand.Profile.Name
	}
	return ""
}

// Hub returns one hub of the directory; store.ErrNotFound if it has none.
func (n *Node) Hub(id string) (api.HubInfo, error) {
	if id == n.id.ID {
		p, _, err := n.store.Self()
		if errors.Is(err, store.ErrNoProfile) {
			return api.HubInfo{}, fmt.Errorf("hub %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return api.HubInfo{}, err
		}
		return n.selfHub(p), nil
	}
	h, err := n.store.Hub(id)
	if err != nil {
		return api.HubInfo{}, fmt.Errorf("hub %s: %w", id, err)
	}
	return n.hubInfo(h), nil
}

func (n *Node) hubInfo(h store.Hub) api.HubInfo {
	hi := api.HubInfo{ID: h.Profile.ID, Reachable: false, LastSeen: h.LastSeen, Revision: h.Profile.Revision, Fetched: h.Fetched, Profile: h.Profile}
	if p, ok := n.dir.peer(h.Profile.ID); ok {
		hi.Reachable = p.Reachable
		if p.LastSeen.After(hi.LastSeen) {
			hi.LastSeen = p.LastSeen
		}
	}
	return hi
}
