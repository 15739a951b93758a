package protocol

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is where a referral is in its lifecycle, after FHIR Task.
type State string

// The states of a referral.
const (
	StateDraft      State = "draft"       // written, not yet sent
	StateRequested  State = "requested"   // sent, not yet stored by the receiver
	StateReceived   State = "received"    // stored by the receiver, awaiting its decision
	StateAccepted   State = "accepted"    // the receiver takes the SME on
	StateRejected   State = "rejected"    // the receiver declined, with a reason
	StateOnHold     State = "on-hold"     // the receiver asked for information, or paused
	StateInProgress State = "in-progress" // the service has started
	StateCompleted  State = "completed"   // closed with an outcome
	StateFailed     State = "failed"      // the receiver could not deliver
	StateCancelled  State = "cancelled"   // the sender cancelled, or the SME withdrew consent
	StateExpired    State = "expired"     // not received or not decided in time
)

// States lists every state, in lifecycle order.
var States = []State{StateDraft, StateRequested, StateReceived, StateAccepted, StateRejected, StateOnHold,
	StateInProgress, StateCompleted, StateFailed, StateCancelled, StateExpired}

// Final reports whether nothing can happen to a referral in state s any more.
func (s State) Final() bool {
	switch s {
	case StateRejected, StateCompleted, StateFailed, StateCancelled, StateExpired:
		return true
	}
	return false
}

// Role is who acts on a referral.
type Role string

// The roles.
const (
	RoleSender   Role = "sender"   // the referring hub
	RoleReceiver Role = "receiver" // the hub the SME is referred to
	RoleSystem   Role = "system"   // a node by itself: storing, deadlines
)

// Event is something that happens to a referral.
type Event string

// The events of the lifecycle. The HTTP API and the CLI name the actions of people
// after them: accept, decline, hold, answer, start, complete, fail, cancel.
const (
	EventSend     Event = "send"     // sender: draft -> requested
	EventReceive  Event = "receive"  // system, at the receiver: requested -> received
	EventAccept   Event = "accept"   // receiver: received -> accepted
	EventDecline  Event = "decline"  // receiver: received -> rejected, with a reason
	EventHold     Event = "hold"     // receiver: received -> on-hold (asks for information); in-progress -> on-hold (pauses)
	EventAnswer   Event = "answer"   // sender: on-hold (asked for information) -> received
	EventStart    Event = "start"    // receiver: accepted -> in-progress; on-hold (paused) -> in-progress
	EventComplete Event = "complete" // receiver: in-progress -> completed, with an outcome
	EventFail     Event = "fail"     // receiver: accepted or in-progress -> failed, with a reason
	EventCancel   Event = "cancel"   // sender, or a node by itself (consent lapsed, partner revoked): any open state -> cancelled
	EventExpire   Event = "expire"   // system: requested or received -> expired, at its deadline
)

// Events lists every event.
var Events = []Event{EventSend, EventReceive, EventAccept, EventDecline, EventHold, EventAnswer, EventStart,
	EventComplete, EventFail, EventCancel, EventExpire}

// transition is one row of the lifecycle: from a state, an event by a role leads to a
// state. heldFrom, for rows leaving on-hold, is the state the referral was put on
// hold from.
type transition struct {
	from     State
	heldFrom State
	event    Event
	by       Role
	to       State
}

// lifecycle is the whole lifecycle; anything not in it is refused.
var lifecycle = []transition{
	{StateDraft, "", EventSend, RoleSender, StateRequested},
	{StateRequested, "", EventReceive, RoleSystem, StateReceived},
	{StateReceived, "", EventAccept, RoleReceiver, StateAccepted},
	{StateReceived, "", EventDecline, RoleReceiver, StateRejected},
	{StateReceived, "", EventHold, RoleReceiver, StateOnHold},
	{StateOnHold, StateReceived, EventAnswer, RoleSender, StateReceived},
	{StateAccepted, "", EventStart, RoleReceiver, StateInProgress},
	{StateInProgress, "", EventHold, RoleReceiver, StateOnHold},
	{StateOnHold, StateInProgress, EventStart, RoleReceiver, StateInProgress},
	{StateInProgress, "", EventComplete, RoleReceiver, StateCompleted},
	{StateAccepted, "", EventFail, RoleReceiver, StateFailed},
	{StateInProgress, "", EventFail, RoleReceiver, StateFailed},
	{StateOnHold, StateInProgress, EventFail, RoleReceiver, StateFailed},
	{StateDraft, "", EventCancel, RoleSender, StateCancelled},
	{StateRequested, "", EventCancel, RoleSender, StateCancelled},
	{StateReceived, "", EventCancel, RoleSender, StateCancelled},
	{StateOnHold, "", EventCancel, RoleSender, StateCancelled},
	{StateAccepted, "", EventCancel, RoleSender, StateCancelled},
	{StateInProgress, "", EventCancel, RoleSender, StateCancelled},
	{StateRequested, "", EventCancel, RoleSystem, StateCancelled},
	{StateReceived, "", EventCancel, RoleSystem, StateCancelled},
	{StateOnHold, "", EventCancel, RoleSystem, StateCancelled},
	{StateAccepted, "", EventCancel, RoleSystem, StateCancelled},
	{StateInProgress, "", EventCancel, RoleSystem, StateCancelled},
	{StateRequested, "", EventExpire, RoleSystem, StateExpired},
	{StateReceived, "", EventExpire, RoleSystem, StateExpired},
	{StateOnHold, StateReceived, EventExpire, RoleSystem, StateExpired},
}

