package protocol

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// step is one allowed move of the lifecycle: who may make it, and where it leads.
type step struct {
	by   Role
	to   State
	also Role // a second role that may make it: a node cancels by itself
}

// at is where a referral is: its state and, when on hold, the state it was put on hold
// from.
type at struct {
	state, heldFrom State
}

// wantLifecycle is the lifecycle of DESIGN.md ("Referrals"), written out again by hand
// so that the test does not trust the table it checks. Whatever is not here is refused.
var wantLifecycle = map[at]map[Event]step{
	{StateDraft, ""}: {
		EventSend:   {by: RoleSender, to: StateRequested},
		EventCancel: {by: RoleSender, to: StateCancelled}, // any open state; a node cancels by itself only what it sent
	},
	{StateRequested, ""}: {
		EventReceive: {by: RoleSystem, to: StateReceived},
		EventCancel:  {by: RoleSender, to: StateCancelled, also: RoleSystem},
		EventExpire:  {by: RoleSystem, to: StateExpired},
	},
	{StateReceived, ""}: {
		EventAccept:  {by: RoleReceiver, to: StateAccepted},
		EventDecline: {by: RoleReceiver, to: StateRejected},
		EventHold:    {by: RoleReceiver, to: StateOnHold}, // asks for information
		EventCancel:  {by: RoleSender, to: StateCancelled, also: RoleSystem},
		EventExpire:  {by: RoleSystem, to: StateExpired},
	},
	{StateOnHold, StateReceived}: { // waiting for the sender's answer, not yet accepted
		EventAnswer: {by: RoleSender, to: StateReceived},
		EventCancel: {by: RoleSender, to: StateCancelled, also: RoleSystem},
		EventExpire: {by: RoleSystem, to: StateExpired},
	},
	{StateAccepted, ""}: {
		EventStart:  {by: RoleReceiver, to: StateInProgress},
		EventFail:   {by: RoleReceiver, to: StateFailed},
		EventCancel: {by: RoleSender, to: StateCancelled, also: RoleSystem},
	},
	{StateInProgress, ""}: {
		EventHold:     {by: RoleReceiver, to: StateOnHold}, // pauses
		EventComplete: {by: RoleReceiver, to: StateCompleted},
		EventFail:     {by: RoleReceiver, to: StateFailed},
		EventCancel:   {by: RoleSender, to: StateCancelled, also: RoleSystem},
	},
	{StateOnHold, StateInProgress}: { // paused: accepted, so it ends as completed, failed or cancelled
		EventStart:  {by: RoleReceiver, to: StateInProgress},
		EventFail:   {by: RoleReceiver, to: StateFailed},
		EventCancel: {by: RoleSender, to: StateCancelled, also: RoleSystem},
	},
	{StateRejected, ""}:  {},
	{StateCompleted, ""}: {},
	{StateFailed, ""}:    {},
	{StateCancelled, ""}: {},
	{StateExpired, ""}:   {},
}

var allRoles = []Role{RoleSender, RoleReceiver, RoleSystem}

// places returns every place a referral can be: each state, and on-hold once for each
// state it can be held from.
func places() []at {
	var ps []at
	for _, s := range States {
		if s == StateOnHold {
			ps = append(ps, at{s, StateReceived}, at{s, StateInProgress})
			continue
		}
		ps = append(ps, at{s, ""})
	}
	return ps
}

// wantRefusal returns the reason Next must give for refusing ev by by at p.
func wantRefusal(p at, ev Event, by Role) string {
	final := map[State]bool{StateRejected: true, StateCompleted: true, StateFailed: true, StateCancelled: true, StateExpired: true}
	accepted := p.state == StateAccepted || p.state == StateInProgress || p.heldFrom == StateInProgress
	undo := map[Event]bool{EventSend: true, EventReceive: true, EventDecline: true, EventAnswer: true, EventExpire: true}
	switch st, ok := wantLifecycle[p][ev]; {
	case ok:
		return "only the " + string(st.by) + " may do that"
	case final[p.state]:
		return "the referral is " + string(p.state) + " and can change no more"
	case accepted && undo[ev]:
		return "an accepted referral ends only as completed, failed or cancelled"
	}
	return "allowed in this state: " // followed by the events of wantLifecycle[p], checked apart
}

