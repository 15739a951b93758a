package node

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// The referral engine. A change a person makes (send, accept, ...) is applied to the
// local record and written with its outgoing message in one store transaction; the
// dispatcher then delivers the message until the other hub acknowledges it. A hub
// that receives a message applies it and records its ID in the same transaction
// before it acknowledges, so a message sent again is acknowledged again and not
// applied twice. The referring hub owns the deadlines.

// A hub that has just come back answers nothing until the route to it is up, which
// takes a moment: while it is reachable, a message that finds no responder is tried
// again after quickRetry, up to quickRetries times in all, before the backoff grows.
const (
	quickRetry     = 200 * time.Millisecond
	quickRetries   = 20
	reachableRetry = 5 * time.Second
)

// inboxKeep is how long a hub remembers the IDs of the referral messages it applied,
// to acknowledge a resent one without applying it again. A sender resends until it
// has an acknowledgement, so this must outlast the longest time a hub may be down
// with a message unacknowledged; 30 days is well past every deadline.
const inboxKeep = 30 * 24 * time.Hour

// maxInflight bounds the referral messages being delivered, and those being
// applied, at one time.
const maxInflight = 64

// referrals is the node's referral engine.
type referrals struct {
	n        *Node
	wakeCh   chan struct{}        // buffered 1: the outbox has something new
	receive  chan struct{}        // semaphore of messages being applied
	handlers sync.WaitGroup       // received messages being applied
	closing  bool                 // no more messages are taken; guarded by mu
	inflight map[string]bool      // outbox entries being sent
	finished map[string]time.Time // entries whose attempt ended, and when: see dispatch
	held     map[string]time.Time // entries not to send before then: their outcome could not be stored
	mu       sync.Mutex           // guards inflight and finished
}

func newReferrals(n *Node) *referrals {
	return &referrals{n: n, wakeCh: make(chan struct{}, 1), receive: make(chan struct{}, maxInflight),
		inflight: map[string]bool{}, finished: map[string]time.Time{}, held: map[string]time.Time{}}
}

// close stops taking referral messages and waits for those being applied.
func (e *referrals) close() {
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	e.handlers.Wait()
}

func (e *referrals) wake() {
	select {
	case e.wakeCh <- struct{}{}:
	default:
	}
}

// subscribe starts receiving referral messages addressed to this hub.
func (e *referrals) subscribe() error {
	_, err := e.n.bus.nc.Subscribe(protocol.ReferralSubject(e.n.id.ID), func(m *nats.Msg) {
		e.receive <- struct{}{} // blocks the subscription when maxInflight are being applied
		e.mu.Lock()
		if e.closing {
			e.mu.Unlock()
			<-e.receive
			return // the node is stopping: the sender tries again later
		}
		e.handlers.Add(1)
		e.mu.Unlock()
		go func() {
			defer func() { <-e.receive; e.handlers.Done() }()
			e.onMessage(m)
		}()
	})
	if err != nil {
		return fmt.Errorf("subscribe referral messages: %w", err)
	}
	return nil
}

// run delivers due outbox entries and enforces deadlines until the node stops.
func (e *referrals) run() {
	// Deadlines are checked a few times within the grace the referring hub gives a
	// decision on its way.
	tick := time.NewTicker(min(max(e.n.cfg.DecisionGrace/2, 100*time.Millisecond), 10*time.Second))
	defer tick.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-e.n.ctx.Done():
			return
		case <-e.wakeCh:
		case <-timer.C:
		case <-tick.C:
			e.expire()
		case <-prune.C:
			if n, err := e.n.store.PruneInbox(e.n.cfg.Now().Add(-inboxKeep)); err != nil {
				e.n.log.Error("prune inbox", "err", err)
			} else if n > 0 {
				e.n.log.Info("inbox pruned", "messages", n)
			}
		}
		next := e.dispatch()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(time.Until(next), 10*time.Millisecond))
	}
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
	err = e.n.store.Acknowledged(o.ID, o.Referral, func(rec *store.ReferralRecord) (bool, error) {
		if ack.Result == protocol.AckRefused {
			return e.reconcile(rec, o, ack), nil
		}
		return e.received(rec, o, ack)
	})
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

