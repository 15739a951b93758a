package protocol

import (
	"io"
	"net/mail"
	"strings"

	"golang.org/x/crypto/nacl/box"
)

// People at the hubs. Every change a hub makes to a referral names the person there
// who made it ([Change.Person], [ReferralEvent.Person]: a display name), and each hub
// tells the other whom to talk to about the referral: its contact person
// ([PersonContact]), sealed to the other hub like the SME's details, in the offer and in
// the receiving hub's first event.

// MaxPersonLen is the most characters of a person's display name in a history entry
// or a contact.
const MaxPersonLen = 120

// PersonContact is the person at a hub whom the other hub of a referral may call or write
// to about it: a name and a work e-mail address. It travels only sealed.
type PersonContact struct {
	Hub   string `json:"hub"` // the hub the person works at
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Validate checks the contact and returns all problems at once.
func (c *PersonContact) Validate() error {
	v := problems{what: "contact"}
	if !ValidID(c.Hub) {
		v.add("hub", "must be a hub ID")
	}
	text(&v, "name", c.Name, 1, MaxPersonLen)
	if strings.ContainsFunc(c.Name, isControl) {
		v.add("name", "must not hold control characters")
	}
	if !ValidEmail(c.Email) {
		v.add("email", "must be a plain e-mail address such as aino@hub.example.eu")
	}
	return v.err()
}

// ValidEmail reports whether s is a plain e-mail address of at most 254 bytes, as
// name@domain with a dot in the domain: what net/mail reads as an address and
// nothing more (no display name, no angle brackets, no comments).
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > maxEmailLen {
		return false
	}
	_, domain, ok := strings.Cut(s, "@")
	return ok && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// checkPerson checks a display name of a person in field.
func checkPerson(v *problems, field, name string) {
	text(v, field, name, 0, MaxPersonLen)
	if strings.ContainsFunc(name, isControl) {
		v.add(field, "must not hold control characters")
	}
}

// checkSealed checks the form of a sealed value in field; whether it opens is for
// the one it is sealed to.
func checkSealed(v *problems, field string, s *Sealed) {
	if s == nil {
		return
	}
	if n := len(s.Nonce); n != 24 {
		v.add(field+".nonce", "must be 24 bytes, got %d", n)
	}
	switch n := len(s.Box); {
	case n <= box.Overhead:
		v.add(field+".box", "must be a sealed box of more than %d bytes, got %d", box.Overhead, n)
	case n > MaxSealedSize:
		v.add(field+".box", "must be at most %d bytes, got %d", MaxSealedSize, n)
	}
	if n := len(s.From); n != 0 && n != 32 {
		v.add(field+".from", "must be empty or a 32-byte X25519 public key, got %d bytes", n)
	}
}

// SetPerson names person, a display name, on the history entry of event ev just
// applied, as SetReasons records its reason.
func (r *Referral) SetPerson(ev Event, person string) {
	if last := len(r.History) - 1; last >= 0 && r.History[last].Event == ev && person != "" {
		r.History[last].Person = person
	}
}

// SealContact encrypts a hub's contact person from hub from to the hub whose box
// public key is to, as SealSME does the SME's identity.
func SealContact(c PersonContact, from Identity, to [32]byte, rand io.Reader) (Sealed, error) {
	return sealValue("contact", c, from, to, rand)
}

// OpenContact decrypts a contact person sealed to the identity by the hub whose box
// public key is from (or the key the sealed value names), trying earlier box keys
// after the current one, and checks it.
func OpenContact(s Sealed, to Identity, from [32]byte, earlier ...[32]byte) (PersonContact, error) {
	var c PersonContact
	if err := openValue("contact", s, to, from, earlier, &c); err != nil {
		return PersonContact{}, err
	}
	if err := c.Validate(); err != nil {
		return PersonContact{}, err
	}
	return c, nil
}