func TestNext_everyCombination(t *testing.T) {
	if len(wantLifecycle) != len(places()) {
		t.Fatalf("wantLifecycle has %d places, want one for each of %d", len(wantLifecycle), len(places()))
	}
	allowed, refused := 0, 0
	for _, p := range places() {
		for _, ev := range Events {
			for _, by := range allRoles {
				got, err := Next(p.state, p.heldFrom, ev, by)
				name := string(ev) + " by " + string(by) + " in " + string(p.state)
				if p.heldFrom != "" {
					name += " (held from " + string(p.heldFrom) + ")"
				}
				if st, ok := wantLifecycle[p][ev]; ok && (st.by == by || st.also == by) {
					allowed++
					if err != nil || got != st.to {
						t.Errorf("%s: got %q, %v, want %q", name, got, err, st.to)
					}
					continue
				}
				refused++
				var te *TransitionError
				if !errors.As(err, &te) {
					t.Errorf("%s: got %q, %v, want a *TransitionError", name, got, err)
					continue
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("%s: %v does not match ErrInvalid", name, err)
				}
				if got != "" {
					t.Errorf("%s: refused, but got state %q", name, got)
				}
				if te.From != p.state || te.Event != ev || te.By != by {
					t.Errorf("%s: got error fields %+v", name, te)
				}
				prefix := string(ev) + " by the " + string(by) + " in state " + string(p.state) + ": "
				rule := wantRefusal(p, ev, by)
				msg := err.Error()
				if !strings.HasPrefix(msg, prefix+rule) || te.Rule != strings.TrimPrefix(msg, prefix) {
					t.Errorf("%s: got %q, want %q", name, msg, prefix+rule+"…")
					continue
				}
				if rest, ok := strings.CutPrefix(te.Rule, "allowed in this state: "); ok {
					got := strings.Split(rest, ", ")
					var want []string
					for e := range wantLifecycle[p] {
						want = append(want, string(e))
					}
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("%s: got allowed %v, want %v", name, got, want)
					}
				}
			}
		}
	}
	wantAllowed := 0
	for _, evs := range wantLifecycle {
		for _, st := range evs {
			wantAllowed++
			if st.also != "" {
				wantAllowed++
			}
		}
	}
	if allowed != wantAllowed || allowed+refused != 12*len(Events)*len(allRoles) {
		t.Errorf("got %d allowed and %d refused, want %d allowed of %d", allowed, refused, wantAllowed, 12*len(Events)*len(allRoles))
	}
}

func TestNext_refusals(t *testing.T) {
	tests := []struct {
		name     string
		from     State
		heldFrom State
		ev       Event
		by       Role
		want     string
	}{
		{"receiver cancels", StateReceived, "", EventCancel, RoleReceiver,
			"cancel by the receiver in state received: only the sender may do that"},
		{"sender accepts", StateReceived, "", EventAccept, RoleSender,
			"accept by the sender in state received: only the receiver may do that"},
		{"sender receives", StateRequested, "", EventReceive, RoleSender,
			"receive by the sender in state requested: only the system may do that"},
		{"receiver resumes what waits for an answer", StateOnHold, StateReceived, EventStart, RoleReceiver,
			"start by the receiver in state on-hold: allowed in this state: answer, cancel, expire"},
		{"accept before it is received", StateRequested, "", EventAccept, RoleReceiver,
			"accept by the receiver in state requested: allowed in this state: receive, cancel, expire"},
		{"complete before the service started", StateAccepted, "", EventComplete, RoleReceiver,
			"complete by the receiver in state accepted: allowed in this state: start, fail, cancel"},
		{"complete while paused", StateOnHold, StateInProgress, EventComplete, RoleReceiver,
			"complete by the receiver in state on-hold: allowed in this state: start, fail, cancel"},
		{"decline after accepting", StateAccepted, "", EventDecline, RoleReceiver,
			"decline by the receiver in state accepted: an accepted referral ends only as completed, failed or cancelled"},
		{"expire after acceptance", StateAccepted, "", EventExpire, RoleSystem,
			"expire by the system in state accepted: an accepted referral ends only as completed, failed or cancelled"},
		{"answer after acceptance", StateAccepted, "", EventAnswer, RoleSender,
			"answer by the sender in state accepted: an accepted referral ends only as completed, failed or cancelled"},
		{"decline while in progress", StateInProgress, "", EventDecline, RoleReceiver,
			"decline by the receiver in state in-progress: an accepted referral ends only as completed, failed or cancelled"},
		{"expire while paused", StateOnHold, StateInProgress, EventExpire, RoleSystem,
			"expire by the system in state on-hold: an accepted referral ends only as completed, failed or cancelled"},
		{"cancel a completed referral", StateCompleted, "", EventCancel, RoleSender,
			"cancel by the sender in state completed: the referral is completed and can change no more"},
		{"accept a rejected referral", StateRejected, "", EventAccept, RoleReceiver,
			"accept by the receiver in state rejected: the referral is rejected and can change no more"},
		{"answer an expired referral", StateExpired, "", EventAnswer, RoleSender,
			"answer by the sender in state expired: the referral is expired and can change no more"},
		{"unknown state", "open", "", EventAccept, RoleReceiver,
			"accept by the receiver in state open: unknown state"},
		{"unknown event", StateReceived, "", "approve", RoleReceiver,
			"approve by the receiver in state received: unknown event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Next(tt.from, tt.heldFrom, tt.ev, tt.by)
			if err == nil {
				t.Fatalf("got %q, want an error", got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want it to match ErrInvalid", err)
			}
			if err.Error() != tt.want {
				t.Errorf("got %q, want %q", err.Error(), tt.want)
			}
		})
	}
}

