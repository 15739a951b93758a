package node_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// referralTo is a valid referral of a small food company in Keski-Suomi to hub to.
func referralTo(to string) api.ReferralRequest {
	now := time.Now()
	return api.ReferralRequest{
		To: to,
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall,
			Family: protocol.FamilyTestBeforeInvest, Technologies: []string{"ai-decision-support"},
			Description: "Wants to test machine vision for quality control on a bakery line.",
			Maturity:    &protocol.Maturity{Strategy: 40, Readiness: 35, Human: 50, Data: 20, Automation: 15, Green: 30}},
		SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: to,
			Purpose: "referral for AI test-before-invest services", Until: now.Add(90 * 24 * time.Hour)},
	}
}

// receivedReferral sends req from a to b and waits until b has it.
func receivedReferral(t *testing.T, a, b *nodetest.Hub, req api.ReferralRequest) string {
	t.Helper()
	sent, err := a.Refer(req)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, b, sent.Referral.ID, protocol.StateReceived)
	return sent.Referral.ID
}

// acceptedReferral sends req from a to b, has b accept it, and waits until b holds the
// SME's identity.
func acceptedReferral(t *testing.T, a, b *nodetest.Hub, req api.ReferralRequest) string {
	t.Helper()
	id := receivedReferral(t, a, b, req)
	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		if info, _ := b.Referral(id); info.SME == nil {
			return fmt.Errorf("no SME at the receiver yet")
		}
		return nil
	})
	return id
}

func twoHubs(t *testing.T) (a, b *nodetest.Hub) {
	t.Helper()
	return hubsWith(t, func(*node.Config) {})
}

func TestReferral_fullLoop(t *testing.T) {
	a, b := twoHubs(t)

	sent, err := a.Refer(referralTo(b.ID()))
	if err != nil {
		t.Fatal(err)
	}
	id := sent.Referral.ID
	if sent.Referral.State != protocol.StateRequested || sent.Role != protocol.RoleSender {
		t.Fatalf("sent: %+v", sent)
	}
	got := nodetest.WaitState(t, b, id, protocol.StateReceived)
	// Before acceptance the receiver knows the need, not the SME.
	if got.SME != nil || got.Referral.Need.Description == "" || got.Role != protocol.RoleReceiver {
		t.Fatalf("received: %+v", got)
	}
	nodetest.WaitState(t, a, id, protocol.StateReceived) // the acknowledgement of the offer is the receipt

	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{Note: "we have a vision lab free"}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, id, protocol.StateAccepted)
	// Accepted: the SME's identity arrives, sealed to the receiver.
	nodetest.Eventually(t, 10*time.Second, func() error {
		info, err := b.Referral(id)
		if err != nil || info.SME == nil || info.SME.Name != "Leipomo Esimerkki Oy" {
			return fmt.Errorf("receiver's SME: %+v %v", info.SME, err)
		}
		return nil
	})

	for _, ev := range []protocol.Event{protocol.EventStart, protocol.EventComplete} {
		a := api.ReferralAction{}
		if ev == protocol.EventComplete {
			a.Outcome = "service-delivered"
		}
		if _, err := b.Act(id, ev, a); err != nil {
			t.Fatal(err)
		}
	}
	ra := nodetest.WaitState(t, a, id, protocol.StateCompleted)
	rb := nodetest.WaitState(t, b, id, protocol.StateCompleted)

	// Both hubs agree on every step.
	steps := func(info api.ReferralInfo) []string {
		var s []string
		for _, c := range info.Referral.History {
			s = append(s, fmt.Sprintf("%s:%s->%s by %s", c.Event, c.From, c.To, c.By))
		}
		return s
	}
	want := []string{
		"send:draft->requested by hub-1", "receive:requested->received by hub-2", "accept:received->accepted by hub-2",
		"start:accepted->in-progress by hub-2", "complete:in-progress->completed by hub-2",
	}
	if !slices.Equal(steps(rb), want) {
		t.Errorf("receiver's history %v, want %v", steps(rb), want)
	}
	if !slices.Equal(steps(ra), want) {
		t.Errorf("sender's history %v, want %v", steps(ra), want)
	}
	if ra.Referral.Outcome != "service-delivered" || len(ra.Actions) != 0 || len(rb.Actions) != 0 {
		t.Errorf("outcome %q, actions %v / %v", ra.Referral.Outcome, ra.Actions, rb.Actions)
	}

	// KPI records: the receiver a service delivered and a collaboration, the sender a
	// collaboration; nothing twice.
	day := time.Now().Add(-24 * time.Hour)
	repA, err := a.Report(day, day.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	repB, err := b.Report(day, day.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if repB.ServicesDelivered != 1 || repB.Collaborations != 1 || repB.ByCategory["small"] != 1 || repB.BySector["10"] != 1 {
		t.Errorf("receiver's report: %+v", repB)
	}
	if repA.ServicesDelivered != 0 || repA.Collaborations != 1 || repA.ByPartner["hub-2"] != 1 {
		t.Errorf("sender's report: %+v", repA)
	}
}

func TestReferral_refusedActions(t *testing.T) {
	a, b := twoHubs(t)
	id := receivedReferral(t, a, b, referralTo(b.ID()))

	// The sender cannot accept its own referral; the receiver cannot cancel it.
	if _, err := a.Act(id, protocol.EventAccept, api.ReferralAction{}); err == nil {
		t.Error("sender accepted its own referral")
	}
	if _, err := b.Act(id, protocol.EventCancel, api.ReferralAction{Reason: "other"}); err == nil {
		t.Error("receiver cancelled")
	}
	// A decline needs a reason from the list.
	if _, err := b.Act(id, protocol.EventDecline, api.ReferralAction{Reason: "bored"}); err == nil {
		t.Error("decline with an unknown reason")
	}
	if _, err := b.Act(id, protocol.EventDecline, api.ReferralAction{Reason: "no-capacity"}); err != nil {
		t.Fatal(err)
	}
	info := nodetest.WaitState(t, a, id, protocol.StateRejected)
	if info.Referral.Reason != "no-capacity" {
		t.Errorf("reason %q", info.Referral.Reason)
	}
	// Rejected is final.
	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{}); err == nil {
		t.Error("accepted after declining")
	}
}

