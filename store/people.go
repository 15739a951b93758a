package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// People: the advisors and operators who sign in to the hub, each under a work
// e-mail address that no one else at the hub has.

// Roles of a person at the hub.
const (
	// RoleAdvisor searches, refers, acts on referrals and reads reports.
	RoleAdvisor = "advisor"
	// RoleOperator does what an advisor does and keeps the hub's profile, capacity,
	// people and API tokens.
	RoleOperator = "operator"
)

// Roles lists the roles of a person.
var Roles = []string{RoleAdvisor, RoleOperator}

// Limits of a person's fields, in characters.
const (
	MaxPersonName = protocol.MaxPersonLen
	maxPersonID   = 64
	maxPassword   = 512 // bytes of a stored password hash
)

// Person is someone who signs in to the hub. Email is unique at the hub, compared
// without regard to case.
type Person struct {
	ID    string `json:"id"` // chosen by the caller; never reused
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"` // RoleAdvisor or RoleOperator
	// Language is the BCP 47 tag of the language the person reads the hub's messages
	// in, such as "fi" or "pt-BR"; empty means the hub's default.
	Language string `json:"language,omitempty"`
	// Password is the hash of the person's password in the PHC string form, such as
	// $argon2id$v=19$m=19456,t=2,p=1$salt$hash; empty until the person sets one.
	Password    string    `json:"password,omitempty"`
	PasswordSet time.Time `json:"password_set,omitzero"`
	// Link is the one-time sign-in link waiting to be used, if any.
	Link    *SignInLink `json:"link,omitempty"`
	Created time.Time   `json:"created"`
	Updated time.Time   `json:"updated"` // set by the store on every write
}

// SignInLink is a one-time sign-in link: the SHA-256 of its secret, never the
// secret, and when it stops working.
type SignInLink struct {
	Hash    []byte    `json:"hash"` // 32 bytes
	Expires time.Time `json:"expires"`
}

// Validate checks the person and returns every problem at once, each naming its
// field.
func (p *Person) Validate() error {
	v := &protocol.ValidationError{What: "person"}
	add := func(field, rule string) {
		v.Problems = append(v.Problems, protocol.FieldError{Field: field, Rule: rule})
	}
	if !validKeyID(p.ID) {
		add("id", fmt.Sprintf("must be 1 to %d lower-case letters, digits and '-'", maxPersonID))
	}
	name := strings.TrimSpace(p.Name)
	switch n := len([]rune(p.Name)); {
	case name == "":
		add("name", "is required")
	case n > MaxPersonName:
		add("name", fmt.Sprintf("must be at most %d characters, got %d", MaxPersonName, n))
	case name != p.Name:
		add("name", "must not begin or end with spaces")
	case strings.ContainsFunc(p.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) || !utf8.ValidString(p.Name):
		add("name", "must be UTF-8 text without control characters")
	}
	if !protocol.ValidEmail(p.Email) {
		add("email", "must be a plain work e-mail address such as aino@hub.example.eu")
	}
	if !slices.Contains(Roles, p.Role) {
		add("role", "must be advisor or operator")
	}
	if p.Language != "" && !protocol.ValidLanguageTag(p.Language) {
		add("language", "must be a BCP 47 language tag such as fi or pt-BR, or empty")
	}
	if len(p.Password) > maxPassword || (p.Password != "" && !strings.HasPrefix(p.Password, "$")) {
		add("password", "must be a password hash in PHC string form, or empty")
	}
	if p.Link != nil {
		if len(p.Link.Hash) != 32 {
			add("link.hash", "must be 32 bytes")
		}
		if p.Link.Expires.IsZero() {
			add("link.expires", "is required")
		}
	}
	return v.Err()
}

// emailKey is the key of an e-mail address in the people_emails index.
func emailKey(email string) []byte { return []byte(strings.ToLower(email)) }

// AddPerson stores a new person. A person that breaks a rule, or whose e-mail
// address another person has, is refused with a *protocol.ValidationError naming the
// field, and nothing is stored; an ID in use is refused with ErrExists.
func (s *Store) AddPerson(p Person) (Person, error) {
	now := s.clock()
	if p.Created.IsZero() {
		p.Created = now
	}
	p.Created = p.Created.UTC()
	p.Updated = now
	if err := p.Validate(); err != nil {
		return Person{}, err
	}
	err := s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPeople).Get([]byte(p.ID)) != nil {
			return fmt.Errorf("person %s: %w", p.ID, ErrExists)
		}
		if other := tx.Bucket(bucketPeopleEmails).Get(emailKey(p.Email)); other != nil {
			return emailTaken(p.Email)
		}
		return putPerson(tx, &p, "")
	})
	if err != nil {
		if isValidation(err) {
			return Person{}, err
		}
		return Person{}, fmt.Errorf("add person %s: %w", p.Email, err)
	}
	return p, nil
}

func emailTaken(email string) error {
	return &protocol.ValidationError{What: "person", Problems: []protocol.FieldError{
		{Field: "email", Rule: email + " is the address of another person at this hub"}}}
}

// Person returns the person whose ID or e-mail address (in any case) is ref, or
// ErrNotFound.
func (s *Store) Person(ref string) (Person, error) {
	var p Person
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		p, err = getPerson(tx, ref)
		return err
	})
	if err != nil {
		return Person{}, fmt.Errorf("person %s: %w", ref, err)
	}
	return p, nil
}

