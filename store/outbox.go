package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
	bolt "go.etcd.io/bbolt"
)

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
// what the acknowledgement told; fn returns whether it changed the record, and the KPI
// records the change makes (a crossing ending settled as completed). A referral that
// is not there is not passed to fn. An error from fn writes nothing and is returned as
// is.
func (s *Store) Acknowledged(msgID, refID string, fn func(rec *ReferralRecord) (bool, []protocol.KPIRecord, error)) error {
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
		changed, kpis, err := fn(&rec)
		if err != nil {
			fnErr = err
			return err
		}
		if !changed {
			return nil
		}
		if err := checkChange(&rec, refID, nil, kpis); err != nil {
			return err
		}
		return s.writeChange(tx, &rec, nil, kpis)
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

// Abandon deletes the outbox entries of referral refID addressed to hub to, which will
// never take them (the steward revoked it), and in the same transaction lets fn change
// the referral, knowing the entries dropped, oldest first; fn returns whether it
// changed the record, which is then stored by the rules of SaveReferral. It returns
// the entries dropped. An error from fn writes nothing and is returned as is; a
// referral that is not there is ErrNotFound, and nothing is deleted.
//
// fn runs inside the store's write transaction, as UpdateReferral's does: it must be
// quick and must not call the Store.
func (s *Store) Abandon(refID, to string, fn func(rec *ReferralRecord, dropped []Outgoing) (bool, error)) ([]Outgoing, error) {
	var (
		dropped []Outgoing
		fnErr   error
	)
	err := s.update(func(tx *bolt.Tx) error {
		rec, err := getReferral(tx, refID)
		if err != nil {
			return err
		}
		rows, blobs := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxBlobs)
		err = rows.ForEach(func(k, v []byte) error {
			var r outboxRow
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode outbox entry %s: %w", k, err)
			}
			if r.Referral == refID && r.To == to {
				dropped = append(dropped, r.outgoing(string(k), bytes.Clone(blobs.Get(k))))
			}
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(dropped, func(a, b Outgoing) int {
			return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
		})
		// Deleted after the walk: bbolt forbids changing a bucket while ForEach runs.
		for _, o := range dropped {
			if err := rows.Delete([]byte(o.ID)); err != nil {
				return fmt.Errorf("delete outbox entry %s: %w", o.ID, err)
			}
			if err := blobs.Delete([]byte(o.ID)); err != nil {
				return fmt.Errorf("delete outbox envelope %s: %w", o.ID, err)
			}
		}
		changed, err := fn(&rec, dropped)
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
		return dropped, nil
	case fnErr != nil:
		return nil, fnErr
	case isValidation(err):
		return nil, err
	default:
		return nil, fmt.Errorf("abandon outbox entries of referral %s to %s: %w", refID, to, err)
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
	// Read first: most hubs that come back have nothing waiting for them, and a
	// write would cost a commit.
	waiting := false
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var r outboxRow
			if err := json.Unmarshal(v, &r); err == nil && r.To == to && r.Due.After(now) {
				waiting = true
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("hasten outbox entries to %s: %w", to, err)
	}
	if !waiting {
		return 0, nil
	}
	err = s.update(func(tx *bolt.Tx) error {
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