func TestReferral_cancelPurgesIdentity(t *testing.T) {
	a, b := twoHubs(t)
	id := acceptedReferral(t, a, b, referralTo(b.ID()))
	if _, err := a.Act(id, protocol.EventCancel, api.ReferralAction{Reason: "consent-withdrawn"}); err != nil {
		t.Fatal(err)
	}
	info := nodetest.WaitState(t, b, id, protocol.StateCancelled)
	if info.SME != nil {
		t.Errorf("receiver kept the SME's identity after a cancel: %+v", info.SME)
	}
	if info.SMEPurged.IsZero() || info.SMEPurgeReason != "cancelled" || b.Purges("cancelled") != 1 {
		t.Errorf("receiver's purge: %v (%q), %v counted; want a time, cancelled, 1", info.SMEPurged, info.SMEPurgeReason, b.Purges("cancelled"))
	}
	if sent, _ := a.Referral(id); sent.SME == nil || !sent.SMEPurged.IsZero() {
		t.Errorf("referring hub after its cancel: SME %+v, purged %v; want it kept until the retention passes", sent.SME, sent.SMEPurged)
	}
	if info.Referral.Need.Description == "" {
		t.Error("the anonymous record went too")
	}
}

func TestReferral_deliveredWhenReceiverReturns(t *testing.T) {
	a, b := twoHubs(t)
	b.Kill()
	nodetest.Eventually(t, 10*time.Second, func() error {
		if h, err := a.Hub("hub-2"); err != nil || h.Reachable {
			return fmt.Errorf("hub-2 still reachable")
		}
		return nil
	})
	sent, err := a.Refer(referralTo("hub-2"))
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := a.Referral(sent.Referral.ID); info.Pending != 1 {
		t.Fatalf("pending %d, want the offer waiting", info.Pending)
	}
	back := b.Restart(a.GossipAddr())
	nodetest.WaitState(t, back, sent.Referral.ID, protocol.StateReceived)
	nodetest.WaitState(t, a, sent.Referral.ID, protocol.StateReceived)
}

