package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Roles of a person at a hub, and the scopes of what may be done through the API.
// A person's role grants scopes: an advisor read, refer, act and report; an operator
// all five. The operator token has all five too.
const (
	RoleAdvisor  = "advisor"
	RoleOperator = "operator"

	ScopeRead   = "read"   // read referrals (GET /v1/referrals...)
	ScopeRefer  = "refer"  // send referrals (POST /v1/referrals)
	ScopeAct    = "act"    // act on referrals (POST /v1/referrals/{id}/{action})
	ScopeReport = "report" // read the KPI report (GET /v1/report)
	ScopeAdmin  = "admin"  // change the profile and capacity, people, tokens, admission and gossip keys
)

// Roles lists the roles of a person, and Scopes the scopes of the API, in the order
// forms list them. The store keeps the same lists (node checks that they agree).
var (
	Roles  = []string{RoleAdvisor, RoleOperator}
	Scopes = []string{ScopeRead, ScopeRefer, ScopeAct, ScopeReport, ScopeAdmin}
)

// CodeForbidden (403) is a request the credentials it came with may not make: an
// advisor changing the profile, a token without the scope the endpoint needs. The
// message names the role or the scope needed.
const CodeForbidden = "forbidden"

// Person is someone who signs in to the hub, as the API shows them: never their
// password or its hash.
type Person struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Role     string `json:"role"`               // advisor or operator
	Language string `json:"language,omitempty"` // BCP 47; empty: the hub's default
	// PasswordSet says whether the person has set a password; until then only a
	// sign-in link lets them in.
	PasswordSet bool `json:"password_set"`
	// LinkExpires is when the sign-in link waiting to be used stops working.
	LinkExpires time.Time `json:"link_expires,omitzero"`
	Created     time.Time `json:"created"`
}

// PersonRequest is the body of POST /v1/people.
type PersonRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Role     string `json:"role"`
	Language string `json:"language,omitempty"`
}

// SignInLink is a one-time sign-in link for a person, the answer of POST /v1/people
// and POST /v1/people/{person}/reset: what an e-mail to the person carries. Opening
// Link lets the person choose a password and signs them in; Code is the same secret
// for the console's sign-in page. Both work once, until Expires.
//
// When the hub has a mail server, the link is e-mailed to the person, in their
// language, and the answer says so with Emailed and carries neither Link nor Code:
// only the person sees them. When the e-mail could not be sent, MailError says why
// and the answer carries the link, for the operator to pass on.
type SignInLink struct {
	Person    Person    `json:"person"`
	Link      string    `json:"link,omitempty"`
	Code      string    `json:"code,omitempty"`
	Expires   time.Time `json:"expires"`
	Emailed   bool      `json:"emailed,omitempty"`
	MailError string    `json:"mail_error,omitempty"`
}

// Token is an API token as the API shows it: never the token itself, which is shown
// once, when it is made.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires,omitzero"`   // zero: never
	LastUsed  time.Time `json:"last_used,omitzero"` // to the minute; zero: never used
	Revoked   time.Time `json:"revoked,omitzero"`
	// State is active, expired or revoked.
	State string `json:"state"`
}

// TokenRequest is the body of POST /v1/tokens.
type TokenRequest struct {
	Name    string    `json:"name"`
	Scopes  []string  `json:"scopes"`
	Expires time.Time `json:"expires,omitzero"` // zero: never
}

// NewToken is the answer of POST /v1/tokens: the token, shown this once, and what is
// kept of it.
type NewToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// SessionRequest is the body of POST /v1/sessions: a person's sign-in.
type SessionRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LinkRequest is the body of POST /v1/sessions/link: a person who asks for a
// one-time sign-in link by e-mail.
type LinkRequest struct {
	Email string `json:"email"`
}

// LinkRequested is the answer of POST /v1/sessions/link. It is the same whether
// or not a person has the address, so that nobody learns who does.
type LinkRequested struct {
	Message string `json:"message"`
}

// Session is a signed-in person's session: Token goes in "Authorization: Bearer"
// as any token does. It ends after it is unused for the hub's idle time, at
// Expires at the latest, and at DELETE /v1/sessions/current.
type Session struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	Me      Me        `json:"me"`
}

