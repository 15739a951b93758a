package protocol

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// Sealed envelopes. A message for one hub whose body only that hub may read travels
// with its body sealed to the recipient's box key: every other member whose server it
// passes through reads the routing fields (version, type, sender, recipient, ID,
// time) and ciphertext. The sender signs the envelope as ever, over the sealed body,
// and the sealed plaintext repeats the type, sender, recipient and ID, so a member
// cannot sign another hub's ciphertext as its own, nor move it to another message.

// SealedVersion is the envelope version of a sealed envelope. Envelopes of the types
// SealedType names travel only in it, and envelopes of other types never do: a hub of
// an earlier version refuses a sealed envelope as of an unknown version, and a hub of
// this version refuses an unsealed referral message or query answer the same way.
const SealedVersion = 2

// sealedTypes are the types whose bodies travel sealed: a referral's messages, a
// live query's answers and the steps of a gossip key roll. Profiles, their hints and live queries are for every member;
// a wire error tells only why a request failed, and must be readable by a hub that
// cannot open a seal.
var sealedTypes = []string{TypeReferralOffer, TypeReferralEvent, TypeReferralDetails, TypeReferralAck, TypeQueryAnswer, TypeGossipKey}

// SealedType reports whether envelopes of type typ travel sealed to their recipient.
func SealedType(typ string) bool { return slices.Contains(sealedTypes, typ) }

// sealedContent is the plaintext of a sealed body: the envelope's fields the body
// belongs to, and the body itself.
type sealedContent struct {
	Type string          `json:"type"`
	From string          `json:"from"`
	To   string          `json:"to"`
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
}

// SignSealed builds and signs an envelope of type typ from the identity to the hub
// to, whose box public key is toBox, with body encoded as JSON and sealed, at time
// now. typ must be a sealed type.
func SignSealed(id Identity, typ, to string, toBox [32]byte, body any, now time.Time, rand io.Reader) (Envelope, error) {
	e, err := Sign(id, typ, to, body, now)
	if err != nil {
		return Envelope{}, err
	}
	return Seal(id, e, toBox, now, rand)
}

// Seal returns the plain envelope e of the identity with its body sealed to the box
// public key toBox, signed again at now: its ID, type and recipient stay. A message
// kept in a hub's store is kept plain and sealed each time it is sent, to the
// recipient's current box key.
func Seal(id Identity, e Envelope, toBox [32]byte, now time.Time, rand io.Reader) (Envelope, error) {
	p := problems{what: "envelope"}
	if e.V != Version {
		p.add("v", "must be %d (plain) to be sealed", Version)
	}
	if !SealedType(e.Type) {
		p.add("type", "must be a type that travels sealed, not %s", e.Type)
	}
	if e.From != id.ID {
		p.add("from", "must be the signing hub's ID %s", id.ID)
	}
	if !ValidID(e.To) {
		p.add("to", "must name the one hub it is sealed to")
	}
	if err := p.err(); err != nil {
		return Envelope{}, err
	}
	plain, err := json.Marshal(sealedContent{Type: e.Type, From: e.From, To: e.To, ID: e.ID, Body: e.Body})
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s for sealing: %w", e.Type, err)
	}
	var nonce [24]byte
	if _, err := io.ReadFull(rand, nonce[:]); err != nil {
		return Envelope{}, fmt.Errorf("nonce: %w", err)
	}
	s := Sealed{Nonce: nonce[:], Box: sealBox(plain, &nonce, &toBox, &id.BoxKey), From: id.BoxPub[:]}
	if e.Body, err = json.Marshal(s); err != nil {
		return Envelope{}, fmt.Errorf("encode sealed %s: %w", e.Type, err)
	}
	e.V = SealedVersion
	return Resign(id, e, now)
}

// CheckSealing refuses an envelope that is sealed when its type is not, or plain
// when its type travels sealed. The error wraps ErrUnknownVersion, so the sender of
// another version is told at once.
func (e *Envelope) CheckSealing() error {
	switch sealed := SealedType(e.Type); {
	case sealed && e.V != SealedVersion:
		return fmt.Errorf("%s %s from %s in envelope version %d: this hub takes it only sealed, in envelope version %d: %w",
			e.Type, e.ID, e.From, e.V, SealedVersion, ErrUnknownVersion)
	case !sealed && e.V != Version:
		return fmt.Errorf("%s %s from %s in envelope version %d: this hub takes it only plain, in envelope version %d: %w",
			e.Type, e.ID, e.From, e.V, Version, ErrUnknownVersion)
	}
	return nil
}

// Unseal opens the body of a sealed envelope addressed to the identity, whose
// signature the caller has verified, and puts the plain body in its place; an
// envelope that is not sealed is left as it is. Earlier box private keys of the
// identity, newest first, are tried after its current one. An envelope whose seal
// does not open with them, or whose sealed fields are not its own, returns an error
// that wraps ErrBadSeal. After Unseal the envelope's signature no longer verifies:
// it covered the sealed body.
func (e *Envelope) Unseal(to Identity, earlier ...[32]byte) error {
	if e.V != SealedVersion {
		return nil
	}
	fail := func(rule string) error {
		return fmt.Errorf("%s %s from %s: %s: %w", e.Type, e.ID, e.From, rule, ErrBadSeal)
	}
	var s Sealed
	if err := json.Unmarshal(e.Body, &s); err != nil {
		return fail("the body is not a sealed box")
	}
	if len(s.Nonce) != 24 || len(s.From) != 32 {
		return fail("a sealed box needs a 24-byte nonce and the sender's 32-byte box key")
	}
	var nonce [24]byte
	var fromKey [32]byte
	copy(nonce[:], s.Nonce)
	copy(fromKey[:], s.From)
	plain, ok := openBox(s.Box, &nonce, &fromKey, &to.BoxKey, earlier)
	if !ok {
		return fail("the box does not open with this hub's box keys")
	}
	var c sealedContent
	if err := json.Unmarshal(plain, &c); err != nil {
		return fail("the sealed content is not JSON")
	}
	if c.Type != e.Type || c.From != e.From || c.To != e.To || c.ID != e.ID {
		return fail(fmt.Sprintf("the box was sealed for %s %s from %s to %s", c.Type, c.ID, c.From, c.To))
	}
	if len(c.Body) == 0 || !json.Valid(c.Body) {
		return fail("the sealed body is not JSON")
	}
	e.Body = c.Body
	return nil
}
