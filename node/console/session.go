package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// Sign-in. A person signs in with their work e-mail address and password, or with a
// one-time sign-in link (people.go), which a hub with a mail server e-mails to a
// person who asks for it here (askLink); the hub's own machine may sign in with the
// operator token, as "operator". The session is the node's (node.Node.NewSession),
// named by a random cookie: it ends after the node's idle time or its absolute
// lifetime (node.Config.SessionIdle, SessionMax), at sign-out, and at a restart.
// Every form of a signed-in page carries a CSRF token, an HMAC of the session cookie
// under a key made at start, and the sign-in form a double-submit cookie; every POST
// is also checked by http.CrossOriginProtection.

// webSessions holds the console's CSRF key.
type webSessions struct {
	csrfKey []byte // HMAC key of CSRF tokens; read-only
}

func newWebSessions() *webSessions {
	return &webSessions{csrfKey: webRandom(32)}
}

func webRandom(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return b
}

// csrf returns the CSRF token of the session named by value.
func (s *webSessions) csrf(value string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether got is the CSRF token of the session named by value.
func (s *webSessions) checkCSRF(value, got string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(s.csrf(value)))
}

// sessionCookie and loginCookie name the console's cookies. They carry the hub ID:
// browsers do not keep cookies apart by port, and several hubs on one machine (the
// demo) would otherwise overwrite each other's.
func (c *Console) sessionCookie() string { return "hubnet_session_" + c.n.ID() }
func (c *Console) loginCookie() string   { return "hubnet_login_" + c.n.ID() }

// session returns the value of the request's session cookie and who it signs in,
// if it names a live session; it counts as a use of the session.
func (c *Console) session(r *http.Request) (string, node.Actor, bool) {
	ck, err := r.Cookie(c.sessionCookie())
	if err != nil || ck.Value == "" {
		return "", node.Actor{}, false
	}
	a, ok := c.n.Session(ck.Value)
	if !ok {
		return "", node.Actor{}, false
	}
	return ck.Value, a, true
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// webLogin is the data of the sign-in page.
type webLogin struct {
	Next  string
	CSRF  string // the double-submit token of the form
	Email string // as typed, after a wrong password
	Token bool   // open the operator token's form
	Error string
	Out   bool // just signed out
	// Mail says the hub e-mails sign-in links: the page offers one; Asked is the
	// answer to a link asked for.
	Mail  bool
	Asked string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, v *webView) {
	next := webNext(r.URL.Query().Get("next"))
	if v.session != "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, v, http.StatusOK, webLogin{Next: next, Out: r.URL.Query().Has("out")})
}

// renderLogin shows the sign-in form with a fresh double-submit token.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, v *webView, status int, d webLogin) {
	d.CSRF = base64.RawURLEncoding.EncodeToString(webRandom(24))
	d.Mail = c.n.MailsSignInLinks()
	c.setCookie(w, r, c.loginCookie(), d.CSRF, "/login", 3600)
	c.render(w, r, v, status, "login", v.lang.T("Sign in"), "login", d)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request, v *webView) {
	next := webNext(r.PostForm.Get("next"))
	ck, err := r.Cookie(c.loginCookie())
	got := r.PostForm.Get("csrf")
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(got)) != 1 {
		c.renderLogin(w, r, v, http.StatusForbidden, webLogin{Next: next,
			Error: v.lang.T("The sign-in form was out of date or cookies are blocked. Try again; the console needs cookies from this address.")})
		return
	}
	var (
		tok string
		exp time.Time
		a   node.Actor
	)
	if token := strings.TrimSpace(r.PostForm.Get("token")); token != "" || r.PostForm.Get("email") == "" {
		if wait := c.n.AuthWait(node.RefusedSignIn, r.RemoteAddr); wait > 0 {
			c.throttled(w, r, v, next, wait, v.lang.T("Too many wrong tries were sent from your address."))
			return
		}
		if !c.n.CheckToken(token) { // in constant time; an empty token matches nothing
			// Counted, logged at most once a second per address, and, after a few,
			// each further try waits longer (node.Limits).
			c.n.AuthFailed(node.RefusedSignIn, r.RemoteAddr)
			c.renderLogin(w, r, v, http.StatusUnauthorized, webLogin{Next: next, Token: true,
				Error: v.lang.T("That is not this hub's operator token. It is in the file %s of the hub's data directory.", node.TokenFile)})
			return
		}
		c.n.AuthOK(r.RemoteAddr)
		a = node.OperatorActor()
		tok, exp = c.n.NewSession(a)
	} else {
		email := strings.TrimSpace(r.PostForm.Get("email"))
		var err error
		tok, exp, a, err = c.n.SignIn(email, r.PostForm.Get("password"), r.RemoteAddr)
		var we *node.WaitError
		switch {
		case errors.As(err, &we):
			msg := v.lang.T("Too many wrong tries were sent from your address.")
			if we.What == "person" {
				msg = v.lang.T("Too many wrong passwords were tried for this person.")
			}
			c.throttled(w, r, v, next, we.Wait, msg)
			return
		case errors.Is(err, node.ErrSignIn):
			msg := v.lang.T("Wrong e-mail address or password. If you have forgotten your password, ask an operator of the hub for a sign-in link.")
			if c.n.MailsSignInLinks() {
				msg = v.lang.T("Wrong e-mail address or password. If you have forgotten your password, have a sign-in link e-mailed to you below.")
			}
			c.renderLogin(w, r, v, http.StatusUnauthorized, webLogin{Next: next, Email: email, Error: msg})
			return
		case err != nil:
			c.fail(w, r, v, http.StatusInternalServerError, "Signing in failed: "+err.Error())
			return
		}
	}
	c.startSession(w, r, v, tok, exp, a, next)
}

