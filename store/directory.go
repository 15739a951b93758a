package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Hub is another hub's entry in the directory cache: its signed profile and whether it
// was alive when last heard of.
type Hub struct {
	// Profile is decoded from Envelope.Body.
	Profile protocol.Profile
	// Envelope is the signed profile message exactly as received; its body bytes are
	// kept as they were signed.
	Envelope protocol.Envelope
	// Reachable reports whether the hub is a live member of the network.
	Reachable bool
	// LastSeen is the last time the hub was known to be alive; zero if never.
	LastSeen time.Time
	// Fetched is when this revision of the profile was stored.
	Fetched time.Time
}

// hubRecord is how a Hub is stored in the hubs bucket. Its envelope's body is in the
// hub_bodies bucket under the same key, as the bytes that were signed; the profile is
// not stored apart, it is decoded from the body.
type hubRecord struct {
	Envelope  envelopeHeader `json:"envelope"`
	Reachable bool           `json:"reachable"`
	LastSeen  time.Time      `json:"last_seen"`
	Fetched   time.Time      `json:"fetched"`
}

// PutHub caches another hub's signed profile. It does not verify the signature: the
// caller checks the envelope with protocol.OpenProfile first.
//
// The envelope must be a profile message from h.Profile.ID whose body is h.Profile
// (same ID and revision), or PutHub returns a *protocol.ValidationError. When the cache
// holds the same or a newer revision it returns ErrStale and keeps the cached entry.
// When h.LastSeen is older than the cached entry's, the cached Reachable and LastSeen
// are kept. A zero h.Fetched is set to the store's clock.
func (s *Store) PutHub(h Hub) error {
	id := h.Profile.ID
	if err := checkHub(h); err != nil {
		return fmt.Errorf("put hub %s: %w", id, err)
	}
	now := s.clock()
	err := s.update(func(tx *bolt.Tx) error {
		old, err := getHub(tx, id)
		switch {
		case err == nil:
			if old.Profile.Revision >= h.Profile.Revision {
				return fmt.Errorf("revision %d, cached revision %d: %w", h.Profile.Revision, old.Profile.Revision, ErrStale)
			}
			if h.LastSeen.Before(old.LastSeen) {
				h.Reachable, h.LastSeen = old.Reachable, old.LastSeen
			}
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if h.Fetched.IsZero() {
			h.Fetched = now
		}
		if err := putHub(tx, h); err != nil {
			return err
		}
		typ := EventHubUpdated
		if err != nil { // ErrNotFound: not cached before
			typ = EventHubAdded
		}
		_, err = s.addEvent(tx, Event{Type: typ, At: now, Hub: &EventHub{ID: id, Name: h.Profile.Name, Revision: h.Profile.Revision}})
		return err
	})
	if err != nil {
		return fmt.Errorf("put hub %s: %w", id, err)
	}
	return nil
}

// checkHub refuses a hub whose profile and envelope do not belong together.
func checkHub(h Hub) error {
	ve := &protocol.ValidationError{What: "hub"}
	add := func(field, rule string) {
		ve.Problems = append(ve.Problems, protocol.FieldError{Field: field, Rule: rule})
	}
	e := h.Envelope
	if !protocol.ValidID(h.Profile.ID) {
		add("profile.id", "must be a valid hub ID")
	}
	if h.Profile.ID != e.From {
		add("profile.id", fmt.Sprintf("must be the envelope's sender %q", e.From))
	}
	if e.Type != protocol.TypeProfile {
		add("envelope.type", "must be "+protocol.TypeProfile)
	}
	if body, err := profileOf(e); err != nil {
		add("envelope.body", "must be a profile")
	} else if body.ID != h.Profile.ID || body.Revision != h.Profile.Revision {
		add("envelope.body", fmt.Sprintf("must be the profile given (body has %s revision %d)", body.ID, body.Revision))
	}
	if len(ve.Problems) > 0 {
		return ve
	}
	return nil
}

// Hub returns the cached entry of the hub id, or ErrNotFound.
func (s *Store) Hub(id string) (Hub, error) {
	var h Hub
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		h, err = getHub(tx, id)
		return err
	})
	if err != nil {
		return Hub{}, fmt.Errorf("hub %s: %w", id, err)
	}
	return h, nil
}

