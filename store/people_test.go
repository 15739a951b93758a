package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

func testPerson(id, email, role string) Person {
	return Person{ID: id, Name: "Aino Virtanen", Email: email, Role: role, Language: "fi"}
}

// fieldsOf returns the fields a validation error names, or fails the test.
func fieldsOf(t testing.TB, err error) []string {
	t.Helper()
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *protocol.ValidationError", err)
	}
	var fs []string
	for _, p := range ve.Problems {
		fs = append(fs, p.Field)
	}
	return fs
}

func TestStore_AddPerson_roundTrip(t *testing.T) {
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s, err := Open(path, &Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	p := testPerson("p1", "Aino@Hub.example.eu", RoleAdvisor)
	if _, err := s.AddPerson(p); err != nil {
		t.Fatalf("AddPerson: %v", err)
	}
	s.Close()
	s = mustOpenPath(t, path, &Options{Now: clock.Now})
	for _, ref := range []string{"p1", "aino@hub.example.eu", "AINO@HUB.EXAMPLE.EU"} {
		got, err := s.Person(ref)
		if err != nil {
			t.Fatalf("Person(%s): %v", ref, err)
		}
		if got.Email != p.Email || got.Name != p.Name || got.Role != RoleAdvisor || got.Language != "fi" || !got.Created.Equal(clock.Now()) {
			t.Errorf("Person(%s) = %+v, want %+v created %v", ref, got, p, clock.Now())
		}
	}
	if _, err := s.Person("nobody@hub.example.eu"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Person(nobody): %v, want ErrNotFound", err)
	}
}

func TestStore_AddPerson_invalid(t *testing.T) {
	s := mustOpen(t)
	for _, tc := range []struct {
		name  string
		p     Person
		field string
	}{
		{"no name", Person{ID: "a", Email: "a@hub.example.eu", Role: RoleAdvisor}, "name"},
		{"control", Person{ID: "a", Name: "A\nB", Email: "a@hub.example.eu", Role: RoleAdvisor}, "name"},
		{"long name", Person{ID: "a", Name: strings.Repeat("x", MaxPersonName+1), Email: "a@hub.example.eu", Role: RoleAdvisor}, "name"},
		{"display name in e-mail", Person{ID: "a", Name: "A", Email: "A <a@hub.example.eu>", Role: RoleAdvisor}, "email"},
		{"no domain dot", Person{ID: "a", Name: "A", Email: "a@localhost", Role: RoleAdvisor}, "email"},
		{"role", Person{ID: "a", Name: "A", Email: "a@hub.example.eu", Role: "admin"}, "role"},
		{"language", Person{ID: "a", Name: "A", Email: "a@hub.example.eu", Role: RoleAdvisor, Language: "finnish"}, "language"},
		{"id", Person{ID: "A B", Name: "A", Email: "a@hub.example.eu", Role: RoleAdvisor}, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.AddPerson(tc.p)
			if fs := fieldsOf(t, err); len(fs) != 1 || fs[0] != tc.field {
				t.Errorf("got problems of %v, want of %s", fs, tc.field)
			}
		})
	}
	if people, _ := s.People(); len(people) != 0 {
		t.Errorf("stored %d people after refusals, want none", len(people))
	}
}