// historyReserve is how many entries of MaxHistory are kept for endings.
const historyReserve = 10

// TransitionError says why the lifecycle refuses an event.
type TransitionError struct {
	From  State
	Event Event
	By    Role
	Rule  string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s by the %s in state %s: %s", e.Event, e.By, e.From, e.Rule)
}

// Is makes a TransitionError match ErrInvalid.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalid }

// Next returns the state that event ev by role by leads to from state from, or a
// *TransitionError saying why it may not happen. heldFrom is the state an on-hold
// referral was put on hold from (received or in-progress), and is ignored otherwise.
func Next(from, heldFrom State, ev Event, by Role) (State, error) {
	if !slices.Contains(States, from) {
		return "", &TransitionError{from, ev, by, "unknown state"}
	}
	if !slices.Contains(Events, ev) {
		return "", &TransitionError{from, ev, by, "unknown event"}
	}
	var allowed []Role
	for _, t := range lifecycle {
		if t.from != from || t.event != ev || (t.heldFrom != "" && t.heldFrom != heldFrom) {
			continue
		}
		if t.by == by {
			return t.to, nil
		}
		allowed = append(allowed, t.by)
	}
	switch {
	case len(allowed) > 0:
		return "", &TransitionError{from, ev, by, "only the " + string(allowed[0]) + " may do that"}
	case from.Final():
		return "", &TransitionError{from, ev, by, "the referral is " + string(from) + " and can change no more"}
	case undoesAcceptance(from, heldFrom, ev):
		return "", &TransitionError{from, ev, by, "an accepted referral ends only as completed, failed or cancelled"}
	}
	var can []string
	for _, t := range lifecycle {
		if t.from == from && (t.heldFrom == "" || t.heldFrom == heldFrom) && !slices.Contains(can, string(t.event)) {
			can = append(can, string(t.event))
		}
	}
	return "", &TransitionError{from, ev, by, "allowed in this state: " + strings.Join(can, ", ")}
}

// undoesAcceptance reports whether ev would take a referral that was accepted (and may
// since have started, or been paused) back to before its acceptance, or end it as if it
// never had been. Other refused events get the list of what is allowed instead.
func undoesAcceptance(from, heldFrom State, ev Event) bool {
	accepted := from == StateAccepted || from == StateInProgress || (from == StateOnHold && heldFrom == StateInProgress)
	switch ev {
	case EventSend, EventReceive, EventDecline, EventAnswer, EventExpire:
		return accepted
	}
	return false
}

// Reason codes of a decline.
var DeclineReasons = []string{"out-of-scope", "no-capacity", "not-eligible", "needs-more-info", "duplicate", "redirected"}

// Reason codes of a failure and of a cancellation.
var (
	FailReasons   = []string{"sme-unreachable", "sme-withdrew", "no-capacity", "out-of-scope", "other"}
	CancelReasons = []string{"consent-withdrawn", "sme-withdrew", "duplicate", "sent-in-error", "other"}
	// SystemCancelReasons are the reasons a node cancels for by itself: the SME's
	// consent ran out, or the other hub was revoked from the network.
	SystemCancelReasons = []string{"consent-expired", "partner-revoked"}
)

// Outcomes of a completed referral.
var Outcomes = []string{"service-delivered", "partially-delivered", "referred-on", "other"}

