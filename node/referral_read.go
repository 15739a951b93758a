package node

import (
	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Referral returns one referral.
func (n *Node) Referral(id string) (api.ReferralInfo, error) {
	rec, err := n.store.Referral(id)
	if err != nil {
		return api.ReferralInfo{}, err
	}
	pending, err := n.pending()
	if err != nil {
		return api.ReferralInfo{}, err
	}
	return n.referralInfo(rec, pending[id]), nil
}

// Referrals lists the referrals q selects, newest first.
func (n *Node) Referrals(q api.ReferralQuery) ([]api.ReferralInfo, error) {
	f := store.ReferralFilter{Partner: q.Partner, From: q.From, To: q.To}
	switch q.Direction {
	case "":
	case "in":
		f.Role = protocol.RoleReceiver
	case "out":
		f.Role = protocol.RoleSender
	default:
		return nil, &protocol.ValidationError{What: "referral list", Problems: []protocol.FieldError{{Field: "direction", Rule: "must be in or out"}}}
	}
	if q.State != "" {
		st, ok := protocol.ParseState(string(q.State))
		if !ok {
			return nil, &protocol.ValidationError{What: "referral list", Problems: []protocol.FieldError{{Field: "state", Rule: protocol.StateVocab.Rule(string(q.State))}}}
		}
		f.States = []protocol.State{st}
	}
	recs, err := n.store.Referrals(f)
	if err != nil {
		return nil, err
	}
	pending, err := n.pending()
	if err != nil {
		return nil, err
	}
	out := make([]api.ReferralInfo, len(recs))
	for i, rec := range recs {
		out[i] = n.referralInfo(rec, pending[rec.Referral.ID])
	}
	return out, nil
}

// pending counts the outbox entries per referral.
func (n *Node) pending() (map[string]int, error) { return n.store.Pending() }

func (n *Node) referralInfo(rec store.ReferralRecord, pending int) api.ReferralInfo {
	info := api.ReferralInfo{Referral: rec.Referral, Role: rec.Role, Partner: rec.Partner(), SME: rec.SME,
		SMEPurged: rec.Purged, SMEPurgeReason: rec.PurgeReason, Contacts: apiContacts(rec.Contacts),
		Pending: pending, Actions: []protocol.Event{}, Updated: rec.Updated}
	if !rec.Referral.State.Final() && consentEnded(rec.Referral, n.cfg.Now()) {
		return info // Act refuses every action: the deadline loop cancels it
	}
	for _, ev := range actions {
		if _, err := protocol.Next(rec.Referral.State, rec.Referral.HeldFrom, ev, rec.Role); err == nil {
			info.Actions = append(info.Actions, ev)
		}
	}
	return info
}
