package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// ReferralRecord is a referral as this hub keeps it.
type ReferralRecord struct {
	Referral protocol.Referral `json:"referral"`
	// Role is this hub's role in the referral: protocol.RoleSender or RoleReceiver.
	Role protocol.Role `json:"role"`
	// SME is the SME's identity: at the sender from the start; at the receiver once the
	// details arrive; nil after a purge. It is stored apart from the referral, so that
	// setting it to nil deletes its bytes.
	SME *protocol.SME `json:"sme,omitempty"`
	// Updated is when the store last wrote the record, by its clock (Options.Now): a
	// value given to a write is replaced.
	Updated time.Time `json:"updated"`
}

// partner returns the other hub of the referral.
func (r *ReferralRecord) partner() string {
	if r.Role == protocol.RoleReceiver {
		return r.Referral.From
	}
	return r.Referral.To
}

// Outgoing is a signed message in the outbox, kept until its recipient acknowledges it.
type Outgoing struct {
	ID       string `json:"id"`       // the envelope's message ID
	To       string `json:"to"`       // recipient hub
	Referral string `json:"referral"` // referral ID
	// Envelope is the signed envelope, exactly as it is sent. It is stored as these
	// bytes, never re-encoded.
	Envelope []byte `json:"envelope"`
	Attempts int    `json:"attempts"` // failed attempts so far; see Store.Retry
	// Due is when to make the next attempt. Zero means at once: it is set to Created.
	Due time.Time `json:"due"`
	// Created is when the entry was queued. Zero means now, by the store's clock.
	Created time.Time `json:"created"`
}

// Incoming is what applying a received message changes; see [Store.Receive].
type Incoming struct {
	Record *ReferralRecord // the referral to store; nil leaves it as it is
	Out    []Outgoing      // messages to send, in the same transaction
	KPIs   []protocol.KPIRecord
	Ack    []byte // the signed acknowledgement, kept to answer a duplicate
}

// ReferralFilter selects referrals; zero fields select all.
type ReferralFilter struct {
	Role     protocol.Role
	States   []protocol.State
	Partner  string    // the other hub
	From, To time.Time // Created in [From, To)
	Limit    int       // at most this many, the newest; zero or less means no limit
}

// referralRow is how a ReferralRecord is stored in the referrals bucket: without its
// SME, which is in the referral_smes bucket under the same key.
type referralRow struct {
	Referral protocol.Referral `json:"referral"`
	Role     protocol.Role     `json:"role"`
	Updated  time.Time         `json:"updated"`
}

// outboxRow is how an Outgoing is stored in the outbox bucket: without its envelope,
// which is in the outbox_envelopes bucket under the same key, so that Retry and Hasten
// rewrite a few bytes rather than the whole message.
type outboxRow struct {
	To       string    `json:"to"`
	Referral string    `json:"referral"`
	Attempts int       `json:"attempts"`
	Due      time.Time `json:"due"`
	Created  time.Time `json:"created"`
}

// SaveReferral stores rec, replacing any referral with its ID, with the messages out
// to send and the KPI records kpis, in one transaction. rec.Updated is set to the
// store's clock. A nil rec.SME deletes a stored SME identity.
//
// A record, message or KPI record that breaks a rule stores nothing, and SaveReferral
// returns a *protocol.ValidationError, unwrapped, naming every field at fault.
func (s *Store) SaveReferral(rec ReferralRecord, out []Outgoing, kpis []protocol.KPIRecord) error {
	if err := checkChange(&rec, "", out, kpis); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		return s.writeChange(tx, &rec, out, kpis)
	})
	if err != nil {
		return fmt.Errorf("save referral %s: %w", rec.Referral.ID, err)
	}
	return nil
}

