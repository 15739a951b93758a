package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// world is two hubs' views of one referral from hub-1 to hub-2, created by operation
// 1, completed, and what the driver knows of it: all consistent until a test case
// breaks it.
type world struct {
	views []hubView
	o     outcomes
}

const testID = "01a204b2-4bf7-7c8a-8b80-2c486a2eb690"

func newWorld() *world {
	t0 := time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)
	step := func(i int, ev protocol.Event, by string, from, to protocol.State) protocol.Change {
		return protocol.Change{At: t0.Add(time.Duration(i) * time.Second), By: by, Event: ev, From: from, To: to}
	}
	history := []protocol.Change{
		step(0, protocol.EventSend, "hub-1", protocol.StateDraft, protocol.StateRequested),
		step(1, protocol.EventReceive, "hub-2", protocol.StateRequested, protocol.StateReceived),
		step(2, protocol.EventAccept, "hub-2", protocol.StateReceived, protocol.StateAccepted),
		step(3, protocol.EventStart, "hub-2", protocol.StateAccepted, protocol.StateInProgress),
		step(4, protocol.EventComplete, "hub-2", protocol.StateInProgress, protocol.StateCompleted),
	}
	ref := func() protocol.Referral {
		return protocol.Referral{ID: testID, From: "hub-1", To: "hub-2", State: protocol.StateCompleted, Outcome: "service-delivered",
			Need:    protocol.Need{Description: "Chaos operation 1: an SME wants to test machine vision."},
			History: append([]protocol.Change(nil), history...)}
	}
	sme := &protocol.SME{Name: "Chaos SME 1 Oy", ContactName: "Aino Example"}
	kpi := func(k protocol.KPIKind, hub, partner string) protocol.KPIRecord {
		return protocol.KPIRecord{Kind: k, Referral: testID, Hub: hub, Partner: partner, At: t0.Add(4 * time.Second)}
	}
	view := func(id string, info api.ReferralInfo, kpis ...protocol.KPIRecord) hubView {
		gossip := map[string]string{"hub-1": "127.0.0.1:40001", "hub-2": "127.0.0.1:40002"}
		v := hubView{id: id, self: api.SelfInfo{ID: id, Revision: 2, Addrs: api.Addrs{Gossip: gossip[id]}},
			referrals: []api.ReferralInfo{info}, report: api.Report{Hub: id, Records: kpis}}
		for _, o := range []string{"hub-1", "hub-2"} {
			v.hubs = append(v.hubs, api.HubInfo{ID: o, Self: o == id, Reachable: true, Revision: 2})
			v.peers = append(v.peers, api.PeerInfo{ID: o, Self: o == id, State: "alive", Gossip: gossip[o], Reachable: true})
		}
		for _, k := range kpis {
			switch k.Kind {
			case protocol.KPIServiceDelivered:
				v.report.ServicesDelivered++
			case protocol.KPICollaboration:
				v.report.Collaborations++
			}
		}
		return v
	}
	return &world{
		views: []hubView{
			view("hub-1", api.ReferralInfo{Referral: ref(), Role: protocol.RoleSender, SME: sme},
				kpi(protocol.KPICollaboration, "hub-1", "hub-2")),
			view("hub-2", api.ReferralInfo{Referral: ref(), Role: protocol.RoleReceiver, SME: sme},
				kpi(protocol.KPIServiceDelivered, "hub-2", "hub-1"), kpi(protocol.KPICollaboration, "hub-2", "hub-1")),
		},
		o: outcomes{
			creates:  map[int]creation{1: {outcome: outcomeOK, id: testID, from: 0, to: 1}},
			byID:     map[string]*referral{testID: {id: testID, from: 0, to: 1, op: 1, acked: protocol.StateCompleted}},
			profiles: []*profileModel{{acked: 2}, {acked: 2}},
		},
	}
}

// sender and receiver are the two hubs' records of the referral.
func (w *world) sender() *api.ReferralInfo   { return &w.views[0].referrals[0] }
func (w *world) receiver() *api.ReferralInfo { return &w.views[1].referrals[0] }

