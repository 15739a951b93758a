package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// API tokens: the secrets other software (a CRM, a reporting job) calls the API
// with, each limited to scopes. The store keeps the SHA-256 of a token, never the
// token: it is shown once, when it is made.

// Scopes of an API token.
const (
	ScopeRead   = "read"   // read referrals
	ScopeRefer  = "refer"  // send referrals
	ScopeAct    = "act"    // act on referrals: accept, decline, complete, cancel...
	ScopeReport = "report" // read the KPI report
	ScopeAdmin  = "admin"  // change the profile and capacity, people and tokens
)

// Scopes lists every scope of an API token.
var Scopes = []string{ScopeRead, ScopeRefer, ScopeAct, ScopeReport, ScopeAdmin}

// maxTokenName is the most characters of a token's name.
const maxTokenName = 80

// Token is an API token as the store keeps it.
type Token struct {
	ID     string   `json:"id"`   // chosen by the caller; never reused
	Name   string   `json:"name"` // unique among the tokens not revoked
	Scopes []string `json:"scopes"`
	Hash   []byte   `json:"hash"` // SHA-256 of the token, 32 bytes
	// CreatedBy is the display name of who made the token.
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created"`
	// Expires is when the token stops working; zero means never.
	Expires time.Time `json:"expires,omitzero"`
	// LastUsed is when the token was last used, as TouchTokens last recorded it.
	LastUsed time.Time `json:"last_used,omitzero"`
	// Revoked is when the token was revoked; zero while it is not.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Validate checks the token and returns every problem at once.
func (t *Token) Validate() error {
	v := &protocol.ValidationError{What: "token"}
	add := func(field, rule string) {
		v.Problems = append(v.Problems, protocol.FieldError{Field: field, Rule: rule})
	}
	if !validKeyID(t.ID) {
		add("id", fmt.Sprintf("must be 1 to %d lower-case letters, digits and '-'", maxPersonID))
	}
	switch n := utf8.RuneCountInString(t.Name); {
	case strings.TrimSpace(t.Name) == "":
		add("name", "is required")
	case n > maxTokenName:
		add("name", fmt.Sprintf("must be at most %d characters, got %d", maxTokenName, n))
	case !utf8.ValidString(t.Name) || strings.ContainsFunc(t.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		add("name", "must be UTF-8 text without control characters")
	}
	if len(t.Scopes) == 0 {
		add("scopes", "must name at least one scope: "+strings.Join(Scopes, ", "))
	}
	for i, sc := range t.Scopes {
		switch {
		case !slices.Contains(Scopes, sc):
			add(fmt.Sprintf("scopes.%d", i), fmt.Sprintf("%q must be one of %s", sc, strings.Join(Scopes, ", ")))
		case slices.Index(t.Scopes, sc) != i:
			add(fmt.Sprintf("scopes.%d", i), sc+" is listed twice")
		}
	}
	if len(t.Hash) != 32 {
		add("hash", "must be the 32-byte SHA-256 of the token")
	}
	if t.Created.IsZero() {
		add("created", "is required")
	}
	if !t.Expires.IsZero() && !t.Expires.After(t.Created) {
		add("expires", "must be after the token is made, or empty for a token that does not expire")
	}
	if utf8.RuneCountInString(t.CreatedBy) > MaxPersonName {
		add("created_by", fmt.Sprintf("must be at most %d characters", MaxPersonName))
	}
	return v.Err()
}

// AddToken stores a new token. One that breaks a rule, or whose name a token not
// revoked has, is refused with a *protocol.ValidationError and nothing is stored;
// an ID or hash in use is refused with ErrExists.
func (s *Store) AddToken(t Token) (Token, error) {
	if t.Created.IsZero() {
		t.Created = s.clock()
	}
	t.Created, t.Expires = t.Created.UTC(), t.Expires.UTC()
	if err := t.Validate(); err != nil {
		return Token{}, err
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b.Get([]byte(t.ID)) != nil {
			return fmt.Errorf("token %s: %w", t.ID, ErrExists)
		}
		if tx.Bucket(bucketTokenHashes).Get(t.Hash) != nil {
			return fmt.Errorf("token hash: %w", ErrExists)
		}
		taken := false
		err := b.ForEach(func(k, v []byte) error {
			var o Token
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("decode token %s: %w", k, err)
			}
			taken = taken || (o.Revoked.IsZero() && strings.EqualFold(o.Name, t.Name))
			return nil
		})
		if err != nil {
			return err
		}
		if taken {
			return &protocol.ValidationError{What: "token", Problems: []protocol.FieldError{
				{Field: "name", Rule: t.Name + " is the name of another token: revoke it first, or choose another"}}}
		}
		if err := putToken(tx, &t); err != nil {
			return err
		}
		if err := tx.Bucket(bucketTokenHashes).Put(t.Hash, []byte(t.ID)); err != nil {
			return fmt.Errorf("write token hash: %w", err)
		}
		return nil
	})
	if err != nil {
		if isValidation(err) {
			return Token{}, err
		}
		return Token{}, fmt.Errorf("add token %s: %w", t.Name, err)
	}
	return t, nil
}

