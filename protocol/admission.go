package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Admission: the steward of a network holds an Ed25519 admission key; its public half
// is in network.json. The steward admits a hub by signing a node certificate that
// binds the hub's ID and public keys to the network until a date, and excludes one by
// signing a revocation of the hub's ID. Every hub checks both against the admission
// keys it has in network.json, so no hub needs to trust another hub's word.

// Why a certificate is refused. Each is a reason counted by the node.
var (
	// ErrNoCert: the hub presents no certificate.
	ErrNoCert = errors.New("protocol: no certificate")
	// ErrCertExpired: the certificate's not-after date has passed.
	ErrCertExpired = errors.New("protocol: certificate expired")
	// ErrCertInvalid: no admission key of the network signed this certificate for this
	// network, hub ID and keys. A certificate of another network, or of another hub,
	// fails this way: the signature covers both.
	ErrCertInvalid = errors.New("protocol: certificate not signed by the network's admission key")
	// ErrRevoked: the steward revoked the hub's ID after this certificate was issued.
	ErrRevoked = errors.New("protocol: certificate revoked")
)

// MaxCertValidity bounds how long a certificate may be valid.
const MaxCertValidity = 5 * 366 * 24 * time.Hour

// AdmissionKey is the steward's private key of a network, as `hubnet network create`
// writes it to admission.key (mode 0600). It never goes into network.json.
type AdmissionKey struct {
	V       int                `json:"v"`
	Network string             `json:"network"`
	Key     ed25519.PrivateKey `json:"key"` // base64 in JSON
}

// Public returns the public half, as listed in network.json.
func (a AdmissionKey) Public() ed25519.PublicKey { return a.Key.Public().(ed25519.PublicKey) }

// Validate checks the key file's fields.
func (a AdmissionKey) Validate() error {
	p := problems{what: "admission key"}
	if a.V != Version {
		p.add("v", "must be %d", Version)
	}
	if !ValidID(a.Network) {
		p.add("network", idRule)
	}
	if len(a.Key) != ed25519.PrivateKeySize {
		p.add("key", "must be a %d-byte Ed25519 private key", ed25519.PrivateKeySize)
	} else if !bytes.Equal(ed25519.NewKeyFromSeed(a.Key.Seed()), a.Key) {
		p.add("key", "public half does not match the private seed")
	}
	return p.err()
}

