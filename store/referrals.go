package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
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
	// Purged is when this hub deleted the SME's identity, and PurgeReason why (a word
	// such as consent-expired or retention): both zero while the hub holds it, and when
	// it never held it. Once set, SME stays nil: see PurgeSME.
	Purged      time.Time `json:"purged,omitzero"`
	PurgeReason string    `json:"purge_reason,omitempty"`
	// Contacts are the referral's contact persons at the two hubs, as far as known
	// (see people.go).
	Contacts *Contacts `json:"contacts,omitempty"`
	// Updated is when the store last wrote the record, by its clock (Options.Now): a
	// value given to a write is replaced.
	Updated time.Time `json:"updated"`
}

// PurgeSME deletes the SME's identity from the record, if it holds it, and notes that
// it did at time at for reason; it reports whether there was anything to delete. A
// record that never held the identity, or purged it already, does not change.
func (r *ReferralRecord) PurgeSME(at time.Time, reason string) bool {
	if r.SME == nil {
		return false
	}
	r.SME, r.Purged, r.PurgeReason = nil, at.UTC(), reason
	return true
}

// Partner returns the other hub of the referral: its From at the receiving hub, its To
// at the referring hub.
func (r *ReferralRecord) Partner() string {
	if r.Role == protocol.RoleReceiver {
		return r.Referral.From
	}
	return r.Referral.To
}

// ReferralFilter selects referrals; zero fields select all.
type ReferralFilter struct {
	Role     protocol.Role
	States   []protocol.State
	Partner  string    // the other hub: see ReferralRecord.Partner
	From, To time.Time // Created in [From, To)
	Limit    int       // at most this many, the newest; zero or less means no limit
}

// referralRow is how a ReferralRecord is stored in the referrals bucket: without its
// SME, which is in the referral_smes bucket under the same key.
type referralRow struct {
	Referral    protocol.Referral `json:"referral"`
	Role        protocol.Role     `json:"role"`
	Contacts    *Contacts         `json:"contacts,omitempty"`
	Updated     time.Time         `json:"updated"`
	Purged      time.Time         `json:"purged,omitzero"`
	PurgeReason string            `json:"purge_reason,omitempty"`
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
				(f.Partner != "" && rec.Partner() != f.Partner) {
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

// writeChange writes, in tx, rec (unless nil), the messages out and the KPI records
// kpis, all checked already. It stamps rec.Updated and the entries' zero times.
func (s *Store) writeChange(tx *bolt.Tx, rec *ReferralRecord, out []Outgoing, kpis []protocol.KPIRecord) error {
	now := s.clock()
	if rec != nil {
		prev, stored, err := storedState(tx, rec.Referral.ID)
		if err != nil {
			return err
		}
		rec.Updated = now
		if err := putReferral(tx, rec); err != nil {
			return err
		}
		if ev, ok := referralEvent(prev, !stored, rec, now); ok { // events.go
			if _, err := s.addEvent(tx, ev); err != nil {
				return err
			}
			if rec.Referral.State.Final() {
				if err := tx.Bucket(bucketDueMarks).Delete([]byte(rec.Referral.ID)); err != nil {
					return fmt.Errorf("delete due mark: %w", err)
				}
			}
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
	v, err := json.Marshal(referralRow{Referral: rec.Referral, Role: rec.Role, Contacts: rec.Contacts, Updated: rec.Updated,
		Purged: rec.Purged, PurgeReason: rec.PurgeReason})
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
	rec := ReferralRecord{Referral: r.Referral, Role: r.Role, Contacts: r.Contacts, Updated: r.Updated, Purged: r.Purged, PurgeReason: r.PurgeReason}
	if sme != nil {
		rec.SME = new(protocol.SME)
		if err := json.Unmarshal(sme, rec.SME); err != nil {
			return ReferralRecord{}, fmt.Errorf("decode SME: %w", err)
		}
	}
	return rec, nil
}

// createdKey is the key of a referral in the index by Created.
func createdKey(created time.Time, id []byte) []byte {
	return append(timeKey(created), id...)
}

// checkChange refuses a change that must not be stored, naming every field at fault:
// rec (unless nil), which must be the referral id unless id is empty, the messages out
// and the KPI records kpis.
func checkChange(rec *ReferralRecord, id string, out []Outgoing, kpis []protocol.KPIRecord) error {
	v := &protocol.ValidationError{What: "referral change"}
	add := func(field, rule string) {
		v.Problems = append(v.Problems, protocol.FieldError{Field: field, Rule: rule})
	}
	if rec != nil {
		v.Add("referral.", rec.Referral.Validate())
		if id != "" && rec.Referral.ID != id {
			add("referral.id", "must stay "+id)
		}
		if rec.Role != protocol.RoleSender && rec.Role != protocol.RoleReceiver {
			add("role", fmt.Sprintf("%q must be %s or %s", rec.Role, protocol.RoleSender, protocol.RoleReceiver))
		}
		if rec.SME != nil {
			v.Add("sme.", rec.SME.Validate())
		}
		switch {
		case !rec.Purged.IsZero() && rec.SME != nil:
			add("sme", "must be empty: the SME's identity was purged on "+rec.Purged.UTC().Format(time.RFC3339))
		case !rec.Purged.IsZero() && rec.PurgeReason == "":
			add("purge_reason", "must be set when purged is")
		case rec.Purged.IsZero() && rec.PurgeReason != "":
			add("purged", "must be set when purge_reason is")
		}
		rec.Contacts.check(v)
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
		v.Add("kpis."+strconv.Itoa(i)+".", kpis[i].Validate())
	}
	return v.Err()
}

// isValidation reports whether err is a *protocol.ValidationError, which callers take
// apart field by field and so get unwrapped.
func isValidation(err error) bool {
	_, ok := err.(*protocol.ValidationError)
	return ok
}