// Hubs returns every cached hub, sorted by ID. The slice is empty, not nil, when the
// cache is.
func (s *Store) Hubs() ([]Hub, error) {
	hubs := []Hub{}
	err := s.view(func(tx *bolt.Tx) error {
		// bbolt iterates in byte order of the keys, which for hub IDs is their order.
		bodies := tx.Bucket(bucketBodies)
		return tx.Bucket(bucketHubs).ForEach(func(k, v []byte) error {
			h, err := decodeHub(v, bodies.Get(k))
			if err != nil {
				return fmt.Errorf("hub %s: %w", k, err)
			}
			hubs = append(hubs, h)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list hubs: %w", err)
	}
	return hubs, nil
}

// HubEnvelopes calls fn with the ID and signed profile envelope of each cached hub
// whose ID sorts after after, in order of ID, until fn returns false. It decodes no
// profile: for serving copies, which their receivers check.
func (s *Store) HubEnvelopes(after string, fn func(id string, env protocol.Envelope) bool) error {
	err := s.view(func(tx *bolt.Tx) error {
		bodies := tx.Bucket(bucketBodies)
		c := tx.Bucket(bucketHubs).Cursor()
		k, v := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
		for ; k != nil; k, v = c.Next() {
			var r hubRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("hub %s: decode hub: %w", k, err)
			}
			// The body is copied: it outlives the transaction.
			if !fn(string(k), r.Envelope.envelope(bytes.Clone(bodies.Get(k)))) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list hub envelopes: %w", err)
	}
	return nil
}

// MarkSeen records whether the hub id is reachable. LastSeen becomes the later of the
// cached LastSeen and at, so it never goes back: pass the current time when the hub is
// reachable, and when it becomes unreachable the time it was last known alive. It
// returns ErrNotFound when the hub is not cached.
func (s *Store) MarkSeen(id string, reachable bool, at time.Time) error {
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHubs)
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		var r hubRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode hub: %w", err)
		}
		r.Reachable = reachable
		if at.After(r.LastSeen) {
			r.LastSeen = at.UTC()
		}
		return putRecord(b, id, r)
	})
	if err != nil {
		return fmt.Errorf("mark hub %s seen: %w", id, err)
	}
	return nil
}

// DeleteHub removes the hub id from the cache, or returns ErrNotFound.
func (s *Store) DeleteHub(id string) error {
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHubs)
		if b.Get([]byte(id)) == nil {
			return ErrNotFound
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketBodies).Delete([]byte(id)); err != nil {
			return err
		}
		_, err := s.addEvent(tx, Event{Type: EventHubRemoved, At: s.clock(), Hub: &EventHub{ID: id}})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete hub %s: %w", id, err)
	}
	return nil
}

// getHub reads the hub id in tx, or returns ErrNotFound.
func getHub(tx *bolt.Tx, id string) (Hub, error) {
	v := tx.Bucket(bucketHubs).Get([]byte(id))
	if v == nil {
		return Hub{}, ErrNotFound
	}
	return decodeHub(v, tx.Bucket(bucketBodies).Get([]byte(id)))
}

// putHub writes h's record and body in tx.
func putHub(tx *bolt.Tx, h Hub) error {
	err := putRecord(tx.Bucket(bucketHubs), h.Profile.ID, hubRecord{
		Envelope:  headerOf(h.Envelope),
		Reachable: h.Reachable,
		LastSeen:  h.LastSeen.UTC(),
		Fetched:   h.Fetched.UTC(),
	})
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketBodies).Put([]byte(h.Profile.ID), h.Envelope.Body); err != nil {
		return fmt.Errorf("write hub profile: %w", err)
	}
	return nil
}

func putRecord(b *bolt.Bucket, id string, r hubRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode hub: %w", err)
	}
	if err := b.Put([]byte(id), v); err != nil {
		return fmt.Errorf("write hub: %w", err)
	}
	return nil
}

// decodeHub builds a Hub from its stored record and body.
func decodeHub(v, body []byte) (Hub, error) {
	var r hubRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return Hub{}, fmt.Errorf("decode hub: %w", err)
	}
	env := r.Envelope.envelope(body)
	p, err := profileOf(env)
	if err != nil {
		return Hub{}, err
	}
	return Hub{Profile: p, Envelope: env, Reachable: r.Reachable, LastSeen: r.LastSeen, Fetched: r.Fetched}, nil
}