// ParseAdmissionKey decodes and validates admission.key.
func ParseAdmissionKey(data []byte) (AdmissionKey, error) {
	var a AdmissionKey
	if err := json.Unmarshal(data, &a); err != nil {
		return AdmissionKey{}, &ValidationError{What: "admission key", Problems: []FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	return a, a.Validate()
}

// NewNetwork makes a network called name with a fresh gossip key and a fresh admission
// key pair, whose public half it lists.
func NewNetwork(name string, rand io.Reader) (Network, AdmissionKey, error) {
	n := Network{V: Version, Name: name, GossipKey: make([]byte, 32)}
	if _, err := io.ReadFull(rand, n.GossipKey); err != nil {
		return Network{}, AdmissionKey{}, fmt.Errorf("generate gossip key: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return Network{}, AdmissionKey{}, fmt.Errorf("generate admission key: %w", err)
	}
	n.AdmissionKeys = [][]byte{pub}
	if err := n.Validate(); err != nil {
		return Network{}, AdmissionKey{}, err
	}
	return n, AdmissionKey{V: Version, Network: name, Key: priv}, nil
}

// Certificate is a node certificate: the steward's statement that the hub ID, with
// these keys, belongs to the network until NotAfter. Issued orders it against
// revocations.
type Certificate struct {
	V        int    `json:"v"`
	Network  string `json:"network"`
	ID       string `json:"id"`
	SignKey  []byte `json:"sign_key"` // Ed25519 public key, base64 in JSON
	BoxKey   []byte `json:"box_key"`  // X25519 public key
	Issued   int64  `json:"issued"`   // Unix seconds
	NotAfter int64  `json:"not_after"`
	Sig      []byte `json:"sig"` // by an admission key of the network
}

// Admit issues the certificate of hub id with the public keys sign and box, valid from
// now for valid.
func Admit(a AdmissionKey, id string, sign, box []byte, now time.Time, valid time.Duration) (Certificate, error) {
	if err := a.Validate(); err != nil {
		return Certificate{}, err
	}
	c := Certificate{V: Version, Network: a.Network, ID: id, SignKey: sign, BoxKey: box,
		Issued: now.Unix(), NotAfter: now.Add(valid).Unix()}
	p := problems{what: "certificate"}
	if valid <= 0 || valid > MaxCertValidity {
		p.add("valid", "must be more than 0 and at most %d days", int(MaxCertValidity/(24*time.Hour)))
	}
	c.check(&p)
	if err := p.err(); err != nil {
		return Certificate{}, err
	}
	c.Sig = ed25519.Sign(a.Key, c.signedBytes())
	return c, nil
}

// check adds every problem of the certificate's form to p.
func (c *Certificate) check(p *problems) {
	if c.V != Version {
		p.add("v", "must be %d", Version)
	}
	if !ValidID(c.Network) {
		p.add("network", idRule)
	}
	if !ValidID(c.ID) {
		p.add("id", idRule)
	}
	if len(c.SignKey) != ed25519.PublicKeySize {
		p.add("sign_key", "must be a 32-byte Ed25519 public key")
	}
	if len(c.BoxKey) != 32 {
		p.add("box_key", "must be a 32-byte X25519 public key")
	}
	if c.Issued <= 0 || c.Issued > MaxUnixTime {
		p.add("issued", "must be a positive Unix time, at most %d (the end of year 9999)", MaxUnixTime)
	}
	if c.NotAfter <= c.Issued {
		p.add("not_after", "must be after issued")
	} else if c.NotAfter > MaxUnixTime {
		p.add("not_after", "must be at most %d (the end of year 9999)", MaxUnixTime)
	}
}

// MaxUnixTime is the last second of year 9999 UTC, the latest time a certificate may
// name: later ones have no calendar date in RFC 3339, and would not leave the largest
// gossip metadata under memberlist's limit.
const MaxUnixTime = 253402300799

// Validate checks the certificate's form, not its signature: see Verify.
func (c *Certificate) Validate() error {
	p := problems{what: "certificate"}
	c.check(&p)
	if len(c.Sig) != ed25519.SignatureSize {
		p.add("sig", "must be a 64-byte Ed25519 signature")
	}
	return p.err()
}

// ParseCertificate decodes a certificate file and checks its form.
func ParseCertificate(data []byte) (Certificate, error) {
	var c Certificate
	if err := json.Unmarshal(data, &c); err != nil {
		return Certificate{}, &ValidationError{What: "certificate", Problems: []FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	return c, c.Validate()
}

// Verify checks that an admission key of n signed the certificate for n and that it
// is valid at now. It does not know revocations: see Revocations.Check.
func (c *Certificate) Verify(n Network, now time.Time) error {
	if len(c.Sig) == 0 {
		return fmt.Errorf("hub %s: %w", c.ID, ErrNoCert)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("hub %s: %w: %w", c.ID, ErrCertInvalid, err)
	}
	if c.Network != n.Name {
		return fmt.Errorf("hub %s: certificate for network %s, not %s: %w", c.ID, c.Network, n.Name, ErrCertInvalid)
	}
	msg := c.signedBytes()
	signed := false
	for _, k := range n.AdmissionKeys {
		if ed25519.Verify(k, msg, c.Sig) {
			signed = true
			break
		}
	}
	if !signed {
		return fmt.Errorf("hub %s: %w", c.ID, ErrCertInvalid)
	}
	if now.Unix() > c.NotAfter {
		return fmt.Errorf("hub %s: certificate expired %s: %w", c.ID, time.Unix(c.NotAfter, 0).UTC().Format(time.RFC3339), ErrCertExpired)
	}
	return nil
}

// Expires returns when the certificate stops being valid.
func (c *Certificate) Expires() time.Time { return time.Unix(c.NotAfter, 0).UTC() }

// Gossip returns the certificate's compact form for the gossip metadata.
func (c *Certificate) Gossip() Cert {
	return Cert{SignKey: c.SignKey, BoxKey: c.BoxKey, Issued: c.Issued, NotAfter: c.NotAfter, Sig: c.Sig}
}

// Certificate rebuilds the full certificate of hub id in network from its gossiped
// form: the network and the ID are not repeated on the wire.
func (c Cert) Certificate(network, id string) Certificate {
	return Certificate{V: Version, Network: network, ID: id, SignKey: c.SignKey, BoxKey: c.BoxKey,
		Issued: c.Issued, NotAfter: c.NotAfter, Sig: c.Sig}
}

// signedBytes is what the admission signature covers.
func (c *Certificate) signedBytes() []byte {
	b := make([]byte, 0, 192)
	b = append(b, "hubnet node certificate v1\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(c.V))
	for _, s := range [][]byte{[]byte(c.Network), []byte(c.ID), c.SignKey, c.BoxKey} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(c.Issued))
	return binary.BigEndian.AppendUint64(b, uint64(c.NotAfter))
}

// Revocation is the steward's statement that every certificate of hub ID issued at or
// before At is void. The steward can admit the hub again later, with a certificate
// issued after At (new keys, if the old ones were stolen).
type Revocation struct {
	V       int    `json:"v"`
	Network string `json:"network"`
	ID      string `json:"id"`
	At      int64  `json:"at"` // Unix seconds
	Reason  string `json:"reason,omitempty"`
	Sig     []byte `json:"sig"`
}

// MaxRevocationReason bounds the reason's length.
const MaxRevocationReason = 200

// Revoke signs the revocation of hub id at now.
func Revoke(a AdmissionKey, id, reason string, now time.Time) (Revocation, error) {
	if err := a.Validate(); err != nil {
		return Revocation{}, err
	}
	r := Revocation{V: Version, Network: a.Network, ID: id, At: now.Unix(), Reason: reason}
	p := problems{what: "revocation"}
	r.check(&p)
	if err := p.err(); err != nil {
		return Revocation{}, err
	}
	r.Sig = ed25519.Sign(a.Key, r.signedBytes())
	return r, nil
}

func (r *Revocation) check(p *problems) {
	if r.V != Version {
		p.add("v", "must be %d", Version)
	}
	if !ValidID(r.Network) {
		p.add("network", idRule)
	}
	if !ValidID(r.ID) {
		p.add("id", idRule)
	}
	if r.At <= 0 {
		p.add("at", "must be a positive Unix time")
	}
	if len(r.Reason) > MaxRevocationReason {
		p.add("reason", "must be at most %d bytes", MaxRevocationReason)
	}
}

// Verify checks the revocation's form and that an admission key of n signed it.
func (r *Revocation) Verify(n Network) error {
	p := problems{what: "revocation"}
	r.check(&p)
	if len(r.Sig) != ed25519.SignatureSize {
		p.add("sig", "must be a 64-byte Ed25519 signature")
	}
	if err := p.err(); err != nil {
		return err
	}
	if r.Network != n.Name {
		return fmt.Errorf("revocation of %s for network %s, not %s: %w", r.ID, r.Network, n.Name, ErrBadSignature)
	}
	msg := r.signedBytes()
	for _, k := range n.AdmissionKeys {
		if ed25519.Verify(k, msg, r.Sig) {
			return nil
		}
	}
	return fmt.Errorf("revocation of %s: %w", r.ID, ErrBadSignature)
}

// ParseRevocation decodes a revocation and checks it against n.
func ParseRevocation(data []byte, n Network) (Revocation, error) {
	var r Revocation
	if err := json.Unmarshal(data, &r); err != nil {
		return Revocation{}, &ValidationError{What: "revocation", Problems: []FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	return r, r.Verify(n)
}

// Covers reports whether the revocation voids the certificate.
func (r *Revocation) Covers(c *Certificate) bool {
	return r.Network == c.Network && r.ID == c.ID && c.Issued <= r.At
}

func (r *Revocation) signedBytes() []byte {
	b := make([]byte, 0, 128)
	b = append(b, "hubnet revocation v1\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(r.V))
	for _, s := range []string{r.Network, r.ID, r.Reason} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return binary.BigEndian.AppendUint64(b, uint64(r.At))
}
