package node_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// clockHubs starts hub-1 and hub-2 on one clock the test moves, with deadlines checked
// every 100 ms; change alters the configuration of each.
func clockHubs(t *testing.T, change func(c *node.Config)) (a, b *nodetest.Hub, clock *nodetest.Clock) {
	t.Helper()
	clock = new(nodetest.Clock)
	a, b = hubsWith(t, func(c *node.Config) {
		c.Now = clock.Now
		c.DecisionGrace = 200 * time.Millisecond
		change(c)
	})
	return a, b, clock
}

// referralUntil is referralTo(to), its consent given an hour ago by clock and ending
// at until.
func referralUntil(to string, clock *nodetest.Clock, until time.Time) api.ReferralRequest {
	req := referralTo(to)
	req.Consent.GivenAt, req.Consent.Until = clock.Now().Add(-time.Hour), until
	return req
}

// act makes each event on referral id at hub h, failing the test at the first refused.
func act(t *testing.T, h *nodetest.Hub, id string, evs ...protocol.Event) {
	t.Helper()
	for _, ev := range evs {
		a := api.ReferralAction{}
		if ev == protocol.EventComplete {
			a.Outcome = "service-delivered"
		}
		if _, err := h.Act(id, ev, a); err != nil {
			t.Fatalf("%s %s at %s: %v", ev, id, h.ID(), err)
		}
	}
}

// waitPurged waits until hub h has deleted the SME's identity of referral id for
// reason why, and returns the referral.
func waitPurged(t *testing.T, h *nodetest.Hub, id, why string) api.ReferralInfo {
	t.Helper()
	var info api.ReferralInfo
	nodetest.Eventually(t, 10*time.Second, func() error {
		var err error
		if info, err = h.Referral(id); err != nil {
			return err
		}
		if info.SME != nil || info.SMEPurged.IsZero() || info.SMEPurgeReason != why {
			return fmt.Errorf("%s at %s: SME %+v, purged %v (%q); want it purged for %s",
				id, h.ID(), info.SME, info.SMEPurged, info.SMEPurgeReason, why)
		}
		return nil
	})
	return info
}

// holdsSME fails unless hub h still holds the SME's identity of referral id.
func holdsSME(t *testing.T, h *nodetest.Hub, id string) {
	t.Helper()
	info, err := h.Referral(id)
	if err != nil {
		t.Fatal(err)
	}
	if info.SME == nil || !info.SMEPurged.IsZero() || info.SMEPurgeReason != "" {
		t.Errorf("%s at %s: SME %+v, purged %v (%q); want it still held", id, h.ID(), info.SME, info.SMEPurged, info.SMEPurgeReason)
	}
}

