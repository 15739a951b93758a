package node

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/hubnet-eu/hubnet/protocol"
)

// trust decides who belongs to the network. It checks each hub's certificate against
// the network's admission keys and the revocations it knows, keeps the revocations in
// the store and spreads them through gossip, and remembers the IDs of the messages it
// accepted for as long as their time window, so none is accepted twice.
type trust struct {
	n *Node

	mu      sync.Mutex
	net     protocol.Network
	revoked map[string]protocol.Revocation // hub ID -> the newest revocation
	checked map[string]protocol.Cert       // hub ID -> its certificate last verified
	keys    map[string]string              // signing key -> hub ID, of every member admitted this run

	seenMu sync.Mutex
	seen   map[string]time.Time // sender/message ID -> newest envelope time accepted
	dirty  map[string]time.Time // accepted since the last flush to the store

	queue *memberlist.TransmitLimitedQueue // revocations to gossip
}

func newTrust(n *Node, net protocol.Network) *trust {
	t := &trust{n: n, net: net, revoked: map[string]protocol.Revocation{}, checked: map[string]protocol.Cert{},
		keys: map[string]string{}, seen: map[string]time.Time{}, dirty: map[string]time.Time{}}
	t.queue = &memberlist.TransmitLimitedQueue{
		NumNodes: func() int {
			if n.ml == nil {
				return 1
			}
			return n.ml.NumMembers()
		},
		RetransmitMult: 4,
	}
	return t
}

// load reads the revocations and the recently seen message IDs from the store.
func (t *trust) load() error {
	revs, err := t.n.store.Revocations()
	if err != nil {
		return err
	}
	seen, err := t.n.store.Seen(t.n.cfg.Now().Add(-protocol.MaxClockSkew))
	if err != nil {
		return err
	}
	var ids []string
	t.mu.Lock()
	for _, r := range revs {
		if r.Verify(t.net) == nil {
			t.revoked[r.ID] = r
			ids = append(ids, r.ID)
		}
	}
	t.mu.Unlock()
	for _, id := range ids {
		if id != t.n.id.ID {
			// A referral with a revoked hub may be open still: the node stopped before
			// it ended them all, or a version before this one kept them open.
			t.n.referrals.partnerRevoked(id)
		}
	}
	t.seenMu.Lock()
	t.seen = seen
	t.seenMu.Unlock()
	return nil
}

// check verifies the certificate hub id gossips, at now. The error wraps
// protocol.ErrNoCert, ErrCertInvalid, ErrCertExpired or ErrRevoked.
func (t *trust) check(id string, gc protocol.Cert, now time.Time) error {
	c := gc.Certificate(t.net.Name, id)
	t.mu.Lock()
	defer t.mu.Unlock()
	// A certificate verified once, the same in every field, needs only its dates
	// checked again: memberlist asks on every alive message.
	if prev, ok := t.checked[id]; !ok || !sameCert(prev, gc) {
		if err := c.Verify(t.net, now); err != nil {
			return err
		}
		t.checked[id] = protocol.Cert{SignKey: bytes.Clone(gc.SignKey), BoxKey: bytes.Clone(gc.BoxKey),
			Issued: gc.Issued, NotAfter: gc.NotAfter, Sig: bytes.Clone(gc.Sig)}
	} else if now.Unix() > c.NotAfter {
		return fmt.Errorf("hub %s: certificate expired %s: %w", id, c.Expires().Format(time.RFC3339), protocol.ErrCertExpired)
	}
	// The key is the hub's, by the steward's word: a route from it is named as the
	// hub's, and refused as revoked if it is.
	t.keys[string(c.SignKey)] = id
	if r, ok := t.revoked[id]; ok && r.Covers(&c) {
		return fmt.Errorf("hub %s: revoked %s: %w", id, time.Unix(r.At, 0).UTC().Format(time.RFC3339), protocol.ErrRevoked)
	}
	return nil
}

// sameCert reports whether two gossiped certificates are the same in every field.
func sameCert(a, b protocol.Cert) bool {
	return bytes.Equal(a.SignKey, b.SignKey) && bytes.Equal(a.BoxKey, b.BoxKey) && a.Issued == b.Issued &&
		a.NotAfter == b.NotAfter && bytes.Equal(a.Sig, b.Sig)
}

