package node

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// The referrals with a hub the steward revoked end at the hub that remains: nothing
// can be sent to a revoked hub, nor taken from it, so a referral with it would wait
// for ever. When a revocation is applied (by the operator, from gossip, or read from
// the store at start-up), every open referral with that hub is cancelled by this hub
// by itself, with the reason partner-revoked, and the messages queued for the revoked
// hub are dropped, in one store transaction per referral. The revoked hub is told
// nothing. See docs/referrals.md.

// partnerRevoked asks the engine to end the referrals with hub id, which the steward
// revoked. It never blocks: memberlist may be the caller.
func (e *referrals) partnerRevoked(id string) {
	e.mu.Lock()
	e.revoked[id] = true
	e.mu.Unlock()
	e.wake()
}

// endRevoked ends the referrals with each hub partnerRevoked named since the last
// call. A hub some of whose referrals the store did not take is named again, for the
// next round.
func (e *referrals) endRevoked() {
	e.mu.Lock()
	if len(e.revoked) == 0 {
		e.mu.Unlock()
		return
	}
	ids := slices.Sorted(maps.Keys(e.revoked))
	clear(e.revoked)
	e.mu.Unlock()
	for _, id := range ids {
		if err := e.endWith(id); err != nil {
			e.n.log.Error("end referrals with a revoked hub", "peer", id, "err", err)
			e.mu.Lock()
			e.revoked[id] = true
			e.mu.Unlock()
		}
	}
}

// endWith ends every open referral with hub id, if it is revoked, and drops every
// message queued for it, that of referrals ended already included.
func (e *referrals) endWith(id string) error {
	r, ok := e.n.revokedPartner(id)
	if !ok {
		return nil // admitted again since
	}
	recs, err := e.n.store.Referrals(store.ReferralFilter{Partner: id})
	if err != nil {
		return err
	}
	pending, err := e.n.store.Pending()
	if err != nil {
		return err
	}
	var failed error
	for _, rec := range recs {
		ref := rec.Referral.ID
		if rec.Referral.State.Final() && pending[ref] == 0 {
			continue
		}
		e.mu.Lock()
		inflight := maps.Clone(e.inflight)
		e.mu.Unlock()
		var ended bool
		var purged store.ReferralRecord
		dropped, err := e.n.store.Abandon(ref, id, func(rec *store.ReferralRecord, dropped []store.Outgoing) (bool, error) {
			had := rec.SME != nil
			ended = e.endRevokedReferral(rec, dropped, inflight, r)
			if had && rec.SME == nil {
				purged = *rec
			}
			return ended, nil
		})
		if err != nil {
			failed = fmt.Errorf("referral %s: %w", ref, err)
			continue
		}
		if ended {
			e.n.log.Warn("referral cancelled: the other hub was revoked", "referral", ref, "peer", id, "role", rec.Role, "dropped", len(dropped))
			e.n.metrics.referralMsgs.WithLabelValues("partner-revoked").Inc()
			if !purged.Purged.IsZero() {
				e.purged(purged, 0)
			}
		} else if len(dropped) > 0 {
			e.n.log.Info("messages to a revoked hub dropped", "referral", ref, "peer", id, "dropped", len(dropped))
		}
	}
	return failed
}

// endRevokedReferral cancels rec, whose other hub was revoked by r, as this hub by
// itself, and reports whether it did: a referral that has ended already only loses
// its queued messages, dropped. At the receiving hub the SME's identity goes: its
// consent was given through the revoked hub. At the referring hub it stays: the SME
// is its own customer. inflight names the messages being delivered at the time.
func (e *referrals) endRevokedReferral(rec *store.ReferralRecord, dropped []store.Outgoing, inflight map[string]bool, r protocol.Revocation) bool {
	ref := &rec.Referral
	if ref.State.Final() {
		return false
	}
	const reason = purgePartnerRevoked // the cancel's reason too
	now := e.n.cfg.Now()
	if err := ref.Apply(protocol.EventCancel, protocol.RoleSystem, e.n.id.ID, now, revokedNote(rec, dropped, inflight, r)); err != nil {
		e.n.log.Error("cancel referral with a revoked hub", "referral", ref.ID, "err", err)
		return false
	}
	ref.History[len(ref.History)-1].Reason = reason
	ref.SetReasons(protocol.EventCancel, reason, "")
	if rec.Role == protocol.RoleReceiver {
		rec.PurgeSME(now, purgePartnerRevoked)
	}
	return true
}

// revokedNote is the history note of a referral cancelled because its other hub was
// revoked by r: it tells the operator what became of the SME's details. dropped are
// the messages to that hub that were still queued, inflight those being delivered.
func revokedNote(rec *store.ReferralRecord, dropped []store.Outgoing, inflight map[string]bool, r protocol.Revocation) string {
	partner := rec.Partner()
	var b strings.Builder
	fmt.Fprintf(&b, "Hub %s %s: this hub cancelled the referral by itself, and sends it nothing more.", partner, revokedOn(r))
	if rec.Role == protocol.RoleReceiver {
		fmt.Fprintf(&b, " The SME's details are deleted here, if this hub had them: the SME gave its consent through %s, whose customer it is.", partner)
		return b.String()
	}
	accepted := slices.ContainsFunc(rec.Referral.History, func(c protocol.Change) bool { return c.Event == protocol.EventAccept })
	var queued, sending bool
	for _, o := range dropped {
		if env, err := protocol.OpenEnvelope(o.Envelope); err == nil && env.Type == protocol.TypeReferralDetails {
			queued = true
			sending = sending || inflight[o.ID]
		}
	}
	switch {
	case !accepted:
		fmt.Fprintf(&b, " %s never received the SME's details: it had not accepted the referral.", partner)
	case sending:
		fmt.Fprintf(&b, " The SME's details were on their way to %s, sealed to it, when it was revoked: it may hold them; ask its operator to delete them.", partner)
	case queued:
		fmt.Fprintf(&b, " %s never received the SME's details: the message with them was still waiting, and is dropped.", partner)
	default:
		fmt.Fprintf(&b, " %s received the SME's details, sealed to it, after it accepted, and may still hold them: ask its operator to delete them.", partner)
	}
	b.WriteString(" This hub keeps them, the SME being its customer, until the consent ends or the retention period after the referral ends passes.")
	return b.String()
}

// revokedPartner returns the revocation that keeps hub id out of the network now,
// if there is one: its newest revocation, unless id has been admitted again since
// with a certificate issued after it. A hub not seen this run is taken as admitted
// again when the directory holds a profile fetched from it after the revocation: only
// a member's profile is fetched, and a revocation deletes the profile.
func (n *Node) revokedPartner(id string) (protocol.Revocation, bool) {
	r, ok := n.trust.revocation(id)
	if !ok || id == n.id.ID {
		return protocol.Revocation{}, false
	}
	pv, known := n.dir.peer(id)
	switch {
	case !known || pv.Revoked:
		return r, true
	case pv.Issued != 0:
		// Seen this run with a certificate trust.check let through.
		return r, pv.Issued <= r.At
	default:
		// r.At is in whole seconds, and a certificate issued after it is issued a
		// second later at least.
		return r, pv.Cached == 0 || pv.Fetched.Before(time.Unix(r.At+1, 0))
	}
}

// revokedOn says when and why the steward revoked a hub, after the hub's name.
func revokedOn(r protocol.Revocation) string {
	s := "was revoked from the network on " + time.Unix(r.At, 0).UTC().Format(time.RFC3339)
	if r.Reason != "" {
		s += " (" + r.Reason + ")"
	}
	return s
}
