package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Who may do what. A request to the API or the console is made as an [Actor]: a
// person signed in (a session), the operator token, or an API token. A person's role
// grants scopes (roleScopes); a token has the scopes it was made with; the operator
// token has them all. Each endpoint needs one scope (see docs/api.md#scopes).
//
// Sessions live in the node's memory: a restart ends them all. A session ends when
// it has not been used for Config.SessionIdle, and Config.SessionMax after sign-in
// whatever its use. An API token's last use is kept in memory and written to the
// store at most once a minute (tokenFlushEvery), not on every request.

// Kinds of actor.
const (
	ActorPerson   = "person"         // a person signed in
	ActorOperator = "operator-token" // the operator token of the data directory
	ActorToken    = "api-token"      // an API token for an integration
)

// Actor is who a request is made as.
type Actor struct {
	Kind   string   // ActorPerson, ActorOperator or ActorToken; "" for nobody
	ID     string   // the person's or the token's ID
	Name   string   // display name: the person's name, "operator", the token's name
	Email  string   // a person's work e-mail address
	Role   string   // a person's role; operator for the operator token
	Scopes []string // what the actor may do
	// Language is a person's language, a BCP 47 tag, or "".
	Language string
}

// roleScopes are the scopes each role grants.
var roleScopes = map[string][]string{
	api.RoleAdvisor:  {api.ScopeRead, api.ScopeRefer, api.ScopeAct, api.ScopeReport},
	api.RoleOperator: {api.ScopeRead, api.ScopeRefer, api.ScopeAct, api.ScopeReport, api.ScopeAdmin},
}

// OperatorActor is the actor of the operator token: every scope, named "operator".
func OperatorActor() Actor {
	return Actor{Kind: ActorOperator, Name: "operator", Role: api.RoleOperator, Scopes: slices.Clone(store.Scopes)}
}

// personActor is the actor of a person signed in.
func personActor(p store.Person) Actor {
	return Actor{Kind: ActorPerson, ID: p.ID, Name: p.Name, Email: p.Email, Role: p.Role,
		Scopes: slices.Clone(roleScopes[p.Role]), Language: p.Language}
}

// Can reports whether a may do what scope allows.
func (a Actor) Can(scope string) bool { return slices.Contains(a.Scopes, scope) }

// Refusal returns the message of a 403 for an action that needs scope.
func (a Actor) Refusal(scope, what string) string {
	switch a.Kind {
	case ActorPerson:
		return "refused: " + what + " is for the hub's operators; you (" + a.Name + ") are an " + a.Role
	case ActorToken:
		return "refused: " + what + " needs the scope " + scope + "; the token " + a.Name + " has " + strings.Join(a.Scopes, ", ")
	}
	return "refused: " + what + " needs the scope " + scope
}

// Me is a as the API shows it.
func (a Actor) Me() api.Me {
	return api.Me{Kind: a.Kind, Name: a.Name, Email: a.Email, Role: a.Role, Scopes: slices.Clone(a.Scopes)}
}

// contact returns a person's contact for a referral at hub, or nil for any other
// actor.
func (a Actor) contact(hub string) *protocol.PersonContact {
	if a.Kind != ActorPerson || a.Email == "" {
		return nil
	}
	return &protocol.PersonContact{Hub: hub, Name: a.Name, Email: a.Email}
}

type actorKey struct{}

