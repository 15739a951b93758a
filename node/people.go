package node

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// People and API tokens: the operator adds people with a role and makes tokens with
// scopes; a person signs in with a password, chosen through a one-time sign-in link.

// People lists the people who sign in to the hub.
func (n *Node) People() ([]api.Person, error) {
	ps, err := n.store.People()
	if err != nil {
		return nil, err
	}
	out := make([]api.Person, len(ps))
	for i, p := range ps {
		out[i] = apiPerson(p)
	}
	return out, nil
}

// Person returns the person whose ID or e-mail address is ref.
func (n *Node) Person(ref string) (api.Person, error) {
	p, err := n.store.Person(ref)
	if err != nil {
		return api.Person{}, err
	}
	return apiPerson(p), nil
}

func apiPerson(p store.Person) api.Person {
	out := api.Person{ID: p.ID, Name: p.Name, Email: p.Email, Role: p.Role, Language: p.Language,
		PasswordSet: p.Password != "", Created: p.Created}
	if p.Link != nil {
		out.LinkExpires = p.Link.Expires
	}
	return out
}

// AddPerson adds a person and returns their first one-time sign-in link, with which
// they choose a password; with a mail server, the link is e-mailed to them instead
// (see deliverLink). A person that breaks a rule, or whose e-mail address
// another has, is refused with a *protocol.ValidationError naming the field.
func (n *Node) AddPerson(req api.PersonRequest) (api.SignInLink, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return api.SignInLink{}, err
	}
	code, link := n.newLink(id.String())
	p := store.Person{ID: id.String(), Name: strings.TrimSpace(req.Name), Email: strings.TrimSpace(req.Email),
		Role: req.Role, Language: protocol.CanonicalLanguageTag(req.Language), Link: link}
	saved, err := n.store.AddPerson(p)
	if err != nil {
		return api.SignInLink{}, err
	}
	n.log.Info("person added", "person", saved.ID, "role", saved.Role)
	return n.deliverLink(n.signInLink(saved, code)), nil
}

// ResetPerson makes a new one-time sign-in link for the person whose ID or e-mail
// address is ref, in place of any earlier link. The person's password, if they have
// one, works until they choose a new one with the link. With a mail server, the
// link is e-mailed to them instead (see deliverLink).
func (n *Node) ResetPerson(ref string) (api.SignInLink, error) {
	var code string
	saved, err := n.store.UpdatePerson(ref, func(p *store.Person) error {
		code, p.Link = n.newLink(p.ID)
		return nil
	})
	if err != nil {
		return api.SignInLink{}, err
	}
	n.log.Info("sign-in link made", "person", saved.ID)
	return n.deliverLink(n.signInLink(saved, code)), nil
}

// RemovePerson removes the person whose ID or e-mail address is ref and ends their
// sessions. Their name stays in the histories of the referrals they acted on.
func (n *Node) RemovePerson(ref string) (api.Person, error) {
	p, err := n.store.RemovePerson(ref)
	if err != nil {
		return api.Person{}, err
	}
	n.endSessionsOf(p.ID, "")
	n.log.Info("person removed", "person", p.ID)
	return apiPerson(p), nil
}

// newLink returns a fresh sign-in code for person id, and what the store keeps of it.
// The code is the person's ID and a secret: the ID finds the person, the secret's
// SHA-256 is compared.
func (n *Node) newLink(id string) (string, *store.SignInLink) {
	sec := secret("")
	h := sha256.Sum256([]byte(sec))
	return id + "." + sec, &store.SignInLink{Hash: h[:], Expires: n.cfg.Now().Add(n.cfg.SignInLinkTTL).UTC()}
}

// signInLink is the answer that carries a new sign-in code.
func (n *Node) signInLink(p store.Person, code string) api.SignInLink {
	return api.SignInLink{Person: apiPerson(p), Code: code, Link: n.PublicURL() + "/login/link?code=" + url.QueryEscape(code),
		Expires: p.Link.Expires}
}