func TestStore_AddPerson_uniqueEmail(t *testing.T) {
	s := mustOpen(t)
	if _, err := s.AddPerson(testPerson("p1", "aino@hub.example.eu", RoleAdvisor)); err != nil {
		t.Fatal(err)
	}
	_, err := s.AddPerson(testPerson("p2", "AINO@hub.example.eu", RoleOperator))
	if fs := fieldsOf(t, err); len(fs) != 1 || fs[0] != "email" {
		t.Errorf("got %v, want a problem of email", err)
	}
	if _, err := s.AddPerson(testPerson("p1", "other@hub.example.eu", RoleAdvisor)); !errors.Is(err, ErrExists) {
		t.Errorf("same ID: %v, want ErrExists", err)
	}
	if _, err := s.AddPerson(testPerson("p3", "eero@hub.example.eu", RoleOperator)); err != nil {
		t.Fatal(err)
	}
	// Changing an address to one taken is refused and changes nothing.
	_, err = s.UpdatePerson("p3", func(p *Person) error { p.Email = "Aino@hub.example.eu"; return nil })
	if fs := fieldsOf(t, err); len(fs) != 1 || fs[0] != "email" {
		t.Errorf("update to a taken address: %v, want a problem of email", err)
	}
	if p, _ := s.Person("eero@hub.example.eu"); p.ID != "p3" {
		t.Errorf("after a refused update eero@ is %q, want p3", p.ID)
	}
	// A new address frees the old one.
	if _, err := s.UpdatePerson("p3", func(p *Person) error { p.Email = "eero.k@hub.example.eu"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Person("eero@hub.example.eu"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old address after the change: %v, want ErrNotFound", err)
	}
	if _, err := s.AddPerson(testPerson("p4", "eero@hub.example.eu", RoleAdvisor)); err != nil {
		t.Errorf("old address for a new person: %v", err)
	}
	removed, err := s.RemovePerson("aino@hub.example.eu")
	if err != nil || removed.ID != "p1" {
		t.Fatalf("RemovePerson: %v, %v", removed.ID, err)
	}
	if _, err := s.AddPerson(testPerson("p5", "aino@hub.example.eu", RoleAdvisor)); err != nil {
		t.Errorf("address of a removed person: %v", err)
	}
	people, err := s.People()
	if err != nil || len(people) != 3 {
		t.Errorf("People: %d, %v; want 3", len(people), err)
	}
}

func TestStore_UpdatePerson_fnError(t *testing.T) {
	s := mustOpen(t)
	if _, err := s.AddPerson(testPerson("p1", "aino@hub.example.eu", RoleAdvisor)); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err := s.UpdatePerson("p1", func(p *Person) error { p.Role = RoleOperator; return boom })
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want boom", err)
	}
	_, err = s.UpdatePerson("p1", func(p *Person) error { p.Link = &SignInLink{Hash: []byte{1}}; return nil })
	if fs := fieldsOf(t, err); len(fs) != 2 {
		t.Errorf("bad link: problems of %v, want link.hash and link.expires", fs)
	}
	if p, _ := s.Person("p1"); p.Role != RoleAdvisor || p.Link != nil {
		t.Errorf("after refused updates: %+v, want unchanged", p)
	}
}

func testToken(id, name string, clock *testClock, scopes ...string) Token {
	h := sha256.Sum256([]byte("secret-" + id))
	return Token{ID: id, Name: name, Scopes: scopes, Hash: h[:], Created: clock.Now()}
}

func TestStore_tokens(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	tok := testToken("t1", "crm", clock, ScopeRead, ScopeAct)
	tok.Expires = clock.Now().Add(30 * 24 * time.Hour)
	if _, err := s.AddToken(tok); err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	got, err := s.TokenByHash(tok.Hash)
	if err != nil || got.ID != "t1" || got.Name != "crm" || len(got.Scopes) != 2 || !got.Expires.Equal(tok.Expires) {
		t.Fatalf("TokenByHash = %+v, %v", got, err)
	}
	if _, err := s.TokenByHash(bytes.Repeat([]byte{7}, 32)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown hash: %v, want ErrNotFound", err)
	}
	// The same name again is refused while the first is not revoked.
	_, err = s.AddToken(testToken("t2", "CRM", clock, ScopeRead))
	if fs := fieldsOf(t, err); len(fs) != 1 || fs[0] != "name" {
		t.Errorf("same name: %v, want a problem of name", err)
	}
	// Last use moves only forward.
	used := clock.Now().Add(time.Hour)
	if err := s.TouchTokens(map[string]time.Time{"t1": used, "gone": used}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchTokens(map[string]time.Time{"t1": used.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.TokenByHash(tok.Hash); !got.LastUsed.Equal(used) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, used)
	}
	clock.Add(2 * time.Hour)
	rev, err := s.RevokeToken("crm")
	if err != nil || !rev.Revoked.Equal(clock.Now()) {
		t.Fatalf("RevokeToken = %+v, %v", rev, err)
	}
	if got, _ := s.TokenByHash(tok.Hash); got.Revoked.IsZero() {
		t.Errorf("after revocation the token reads %+v, want revoked", got)
	}
	if _, err := s.RevokeToken("crm"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke by the name of a revoked token: %v, want ErrNotFound", err)
	}
	if _, err := s.AddToken(testToken("t2", "crm", clock, ScopeRead)); err != nil {
		t.Errorf("a name of a revoked token: %v", err)
	}
	list, err := s.Tokens()
	if err != nil || len(list) != 2 || list[0].ID != "t2" {
		t.Errorf("Tokens = %+v, %v; want t2 then t1", list, err)
	}
}

func TestStore_AddToken_invalid(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	for _, tc := range []struct {
		name   string
		tok    Token
		fields []string
	}{
		{"no scopes", testToken("a", "x", clock), []string{"scopes"}},
		{"unknown scope", testToken("a", "x", clock, "write"), []string{"scopes.0"}},
		{"twice", testToken("a", "x", clock, "read", "read"), []string{"scopes.1"}},
		{"no name", testToken("a", " ", clock, "read"), []string{"name"}},
		{"expired already", func() Token {
			k := testToken("a", "x", clock, "read")
			k.Expires = clock.Now().Add(-time.Hour)
			return k
		}(), []string{"expires"}},
		{"short hash", func() Token { k := testToken("a", "x", clock, "read"); k.Hash = k.Hash[:8]; return k }(), []string{"hash"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.AddToken(tc.tok)
			if fs := fieldsOf(t, err); strings.Join(fs, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("got problems of %v, want of %v", fs, tc.fields)
			}
		})
	}
	if list, _ := s.Tokens(); len(list) != 0 {
		t.Errorf("stored %d tokens after refusals, want none", len(list))
	}
}

func TestStore_referralContacts(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	rec := testRecord(t, protocol.RoleSender, clock.Now())
	rec.Contacts = &Contacts{Own: &protocol.PersonContact{Hub: "hub-one", Name: "Aino", Email: "aino@hub-one.example.eu"}}
	mustSave(t, s, rec, nil, nil)
	got, err := s.Referral(rec.Referral.ID)
	if err != nil || got.Contacts == nil || got.Contacts.Own.Email != "aino@hub-one.example.eu" || got.Contacts.Partner != nil {
		t.Fatalf("Referral = %+v, %v", got.Contacts, err)
	}
	rec.Contacts.Partner = &protocol.PersonContact{Hub: "hub-two", Name: "Eero", Email: "not an address"}
	err = s.SaveReferral(rec, nil, nil)
	if fs := fieldsOf(t, err); len(fs) != 1 || fs[0] != "contacts.partner.email" {
		t.Errorf("bad partner contact: %v, want a problem of contacts.partner.email", err)
	}
}