// UpdateReferral reads referral id, lets fn change it (and return messages and KPI
// records to write with it), and stores all in one transaction, by the rules of
// SaveReferral; fn must not change the referral's ID. It returns the record as stored.
// An error from fn writes nothing and is returned as is. ErrNotFound if there is no
// such referral.
//
// fn runs inside the store's write transaction, which blocks every other write: it must
// be quick and must not call the Store. It gets its own copy of the record.
func (s *Store) UpdateReferral(id string, fn func(rec *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error)) (ReferralRecord, error) {
	var (
		rec   ReferralRecord
		fnErr error
	)
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if rec, err = getReferral(tx, id); err != nil {
			return err
		}
		var (
			out  []Outgoing
			kpis []protocol.KPIRecord
		)
		if out, kpis, fnErr = fn(&rec); fnErr != nil {
			return fnErr
		}
		if err := checkChange(&rec, id, out, kpis); err != nil {
			return err
		}
		return s.writeChange(tx, &rec, out, kpis)
	})
	switch {
	case err == nil:
		return rec, nil
	case fnErr != nil:
		return ReferralRecord{}, fnErr
	case isValidation(err):
		return ReferralRecord{}, err
	default:
		return ReferralRecord{}, fmt.Errorf("update referral %s: %w", id, err)
	}
}

// Referral returns the referral id, or ErrNotFound.
func (s *Store) Referral(id string) (ReferralRecord, error) {
	var rec ReferralRecord
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		rec, err = getReferral(tx, id)
		return err
	})
	if err != nil {
		return ReferralRecord{}, fmt.Errorf("referral %s: %w", id, err)
	}
	return rec, nil
}