// PublicURL returns the console's address as people reach it: Config.PublicURL, or
// http:// and the bound HTTP address.
func (n *Node) PublicURL() string {
	if n.cfg.PublicURL != "" {
		return strings.TrimSuffix(n.cfg.PublicURL, "/")
	}
	return "http://" + n.HTTPAddr()
}

// SignIn signs a person in with their e-mail address and password, from the client
// at remote, and returns the session's token, when it ends at the latest, and the
// actor. A wrong address or password is ErrSignIn, whichever it was; tries are
// throttled per address and per e-mail address tried (Config.Limits): while either
// must wait, the password is not checked and the error is a *WaitError.
func (n *Node) SignIn(email, password, remote string) (string, time.Time, Actor, error) {
	key := strings.ToLower(strings.TrimSpace(email))
	if d := n.AuthWait(RefusedSignIn, remote); d > 0 {
		return "", time.Time{}, Actor{}, &WaitError{Wait: d, What: "address"}
	}
	if d := n.personWait(key, remote); d > 0 {
		return "", time.Time{}, Actor{}, &WaitError{Wait: d, What: "person"}
	}
	p, err := n.store.Person(key)
	found := err == nil && key != "" && strings.Contains(key, "@")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", time.Time{}, Actor{}, err
	}
	stored := p.Password
	if !found || stored == "" {
		stored = dummyHash()
	}
	if ok := checkPassword(stored, password); !ok || !found || p.Password == "" || password == "" {
		n.AuthFailed(RefusedSignIn, remote)
		n.personFailed(key, remote)
		return "", time.Time{}, Actor{}, ErrSignIn
	}
	n.AuthOK(remote)
	n.personOK(key)
	a := personActor(p)
	tok, exp := n.NewSession(a)
	n.log.Info("signed in", "person", p.ID, "remote", remote)
	return tok, exp, a, nil
}

// UseSignInLink takes a one-time sign-in code, sets the person's new password, ends
// their other sessions and signs them in. A code that is wrong, used or expired is
// ErrSignInLink, and counts as a wrong try of the address; a password that breaks a
// rule is a *protocol.ValidationError, and the code still works.
func (n *Node) UseSignInLink(code, password, remote string) (string, time.Time, Actor, error) {
	if d := n.AuthWait(RefusedSignIn, remote); d > 0 {
		return "", time.Time{}, Actor{}, &WaitError{Wait: d, What: "address"}
	}
	id, sec, ok := strings.Cut(strings.TrimSpace(code), ".")
	if !ok || id == "" || strings.Contains(id, "@") || sec == "" {
		n.AuthFailed(RefusedSignIn, remote)
		return "", time.Time{}, Actor{}, ErrSignInLink
	}
	h := sha256.Sum256([]byte(sec))
	now := n.cfg.Now()
	valid := func(p *store.Person) bool {
		return p.Link != nil && subtle.ConstantTimeCompare(p.Link.Hash, h[:]) == 1 && now.Before(p.Link.Expires)
	}
	p, err := n.store.Person(id)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !valid(&p)):
		n.AuthFailed(RefusedSignIn, remote)
		return "", time.Time{}, Actor{}, ErrSignInLink
	case err != nil:
		return "", time.Time{}, Actor{}, err
	}
	if err := checkNewPassword(password, p.Email); err != nil {
		return "", time.Time{}, Actor{}, err
	}
	// The hash is made before the store's write transaction, which must be quick;
	// the transaction checks the link again, used up meanwhile or not, and sets the
	// password and uses the link up together.
	hash := hashPassword(password)
	p, err = n.store.UpdatePerson(p.ID, func(p *store.Person) error {
		if !valid(p) {
			return ErrSignInLink
		}
		p.Password, p.PasswordSet, p.Link = hash, now.UTC(), nil
		return nil
	})
	switch {
	case errors.Is(err, ErrSignInLink), errors.Is(err, store.ErrNotFound):
		n.AuthFailed(RefusedSignIn, remote)
		return "", time.Time{}, Actor{}, ErrSignInLink
	case err != nil:
		return "", time.Time{}, Actor{}, err
	}
	n.AuthOK(remote)
	n.personOK(strings.ToLower(p.Email))
	n.endSessionsOf(p.ID, "")
	a := personActor(p)
	tok, exp := n.NewSession(a)
	n.log.Info("password set with a sign-in link", "person", p.ID, "remote", remote)
	return tok, exp, a, nil
}

