package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Incoming is what applying a received message changes; see [Store.Receive].
type Incoming struct {
	Record *ReferralRecord // the referral to store; nil leaves it as it is
	Out    []Outgoing      // messages to send, in the same transaction
	KPIs   []protocol.KPIRecord
	Ack    []byte // the signed acknowledgement, kept to answer a duplicate
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