// WithActor returns ctx carrying a, as the API does for each request.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns the actor ctx carries, and whether it carries one.
func ActorOf(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// Errors of signing in and of tokens.
var (
	// ErrSignIn is returned for a sign-in whose e-mail address or password is wrong;
	// it does not say which.
	ErrSignIn = errors.New("wrong e-mail address or password")
	// ErrSignInLink is returned for a sign-in link or code that is wrong, used
	// already or expired.
	ErrSignInLink = errors.New("this sign-in link is wrong, used already or expired: ask an operator of the hub for a new one")
	// ErrTokenRevoked and ErrTokenExpired are returned for an API token that was
	// revoked or has expired.
	ErrTokenRevoked = errors.New("the API token was revoked")
	ErrTokenExpired = errors.New("the API token has expired")
	// ErrUnknownToken is returned for a bearer token that is no token of this hub.
	ErrUnknownToken = errors.New("not a token of this hub")
)

// WaitError is returned for a sign-in from an address, or for a person, that must
// wait after too many wrong tries.
type WaitError struct {
	Wait time.Duration
	// What waits: "address" or "person" after wrong passwords; "link-address" or
	// "link" (the e-mail address asked for) after sign-in links asked for.
	What string
}

func (e *WaitError) Error() string {
	switch e.What {
	case "person":
		return "too many wrong passwords for this person: wait " + retryAfter(e.Wait) + " s before trying again"
	case "link":
		return "too many sign-in links were asked for this e-mail address: wait " + retryAfter(e.Wait) + " s before asking again"
	case "link-address":
		return "too many sign-in links were asked for from your address: wait " + retryAfter(e.Wait) + " s before asking again"
	}
	return "too many wrong tries from your address: wait " + retryAfter(e.Wait) + " s before trying again"
}

// Prefixes of the bearer tokens the node makes, so that each is told apart at a
// glance and by secret scanners.
const (
	sessionPrefix = "hns_"
	tokenPrefix   = "hnt_"
)

// maxSessions bounds the sessions kept; past it, a new one ends the oldest.
const maxSessions = 10000

// tokenFlushEvery is how often the API tokens' last use is written to the store.
const tokenFlushEvery = time.Minute

// access holds the node's sessions and the API tokens' last use. It is safe for
// concurrent use.
type access struct {
	n *Node

	mu       sync.Mutex            // guards sessions and used
	sessions map[[32]byte]*session // SHA-256 of the session token -> session
	used     map[string]time.Time  // token ID -> last use not yet written
	lastUsed map[string]time.Time  // token ID -> last use known, written or not
}

type session struct {
	actor   Actor
	created time.Time
	last    time.Time // of the last request
}

func newAccess(n *Node) *access {
	return &access{n: n, sessions: map[[32]byte]*session{}, used: map[string]time.Time{}, lastUsed: map[string]time.Time{}}
}

// secret returns prefix and 32 random bytes, base64url.
func secret(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// NewSession starts a session for a at the node's time and returns its token and
// when it ends at the latest.
func (n *Node) NewSession(a Actor) (string, time.Time) {
	now := n.cfg.Now()
	tok := secret(sessionPrefix)
	x := n.access
	x.mu.Lock()
	defer x.mu.Unlock()
	var (
		oldest   [32]byte
		oldestAt time.Time
	)
	for k, s := range x.sessions {
		if n.sessionOver(s, now) {
			delete(x.sessions, k)
		} else if oldestAt.IsZero() || s.last.Before(oldestAt) {
			oldest, oldestAt = k, s.last
		}
	}
	if len(x.sessions) >= maxSessions {
		delete(x.sessions, oldest)
	}
	x.sessions[sha256.Sum256([]byte(tok))] = &session{actor: a, created: now, last: now}
	return tok, now.Add(n.cfg.SessionMax)
}

// sessionOver reports whether s has ended at now: idle too long, or too old.
func (n *Node) sessionOver(s *session, now time.Time) bool {
	return now.Sub(s.last) >= n.cfg.SessionIdle || now.Sub(s.created) >= n.cfg.SessionMax
}

// Session returns the actor of the session named by tok and counts this as a use of
// it, or false when there is no such session or it has ended.
func (n *Node) Session(tok string) (Actor, bool) {
	if !strings.HasPrefix(tok, sessionPrefix) {
		return Actor{}, false
	}
	now := n.cfg.Now()
	k := sha256.Sum256([]byte(tok)) // keyed by hash: a lookup's time tells nothing of the tokens
	x := n.access
	x.mu.Lock()
	defer x.mu.Unlock()
	s, ok := x.sessions[k]
	if !ok {
		return Actor{}, false
	}
	if n.sessionOver(s, now) {
		delete(x.sessions, k)
		return Actor{}, false
	}
	s.last = now
	return s.actor, true
}

// EndSession ends the session named by tok, if there is one.
func (n *Node) EndSession(tok string) {
	x := n.access
	x.mu.Lock()
	delete(x.sessions, sha256.Sum256([]byte(tok)))
	x.mu.Unlock()
}

// endSessionsOf ends every session of the person id, but the one named by keep.
func (n *Node) endSessionsOf(id, keep string) {
	kk := sha256.Sum256([]byte(keep))
	x := n.access
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, s := range x.sessions {
		if s.actor.Kind == ActorPerson && s.actor.ID == id && (keep == "" || k != kk) {
			delete(x.sessions, k)
		}
	}
}

// TokenActor returns the actor a bearer token stands for: the operator token, a
// session's token or an API token. An API token that was revoked or has expired is
// ErrTokenRevoked or ErrTokenExpired; anything else unknown, ErrUnknownToken.
func (n *Node) TokenActor(tok string) (Actor, error) {
	switch {
	case n.CheckToken(tok):
		return OperatorActor(), nil
	case strings.HasPrefix(tok, sessionPrefix):
		if a, ok := n.Session(tok); ok {
			return a, nil
		}
		return Actor{}, ErrUnknownToken
	case strings.HasPrefix(tok, tokenPrefix):
		return n.apiTokenActor(tok)
	}
	return Actor{}, ErrUnknownToken
}

// apiTokenActor returns the actor of an API token, and records its use.
func (n *Node) apiTokenActor(tok string) (Actor, error) {
	h := sha256.Sum256([]byte(tok))
	t, err := n.store.TokenByHash(h[:])
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Actor{}, ErrUnknownToken
	case err != nil:
		return Actor{}, err
	case !t.Revoked.IsZero():
		return Actor{}, ErrTokenRevoked
	}
	now := n.cfg.Now()
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return Actor{}, ErrTokenExpired
	}
	x := n.access
	x.mu.Lock()
	x.used[t.ID] = now
	x.lastUsed[t.ID] = now
	x.mu.Unlock()
	return Actor{Kind: ActorToken, ID: t.ID, Name: t.Name, Scopes: slices.Clone(t.Scopes)}, nil
}

// runAccess writes the tokens' last use every tokenFlushEvery, and once more when
// the node stops.
func (n *Node) runAccess() {
	t := time.NewTicker(tokenFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			n.flushTokenUse()
			return
		case <-t.C:
			n.flushTokenUse()
		}
	}
}

// flushTokenUse writes the last uses recorded since the last write, in one
// transaction.
func (n *Node) flushTokenUse() {
	x := n.access
	x.mu.Lock()
	used := x.used
	x.used = map[string]time.Time{}
	x.mu.Unlock()
	if err := n.store.TouchTokens(used); err != nil {
		n.log.Warn("record API tokens' last use", "err", err)
	}
}