// A recorded copy of a message, sent again as it was, is refused as a replay and
// applied nothing; the sender's own resends are signed again with a later time.
func TestReferral_replayedMessageRefused(t *testing.T) {
	a, b := twoHubs(t)
	id := receivedReferral(t, a, b, referralTo(b.ID()))
	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, id, protocol.StateAccepted)

	// Capture the next message from hub-2 on the wire and send it again.
	nc, err := nats.Connect(a.Addrs().Client, nodetest.Token(a))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msg := captureStart(t, nc, a, b, id)
	nodetest.WaitState(t, a, id, protocol.StateInProgress)
	before, _ := a.Referral(id)
	replays := a.Dropped("replay")
	for range 3 {
		if reply, err := nc.Request(protocol.ReferralSubject(a.ID()), msg, 300*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
			t.Errorf("replayed message answered: %v, %v; want no answer", reply, err)
		}
	}
	if got := a.Dropped("replay") - replays; got != 3 {
		t.Errorf("replays counted: %v, want 3", got)
	}
	after, _ := a.Referral(id)
	if len(after.Referral.History) != len(before.Referral.History) {
		t.Errorf("history grew from %d to %d entries", len(before.Referral.History), len(after.Referral.History))
	}
}

// hubsWith starts two hubs whose configuration change alters.
func hubsWith(t *testing.T, change func(c *node.Config)) (a, b *nodetest.Hub) {
	t.Helper()
	net := nodetest.Network(t)
	var hubs []*nodetest.Hub
	for i, id := range []string{"hub-1", "hub-2"} {
		dir := t.TempDir()
		p := nodetest.Profile(id)
		nodetest.Init(t, dir, net, id, &p)
		cfg := nodetest.Config(dir)
		if i > 0 {
			cfg.Join = []string{hubs[0].GossipAddr()}
		}
		change(&cfg)
		hubs = append(hubs, nodetest.StartConfig(t, cfg))
	}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return hubs[0], hubs[1]
}

func TestReferral_expiresOnBothSides(t *testing.T) {
	a, b := hubsWith(t, func(c *node.Config) {
		c.ReceiveWithin, c.DecideWithin, c.DecisionGrace = time.Second, 2*time.Second, 200*time.Millisecond
	})
	id := receivedReferral(t, a, b, referralTo(b.ID()))
	// Nobody decides: three seconds later it has expired at both hubs.
	ra := nodetest.WaitState(t, a, id, protocol.StateExpired)
	nodetest.WaitState(t, b, id, protocol.StateExpired)
	if last := ra.Referral.History[len(ra.Referral.History)-1]; last.Event != protocol.EventExpire || last.By != "hub-1" {
		t.Errorf("last change at the sender: %+v", last)
	}
	// Too late to accept now.
	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{}); err == nil {
		t.Error("accepted an expired referral")
	}
}

func TestReferral_notReceivedInTimeExpires(t *testing.T) {
	a, b := hubsWith(t, func(c *node.Config) {
		c.ReceiveWithin, c.DecisionGrace = time.Second, 100*time.Millisecond
	})
	b.Kill()
	sent, err := a.Refer(referralTo("hub-2"))
	if err != nil {
		t.Fatal(err)
	}
	waitState := func(want protocol.State) {
		t.Helper()
		nodetest.Eventually(t, 10*time.Second, func() error {
			info, err := a.Referral(sent.Referral.ID)
			if err != nil || info.Referral.State != want {
				return fmt.Errorf("state %s (%v), want %s", info.Referral.State, err, want)
			}
			return nil
		})
	}
	waitState(protocol.StateExpired)
}