// Referrals returns the referrals f selects, newest Created first (by ID, descending,
// among those created at the same instant). The slice is empty, not nil, when none is.
func (s *Store) Referrals(f ReferralFilter) ([]ReferralRecord, error) {
	recs := []ReferralRecord{}
	err := s.view(func(tx *bolt.Tx) error {
		refs, smes := tx.Bucket(bucketReferrals), tx.Bucket(bucketSMEs)
		c := tx.Bucket(bucketCreated).Cursor()
		// Walk the index by Created backwards from the last key before f.To.
		var k []byte
		if f.To.IsZero() {
			k, _ = c.Last()
		} else if k, _ = c.Seek(timeKey(f.To)); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		var from []byte
		if !f.From.IsZero() {
			from = timeKey(f.From)
		}
		for ; k != nil; k, _ = c.Prev() {
			if from != nil && bytes.Compare(k, from) < 0 {
				break
			}
			id := k[timeKeyLen:]
			v := refs.Get(id)
			if v == nil {
				return fmt.Errorf("index by creation names referral %s, which is not stored: data file is damaged", id)
			}
			rec, err := decodeReferral(v, smes.Get(id))
			if err != nil {
				return fmt.Errorf("referral %s: %w", id, err)
			}
			if (f.Role != "" && rec.Role != f.Role) ||
				(len(f.States) > 0 && !slices.Contains(f.States, rec.Referral.State)) ||
				(f.Partner != "" && rec.partner() != f.Partner) {
				continue
			}
			recs = append(recs, rec)
			if f.Limit > 0 && len(recs) == f.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list referrals: %w", err)
	}
	return recs, nil
}

// Receive applies a received message once. In one transaction it looks msgID up in
// the inbox: if it is there it returns the stored ack and dup=true, and calls nothing.
// Otherwise it reads referral refID (found or not), calls fn, stores what fn returns by
// the rules of SaveReferral and records msgID with inc.Ack and the store's time.
// inc.Record, when not nil, must be the referral refID. A duplicate is found by a read
// transaction first, so answering one writes nothing.
//
// An error from fn stores nothing, does not record msgID and is returned as is; so
// does a *protocol.ValidationError for what fn returned. fn runs inside the store's
// write transaction, which blocks every other write: it must be quick and must not
// call the Store.
func (s *Store) Receive(msgID, refID string, fn func(cur ReferralRecord, found bool) (Incoming, error)) (ack []byte, dup bool, err error) {
	if msgID == "" {
		return nil, false, &protocol.ValidationError{What: "received message", Problems: []protocol.FieldError{
			{Field: "id", Rule: "must be set"},
		}}
	}
	// A duplicate is answered from a read transaction, which neither waits for the write
	// lock nor fsyncs; the write transaction looks again, for a copy that got in first.
	err = s.view(func(tx *bolt.Tx) error {
		ack, dup, err = inboxAck(tx, msgID)
		return err
	})
	var fnErr error
	if err == nil && !dup {
		err = s.update(func(tx *bolt.Tx) error {
			var err error
			if ack, dup, err = inboxAck(tx, msgID); err != nil || dup {
				return err
			}
			cur, err := getReferral(tx, refID)
			found := err == nil
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			var inc Incoming
			if inc, fnErr = fn(cur, found); fnErr != nil {
				return fnErr
			}
			if err := checkChange(inc.Record, refID, inc.Out, inc.KPIs); err != nil {
				return err
			}
			if err := s.writeChange(tx, inc.Record, inc.Out, inc.KPIs); err != nil {
				return err
			}
			if err := tx.Bucket(bucketInbox).Put([]byte(msgID), append(timeKey(s.clock()), inc.Ack...)); err != nil {
				return fmt.Errorf("write inbox entry: %w", err)
			}
			ack = bytes.Clone(inc.Ack)
			return nil
		})
	}
	switch {
	case err == nil:
		return ack, dup, nil
	case fnErr != nil:
		return nil, false, fnErr
	case isValidation(err):
		return nil, false, err
	default:
		return nil, false, fmt.Errorf("receive message %s for referral %s: %w", msgID, refID, err)
	}
}

// inboxAck looks the message msgID up in the inbox, and returns a copy of the ack it
// was answered with and whether it is there.
func inboxAck(tx *bolt.Tx, msgID string) ([]byte, bool, error) {
	v := tx.Bucket(bucketInbox).Get([]byte(msgID))
	switch {
	case v == nil:
		return nil, false, nil
	case len(v) < timeKeyLen:
		return nil, false, fmt.Errorf("inbox entry %s is %d bytes: data file is damaged", msgID, len(v))
	}
	return bytes.Clone(v[timeKeyLen:]), true, nil
}

// Outbox returns every entry of the outbox, soonest Due first (by ID among those due
// at the same instant). The slice is empty, not nil, when the outbox is.
func (s *Store) Outbox() ([]Outgoing, error) {
	out := []Outgoing{}
	err := s.view(func(tx *bolt.Tx) error {
		blobs := tx.Bucket(bucketOutboxBlobs)
		size := 0
		err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var r outboxRow
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode outbox entry %s: %w", k, err)
			}
			env := blobs.Get(k) // bbolt's memory, until the copy below
			size += len(env)
			out = append(out, r.outgoing(string(k), env))
			return nil
		})
		if err != nil {
			return err
		}
		// One allocation for every envelope: a few thousand of them are megabytes. Each
		// is capped at its length, so that appending to one cannot overwrite the next.
		buf := make([]byte, 0, size)
		for i := range out {
			start := len(buf)
			buf = append(buf, out[i].Envelope...)
			out[i].Envelope = buf[start:len(buf):len(buf)]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	// A sort on read rather than an index by Due: Retry and Hasten then rewrite one key,
	// and a few thousand entries sort in well under a millisecond.
	slices.SortFunc(out, func(a, b Outgoing) int {
		return cmp.Or(a.Due.Compare(b.Due), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Pending counts the outbox entries of each referral, without reading their envelopes.
func (s *Store) Pending() (map[string]int, error) {
	n := map[string]int{}
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var r outboxRow
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode outbox entry %s: %w", k, err)
			}
			n[r.Referral]++
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

// Acknowledged removes the outbox entry msgID, whose recipient acknowledged it (nil if
// it is gone already), and in the same transaction lets fn record on referral refID
// what the acknowledgement told; fn returns whether it changed the record. A referral that is not there is not
// passed to fn. An error from fn writes nothing and is returned as is.
func (s *Store) Acknowledged(msgID, refID string, fn func(rec *ReferralRecord) (bool, error)) error {
	var fnErr error
	err := s.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketOutbox).Delete([]byte(msgID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOutboxBlobs).Delete([]byte(msgID)); err != nil {
			return err
		}
		rec, err := getReferral(tx, refID)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		changed, err := fn(&rec)
		if err != nil {
			fnErr = err
			return err
		}
		if !changed {
			return nil
		}
		if err := checkChange(&rec, refID, nil, nil); err != nil {
			return err
		}
		return s.writeChange(tx, &rec, nil, nil)
	})
	switch {
	case err == nil:
		return nil
	case fnErr != nil:
		return fnErr
	case isValidation(err):
		return err
	default:
		return fmt.Errorf("record acknowledgement of %s: %w", msgID, err)
	}
}

// Retry records a failed attempt to send the outbox entry msgID: Attempts+1 and Due =
// due. It returns nil if the entry is gone, acknowledged meanwhile.
func (s *Store) Retry(msgID string, due time.Time) error {
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		v := b.Get([]byte(msgID))
		if v == nil {
			return nil
		}
		var r outboxRow
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode outbox entry: %w", err)
		}
		r.Attempts++
		r.Due = due.UTC()
		return putOutboxRow(b, []byte(msgID), r)
	})
	if err != nil {
		return fmt.Errorf("reschedule outbox entry %s: %w", msgID, err)
	}
	return nil
}

// Hasten makes every outbox entry to the hub `to` that is due after now due at now, as
// when that hub joins, and returns how many it changed. Entries due already keep their
// Due, and every entry keeps its Attempts.
func (s *Store) Hasten(to string, now time.Time) (int, error) {
	now = now.UTC()
	var n int
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		var due [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var r outboxRow
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode outbox entry %s: %w", k, err)
			}
			if r.To == to && r.Due.After(now) {
				due = append(due, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Rewritten after the walk, from copied keys: bbolt forbids changing a bucket while
		// ForEach runs, and its keys may move once it changes.
		for _, k := range due {
			var r outboxRow
			if err := json.Unmarshal(b.Get(k), &r); err != nil {
				return fmt.Errorf("decode outbox entry %s: %w", k, err)
			}
			r.Due = now
			if err := putOutboxRow(b, k, r); err != nil {
				return err
			}
		}
		n = len(due)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("hasten outbox entries to %s: %w", to, err)
	}
	return n, nil
}

// PruneInbox forgets the IDs of messages received before `before`, and returns how
// many. A message received again after its ID is forgotten is applied again, so keep
// IDs for longer than a sender can retry and than the envelope's time window.
func (s *Store) PruneInbox(before time.Time) (int, error) {
	limit := timeKey(before)
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInbox)
		var old [][]byte
		// Collected first, as copies: deleting under a bbolt cursor skips the following key.
		err := b.ForEach(func(k, v []byte) error {
			if len(v) < timeKeyLen {
				return fmt.Errorf("inbox entry %s is %d bytes: data file is damaged", k, len(v))
			}
			if bytes.Compare(v[:timeKeyLen], limit) < 0 {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("delete inbox entry %s: %w", k, err)
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune inbox: %w", err)
	}
	return n, nil
}

// KPIs returns the KPI records whose At is in [from, to), ordered by At, then Kind,
// then Referral, then Hub. A zero from or to leaves that end open. The slice is empty,
// not nil, when none is.
func (s *Store) KPIs(from, to time.Time) ([]protocol.KPIRecord, error) {
	kpis := []protocol.KPIRecord{}
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKPIs).ForEach(func(k, v []byte) error {
			var r protocol.KPIRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode KPI record %q: %w", k, err)
			}
			if (!from.IsZero() && r.At.Before(from)) || (!to.IsZero() && !r.At.Before(to)) {
				return nil
			}
			kpis = append(kpis, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read KPI records: %w", err)
	}
	slices.SortFunc(kpis, func(a, b protocol.KPIRecord) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Kind, b.Kind),
			strings.Compare(a.Referral, b.Referral), strings.Compare(a.Hub, b.Hub))
	})
	return kpis, nil
}