// askLink is POST /login/email: a person asks for a one-time sign-in link by
// e-mail. The page says the same whether or not anybody has the address; the node
// throttles the requests per client address and per e-mail address asked for.
func (c *Console) askLink(w http.ResponseWriter, r *http.Request, v *webView) {
	next := webNext(r.PostForm.Get("next"))
	ck, err := r.Cookie(c.loginCookie())
	got := r.PostForm.Get("csrf")
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(got)) != 1 {
		c.renderLogin(w, r, v, http.StatusForbidden, webLogin{Next: next,
			Error: v.lang.T("The sign-in form was out of date or cookies are blocked. Try again; the console needs cookies from this address.")})
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	err = c.n.RequestSignInLink(email, r.RemoteAddr)
	var (
		we *node.WaitError
		ve *protocol.ValidationError
	)
	switch {
	case errors.As(err, &we):
		msg := v.lang.T("Too many sign-in links were asked for from your address.")
		if we.What == "link" {
			msg = v.lang.T("Too many sign-in links were asked for this e-mail address.")
		}
		c.throttled(w, r, v, next, we.Wait, msg)
	case errors.Is(err, node.ErrNoMail):
		c.renderLogin(w, r, v, http.StatusConflict, webLogin{Next: next,
			Error: v.lang.T("This hub sends no e-mails, so it cannot e-mail you a sign-in link: ask an operator of the hub for one.")})
	case errors.As(err, &ve):
		c.renderLogin(w, r, v, http.StatusBadRequest, webLogin{Next: next, Email: email,
			Error: v.lang.T("Type your work e-mail address, such as aino@hub.example.eu, to have a sign-in link e-mailed to you.")})
	case err != nil:
		c.fail(w, r, v, http.StatusInternalServerError, "The sign-in link could not be asked for: "+err.Error())
	default:
		c.renderLogin(w, r, v, http.StatusOK, webLogin{Next: next, Email: email,
			Asked: v.lang.T("If %s is the address of a person at this hub, a sign-in link is on its way to it. Open it to choose your password; it works once.", email)})
	}
}

// startSession sets the cookie of a new session and sends the browser on to next.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, v *webView, tok string, exp time.Time, a node.Actor, next string) {
	if v.session != "" {
		c.n.EndSession(v.session)
	}
	c.setCookie(w, r, c.sessionCookie(), tok, "/", int(exp.Sub(c.n.Now()).Seconds()))
	c.setCookie(w, r, c.loginCookie(), "", "/login", -1)
	c.n.Logger().Info("console sign-in", "as", a.Kind, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// throttled answers a sign-in from an address, or for a person, that must wait
// after too many wrong tries: 429, with Retry-After, and nothing is checked.
func (c *Console) throttled(w http.ResponseWriter, r *http.Request, v *webView, next string, wait time.Duration, why string) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	c.renderLogin(w, r, v, http.StatusTooManyRequests, webLogin{Next: next,
		Error: why + " " + v.lang.T("Wait %d seconds, then try again.", secs)})
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, v *webView) {
	if v.session != "" {
		if !c.sessions.checkCSRF(v.session, r.PostForm.Get("csrf")) {
			c.fail(w, r, v, http.StatusForbidden, v.lang.T("Refused: the form's security token is missing or out of date. Reload the page and try again."))
			return
		}
		c.n.EndSession(v.session)
	}
	c.setCookie(w, r, c.sessionCookie(), "", "/", -1)
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}

// webNext returns next if it is a path on this site, else "/": a sign-in link must
// not send anyone elsewhere, nor back to the sign-in page.
func webNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") ||
		strings.HasPrefix(next, "/login") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
