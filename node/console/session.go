package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hubnet-eu/hubnet/node"
)

// Sign-in. The operator signs in with the node's token; the console then keeps a
// session in memory, named by a random cookie, for webSessionTTL. Sessions live in this
// process only, so a restart (the only way the token changes) ends them all. Every
// form of a signed-in page carries a CSRF token, an HMAC of the session cookie under
// a key made at start, and the sign-in form a double-submit cookie; every POST is
// also checked by http.CrossOriginProtection.

// webSessionTTL is how long a session lasts after sign-in.
const webSessionTTL = 12 * time.Hour

// webMaxSessions bounds the sessions kept; past it, signing in ends the oldest.
const webMaxSessions = 1000

// webSessions holds the live sessions of one console.
type webSessions struct {
	csrfKey []byte // HMAC key of CSRF tokens; read-only

	mu      sync.Mutex             // guards expires
	expires map[[32]byte]time.Time // SHA-256 of the cookie value -> end of the session
}

func newWebSessions() *webSessions {
	return &webSessions{csrfKey: webRandom(32), expires: map[[32]byte]time.Time{}}
}

func webRandom(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return b
}

// create starts a session at now and returns its cookie value.
func (s *webSessions) create(now time.Time) string {
	value := base64.RawURLEncoding.EncodeToString(webRandom(32))
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest [32]byte
	var oldestAt time.Time
	for k, exp := range s.expires {
		if !exp.After(now) {
			delete(s.expires, k)
		} else if oldestAt.IsZero() || exp.Before(oldestAt) {
			oldest, oldestAt = k, exp
		}
	}
	if len(s.expires) >= webMaxSessions {
		delete(s.expires, oldest)
	}
	s.expires[sha256.Sum256([]byte(value))] = now.Add(webSessionTTL)
	return value
}

// valid reports whether value names a session alive at now.
func (s *webSessions) valid(value string, now time.Time) bool {
	k := sha256.Sum256([]byte(value)) // the map is keyed by hash: lookups leak nothing about values
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.expires[k]
	if ok && !exp.After(now) {
		delete(s.expires, k)
		return false
	}
	return ok
}

// end ends the session named by value.
func (s *webSessions) end(value string) {
	s.mu.Lock()
	delete(s.expires, sha256.Sum256([]byte(value)))
	s.mu.Unlock()
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

// session returns the value of the request's session cookie if it names a live
// session.
func (c *Console) session(r *http.Request) (string, bool) {
	ck, err := r.Cookie(c.sessionCookie())
	if err != nil || ck.Value == "" {
		return "", false
	}
	if !c.sessions.valid(ck.Value, c.n.Now()) {
		return "", false
	}
	return ck.Value, true
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// webLogin is the data of the sign-in page.
type webLogin struct {
	Next  string
	Token string // the double-submit token of the form
	Error string
	Out   bool // just signed out
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
	d.Token = base64.RawURLEncoding.EncodeToString(webRandom(24))
	c.setCookie(w, r, c.loginCookie(), d.Token, "/login", 3600)
	c.render(w, r, v, status, "login", "Sign in", "login", d)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request, v *webView) {
	next := webNext(r.PostForm.Get("next"))
	ck, err := r.Cookie(c.loginCookie())
	got := r.PostForm.Get("csrf")
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(got)) != 1 {
		c.renderLogin(w, r, v, http.StatusForbidden, webLogin{Next: next,
			Error: "The sign-in form was out of date or cookies are blocked. Try again; the console needs cookies from this address."})
		return
	}
	if wait := c.n.AuthWait(node.RefusedSignIn, r.RemoteAddr); wait > 0 {
		c.throttled(w, r, v, next, wait)
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if !c.n.CheckToken(token) { // in constant time; an empty token matches nothing
		// Counted, logged at most once a second per address, and, after a few,
		// each further try waits longer (node.Limits).
		c.n.AuthFailed(node.RefusedSignIn, r.RemoteAddr)
		c.renderLogin(w, r, v, http.StatusUnauthorized, webLogin{Next: next,
			Error: "That is not this hub's operator token. It is in the file " + node.TokenFile + " of the hub's data directory."})
		return
	}
	c.n.AuthOK(r.RemoteAddr)
	if v.session != "" {
		c.sessions.end(v.session)
	}
	c.setCookie(w, r, c.sessionCookie(), c.sessions.create(c.n.Now()), "/", int(webSessionTTL.Seconds()))
	c.setCookie(w, r, c.loginCookie(), "", "/login", -1)
	c.n.Logger().Info("console sign-in", "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// throttled answers a sign-in from an address that sent too many wrong tokens: 429,
// with Retry-After, and the token is not checked.
func (c *Console) throttled(w http.ResponseWriter, r *http.Request, v *webView, next string, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	c.renderLogin(w, r, v, http.StatusTooManyRequests, webLogin{Next: next,
		Error: fmt.Sprintf("Too many wrong tokens were sent from your address. Wait %d seconds, then try again.", secs)})
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, v *webView) {
	if v.session != "" {
		if !c.sessions.checkCSRF(v.session, r.PostForm.Get("csrf")) {
			c.fail(w, r, v, http.StatusForbidden, "Refused: the form's security token is missing or out of date. Reload the page and try again.")
			return
		}
		c.sessions.end(v.session)
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