// A third hub that listens to every subject of the mesh sees the referral's messages
// go by, and reads none of the SME's identity: it travels sealed, and only after
// acceptance.
func TestReferral_identitySealedFromOtherHubs(t *testing.T) {
	hubs := nodetest.StartN(t, nodetest.Network(t), 3)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	a, b, c := hubs[0], hubs[1], hubs[2]

	nc, err := nats.Connect(c.Addrs().Client, nodetest.Token(c))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	var seen [][]byte
	if _, err := nc.Subscribe(">", func(m *nats.Msg) {
		mu.Lock()
		seen = append(seen, m.Data)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	req := referralTo(b.ID())
	id := acceptedReferral(t, a, b, req)

	mu.Lock()
	defer mu.Unlock()
	types := map[string]int{}
	for _, data := range seen {
		for _, secret := range []string{req.SME.Name, req.SME.ContactName, req.SME.ContactEmail, "Leipomo"} {
			if strings.Contains(string(data), secret) {
				t.Errorf("the listening hub read %q in %s", secret, data)
			}
		}
		if env, err := protocol.OpenEnvelope(data); err == nil {
			types[env.Type]++
		}
	}
	// It did see the traffic: the offer, the acceptance and the sealed details.
	for _, typ := range []string{protocol.TypeReferralOffer, protocol.TypeReferralEvent, protocol.TypeReferralDetails} {
		if types[typ] == 0 {
			t.Errorf("the listener saw no %s; saw %v", typ, types)
		}
	}
	// And it cannot open the details with its own key.
	if _, err := c.Referral(id); err == nil {
		t.Error("the third hub holds the referral")
	}
}

// The receiver accepts, starts and completes at once, before the SME's details have
// arrived: the details are still taken, and both hubs end completed with the outcome
// and their KPI records.
func TestReferral_quickCompletion(t *testing.T) {
	a, b := twoHubs(t)
	id := receivedReferral(t, a, b, referralTo(b.ID()))
	for _, step := range []struct {
		ev protocol.Event
		a  api.ReferralAction
	}{{protocol.EventAccept, api.ReferralAction{}}, {protocol.EventStart, api.ReferralAction{}},
		{protocol.EventComplete, api.ReferralAction{Outcome: "service-delivered"}}} {
		if _, err := b.Act(id, step.ev, step.a); err != nil {
			t.Fatal(err)
		}
	}
	ra := nodetest.WaitState(t, a, id, protocol.StateCompleted)
	nodetest.WaitState(t, b, id, protocol.StateCompleted)
	if ra.Referral.Outcome != "service-delivered" {
		t.Errorf("sender's outcome %q", ra.Referral.Outcome)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		if info, _ := b.Referral(id); info.SME == nil {
			return fmt.Errorf("the receiver never got the SME's details")
		}
		return nil
	})
	day := time.Now().Add(-time.Hour)
	if rep, _ := a.Report(day, day.Add(2*time.Hour)); rep.Collaborations != 1 {
		t.Errorf("sender's collaborations: %d, want 1", rep.Collaborations)
	}
}

// The acknowledgement of the offer is lost, and the receiving hub accepts before the
// offer is sent again: the acceptance proves the receipt, and both hubs end accepted.
func TestReferral_acceptBeforeReceiptKnown(t *testing.T) {
	a, b := hubsWith(t, func(c *node.Config) { c.RetryMin = 4 * time.Second })
	nc, err := nats.Connect(a.Addrs().Client, nodetest.Token(a))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var sub *nats.Subscription
	// Near hub-1, this answers before hub-2 does: the answer hub-1 gets is garbage,
	// as if hub-2's acknowledgement were lost.
	sub, err = nc.Subscribe(protocol.ReferralSubject(b.ID()), func(m *nats.Msg) {
		m.Respond([]byte("garbage"))
		sub.Unsubscribe()
	})
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	sent, err := a.Refer(referralTo(b.ID()))
	if err != nil {
		t.Fatal(err)
	}
	id := sent.Referral.ID
	nodetest.Eventually(t, 5*time.Second, func() error {
		_, err := b.Referral(id)
		return err
	})
	if info, _ := a.Referral(id); info.Referral.State != protocol.StateRequested {
		t.Skipf("hub-2's acknowledgement won the race (state %s); nothing to test", info.Referral.State)
	}
	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, id, protocol.StateAccepted)
	nodetest.WaitState(t, b, id, protocol.StateAccepted)
}
