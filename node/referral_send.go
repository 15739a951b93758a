package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// A hub that has just come back answers nothing until the route to it is up, which
// takes a moment: while it is reachable, a message that finds no responder is tried
// again after quickRetry, up to quickRetries times in all, before the backoff grows.
const (
	quickRetry     = 200 * time.Millisecond
	quickRetries   = 20
	reachableRetry = 5 * time.Second
)

// Refer sends a referral: it is stored with its offer in one transaction, and the
// offer is delivered to the receiving hub from the outbox, now or when it is back.
// No person is named in its history: see ReferAs.
func (n *Node) Refer(req api.ReferralRequest) (api.ReferralInfo, error) {
	return n.ReferAs(Actor{}, req)
}

// ReferAs sends a referral as Refer does, made by by: its history names by, and a
// person becomes the referral's contact at this hub (referral_people.go).
func (n *Node) ReferAs(by Actor, req api.ReferralRequest) (api.ReferralInfo, error) {
	now := n.cfg.Now()
	req.To = strings.ToLower(strings.TrimSpace(req.To))
	req.Need.Normalize()
	if err := req.Validate(n.id.ID, now); err != nil {
		return api.ReferralInfo{}, err
	}
	if err := n.CanRefer(req.To); err != nil {
		return api.ReferralInfo{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return api.ReferralInfo{}, err
	}
	r := protocol.Referral{
		V: protocol.Version, ID: id.String(), From: n.id.ID, To: req.To, Created: now.UTC(),
		State: protocol.StateDraft, Need: req.Need, Consent: req.Consent,
		AckBy: now.Add(n.cfg.ReceiveWithin).UTC(), DecideBy: now.Add(n.cfg.ReceiveWithin + n.cfg.DecideWithin).UTC(),
		History: []protocol.Change{},
	}
	if err := r.Apply(protocol.EventSend, protocol.RoleSender, n.id.ID, now, ""); err != nil {
		return api.ReferralInfo{}, err
	}
	r.SetPerson(protocol.EventSend, by.Name)
	contacts, sealed := n.ownContact(by, req.To, nil)
	o, err := n.referrals.outgoing(req.To, r.ID, protocol.TypeReferralOffer, protocol.ReferralOffer{V: protocol.Version, Referral: r, Contact: sealed}, now)
	if err != nil {
		return api.ReferralInfo{}, err
	}
	sme := req.SME
	rec := store.ReferralRecord{Referral: r, Role: protocol.RoleSender, SME: &sme, Contacts: contacts, Updated: now}
	if err := n.store.SaveReferral(rec, []store.Outgoing{o}, nil); err != nil {
		return api.ReferralInfo{}, err
	}
	n.log.Info("referral sent", "referral", r.ID, "to", r.To)
	n.referrals.wake()
	return n.referralInfo(rec, 1), nil
}

// CanRefer returns nil when this hub may refer an SME to hub to now, or an error
// wrapping protocol.ErrNotFound that says why not: the steward revoked the hub (and
// has not admitted it again since), the directory does not know it, it was never
// seen as an admitted member, or its certificate has expired.
func (n *Node) CanRefer(to string) error {
	if r, ok := n.revokedPartner(to); ok {
		return fmt.Errorf("hub %s %s: referrals to it are refused: %w", to, revokedOn(r), protocol.ErrNotFound)
	}
	pv, ok := n.dir.peer(to)
	switch {
	case !ok:
		return fmt.Errorf("hub %s is not in this hub's directory: %w", to, protocol.ErrNotFound)
	case pv.Issued == 0 && pv.Cached == 0:
		// Heard of in gossip, but its certificate never passed: not a member.
		return fmt.Errorf("hub %s is not an admitted member of the network: referrals to it are refused: %w", to, protocol.ErrNotFound)
	case pv.NotAfter != 0 && n.cfg.Now().Unix() > pv.NotAfter:
		return fmt.Errorf("hub %s's admission ended on %s, when its certificate expired: referrals to it are refused until it is renewed: %w",
			to, time.Unix(pv.NotAfter, 0).UTC().Format(time.RFC3339), protocol.ErrNotFound)
	}
	return nil
}

// outgoing signs a message to hub to about a referral, ready for the outbox.
func (e *referrals) outgoing(to, referral, typ string, body any, now time.Time) (store.Outgoing, error) {
	env, err := protocol.Sign(e.n.id, typ, to, body, now)
	if err != nil {
		return store.Outgoing{}, err
	}
	b, err := env.Marshal()
	if err != nil {
		return store.Outgoing{}, err
	}
	return store.Outgoing{ID: env.ID, To: to, Referral: referral, Envelope: b, Due: now, Created: now}, nil
}

// dispatch starts delivering every due entry that is first in line for its referral,
// and returns when the next entry falls due.
func (e *referrals) dispatch() time.Time {
	next := time.Now().Add(time.Minute)
	// An attempt that ends while the outbox is being read may leave its entry in what
	// is read, delivered or rescheduled meanwhile: such entries are skipped until the
	// next read, which sees them as they are.
	readAt := time.Now()
	e.mu.Lock()
	for id, at := range e.finished {
		if at.Before(readAt) {
			delete(e.finished, id)
		}
	}
	for id, until := range e.held {
		if until.Before(e.n.cfg.Now().Add(-time.Minute)) {
			delete(e.held, id) // its entry is gone, or due anyway
		}
	}
	e.mu.Unlock()
	out, err := e.n.store.Outbox()
	if err != nil {
		e.n.log.Error("read outbox", "err", err)
		return next
	}
	// Messages of one referral go one at a time, oldest first, so the other hub
	// applies them in order; different referrals go side by side.
	slices.SortStableFunc(out, func(a, b store.Outgoing) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	first := map[string]bool{}
	now := e.n.cfg.Now()
	for _, o := range out {
		if first[o.Referral] {
			continue
		}
		first[o.Referral] = true
		if pv, _ := e.n.dir.peer(o.To); !pv.Reachable {
			// Not tried while gossip says the hub is gone: peerUp wakes the dispatcher
			// when it is back.
			continue
		}
		if o.Due.After(now) {
			next = minTime(next, o.Due)
			continue
		}
		e.mu.Lock()
		_, ended := e.finished[o.ID]
		if until, ok := e.held[o.ID]; ok {
			if until.After(now) {
				ended = true
				next = minTime(next, until)
			} else {
				delete(e.held, o.ID)
			}
		}
		busy := ended || e.inflight[o.ID] || len(e.inflight) >= maxInflight
		if !busy {
			e.inflight[o.ID] = true
		}
		e.mu.Unlock()
		if busy {
			continue
		}
		e.n.wg.Go(func() { e.deliver(o) })
	}
	return next
}

// deliver sends one outbox entry and waits for its acknowledgement.
func (e *referrals) deliver(o store.Outgoing) {
	defer func() {
		e.mu.Lock()
		delete(e.inflight, o.ID)
		e.finished[o.ID] = time.Now()
		e.mu.Unlock()
		e.wake()
	}()
	ack, err := e.send(o)
	if err != nil {
		backoff := min(e.n.cfg.RetryMin<<min(o.Attempts, 20), e.n.cfg.RetryMax)
		if pv, _ := e.n.dir.peer(o.To); pv.Reachable {
			// A hub that gossip says is alive is tried again within reachableRetry: it
			// may have restarted at the same address before anyone saw it gone, and
			// then nothing would hasten its messages.
			backoff = min(backoff, reachableRetry)
			if errors.Is(err, nats.ErrNoResponders) && o.Attempts < quickRetries {
				// It is back, but its route is still forming: try again soon.
				backoff = min(backoff, quickRetry)
			}
		}
		due := e.n.cfg.Now().Add(backoff/2 + rand.N(backoff/2+1))
		if rerr := e.n.store.Retry(o.ID, due); rerr != nil {
			e.hold(o, due, "reschedule referral message", rerr)
		}
		e.n.log.Debug("referral message not delivered", "to", o.To, "id", o.ID, "attempt", o.Attempts+1, "err", err, "retry_in", time.Until(due).Round(time.Millisecond))
		return
	}
	// What the acknowledgement tells is recorded in the transaction that removes the
	// entry: a crash before it sends the message again, and the same
	// acknowledgement comes back.
	var purged *store.ReferralRecord // the record, if settling purged the SME's identity
	err = e.n.store.Acknowledged(o.ID, o.Referral, func(rec *store.ReferralRecord) (bool, []protocol.KPIRecord, error) {
		purged = nil
		if ack.Result == protocol.AckRefused {
			e.n.log.Warn("referral message refused", "peer", o.To, "referral", o.Referral, "state_there", ack.State, "reason", ack.Error)
		}
		changed, err := e.received(rec, o, ack)
		if err != nil || ack.Ending == nil {
			return changed, nil, err
		}
		// The other hub's record has ended: settle with its ending, as it settles
		// with this hub's.
		had := rec.SME != nil
		settled, kpis, err := e.settleAck(rec, *ack.Ending, o.To)
		if had && rec.SME == nil {
			purged = rec
		}
		return changed || settled, kpis, err
	})
	if err == nil && purged != nil {
		e.purged(*purged, 0)
	}
	if err != nil {
		// Sent again after a backoff, as after a failed attempt: the acknowledgement
		// will come back the same.
		backoff := min(e.n.cfg.RetryMin<<min(o.Attempts, 20), e.n.cfg.RetryMax)
		e.hold(o, e.n.cfg.Now().Add(backoff), "record delivery", err)
	}
}

// hold keeps an entry whose outcome the store could not record from being sent again
// before until; the store keeps it due, and a restart sends it at once.
func (e *referrals) hold(o store.Outgoing, until time.Time, what string, err error) {
	// A disk that refuses a write seldom takes the next one a moment later.
	until = maxTime(until, e.n.cfg.Now().Add(time.Second))
	e.mu.Lock()
	e.held[o.ID] = until
	e.mu.Unlock()
	e.n.log.Error(what, "id", o.ID, "to", o.To, "err", err, "retry_in", time.Until(until).Round(time.Millisecond))
}

// send makes one attempt to deliver o and returns the recipient's checked
// acknowledgement.
func (e *referrals) send(o store.Outgoing) (protocol.ReferralAck, error) {
	ctx, cancel := context.WithTimeout(e.n.ctx, e.n.cfg.DeliveryTimeout)
	defer cancel()
	// Each attempt is signed afresh: with the time now, so it passes the receiver's
	// time window however long the message waited, and with this hub's current key.
	data, err := e.resign(o.Envelope)
	if err != nil {
		return protocol.ReferralAck{}, err
	}
	msg, err := e.n.mail.request(ctx, protocol.ReferralSubject(o.To), data)
	if err != nil {
		return protocol.ReferralAck{}, err
	}
	env, _, err := e.n.admit(msg.Data, inbound{from: o.To})
	if err != nil {
		return protocol.ReferralAck{}, err
	}
	var ack protocol.ReferralAck
	if env.Type != protocol.TypeReferralAck {
		err = env.Decode(nil)
		if err == nil {
			err = fmt.Errorf("%s in reply to a referral message", env.Type)
		}
		return protocol.ReferralAck{}, err
	}
	if err := env.Decode(&ack); err != nil {
		e.n.drop(env.From, "malformed", err)
		return protocol.ReferralAck{}, err
	}
	if err := ack.Validate(); err != nil || ack.Message != o.ID {
		if err == nil {
			err = fmt.Errorf("acknowledgement of %s, not %s", ack.Message, o.ID)
		}
		e.n.drop(env.From, "malformed", err)
		return protocol.ReferralAck{}, err
	}
	return ack, nil
}

// resign signs a stored envelope of this hub again, at the time now, with its body
// sealed to its recipient (seal.go).
func (e *referrals) resign(data []byte) ([]byte, error) {
	env, err := protocol.OpenEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("stored message: %w", err)
	}
	return e.n.sealed(env)
}

// peerUp makes every message waiting for hub id due at once: it has just come back.
func (e *referrals) peerUp(id string) {
	if _, err := e.n.store.Hasten(id, e.n.cfg.Now()); err != nil {
		e.n.log.Error("hasten outbox", "peer", id, "err", err)
	}
	e.wake()
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// maxTime returns the later of two times.
func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