// personWait returns how long tries of the e-mail address key must still wait.
func (n *Node) personWait(key, remote string) time.Duration {
	b := n.limits.persons
	if b == nil {
		return 0
	}
	d := b.wait(key, time.Now())
	if d > 0 {
		n.refusals.refuse(RefusedSignIn, "person-backoff", remoteIP(remote), slog.LevelWarn, "password tried for a person while waiting",
			"retry_after", retryAfter(d))
	}
	return d
}

// personFailed records a wrong password for the e-mail address key.
func (n *Node) personFailed(key, remote string) {
	if b := n.limits.persons; b != nil {
		b.fail(key, time.Now())
	}
}

func (n *Node) personOK(key string) {
	if b := n.limits.persons; b != nil {
		b.ok(key)
	}
}

// Tokens lists the API tokens, revoked ones too, newest first, each with its last
// use as this node knows it.
func (n *Node) Tokens() ([]api.Token, error) {
	ts, err := n.store.Tokens()
	if err != nil {
		return nil, err
	}
	out := make([]api.Token, len(ts))
	for i, t := range ts {
		out[i] = n.apiToken(t)
	}
	return out, nil
}

func (n *Node) apiToken(t store.Token) api.Token {
	out := api.Token{ID: t.ID, Name: t.Name, Scopes: t.Scopes, CreatedBy: t.CreatedBy, Created: t.Created,
		Expires: t.Expires, LastUsed: t.LastUsed, Revoked: t.Revoked, State: "active"}
	n.access.mu.Lock()
	if at, ok := n.access.lastUsed[t.ID]; ok && at.After(out.LastUsed) {
		out.LastUsed = at.UTC()
	}
	n.access.mu.Unlock()
	switch {
	case !t.Revoked.IsZero():
		out.State = "revoked"
	case !t.Expires.IsZero() && !n.cfg.Now().Before(t.Expires):
		out.State = "expired"
	}
	return out
}

// AddToken makes an API token for an integration, made by by, and returns it with
// its secret, which is not kept: only its SHA-256 is.
func (n *Node) AddToken(by Actor, req api.TokenRequest) (api.NewToken, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return api.NewToken{}, err
	}
	now := n.cfg.Now()
	if !req.Expires.IsZero() && !req.Expires.After(now) {
		return api.NewToken{}, &protocol.ValidationError{What: "token", Problems: []protocol.FieldError{
			{Field: "expires", Rule: "must be in the future, or empty for a token that does not expire"}}}
	}
	sec := secret(tokenPrefix)
	h := sha256.Sum256([]byte(sec))
	scopes := slices.Clone(req.Scopes)
	t, err := n.store.AddToken(store.Token{ID: id.String(), Name: strings.TrimSpace(req.Name), Scopes: scopes, Hash: h[:],
		CreatedBy: by.Name, Created: now, Expires: req.Expires})
	if err != nil {
		return api.NewToken{}, err
	}
	n.log.Info("API token made", "token", t.ID, "name", t.Name, "scopes", strings.Join(t.Scopes, ","))
	return api.NewToken{Token: n.apiToken(t), Secret: sec}, nil
}

// RevokeToken revokes the API token whose ID, or name among those not revoked, is
// ref; it stops working at once.
func (n *Node) RevokeToken(ref string) (api.Token, error) {
	t, err := n.store.RevokeToken(ref)
	if err != nil {
		return api.Token{}, err
	}
	n.log.Info("API token revoked", "token", t.ID, "name", t.Name)
	return n.apiToken(t), nil
}

// ScopesOf checks a list of scopes and returns its problems.
func ScopesOf(list string) ([]string, error) {
	var out []string
	for s := range strings.SplitSeq(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	for _, s := range out {
		if !slices.Contains(store.Scopes, s) {
			return nil, fmt.Errorf("unknown scope %q: the scopes are %s", s, strings.Join(store.Scopes, ", "))
		}
	}
	return out, nil
}
