package store

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Keys of the identity bucket.
var (
	keyID      = []byte("id")
	keySignKey = []byte("sign_key")
	keyBoxKey  = []byte("box_key")
	keyBoxPub  = []byte("box_pub")
	keyNetwork = []byte("network")
)

// CreateIdentity stores the hub's keys and its network. It is done once, by
// `hubnet init`: when an identity is stored already it returns ErrIdentityExists and
// changes nothing. An identity whose keys do not fit together, or a network that fails
// its validation, is refused with a *protocol.ValidationError.
func (s *Store) CreateIdentity(id protocol.Identity, net protocol.Network) error {
	if err := checkIdentity(id); err != nil {
		return err
	}
	if err := net.Validate(); err != nil {
		return err
	}
	netJSON, err := json.Marshal(net)
	if err != nil {
		return fmt.Errorf("create identity %s: encode network: %w", id.ID, err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdentity)
		if have := b.Get(keyID); have != nil {
			return fmt.Errorf("%w (hub %s)", ErrIdentityExists, have)
		}
		for _, kv := range []struct{ k, v []byte }{
			{keyID, []byte(id.ID)},
			{keySignKey, id.SignKey},
			{keyBoxKey, id.BoxKey[:]},
			{keyBoxPub, id.BoxPub[:]},
			{keyNetwork, netJSON},
		} {
			if err := b.Put(kv.k, kv.v); err != nil {
				return fmt.Errorf("write %s: %w", kv.k, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create identity %s: %w", id.ID, err)
	}
	return nil
}

// Identity returns the hub's keys, or ErrNoIdentity.
func (s *Store) Identity() (protocol.Identity, error) {
	var id protocol.Identity
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		id, err = getIdentity(tx)
		return err
	})
	if err != nil {
		return protocol.Identity{}, fmt.Errorf("read identity: %w", err)
	}
	return id, nil
}

// Network returns the network the hub belongs to, or ErrNoIdentity.
func (s *Store) Network() (protocol.Network, error) {
	var net protocol.Network
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		net, err = getNetwork(tx)
		return err
	})
	if err != nil {
		return protocol.Network{}, fmt.Errorf("read network: %w", err)
	}
	return net, nil
}

// getNetwork reads the network in tx, or returns ErrNoIdentity.
func getNetwork(tx *bolt.Tx) (protocol.Network, error) {
	v := tx.Bucket(bucketIdentity).Get(keyNetwork)
	if v == nil {
		return protocol.Network{}, ErrNoIdentity
	}
	var net protocol.Network
	if err := json.Unmarshal(v, &net); err != nil {
		return protocol.Network{}, fmt.Errorf("decode network: %w", err)
	}
	return net, nil
}

// getIdentity reads the identity in tx. The keys are copied out: bbolt's values are
// only valid inside the transaction.
func getIdentity(tx *bolt.Tx) (protocol.Identity, error) {
	b := tx.Bucket(bucketIdentity)
	hubID := b.Get(keyID)
	if hubID == nil {
		return protocol.Identity{}, ErrNoIdentity
	}
	sk, bk, bp := b.Get(keySignKey), b.Get(keyBoxKey), b.Get(keyBoxPub)
	if len(sk) != ed25519.PrivateKeySize || len(bk) != 32 || len(bp) != 32 {
		return protocol.Identity{}, fmt.Errorf("identity %s: keys of %d, %d and %d bytes, want %d, 32 and 32: data file is damaged",
			hubID, len(sk), len(bk), len(bp), ed25519.PrivateKeySize)
	}
	id := protocol.Identity{ID: string(hubID), SignKey: bytes.Clone(sk)}
	copy(id.BoxKey[:], bk)
	copy(id.BoxPub[:], bp)
	return id, nil
}

// checkIdentity refuses an identity that would fail later, when it signs or opens a
// sealed message: a bad ID or keys whose halves do not belong together.
func checkIdentity(id protocol.Identity) error {
	ve := &protocol.ValidationError{What: "identity"}
	add := func(field, rule string) {
		ve.Problems = append(ve.Problems, protocol.FieldError{Field: field, Rule: rule})
	}
	if !protocol.ValidID(id.ID) {
		add("id", "must be 3-48 characters of a-z, 0-9 and '-', starting and ending with a letter or digit")
	}
	if len(id.SignKey) != ed25519.PrivateKeySize {
		add("sign_key", fmt.Sprintf("must be a %d-byte Ed25519 private key, got %d bytes", ed25519.PrivateKeySize, len(id.SignKey)))
	} else if !bytes.Equal(ed25519.NewKeyFromSeed(id.SignKey.Seed()), id.SignKey) {
		add("sign_key", "public half does not match the private seed")
	}
	priv, err := ecdh.X25519().NewPrivateKey(id.BoxKey[:])
	if err != nil || !bytes.Equal(priv.PublicKey().Bytes(), id.BoxPub[:]) {
		add("box_pub", "must be the X25519 public key of box_key")
	}
	if len(ve.Problems) > 0 {
		return ve
	}
	return nil
}
