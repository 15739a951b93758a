package node

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// inboxKeep is how long a hub remembers the IDs of the referral messages it applied,
// to acknowledge a resent one without applying it again. A sender resends until it
// has an acknowledgement, so this must outlast the longest time a hub may be down
// with a message unacknowledged; 30 days is well past every deadline.
const inboxKeep = 30 * 24 * time.Hour

// onMessage applies a referral message from another hub and acknowledges it.
func (e *referrals) onMessage(m *nats.Msg) {
	env, pv, err := e.n.admit(m.Data, inbound{once: true})
	switch {
	case errors.Is(err, protocol.ErrUnknownVersion):
		// Said at once, so a hub of another version does not wait for its timeout.
		e.n.replyError(m, "", err)
		return
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
	var (
		refused string                // why the message was refused, if it was
		purged  *store.ReferralRecord // the record, if applying the message purged the SME's identity
	)
	ackBytes, dup, err := e.n.store.Receive(env.From+"/"+env.ID, in.referral, func(cur store.ReferralRecord, found bool) (store.Incoming, error) {
		now := e.n.cfg.Now()
		inc, ack, err := e.apply(env, in, cur, found, pv, now)
		if err != nil {
			return store.Incoming{}, err
		}
		purged = nil
		if cur.SME != nil && inc.Record != nil && inc.Record.SME == nil {
			purged = inc.Record
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
	// The acknowledgement is stored plain and sent sealed, signed now, so the sender
	// of a duplicate takes it however long ago the message first came.
	if ackBytes, err = e.resign(ackBytes); err != nil {
		e.n.log.Error("seal acknowledgement", "peer", env.From, "err", err)
		return
	}
	if dup {
		e.n.metrics.referralMsgs.WithLabelValues("duplicate").Inc()
	} else {
		e.n.metrics.referralMsgs.WithLabelValues("received").Inc()
		if purged != nil {
			e.purged(*purged, 0)
		}
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

// refuse is the acknowledgement of a message that is not applied. It says how the
// referral ended here, if it has, so that the other hub can settle with it.
func refuse(cur store.ReferralRecord, found bool, format string, args ...any) (store.Incoming, protocol.ReferralAck, error) {
	ack := protocol.ReferralAck{Result: protocol.AckRefused, Error: fmt.Sprintf(format, args...)}
	if found {
		ack.State = cur.Referral.State
		ack.Ending = endingPtr(&cur.Referral)
	}
	return store.Incoming{}, ack, nil
}

// endingPtr returns the ending of r, or nil while it is open.
func endingPtr(r *protocol.Referral) *protocol.Change {
	if c, ok := r.Ending(); ok {
		return &c
	}
	return nil
}

// effects makes what a change of a referral brings at this hub, in the transaction
// of the change, from the state before it: a receiving hub purges the SME's identity
// when the referral is cancelled (it goes with the consent: see receiverPurge for the
// reason it notes); a referring hub seals the
// SME's identity to the receiving hub (box key partnerBox) when it accepts, and
// writes its collaboration when the referral is completed.
func (e *referrals) effects(rec *store.ReferralRecord, before protocol.State, partner string, partnerBox []byte, now time.Time) (store.Incoming, error) {
	r := &rec.Referral
	inc := store.Incoming{Record: rec}
	switch {
	case r.State == protocol.StateCancelled && rec.Role == protocol.RoleReceiver:
		rec.PurgeSME(now, receiverPurge(*r))
	case r.State == protocol.StateAccepted && before != protocol.StateAccepted && rec.Role == protocol.RoleSender:
		// Accepted: now, and only now, the receiver gets who the SME is.
		if rec.SME == nil || partnerBox == nil {
			return store.Incoming{}, fmt.Errorf("referral %s accepted, but no SME identity or box key of %s to seal it to", r.ID, partner)
		}
		var to [32]byte
		copy(to[:], partnerBox)
		sealed, err := protocol.SealSME(*rec.SME, e.n.id, to, crand.Reader)
		if err != nil {
			return store.Incoming{}, err
		}
		o, err := e.outgoing(partner, r.ID, protocol.TypeReferralDetails,
			protocol.ReferralDetails{V: protocol.Version, Referral: r.ID, SME: sealed}, now)
		if err != nil {
			return store.Incoming{}, err
		}
		inc.Out = append(inc.Out, o)
	case r.State == protocol.StateCompleted && before != protocol.StateCompleted && rec.Role == protocol.RoleSender:
		end, _ := r.Ending()
		inc.KPIs = append(inc.KPIs, kpi(protocol.KPICollaboration, *rec, e.n.id.ID, end.At))
	}
	return inc, nil
}

// settleAck takes in the ending the other hub's acknowledgement reports, when it
// differs from this hub's record: the crossing is settled by the same rule the other
// hub applies to this hub's messages (protocol.Referral.Settle). It reports whether
// the record changed, and the KPI records the change makes.
func (e *referrals) settleAck(rec *store.ReferralRecord, theirs protocol.Change, partner string) (bool, []protocol.KPIRecord, error) {
	r := &rec.Referral
	role := protocol.RoleReceiver
	if theirs.By == r.From {
		role = protocol.RoleSender
	}
	if theirs.By != partner || !protocol.CanEnd(role, theirs.Event) {
		return false, nil, nil // this hub's own ending, taken there, or none the partner may make
	}
	before := r.State
	r.History = slices.Clone(r.History)
	changed, err := r.Settle(theirs)
	if err != nil || !changed {
		return false, nil, err
	}
	rec.Updated = e.n.cfg.Now()
	inc, err := e.effects(rec, before, partner, nil, rec.Updated)
	if err != nil {
		return false, nil, err
	}
	e.n.log.Info("referral settled", "referral", r.ID, "theirs", theirs.Event, "by", theirs.By, "state", r.State)
	return true, inc.KPIs, nil
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
		rec := store.ReferralRecord{Referral: o, Role: protocol.RoleReceiver, Updated: now,
			Contacts: e.n.partnerContact(nil, in.offer.Contact, env.From, pv.BoxKey)}
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
		r.History = slices.Clone(r.History) // cur stays as stored, for a refusal
		receipt := by == protocol.RoleReceiver && r.State == protocol.StateRequested
		if receipt {
			// The acknowledgement of the offer was lost, but an event from the
			// receiving hub proves it has the referral: record the receipt first.
			if err := r.Apply(protocol.EventReceive, protocol.RoleSystem, env.From, now, ""); err != nil {
				return refuse(cur, found, "%v", err)
			}
		}
		before := r.State
		changed, err := r.Take(protocol.Change{At: ev.At.UTC(), By: env.From, Person: ev.Person, Event: ev.Event, Note: ev.Note,
			Reason: ev.Reason, Outcome: ev.Outcome}, by)
		if err != nil {
			return refuse(cur, found, "%v", err)
		}
		changed = changed || receipt
		ack := protocol.ReferralAck{Result: protocol.AckApplied, State: r.State, Ending: endingPtr(&r)}
		if !changed {
			return store.Incoming{}, ack, nil
		}
		rec := cur
		rec.Referral, rec.Updated = r, now
		rec.Contacts = e.n.partnerContact(rec.Contacts, ev.Contact, env.From, pv.BoxKey)
		inc, err := e.effects(&rec, before, env.From, pv.BoxKey, now)
		if err != nil {
			return store.Incoming{}, protocol.ReferralAck{}, err
		}
		e.n.log.Info("referral updated", "referral", r.ID, "by", env.From, "event", ev.Event, "state", r.State)
		return inc, ack, nil

	default: // details
		d := in.details
		switch {
		case !found:
			return refuse(cur, found, "no referral %s here", d.Referral)
		case env.From != r.From:
			return refuse(cur, found, "only the referring hub sends the SME's details")
		case !slices.Contains(afterAcceptance, r.State) || (r.State == protocol.StateOnHold && r.HeldFrom != protocol.StateInProgress):
			return refuse(cur, found, "the SME's details come only after acceptance, and not after a cancel; the referral is %s", r.State)
		}
		if why := detailsRefused(cur, now, e.n.cfg.RetainDetails); why != "" {
			return refuse(cur, found, "%s", why)
		}
		if pv.BoxKey == nil && len(d.SME.From) == 0 {
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
