package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// HubInfo is one hub of the directory as the API shows it.
type HubInfo struct {
	ID        string           `json:"id"`
	Self      bool             `json:"self,omitempty"`
	Reachable bool             `json:"reachable"`
	LastSeen  time.Time        `json:"last_seen,omitzero"`
	Revision  uint64           `json:"revision"`
	Fetched   time.Time        `json:"fetched,omitzero"`
	Profile   protocol.Profile `json:"profile"`
}

// PeerInfo is one member of the gossip network as the API shows it.
type PeerInfo struct {
	ID        string    `json:"id"`
	Self      bool      `json:"self,omitempty"`
	State     string    `json:"state"` // alive, left (said goodbye), failed or revoked
	Gossip    string    `json:"gossip,omitempty"`
	Route     string    `json:"route,omitempty"`
	Cluster   string    `json:"cluster,omitempty"` // its cluster of the region map; none without one
	Gateway   string    `json:"gateway,omitempty"` // host:port of its NATS gateway, in a network with clusters
	Revision  uint64    `json:"revision"`          // gossiped profile revision
	Cached    uint64    `json:"cached_revision"`   // revision in this hub's directory
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Reachable bool      `json:"reachable"`
}

// Current reports whether the directory holds the hub's current profile: always for
// the hub itself; for another, once it holds the revision the hub gossips (never
// while the hub gossips none).
func (p PeerInfo) Current() bool {
	return p.Self || (p.Revision > 0 && p.Cached >= p.Revision)
}

// SelfInfo describes the node itself.
type SelfInfo struct {
	ID       string            `json:"id"`
	Network  string            `json:"network"`
	Cluster  string            `json:"cluster,omitempty"` // of the region map, fixed at start; none without one
	SignKey  []byte            `json:"sign_key"`
	BoxKey   []byte            `json:"box_key"`
	Addrs    Addrs             `json:"addrs"`
	Revision uint64            `json:"revision"`
	Profile  *protocol.Profile `json:"profile,omitempty"`
	Cert     CertInfo          `json:"certificate"`
	// ClockSkew is how far the hub's clock is from its peers'; absent until a peer's
	// message came.
	ClockSkew *ClockSkew `json:"clock_skew,omitempty"`
}

// ClockSkew is how far a hub's clock is from its peers', estimated from the times in
// the messages they signed in the last hour.
type ClockSkew struct {
	// OffsetMS is the median over the peers of this hub's clock minus the peer's, in
	// milliseconds: positive when this hub's clock is ahead.
	OffsetMS int64 `json:"offset_ms"`
	Peers    int   `json:"peers"`  // the peers the estimate is from
	Skewed   bool  `json:"skewed"` // the offset is past the node's threshold (1 minute by default)
	// Message, when Skewed, says what is wrong and what to do, for the operator.
	Message string `json:"message,omitempty"`
}

// Addrs are the addresses a started node is bound to.
type Addrs struct {
	HTTP    string `json:"http"`
	Gossip  string `json:"gossip"`
	Cluster string `json:"cluster"`           // the NATS route listener, as other hubs reach it
	Gateway string `json:"gateway,omitempty"` // the NATS gateway listener, in a network with clusters
	Client  string `json:"client"`
}

// CapacityChange is the body of PUT /v1/self/capacity/{family}: the places available
// now and, optionally, a new maximum.
type CapacityChange struct {
	Available *int   `json:"available"`
	Maximum   *int   `json:"maximum,omitempty"`
	Unit      string `json:"unit,omitempty"`
}

// Health is the answer of GET /healthz once the node is ready; before, the node
// answers 503 with code [CodeStarting].
type Health struct {
	ID     string `json:"id"`
	Peers  int    `json:"peers"` // other members of the gossip network
	Status string `json:"status"`
}

// Health asks whether the node is up: GET /healthz.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	return h, c.get(ctx, "/healthz", nil, false, &h)
}

// Self returns what the node says about itself: GET /v1/self.
func (c *Client) Self(ctx context.Context) (SelfInfo, error) {
	var s SelfInfo
	return s, c.get(ctx, "/v1/self", nil, false, &s)
}

// Peers returns the node and every other hub it has heard of, by ID: GET /v1/peers.
func (c *Client) Peers(ctx context.Context) ([]PeerInfo, error) {
	var p []PeerInfo
	return p, c.get(ctx, "/v1/peers", nil, false, &p)
}

// Hubs returns the node's directory, itself included, by ID: GET /v1/hubs.
func (c *Client) Hubs(ctx context.Context) ([]HubInfo, error) {
	var h []HubInfo
	return h, c.get(ctx, "/v1/hubs", nil, false, &h)
}

// Hub returns hub id of the node's directory: GET /v1/hubs/{id}. A hub it does not
// know is an [*Error] with status 404 that matches [protocol.ErrNotFound].
func (c *Client) Hub(ctx context.Context, id string) (HubInfo, error) {
	var h HubInfo
	return h, c.get(ctx, "/v1/hubs/"+url.PathEscape(id), nil, false, &h)
}

// PutProfile replaces the hub's profile and returns it as saved, with its new
// revision: PUT /v1/self/profile. An empty ID is the hub's own.
func (c *Client) PutProfile(ctx context.Context, p protocol.Profile) (protocol.Profile, error) {
	var saved protocol.Profile
	return saved, c.send(ctx, http.MethodPut, "/v1/self/profile", p, &saved)
}

// SetCapacity changes the capacity of one service family and returns the profile as
// saved: PUT /v1/self/capacity/{family}.
func (c *Client) SetCapacity(ctx context.Context, family protocol.Family, ch CapacityChange) (protocol.Profile, error) {
	var saved protocol.Profile
	return saved, c.send(ctx, http.MethodPut, "/v1/self/capacity/"+url.PathEscape(string(family)), ch, &saved)
}