// writeChange writes, in tx, rec (unless nil), the messages out and the KPI records
// kpis, all checked already. It stamps rec.Updated and the entries' zero times.
func (s *Store) writeChange(tx *bolt.Tx, rec *ReferralRecord, out []Outgoing, kpis []protocol.KPIRecord) error {
	now := s.clock()
	if rec != nil {
		rec.Updated = now
		if err := putReferral(tx, rec); err != nil {
			return err
		}
	}
	for _, o := range out {
		if o.Created.IsZero() {
			o.Created = now
		}
		if o.Due.IsZero() {
			o.Due = o.Created
		}
		if err := putOutgoing(tx, o); err != nil {
			return err
		}
	}
	b := tx.Bucket(bucketKPIs)
	for _, k := range kpis {
		k.At = k.At.UTC()
		v, err := json.Marshal(k)
		if err != nil {
			return fmt.Errorf("encode KPI record: %w", err)
		}
		if err := b.Put(kpiKey(k), v); err != nil {
			return fmt.Errorf("write KPI record: %w", err)
		}
	}
	return nil
}

// putReferral writes rec in tx: its row, its SME or the deletion of the stored one, and
// its key in the index by Created.
func putReferral(tx *bolt.Tx, rec *ReferralRecord) error {
	id := []byte(rec.Referral.ID)
	refs, idx := tx.Bucket(bucketReferrals), tx.Bucket(bucketCreated)
	if old := refs.Get(id); old != nil {
		var prev struct {
			Referral struct {
				Created time.Time `json:"created"`
			} `json:"referral"`
		}
		if err := json.Unmarshal(old, &prev); err != nil {
			return fmt.Errorf("decode stored referral: %w", err)
		}
		if err := idx.Delete(createdKey(prev.Referral.Created, id)); err != nil {
			return fmt.Errorf("delete index entry: %w", err)
		}
	}
	v, err := json.Marshal(referralRow{Referral: rec.Referral, Role: rec.Role, Updated: rec.Updated})
	if err != nil {
		return fmt.Errorf("encode referral: %w", err)
	}
	if err := refs.Put(id, v); err != nil {
		return fmt.Errorf("write referral: %w", err)
	}
	if err := idx.Put(createdKey(rec.Referral.Created, id), nil); err != nil {
		return fmt.Errorf("write index entry: %w", err)
	}
	smes := tx.Bucket(bucketSMEs)
	if rec.SME == nil {
		if err := smes.Delete(id); err != nil {
			return fmt.Errorf("purge SME: %w", err)
		}
		return nil
	}
	if v, err = json.Marshal(rec.SME); err != nil {
		return fmt.Errorf("encode SME: %w", err)
	}
	if err := smes.Put(id, v); err != nil {
		return fmt.Errorf("write SME: %w", err)
	}
	return nil
}

