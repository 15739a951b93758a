package api

import (
	"context"
	"net/http"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// CertInfo says whether the hub's own certificate lets it into the network.
type CertInfo struct {
	Installed bool      `json:"installed"`
	Issued    time.Time `json:"issued,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	Valid     bool      `json:"valid"`
	Problem   string    `json:"problem,omitempty"` // why the other hubs refuse it
}

// InstallResult is what installing a certificate in the data directory of a stopped
// hub did.
type InstallResult struct {
	ID       string    `json:"id"`
	NotAfter time.Time `json:"not_after"`
	Rotated  bool      `json:"rotated"` // the hub now uses the keys a key rotation made
}

// NextKeys are the public keys a key rotation made, for the steward to certify.
type NextKeys struct {
	ID      string `json:"id"`
	Network string `json:"network"`
	SignKey []byte `json:"sign_key"`
	BoxKey  []byte `json:"box_key"`
}

// RevokeResult is the answer of POST /v1/revocations.
type RevokeResult struct {
	ID  string `json:"id"`  // the hub revoked
	New bool   `json:"new"` // the revocation was new to this hub
}

// GossipKeyInfo describes the gossip keyring without showing the keys.
type GossipKeyInfo struct {
	Primary string   `json:"primary"` // fingerprint of the key gossip is encrypted with
	Keys    []string `json:"keys"`    // fingerprints of every key accepted
}

// GossipKey is the gossip key a hub encrypts with: GET /v1/gossip-keys/current. A
// hub admitted after the key was rolled is given it by hand.
type GossipKey struct {
	Key         []byte `json:"key"`         // 32 bytes, base64 in JSON
	Fingerprint string `json:"fingerprint"` // as GossipKeyInfo names it
}

// GossipKeyChange is the body of POST /v1/gossip-keys.
type GossipKeyChange struct {
	Op  string `json:"op"`  // install, use or remove
	Key []byte `json:"key"` // 32 bytes, base64 in JSON
}

// Certificate says whether the hub's own certificate lets it into the network: GET
// /v1/certificate.
func (c *Client) Certificate(ctx context.Context) (CertInfo, error) {
	var ci CertInfo
	return ci, c.get(ctx, "/v1/certificate", nil, false, &ci)
}

// InstallCertificate installs a renewed certificate for the keys the running hub
// uses: PUT /v1/certificate. A certificate for other keys is an [*Error] with status
// 409 and code [CodeNotAllowed]; a bad one has code [CodeBadCertificate].
func (c *Client) InstallCertificate(ctx context.Context, cert protocol.Certificate) (CertInfo, error) {
	var ci CertInfo
	return ci, c.send(ctx, http.MethodPut, "/v1/certificate", cert, &ci)
}

// Revocations returns the revocations the hub knows, by ID: GET /v1/revocations.
func (c *Client) Revocations(ctx context.Context) ([]protocol.Revocation, error) {
	var revs []protocol.Revocation
	return revs, c.get(ctx, "/v1/revocations", nil, false, &revs)
}

// Revoke hands the hub a revocation signed by the steward, which it applies and
// gossips to every hub: POST /v1/revocations.
func (c *Client) Revoke(ctx context.Context, r protocol.Revocation) (RevokeResult, error) {
	var res RevokeResult
	return res, c.send(ctx, http.MethodPost, "/v1/revocations", r, &res)
}

// GossipKeys describes the hub's gossip keyring: GET /v1/gossip-keys.
func (c *Client) GossipKeys(ctx context.Context) (GossipKeyInfo, error) {
	var info GossipKeyInfo
	return info, c.get(ctx, "/v1/gossip-keys", nil, true, &info)
}

// CurrentGossipKey returns the gossip key the hub encrypts with: GET
// /v1/gossip-keys/current.
func (c *Client) CurrentGossipKey(ctx context.Context) (GossipKey, error) {
	var k GossipKey
	return k, c.get(ctx, "/v1/gossip-keys/current", nil, true, &k)
}

// ChangeGossipKeys installs, uses or removes a gossip key and returns the keyring
// after: POST /v1/gossip-keys.
func (c *Client) ChangeGossipKeys(ctx context.Context, ch GossipKeyChange) (GossipKeyInfo, error) {
	var info GossipKeyInfo
	return info, c.send(ctx, http.MethodPost, "/v1/gossip-keys", ch, &info)
}
