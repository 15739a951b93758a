package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Keys of the self bucket: the hub's own signed profile, as an envelope header and the
// signed body.
var (
	keySelfEnvelope = []byte("envelope")
	keySelfBody     = []byte("body")
)

// Self returns the hub's own profile and the signed envelope it is published in, or
// ErrNoProfile.
func (s *Store) Self() (protocol.Profile, protocol.Envelope, error) {
	var (
		p   protocol.Profile
		env protocol.Envelope
	)
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		p, env, err = getSelf(tx)
		return err
	})
	if err != nil {
		return protocol.Profile{}, protocol.Envelope{}, fmt.Errorf("read own profile: %w", err)
	}
	return p, env, nil
}

// PutSelf replaces the hub's own profile and returns it as stored. In one transaction
// it sets the revision to the stored one plus one (1 for the first profile), Updated to
// now, and the Updated time of each capacity that is zero or was carried over unchanged
// while the figures changed; then it validates the profile, signs it with the hub's
// identity and stores it.
//
// A profile that is not the identity's (p.ID) or fails validation stores nothing, and
// PutSelf returns the *protocol.ValidationError unwrapped, so callers can show each
// field's problem. Without an identity it returns ErrNoIdentity.
func (s *Store) PutSelf(p protocol.Profile) (protocol.Profile, error) {
	var out protocol.Profile
	err := s.update(func(tx *bolt.Tx) error {
		prev, _, err := getSelf(tx)
		switch {
		case errors.Is(err, ErrNoProfile):
			out, err = s.putSelf(tx, p, nil)
		case err == nil:
			out, err = s.putSelf(tx, p, &prev)
		}
		return err
	})
	if err != nil {
		return protocol.Profile{}, wrapSelf(err)
	}
	return out, nil
}

// UpdateSelf reads the hub's own profile, lets fn change it and stores the result by
// the rules of PutSelf, all in one transaction. It returns ErrNoProfile when there is
// no profile yet. An error from fn aborts the update and is returned as it is.
//
// fn runs inside the store's write transaction, which blocks every other write: it must
// be quick and must not call the Store.
func (s *Store) UpdateSelf(fn func(p *protocol.Profile) error) (protocol.Profile, error) {
	var (
		out   protocol.Profile
		fnErr error
	)
	err := s.update(func(tx *bolt.Tx) error {
		prev, env, err := getSelf(tx)
		if err != nil {
			return err
		}
		// A second decoding, so that fn cannot change prev through a shared map.
		p, err := profileOf(env)
		if err != nil {
			return err
		}
		if fnErr = fn(&p); fnErr != nil {
			return fnErr
		}
		out, err = s.putSelf(tx, p, &prev)
		return err
	})
	switch {
	case err == nil:
		return out, nil
	case fnErr != nil:
		return protocol.Profile{}, fnErr
	default:
		return protocol.Profile{}, wrapSelf(err)
	}
}

// wrapSelf adds context to an error of PutSelf or UpdateSelf, except to a validation
// error, which callers take apart field by field.
func wrapSelf(err error) error {
	if _, ok := err.(*protocol.ValidationError); ok {
		return err
	}
	return fmt.Errorf("store own profile: %w", err)
}

// putSelf stamps, validates, signs and stores p in tx; prev is the stored profile, or
// nil. It returns the profile decoded from the signed envelope: exactly what Self will
// return.
func (s *Store) putSelf(tx *bolt.Tx, p protocol.Profile, prev *protocol.Profile) (protocol.Profile, error) {
	id, err := getIdentity(tx)
	if err != nil {
		return protocol.Profile{}, err
	}
	if p.ID != id.ID {
		return protocol.Profile{}, &protocol.ValidationError{What: "profile", Problems: []protocol.FieldError{
			{Field: "id", Rule: "must be this hub's ID " + id.ID},
		}}
	}
	now := s.clock()
	p.Revision = 1
	if prev != nil {
		p.Revision = prev.Revision + 1
	}
	p.Updated = now
	p.Capacity = stampCapacity(p.Capacity, prev, now)
	if err := p.Validate(); err != nil {
		return protocol.Profile{}, err
	}
	env, err := protocol.SignProfile(id, p, now)
	if err != nil {
		return protocol.Profile{}, fmt.Errorf("sign profile: %w", err)
	}
	v, err := json.Marshal(headerOf(env))
	if err != nil {
		return protocol.Profile{}, fmt.Errorf("encode profile envelope: %w", err)
	}
	b := tx.Bucket(bucketSelf)
	if err := b.Put(keySelfEnvelope, v); err != nil {
		return protocol.Profile{}, fmt.Errorf("write profile envelope: %w", err)
	}
	if err := b.Put(keySelfBody, env.Body); err != nil {
		return protocol.Profile{}, fmt.Errorf("write profile: %w", err)
	}
	return profileOf(env)
}

// stampCapacity returns a copy of caps (the caller's map is not changed) in which each
// family's Updated is now when it is zero, or when its figures differ from prev's but
// its Updated was carried over from prev: an edited capacity is never dated by its old
// value.
func stampCapacity(caps map[protocol.Family]protocol.Capacity, prev *protocol.Profile, now time.Time) map[protocol.Family]protocol.Capacity {
	if caps == nil {
		return nil
	}
	caps = maps.Clone(caps)
	for fam, c := range caps {
		stamp := c.Updated.IsZero()
		if prev != nil {
			if old, ok := prev.Capacity[fam]; ok && c.Updated.Equal(old.Updated) &&
				(c.Available != old.Available || c.Maximum != old.Maximum || c.Unit != old.Unit) {
				stamp = true
			}
		}
		if stamp {
			c.Updated = now
			caps[fam] = c
		}
	}
	return caps
}

// getSelf reads the hub's own profile and envelope in tx.
func getSelf(tx *bolt.Tx) (protocol.Profile, protocol.Envelope, error) {
	b := tx.Bucket(bucketSelf)
	v, body := b.Get(keySelfEnvelope), b.Get(keySelfBody)
	if v == nil {
		return protocol.Profile{}, protocol.Envelope{}, ErrNoProfile
	}
	var h envelopeHeader
	if err := json.Unmarshal(v, &h); err != nil {
		return protocol.Profile{}, protocol.Envelope{}, fmt.Errorf("decode profile envelope: %w", err)
	}
	env := h.envelope(body)
	p, err := profileOf(env)
	if err != nil {
		return protocol.Profile{}, protocol.Envelope{}, err
	}
	return p, env, nil
}
