package protocol

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// The crossing of two events, one made at each hub of a referral before either hears
// of the other, as the nodes carry them: each hub applies its own event, sends it, and
// takes the other's with Take; the acknowledgement of a message says how the referral
// ended at the hub that took it, and the sender settles with that ending. Every
// interleaving of the two deliveries and their acknowledgements, with any
// acknowledgement lost and the message sent again (the receiver's inbox answers a copy
// with the acknowledgement it stored), must leave both hubs in the same state, with
// the same reason and outcome.

const (
	crossFrom = "hub-a" // the referring hub
	crossTo   = "hub-b" // the receiving hub
)

var crossStart = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// placeAt returns a referral brought to p by the lifecycle, as both hubs hold it.
func placeAt(t *testing.T, p at) Referral {
	t.Helper()
	r := Referral{V: Version, ID: "0196cdb2-4b00-7abc-8def-0123456789ab", From: crossFrom, To: crossTo, State: StateDraft,
		Created: crossStart, AckBy: crossStart.Add(72 * time.Hour), DecideBy: crossStart.Add(300 * time.Hour)}
	step := func(ev Event, by Role, hub string) {
		t.Helper()
		if err := r.Apply(ev, by, hub, crossStart.Add(time.Duration(len(r.History))*time.Minute), ""); err != nil {
			t.Fatalf("bring to %v: %v", p, err)
		}
	}
	path := map[at][]Event{
		{StateRequested, ""}:           {EventSend},
		{StateReceived, ""}:            {EventSend, EventReceive},
		{StateOnHold, StateReceived}:   {EventSend, EventReceive, EventHold},
		{StateAccepted, ""}:            {EventSend, EventReceive, EventAccept},
		{StateInProgress, ""}:          {EventSend, EventReceive, EventAccept, EventStart},
		{StateOnHold, StateInProgress}: {EventSend, EventReceive, EventAccept, EventStart, EventHold},
	}[p]
	for _, ev := range path {
		switch ev {
		case EventSend:
			step(ev, RoleSender, crossFrom)
		case EventReceive:
			step(ev, RoleSystem, crossTo)
		default:
			step(ev, RoleReceiver, crossTo)
		}
	}
	return r
}

// move is one hub's own event in a crossing.
type move struct {
	hub    string // who makes it
	ev     Event
	role   Role // as the lifecycle sees it at the hub that makes it
	sent   bool // carried to the other hub: a node's own expiry at the receiving hub is not
	reason string
	out    string
}

func (m move) String() string {
	s := m.hub + " " + string(m.ev)
	if m.role == RoleSystem {
		s += " (by its node)"
	}
	if m.reason != "" {
		s += " " + m.reason
	}
	return s
}

// moves returns every event hub may make of its own at p.
func moves(p at, hub string) []move {
	var out []move
	roles := []Role{RoleSender, RoleSystem}
	if hub == crossTo {
		roles = []Role{RoleReceiver, RoleSystem}
	}
	for _, ev := range Events {
		for _, role := range roles {
			if ev == EventReceive || ev == EventSend {
				continue // the offer and its receipt travel as the offer and its ack
			}
			if _, err := Next(p.state, p.heldFrom, ev, role); err != nil {
				continue
			}
			m := move{hub: hub, ev: ev, role: role, sent: true}
			switch {
			case ev == EventCancel && role == RoleSystem:
				m.reason = "consent-expired"
			case ev == EventCancel:
				m.reason = "sme-withdrew"
			case ev == EventDecline:
				m.reason = "no-capacity"
			case ev == EventFail:
				m.reason = "sme-unreachable"
			case ev == EventComplete:
				m.out = "service-delivered"
			case ev == EventExpire && hub == crossTo:
				m.sent = false // the receiving hub expires on its own clock and tells no one
			}
			out = append(out, m)
		}
	}
	return out
}

// crossHub is one hub's record in the model.
type crossHub struct {
	id string
	r  Referral
}

func (h *crossHub) clone() *crossHub {
	c := *h
	c.r.History = slices.Clone(h.r.History)
	return &c
}

// roleAt is the role the hub that takes a change from hub from gives it, as the node
// does: the other hub's role, or its node's for an expiry.
func roleAt(r *Referral, from string, ev Event) Role {
	switch {
	case ev == EventExpire:
		return RoleSystem
	case from == r.From:
		return RoleSender
	}
	return RoleReceiver
}