// getReferral reads the referral id in tx, or returns ErrNotFound.
func getReferral(tx *bolt.Tx, id string) (ReferralRecord, error) {
	v := tx.Bucket(bucketReferrals).Get([]byte(id))
	if v == nil {
		return ReferralRecord{}, ErrNotFound
	}
	return decodeReferral(v, tx.Bucket(bucketSMEs).Get([]byte(id)))
}

// decodeReferral builds a record from its stored row and SME, which may be nil.
func decodeReferral(v, sme []byte) (ReferralRecord, error) {
	var r referralRow
	if err := json.Unmarshal(v, &r); err != nil {
		return ReferralRecord{}, fmt.Errorf("decode referral: %w", err)
	}
	rec := ReferralRecord{Referral: r.Referral, Role: r.Role, Updated: r.Updated}
	if sme != nil {
		rec.SME = new(protocol.SME)
		if err := json.Unmarshal(sme, rec.SME); err != nil {
			return ReferralRecord{}, fmt.Errorf("decode SME: %w", err)
		}
	}
	return rec, nil
}

// putOutgoing writes the outbox entry o, replacing one with its ID.
func putOutgoing(tx *bolt.Tx, o Outgoing) error {
	r := outboxRow{To: o.To, Referral: o.Referral, Attempts: o.Attempts, Due: o.Due.UTC(), Created: o.Created.UTC()}
	if err := putOutboxRow(tx.Bucket(bucketOutbox), []byte(o.ID), r); err != nil {
		return err
	}
	if err := tx.Bucket(bucketOutboxBlobs).Put([]byte(o.ID), o.Envelope); err != nil {
		return fmt.Errorf("write outbox envelope: %w", err)
	}
	return nil
}

