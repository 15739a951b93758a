package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// The change feed: every change of a referral's state and of the directory is an
// Event with a sequence number, written in the same transaction as the change, so
// that a reader who remembers the last number it read misses nothing and reads
// nothing twice. The notifications of an event (notify.go) are queued in the same
// transaction too.

// Types of an event.
const (
	EventReferralSent     = "referral.sent"     // this hub sent a referral
	EventReferralReceived = "referral.received" // a referral arrived at this hub
	EventReferralAccepted = "referral.accepted" // accepted, here or by the partner
	EventReferralRejected = "referral.rejected" // declined, here or by the partner
	EventReferralOnHold   = "referral.on-hold"  // waits for an answer, or paused
	EventReferralExpired  = "referral.expired"  // no answer before its deadline
	EventReferralChanged  = "referral.changed"  // any other change of state
	EventReferralDueSoon  = "referral.due-soon" // its deadline is within 24 hours
	EventHubAdded         = "hub.added"         // a hub entered the directory
	EventHubUpdated       = "hub.updated"       // a hub published a new profile
	EventHubRemoved       = "hub.removed"       // a hub left the directory
)

// EventTypes lists the types of an event.
var EventTypes = []string{EventReferralSent, EventReferralReceived, EventReferralAccepted, EventReferralRejected,
	EventReferralOnHold, EventReferralExpired, EventReferralChanged, EventReferralDueSoon,
	EventHubAdded, EventHubUpdated, EventHubRemoved}

// Event is one entry of the change feed.
type Event struct {
	Seq      uint64         `json:"seq"` // 1, 2, 3...: the order of the feed
	Type     string         `json:"type"`
	At       time.Time      `json:"at"`
	Referral *EventReferral `json:"referral,omitempty"`
	Hub      *EventHub      `json:"hub,omitempty"`
}

// EventReferral is what an event tells of a referral: never the SME's identity or
// the need in words.
type EventReferral struct {
	ID       string         `json:"id"`
	Role     protocol.Role  `json:"role"`
	Partner  string         `json:"partner"`
	State    protocol.State `json:"state"`
	Previous protocol.State `json:"previous,omitempty"` // the state before; empty for a new referral
	Family   string         `json:"family"`
	Created  time.Time      `json:"created"`
	// Due is when the next decision is due: the deadline to decide of a referral
	// received or waiting for an answer, to be received of one requested; zero when
	// nothing is due.
	Due time.Time `json:"due,omitzero"`
	// By is the hub that made the change, Person the person there, when known.
	By     string `json:"by,omitempty"`
	Person string `json:"person,omitempty"`
	// Contact is the e-mail address of the referral's contact person at this hub,
	// empty when it has none yet: used to route notifications, never sent out.
	Contact string `json:"-"`
}

// EventHub is what an event tells of a hub of the directory.
type EventHub struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Revision uint64 `json:"revision,omitempty"`
}

// eventRow is how an Event is stored: with the contact, which Event does not encode.
type eventRow struct {
	Event
	Contact string `json:"contact,omitempty"`
}

// DueOf returns when the next step of r is due, or the zero time.
func DueOf(r protocol.Referral) time.Time {
	switch r.State {
	case protocol.StateRequested:
		return r.AckBy
	case protocol.StateReceived:
		return r.DecideBy
	case protocol.StateOnHold:
		if r.HeldFrom == protocol.StateReceived {
			return r.DecideBy
		}
	}
	return time.Time{}
}

// feed wakes those waiting for new events. The zero value is ready.
type feed struct {
	mu      sync.Mutex    // guards ch and pending
	ch      chan struct{} // closed when events were committed
	pending bool          // a write in progress added events
}

// wait returns a channel closed after the next commit that adds events.
func (f *feed) wait() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ch == nil {
		f.ch = make(chan struct{})
	}
	return f.ch
}

// added notes, inside a write, that it adds events.
func (f *feed) added() {
	f.mu.Lock()
	f.pending = true
	f.mu.Unlock()
}

// committed wakes the waiters if a write added events. A write rolled back after
// added wakes them for nothing, which they survive: they read and find no more.
func (f *feed) committed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending && f.ch != nil {
		close(f.ch)
		f.ch = nil
	}
	f.pending = false
}

// EventsChanged returns a channel that is closed once events or notifications are
// added after the call: read [Store.Events] or [Store.NotifyDue] again then, and call
// EventsChanged again for the next.
func (s *Store) EventsChanged() <-chan struct{} { return s.feed.wait() }

// Events returns at most limit events after the sequence number after, oldest first,
// and the sequence number of the newest event stored (0 when there is none). The
// slice is empty, not nil, when there is none after.
func (s *Store) Events(after uint64, limit int) ([]Event, uint64, error) {
	out := []Event{}
	var last uint64
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		last = b.Sequence()
		c := b.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var r eventRow
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, r.Event)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read events: %w", err)
	}
	return out, last, nil
}

// Event returns the event seq, or ErrNotFound when it is not stored (never written,
// or pruned).
func (s *Store) Event(seq uint64) (Event, error) {
	var ev Event
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEvents).Get(seqKey(seq))
		if v == nil {
			return ErrNotFound
		}
		var r eventRow
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode event %d: %w", seq, err)
		}
		ev = r.Event
		return nil
	})
	if err != nil {
		return Event{}, fmt.Errorf("event %d: %w", seq, err)
	}
	return ev, nil
}