// People returns every person, by name, then e-mail address. The slice is empty, not
// nil, when there is nobody.
func (s *Store) People() ([]Person, error) {
	out, err := listJSON[Person](s, bucketPeople, "person")
	if err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	slices.SortFunc(out, func(a, b Person) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email))
	})
	return out, nil
}

// UpdatePerson reads the person whose ID or e-mail address is ref, lets fn change
// them, and stores the result in one transaction, by the rules of AddPerson; fn must
// not change the ID. An error from fn, or a rule the result breaks, stores nothing
// and is returned as is. It returns the person as stored, or ErrNotFound.
//
// fn runs inside the store's write transaction: it must be quick and must not call
// the Store.
func (s *Store) UpdatePerson(ref string, fn func(p *Person) error) (Person, error) {
	var (
		p     Person
		fnErr error
	)
	err := s.update(func(tx *bolt.Tx) error {
		cur, err := getPerson(tx, ref)
		if err != nil {
			return err
		}
		p = cur
		if fnErr = fn(&p); fnErr != nil {
			return fnErr
		}
		p.Updated = s.clock()
		if err := p.Validate(); err != nil {
			return err
		}
		if p.ID != cur.ID {
			return &protocol.ValidationError{What: "person", Problems: []protocol.FieldError{{Field: "id", Rule: "must stay " + cur.ID}}}
		}
		if !bytes.Equal(emailKey(p.Email), emailKey(cur.Email)) && tx.Bucket(bucketPeopleEmails).Get(emailKey(p.Email)) != nil {
			return emailTaken(p.Email)
		}
		return putPerson(tx, &p, cur.Email)
	})
	switch {
	case err == nil:
		return p, nil
	case fnErr != nil:
		return Person{}, fnErr
	case isValidation(err):
		return Person{}, err
	default:
		return Person{}, fmt.Errorf("update person %s: %w", ref, err)
	}
}

// RemovePerson deletes the person whose ID or e-mail address is ref and returns who
// it was, or ErrNotFound. What the person did stays in the referrals' histories,
// under their name.
func (s *Store) RemovePerson(ref string) (Person, error) {
	var p Person
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if p, err = getPerson(tx, ref); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPeople).Delete([]byte(p.ID)); err != nil {
			return fmt.Errorf("delete person: %w", err)
		}
		if err := tx.Bucket(bucketPeopleEmails).Delete(emailKey(p.Email)); err != nil {
			return fmt.Errorf("delete e-mail index entry: %w", err)
		}
		return nil
	})
	if err != nil {
		return Person{}, fmt.Errorf("remove person %s: %w", ref, err)
	}
	return p, nil
}

// putPerson writes p and its e-mail index entry in tx, deleting the entry of its
// old address when it changed.
func putPerson(tx *bolt.Tx, p *Person, oldEmail string) error {
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode person: %w", err)
	}
	if err := tx.Bucket(bucketPeople).Put([]byte(p.ID), v); err != nil {
		return fmt.Errorf("write person: %w", err)
	}
	idx := tx.Bucket(bucketPeopleEmails)
	if oldEmail != "" && !bytes.Equal(emailKey(oldEmail), emailKey(p.Email)) {
		if err := idx.Delete(emailKey(oldEmail)); err != nil {
			return fmt.Errorf("delete e-mail index entry: %w", err)
		}
	}
	if err := idx.Put(emailKey(p.Email), []byte(p.ID)); err != nil {
		return fmt.Errorf("write e-mail index entry: %w", err)
	}
	return nil
}

// getPerson reads the person whose ID or e-mail address is ref in tx.
func getPerson(tx *bolt.Tx, ref string) (Person, error) {
	id := []byte(ref)
	if strings.Contains(ref, "@") {
		if id = tx.Bucket(bucketPeopleEmails).Get(emailKey(ref)); id == nil {
			return Person{}, ErrNotFound
		}
	}
	v := tx.Bucket(bucketPeople).Get(id)
	if v == nil {
		return Person{}, ErrNotFound
	}
	var p Person
	if err := json.Unmarshal(v, &p); err != nil {
		return Person{}, fmt.Errorf("decode person %s: %w", id, err)
	}
	return p, nil
}

// validKeyID reports whether id is 1 to 64 lower-case ASCII letters, digits and '-':
// an ID of a person or a token, as the caller makes it.
func validKeyID(id string) bool {
	if id == "" || len(id) > maxPersonID {
		return false
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Contacts are the contact persons of a referral: whom to talk to about it at this
// hub and at the other. Either may be nil: the one who made the referral or acted on
// it first may not have been a person (the operator token, an API token), and the
// other hub's arrives with its offer or first event.
type Contacts struct {
	Own     *protocol.PersonContact `json:"own,omitempty"`
	Partner *protocol.PersonContact `json:"partner,omitempty"`
	// OwnSent says whether Own went, sealed, to the other hub in a message.
	OwnSent bool `json:"own_sent,omitempty"`
}

// check adds the problems of c, which may be nil, to v.
func (c *Contacts) check(v *protocol.ValidationError) {
	if c == nil {
		return
	}
	if c.Own != nil {
		v.Add("contacts.own.", c.Own.Validate())
	}
	if c.Partner != nil {
		v.Add("contacts.partner.", c.Partner.Validate())
	}
}