func TestNext_heldFromIgnoredOutsideOnHold(t *testing.T) {
	got, err := Next(StateAccepted, StateInProgress, EventStart, RoleReceiver)
	if err != nil || got != StateInProgress {
		t.Errorf("got %q, %v, want %q", got, err, StateInProgress)
	}
}

func TestState_Final(t *testing.T) {
	for _, s := range States {
		want := len(wantLifecycle[at{s, ""}]) == 0 && s != StateOnHold
		if got := s.Final(); got != want {
			t.Errorf("%s: got %v, want %v", s, got, want)
		}
	}
}

// applyStep is one event applied to a referral and what must follow.
type applyStep struct {
	ev       Event
	by       Role
	hub      string
	note     string
	state    State
	heldFrom State
}

// walk applies the steps to r in order, checking the referral after each, and that it
// still validates.
func walk(t *testing.T, r *Referral, steps []applyStep) {
	t.Helper()
	when := time.Date(2025, 5, 14, 12, 0, 0, 0, time.FixedZone("EEST", 3*3600))
	for i, s := range steps {
		before := r.State
		n := len(r.History)
		when = when.Add(time.Hour)
		if err := r.Apply(s.ev, s.by, s.hub, when, s.note); err != nil {
			t.Fatalf("step %d, %s by %s: %v", i, s.ev, s.by, err)
		}
		if r.State != s.state || r.HeldFrom != s.heldFrom {
			t.Errorf("step %d, %s: got state %q held from %q, want %q held from %q", i, s.ev, r.State, r.HeldFrom, s.state, s.heldFrom)
		}
		if len(r.History) != n+1 {
			t.Fatalf("step %d, %s: got %d history entries, want %d", i, s.ev, len(r.History), n+1)
		}
		want := Change{At: when.UTC(), By: s.hub, Event: s.ev, From: before, To: s.state, Note: s.note}
		if got := r.History[n]; got != want {
			t.Errorf("step %d: got history entry %+v, want %+v", i, got, want)
		}
		if r.History[n].At.Location() != time.UTC {
			t.Errorf("step %d: history time in %v, want UTC", i, r.History[n].At.Location())
		}
		if err := r.Validate(); err != nil {
			t.Errorf("step %d, %s: the referral no longer validates: %v", i, s.ev, err)
		}
	}
}

