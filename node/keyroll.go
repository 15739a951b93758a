package node

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// The gossip key roll that follows a revocation. The hub the steward hands a
// revocation to (Node.Revoke) makes a new gossip key and walks every other member it
// sees alive through the three steps of a roll, each over NATS, sealed to the
// member's box key: install the new key, use it, remove the others. A step goes out
// to every member before the next one does, so no hub is sent gossip under a key it
// does not hold; a member that has not taken a step within Config.KeyRollWait is
// left out of the next ones, and logged. The revoked hub is sent nothing: once the
// others use the new key it reads no gossip, and once they have removed the old one
// its packets are refused unread.

// keyRolls is the state of the gossip key rolls this hub takes part in.
type keyRolls struct {
	mu     sync.Mutex                         // guards newest and keys, and serializes the steps taken
	newest *protocol.GossipKeyStep            // the latest roll heard of; nil before the first
	keys   map[string]*protocol.GossipKeyStep // gossip key -> the roll that installed it, this run
}

// keyRollRetry is how soon a step that a member did not take is sent to it again.
const keyRollRetry = 250 * time.Millisecond

// onKeyStep takes one step of a gossip key roll and acknowledges it. A roll must
// follow a revocation this hub knows: one that comes before its revocation has
// gossiped here is refused as not found, and sent again.
func (n *Node) onKeyStep(m *nats.Msg) {
	env, _, err := n.admit(m.Data, inbound{once: true})
	switch {
	case errors.Is(err, protocol.ErrUnknownVersion):
		n.replyError(m, "", err)
		return
	case errors.Is(err, protocol.ErrNotFound):
		n.replyError(m, env.From, err)
		return
	case err != nil:
		return
	}
	var s protocol.GossipKeyStep
	if env.Type != protocol.TypeGossipKey {
		err = fmt.Errorf("%s on the gossip key subject: %w", env.Type, protocol.ErrInvalid)
	} else if err = env.Decode(&s); err == nil {
		err = s.Validate()
	}
	if err != nil {
		n.drop(env.From, "malformed", err)
		n.replyError(m, env.From, err)
		return
	}
	if r, ok := n.trust.revocation(s.Revoked); !ok || r.At != s.At || s.Revoked == n.id.ID || s.Revoked == env.From {
		err := fmt.Errorf("gossip key roll %s from %s follows a revocation of %s at %d that this hub does not know: %w",
			s.Roll, env.From, s.Revoked, s.At, protocol.ErrNotFound)
		n.replyError(m, env.From, err)
		return
	}
	if err := n.takeKeyStep(&s); err != nil {
		n.drop(env.From, "key-step-refused", err)
		n.replyError(m, env.From, err)
		return
	}
	ack, err := protocol.Sign(n.id, protocol.TypeGossipKeyAck, env.From, protocol.GossipKeyAck{V: protocol.Version, Roll: s.Roll, Step: s.Step}, n.cfg.Now())
	if err != nil {
		return
	}
	if b, err := ack.Marshal(); err == nil {
		m.Respond(b)
	}
}