// Maturity is a digital maturity summary: the six dimension scores, 0 to 100, of the
// EDIH digital maturity assessment.
type Maturity struct {
	Strategy   int `json:"strategy"`   // digital business strategy
	Readiness  int `json:"readiness"`  // digital readiness
	Human      int `json:"human"`      // human-centric digitalisation
	Data       int `json:"data"`       // data management and governance
	Automation int `json:"automation"` // automation and artificial intelligence
	Green      int `json:"green"`      // green digitalisation
}

// Need is what the receiver sees of an SME before it accepts: nothing that tells who
// the SME is.
type Need struct {
	Sector       string    `json:"sector"`   // NACE section or division
	Region       string    `json:"region"`   // NUTS 3
	Category     Category  `json:"category"` // size category
	Family       Family    `json:"family"`   // service family wanted
	Technologies []string  `json:"technologies,omitempty"`
	Description  string    `json:"description"` // the need in words, without names
	Maturity     *Maturity `json:"maturity,omitempty"`
}

// Consent is the SME's consent to be referred: who gave it (a role, such as "managing
// director"), when, to which hub, for what, until when.
type Consent struct {
	GivenBy   string    `json:"given_by"`
	GivenAt   time.Time `json:"given_at"`
	Recipient string    `json:"recipient"`
	Purpose   string    `json:"purpose"`
	Until     time.Time `json:"until"`
}

// SME is who the SME is: personal data, which travels only sealed to the receiver,
// and only after it accepted.
type SME struct {
	Name         string `json:"name"`
	Website      string `json:"website,omitempty"`
	ContactName  string `json:"contact_name"`
	ContactEmail string `json:"contact_email,omitempty"`
	ContactPhone string `json:"contact_phone,omitempty"`
}

// Change is one entry of a referral's history.
type Change struct {
	At time.Time `json:"at"`
	By string    `json:"by"` // the hub that made it
	// Person is the display name of the person at hub By who made it, when a person
	// did: an advisor, an operator, or an integration's token by its name.
	Person  string `json:"person,omitempty"`
	Event   Event  `json:"event"`
	From    State  `json:"from"`
	To      State  `json:"to"`
	Note    string `json:"note,omitempty"`
	Reason  string `json:"reason,omitempty"`  // of a decline, a failure or a cancel
	Outcome string `json:"outcome,omitempty"` // of a completion
	// Superseded marks an ending that crossed the other hub's ending and gave way to
	// it (see Settle): kept, with its reason and note, but not how the referral ended.
	Superseded bool `json:"superseded,omitempty"`
}

// Referral is one SME's need sent by one hub to another, with where it stands.
type Referral struct {
	V        int       `json:"v"`
	ID       string    `json:"id"` // UUIDv7, chosen by the sender
	From     string    `json:"from"`
	To       string    `json:"to"`
	Created  time.Time `json:"created"`
	State    State     `json:"state"`
	HeldFrom State     `json:"held_from,omitempty"` // while on hold: received or in-progress
	Need     Need      `json:"need"`
	Consent  Consent   `json:"consent"`
	AckBy    time.Time `json:"ack_by"`    // requested expires if not received by then
	DecideBy time.Time `json:"decide_by"` // received expires if not decided by then
	Reason   string    `json:"reason,omitempty"`
	Outcome  string    `json:"outcome,omitempty"`
	History  []Change  `json:"history"`
}

// Apply moves the referral on by event ev, made by hub at time at as role by, and
// records it in the history. It changes nothing when the lifecycle refuses the event.
func (r *Referral) Apply(ev Event, by Role, hub string, at time.Time, note string) error {
	to, err := Next(r.State, r.HeldFrom, ev, by)
	if err != nil {
		return err
	}
	if len(r.History) >= MaxHistory-historyReserve && !to.Final() {
		// Room is kept for an ending, so that a referral paused and resumed without
		// end can still be cancelled, and the SME's identity purged.
		return &TransitionError{r.State, ev, by, fmt.Sprintf("the referral has %d changes; only an ending is allowed now", len(r.History))}
	}
	if len(r.History) >= MaxHistory {
		return &TransitionError{r.State, ev, by, "the referral's history is full"}
	}
	r.History = append(r.History, Change{At: at.UTC(), By: hub, Event: ev, From: r.State, To: to, Note: note})
	switch {
	case to == StateOnHold:
		r.HeldFrom = r.State
	case r.State == StateOnHold:
		r.HeldFrom = ""
	}
	r.State = to
	return nil
}