// TestCheck_findsEachInconsistency breaks a consistent world in one way at a time and
// checks that check names what broke.
func TestCheck_findsEachInconsistency(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(w *world)
		want   string // in one of the inconsistencies; "" for none
	}{
		{"consistent", func(w *world) {}, ""},
		{"lost at the sender", func(w *world) { w.views[0].referrals = nil },
			"lost: referral " + testID + ", created by operation 1 at hub-1 (201), is not at hub-1"},
		{"lost at the receiver", func(w *world) { w.views[1].referrals = nil; w.views[1].report = api.Report{} },
			"lost: referral " + testID + " is completed at its referring hub hub-1 but not at its receiving hub hub-2"},
		{"states differ", func(w *world) {
			r := &w.sender().Referral
			r.State, r.Reason, r.Outcome = protocol.StateCancelled, "other", ""
			r.History[4].Event, r.History[4].By, r.History[4].To = protocol.EventCancel, "hub-1", protocol.StateCancelled
			w.o.byID[testID].unmodelled = true
		}, "diverged: referral " + testID + " is cancelled reason other at hub-1 and completed outcome service-delivered at hub-2"},
		{"histories differ", func(w *world) { w.sender().Referral.History[3].At = w.sender().Referral.History[3].At.Add(time.Second) },
			"diverged: the histories of referral " + testID + " differ between hub-1 and hub-2: entry 4 is start"},
		{"change applied twice", func(w *world) {
			r := &w.receiver().Referral
			r.History = append(r.History[:4:4], r.History[3], r.History[4])
		}, "history: referral " + testID + " at hub-2: entry 5 repeats entry 4"},
		{"confirmed change lost", func(w *world) { w.o.byID[testID].acked = protocol.StateFailed },
			"lost: referral " + testID + " is completed, but the changes the hubs confirmed leave it failed"},
		{"created twice", func(w *world) {
			dup := *w.sender()
			dup.Referral.ID = "01a204b2-4bf7-7c8a-8b80-2c486a2eb691"
			w.views[0].referrals = append(w.views[0].referrals, dup)
		}, "duplicated: operation 1 created 2 referrals"},
		{"created though refused", func(w *world) { w.o.creates[1] = creation{outcome: outcomeRefused} },
			"unasked: referral " + testID + " exists, but operation 1 that would have created it was refused"},
		{"service counted twice", func(w *world) {
			v := &w.views[1]
			v.report.Records = append(v.report.Records, v.report.Records[0])
			v.report.ServicesDelivered++
		}, "KPI: hub-2 counts a service-delivered for referral " + testID + " 2 times"},
		{"service not counted", func(w *world) {
			v := &w.views[1]
			v.report.Records, v.report.ServicesDelivered = v.report.Records[1:], 0
		}, "KPI: referral " + testID + " is completed, but hub-2 does not count its service-delivered"},
		{"identity kept after a cancel", func(w *world) {
			for _, info := range []*api.ReferralInfo{w.sender(), w.receiver()} {
				r := &info.Referral
				r.State, r.Reason, r.Outcome = protocol.StateCancelled, "other", ""
				r.History[4].Event, r.History[4].By, r.History[4].To = protocol.EventCancel, "hub-1", protocol.StateCancelled
			}
			w.views[0].report, w.views[1].report = api.Report{}, api.Report{}
			w.o.byID[testID].acked = protocol.StateCancelled
		}, "privacy: referral " + testID + " is cancelled at hub-2, which still holds the SME's identity"},
		{"directory behind", func(w *world) { w.views[0].self.Revision = 3; w.o.profiles[0].acked = 3 },
			"directory: hub-2's directory has hub-1 at revision 2, hub-1 is at 3"},
		{"confirmed profile change lost", func(w *world) { w.o.profiles[1].acked = 3 },
			"lost: hub-2 is at profile revision 2, but the changes it confirmed leave it at 3 to 3"},
		{"peer not alive", func(w *world) { w.views[1].peers[0].State = "failed" },
			"directory: hub-2's member list has hub-1 failed"},
		{"peer at an old address", func(w *world) { w.views[0].self.Addrs.Gossip = "127.0.0.1:40003" },
			"directory: hub-2's member list has hub-1 at 127.0.0.1:40001, hub-1 gossips at 127.0.0.1:40003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			tt.break_(w)
			got, _ := check(w.views, w.o)
			if tt.want == "" {
				if len(got) > 0 {
					t.Fatalf("got %d inconsistencies, want none:\n%s", len(got), strings.Join(got, "\n"))
				}
				return
			}
			for _, p := range got {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Fatalf("got %q, want one containing %q", got, tt.want)
		})
	}
}

// TestHistoryProblems_chain checks the rules of one hub's history.
func TestHistoryProblems_chain(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)
	c := func(s int, ev protocol.Event, from, to protocol.State) protocol.Change {
		return protocol.Change{At: t0.Add(time.Duration(s) * time.Second), By: "hub-2", Event: ev, From: from, To: to}
	}
	send := c(0, protocol.EventSend, protocol.StateDraft, protocol.StateRequested)
	recv := c(1, protocol.EventReceive, protocol.StateRequested, protocol.StateReceived)
	tests := []struct {
		h    []protocol.Change
		want string
	}{
		{[]protocol.Change{send, recv, c(2, protocol.EventHold, protocol.StateReceived, protocol.StateOnHold),
			c(3, protocol.EventAnswer, protocol.StateOnHold, protocol.StateReceived),
			c(4, protocol.EventHold, protocol.StateReceived, protocol.StateOnHold)}, ""},
		{[]protocol.Change{recv}, "does not start with send"},
		{[]protocol.Change{send, recv, c(2, protocol.EventReceive, protocol.StateRequested, protocol.StateReceived)}, "receive recorded more than once"},
		{[]protocol.Change{send, recv, c(2, protocol.EventAccept, protocol.StateOnHold, protocol.StateAccepted)}, "entry 3 starts from on-hold, entry 2 ended in received"},
		{[]protocol.Change{send, recv, c(2, protocol.EventDecline, protocol.StateReceived, protocol.StateRejected),
			c(3, protocol.EventCancel, protocol.StateRejected, protocol.StateCancelled)}, "entry 3 ends it rejected, yet 1 more follow"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got := strings.Join(historyProblems(tt.h), "; ")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
