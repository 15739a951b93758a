package protocol

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Referral messages, each in a signed envelope addressed to the other hub of the
// referral, sent as a NATS request to ReferralSubject(to); the reply is a signed
// referral-ack.
const (
	TypeReferralOffer   = "referral-offer"   // body: ReferralOffer, sender to receiver
	TypeReferralEvent   = "referral-event"   // body: ReferralEvent, either way
	TypeReferralDetails = "referral-details" // body: ReferralDetails, sender to receiver after acceptance
	TypeReferralAck     = "referral-ack"     // body: ReferralAck, the reply to each of the above
)

// ReferralOffer carries a new referral: its need, consent and deadlines, never the
// SME's identity.
type ReferralOffer struct {
	V        int      `json:"v"`
	Referral Referral `json:"referral"`
	// Contact is the referring hub's contact person for the referral, a [PersonContact]
	// sealed to the receiver; absent when nobody signed in made the referral.
	Contact *Sealed `json:"contact,omitempty"`
}

// ReferralEvent carries one event of the lifecycle made by its sender's hub: accept,
// decline, hold, answer, start, complete, fail or cancel (and expire, from the
// referring hub, which owns the deadlines).
type ReferralEvent struct {
	V        int       `json:"v"`
	Referral string    `json:"referral"`
	Event    Event     `json:"event"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`  // decline, fail, cancel
	Outcome  string    `json:"outcome,omitempty"` // complete
	Note     string    `json:"note,omitempty"`
	// Person is the display name of the person at the sending hub who made the
	// event; empty when a node made it by itself.
	Person string `json:"person,omitempty"`
	// Contact is the sending hub's contact person for the referral, a [PersonContact]
	// sealed to the other hub: the receiving hub sends its own with its first event
	// made by a person, and either hub when its contact changes.
	Contact *Sealed `json:"contact,omitempty"`
}

// ReferralDetails carries the SME's identity and contacts, sealed to the receiver.
type ReferralDetails struct {
	V        int    `json:"v"`
	Referral string `json:"referral"`
	SME      Sealed `json:"sme"`
}

// AckResult is what a hub did with a referral message.
type AckResult string

// The results of a referral message.
const (
	AckApplied   AckResult = "applied"   // stored and applied
	AckDuplicate AckResult = "duplicate" // seen before: applied then, not again
	AckRefused   AckResult = "refused"   // stored as seen, not applied: see Error
)

// ReferralAck is the signed reply to a referral message.
type ReferralAck struct {
	V        int       `json:"v"`
	Message  string    `json:"message"` // the ID of the envelope acknowledged
	Referral string    `json:"referral"`
	Result   AckResult `json:"result"`
	State    State     `json:"state,omitempty"` // the referral's state at the acknowledging hub
	Error    string    `json:"error,omitempty"` // why it was refused
	// Ending is how the referral ended at the acknowledging hub, when it has: the
	// other hub settles a crossing ending with it (see Referral.Settle), with the
	// reason, outcome and note it was made with.
	Ending *Change `json:"ending,omitempty"`
}

// Sealed is a value encrypted with nacl/box between the sender's box key and the
// receiver's: only those two hubs can open it (the sender had it anyway), and the
// receiver knows who sealed it. Every other hub that relays it reads ciphertext.
type Sealed struct {
	Nonce []byte `json:"nonce"` // 24 bytes
	Box   []byte `json:"box"`
	// From is the sender's box public key it sealed with, so a sender that rolls its
	// keys before the message arrives can still be read. The envelope's signature
	// vouches for it.
	From []byte `json:"from,omitempty"`
}

// SealSME encrypts the SME's identity from hub from to the hub whose box public key is
// to.
func SealSME(sme SME, from Identity, to [32]byte, rand io.Reader) (Sealed, error) {
	return sealValue("SME", sme, from, to, rand)
}

// OpenSME decrypts an SME's identity sealed to the identity by the hub whose box
// public key is from, or the key the sealed value names. Earlier box private keys of
// the identity, newest first, are tried after its current one.
func OpenSME(s Sealed, to Identity, from [32]byte, earlier ...[32]byte) (SME, error) {
	var sme SME
	if err := openValue("SME", s, to, from, earlier, &sme); err != nil {
		return SME{}, err
	}
	return sme, nil
}

// sealValue encrypts v, as JSON, from hub from to the hub whose box public key is to;
// what names v in errors.
func sealValue(what string, v any, from Identity, to [32]byte, rand io.Reader) (Sealed, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return Sealed{}, fmt.Errorf("encode %s: %w", what, err)
	}
	var nonce [24]byte
	if _, err := io.ReadFull(rand, nonce[:]); err != nil {
		return Sealed{}, fmt.Errorf("nonce: %w", err)
	}
	return Sealed{Nonce: nonce[:], Box: sealBox(plain, &nonce, &to, &from.BoxKey), From: from.BoxPub[:]}, nil
}

// openValue decrypts s, sealed to the identity by the hub whose box public key is from
// (or the key s names), into v, trying the earlier box keys after the current one;
// what names the value in errors ("sealed SME").
func openValue(what string, s Sealed, to Identity, from [32]byte, earlier [][32]byte, v any) error {
	what = "sealed " + what
	if len(s.Nonce) != 24 {
		return &ValidationError{What: what, Problems: []FieldError{{Field: "nonce", Rule: "must be 24 bytes"}}}
	}
	switch len(s.From) {
	case 0:
	case 32:
		copy(from[:], s.From)
	default:
		return &ValidationError{What: what, Problems: []FieldError{{Field: "from", Rule: "must be a 32-byte X25519 public key"}}}
	}
	var nonce [24]byte
	copy(nonce[:], s.Nonce)
	plain, ok := openBox(s.Box, &nonce, &from, &to.BoxKey, earlier)
	if !ok {
		return fmt.Errorf("%s does not open with this hub's key: %w", what, ErrBadSignature)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return &ValidationError{What: what, Problems: []FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	return nil
}

// KPIKind is the kind of a KPI record.
type KPIKind string

// The kinds of KPI record. The receiver of a completed referral writes a service
// delivered; both hubs write a collaboration. They are kept apart so that a report
// counts each service once, at the hub that delivered it.
const (
	KPIServiceDelivered KPIKind = "service-delivered"
	KPICollaboration    KPIKind = "collaboration"
)

// KPIRecord is one fact for the EDIH KPI reporting, written when a referral
// completes. Its key is (Kind, Referral): writing it again changes nothing.
type KPIRecord struct {
	Kind         KPIKind   `json:"kind"`
	Referral     string    `json:"referral"`
	Hub          string    `json:"hub"`     // the hub that writes it
	Partner      string    `json:"partner"` // the other hub
	Role         Role      `json:"role"`    // the writing hub's role in the referral
	At           time.Time `json:"at"`      // when the referral completed
	Category     Category  `json:"category"`
	Sector       string    `json:"sector"`
	Region       string    `json:"region"`
	Family       Family    `json:"family"`
	Technologies []string  `json:"technologies,omitempty"`
	Outcome      string    `json:"outcome,omitempty"`
}