// received records, at the referring hub, that the receiving hub stored the offer:
// the acknowledgement of the offer is the receipt.
func (e *referrals) received(rec *store.ReferralRecord, o store.Outgoing, ack protocol.ReferralAck) (bool, error) {
	if ack.State != protocol.StateReceived || rec.Referral.State != protocol.StateRequested {
		return false, nil
	}
	if err := rec.Referral.Apply(protocol.EventReceive, protocol.RoleSystem, o.To, e.n.cfg.Now(), ""); err != nil {
		return false, err
	}
	return true, nil
}

// reconcile handles a message the other hub refused. When the other hub's record has
// already ended (the referral expired or was cancelled there first), this hub's
// record ends the same way, so both agree; anything else is logged for the operator.
func (e *referrals) reconcile(rec *store.ReferralRecord, o store.Outgoing, ack protocol.ReferralAck) bool {
	e.n.log.Warn("referral message refused", "peer", o.To, "referral", o.Referral, "state_there", ack.State, "reason", ack.Error)
	r := &rec.Referral
	// Only an end the other hub reached on its own, and this hub may not have heard
	// of, is adopted: an expiry or a cancel. The other ends come as events in order.
	if (ack.State != protocol.StateExpired && ack.State != protocol.StateCancelled) || r.State.Final() {
		return false
	}
	r.History = append(r.History, protocol.Change{At: e.n.cfg.Now().UTC(), By: o.To, Event: eventInto(ack.State),
		From: r.State, To: ack.State, Note: "the referral was " + string(ack.State) + " at " + o.To + " before this hub's change arrived"})
	r.State, r.HeldFrom = ack.State, ""
	if rec.Role == protocol.RoleReceiver && ack.State == protocol.StateCancelled {
		rec.SME = nil
	}
	return true
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
	msg, err := e.n.bus.nc.RequestWithContext(ctx, protocol.ReferralSubject(o.To), data)
	if err != nil {
		return protocol.ReferralAck{}, err
	}
	env, err := protocol.OpenEnvelope(msg.Data)
	if err != nil {
		e.n.drop(o.To, "malformed", err)
		return protocol.ReferralAck{}, err
	}
	if env.From != o.To {
		err = fmt.Errorf("acknowledgement from %s for a message to %s", env.From, o.To)
		e.n.drop(env.From, "wrong-sender", err)
		return protocol.ReferralAck{}, err
	}
	if _, err := e.n.accept(&env, false, false); err != nil {
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

// resign signs a stored envelope of this hub again, at the time now.
func (e *referrals) resign(data []byte) ([]byte, error) {
	env, err := protocol.OpenEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("stored message: %w", err)
	}
	if env, err = protocol.Resign(e.n.id, env, e.n.cfg.Now()); err != nil {
		return nil, err
	}
	return env.Marshal()
}

// eventInto names the event that leads into a final state.
func eventInto(s protocol.State) protocol.Event {
	switch s {
	case protocol.StateCancelled:
		return protocol.EventCancel
	case protocol.StateRejected:
		return protocol.EventDecline
	case protocol.StateCompleted:
		return protocol.EventComplete
	case protocol.StateFailed:
		return protocol.EventFail
	}
	return protocol.EventExpire
}

// errUnchanged makes UpdateReferral write nothing when there is nothing to change.
var errUnchanged = errors.New("unchanged")

// onMessage applies a referral message from another hub and acknowledges it.
func (e *referrals) onMessage(m *nats.Msg) {
	env, err := protocol.OpenEnvelope(m.Data)
	if err != nil {
		e.n.drop("", "malformed", err)
		if errors.Is(err, protocol.ErrUnknownVersion) {
			// Said at once, so a hub of another version does not wait for its timeout.
			e.n.replyError(m, "", err)
		}
		return
	}
	pv, err := e.n.accept(&env, false, true)
	switch {
	case errors.Is(err, protocol.ErrNotFound):
		// Not known yet: say so at once, so the sender tries again soon rather than
		// after its timeout, by when gossip has brought its key.
		e.n.replyError(m, env.From, err)
		return
	case err != nil:
		return
	}
	in, err := e.decode(env)
	if err != nil {
		e.n.drop(env.From, "malformed", err)
		return
	}
	// The inbox key names the sender too: another hub that reuses a message ID it
	// saw go by does not make the real message a duplicate.
	var refused string // why the message was refused, if it was
	ackBytes, dup, err := e.n.store.Receive(env.From+"/"+env.ID, in.referral, func(cur store.ReferralRecord, found bool) (store.Incoming, error) {
		now := e.n.cfg.Now()
		inc, ack, err := e.apply(env, in, cur, found, pv, now)
		if err != nil {
			return store.Incoming{}, err
		}
		if ack.Result == protocol.AckRefused {
			refused = ack.Error
		}
		ack.V, ack.Message, ack.Referral = protocol.Version, env.ID, in.referral
		signed, err := protocol.Sign(e.n.id, protocol.TypeReferralAck, env.From, ack, now)
		if err != nil {
			return store.Incoming{}, err
		}
		if inc.Ack, err = signed.Marshal(); err != nil {
			return store.Incoming{}, err
		}
		return inc, nil
	})
	if err != nil {
		e.n.log.Error("apply referral message", "peer", env.From, "type", env.Type, "err", err)
		return // no acknowledgement: the sender tries again
	}
	if refused != "" && !dup {
		// Recorded as seen and answered, but not applied: a message out of turn, or
		// from a hub that is not party to the referral.
		e.n.drop(env.From, "refused", fmt.Errorf("%s for referral %s: %s", env.Type, in.referral, refused))
	}
	if dup {
		e.n.metrics.referralMsgs.WithLabelValues("duplicate").Inc()
		// The stored acknowledgement is answered again, signed now, so the sender
		// takes it however long ago the message first came.
		if ackBytes, err = e.resign(ackBytes); err != nil {
			e.n.log.Error("sign acknowledgement again", "peer", env.From, "err", err)
			return
		}
	} else {
		e.n.metrics.referralMsgs.WithLabelValues("received").Inc()
		e.wake()
	}
	m.Respond(ackBytes)
}

// incoming is a decoded referral message.
type incoming struct {
	referral string
	offer    *protocol.ReferralOffer
	event    *protocol.ReferralEvent
	details  *protocol.ReferralDetails
	invalid  error // the body broke a rule: the message is refused, and recorded as seen
}

// decode reads the body of a referral message. A body that breaks a rule is kept as
// invalid, to be refused with a reason; one that names no referral at all is an error.
func (e *referrals) decode(env protocol.Envelope) (incoming, error) {
	var in incoming
	now := e.n.cfg.Now()
	switch env.Type {
	case protocol.TypeReferralOffer:
		in.offer = &protocol.ReferralOffer{}
		if err := env.Decode(in.offer); err != nil {
			return in, err
		}
		in.referral, in.invalid = in.offer.Referral.ID, in.offer.Validate(now)
	case protocol.TypeReferralEvent:
		in.event = &protocol.ReferralEvent{}
		if err := env.Decode(in.event); err != nil {
			return in, err
		}
		in.referral, in.invalid = in.event.Referral, in.event.Validate()
	case protocol.TypeReferralDetails:
		in.details = &protocol.ReferralDetails{}
		if err := env.Decode(in.details); err != nil {
			return in, err
		}
		in.referral, in.invalid = in.details.Referral, in.details.Validate()
	default:
		return in, fmt.Errorf("%s on the referral subject", env.Type)
	}
	if _, err := uuid.Parse(in.referral); err != nil {
		return in, fmt.Errorf("%s names no referral: %w", env.Type, protocol.ErrInvalid)
	}
	return in, nil
}

// refuse is the acknowledgement of a message that is not applied.
func refuse(cur store.ReferralRecord, found bool, format string, args ...any) (store.Incoming, protocol.ReferralAck, error) {
	ack := protocol.ReferralAck{Result: protocol.AckRefused, Error: fmt.Sprintf(format, args...)}
	if found {
		ack.State = cur.Referral.State
	}
	return store.Incoming{}, ack, nil
}

// apply works out what a received message changes. It runs inside the store's
// transaction; an error writes nothing and sends no acknowledgement.
func (e *referrals) apply(env protocol.Envelope, in incoming, cur store.ReferralRecord, found bool, pv peerView, now time.Time) (store.Incoming, protocol.ReferralAck, error) {
	self := e.n.id.ID
	if in.invalid != nil {
		return refuse(cur, found, "%v", in.invalid)
	}
	r := cur.Referral
	if found && env.From != r.From && env.From != r.To {
		return refuse(store.ReferralRecord{}, false, "referral %s is not between %s and this hub", in.referral, env.From)
	}
	switch {
	case in.offer != nil:
		o := in.offer.Referral
		switch {
		case found:
			return refuse(cur, found, "referral %s exists already", o.ID)
		case o.From != env.From || o.To != self:
			return refuse(cur, found, "an offer from %s must be a referral from %s to %s", env.From, env.From, self)
		}
		if err := o.Apply(protocol.EventReceive, protocol.RoleSystem, self, now, ""); err != nil {
			return refuse(cur, found, "%v", err)
		}
		rec := store.ReferralRecord{Referral: o, Role: protocol.RoleReceiver, Updated: now}
		e.n.log.Info("referral received", "referral", o.ID, "from", o.From)
		return store.Incoming{Record: &rec}, protocol.ReferralAck{Result: protocol.AckApplied, State: o.State}, nil

	case in.event != nil:
		ev := in.event
		if !found {
			return refuse(cur, found, "no referral %s here", ev.Referral)
		}
		by := protocol.RoleReceiver
		if env.From == r.From {
			by = protocol.RoleSender
		}
		if ev.Event == protocol.EventExpire {
			if by != protocol.RoleSender {
				return refuse(cur, found, "only the referring hub expires a referral")
			}
			if r.State == protocol.StateExpired {
				return store.Incoming{}, protocol.ReferralAck{Result: protocol.AckApplied, State: r.State}, nil
			}
			by = protocol.RoleSystem
		}
		if by == protocol.RoleReceiver && r.State == protocol.StateRequested {
			// The acknowledgement of the offer was lost, but an event from the
			// receiving hub proves it has the referral: record the receipt first.
			if err := r.Apply(protocol.EventReceive, protocol.RoleSystem, env.From, now, ""); err != nil {
				return refuse(cur, found, "%v", err)
			}
		}
		if err := r.Apply(ev.Event, by, env.From, ev.At, ev.Note); err != nil {
			return refuse(cur, found, "%v", err)
		}
		rec := cur
		rec.Referral, rec.Updated = r, now
		setReasons(&rec.Referral, ev.Event, ev.Reason, ev.Outcome)
		var inc store.Incoming
		switch {
		case ev.Event == protocol.EventCancel && rec.Role == protocol.RoleReceiver:
			rec.SME = nil // the SME's identity goes with the consent
		case ev.Event == protocol.EventAccept && rec.Role == protocol.RoleSender:
			// Accepted: now, and only now, the receiver gets who the SME is.
			if rec.SME == nil || pv.BoxKey == nil {
				return store.Incoming{}, protocol.ReferralAck{}, fmt.Errorf("referral %s accepted, but no SME identity or box key of %s to seal it to", r.ID, env.From)
			}
			var to [32]byte
			copy(to[:], pv.BoxKey)
			sealed, err := protocol.SealSME(*rec.SME, e.n.id, to, crand.Reader)
			if err != nil {
				return store.Incoming{}, protocol.ReferralAck{}, err
			}
			o, err := e.outgoing(env.From, r.ID, protocol.TypeReferralDetails,
				protocol.ReferralDetails{V: protocol.Version, Referral: r.ID, SME: sealed}, now)
			if err != nil {
				return store.Incoming{}, protocol.ReferralAck{}, err
			}
			inc.Out = append(inc.Out, o)
		case ev.Event == protocol.EventComplete && rec.Role == protocol.RoleSender:
			inc.KPIs = append(inc.KPIs, kpi(protocol.KPICollaboration, rec, self, ev.At))
		}
		inc.Record = &rec
		e.n.log.Info("referral updated", "referral", r.ID, "by", env.From, "event", ev.Event, "state", r.State)
		return inc, protocol.ReferralAck{Result: protocol.AckApplied, State: r.State}, nil

	default: // details
		d := in.details
		switch {
		case !found:
			return refuse(cur, found, "no referral %s here", d.Referral)
		case env.From != r.From:
			return refuse(cur, found, "only the referring hub sends the SME's details")
		case !slices.Contains(afterAcceptance, r.State) || (r.State == protocol.StateOnHold && r.HeldFrom != protocol.StateInProgress):
			return refuse(cur, found, "the SME's details come only after acceptance, and not after a cancel; the referral is %s", r.State)
		case pv.BoxKey == nil && len(d.SME.From) == 0:
			return store.Incoming{}, protocol.ReferralAck{}, fmt.Errorf("no box key of %s yet", env.From)
		}
		var from [32]byte
		copy(from[:], pv.BoxKey)
		sme, err := protocol.OpenSME(d.SME, e.n.id, from, e.n.old...)
		if err == nil {
			err = sme.Validate()
		}
		if err != nil {
			return refuse(cur, found, "%v", err)
		}
		rec := cur
		rec.SME, rec.Updated = &sme, now
		return store.Incoming{Record: &rec}, protocol.ReferralAck{Result: protocol.AckApplied, State: r.State}, nil
	}
}

// afterAcceptance are the states in which the receiving hub takes the SME's details.
// They may come after the receiver has moved on, even completed: the two hubs' messages
// do not wait for each other.
var afterAcceptance = []protocol.State{protocol.StateAccepted, protocol.StateInProgress, protocol.StateOnHold,
	protocol.StateCompleted, protocol.StateFailed}

// setReasons records the reason or outcome an event carries.
func setReasons(r *protocol.Referral, ev protocol.Event, reason, outcome string) {
	switch ev {
	case protocol.EventDecline, protocol.EventFail, protocol.EventCancel:
		r.Reason = reason
	case protocol.EventComplete:
		r.Outcome = outcome
	}
}

// kpi is the KPI record of kind k that hub self writes for a completed referral.
func kpi(k protocol.KPIKind, rec store.ReferralRecord, self string, at time.Time) protocol.KPIRecord {
	r := rec.Referral
	return protocol.KPIRecord{Kind: k, Referral: r.ID, Hub: self, Partner: partnerOf(rec, self), Role: rec.Role, At: at.UTC(),
		Category: r.Need.Category, Sector: r.Need.Sector, Region: r.Need.Region, Family: r.Need.Family,
		Technologies: r.Need.Technologies, Outcome: r.Outcome}
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

// expire ends the referrals whose deadlines passed. The referring hub expires a
// referral not received, or not decided, in time (plus DecisionGrace, for a decision
// on its way) and tells the other hub; the receiving hub expires one it has not
// decided by the deadline, on its own clock.
func (e *referrals) expire() {
	now := e.n.cfg.Now()
	recs, err := e.n.store.Referrals(store.ReferralFilter{
		States: []protocol.State{protocol.StateRequested, protocol.StateReceived, protocol.StateOnHold}})
	if err != nil {
		e.n.log.Error("read referrals for deadlines", "err", err)
		return
	}
	grace := e.n.cfg.DecisionGrace
	for _, rec := range recs {
		r := rec.Referral
		due := false
		switch {
		case r.State == protocol.StateOnHold && r.HeldFrom != protocol.StateReceived:
		case rec.Role == protocol.RoleSender && r.State == protocol.StateRequested:
			due = now.After(r.AckBy.Add(grace))
		case rec.Role == protocol.RoleSender:
			due = now.After(r.DecideBy.Add(grace))
		default:
			due = r.State != protocol.StateRequested && now.After(r.DecideBy)
		}
		if !due {
			continue
		}
		_, err := e.n.store.UpdateReferral(r.ID, func(rec *store.ReferralRecord) ([]store.Outgoing, []protocol.KPIRecord, error) {
			if err := rec.Referral.Apply(protocol.EventExpire, protocol.RoleSystem, e.n.id.ID, now, "deadline passed"); err != nil {
				return nil, nil, errUnchanged
			}
			rec.Updated = now
			if rec.Role != protocol.RoleSender {
				return nil, nil, nil
			}
			o, err := e.outgoing(r.To, r.ID, protocol.TypeReferralEvent,
				protocol.ReferralEvent{V: protocol.Version, Referral: r.ID, Event: protocol.EventExpire, At: now.UTC()}, now)
			if err != nil {
				return nil, nil, err
			}
			return []store.Outgoing{o}, nil, nil
		})
		switch {
		case errors.Is(err, errUnchanged):
		case err != nil:
			e.n.log.Error("expire referral", "referral", r.ID, "err", err)
		default:
			e.n.log.Info("referral expired", "referral", r.ID, "role", rec.Role)
			e.n.metrics.referralMsgs.WithLabelValues("expired").Inc()
			e.wake()
		}
	}
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
