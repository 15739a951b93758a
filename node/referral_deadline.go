package node

import (
	"errors"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// errUnchanged makes UpdateReferral write nothing when there is nothing to change.
var errUnchanged = errors.New("unchanged")

// openStates are the states of a referral that has been sent and has not ended.
var openStates = []protocol.State{protocol.StateRequested, protocol.StateReceived, protocol.StateOnHold,
	protocol.StateAccepted, protocol.StateInProgress}

// deadlines enforces, by this hub's clock, what time ends: the SME's consent (see
// lapse), the deadlines to receive and to decide (expire), and the time the SME's
// identity is kept after a referral ends (retain). Open referrals are read once for
// the first two and for the notifications of deadlines within 24 hours.
func (e *referrals) deadlines() {
	now := e.n.cfg.Now()
	open, err := e.n.store.Referrals(store.ReferralFilter{States: openStates})
	if err != nil {
		e.n.log.Error("read referrals for deadlines", "err", err)
	} else {
		// A referral whose consent ended is cancelled, not expired: lapse goes first.
		open = e.lapse(open, now)
		e.expire(open, now)
		// The notifier's look for deadlines within 24 hours reads the same list
		// (notify.go); a referral expire just ended is past its deadline, skipped.
		e.n.notify.dueSoon(open, now)
	}
	e.retain(now)
}

// expire ends the referrals of open whose deadlines passed at now. The referring hub
// expires a referral not received, or not decided, in time (plus DecisionGrace, for a
// decision on its way) and tells the other hub; the receiving hub expires one it has
// not decided by the deadline, on its own clock.
func (e *referrals) expire(open []store.ReferralRecord, now time.Time) {
	grace := e.n.cfg.DecisionGrace
	for _, rec := range open {
		r := rec.Referral
		due := false
		switch {
		case r.State == protocol.StateAccepted || r.State == protocol.StateInProgress:
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