// take delivers c to h and returns the acknowledgement's ending.
func (h *crossHub) take(t *testing.T, c Change) *Change {
	t.Helper()
	if _, err := h.r.Take(c, roleAt(&h.r, c.By, c.Event)); err != nil {
		// Refused: recorded as such; the acknowledgement still says how it ended here.
		var te *TransitionError
		if !errors.As(err, &te) {
			t.Fatalf("%s takes %s by %s: %v, want a *TransitionError or nil", h.id, c.Event, c.By, err)
		}
	}
	if end, ok := h.r.Ending(); ok {
		return &end
	}
	return nil
}

// settle has h take the ending of the other hub's acknowledgement, as the node does.
func (h *crossHub) settle(t *testing.T, partner string, end *Change) {
	t.Helper()
	if end == nil || end.By != partner || !CanEnd(roleAt(&h.r, end.By, EventCancel), end.Event) {
		return
	}
	if _, err := h.r.Settle(*end); err != nil {
		t.Fatalf("%s settles with %s by %s: %v", h.id, end.Event, end.By, err)
	}
}

// make applies m at h as the node's Act or deadline does and returns the change sent.
func (h *crossHub) make(t *testing.T, m move, at time.Time) (Change, bool) {
	t.Helper()
	if err := h.r.Apply(m.ev, m.role, h.id, at, "note of "+h.id); err != nil {
		t.Fatalf("%s: %v", m, err)
	}
	h.r.SetReasons(m.ev, m.reason, m.out)
	return Change{At: at, By: h.id, Event: m.ev, Note: "note of " + h.id, Reason: m.reason, Outcome: m.out}, m.sent
}

// The steps of a crossing: each hub's message delivered to the other, and its
// acknowledgement back; an acknowledgement may come twice (lost, and the message sent
// again).
const (
	deliverA = iota // a's message taken at b
	ackA            // its acknowledgement taken at a
	deliverB
	ackB
)

// orders returns every order of the four steps in which an acknowledgement follows its
// message.
func orders() [][]int {
	var out [][]int
	var perm func(prefix []int, rest []int)
	perm = func(prefix, rest []int) {
		if len(rest) == 0 {
			if slices.Index(prefix, deliverA) < slices.Index(prefix, ackA) && slices.Index(prefix, deliverB) < slices.Index(prefix, ackB) {
				out = append(out, slices.Clone(prefix))
			}
			return
		}
		for i := range rest {
			perm(append(prefix, rest[i]), slices.Concat(rest[:i], rest[i+1:]))
		}
	}
	perm(nil, []int{deliverA, ackA, deliverB, ackB})
	return out
}

func TestSettle_everyCrossingPair(t *testing.T) {
	open := []at{{StateRequested, ""}, {StateReceived, ""}, {StateOnHold, StateReceived}, {StateAccepted, ""},
		{StateInProgress, ""}, {StateOnHold, StateInProgress}}
	gaps := []time.Duration{-time.Second, 0, time.Second} // b's event before, with, after a's
	pairs, runs := 0, 0
	for _, p := range open {
		start := placeAt(t, p)
		for _, ma := range moves(p, crossFrom) {
			for _, mb := range moves(p, crossTo) {
				pairs++
				for _, gap := range gaps {
					for _, order := range orders() {
						for _, twice := range []bool{false, true} {
							runs++
							name := fmt.Sprintf("%s%s: %s, %s %+v later; order %v, acks twice %v", p.state, heldName(p), ma, mb, gap, order, twice)
							a := (&crossHub{id: crossFrom, r: start}).clone()
							b := (&crossHub{id: crossTo, r: start}).clone()
							at := crossStart.Add(48 * time.Hour)
							ca, sentA := a.make(t, ma, at)
							cb, sentB := b.make(t, mb, at.Add(gap))
							var endA, endB *Change
							for _, s := range order {
								switch {
								case s == deliverA && sentA:
									endA = b.take(t, ca)
								case s == ackA && sentA:
									for range 1 + btoi(twice) {
										a.settle(t, crossTo, endA)
									}
								case s == deliverB && sentB:
									endB = a.take(t, cb)
								case s == ackB && sentB:
									for range 1 + btoi(twice) {
										b.settle(t, crossFrom, endB)
									}
								}
							}
							checkAgree(t, name, a, b)
						}
					}
				}
			}
		}
	}
	if pairs < 40 {
		t.Errorf("tried %d crossing pairs, want every pair of the lifecycle (more than 40)", pairs)
	}
	t.Logf("%d crossing pairs, %d runs", pairs, runs)
}