// member returns the hub whose certified signing key is key, if that hub is still
// admitted: it has not been revoked since, and its certificate has not expired.
// presented is the admission certificate the other end of a route carries in its
// handshake, nil if none: when it is valid and for key, it vouches for a hub not
// heard of by gossip yet. A hub the directory knows must still have key as its
// gossiped one, whatever it presents.
func (t *trust) member(key ed25519.PublicKey, presented *protocol.Certificate) (string, error) {
	t.mu.Lock()
	id, known := t.keys[string(key)]
	t.mu.Unlock()
	vouched := false
	if presented != nil && bytes.Equal(presented.SignKey, key) {
		err := t.check(presented.ID, presented.Gossip(), t.n.cfg.Now())
		switch {
		case err == nil:
			id, known, vouched = presented.ID, true, true
		case !known:
			return "", fmt.Errorf("certificate presented by %s: %w", presented.ID, err)
		}
	}
	if !known {
		return "", fmt.Errorf("key of no admitted hub: %w", protocol.ErrCertInvalid)
	}
	pv, ok := t.n.dir.peer(id)
	seen := ok && pv.SignKey != nil // its certificate has come by gossip
	if r, revoked := t.revocation(id); revoked {
		// check refused a presented certificate the revocation covers; a gossiped one
		// may have come before the revocation.
		if seen && (!bytes.Equal(pv.SignKey, key) || pv.Issued <= r.At) || !seen && !vouched {
			return "", fmt.Errorf("hub %s, revoked %s: %w", id, time.Unix(r.At, 0).UTC().Format(time.RFC3339), protocol.ErrRevoked)
		}
	}
	if !seen {
		if vouched {
			return id, nil // check saw to its term
		}
		return "", fmt.Errorf("hub %s no longer has this key: %w", id, protocol.ErrCertInvalid)
	}
	if !bytes.Equal(pv.SignKey, key) {
		return "", fmt.Errorf("hub %s no longer has this key: %w", id, protocol.ErrCertInvalid)
	}
	if t.n.cfg.Now().Unix() > pv.NotAfter {
		return "", fmt.Errorf("hub %s: %w", id, protocol.ErrCertExpired)
	}
	return id, nil
}

// keysOf returns every signing key that hub id was admitted with this run.
func (t *trust) keysOf(id string) []ed25519.PublicKey {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []ed25519.PublicKey
	for k, owner := range t.keys {
		if owner == id {
			out = append(out, ed25519.PublicKey(k))
		}
	}
	return out
}

// revocation returns the newest revocation of hub id.
func (t *trust) revocation(id string) (protocol.Revocation, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.revoked[id]
	return r, ok
}

// revocations returns every revocation known.
func (t *trust) revocations() []protocol.Revocation {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]protocol.Revocation, 0, len(t.revoked))
	for _, r := range t.revoked {
		out = append(out, r)
	}
	return out
}

// certReason names the reason a certificate was refused, for the drop metric.
func certReason(err error) string {
	switch {
	case errors.Is(err, protocol.ErrNoCert):
		return "no-cert"
	case errors.Is(err, protocol.ErrCertExpired):
		return "cert-expired"
	case errors.Is(err, protocol.ErrRevoked):
		return "revoked"
	default:
		return "bad-cert"
	}
}

// revoke takes in a revocation, from the operator or from gossip. A new one that
// verifies is stored, gossiped on, and applied: the hub it names is no longer a member,
// its routes close, its profile leaves the directory and the referrals with it end
// (see referral_revoked.go). It reports whether r was new.
func (t *trust) revoke(r protocol.Revocation) (bool, error) {
	if err := r.Verify(t.net); err != nil {
		return false, err
	}
	t.mu.Lock()
	cur, ok := t.revoked[r.ID]
	t.mu.Unlock()
	if ok && cur.At >= r.At {
		return false, nil
	}
	if _, err := t.n.store.PutRevocation(r); err != nil {
		return false, err
	}
	t.mu.Lock()
	t.revoked[r.ID] = r
	delete(t.checked, r.ID)
	t.mu.Unlock()
	if b, err := json.Marshal(r); err == nil {
		t.queue.QueueBroadcast(revocationBroadcast{id: r.ID, msg: append([]byte{msgRevocation}, b...)})
	}
	if r.ID == t.n.id.ID {
		t.n.log.Error("this hub's certificate is revoked: the other hubs refuse it; ask the network's steward", "at", time.Unix(r.At, 0).UTC())
		return true, nil
	}
	t.n.log.Warn("hub revoked", "peer", r.ID, "at", time.Unix(r.At, 0).UTC(), "reason", r.Reason)
	t.n.dir.revoke(r.ID, r)
	t.n.referrals.partnerRevoked(r.ID)
	return true, nil
}

