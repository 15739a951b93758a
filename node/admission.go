package node

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// ErrNotAllowed is returned for a change the node refuses in its current state, such
// as installing a certificate for keys it does not use yet while it runs.
var ErrNotAllowed = errors.New("node: not allowed now")

// certInfo checks the hub's own certificate as the other hubs do.
func (n *Node) certInfo() api.CertInfo {
	if len(n.net.AdmissionKeys) == 0 {
		return api.CertInfo{Problem: "this data directory's network predates admission: stop the hub and give it the steward's network.json and a certificate with 'hubnet network install-cert --network network.json -d DIR CERT'"}
	}
	c := n.cert.Load()
	if c.Sig == nil {
		return api.CertInfo{Problem: "no certificate: the other hubs refuse this hub until the steward admits it (see 'hubnet init' output)"}
	}
	ci := api.CertInfo{Installed: true, Issued: time.Unix(c.Issued, 0).UTC(), NotAfter: c.Expires()}
	err := c.Verify(n.net, n.cfg.Now())
	if err == nil && !bytes.Equal(c.SignKey, n.id.SignPublic()) {
		err = fmt.Errorf("certificate is for other keys than this hub's: %w", protocol.ErrCertInvalid)
	}
	if err == nil {
		if r, ok := n.trust.revocation(n.id.ID); ok && r.Covers(c) {
			err = fmt.Errorf("revoked %s: %w", time.Unix(r.At, 0).UTC().Format(time.RFC3339), protocol.ErrRevoked)
		}
	}
	if err != nil {
		ci.Problem = err.Error()
	}
	ci.Valid = err == nil
	return ci
}

// checkOwnCert logs what is wrong with the hub's own certificate. The node runs on
// without a valid one: its operator can still read its referrals and directory, but
// the other hubs refuse it.
func (n *Node) checkOwnCert() {
	ci := n.certInfo()
	switch {
	case !ci.Valid:
		n.log.Error("the other hubs will refuse this hub", "problem", ci.Problem)
	case ci.NotAfter.Sub(n.cfg.Now()) < 30*24*time.Hour:
		n.log.Warn("certificate expires soon: ask the steward for a new one", "not_after", ci.NotAfter)
	}
}

// routeCheck is the bus's test of the other end of a route or gateway: the key of its
// TLS certificate and the admission certificate that carries, nil if none.
func (n *Node) routeCheck(key ed25519.PublicKey, presented *protocol.Certificate) error {
	if key == nil {
		n.drop("", "route-no-cert", errRouteNoCert)
		return errRouteNoCert
	}
	if _, err := n.trust.member(key, presented); err != nil {
		reason := "route-refused"
		if errors.Is(err, protocol.ErrRevoked) {
			reason = "route-revoked"
		}
		n.drop("", reason, err)
		return err
	}
	return nil
}

// InstallCertificate installs c on the running node: a renewed certificate for the
// keys it uses. It must verify for this network and hub; the new dates are gossiped at
// once. A certificate for the keys made by RotateKeys needs the node stopped: see the
// package function InstallCertificate.
func (n *Node) InstallCertificate(c protocol.Certificate) (api.CertInfo, error) {
	if err := c.Validate(); err != nil {
		return api.CertInfo{}, err
	}
	if c.ID != n.id.ID {
		return api.CertInfo{}, certFieldError("id", "must be this hub's ID "+n.id.ID)
	}
	if err := c.Verify(n.net, n.cfg.Now()); err != nil {
		return api.CertInfo{}, err
	}
	if !bytes.Equal(c.SignKey, n.id.SignPublic()) || !bytes.Equal(c.BoxKey, n.id.BoxPub[:]) {
		return api.CertInfo{}, fmt.Errorf("certificate for other keys than the ones this hub runs with (new keys from 'hubnet network rotate-keys'?): stop the hub and install it with 'hubnet network install-cert -d DIR': %w", ErrNotAllowed)
	}
	if _, err := n.store.PutCertificate(c); err != nil {
		return api.CertInfo{}, err
	}
	n.cert.Store(&c)
	n.selfMu.Lock()
	_, err := n.publishSelf()
	n.selfMu.Unlock()
	return n.certInfo(), err
}

// Revoke takes in a revocation signed by the steward: it is stored, gossiped to every
// hub and applied here at once. It reports whether it was new to this hub.
func (n *Node) Revoke(r protocol.Revocation) (bool, error) {
	added, err := n.trust.revoke(r)
	if added && err == nil && r.ID != n.id.ID {
		// The hub the steward hands a revocation to locks the revoked one out of the
		// gossip too (keyroll.go).
		n.rollAfter(r)
	}
	return added, err
}

// Revocations returns the revocations this hub knows.
func (n *Node) Revocations() []protocol.Revocation {
	revs := n.trust.revocations()
	sortBy(revs, func(r protocol.Revocation) string { return r.ID })
	return revs
}

func certFieldError(field, rule string) error {
	return &protocol.ValidationError{What: "certificate", Problems: []protocol.FieldError{{Field: field, Rule: rule}}}
}

// InstallCertificate installs c in the data directory dir of a stopped hub. With net
// not nil it first replaces the stored network by net, which must have the same name:
// how a hub gets a new admission key of its steward. The certificate must verify for
// the network and be for the hub's keys or for the keys RotateKeys made, which then
// become the hub's keys.
func InstallCertificate(dir string, c protocol.Certificate, net *protocol.Network) (api.InstallResult, error) {
	if err := c.Validate(); err != nil {
		return api.InstallResult{}, err
	}
	s, err := store.Open(filepath.Join(dir, StoreFile), nil)
	if err != nil {
		return api.InstallResult{}, err
	}
	defer s.Close()
	return installCert(s, c, net)
}