// When the SME's consent ends, both hubs cancel the open referral with the reason
// consent-expired, each by its own clock, and delete the SME's identity: they agree on
// the cancel that stands, stamped with the consent's end, and keep the anonymous
// record. A restart keeps it so.
func TestRetention_consentLapses(t *testing.T) {
	a, b, clock := clockHubs(t, func(*node.Config) {})
	until := clock.Now().Add(time.Hour).UTC().Truncate(time.Second)

	started := acceptedReferral(t, a, b, referralUntil(b.ID(), clock, until))
	act(t, b, started, protocol.EventStart)
	nodetest.WaitState(t, a, started, protocol.StateInProgress)
	undecided := receivedReferral(t, a, b, referralUntil(b.ID(), clock, until))

	clock.Advance(2 * time.Hour)
	for _, id := range []string{started, undecided} {
		ra := nodetest.WaitState(t, a, id, protocol.StateCancelled)
		rb := nodetest.WaitState(t, b, id, protocol.StateCancelled)
		ea, _ := ra.Referral.Ending()
		eb, _ := rb.Referral.Ending()
		// Both hubs cancel at the consent's end: hub-1's cancel comes first by the
		// hubs' IDs, at both.
		want := protocol.Change{At: until, By: a.ID(), Event: protocol.EventCancel, Reason: "consent-expired"}
		for _, e := range []protocol.Change{ea, eb} {
			if !e.At.Equal(want.At) || e.By != want.By || e.Event != want.Event || e.Reason != want.Reason || e.To != protocol.StateCancelled ||
				!strings.Contains(e.Note, "The SME's consent ended on "+until.Format(time.RFC3339)) {
				t.Errorf("%s: ending %+v, want a cancel by %s at %v for consent-expired, with a note", id, e, want.By, until)
			}
		}
		for _, info := range []api.ReferralInfo{ra, rb} {
			if info.Referral.Reason != "consent-expired" || len(info.Actions) != 0 {
				t.Errorf("%s at %s: reason %q, actions %v; want consent-expired, none", id, info.Partner, info.Referral.Reason, info.Actions)
			}
			if info.Referral.Need.Description == "" {
				t.Errorf("%s: the anonymous record went too", id)
			}
		}
	}
	// The referring hub held the SME's identity of both; the receiving hub only of the
	// one it accepted.
	waitPurged(t, a, started, "consent-expired")
	waitPurged(t, a, undecided, "consent-expired")
	waitPurged(t, b, started, "consent-expired")
	if info, _ := b.Referral(undecided); info.SME != nil || !info.SMEPurged.IsZero() {
		t.Errorf("undecided at the receiving hub: SME %+v, purged %v; want neither: it never held it", info.SME, info.SMEPurged)
	}
	if got := a.Purges("consent-expired"); got != 2 {
		t.Errorf("hub-1 counted %v purges for consent-expired, want 2", got)
	}
	if got := b.Purges("consent-expired"); got != 1 {
		t.Errorf("hub-2 counted %v purges for consent-expired, want 1", got)
	}
	// Nothing can be done any more.
	if _, err := b.Act(started, protocol.EventComplete, api.ReferralAction{Outcome: "service-delivered"}); err == nil {
		t.Error("completed a referral cancelled for consent-expired")
	}

	// A restart keeps the purge, and does not purge again.
	a.Kill()
	b.Kill()
	a = a.Restart()
	b = b.Restart(a.GossipAddr())
	for _, h := range []*nodetest.Hub{a, b} {
		info := waitPurged(t, h, started, "consent-expired")
		if info.Referral.State != protocol.StateCancelled {
			t.Errorf("after a restart, %s holds %s as %s, want cancelled", h.ID(), started, info.Referral.State)
		}
		if got := h.Purges("consent-expired"); got != 0 {
			t.Errorf("after a restart, %s purged %v more", h.ID(), got)
		}
	}
}

// A hub refuses to act on an open referral whose consent has ended, before its deadline
// loop has cancelled it.
func TestRetention_actAfterConsentEnded(t *testing.T) {
	// Deadlines checked every 10 s: the refusal comes first.
	clock := new(nodetest.Clock)
	a, b := hubsWith(t, func(c *node.Config) { c.Now = clock.Now })
	until := clock.Now().Add(time.Hour)
	id := acceptedReferral(t, a, b, referralUntil(b.ID(), clock, until))
	clock.Advance(time.Hour)
	_, err := b.Act(id, protocol.EventStart, api.ReferralAction{})
	if err == nil || !strings.Contains(err.Error(), "the SME's consent ended on "+until.UTC().Format(time.RFC3339)) {
		t.Errorf("start after the consent ended: %v, want a refusal that says the consent ended", err)
	}
}

// RetainDetails after a referral ends, both hubs delete the SME's identity, not
// before: the referral that ended two hours earlier goes first.
func TestRetention_afterEnding(t *testing.T) {
	const retain = 24 * time.Hour
	a, b, clock := clockHubs(t, func(c *node.Config) { c.RetainDetails = retain })
	until := clock.Now().Add(90 * 24 * time.Hour)

	early := acceptedReferral(t, a, b, referralUntil(b.ID(), clock, until))
	late := acceptedReferral(t, a, b, referralUntil(b.ID(), clock, until))
	act(t, b, early, protocol.EventStart, protocol.EventComplete)
	nodetest.WaitState(t, a, early, protocol.StateCompleted)
	clock.Advance(2 * time.Hour)
	act(t, b, late, protocol.EventStart, protocol.EventComplete)
	nodetest.WaitState(t, a, late, protocol.StateCompleted)

	// An hour short of the late referral's retention, the early one's has passed: once
	// a round has purged the early one, the late one is still held.
	clock.Advance(retain - time.Hour)
	for _, h := range []*nodetest.Hub{a, b} {
		waitPurged(t, h, early, "retention")
		holdsSME(t, h, late)
	}
	clock.Advance(2 * time.Hour)
	for _, h := range []*nodetest.Hub{a, b} {
		info := waitPurged(t, h, late, "retention")
		if info.Referral.State != protocol.StateCompleted || info.Referral.Outcome != "service-delivered" {
			t.Errorf("%s at %s: %s (%s) after the purge, want completed as it was", late, h.ID(), info.Referral.State, info.Referral.Outcome)
		}
		// The purge is counted just after its commit, which the wait above sees.
		nodetest.Eventually(t, 5*time.Second, func() error {
			if got := h.Purges("retention"); got != 2 {
				return fmt.Errorf("%s counted %v purges for retention, want 2", h.ID(), got)
			}
			return nil
		})
	}
}

