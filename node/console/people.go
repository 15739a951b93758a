package console

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The pages of people and API tokens, for operators, and the page of a one-time
// sign-in link, where a person chooses a password. When the hub has a mail server,
// a link made on the people page is e-mailed to the person and not shown.

func (c *Console) peopleRoutes(mux router) {
	mux.Handle("GET /login/link", c.handle(webOpen, c.linkPage))
	mux.Handle("POST /login/link", c.handle(webOpen, c.useLink))
	mux.Handle("GET /people", c.handle(webOperator, c.people))
	mux.Handle("POST /people", c.handle(webOperator, c.addPerson))
	mux.Handle("POST /people/{id}/remove", c.handle(webOperator, c.removePerson))
	mux.Handle("POST /people/{id}/reset", c.handle(webOperator, c.resetPerson))
	mux.Handle("GET /tokens", c.handle(webOperator, c.tokens))
	mux.Handle("POST /tokens", c.handle(webOperator, c.addToken))
	mux.Handle("POST /tokens/{id}/revoke", c.handle(webOperator, c.revokeToken))
}

// webLink is the data of the sign-in link page.
type webLink struct {
	Code  string
	CSRF  string // the double-submit token of the form
	Error string
	Min   int
}

func (c *Console) linkPage(w http.ResponseWriter, r *http.Request, v *webView) {
	c.renderLink(w, r, v, http.StatusOK, webLink{Code: r.URL.Query().Get("code")})
}

func (c *Console) renderLink(w http.ResponseWriter, r *http.Request, v *webView, status int, d webLink) {
	d.CSRF = webToken()
	d.Min = node.MinPasswordLen
	c.setCookie(w, r, c.loginCookie(), d.CSRF, "/login", 3600)
	c.render(w, r, v, status, "link", v.lang.T("Choose your password"), "login", d)
}

func webToken() string {
	return base64.RawURLEncoding.EncodeToString(webRandom(24))
}

// useLink takes a sign-in code and a new password: opening the link does nothing,
// so that a mail scanner that follows links does not use it up.
func (c *Console) useLink(w http.ResponseWriter, r *http.Request, v *webView) {
	code := strings.TrimSpace(r.PostForm.Get("code"))
	ck, err := r.Cookie(c.loginCookie())
	got := r.PostForm.Get("csrf")
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(got)) != 1 {
		c.renderLink(w, r, v, http.StatusForbidden, webLink{Code: code,
			Error: v.lang.T("The form was out of date or cookies are blocked. Try again; the console needs cookies from this address.")})
		return
	}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("password2") {
		c.renderLink(w, r, v, http.StatusBadRequest, webLink{Code: code, Error: v.lang.T("The two passwords differ. Type the same password twice.")})
		return
	}
	tok, exp, a, err := c.n.UseSignInLink(code, pw, r.RemoteAddr)
	var (
		we *node.WaitError
		ve *protocol.ValidationError
	)
	switch {
	case errors.As(err, &we):
		c.throttled(w, r, v, "/", we.Wait, v.lang.T("Too many wrong tries were sent from your address."))
		return
	case errors.As(err, &ve):
		c.renderLink(w, r, v, http.StatusBadRequest, webLink{Code: code, Error: "Your password " + ve.Problems[0].Rule + "."})
		return
	case errors.Is(err, node.ErrSignInLink):
		c.renderLink(w, r, v, http.StatusUnauthorized, webLink{Error: v.lang.T("This sign-in link or code is wrong, used already or expired. Ask an operator of the hub for a new one.")})
		return
	case err != nil:
		c.fail(w, r, v, http.StatusInternalServerError, "Your password could not be set: "+err.Error())
		return
	}
	c.startSession(w, r, v, tok, exp, a, "/referrals")
}

// webPeople is the data of the people page.
type webPeople struct {
	People  []api.Person
	Roles   []string
	Link    *api.SignInLink // just made: shown this once
	Notice  string
	Error   string
	Form    api.PersonRequest
	Removed string
}

func (c *Console) people(w http.ResponseWriter, r *http.Request, v *webView) {
	c.renderPeople(w, r, v, http.StatusOK, webPeople{Form: api.PersonRequest{Role: api.RoleAdvisor}})
}

func (c *Console) renderPeople(w http.ResponseWriter, r *http.Request, v *webView, status int, d webPeople) {
	list, err := c.n.People()
	if err != nil {
		c.fail(w, r, v, http.StatusInternalServerError, "The people could not be read: "+err.Error())
		return
	}
	d.People, d.Roles = list, api.Roles
	c.render(w, r, v, status, "people", v.lang.T("People"), "people", d)
}

func (c *Console) addPerson(w http.ResponseWriter, r *http.Request, v *webView) {
	req := api.PersonRequest{Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Role: r.PostForm.Get("role"),
		Language: r.PostForm.Get("language")}
	l, err := c.n.AddPerson(req)
	if err != nil {
		c.renderPeople(w, r, v, statusOf(err), webPeople{Form: req, Error: problemText(err)})
		return
	}
	d := webPeople{Link: &l, Form: api.PersonRequest{Role: api.RoleAdvisor},
		Notice: v.lang.T("%s was added. Send them this sign-in link; it works once, until %s.", l.Person.Name, v.lang.DateTime(l.Expires))}
	if l.Emailed {
		d.Link, d.Notice = nil, v.lang.T("%s was added, and their sign-in link e-mailed to them; it works once, until %s.", l.Person.Name, v.lang.DateTime(l.Expires))
	}
	c.renderPeople(w, r, v, http.StatusOK, linkMailError(v, l, d))
}