func putOutboxRow(b *bolt.Bucket, id []byte, r outboxRow) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode outbox entry %s: %w", id, err)
	}
	if err := b.Put(id, v); err != nil {
		return fmt.Errorf("write outbox entry %s: %w", id, err)
	}
	return nil
}

func (r outboxRow) outgoing(id string, env []byte) Outgoing {
	return Outgoing{ID: id, To: r.To, Referral: r.Referral, Envelope: env, Attempts: r.Attempts, Due: r.Due, Created: r.Created}
}

// timeKeyLen is the length of a timeKey.
const timeKeyLen = 12

// timeKey encodes t so that keys sort as their times do, for every t, the zero time
// too: the Unix seconds with the sign bit flipped, then the nanoseconds, big-endian.
func timeKey(t time.Time) []byte {
	k := make([]byte, 0, timeKeyLen)
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
}

// createdKey is the key of a referral in the index by Created.
func createdKey(created time.Time, id []byte) []byte {
	return append(timeKey(created), id...)
}

// kpiKey is a KPI record's key: writing the same (Kind, Referral, Hub) again replaces
// it, so a report counts it once. Validation keeps NUL bytes out of the parts: kinds
// are known words, referrals UUIDs and hubs slugs.
func kpiKey(k protocol.KPIRecord) []byte {
	return []byte(string(k.Kind) + "\x00" + k.Referral + "\x00" + k.Hub)
}

// checkChange refuses a change that must not be stored, naming every field at fault:
// rec (unless nil), which must be the referral id unless id is empty, the messages out
// and the KPI records kpis.
func checkChange(rec *ReferralRecord, id string, out []Outgoing, kpis []protocol.KPIRecord) error {
	var ps []protocol.FieldError
	add := func(field, rule string) { ps = append(ps, protocol.FieldError{Field: field, Rule: rule}) }
	// addAll adds the problems of a protocol type's Validate, each field under prefix.
	addAll := func(prefix string, err error) {
		var ve *protocol.ValidationError
		switch {
		case errors.As(err, &ve):
			for _, p := range ve.Problems {
				add(prefix+"."+p.Field, p.Rule)
			}
		case err != nil:
			add(prefix, err.Error())
		}
	}
	if rec != nil {
		addAll("referral", rec.Referral.Validate())
		if id != "" && rec.Referral.ID != id {
			add("referral.id", "must stay "+id)
		}
		if rec.Role != protocol.RoleSender && rec.Role != protocol.RoleReceiver {
			add("role", fmt.Sprintf("%q must be %s or %s", rec.Role, protocol.RoleSender, protocol.RoleReceiver))
		}
		if rec.SME != nil {
			addAll("sme", rec.SME.Validate())
		}
	}
	seen := make(map[string]bool, len(out))
	for i, o := range out {
		f := "out." + strconv.Itoa(i) + "."
		switch {
		case o.ID == "":
			add(f+"id", "must be set")
		case seen[o.ID]:
			add(f+"id", o.ID+" is listed twice")
		}
		seen[o.ID] = true
		if o.To == "" {
			add(f+"to", "must be set")
		}
		if len(o.Envelope) == 0 {
			add(f+"envelope", "must be set")
		}
	}
	for i := range kpis {
		addAll("kpis."+strconv.Itoa(i), kpis[i].Validate())
	}
	if len(ps) > 0 {
		return &protocol.ValidationError{What: "referral change", Problems: ps}
	}
	return nil
}

// isValidation reports whether err is a *protocol.ValidationError, which callers take
// apart field by field and so get unwrapped.
func isValidation(err error) bool {
	_, ok := err.(*protocol.ValidationError)
	return ok
}