func TestReferral_Apply_fullLifecycle(t *testing.T) {
	r := validReferral() // as the offer carries it: requested, its history holding the send
	walk(t, &r, []applyStep{
		{EventReceive, RoleSystem, "hub-two", "", StateReceived, ""},
		{EventAccept, RoleReceiver, "hub-two", "We can take this on in June.", StateAccepted, ""},
		{EventStart, RoleReceiver, "hub-two", "", StateInProgress, ""},
		{EventHold, RoleReceiver, "hub-two", "Summer break", StateOnHold, StateInProgress},
		{EventStart, RoleReceiver, "hub-two", "Resumed", StateInProgress, ""},
		{EventComplete, RoleReceiver, "hub-two", "", StateCompleted, ""},
	})
	if len(r.History) != 7 {
		t.Errorf("got %d history entries, want 7", len(r.History))
	}
	if err := r.Apply(EventCancel, RoleSender, "hub-one", fixedTime, ""); err == nil {
		t.Errorf("cancel of a completed referral: got nil, want an error")
	}
}

func TestReferral_Apply_fromDraft(t *testing.T) {
	r := validReferral()
	r.State, r.History = StateDraft, nil
	walk(t, &r, []applyStep{
		{EventSend, RoleSender, "hub-one", "", StateRequested, ""},
		{EventReceive, RoleSystem, "hub-two", "", StateReceived, ""},
	})
}

func TestReferral_Apply_askForInformation(t *testing.T) {
	r := validReferral()
	walk(t, &r, []applyStep{
		{EventReceive, RoleSystem, "hub-two", "", StateReceived, ""},
		{EventHold, RoleReceiver, "hub-two", "How many production lines?", StateOnHold, StateReceived},
		{EventAnswer, RoleSender, "hub-one", "Two.", StateReceived, ""},
		{EventAccept, RoleReceiver, "hub-two", "", StateAccepted, ""},
	})
}

func TestReferral_Apply_cancelWhileOnHold(t *testing.T) {
	r := validReferral()
	walk(t, &r, []applyStep{
		{EventReceive, RoleSystem, "hub-two", "", StateReceived, ""},
		{EventHold, RoleReceiver, "hub-two", "", StateOnHold, StateReceived},
		{EventCancel, RoleSender, "hub-one", "The SME withdrew its consent.", StateCancelled, ""},
	})
}

func TestReferral_Apply_refusedChangesNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup []applyStep
		ev    Event
		by    Role
	}{
		{"sender accepts", []applyStep{{EventReceive, RoleSystem, "hub-two", "", StateReceived, ""}}, EventAccept, RoleSender},
		{"accept on requested", nil, EventAccept, RoleReceiver},
		{"answer while paused", []applyStep{
			{EventReceive, RoleSystem, "hub-two", "", StateReceived, ""},
			{EventAccept, RoleReceiver, "hub-two", "", StateAccepted, ""},
			{EventStart, RoleReceiver, "hub-two", "", StateInProgress, ""},
			{EventHold, RoleReceiver, "hub-two", "", StateOnHold, StateInProgress},
		}, EventAnswer, RoleSender},
		{"resume what waits for an answer", []applyStep{
			{EventReceive, RoleSystem, "hub-two", "", StateReceived, ""},
			{EventHold, RoleReceiver, "hub-two", "", StateOnHold, StateReceived},
		}, EventStart, RoleReceiver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validReferral()
			walk(t, &r, tt.setup)
			state, held, history := r.State, r.HeldFrom, slices.Clone(r.History)
			err := r.Apply(tt.ev, tt.by, "hub-two", fixedTime.Add(time.Hour), "note")
			var te *TransitionError
			if !errors.As(err, &te) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want a *TransitionError", err)
			}
			if r.State != state || r.HeldFrom != held || !slices.Equal(r.History, history) {
				t.Errorf("got state %q held from %q with %d entries, want %q held from %q with %d",
					r.State, r.HeldFrom, len(r.History), state, held, len(history))
			}
		})
	}
}

// A referral paused and resumed without end keeps room for an ending: a cancel is
// still possible, so the receiving hub can still be told to purge the SME's identity.
func TestReferral_Apply_historyKeepsRoomForAnEnding(t *testing.T) {
	r := Referral{State: StateInProgress, History: make([]Change, MaxHistory-historyReserve)}
	err := r.Apply(EventHold, RoleReceiver, "hub-b", time.Now(), "")
	var te *TransitionError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "only an ending is allowed") {
		t.Fatalf("pause with a full history: %v", err)
	}
	if err := r.Apply(EventCancel, RoleSender, "hub-a", time.Now(), ""); err != nil || r.State != StateCancelled {
		t.Fatalf("cancel with a full history: %v, state %s", err, r.State)
	}
}
