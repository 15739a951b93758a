package node

import (
	"slices"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// actions are the events people make through the API.
var actions = []protocol.Event{protocol.EventAccept, protocol.EventDecline, protocol.EventHold, protocol.EventAnswer,
	protocol.EventStart, protocol.EventComplete, protocol.EventFail, protocol.EventCancel}

// Act makes event ev on referral id as this hub: accept, decline, hold, answer,
// start, complete, fail or cancel. The change and its message to the other hub are
// stored in one transaction; the lifecycle refuses what this hub may not do now. An
// event on a referral whose other hub the steward revoked, or whose SME's consent has
// ended, is refused too, with a *protocol.TransitionError that says so: this hub
// cancels that referral by itself.
//
// No person is named in the history: see ActAs.
func (n *Node) Act(id string, ev protocol.Event, a api.ReferralAction) (api.ReferralInfo, error) {
	return n.ActAs(Actor{}, id, ev, a)
}

// ActAs makes event ev on referral id as Act does, made by by: the history here and
// at the other hub names by, and a person becomes the referral's contact at this hub
// if it has none yet (referral_people.go).
func (n *Node) ActAs(by Actor, id string, ev protocol.Event, a api.ReferralAction) (api.ReferralInfo, error) {
	if !slices.Contains(actions, ev) {
		return api.ReferralInfo{}, &protocol.ValidationError{What: "action", Problems: []protocol.FieldError{
			{Field: "action", Rule: "must be accept, decline, hold, answer, start, complete, fail or cancel"}}}
	}
	now := n.cfg.Now()
	body := protocol.ReferralEvent{V: protocol.Version, Referral: id, Event: ev, At: now.UTC(), Reason: a.Reason, Outcome: a.Outcome, Note: a.Note,
		Person: by.Name}
	if err := body.Validate(); err != nil {
		return api.ReferralInfo{}, err
	}
	rec, err := n.store.UpdateReferral(id, func(rec *store.ReferralRecord) ([]store.Outgoing, []protocol.KPIRecord, error) {
		r := &rec.Referral
		if rv, revoked := n.revokedPartner(rec.Partner()); revoked && !r.State.Final() {
			// Nothing can reach the revoked hub: the referral ends here instead, as
			// partnerRevoked has it end, and this change is not made.
			n.referrals.partnerRevoked(rec.Partner())
			return nil, nil, &protocol.TransitionError{From: r.State, Event: ev, By: rec.Role,
				Rule: "hub " + rec.Partner() + " " + revokedOn(rv) + ": nothing more can be sent to it, and this hub cancels the referral by itself (partner-revoked)"}
		}
		if !r.State.Final() && consentEnded(*r, now) {
			// The deadline loop cancels it, as at the other hub, with the time the
			// consent ended: nothing done after that may stand.
			return nil, nil, &protocol.TransitionError{From: r.State, Event: ev, By: rec.Role,
				Rule: "the SME's consent ended on " + r.Consent.Until.UTC().Format(time.RFC3339) + ": this hub cancels the referral by itself (consent-expired) and deletes the SME's details"}
		}
		if rec.Role == protocol.RoleReceiver && r.State == protocol.StateReceived && now.After(r.DecideBy) {
			return nil, nil, &protocol.TransitionError{From: r.State, Event: ev, By: rec.Role,
				Rule: "the deadline to decide passed at " + r.DecideBy.Format(time.RFC3339)}
		}
		if err := r.Apply(ev, rec.Role, n.id.ID, now, a.Note); err != nil {
			return nil, nil, err
		}
		r.SetReasons(ev, a.Reason, a.Outcome)
		r.SetPerson(ev, by.Name)
		rec.Updated = now
		partner := rec.Partner()
		body := body
		rec.Contacts, body.Contact = n.ownContact(by, partner, rec.Contacts)
		o, err := n.referrals.outgoing(partner, r.ID, protocol.TypeReferralEvent, body, now)
		if err != nil {
			return nil, nil, err
		}
		var kpis []protocol.KPIRecord
		if ev == protocol.EventComplete {
			kpis = []protocol.KPIRecord{kpi(protocol.KPIServiceDelivered, *rec, n.id.ID, now), kpi(protocol.KPICollaboration, *rec, n.id.ID, now)}
		}
		return []store.Outgoing{o}, kpis, nil
	})
	if err != nil {
		return api.ReferralInfo{}, err
	}
	n.log.Info("referral updated", "referral", id, "event", ev, "state", rec.Referral.State)
	n.referrals.wake()
	pending, err := n.pending()
	if err != nil {
		return api.ReferralInfo{}, err
	}
	return n.referralInfo(rec, pending[id]), nil
}
