package protocol

import (
	"fmt"
	"slices"
	"strings"
)

// Crossing endings. A referral has two owners: the referring hub may cancel it while
// the receiving hub declines, completes or fails it, each before it hears of the
// other. Both hubs then hold an ending of their own and receive the other's. Settle is
// the one rule both apply, so that both end the same way whatever the order in which
// the two endings reach them: a completion stands, since the service was delivered
// and is counted; otherwise the earlier ending stands, by its time, then the hub's
// ID, then the event, an order both hubs compute alike. The ending that gives way
// stays in the history, marked superseded, with its reason and note.

// EndingEvents are the events that end a referral.
var EndingEvents = []Event{EventDecline, EventComplete, EventFail, EventCancel, EventExpire}

// Ends returns the final state event ev leads to, and whether it ends a referral.
func Ends(ev Event) (State, bool) {
	switch ev {
	case EventDecline:
		return StateRejected, true
	case EventComplete:
		return StateCompleted, true
	case EventFail:
		return StateFailed, true
	case EventCancel:
		return StateCancelled, true
	case EventExpire:
		return StateExpired, true
	}
	return "", false
}

// CanEnd reports whether a hub in role may end a referral with ev, from some state:
// by itself, or by its node (a deadline, a lapsed consent, a revoked partner).
func CanEnd(role Role, ev Event) bool {
	if _, ok := Ends(ev); !ok {
		return false
	}
	return slices.ContainsFunc(lifecycle, func(t transition) bool {
		return t.event == ev && (t.by == role || t.by == RoleSystem)
	})
}

// Ending returns the change that ended the referral: the last entry of its history
// that is not superseded, when the referral is in a final state.
func (r *Referral) Ending() (Change, bool) {
	if !r.State.Final() {
		return Change{}, false
	}
	for i := len(r.History) - 1; i >= 0; i-- {
		if c := r.History[i]; !c.Superseded && c.To == r.State {
			return c, true
		}
	}
	return Change{}, false
}

// Prevails reports whether ending a stands over ending b, two different endings of one
// referral made at its two hubs: a completion stands; otherwise the earlier, by time,
// then the ID of the hub that made it, then the event.
func Prevails(a, b Change) bool {
	if (a.Event == EventComplete) != (b.Event == EventComplete) {
		return a.Event == EventComplete
	}
	if c := a.At.Compare(b.At); c != 0 {
		return c < 0
	}
	if c := strings.Compare(a.By, b.By); c != 0 {
		return c < 0
	}
	return strings.Compare(string(a.Event), string(b.Event)) < 0
}

// same reports whether two changes are one change seen at both hubs.
func same(a, b Change) bool {
	return a.Event == b.Event && a.By == b.By && a.At.Equal(b.At)
}

// Settle takes in theirs, an ending the other hub of the referral made, when this hub's
// record has ended too or the lifecycle no longer allows that ending here. It returns
// whether the referral changed:
//   - a referral that holds theirs already does not change;
//   - a referral that has not ended takes theirs: the other hub's record can change
//     no more;
//   - an ending of this hub's that theirs prevails over (see Prevails) is marked
//     superseded, and theirs becomes the referral's ending, with its reason and outcome;
//   - otherwise theirs is kept in the history, superseded.
//
// Either way the ending that stands is the last entry of the history and the
// superseded one comes just before it, so both hubs hold the same entries in the same
// order.
func (r *Referral) Settle(theirs Change) (bool, error) {
	to, ok := Ends(theirs.Event)
	if !ok || theirs.To != to {
		return false, fmt.Errorf("settle %s to %s: not an ending: %w", theirs.Event, theirs.To, ErrInvalid)
	}
	if slices.ContainsFunc(r.History, func(c Change) bool { return same(c, theirs) }) {
		return false, nil
	}
	if len(r.History) >= MaxHistory {
		return false, &TransitionError{r.State, theirs.Event, RoleSystem, "the referral's history is full"}
	}
	theirs.Superseded = false
	mine, ended := r.Ending()
	switch {
	case !ended:
		theirs.From = r.State
		r.History = append(r.History, theirs)
	case Prevails(theirs, mine):
		i := slices.IndexFunc(r.History, func(c Change) bool { return same(c, mine) })
		r.History[i].Superseded = true
		theirs.From = mine.From
		r.History = append(r.History, theirs)
	default:
		theirs.From, theirs.Superseded = mine.From, true
		i := slices.IndexFunc(r.History, func(c Change) bool { return same(c, mine) })
		r.History = slices.Insert(r.History, i, theirs)
		return true, nil
	}
	r.State, r.HeldFrom = to, ""
	r.Reason, r.Outcome = theirs.Reason, theirs.Outcome
	return true, nil
}

// Take applies c, a change the other hub of the referral made as role by and sent to
// this one: by the lifecycle when it allows it here; otherwise, when c ends the
// referral, by Settle, since the other hub's record can change no more. It reports
// whether the referral changed, and refuses what neither allows with a
// *TransitionError.
func (r *Referral) Take(c Change, by Role) (bool, error) {
	if to, ends := Ends(c.Event); ends {
		if _, err := Next(r.State, r.HeldFrom, c.Event, by); err != nil || r.State.Final() {
			if !CanEnd(by, c.Event) {
				return false, &TransitionError{r.State, c.Event, by, "only the other hub may end it so"}
			}
			c.To = to
			return r.Settle(c)
		}
	}
	if err := r.Apply(c.Event, by, c.By, c.At, c.Note); err != nil {
		return false, err
	}
	r.SetReasons(c.Event, c.Reason, c.Outcome)
	r.SetPerson(c.Event, c.Person)
	return true, nil
}

// SetReasons records the reason of a decline, a failure or a cancel, or the outcome of
// a completion, just applied as ev: on the referral and on its history entry, so that
// an ending that gives way to the other hub's keeps what it was made with.
func (r *Referral) SetReasons(ev Event, reason, outcome string) {
	switch ev {
	case EventDecline, EventFail, EventCancel:
		r.Reason = reason
	case EventComplete:
		r.Outcome = outcome
	default:
		return
	}
	if last := len(r.History) - 1; last >= 0 && r.History[last].Event == ev {
		r.History[last].Reason, r.History[last].Outcome = r.Reason, r.Outcome
	}
}