// The SME's details that reach the receiving hub after it would have purged them are
// refused, not stored: here the receiving hub accepted and completed the referral
// while the referring hub was down, and its retention passed before the details came.
func TestRetention_detailsAfterRetentionRefused(t *testing.T) {
	hubs := 0
	a, b, clock := clockHubs(t, func(c *node.Config) {
		if hubs++; hubs == 2 { // hub-2, the receiving hub
			c.RetainDetails = time.Hour
		}
	})
	until := clock.Now().Add(90 * 24 * time.Hour)
	id := receivedReferral(t, a, b, referralUntil(b.ID(), clock, until))
	a.Kill()
	act(t, b, id, protocol.EventAccept, protocol.EventStart, protocol.EventComplete)
	clock.Advance(2 * time.Hour)

	refused := b.Dropped("refused")
	a = a.Restart(b.GossipAddr())
	ra := nodetest.WaitState(t, a, id, protocol.StateCompleted)
	if ra.SME == nil {
		t.Errorf("the referring hub lost the SME's identity: its retention is 90 days")
	}
	info, err := b.Referral(id)
	if err != nil {
		t.Fatal(err)
	}
	if info.SME != nil {
		t.Errorf("the receiving hub stored the SME's details an hour past its retention: %+v", info.SME)
	}
	if got := b.Dropped("refused") - refused; got != 1 {
		t.Errorf("the receiving hub refused %v messages, want the details", got)
	}
}

// KPI records hold no personal data: no field of the SME's identity, and not the need
// in words, which the advisor writes and might name someone by mistake.
func TestRetention_kpiRecordsHoldNoPersonalData(t *testing.T) {
	// The fields of a KPI record: a field added here must be looked at first.
	want := []string{"Kind", "Referral", "Hub", "Partner", "Role", "At", "Category", "Sector", "Region", "Family", "Technologies", "Outcome"}
	var got []string
	typ := reflect.TypeFor[protocol.KPIRecord]()
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("KPIRecord has fields %v, want %v: does the new one hold personal data?", got, want)
	}

	a, b := twoHubs(t)
	req := referralTo(b.ID())
	req.SME.Website, req.SME.ContactPhone = "https://leipomo.example", "+358 40 765 4321"
	id := acceptedReferral(t, a, b, req)
	act(t, b, id, protocol.EventStart, protocol.EventComplete)
	nodetest.WaitState(t, a, id, protocol.StateCompleted)
	day := time.Now().Add(-time.Hour)
	for _, h := range []*nodetest.Hub{a, b} {
		rep, err := h.Report(day, day.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Records) == 0 {
			t.Fatalf("%s wrote no KPI record", h.ID())
		}
		var csv strings.Builder
		if err := node.WriteReportCSV(&csv, rep); err != nil {
			t.Fatal(err)
		}
		records, _ := json.Marshal(rep.Records)
		for _, s := range []string{req.SME.Name, req.SME.ContactName, req.SME.ContactEmail, req.SME.ContactPhone,
			"leipomo.example", "Esimerkki", "Aino", req.Need.Description, req.Consent.GivenBy} {
			if strings.Contains(string(records), s) || strings.Contains(csv.String(), s) {
				t.Errorf("%s's KPI records hold %q", h.ID(), s)
			}
		}
	}
}