// installCert is InstallCertificate on an open store.
func installCert(s *store.Store, c protocol.Certificate, net *protocol.Network) (api.InstallResult, error) {
	if net != nil {
		if err := s.SetNetwork(*net); err != nil {
			return api.InstallResult{}, err
		}
	}
	netw, err := s.Network()
	if err != nil {
		return api.InstallResult{}, err
	}
	if err := c.Verify(netw, time.Now()); err != nil {
		return api.InstallResult{}, err
	}
	rotated, err := s.PutCertificate(c)
	if errors.Is(err, store.ErrKeysMismatch) {
		return api.InstallResult{}, fmt.Errorf("%w: %w", err, ErrNotAllowed)
	}
	if err != nil {
		return api.InstallResult{}, err
	}
	return api.InstallResult{ID: c.ID, NotAfter: c.Expires(), Rotated: rotated}, nil
}

// Admit issues and installs the certificate of the hub in dir with the steward's
// admission key, valid for valid: for a steward who runs the hub too, and for tests.
func Admit(dir string, adm protocol.AdmissionKey, valid time.Duration) (protocol.Certificate, error) {
	s, err := store.Open(filepath.Join(dir, StoreFile), nil)
	if err != nil {
		return protocol.Certificate{}, err
	}
	defer s.Close()
	id, err := s.Identity()
	if err != nil {
		return protocol.Certificate{}, err
	}
	c, err := protocol.Admit(adm, id.ID, id.SignPublic(), id.BoxPub[:], time.Now(), valid)
	if err != nil {
		return protocol.Certificate{}, err
	}
	if _, err := installCert(s, c, nil); err != nil {
		return protocol.Certificate{}, err
	}
	return c, nil
}

// RotateKeys makes new signing and box keys for the stopped hub in dir. They wait in
// the store until InstallCertificate installs a certificate for them; until then the
// hub runs with its current keys. Called again, it returns the same waiting keys.
func RotateKeys(dir string) (api.NextKeys, error) {
	s, err := store.Open(filepath.Join(dir, StoreFile), nil)
	if err != nil {
		return api.NextKeys{}, err
	}
	defer s.Close()
	id, err := s.Identity()
	if err != nil {
		return api.NextKeys{}, err
	}
	netw, err := s.Network()
	if err != nil {
		return api.NextKeys{}, err
	}
	sign, box, err := s.RotateKeys(rand.Reader)
	if err != nil {
		return api.NextKeys{}, err
	}
	return api.NextKeys{ID: id.ID, Network: netw.Name, SignKey: sign, BoxKey: box[:]}, nil
}

// KeyFingerprint names a gossip key without showing it: the first 8 bytes of its
// SHA-256, in hex.
func KeyFingerprint(k []byte) string {
	h := sha256.Sum256(k)
	return hex.EncodeToString(h[:8])
}

// GossipKeys describes the gossip keyring.
func (n *Node) GossipKeys() api.GossipKeyInfo {
	// memberlist hands out its own slice of keys, which a change rewrites in place:
	// read it while no change runs.
	n.keyMu.Lock()
	defer n.keyMu.Unlock()
	return n.gossipKeysLocked()
}

// gossipKeysLocked describes the gossip keyring; n.keyMu is held.
func (n *Node) gossipKeysLocked() api.GossipKeyInfo {
	info := api.GossipKeyInfo{Primary: KeyFingerprint(n.keyring.GetPrimaryKey())}
	for _, k := range n.keyring.GetKeys() {
		info.Keys = append(info.Keys, KeyFingerprint(k))
	}
	return info
}

// ChangeGossipKeys installs a gossip key (accepted from now on), uses one (gossip is
// encrypted with it) or removes one, and stores the keyring so a restart keeps it. A
// network rolls its key without downtime in three rounds, each done at every hub
// before the next: install the new key, use it, remove the old one.
func (n *Node) ChangeGossipKeys(ch api.GossipKeyChange) (api.GossipKeyInfo, error) {
	if len(ch.Key) != 32 {
		return api.GossipKeyInfo{}, &protocol.ValidationError{What: "gossip key change", Problems: []protocol.FieldError{{Field: "key", Rule: "must be 32 bytes, base64"}}}
	}
	n.keyMu.Lock()
	defer n.keyMu.Unlock()
	var err error
	switch ch.Op {
	case "install":
		if len(n.keyring.GetKeys()) >= 4 {
			return api.GossipKeyInfo{}, fmt.Errorf("the keyring holds 4 keys already: remove one first: %w", ErrNotAllowed)
		}
		err = n.keyring.AddKey(ch.Key)
	case "use":
		err = n.keyring.UseKey(ch.Key)
	case "remove":
		err = n.keyring.RemoveKey(ch.Key)
	default:
		return api.GossipKeyInfo{}, &protocol.ValidationError{What: "gossip key change", Problems: []protocol.FieldError{{Field: "op", Rule: "must be install, use or remove"}}}
	}
	if err != nil {
		return api.GossipKeyInfo{}, fmt.Errorf("%s gossip key %s: %v: %w", ch.Op, KeyFingerprint(ch.Key), err, ErrNotAllowed)
	}
	if err := n.store.PutGossipKeys(store.GossipKeys{Primary: n.keyring.GetPrimaryKey(), Keys: n.keyring.GetKeys()}); err != nil {
		return api.GossipKeyInfo{}, err
	}
	n.log.Info("gossip keyring changed", "op", ch.Op, "key", KeyFingerprint(ch.Key))
	return n.gossipKeysLocked(), nil
}