// OldestEvent returns the sequence number of the oldest event stored, 0 when there is
// none.
func (s *Store) OldestEvent() (uint64, error) {
	var seq uint64
	err := s.view(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().First(); k != nil {
			seq = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read events: %w", err)
	}
	return seq, nil
}

// PruneEvents deletes the events older than before, at most limit of them, and
// returns how many it deleted. The sequence goes on from where it was.
func (s *Store) PruneEvents(before time.Time, limit int) (int, error) {
	return s.pruneFront(bucketEvents, "events", limit, func(v []byte) (bool, error) {
		var r eventRow
		if err := json.Unmarshal(v, &r); err != nil {
			return false, fmt.Errorf("decode event: %w", err)
		}
		return r.At.Before(before), nil
	})
}

// pruneFront deletes entries from the front of bucket, in key order, while old
// reports them old, at most limit of them, in one transaction, and returns how many
// it deleted; what names the entries in errors ("events").
func (s *Store) pruneFront(bucket []byte, what string, limit int, old func(v []byte) (bool, error)) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.First(); k != nil && n < limit; k, v = c.First() {
			if ok, err := old(v); err != nil || !ok {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", what, err)
	}
	return n, nil
}

// seqKey is the key of a sequence number: 8 bytes, big-endian.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// addEvent writes ev in tx with the next sequence number, and queues its
// notifications. It returns the event as stored.
func (s *Store) addEvent(tx *bolt.Tx, ev Event) (Event, error) {
	b := tx.Bucket(bucketEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return Event{}, fmt.Errorf("number event: %w", err)
	}
	ev.Seq = seq
	ev.At = ev.At.UTC()
	row := eventRow{Event: ev}
	if ev.Referral != nil {
		row.Contact = ev.Referral.Contact
	}
	v, err := json.Marshal(row)
	if err != nil {
		return Event{}, fmt.Errorf("encode event: %w", err)
	}
	if err := b.Put(seqKey(seq), v); err != nil {
		return Event{}, fmt.Errorf("write event: %w", err)
	}
	if err := s.queueNotifications(tx, ev); err != nil {
		return Event{}, err
	}
	s.feed.added()
	return ev, nil
}

// referralEvent returns the event of rec's change from the state prev ("" for a
// referral not stored before), and whether there is one: a new referral, or a change
// of state. Other changes (a contact, a purge) make none.
func referralEvent(prev protocol.State, isNew bool, rec *ReferralRecord, at time.Time) (Event, bool) {
	r := &rec.Referral
	if !isNew && prev == r.State {
		return Event{}, false
	}
	typ := EventReferralChanged
	switch {
	case isNew && rec.Role == protocol.RoleReceiver:
		typ = EventReferralReceived
	case isNew:
		typ = EventReferralSent
	case r.State == protocol.StateAccepted:
		typ = EventReferralAccepted
	case r.State == protocol.StateRejected:
		typ = EventReferralRejected
	case r.State == protocol.StateOnHold:
		typ = EventReferralOnHold
	case r.State == protocol.StateExpired:
		typ = EventReferralExpired
	}
	return Event{Type: typ, At: at, Referral: eventReferral(rec, prev)}, true
}

// eventReferral is what an event tells of rec, whose state was prev.
func eventReferral(rec *ReferralRecord, prev protocol.State) *EventReferral {
	r := &rec.Referral
	er := &EventReferral{ID: r.ID, Role: rec.Role, Partner: rec.Partner(), State: r.State, Previous: prev,
		Family: string(r.Need.Family), Created: r.Created, Due: DueOf(*r)}
	if n := len(r.History); n > 0 {
		er.By, er.Person = r.History[n-1].By, r.History[n-1].Person
	}
	if rec.Contacts != nil && rec.Contacts.Own != nil {
		er.Contact = strings.ToLower(rec.Contacts.Own.Email)
	}
	return er
}

// storedState returns the state of the referral id as stored in tx, and whether it
// is stored.
func storedState(tx *bolt.Tx, id string) (protocol.State, bool, error) {
	v := tx.Bucket(bucketReferrals).Get([]byte(id))
	if v == nil {
		return "", false, nil
	}
	var row struct {
		Referral struct {
			State protocol.State `json:"state"`
		} `json:"referral"`
	}
	if err := json.Unmarshal(v, &row); err != nil {
		return "", false, fmt.Errorf("decode stored referral: %w", err)
	}
	return row.Referral.State, true, nil
}

// NoteDueSoon writes the event referral.due-soon of the referral id, whose next step
// is due at due, unless it was written for that deadline before; it reports whether
// it wrote it. A referral that is gone, or whose next step is no longer due at due,
// gets none.
func (s *Store) NoteDueSoon(id string, due time.Time) (bool, error) {
	wrote := false
	err := s.update(func(tx *bolt.Tx) error {
		wrote = false
		rec, err := getReferral(tx, id)
		if err != nil {
			return err
		}
		if d := DueOf(rec.Referral); d.IsZero() || !d.Equal(due) {
			return nil
		}
		marks := tx.Bucket(bucketDueMarks)
		mark := timeKey(due.UTC())
		if string(marks.Get([]byte(id))) == string(mark) {
			return nil
		}
		if err := marks.Put([]byte(id), mark); err != nil {
			return fmt.Errorf("write due mark: %w", err)
		}
		ev := Event{Type: EventReferralDueSoon, At: s.clock(), Referral: eventReferral(&rec, "")}
		ev.Referral.By, ev.Referral.Person = "", ""
		if _, err := s.addEvent(tx, ev); err != nil {
			return err
		}
		wrote = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("note referral %s due soon: %w", id, err)
	}
	return wrote, nil
}
