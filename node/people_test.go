package node_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// manualClock is a clock the test moves.
type manualClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// oneHubWith starts one hub with a changed configuration.
func oneHubWith(t *testing.T, change func(c *node.Config)) *nodetest.Hub {
	t.Helper()
	dir := t.TempDir()
	p := nodetest.Profile("hub-1")
	nodetest.Init(t, dir, nodetest.Network(t), "hub-1", &p)
	cfg := nodetest.Config(dir)
	change(&cfg)
	return nodetest.StartConfig(t, cfg)
}

const testPassword = "correct horse battery staple"

// mustPerson adds a person to h with role and has them choose testPassword with
// their sign-in link; it returns the person's session token from the API.
func mustPerson(t *testing.T, h *nodetest.Hub, name, email, role string) string {
	t.Helper()
	l, err := h.AddPerson(api.PersonRequest{Name: name, Email: email, Role: role})
	if err != nil {
		t.Fatalf("add %s: %v", email, err)
	}
	if !strings.HasPrefix(l.Link, "http://"+h.HTTPAddr()+"/login/link?code=") {
		t.Errorf("sign-in link %q, want one to the console's /login/link", l.Link)
	}
	if _, _, _, err := h.UseSignInLink(l.Code, testPassword, "127.0.0.1:1"); err != nil {
		t.Fatalf("use the sign-in link of %s: %v", email, err)
	}
	c, err := api.NewClient("http://"+h.HTTPAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.SignIn(t.Context(), email, testPassword)
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	if s.Me.Name != name || s.Me.Role != role || s.Me.Kind != node.ActorPerson {
		t.Errorf("signed in as %+v, want %s, %s", s.Me, name, role)
	}
	return s.Token
}

// apiCall makes one request to h's API with the bearer token tok (none when empty) and
// returns the status and the error message, if any.
func apiCall(t *testing.T, h *nodetest.Hub, method, path, body, tok string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+h.HTTPAddr()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e api.ErrorResponse
	json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error.Message
}

// TestAPI_roles runs every endpoint that needs a token as each kind of actor: what
// the role or scope allows gets through (whatever the answer then), what it does not
// is refused with 403 naming the role or scope.
func TestAPI_roles(t *testing.T) {
	h := oneHubWith(t, func(c *node.Config) { c.Limits = node.NoLimits() })
	opTok, err := node.ReadToken(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	operator := mustPerson(t, h, "Olli Operator", "olli@hub-1.example.eu", api.RoleOperator)
	advisor := mustPerson(t, h, "Aino Advisor", "aino@hub-1.example.eu", api.RoleAdvisor)
	mkToken := func(name string, scopes ...string) string {
		nt, err := h.AddToken(node.OperatorActor(), api.TokenRequest{Name: name, Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return nt.Secret
	}
	readTok := mkToken("reader", api.ScopeRead)
	adminTok := mkToken("admin", api.ScopeAdmin)

	actors := []struct {
		name   string
		tok    string
		scopes []string
	}{
		{"operator token", opTok, []string{"read", "refer", "act", "report", "admin"}},
		{"operator", operator, []string{"read", "refer", "act", "report", "admin"}},
		{"advisor", advisor, []string{"read", "refer", "act", "report"}},
		{"read token", readTok, []string{"read"}},
		{"admin token", adminTok, []string{"admin"}},
	}
	capBody := `{"available":3,"maximum":5,"unit":"SMEs per month"}`
	routes := []struct {
		method, path, body, scope string
	}{
		{"GET", "/v1/referrals", "", "read"},
		{"GET", "/v1/referrals/0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37", "", "read"},
		{"POST", "/v1/referrals", `{"to":"hub-9"}`, "refer"},
		{"POST", "/v1/referrals/0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37/accept", "", "act"},
		{"GET", "/v1/report?from=2026-01-01&to=2026-02-01", "", "report"},
		{"PUT", "/v1/self/capacity/test-before-invest", capBody, "admin"},
		{"PUT", "/v1/self/profile", `{}`, "admin"},
		{"GET", "/v1/people", "", "admin"},
		{"POST", "/v1/people", `{"name":"X","email":"bad","role":"advisor"}`, "admin"},
		{"POST", "/v1/people/nobody@hub-1.example.eu/reset", "", "admin"},
		{"DELETE", "/v1/people/nobody@hub-1.example.eu", "", "admin"},
		{"GET", "/v1/tokens", "", "admin"},
		{"POST", "/v1/tokens", `{"name":"x","scopes":["nope"]}`, "admin"},
		{"DELETE", "/v1/tokens/nothing", "", "admin"},
		{"GET", "/v1/gossip-keys", "", "admin"},
		{"POST", "/v1/revocations", `{}`, "admin"},
		{"GET", "/v1/events?after=0", "", "read"},
		{"GET", "/v1/webhooks", "", "admin"},
		{"POST", "/v1/webhooks", `{"url":"ftp://x"}`, "admin"},
		{"DELETE", "/v1/webhooks/nothing", "", "admin"},
		{"GET", "/v1/deliveries", "", "admin"},
		{"POST", "/v1/deliveries/0000000000000001/redeliver", "", "admin"},
		{"GET", "/v1/notifications/recipients", "", "admin"},
		{"PUT", "/v1/notifications/recipients", `[]`, "admin"},
		{"GET", "/v1/me/notifications", "", "read"},
	}
	for _, rt := range routes {
		for _, a := range actors {
			t.Run(a.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				status, msg := apiCall(t, h, rt.method, rt.path, rt.body, a.tok)
				allowed := false
				for _, s := range a.scopes {
					allowed = allowed || s == rt.scope
				}
				switch {
				case allowed && (status == http.StatusForbidden || status == http.StatusUnauthorized):
					t.Errorf("got %d %q, want it let through", status, msg)
				case !allowed && status != http.StatusForbidden:
					t.Errorf("got %d %q, want 403", status, msg)
				case !allowed && a.name == "advisor" && !strings.Contains(msg, "for the hub's operators; you (Aino Advisor) are an advisor"):
					t.Errorf("message %q, want it to name the role", msg)
				case !allowed && strings.HasSuffix(a.name, "token") && !strings.Contains(msg, "needs the scope "+rt.scope):
					t.Errorf("message %q, want it to name the scope %s", msg, rt.scope)
				}
			})
		}
		if status, _ := apiCall(t, h, rt.method, rt.path, rt.body, ""); status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", rt.method, rt.path, status)
		}
	}
	// Who each is.
	for _, a := range actors {
		c, _ := api.NewClient("http://"+h.HTTPAddr(), a.tok)
		me, err := c.Me(t.Context())
		if err != nil || len(me.Scopes) != len(a.scopes) {
			t.Errorf("%s: GET /v1/me = %+v, %v; want scopes %v", a.name, me, err, a.scopes)
		}
	}
}

// TestSession_expires signs a person in and moves the clock: a session lasts while it
// is used within the idle time, and ends after it, or at its absolute end.
func TestSession_expires(t *testing.T) {
	clock := &manualClock{t: time.Now()}
	h := oneHubWith(t, func(c *node.Config) {
		c.Now = clock.Now
		c.SessionIdle = time.Hour
		c.SessionMax = 3 * time.Hour
	})
	tok := mustPerson(t, h, "Aino Advisor", "aino@hub-1.example.eu", api.RoleAdvisor)
	ok := func(when string, want int) {
		t.Helper()
		if status, msg := apiCall(t, h, "GET", "/v1/referrals", "", tok); status != want {
			t.Errorf("%s: GET /v1/referrals %d %q, want %d", when, status, msg, want)
		}
	}
	ok("at sign-in", http.StatusOK)
	clock.Add(59 * time.Minute)
	ok("59 minutes idle", http.StatusOK)
	clock.Add(59 * time.Minute)
	ok("59 more minutes idle", http.StatusOK)
	clock.Add(59 * time.Minute)
	ok("2 h 57 min after sign-in", http.StatusOK)
	clock.Add(4 * time.Minute)
	ok("3 h 1 min after sign-in, used within the hour", http.StatusUnauthorized)

	tok = mustPerson(t, h, "Eero Advisor", "eero@hub-1.example.eu", api.RoleAdvisor)
	ok("a new session", http.StatusOK)
	clock.Add(time.Hour)
	ok("an hour idle", http.StatusUnauthorized)

	// Sign-out ends a session at once.
	tok = mustPerson(t, h, "Kaisa Advisor", "kaisa@hub-1.example.eu", api.RoleAdvisor)
	c, _ := api.NewClient("http://"+h.HTTPAddr(), tok)
	if err := c.SignOut(t.Context()); err != nil {
		t.Fatal(err)
	}
	ok("after sign-out", http.StatusUnauthorized)
}

// TestSignIn_throttled checks that wrong passwords make the address and the person
// wait, each on its own.
func TestSignIn_throttled(t *testing.T) {
	h := oneHubWith(t, func(c *node.Config) {
		c.Limits.AuthFreeFailures = 3
		c.Limits.AuthBackoff = time.Minute
		c.Limits.AuthBackoffMax = time.Hour
	})
	mustPerson(t, h, "Aino Advisor", "aino@hub-1.example.eu", api.RoleAdvisor)
	mustPerson(t, h, "Eero Advisor", "eero@hub-1.example.eu", api.RoleAdvisor)

	// Per person: wrong passwords for Aino from four addresses.
	for i := range 4 {
		_, _, _, err := h.SignIn("aino@hub-1.example.eu", "wrong password "+fmt.Sprint(i), fmt.Sprintf("192.0.2.%d:1000", i+1))
		if !errors.Is(err, node.ErrSignIn) && i < 3 {
			t.Fatalf("try %d: %v, want ErrSignIn", i, err)
		}
	}
	_, _, _, err := h.SignIn("AINO@hub-1.example.eu", testPassword, "192.0.2.50:1000")
	var we *node.WaitError
	if !errors.As(err, &we) || we.What != "person" {
		t.Errorf("the right password for Aino after 4 wrong ones: %v, want a wait for the person", err)
	}
	if _, _, _, err := h.SignIn("eero@hub-1.example.eu", testPassword, "192.0.2.50:1000"); err != nil {
		t.Errorf("Eero from the same address: %v, want signed in", err)
	}

	// Per address: wrong passwords for several people from one address.
	for i := range 4 {
		h.SignIn(fmt.Sprintf("nobody%d@hub-1.example.eu", i), "wrong password", "198.51.100.7:2000")
	}
	_, _, _, err = h.SignIn("eero@hub-1.example.eu", testPassword, "198.51.100.7:2000")
	if !errors.As(err, &we) || we.What != "address" {
		t.Errorf("Eero from an address that tried 4 wrong passwords: %v, want a wait for the address", err)
	}

	// Through the API: 429 with Retry-After.
	status, msg := apiCall(t, h, "POST", "/v1/sessions", `{"email":"aino@hub-1.example.eu","password":"`+testPassword+`"}`, "")
	if status != http.StatusTooManyRequests || !strings.Contains(msg, "too many wrong passwords for this person") {
		t.Errorf("POST /v1/sessions for Aino: %d %q, want 429 naming the person", status, msg)
	}
}

// TestSignInLink_once checks a sign-in link: it works once, and not after it
// expires; a reset makes the earlier link useless.
func TestSignInLink_once(t *testing.T) {
	clock := &manualClock{t: time.Now()}
	h := oneHubWith(t, func(c *node.Config) { c.Now = clock.Now; c.SignInLinkTTL = 24 * time.Hour })
	l, err := h.AddPerson(api.PersonRequest{Name: "Aino Advisor", Email: "aino@hub-1.example.eu", Role: api.RoleAdvisor})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := h.UseSignInLink(l.Code, "short", "192.0.2.1:1"); err == nil || !strings.Contains(err.Error(), "at least 12 characters") {
		t.Errorf("a short password: %v, want refused naming the rule", err)
	}
	if _, _, _, err := h.SignIn("aino@hub-1.example.eu", "", "192.0.2.1:1"); !errors.Is(err, node.ErrSignIn) {
		t.Errorf("sign-in before a password is set: %v, want ErrSignIn", err)
	}
	if _, _, _, err := h.UseSignInLink(l.Code, testPassword, "192.0.2.1:1"); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, _, _, err := h.UseSignInLink(l.Code, testPassword+"!", "192.0.2.1:1"); !errors.Is(err, node.ErrSignInLink) {
		t.Errorf("second use: %v, want ErrSignInLink", err)
	}
	r1, err := h.ResetPerson("aino@hub-1.example.eu")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.ResetPerson("aino@hub-1.example.eu")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := h.UseSignInLink(r1.Code, "another good password", "192.0.2.1:1"); !errors.Is(err, node.ErrSignInLink) {
		t.Errorf("a link replaced by a reset: %v, want ErrSignInLink", err)
	}
	if _, _, _, err := h.SignIn("aino@hub-1.example.eu", testPassword, "192.0.2.1:1"); err != nil {
		t.Errorf("the old password after a reset not yet used: %v", err)
	}
	clock.Add(25 * time.Hour)
	if _, _, _, err := h.UseSignInLink(r2.Code, "another good password", "192.0.2.1:1"); !errors.Is(err, node.ErrSignInLink) {
		t.Errorf("an expired link: %v, want ErrSignInLink", err)
	}
	// Removing a person ends their sessions.
	tok, _, _, err := h.SignIn("aino@hub-1.example.eu", testPassword, "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.RemovePerson("aino@hub-1.example.eu"); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Session(tok); ok {
		t.Error("the session of a removed person still works")
	}
}

// TestTokens_scopesExpiryRevocation uses API tokens as an integration would.
func TestTokens_scopesExpiryRevocation(t *testing.T) {
	clock := &manualClock{t: time.Now()}
	h := oneHubWith(t, func(c *node.Config) { c.Now = clock.Now; c.Limits = node.NoLimits() })
	opTok, _ := node.ReadToken(h.Dir)
	op, _ := api.NewClient("http://"+h.HTTPAddr(), opTok)
	nt, err := op.AddToken(t.Context(), api.TokenRequest{Name: "crm", Scopes: []string{"read", "act"}, Expires: clock.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nt.Secret, "hnt_") || nt.Token.CreatedBy != "operator" || nt.Token.State != "active" {
		t.Errorf("new token %+v", nt)
	}
	if status, msg := apiCall(t, h, "GET", "/v1/referrals", "", nt.Secret); status != http.StatusOK {
		t.Errorf("read with scope read: %d %q", status, msg)
	}
	if status, msg := apiCall(t, h, "GET", "/v1/report?from=2026-01-01&to=2026-02-01", "", nt.Secret); status != http.StatusForbidden ||
		!strings.Contains(msg, "needs the scope report; the token crm has read, act") {
		t.Errorf("report without the scope: %d %q", status, msg)
	}
	list, err := op.Tokens(t.Context())
	if err != nil || len(list) != 1 || list[0].LastUsed.IsZero() {
		t.Errorf("tokens after a use: %+v, %v; want its last use", list, err)
	}
	// Only the hash is kept: the listing and the store never show the token.
	if raw, _ := json.Marshal(list); strings.Contains(string(raw), nt.Secret) {
		t.Error("the token's list shows the token")
	}
	clock.Add(49 * time.Hour)
	if status, msg := apiCall(t, h, "GET", "/v1/referrals", "", nt.Secret); status != http.StatusUnauthorized || !strings.Contains(msg, "expired") {
		t.Errorf("an expired token: %d %q, want 401 saying it expired", status, msg)
	}
	nt2, err := op.AddToken(t.Context(), api.TokenRequest{Name: "crm2", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.RevokeToken(t.Context(), "crm2"); err != nil {
		t.Fatal(err)
	}
	if status, msg := apiCall(t, h, "GET", "/v1/referrals", "", nt2.Secret); status != http.StatusUnauthorized || !strings.Contains(msg, "revoked") {
		t.Errorf("a revoked token: %d %q, want 401 saying it was revoked", status, msg)
	}
	_, err = op.AddToken(t.Context(), api.TokenRequest{Name: "bad", Scopes: []string{"write"}})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 400 || len(ae.Problems) != 1 || ae.Problems[0].Field != "scopes.0" {
		t.Errorf("a token with an unknown scope: %v, want 400 naming scopes.0", err)
	}
	// The last use reaches the store when the node stops, and is read back.
	h.Kill()
	h2 := h.Restart()
	list, err = h2.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		if k.Name == "crm" && (k.LastUsed.IsZero() || k.State != "expired") {
			t.Errorf("after a restart crm is %+v, want its last use and expired", k)
		}
	}
}

// TestReferral_persons sends a referral between advisors at two hubs through the
// API: each hub's history names the persons at both, and each knows the other's
// contact person.
func TestReferral_persons(t *testing.T) {
	a, b := twoHubs(t)
	aTok := mustPerson(t, a, "Aino Virtanen", "aino@hub-1.example.eu", api.RoleAdvisor)
	bTok := mustPerson(t, b, "Bruno Rossi", "bruno@hub-2.example.eu", api.RoleAdvisor)
	ac, _ := api.NewClient("http://"+a.HTTPAddr(), aTok)
	bc, _ := api.NewClient("http://"+b.HTTPAddr(), bTok)
	sent, err := ac.Refer(t.Context(), referralTo("hub-2"))
	if err != nil {
		t.Fatal(err)
	}
	id := sent.Referral.ID
	nodetest.WaitState(t, b, id, protocol.StateReceived)
	if _, err := bc.Act(t.Context(), id, protocol.EventAccept, api.ReferralAction{Note: "We call the SME this week"}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, id, protocol.StateAccepted)
	for _, h := range []*nodetest.Hub{a, b} {
		info, err := h.Referral(id)
		if err != nil {
			t.Fatal(err)
		}
		persons := map[protocol.Event]string{}
		for _, c := range info.Referral.History {
			persons[c.Event] = c.Person
		}
		if persons[protocol.EventSend] != "Aino Virtanen" || persons[protocol.EventAccept] != "Bruno Rossi" {
			t.Errorf("%s: history names %v, want send by Aino Virtanen and accept by Bruno Rossi", h.ID(), persons)
		}
		own, partner := "aino@hub-1.example.eu", "bruno@hub-2.example.eu"
		if h == b {
			own, partner = partner, own
		}
		c := info.Contacts
		if c == nil || c.Own == nil || c.Partner == nil || c.Own.Email != own || c.Partner.Email != partner {
			t.Errorf("%s: contacts %+v, want own %s and partner %s", h.ID(), c, own, partner)
		}
	}
}

// The roles and scopes the API shows are those the store keeps: a scope added to one
// list and not the other would be refused where people are offered it.
func TestPeople_rolesAndScopesAgree(t *testing.T) {
	if !slices.Equal(api.Roles, store.Roles) {
		t.Errorf("api.Roles %v, store.Roles %v", api.Roles, store.Roles)
	}
	if !slices.Equal(api.Scopes, store.Scopes) {
		t.Errorf("api.Scopes %v, store.Scopes %v", api.Scopes, store.Scopes)
	}
}
