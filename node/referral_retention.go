package node

import (
	"fmt"
	"slices"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// An SME's identity is kept no longer than the referral needs it. Each hub, by its
// own clock, from the deadline loop:
//
//   - when the SME's consent ends (Consent.Until), cancels a referral still open, by
//     itself, with the reason consent-expired, and purges the SME's identity;
//   - RetainDetails after a referral ended (the time of its ending), purges the SME's
//     identity, with the reason retention.
//
// Both hubs compute the same: the cancel is stamped with the consent's end, not with
// the time the hub noticed, so that an ending either hub made before the consent ended
// prevails over it (protocol.Prevails) and the two hubs agree without a message. The
// referring hub sends its cancel all the same, as it sends every ending it makes, so
// that the receiving hub's history holds it and a receiving hub whose clock is behind
// learns of it at once. A purge deletes, in the same transaction, the messages still
// queued that would carry the identity (store.Purge); a receiving hub refuses details
// that arrive after its purge, after the consent ended, or after the retention.
// See docs/referrals.md.

// The reasons a hub purges an SME's identity: store.ReferralRecord.PurgeReason.
const (
	purgeConsentExpired = "consent-expired" // the SME's consent ended
	purgeRetention      = "retention"       // RetainDetails passed after the referral ended
	purgePartnerRevoked = "partner-revoked" // at the receiving hub: the referring hub was revoked
	purgeCancelled      = "cancelled"       // at the receiving hub: the referring hub cancelled
)

// retainPage is how many referrals holding an SME's identity one round of the
// deadline loop reads, at most: the next round goes on from where it stopped.
const retainPage = 1024

// lapse cancels and purges the referrals of open whose consent has ended at now, and
// returns the others.
func (e *referrals) lapse(open []store.ReferralRecord, now time.Time) []store.ReferralRecord {
	var ids []string
	rest := open[:0:0]
	for _, rec := range open {
		if consentEnded(rec.Referral, now) {
			ids = append(ids, rec.Referral.ID)
		} else {
			rest = append(rest, rec)
		}
	}
	e.retire(ids, now)
	return rest
}

// retain purges the SME's identity where it is due at now: it reads the next
// retainPage referrals that hold one, after those the last round read.
func (e *referrals) retain(now time.Time) {
	recs, err := e.n.store.ReferralsWithSME(e.retainAfter, retainPage)
	if err != nil {
		e.n.log.Error("read referrals for retention", "err", err)
		return
	}
	if len(recs) < retainPage {
		e.retainAfter = "" // at the end: the next round starts again from the first
	} else {
		e.retainAfter = recs[len(recs)-1].Referral.ID
	}
	var ids []string
	for _, rec := range recs {
		if at, _ := detailsEnd(rec, e.n.cfg.RetainDetails); !now.Before(at) {
			ids = append(ids, rec.Referral.ID)
		}
	}
	e.retire(ids, now)
}

// retire applies retirement to the referrals ids, a batch in one transaction each.
func (e *referrals) retire(ids []string, now time.Time) {
	for batch := range slices.Chunk(ids, store.MaxPurgeBatch) {
		what := map[string]retired{}
		done, err := e.n.store.Purge(batch, func(rec *store.ReferralRecord) (bool, []store.Outgoing, error) {
			w, out, err := e.retirement(rec, now)
			what[rec.Referral.ID] = w
			return w.cancelled || w.purged, out, err
		})
		if err != nil {
			e.n.log.Error("purge SME details", "referrals", len(batch), "err", err)
			continue
		}
		for _, p := range done {
			w := what[p.Record.Referral.ID]
			if w.cancelled {
				e.n.log.Info("referral cancelled: the SME's consent ended", "referral", p.Record.Referral.ID, "role", p.Record.Role)
				e.n.metrics.referralMsgs.WithLabelValues(purgeConsentExpired).Inc()
			}
			if w.purged {
				e.purged(p.Record, p.Dropped)
			}
		}
		if len(done) > 0 {
			e.wake()
		}
	}
}

// retired is what retirement did to a referral.
type retired struct{ cancelled, purged bool }

// retirement works out, inside the store's transaction, what the SME's consent and
// the retention period leave of rec at now: a referral still open whose consent ended
// is cancelled by this hub, and the SME's identity is purged when it is due. It
// returns what it did, with the cancel to send when this hub referred the SME.
func (e *referrals) retirement(rec *store.ReferralRecord, now time.Time) (retired, []store.Outgoing, error) {
	r := &rec.Referral
	var (
		w   retired
		out []store.Outgoing
	)
	if !r.State.Final() && consentEnded(*r, now) {
		until := r.Consent.Until.UTC()
		note := "The SME's consent ended on " + until.Format(time.RFC3339) +
			": the referral is cancelled, and the SME's details are deleted at both hubs."
		r.History = slices.Clone(r.History)
		if err := r.Apply(protocol.EventCancel, protocol.RoleSystem, e.n.id.ID, until, note); err != nil {
			e.n.log.Error("cancel referral whose consent ended", "referral", r.ID, "err", err)
		} else {
			r.SetReasons(protocol.EventCancel, purgeConsentExpired, "")
			w.cancelled = true
			if _, revoked := e.n.revokedPartner(rec.Partner()); rec.Role == protocol.RoleSender && !revoked {
				o, err := e.outgoing(rec.Partner(), r.ID, protocol.TypeReferralEvent, protocol.ReferralEvent{V: protocol.Version,
					Referral: r.ID, Event: protocol.EventCancel, At: until, Reason: purgeConsentExpired, Note: note}, now)
				if err != nil {
					return retired{}, nil, err
				}
				out = append(out, o)
			}
		}
	}
	if at, why := detailsEnd(*rec, e.n.cfg.RetainDetails); !now.Before(at) {
		w.purged = rec.PurgeSME(now, why)
	}
	if w.cancelled || w.purged {
		rec.Updated = now
	}
	return w, out, nil
}

// purged logs and counts the purge of rec's SME identity, once it is stored; dropped
// is how many messages with it were still queued and are deleted.
func (e *referrals) purged(rec store.ReferralRecord, dropped int) {
	e.n.metrics.purges.WithLabelValues(rec.PurgeReason).Inc()
	e.n.log.Info("SME details purged", "referral", rec.Referral.ID, "role", rec.Role, "reason", rec.PurgeReason, "dropped", dropped)
}

// consentEnded reports whether the SME's consent to referral r has ended at now.
func consentEnded(r protocol.Referral, now time.Time) bool {
	return !now.Before(r.Consent.Until)
}

// detailsEnd returns when the SME's identity must go from rec, and why: when the
// SME's consent ends (consent-expired), or retain after the referral's ending
// (retention), whichever comes first.
func detailsEnd(rec store.ReferralRecord, retain time.Duration) (time.Time, string) {
	at, why := rec.Referral.Consent.Until, purgeConsentExpired
	if end, ok := rec.Referral.Ending(); ok && end.At.Add(retain).Before(at) {
		at, why = end.At.Add(retain), purgeRetention
	}
	return at, why
}

// detailsRefused says why the SME's details that reach rec at now are not taken, or ""
// when they are: a hub that purged them, or would purge them now, takes them no more.
func detailsRefused(rec store.ReferralRecord, now time.Time, retain time.Duration) string {
	if !rec.Purged.IsZero() {
		return fmt.Sprintf("the SME's details were deleted here on %s (%s) and are taken no more",
			rec.Purged.UTC().Format(time.RFC3339), rec.PurgeReason)
	}
	at, why := detailsEnd(rec, retain)
	switch {
	case now.Before(at):
		return ""
	case why == purgeConsentExpired:
		return "the SME's consent ended on " + at.UTC().Format(time.RFC3339) + ": its details are taken no more"
	default:
		return fmt.Sprintf("the referral ended more than %v ago: the SME's details are kept no longer", retain)
	}
}

// receiverPurge is why a receiving hub purges the SME's identity when the referral is
// cancelled: because the consent ended, or because the referring hub cancelled it.
func receiverPurge(r protocol.Referral) string {
	if r.Reason == purgeConsentExpired {
		return purgeConsentExpired
	}
	return purgeCancelled
}
