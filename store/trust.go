package store

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Since schema 3: what the hub needs to take part in an admitted network.
var (
	bucketRevocations = []byte("revocations") // <hub ID> -> the newest revocation, JSON
	bucketSeen        = []byte("seen")        // <sender>/<message ID> -> envelope time, Unix ns

	keyCert        = []byte("cert")         // identity: the hub's certificate, JSON
	keyNextSign    = []byte("next_sign")    // identity: keys made by RotateKeys, waiting
	keyNextBox     = []byte("next_box")     // for their certificate
	keyOldBoxKeys  = []byte("old_box_keys") // identity: earlier box keys, to open what was sealed to them
	keyGossipKeys  = []byte("gossip_keys")  // identity: the gossip keyring, JSON; absent: the network's key
	maxOldBoxKeys  = 4
	maxGossipKeys  = 4
	gossipKeyBytes = 32
)

// ErrKeysMismatch is returned by PutCertificate for a certificate of other keys than
// the hub's, or the ones RotateKeys made.
var ErrKeysMismatch = errors.New("store: certificate is for other keys than this hub's")

// Certificate returns the hub's node certificate, or ErrNotFound before one is installed.
func (s *Store) Certificate() (protocol.Certificate, error) {
	var c protocol.Certificate
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketIdentity).Get(keyCert)
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &c)
	})
	if err != nil {
		return protocol.Certificate{}, fmt.Errorf("read certificate: %w", err)
	}
	return c, nil
}

// PutCertificate installs the hub's node certificate. Its form must be valid, and its
// ID and keys must be the hub's. When they are the keys RotateKeys made, those become
// the hub's keys in the same transaction, the old box key is kept to open what was
// sealed to it, and promoted reports true. The signature is the node's to check,
// against the network's admission keys.
func (s *Store) PutCertificate(c protocol.Certificate) (promoted bool, err error) {
	if err := c.Validate(); err != nil {
		return false, err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return false, fmt.Errorf("encode certificate: %w", err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdentity)
		id, err := getIdentity(tx)
		if err != nil {
			return err
		}
		if c.ID != id.ID {
			return fmt.Errorf("certificate of hub %s, this is %s: %w", c.ID, id.ID, ErrKeysMismatch)
		}
		switch {
		case bytes.Equal(c.SignKey, id.SignPublic()) && bytes.Equal(c.BoxKey, id.BoxPub[:]):
		case nextMatches(b, c):
			if err := promoteNext(b, id); err != nil {
				return err
			}
			promoted = true
		default:
			return ErrKeysMismatch
		}
		return b.Put(keyCert, data)
	})
	if err != nil {
		return false, fmt.Errorf("install certificate: %w", err)
	}
	return promoted, nil
}

// nextMatches reports whether c certifies the keys RotateKeys made.
func nextMatches(b *bolt.Bucket, c protocol.Certificate) bool {
	sk, bk := b.Get(keyNextSign), b.Get(keyNextBox)
	if len(sk) != ed25519.PrivateKeySize || len(bk) != 64 {
		return false
	}
	return bytes.Equal(c.SignKey, ed25519.PrivateKey(sk).Public().(ed25519.PublicKey)) && bytes.Equal(c.BoxKey, bk[32:])
}

// promoteNext makes the waiting keys the hub's and keeps the old box key.
func promoteNext(b *bolt.Bucket, old protocol.Identity) error {
	sk, bk := bytes.Clone(b.Get(keyNextSign)), bytes.Clone(b.Get(keyNextBox))
	olds := append(bytes.Clone(old.BoxKey[:]), b.Get(keyOldBoxKeys)...)
	if len(olds) > maxOldBoxKeys*32 {
		olds = olds[:maxOldBoxKeys*32]
	}
	for _, kv := range []struct{ k, v []byte }{
		{keySignKey, sk}, {keyBoxKey, bk[:32]}, {keyBoxPub, bk[32:]}, {keyOldBoxKeys, olds},
	} {
		if err := b.Put(kv.k, kv.v); err != nil {
			return fmt.Errorf("write %s: %w", kv.k, err)
		}
	}
	for _, k := range [][]byte{keyNextSign, keyNextBox} {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// RotateKeys makes new signing and box keys for the hub and keeps them waiting until
// PutCertificate installs a certificate for them; until then the hub goes on with its
// current keys. Called again, it returns the keys already waiting.
func (s *Store) RotateKeys(rand io.Reader) (sign ed25519.PublicKey, box [32]byte, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdentity)
		id, err := getIdentity(tx)
		if err != nil {
			return err
		}
		if sk, bk := b.Get(keyNextSign), b.Get(keyNextBox); len(sk) == ed25519.PrivateKeySize && len(bk) == 64 {
			sign = bytes.Clone(ed25519.PrivateKey(sk).Public().(ed25519.PublicKey))
			copy(box[:], bk[32:])
			return nil
		}
		next, err := protocol.NewIdentity(id.ID, rand)
		if err != nil {
			return err
		}
		if err := b.Put(keyNextSign, next.SignKey); err != nil {
			return err
		}
		if err := b.Put(keyNextBox, append(bytes.Clone(next.BoxKey[:]), next.BoxPub[:]...)); err != nil {
			return err
		}
		sign, box = next.SignPublic(), next.BoxPub
		return nil
	})
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("rotate keys: %w", err)
	}
	return sign, box, nil
}

// OldBoxKeys returns the hub's earlier box private keys, newest first.
func (s *Store) OldBoxKeys() ([][32]byte, error) {
	var keys [][32]byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketIdentity).Get(keyOldBoxKeys)
		for ; len(v) >= 32; v = v[32:] {
			var k [32]byte
			copy(k[:], v)
			keys = append(keys, k)
		}
		return nil
	})
	return keys, err
}