// linkMailError adds to d, the page after a sign-in link was made, why the link
// could not be e-mailed, if it could not.
func linkMailError(v *webView, l api.SignInLink, d webPeople) webPeople {
	if l.MailError != "" {
		d.Error = v.lang.T("The sign-in link could not be e-mailed (%s): send it to them yourself.", l.MailError)
	}
	return d
}

func (c *Console) resetPerson(w http.ResponseWriter, r *http.Request, v *webView) {
	l, err := c.n.ResetPerson(r.PathValue("id"))
	if err != nil {
		c.renderPeople(w, r, v, statusOf(err), webPeople{Error: problemText(err), Form: api.PersonRequest{Role: api.RoleAdvisor}})
		return
	}
	d := webPeople{Link: &l, Form: api.PersonRequest{Role: api.RoleAdvisor},
		Notice: v.lang.T("A new sign-in link for %s: it works once, until %s. Their password works until they choose a new one.", l.Person.Name, v.lang.DateTime(l.Expires))}
	if l.Emailed {
		d.Link, d.Notice = nil, v.lang.T("A new sign-in link was e-mailed to %s: it works once, until %s. Their password works until they choose a new one.", l.Person.Name, v.lang.DateTime(l.Expires))
	}
	c.renderPeople(w, r, v, http.StatusOK, linkMailError(v, l, d))
}

func (c *Console) removePerson(w http.ResponseWriter, r *http.Request, v *webView) {
	if v.actor.Kind == node.ActorPerson && v.actor.ID == r.PathValue("id") {
		c.renderPeople(w, r, v, http.StatusConflict, webPeople{Error: v.lang.T("You cannot remove yourself: ask another operator."), Form: api.PersonRequest{Role: api.RoleAdvisor}})
		return
	}
	p, err := c.n.RemovePerson(r.PathValue("id"))
	if err != nil {
		c.renderPeople(w, r, v, statusOf(err), webPeople{Error: problemText(err), Form: api.PersonRequest{Role: api.RoleAdvisor}})
		return
	}
	c.renderPeople(w, r, v, http.StatusOK, webPeople{Notice: v.lang.T("%s (%s) was removed and signed out.", p.Name, p.Email), Form: api.PersonRequest{Role: api.RoleAdvisor}})
}

// webTokens is the data of the API tokens page.
type webTokens struct {
	Tokens []api.Token
	Scopes []string
	New    *api.NewToken // just made: shown this once
	Notice string
	Error  string
	Form   api.TokenRequest
	Now    time.Time
}

func (c *Console) tokens(w http.ResponseWriter, r *http.Request, v *webView) {
	c.renderTokens(w, r, v, http.StatusOK, webTokens{})
}

func (c *Console) renderTokens(w http.ResponseWriter, r *http.Request, v *webView, status int, d webTokens) {
	list, err := c.n.Tokens()
	if err != nil {
		c.fail(w, r, v, http.StatusInternalServerError, "The tokens could not be read: "+err.Error())
		return
	}
	d.Tokens, d.Scopes, d.Now = list, api.Scopes, c.n.Now()
	c.render(w, r, v, status, "tokens", v.lang.T("API tokens"), "tokens", d)
}

func (c *Console) addToken(w http.ResponseWriter, r *http.Request, v *webView) {
	req := api.TokenRequest{Name: r.PostForm.Get("name"), Scopes: r.PostForm["scope"]}
	if s := strings.TrimSpace(r.PostForm.Get("expires")); s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			c.renderTokens(w, r, v, http.StatusBadRequest, webTokens{Form: req, Error: "expires: must be a date such as 2027-06-30, or empty for a token that does not expire"})
			return
		}
		req.Expires = t
	}
	t, err := c.n.AddToken(v.actor, req)
	if err != nil {
		c.renderTokens(w, r, v, statusOf(err), webTokens{Form: req, Error: problemText(err)})
		return
	}
	c.renderTokens(w, r, v, http.StatusOK, webTokens{New: &t,
		Notice: v.lang.T("The token %s was made. Copy it now: it is shown this once, and the hub keeps only its hash.", t.Token.Name)})
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, v *webView) {
	t, err := c.n.RevokeToken(r.PathValue("id"))
	if err != nil {
		c.renderTokens(w, r, v, statusOf(err), webTokens{Error: problemText(err)})
		return
	}
	c.renderTokens(w, r, v, http.StatusOK, webTokens{Notice: v.lang.T("The token %s was revoked: it works no more.", t.Name)})
}

// statusOf is the status of a page that shows err.
func statusOf(err error) int {
	var ve *protocol.ValidationError
	switch {
	case errors.As(err, &ve):
		return http.StatusBadRequest
	case errors.Is(err, protocol.ErrNotFound):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// problemText says err for a page: each field problem as "field: rule".
func problemText(err error) string {
	var ve *protocol.ValidationError
	if errors.As(err, &ve) {
		var parts []string
		for _, p := range ve.Problems {
			parts = append(parts, p.Field+": "+p.Rule)
		}
		return strings.Join(parts, "; ")
	}
	if errors.Is(err, protocol.ErrNotFound) {
		return "Not found: it may have been removed meanwhile."
	}
	return err.Error()
}
