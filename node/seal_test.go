package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// eavesdrop subscribes to every subject on hub h's own NATS server, as its operator
// may, and returns what it has heard so far.
func eavesdrop(t *testing.T, h *nodetest.Hub) func() [][]byte {
	t.Helper()
	var mu sync.Mutex
	var seen [][]byte
	nc := natsClient(t, h)
	if _, err := nc.Subscribe(">", func(msg *nats.Msg) {
		mu.Lock()
		seen = append(seen, msg.Data)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// publicTypes are the envelopes every member may read: profiles, their hints, live
// queries (every hub answers them) and wire errors.
var publicTypes = []string{protocol.TypeProfile, protocol.TypeProfileHint, protocol.TypeQuery, protocol.TypeError}

// A third member that subscribes to every subject on its own server while two other
// hubs refer an SME, act on the referral and answer a live query reads only who
// wrote to whom, when, and the type of message: every body between the two is
// sealed to its recipient.
func TestSeal_thirdMemberReadsOnlyRouting(t *testing.T) {
	net := nodetest.Network(t)
	hubs, _ := startHubs(t, net, "hub-1", "hub-2", "hub-3")
	a, b, m := hubs[0], hubs[1], hubs[2]
	heard := eavesdrop(t, m)

	const (
		needWords   = "vision inspection of croissant lamination"
		givenBy     = "Managing director Kaarina"
		purpose     = "referral for pastry line trials"
		holdNote    = "Which oven model runs the line?"
		answerNote  = "A tunnel oven from 2019"
		acceptNote  = "Our pastry lab has a slot in March"
		outcomeNote = "Trial run on three lines"
		declineNote = "Fully booked until autumn"
	)
	req := referralTo(b.ID())
	req.Need.Description = "Wants " + needWords + "."
	req.Consent.GivenBy, req.Consent.Purpose = givenBy, purpose
	req.SME.ContactPhone = "+358 40 123 4567"
	id := receivedReferral(t, a, b, req)
	act := func(h *nodetest.Hub, ev protocol.Event, ac api.ReferralAction, want protocol.State, other *nodetest.Hub) {
		t.Helper()
		if _, err := h.Act(id, ev, ac); err != nil {
			t.Fatalf("%s %s: %v", h.ID(), ev, err)
		}
		nodetest.WaitState(t, other, id, want)
	}
	act(b, protocol.EventHold, api.ReferralAction{Note: holdNote}, protocol.StateOnHold, a)
	act(a, protocol.EventAnswer, api.ReferralAction{Note: answerNote}, protocol.StateReceived, b)
	act(b, protocol.EventAccept, api.ReferralAction{Note: acceptNote}, protocol.StateAccepted, a)
	nodetest.Eventually(t, 10*time.Second, func() error {
		if info, _ := b.Referral(id); info.SME == nil {
			return fmt.Errorf("no SME at hub-2 yet")
		}
		return nil
	})
	act(b, protocol.EventStart, api.ReferralAction{}, protocol.StateInProgress, a)
	act(b, protocol.EventComplete, api.ReferralAction{Outcome: "partially-delivered", Note: outcomeNote}, protocol.StateCompleted, a)
	// A second referral, declined with a reason.
	id2 := receivedReferral(t, a, b, req)
	if _, err := b.Act(id2, protocol.EventDecline, api.ReferralAction{Reason: "not-eligible", Note: declineNote}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, id2, protocol.StateRejected)

	// A live query from hub-1, which hub-2 and hub-3 answer.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var res api.SearchResult
	nodetest.Eventually(t, 10*time.Second, func() error {
		var err error
		res, err = a.Query(ctx, protocol.Query{Technologies: []string{"ai-decision-support"}}, 3*time.Second)
		if err != nil {
			return err
		}
		if !slices.Contains(res.Live.Answered, b.ID()) {
			return fmt.Errorf("answered: %v, want hub-2 among them", res.Live.Answered)
		}
		return nil
	})
	var reasons []string
	for _, h := range res.Hits {
		if h.ID == b.ID() {
			reasons = h.Reasons
		}
	}
	if len(reasons) == 0 {
		t.Fatalf("hub-1 got no reasons for hub-2's hit: %+v", res.Hits)
	}

	secrets := []string{needWords, givenBy, purpose, holdNote, answerNote, acceptNote, outcomeNote, declineNote,
		req.SME.Name, req.SME.ContactName, req.SME.ContactEmail, "123 4567", "not-eligible", "partially-delivered",
		`"need"`, `"consent"`, `"reasons"`, `"capacity"`, `"score"`, `"sme"`, `"note"`, `"history"`}
	for _, r := range reasons {
		secrets = append(secrets, r)
	}
	counts := map[string]int{}
	sealedBody := 0
	for _, data := range heard() {
		env, err := protocol.OpenEnvelope(data)
		if err != nil {
			continue // a profile request, or another message that is no envelope
		}
		counts[env.Type]++
		if env.From == m.ID() || env.To == m.ID() || slices.Contains(publicTypes, env.Type) {
			continue
		}
		for _, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Errorf("hub-3 read %q in a %s from %s to %s", s, env.Type, env.From, env.To)
			}
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(env.Body, &body); err != nil {
			t.Errorf("%s body: %v", env.Type, err)
		}
		keys := make([]string, 0, len(body))
		for k := range body {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"box", "from", "nonce"}) {
			t.Errorf("hub-3 read a %s from %s to %s with fields %v, want only a sealed box", env.Type, env.From, env.To, keys)
		} else {
			sealedBody++
		}
	}
	t.Logf("hub-3 heard %v; %d bodies between hub-1 and hub-2 sealed", counts, sealedBody)
	for _, typ := range []string{protocol.TypeReferralOffer, protocol.TypeReferralEvent, protocol.TypeReferralDetails, protocol.TypeReferralAck, protocol.TypeQueryAnswer} {
		if counts[typ] == 0 {
			t.Errorf("hub-3 heard no %s: the test saw nothing to check", typ)
		}
	}
	// The two hubs themselves read everything.
	info, err := b.Referral(id)
	if err != nil || info.SME == nil || info.SME.ContactPhone != req.SME.ContactPhone || info.Referral.Need.Description != req.Need.Description {
		t.Errorf("hub-2's referral: %+v (%v)", info, err)
	}
	if info, err := a.Referral(id); err != nil || info.Referral.State != protocol.StateCompleted || info.Referral.Outcome != "partially-delivered" {
		t.Errorf("hub-1's referral: %+v (%v)", info.Referral, err)
	}
}