// SetNetwork replaces the stored network with n, which must be the same network: the
// same name. It is how a hub learns a new admission key of its steward, or gets its
// first if its data directory predates admission. The gossip keyring is kept apart
// (see GossipKeys) and does not change.
func (s *Store) SetNetwork(n protocol.Network) error {
	if err := n.Validate(); err != nil {
		return err
	}
	data, err := json.Marshal(n)
	if err != nil {
		return err
	}
	err = s.update(func(tx *bolt.Tx) error {
		cur, err := getNetwork(tx)
		if err != nil {
			return err
		}
		if cur.Name != n.Name {
			return &protocol.ValidationError{What: "network", Problems: []protocol.FieldError{
				{Field: "name", Rule: "must be this hub's network " + cur.Name}}}
		}
		return tx.Bucket(bucketIdentity).Put(keyNetwork, data)
	})
	if err != nil {
		return fmt.Errorf("set network: %w", err)
	}
	return nil
}

// GossipKeys is the hub's gossip keyring: the key it encrypts with and every key it
// accepts.
type GossipKeys struct {
	Primary []byte   `json:"primary"`
	Keys    [][]byte `json:"keys"` // including Primary
}

// Validate checks the keyring: 1-4 keys of 32 bytes, no duplicates, Primary among them.
func (g GossipKeys) Validate() error {
	ve := &protocol.ValidationError{What: "gossip keyring"}
	if len(g.Keys) == 0 || len(g.Keys) > maxGossipKeys {
		ve.Problems = append(ve.Problems, protocol.FieldError{Field: "keys", Rule: fmt.Sprintf("must hold 1-%d keys", maxGossipKeys)})
	}
	primary := false
	for i, k := range g.Keys {
		if len(k) != gossipKeyBytes {
			ve.Problems = append(ve.Problems, protocol.FieldError{Field: fmt.Sprintf("keys[%d]", i), Rule: "must be 32 bytes"})
		}
		for _, o := range g.Keys[:i] {
			if bytes.Equal(k, o) {
				ve.Problems = append(ve.Problems, protocol.FieldError{Field: fmt.Sprintf("keys[%d]", i), Rule: "is listed twice"})
			}
		}
		primary = primary || bytes.Equal(k, g.Primary)
	}
	if !primary {
		ve.Problems = append(ve.Problems, protocol.FieldError{Field: "primary", Rule: "must be one of the keys"})
	}
	if len(ve.Problems) > 0 {
		return ve
	}
	return nil
}

// GossipKeys returns the hub's gossip keyring: the stored one, or the network's gossip
// key alone.
func (s *Store) GossipKeys() (GossipKeys, error) {
	var g GossipKeys
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdentity)
		if v := b.Get(keyGossipKeys); v != nil {
			return json.Unmarshal(v, &g)
		}
		n, err := getNetwork(tx)
		if err != nil {
			return err
		}
		g = GossipKeys{Primary: n.GossipKey, Keys: [][]byte{n.GossipKey}}
		return nil
	})
	if err != nil {
		return GossipKeys{}, fmt.Errorf("read gossip keys: %w", err)
	}
	return g, nil
}

// PutGossipKeys stores the gossip keyring.
func (s *Store) PutGossipKeys(g GossipKeys) error {
	if err := g.Validate(); err != nil {
		return err
	}
	data, err := json.Marshal(g)
	if err != nil {
		return err
	}
	if err := s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketIdentity).Put(keyGossipKeys, data) }); err != nil {
		return fmt.Errorf("write gossip keys: %w", err)
	}
	return nil
}

// PutRevocation stores r unless a revocation of the same hub as new or newer is stored
// already, and reports whether it stored it. The caller checks r's signature.
func (s *Store) PutRevocation(r protocol.Revocation) (bool, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	stored := false
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRevocations)
		if v := b.Get([]byte(r.ID)); v != nil {
			var cur protocol.Revocation
			if err := json.Unmarshal(v, &cur); err == nil && cur.At >= r.At {
				return nil
			}
		}
		stored = true
		return b.Put([]byte(r.ID), data)
	})
	if err != nil {
		return false, fmt.Errorf("store revocation of %s: %w", r.ID, err)
	}
	return stored, nil
}

// Revocations returns every stored revocation, by hub ID.
func (s *Store) Revocations() ([]protocol.Revocation, error) {
	var out []protocol.Revocation
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRevocations).ForEach(func(k, v []byte) error {
			var r protocol.Revocation
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("revocation of %s: %w: data file is damaged", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read revocations: %w", err)
	}
	return out, nil
}

// SaveSeen records message IDs (sender/ID) with the time of their envelope, and drops
// those recorded with a time before forget. Keys lead with the time, so forgetting
// reads only what it deletes.
func (s *Store) SaveSeen(seen map[string]time.Time, forget time.Time) error {
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeen)
		for k, t := range seen {
			if t.Before(forget) {
				continue
			}
			if err := b.Put(append(binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())), k...), nil); err != nil {
				return err
			}
		}
		limit := binary.BigEndian.AppendUint64(nil, uint64(max(forget.UnixNano(), 0)))
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record seen messages: %w", err)
	}
	return nil
}

// Seen returns the recorded message IDs with a time at or after since.
func (s *Store) Seen(since time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSeen).Cursor()
		for k, _ := c.Seek(binary.BigEndian.AppendUint64(nil, uint64(max(since.UnixNano(), 0)))); k != nil; k, _ = c.Next() {
			if len(k) > 8 {
				t := time.Unix(0, int64(binary.BigEndian.Uint64(k)))
				if t.After(out[string(k[8:])]) {
					out[string(k[8:])] = t
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read seen messages: %w", err)
	}
	return out, nil
}