func heldName(p at) string {
	if p.heldFrom == "" {
		return ""
	}
	return " (from " + string(p.heldFrom) + ")"
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkAgree fails unless both hubs hold the referral in the same state, with the same
// reason and outcome, and each history ends in that state with at most one
// superseded ending before it.
func checkAgree(t *testing.T, name string, a, b *crossHub) {
	t.Helper()
	ra, rb := a.r, b.r
	if ra.State != rb.State || ra.HeldFrom != rb.HeldFrom || ra.Reason != rb.Reason || ra.Outcome != rb.Outcome {
		t.Errorf("%s: hub-a %s %q %q, hub-b %s %q %q; want the same", name, ra.State, ra.Reason, ra.Outcome, rb.State, rb.Reason, rb.Outcome)
		return
	}
	for _, h := range []*crossHub{a, b} {
		r := h.r
		if !r.State.Final() {
			continue
		}
		end, ok := r.Ending()
		if !ok || r.History[len(r.History)-1] != end {
			t.Errorf("%s: at %s the ending %+v is not the last entry of %+v", name, h.id, end, r.History)
		}
		if end.Reason != r.Reason || end.Outcome != r.Outcome {
			t.Errorf("%s: at %s the ending says %q %q, the referral %q %q", name, h.id, end.Reason, end.Outcome, r.Reason, r.Outcome)
		}
	}
	if ea, ok := ra.Ending(); ok {
		eb, _ := rb.Ending()
		if !same(ea, eb) {
			t.Errorf("%s: hub-a ended by %s of %s, hub-b by %s of %s", name, ea.Event, ea.By, eb.Event, eb.By)
		}
	}
}

func TestPrevails(t *testing.T) {
	t0 := crossStart
	cancel := Change{At: t0, By: crossFrom, Event: EventCancel, To: StateCancelled}
	complete := Change{At: t0.Add(time.Hour), By: crossTo, Event: EventComplete, To: StateCompleted}
	decline := Change{At: t0.Add(-time.Second), By: crossTo, Event: EventDecline, To: StateRejected}
	tie := Change{At: t0, By: crossTo, Event: EventFail, To: StateFailed}
	tests := []struct {
		name string
		a, b Change
		want bool
	}{
		{"a completion stands over an earlier cancel", complete, cancel, true},
		{"a cancel gives way to a later completion", cancel, complete, false},
		{"the earlier of two endings stands", decline, cancel, true},
		{"the later gives way", cancel, decline, false},
		{"at the same time, the hub whose ID sorts first", cancel, tie, true},
		{"at the same time, the other gives way", tie, cancel, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Prevails(tc.a, tc.b); got != tc.want {
				t.Errorf("Prevails(%s, %s) = %v, want %v", tc.a.Event, tc.b.Event, got, tc.want)
			}
		})
	}
}

// A cancel crossing a completion: both hubs end completed, the cancel kept in both
// histories as superseded, with its reason and note, in the same place.
func TestSettle_cancelCrossingCompletion(t *testing.T) {
	start := placeAt(t, at{StateInProgress, ""})
	a, b := (&crossHub{id: crossFrom, r: start}).clone(), (&crossHub{id: crossTo, r: start}).clone()
	at := crossStart.Add(48 * time.Hour)
	ca, _ := a.make(t, move{ev: EventCancel, role: RoleSender, reason: "sme-withdrew"}, at)
	cb, _ := b.make(t, move{ev: EventComplete, role: RoleReceiver, out: "service-delivered"}, at.Add(time.Minute))
	a.settle(t, crossTo, b.take(t, ca))
	b.settle(t, crossFrom, a.take(t, cb))
	for _, h := range []*crossHub{a, b} {
		r := h.r
		n := len(r.History)
		if r.State != StateCompleted || r.Outcome != "service-delivered" || r.Reason != "" {
			t.Fatalf("%s: %s %q %q, want completed service-delivered", h.id, r.State, r.Reason, r.Outcome)
		}
		sup, last := r.History[n-2], r.History[n-1]
		if !sup.Superseded || sup.Event != EventCancel || sup.Reason != "sme-withdrew" || sup.Note != "note of hub-a" || last.Event != EventComplete || last.Superseded {
			t.Errorf("%s: history ends %+v, %+v; want the cancel superseded, then the completion", h.id, sup, last)
		}
	}
	if !slices.EqualFunc(a.r.History, b.r.History, func(x, y Change) bool { return same(x, y) && x.Superseded == y.Superseded }) {
		t.Errorf("histories differ:\n%+v\n%+v", a.r.History, b.r.History)
	}
}
