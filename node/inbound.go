package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// The gate: every envelope another hub sends, whether a message on a subject this hub
// listens to or a reply to a request it made, passes admit before anything reads its
// body. What differs between subjects is written down once per subject as an inbound
// value; the checks themselves, their order and the drop reasons they count live here
// alone.

// inbound says what one subject or one reply expects of the envelopes it receives.
type inbound struct {
	// from is the one hub that may send it (the hub a request went to); "" takes any
	// admitted member.
	from string
	// asked, for answers to a request sent to several hubs, holds those hubs: an
	// answer from any other is refused.
	asked map[string][]byte
	// toAll: the envelope is for every hub and names no recipient. Otherwise it must be
	// addressed to this hub. On a subject every hub hears, this hub's own envelopes
	// come back to it; admit returns errOwn for them, uncounted.
	toAll bool
	// document: a signed document such as a profile, whose time is when it was signed,
	// not when it was sent, so the time window does not apply.
	document bool
	// maxAge bounds, per envelope type, how old an envelope may be, tighter than the
	// time window: a live query, or an error answering one, outlives its asker.
	maxAge map[string]time.Duration
	// once refuses a message accepted before (the seen-ID set in trust.go).
	once bool
}

// errOwn is returned by admit for the hub's own envelope heard on a subject every hub
// hears. It is not an attack and is not counted.
var errOwn = errors.New("own message")

// admit decodes data as an envelope and checks it against in, in this order: that it
// is sealed if and only if its type travels sealed, the sender the request went to,
// the recipient, that the sender is an admitted member seen here, the time window,
// the signature against the sender's certified key, then opens a sealed body with
// this hub's box keys, and checks the age its type allows and, when in.once is set,
// that it was not accepted before. It returns the envelope, with its body opened, and
// the sender's state. An envelope that fails is dropped: the
// reason is counted and logged, and the error returned; an envelope of an unknown
// version returns an error that wraps protocol.ErrUnknownVersion, one from a hub not
// known here one that wraps protocol.ErrNotFound, returned with the envelope, so that
// the caller can answer its sender. The body is the caller's to decode and check.
func (n *Node) admit(data []byte, in inbound) (protocol.Envelope, peerView, error) {
	env, err := protocol.OpenEnvelope(data)
	if err != nil {
		n.drop("", "malformed", err)
		return protocol.Envelope{}, peerView{}, err
	}
	if in.toAll && env.From == n.id.ID {
		return protocol.Envelope{}, peerView{}, errOwn
	}
	if err := env.CheckSealing(); err != nil {
		// A hub of another version: told so, like one whose envelope version is unknown.
		n.drop(env.From, "unsealed", err)
		return env, peerView{}, err
	}
	if _, ok := in.asked[env.From]; in.asked != nil && !ok {
		err := fmt.Errorf("%s from %s, which was not asked", env.Type, env.From)
		n.drop(env.From, "unknown-sender", err)
		return protocol.Envelope{}, peerView{}, err
	}
	if in.from != "" && env.From != in.from {
		err := fmt.Errorf("%s from %s in answer to a request to %s", env.Type, env.From, in.from)
		n.drop(in.from, "wrong-sender", err)
		return protocol.Envelope{}, peerView{}, err
	}
	pv, err := n.authenticate(&env, in)
	if err != nil {
		return env, peerView{}, err
	}
	return env, pv, nil
}

// authenticate makes the checks of admit that follow the decoding of the envelope.
func (n *Node) authenticate(env *protocol.Envelope, in inbound) (peerView, error) {
	fail := func(reason string, err error) (peerView, error) {
		n.drop(env.From, reason, err)
		return peerView{}, err
	}
	switch {
	case in.toAll && env.To != "":
		return fail("wrong-recipient", fmt.Errorf("%s to %q on a subject for every hub: %w", env.Type, env.To, protocol.ErrWrongRecipient))
	case !in.toAll && env.To != n.id.ID:
		return fail("wrong-recipient", fmt.Errorf("%s for %q: %w", env.Type, env.To, protocol.ErrWrongRecipient))
	}
	pv, ok := n.dir.peer(env.From)
	if !ok || pv.SignKey == nil {
		if r, revoked := n.trust.revocation(env.From); revoked {
			return fail("revoked", fmt.Errorf("%s from %s, revoked %s: %w", env.Type, env.From, time.Unix(r.At, 0).UTC().Format(time.RFC3339), protocol.ErrRevoked))
		}
		return fail("unknown-sender", fmt.Errorf("%s from %s, not an admitted member seen here: %w", env.Type, env.From, protocol.ErrNotFound))
	}
	now := n.cfg.Now()
	if !in.document {
		if err := env.CheckTime(now); err != nil {
			if env.Verify(pv.SignKey) == nil {
				n.observeClock(env.From, env.Time) // how a hub with a wrong clock learns it (clock.go)
			}
			return fail("outside-window", err)
		}
	}
	if err := env.Verify(pv.SignKey); err != nil {
		return fail("bad-signature", err)
	}
	if !in.document {
		n.observeClock(env.From, env.Time)
	}
	// Opened once the signature vouches for the sealed body and who sent it.
	if err := env.Unseal(n.id, n.old...); err != nil {
		return fail("bad-seal", err)
	}
	if limit, ok := in.maxAge[env.Type]; ok {
		if age := now.Sub(env.Time); age > limit || age < -limit {
			return fail("stale", fmt.Errorf("%s from %s sent %v ago", env.Type, env.From, age.Round(time.Second)))
		}
	}
	if in.once {
		if err := n.trust.once(env.From, env.ID, env.Time); err != nil {
			return fail("replay", err)
		}
	}
	return pv, nil
}