// Tokens returns every token, revoked ones too, newest first.
func (s *Store) Tokens() ([]Token, error) {
	out, err := listJSON[Token](s, bucketTokens, "token")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// TokenByHash returns the token whose SHA-256 is hash, revoked or expired or not, or
// ErrNotFound.
func (s *Store) TokenByHash(hash []byte) (Token, error) {
	var t Token
	err := s.view(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketTokenHashes).Get(hash)
		if id == nil {
			return ErrNotFound
		}
		var err error
		t, err = getToken(tx, string(id))
		return err
	})
	if err != nil {
		return Token{}, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// RevokeToken revokes the token whose ID, or name among those not revoked, is ref,
// at the store's time, and returns it. A token revoked before keeps its time. It
// returns ErrNotFound when no token has that ID or name.
func (s *Store) RevokeToken(ref string) (Token, error) {
	var t Token
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if t, err = findToken(tx, ref); err != nil {
			return err
		}
		if t.Revoked.IsZero() {
			t.Revoked = s.clock()
		}
		return putToken(tx, &t)
	})
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %s: %w", ref, err)
	}
	return t, nil
}

// TouchTokens records when tokens were last used, by token ID, in one transaction:
// a time earlier than the one stored changes nothing, and an ID no longer stored is
// skipped.
func (s *Store) TouchTokens(used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	err := s.update(func(tx *bolt.Tx) error {
		for id, at := range used {
			t, err := getToken(tx, id)
			if err != nil {
				continue
			}
			if at = at.UTC(); !at.After(t.LastUsed) {
				continue
			}
			t.LastUsed = at
			if err := putToken(tx, &t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record tokens' last use: %w", err)
	}
	return nil
}

func putToken(tx *bolt.Tx, t *Token) error {
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode token: %w", err)
	}
	if err := tx.Bucket(bucketTokens).Put([]byte(t.ID), v); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	return nil
}

func getToken(tx *bolt.Tx, id string) (Token, error) {
	v := tx.Bucket(bucketTokens).Get([]byte(id))
	if v == nil {
		return Token{}, ErrNotFound
	}
	var t Token
	if err := json.Unmarshal(v, &t); err != nil {
		return Token{}, fmt.Errorf("decode token %s: %w", id, err)
	}
	return t, nil
}

// findToken reads the token whose ID is ref or, failing that, the one not revoked
// whose name is ref, in any case.
func findToken(tx *bolt.Tx, ref string) (Token, error) {
	if t, err := getToken(tx, ref); err == nil || err != ErrNotFound {
		return t, err
	}
	var (
		found Token
		ok    bool
	)
	err := tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
		var t Token
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode token %s: %w", k, err)
		}
		if t.Revoked.IsZero() && strings.EqualFold(t.Name, ref) {
			found, ok = t, true
		}
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	if !ok {
		return Token{}, ErrNotFound
	}
	return found, nil
}
