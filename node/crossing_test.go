package node_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// crossEndings makes the two hubs end referral id each its own way while neither can
// hear the other: hub-2 is stopped while hub-1 acts, then hub-1 while hub-2 acts;
// then both run again and deliver. It returns the hubs as they run afterwards.
func crossEndings(t *testing.T, a, b *nodetest.Hub, id string, evA protocol.Event, actA api.ReferralAction,
	evB protocol.Event, actB api.ReferralAction) (*nodetest.Hub, *nodetest.Hub) {
	t.Helper()
	b.Kill()
	if _, err := a.Act(id, evA, actA); err != nil {
		t.Fatalf("%s at hub-1: %v", evA, err)
	}
	a.Kill()
	b = b.Restart()
	if _, err := b.Act(id, evB, actB); err != nil {
		t.Fatalf("%s at hub-2: %v", evB, err)
	}
	a = a.Restart(b.GossipAddr())
	return a, b
}

// agreed waits until both hubs hold referral id ended in state want, with nothing left
// to deliver, and returns both views.
func agreed(t *testing.T, a, b *nodetest.Hub, id string, want protocol.State) (api.ReferralInfo, api.ReferralInfo) {
	t.Helper()
	var ia, ib api.ReferralInfo
	nodetest.Eventually(t, 30*time.Second, func() error {
		var err error
		if ia, err = a.Referral(id); err != nil {
			return err
		}
		if ib, err = b.Referral(id); err != nil {
			return err
		}
		if ia.Referral.State != want || ib.Referral.State != want || ia.Pending+ib.Pending != 0 {
			return fmt.Errorf("hub-1 %s (%d pending), hub-2 %s (%d pending), want both %s", ia.Referral.State, ia.Pending,
				ib.Referral.State, ib.Pending, want)
		}
		return nil
	})
	return ia, ib
}

// lastTwo returns the last two entries of a history.
func lastTwo(h []protocol.Change) (protocol.Change, protocol.Change) {
	return h[len(h)-2], h[len(h)-1]
}

// The referring hub cancels while the receiving hub completes: the service was
// delivered, so both hubs end completed; the cancel stays in both histories,
// superseded, with its reason and note; the KPIs count the service once and a
// collaboration at each hub.
func TestReferral_cancelCrossingCompletion(t *testing.T) {
	a, b := twoHubs(t)
	id := acceptedReferral(t, a, b, referralTo(b.ID()))
	if _, err := b.Act(id, protocol.EventStart, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, id, protocol.StateInProgress)

	a, b = crossEndings(t, a, b, id,
		protocol.EventCancel, api.ReferralAction{Reason: "sme-withdrew", Note: "the SME called to stop"},
		protocol.EventComplete, api.ReferralAction{Outcome: "service-delivered", Note: "tested on the line"})
	ia, ib := agreed(t, a, b, id, protocol.StateCompleted)
	for _, info := range []api.ReferralInfo{ia, ib} {
		r := info.Referral
		sup, end := lastTwo(r.History)
		if r.Outcome != "service-delivered" || r.Reason != "" {
			t.Errorf("%s: outcome %q reason %q, want service-delivered and no reason", info.Role, r.Outcome, r.Reason)
		}
		if !sup.Superseded || sup.Event != protocol.EventCancel || sup.Reason != "sme-withdrew" || sup.Note != "the SME called to stop" {
			t.Errorf("%s: entry before the last is %+v, want hub-1's cancel, superseded, with its reason and note", info.Role, sup)
		}
		if end.Superseded || end.Event != protocol.EventComplete || end.Note != "tested on the line" {
			t.Errorf("%s: last entry is %+v, want hub-2's completion", info.Role, end)
		}
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	ra, err := a.Report(day.Add(-24*time.Hour), day.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Report(day.Add(-24*time.Hour), day.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if ra.ServicesDelivered != 0 || ra.Collaborations != 1 || rb.ServicesDelivered != 1 || rb.Collaborations != 1 {
		t.Errorf("KPIs: hub-1 %d services, %d collaborations; hub-2 %d, %d; want 0, 1 and 1, 1",
			ra.ServicesDelivered, ra.Collaborations, rb.ServicesDelivered, rb.Collaborations)
	}
}

// The referring hub cancels, then the receiving hub declines before it hears of the
// cancel: the earlier ending stands at both hubs, with its reason; the decline stays,
// superseded, with its own.
func TestReferral_cancelCrossingDecline(t *testing.T) {
	a, b := twoHubs(t)
	id := receivedReferral(t, a, b, referralTo(b.ID()))
	nodetest.WaitState(t, a, id, protocol.StateReceived)

	a, b = crossEndings(t, a, b, id,
		protocol.EventCancel, api.ReferralAction{Reason: "duplicate", Note: "sent twice"},
		protocol.EventDecline, api.ReferralAction{Reason: "no-capacity"})
	ia, ib := agreed(t, a, b, id, protocol.StateCancelled)
	for _, info := range []api.ReferralInfo{ia, ib} {
		r := info.Referral
		sup, end := lastTwo(r.History)
		if r.Reason != "duplicate" {
			t.Errorf("%s: reason %q, want hub-1's duplicate", info.Role, r.Reason)
		}
		if !sup.Superseded || sup.Event != protocol.EventDecline || sup.Reason != "no-capacity" {
			t.Errorf("%s: entry before the last is %+v, want hub-2's decline, superseded, with its reason", info.Role, sup)
		}
		if end.Event != protocol.EventCancel || end.Note != "sent twice" {
			t.Errorf("%s: last entry is %+v, want hub-1's cancel", info.Role, end)
		}
	}
	if ib.SME != nil {
		t.Errorf("hub-2 holds the SME's identity of a cancelled referral")
	}
}