// takeKeyStep takes step s at this hub. Where two rolls cross, the keys of both are
// installed, but only the later roll's key is used, and only its removal is taken:
// every hub ends with the same key. Taking a step again changes nothing.
func (n *Node) takeKeyStep(s *protocol.GossipKeyStep) error {
	n.keyRolls.mu.Lock()
	defer n.keyRolls.mu.Unlock()
	latest := n.keyRolls.newest == nil || !n.keyRolls.newest.After(s)
	if latest {
		c := *s
		n.keyRolls.newest = &c
	}
	if s.Step != protocol.StepInstall && !latest {
		return nil // a later roll's key is, or will be, the one in use
	}
	n.keyMu.Lock()
	defer n.keyMu.Unlock()
	kr := n.keyring
	installed := slices.ContainsFunc(kr.GetKeys(), func(k []byte) bool { return bytes.Equal(k, s.Key) })
	var err error
	switch s.Step {
	case protocol.StepInstall:
		if installed {
			return nil
		}
		if len(kr.GetKeys()) >= 4 {
			// Rolls that crossed: the key of the oldest one that is not in use here
			// makes room.
			old := n.keyRolls.oldestSpare(kr.GetKeys(), kr.GetPrimaryKey())
			if old == nil {
				return fmt.Errorf("install gossip key %s: the keyring holds 4 keys already: %w", KeyFingerprint(s.Key), ErrNotAllowed)
			}
			if err := kr.RemoveKey(old); err != nil {
				return fmt.Errorf("make room for gossip key %s: %w", KeyFingerprint(s.Key), err)
			}
		}
		if err = kr.AddKey(s.Key); err == nil {
			if n.keyRolls.keys == nil {
				n.keyRolls.keys = map[string]*protocol.GossipKeyStep{}
			}
			c := *s
			n.keyRolls.keys[string(s.Key)] = &c
		}
	case protocol.StepUse:
		if !installed {
			return fmt.Errorf("use gossip key %s: it was never installed here: %w", KeyFingerprint(s.Key), ErrNotAllowed)
		}
		err = kr.UseKey(s.Key)
	case protocol.StepRemove:
		if !installed {
			return fmt.Errorf("keep only gossip key %s: it was never installed here: %w", KeyFingerprint(s.Key), ErrNotAllowed)
		}
		if err = kr.UseKey(s.Key); err != nil {
			break
		}
		// A copy: RemoveKey shifts the keyring's own slice in place.
		for _, k := range slices.Clone(kr.GetKeys()) {
			if !bytes.Equal(k, s.Key) {
				if err = kr.RemoveKey(k); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s gossip key %s: %w", s.Step, KeyFingerprint(s.Key), err)
	}
	if err := n.store.PutGossipKeys(store.GossipKeys{Primary: kr.GetPrimaryKey(), Keys: kr.GetKeys()}); err != nil {
		return err
	}
	n.log.Info("gossip keyring changed", "op", s.Step, "key", KeyFingerprint(s.Key), "roll", s.Roll, "revoked", s.Revoked)
	return nil
}

// oldestSpare returns the key among keys, not primary, that the oldest roll
// installed, or nil when no roll installed any of them. The caller holds k.mu.
func (k *keyRolls) oldestSpare(keys [][]byte, primary []byte) []byte {
	var out []byte
	var roll *protocol.GossipKeyStep
	for _, key := range keys {
		r, ok := k.keys[string(key)]
		if !ok || bytes.Equal(key, primary) {
			continue
		}
		if roll == nil || roll.After(r) {
			out, roll = key, r
		}
	}
	return out
}

// rollAfter starts the gossip key roll that follows revocation r, in the background.
func (n *Node) rollAfter(r protocol.Revocation) {
	n.wg.Go(func() {
		if err := n.roll(n.ctx, r); err != nil {
			n.log.Error("gossip key roll after a revocation: roll the key by hand (see docs/operations.md)", "revoked", r.ID, "err", err)
		}
	})
}

// roll makes a new gossip key and takes every member it sees alive, but the revoked
// hub, through the three steps of a roll.
func (n *Node) roll(ctx context.Context, r protocol.Revocation) error {
	key := make([]byte, 32)
	if _, err := crand.Read(key); err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	s := protocol.GossipKeyStep{V: protocol.Version, Roll: id.String(), Started: n.cfg.Now().UTC(), Revoked: r.ID, At: r.At, Key: key}
	var members, away []string
	for _, p := range n.dir.snapshot() {
		switch {
		case p.ID == n.id.ID || p.ID == r.ID || p.Revoked || !p.Member || p.SignKey == nil:
		case p.Reachable:
			members = append(members, p.ID)
		default:
			away = append(away, p.ID)
		}
	}
	all := slices.Clone(members)
	n.log.Warn("rolling the gossip key after a revocation", "revoked", r.ID, "roll", s.Roll, "key", KeyFingerprint(key),
		"members", len(members), "away", away)
	for _, step := range []string{protocol.StepInstall, protocol.StepUse, protocol.StepRemove} {
		s.Step = step
		if err := n.takeKeyStep(&s); err != nil {
			return err
		}
		var left []string
		members, left = n.sendKeyStep(ctx, s, members)
		if len(left) > 0 {
			n.log.Error("hubs left out of a gossip key roll: they lose the gossip until their operators install the key by hand",
				"roll", s.Roll, "step", step, "hubs", left)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	n.log.Warn("gossip key rolled after a revocation", "revoked", r.ID, "roll", s.Roll, "key", KeyFingerprint(key), "members", len(members))
	// A member revoked while the roll went on may have been given the new key: roll
	// again without it. The later roll wins everywhere (GossipKeyStep.After).
	for _, id := range all {
		if rr, ok := n.trust.revocation(id); ok {
			n.log.Warn("a hub of the gossip key roll was revoked meanwhile: rolling again", "revoked", id)
			return n.roll(ctx, rr)
		}
	}
	return nil
}

// sendKeyStep sends step s to each of members until it has taken it, or until
// Config.KeyRollWait has passed. It returns the members that took it and those that
// did not.
func (n *Node) sendKeyStep(ctx context.Context, s protocol.GossipKeyStep, members []string) (took, left []string) {
	pending := slices.Clone(members)
	deadline := time.Now().Add(n.cfg.KeyRollWait)
	for len(pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		var still []string
		for _, to := range pending {
			if _, revoked := n.trust.revocation(to); revoked {
				continue // revoked since the roll began: it is sent no more
			}
			if err := n.sendKeyStepTo(ctx, s, to); err != nil {
				n.log.Debug("gossip key step not taken", "peer", to, "step", s.Step, "err", err)
				still = append(still, to)
				continue
			}
			took = append(took, to)
		}
		if pending = still; len(pending) > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(keyRollRetry):
			}
		}
	}
	return took, pending
}

// sendKeyStepTo sends step s to hub to, sealed, and checks its acknowledgement.
func (n *Node) sendKeyStepTo(ctx context.Context, s protocol.GossipKeyStep, to string) error {
	env, err := protocol.Sign(n.id, protocol.TypeGossipKey, to, s, n.cfg.Now())
	if err != nil {
		return err
	}
	data, err := n.sealed(env)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DeliveryTimeout)
	defer cancel()
	msg, err := n.mail.request(ctx, protocol.GossipKeySubject(to), data)
	if err != nil {
		return err
	}
	reply, _, err := n.admit(msg.Data, inbound{from: to})
	if err != nil {
		return err
	}
	var ack protocol.GossipKeyAck
	if reply.Type != protocol.TypeGossipKeyAck {
		if err := reply.Decode(nil); err != nil {
			return err
		}
		return fmt.Errorf("%s in reply to a gossip key step", reply.Type)
	}
	if err := reply.Decode(&ack); err != nil {
		return err
	}
	if ack.Roll != s.Roll || ack.Step != s.Step {
		return fmt.Errorf("acknowledgement of %s of roll %s, not %s of %s", ack.Step, ack.Roll, s.Step, s.Roll)
	}
	return nil
}

// CurrentGossipKey returns the gossip key the hub encrypts with. After a roll that
// followed a revocation, no network.json holds it: a hub admitted since is given it
// by the operator of a hub that has it.
func (n *Node) CurrentGossipKey() api.GossipKey {
	n.keyMu.Lock()
	defer n.keyMu.Unlock()
	k := bytes.Clone(n.keyring.GetPrimaryKey())
	return api.GossipKey{Key: k, Fingerprint: KeyFingerprint(k)}
}