// Me is who a request is made as: GET /v1/me.
type Me struct {
	// Kind is person, operator-token or api-token.
	Kind   string   `json:"kind"`
	Name   string   `json:"name"` // a person's name, "operator", or a token's name
	Email  string   `json:"email,omitempty"`
	Role   string   `json:"role,omitempty"` // of a person, and operator for the operator token
	Scopes []string `json:"scopes"`
}

// Contacts are the contact persons of a referral at the two hubs, as far as known:
// Own at this hub, Partner at the other.
type Contacts struct {
	Own     *protocol.PersonContact `json:"own,omitempty"`
	Partner *protocol.PersonContact `json:"partner,omitempty"`
}

// People lists the people who sign in to the hub: GET /v1/people (scope admin).
func (c *Client) People(ctx context.Context) ([]Person, error) {
	var list []Person
	return list, c.get(ctx, "/v1/people", nil, true, &list)
}

// AddPerson adds a person and returns their first sign-in link: POST /v1/people
// (scope admin).
func (c *Client) AddPerson(ctx context.Context, req PersonRequest) (SignInLink, error) {
	var l SignInLink
	return l, c.send(ctx, http.MethodPost, "/v1/people", req, &l)
}

// RemovePerson removes the person whose ID or e-mail address is ref and ends their
// sessions: DELETE /v1/people/{person} (scope admin).
func (c *Client) RemovePerson(ctx context.Context, ref string) (Person, error) {
	var p Person
	return p, c.send(ctx, http.MethodDelete, "/v1/people/"+url.PathEscape(ref), nil, &p)
}

// ResetPerson makes a new one-time sign-in link for the person whose ID or e-mail
// address is ref, in place of any earlier one: POST /v1/people/{person}/reset
// (scope admin).
func (c *Client) ResetPerson(ctx context.Context, ref string) (SignInLink, error) {
	var l SignInLink
	return l, c.send(ctx, http.MethodPost, "/v1/people/"+url.PathEscape(ref)+"/reset", nil, &l)
}

// Tokens lists the API tokens, revoked ones too: GET /v1/tokens (scope admin).
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var list []Token
	return list, c.get(ctx, "/v1/tokens", nil, true, &list)
}

// AddToken makes an API token: POST /v1/tokens (scope admin). The answer holds the
// token, which nobody can read again.
func (c *Client) AddToken(ctx context.Context, req TokenRequest) (NewToken, error) {
	var t NewToken
	return t, c.send(ctx, http.MethodPost, "/v1/tokens", req, &t)
}

// RevokeToken revokes the token whose ID or name is ref: DELETE /v1/tokens/{token}
// (scope admin).
func (c *Client) RevokeToken(ctx context.Context, ref string) (Token, error) {
	var t Token
	return t, c.send(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(ref), nil, &t)
}

// SignIn signs a person in with their e-mail address and password: POST
// /v1/sessions. Use the session's token in a new Client.
func (c *Client) SignIn(ctx context.Context, email, password string) (Session, error) {
	var s Session
	_, err := c.do(ctx, http.MethodPost, "/v1/sessions", nil, SessionRequest{Email: email, Password: password}, false, &s)
	return s, err
}

// RequestSignInLink asks the hub to e-mail a one-time sign-in link to the person
// whose work e-mail address is email, if there is one: POST /v1/sessions/link,
// without a token. It needs the hub to have a mail server, and is throttled like
// SignIn.
func (c *Client) RequestSignInLink(ctx context.Context, email string) (LinkRequested, error) {
	var out LinkRequested
	_, err := c.do(ctx, http.MethodPost, "/v1/sessions/link", nil, LinkRequest{Email: email}, false, &out)
	return out, err
}

// SignOut ends the session the client's token names: DELETE /v1/sessions/current.
func (c *Client) SignOut(ctx context.Context) error {
	return c.send(ctx, http.MethodDelete, "/v1/sessions/current", nil, nil)
}

// Me returns who the client's token makes requests as: GET /v1/me.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var m Me
	return m, c.get(ctx, "/v1/me", nil, true, &m)
}
