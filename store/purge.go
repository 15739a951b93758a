package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// An SME's identity is kept only as long as the referral needs it: the node purges it
// when the SME's consent ends, and some time after the referral ends. The store finds
// the referrals that still hold an identity ([Store.ReferralsWithSME]: the keys of the
// referral_smes bucket, which holds nothing else) and purges them a batch at a time
// ([Store.Purge]), with what ends the referral and without the messages that would
// carry the identity on.

// MaxPurgeBatch is the most referrals one [Store.Purge] takes: one transaction, which
// holds every other write back while it runs.
const MaxPurgeBatch = 256

// Purged is a referral that [Store.Purge] changed.
type Purged struct {
	Record ReferralRecord // as stored
	// Dropped counts the messages with the SME's details that were still queued for
	// the other hub, deleted with the identity.
	Dropped int
}

// ReferralsWithSME returns the referrals whose record holds an SME's identity, in the
// order of their IDs (UUIDv7: the order they were created in), starting after the ID
// after ("" for the first), at most limit of them. Paging with the last ID returned
// walks them all, however many there are, a bounded read at a time. The slice is
// empty, not nil, at the end.
func (s *Store) ReferralsWithSME(after string, limit int) ([]ReferralRecord, error) {
	if limit < 1 {
		return nil, &protocol.ValidationError{What: "referrals with an SME", Problems: []protocol.FieldError{
			{Field: "limit", Rule: fmt.Sprintf("must be at least 1, got %d", limit)}}}
	}
	recs := []ReferralRecord{}
	err := s.view(func(tx *bolt.Tx) error {
		refs := tx.Bucket(bucketReferrals)
		c := tx.Bucket(bucketSMEs).Cursor()
		k, sme := c.First()
		if after != "" {
			if k, sme = c.Seek([]byte(after)); k != nil && string(k) == after {
				k, sme = c.Next()
			}
		}
		for ; k != nil && len(recs) < limit; k, sme = c.Next() {
			v := refs.Get(k)
			if v == nil {
				return fmt.Errorf("an SME's identity is stored for referral %s, which is not: data file is damaged", k)
			}
			rec, err := decodeReferral(v, sme)
			if err != nil {
				return fmt.Errorf("referral %s: %w", k, err)
			}
			recs = append(recs, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list referrals with an SME: %w", err)
	}
	return recs, nil
}

// Purge lets fn retire each referral of ids, all in one transaction: fn may end the
// referral and delete the SME's identity ([ReferralRecord.PurgeSME]), and returns
// whether it changed the record, with the messages to queue with the change. A
// referral whose changed record holds no identity any more loses, in the same
// transaction, every queued message that carries the identity (referral-details), so
// that nothing sends it on after a purge. A referral no longer stored is skipped.
// Changed records are stored by the rules of SaveReferral; Purge returns them as
// stored.
//
// At most MaxPurgeBatch IDs are taken. An error from fn, or a change that breaks a
// rule, writes nothing of the whole batch: fn's error is returned as is, a broken
// rule as a *protocol.ValidationError. fn runs inside the store's write transaction,
// as UpdateReferral's does: it must be quick and must not call the Store.
func (s *Store) Purge(ids []string, fn func(rec *ReferralRecord) (bool, []Outgoing, error)) ([]Purged, error) {
	if len(ids) > MaxPurgeBatch {
		return nil, &protocol.ValidationError{What: "purge", Problems: []protocol.FieldError{
			{Field: "ids", Rule: fmt.Sprintf("must be at most %d, got %d", MaxPurgeBatch, len(ids))}}}
	}
	var (
		done  []Purged
		fnErr error
	)
	err := s.update(func(tx *bolt.Tx) error {
		done = done[:0] // a group that failed runs this again
		gone := map[string]int{}
		for _, id := range ids {
			rec, err := getReferral(tx, id)
			switch {
			case errors.Is(err, ErrNotFound):
				continue
			case err != nil:
				return fmt.Errorf("referral %s: %w", id, err)
			}
			changed, out, err := fn(&rec)
			if err != nil {
				fnErr = err
				return err
			}
			if !changed {
				continue
			}
			if err := checkChange(&rec, id, out, nil); err != nil {
				return err
			}
			if err := s.writeChange(tx, &rec, out, nil); err != nil {
				return err
			}
			if rec.SME == nil {
				gone[id] = len(done)
			}
			done = append(done, Purged{Record: rec})
		}
		if len(gone) == 0 {
			return nil
		}
		dropped, err := dropDetails(tx, gone)
		for id, n := range dropped {
			done[gone[id]].Dropped = n
		}
		return err
	})
	switch {
	case err == nil:
		return done, nil
	case fnErr != nil:
		return nil, fnErr
	case isValidation(err):
		return nil, err
	default:
		return nil, fmt.Errorf("purge %d referrals: %w", len(ids), err)
	}
}

// dropDetails deletes, in tx, the queued messages of the referrals in refs that carry
// an SME's details, and returns how many of each it deleted.
func dropDetails(tx *bolt.Tx, refs map[string]int) (map[string]int, error) {
	rows, blobs := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxBlobs)
	var del [][]byte
	n := map[string]int{}
	err := rows.ForEach(func(k, v []byte) error {
		var r outboxRow
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode outbox entry %s: %w", k, err)
		}
		if _, ok := refs[r.Referral]; !ok {
			return nil
		}
		// Only the type is read: the envelope was checked when it was queued.
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(blobs.Get(k), &head); err != nil {
			return fmt.Errorf("decode outbox envelope %s: %w", k, err)
		}
		if head.Type == protocol.TypeReferralDetails {
			del = append(del, bytes.Clone(k))
			n[r.Referral]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Deleted after the walk: bbolt forbids changing a bucket while ForEach runs.
	for _, k := range del {
		if err := rows.Delete(k); err != nil {
			return nil, fmt.Errorf("delete outbox entry %s: %w", k, err)
		}
		if err := blobs.Delete(k); err != nil {
			return nil, fmt.Errorf("delete outbox envelope %s: %w", k, err)
		}
	}
	return n, nil
}