// Gossip message types: the first byte of a user message.
const msgRevocation byte = 'r'

// revocationBroadcast is one revocation in memberlist's broadcast queue. A newer
// revocation of the same hub replaces an older one still queued.
type revocationBroadcast struct {
	id  string
	msg []byte
}

func (b revocationBroadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(revocationBroadcast)
	return ok && o.id == b.id
}
func (b revocationBroadcast) Message() []byte { return b.msg }
func (b revocationBroadcast) Finished()       {}

// onGossip handles a user message from gossip.
func (t *trust) onGossip(msg []byte) {
	if len(msg) == 0 || msg[0] != msgRevocation {
		t.n.drop("", "malformed", errors.New("gossip message of an unknown type"))
		return
	}
	var r protocol.Revocation
	if err := json.Unmarshal(msg[1:], &r); err != nil {
		t.n.drop("", "malformed", fmt.Errorf("gossiped revocation: %w", err))
		return
	}
	if _, err := t.revoke(r); err != nil {
		t.n.drop("", "bad-revocation", err)
	}
}

// maxRevocationsState bounds the revocations a hub sends or takes in one push/pull.
const maxRevocationsState = 10000

// localState is the hub's part of a push/pull: every revocation it knows.
func (t *trust) localState() []byte {
	b, err := json.Marshal(t.revocations())
	if err != nil {
		return nil
	}
	return b
}

// mergeState takes in the revocations another hub sent in a push/pull.
func (t *trust) mergeState(buf []byte) {
	if len(buf) == 0 {
		return
	}
	var revs []protocol.Revocation
	if err := json.Unmarshal(buf, &revs); err != nil || len(revs) > maxRevocationsState {
		t.n.drop("", "malformed", fmt.Errorf("revocations in push/pull: %d, %v", len(revs), err))
		return
	}
	for _, r := range revs {
		if _, err := t.revoke(r); err != nil {
			t.n.drop("", "bad-revocation", err)
		}
	}
}

// once records that the message id from sender, sent at at, has been accepted, or
// returns protocol.ErrReplay if one with that ID and the same or a later time was.
// A message sent again by its sender is signed again with a later time, so it passes;
// a recorded copy does not.
func (t *trust) once(sender, id string, at time.Time) error {
	key := sender + "/" + id
	t.seenMu.Lock()
	defer t.seenMu.Unlock()
	if have, ok := t.seen[key]; ok && !at.After(have) {
		return fmt.Errorf("message %s from %s, sent at %s, seen before: %w", id, sender, at.Format(time.RFC3339Nano), protocol.ErrReplay)
	}
	t.seen[key] = at
	t.dirty[key] = at
	return nil
}

// flushSeen writes the IDs accepted since the last flush to the store and forgets
// those whose time window has passed: a copy of them is refused for its time anyway.
// With nothing accepted since, nothing is written: the store forgets with the next
// write, and an idle hub does not sync its disk every second.
func (t *trust) flushSeen() {
	forget := t.n.cfg.Now().Add(-protocol.MaxClockSkew)
	t.seenMu.Lock()
	dirty := t.dirty
	t.dirty = map[string]time.Time{}
	for k, at := range t.seen {
		if at.Before(forget) {
			delete(t.seen, k)
		}
	}
	t.seenMu.Unlock()
	if len(dirty) == 0 {
		return
	}
	if err := t.n.store.SaveSeen(dirty, forget); err != nil {
		t.n.log.Error("record seen message IDs", "err", err)
		t.seenMu.Lock()
		for k, at := range dirty {
			if at.After(t.dirty[k]) {
				t.dirty[k] = at
			}
		}
		t.seenMu.Unlock()
	}
}

// runSeen flushes the seen message IDs every second until the node stops, and once
// more then.
func (t *trust) runSeen() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-t.n.ctx.Done():
			t.flushSeen()
			return
		case <-tick.C:
			t.flushSeen()
		}
	}
}
