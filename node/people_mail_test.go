package node_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// linkCode finds the sign-in code in the text of a sign-in link's e-mail.
var linkCode = regexp.MustCompile(`(?m)^[^:\n]+: ([0-9a-f-]{36}\.\S+)\s*$`)

// waitLinkMail waits for the n-th e-mail to addr and returns it with the code it
// carries.
func waitLinkMail(t *testing.T, ms *mailServer, addr string, n int) (readMail, string) {
	t.Helper()
	var got []readMail
	nodetest.Eventually(t, 10*time.Second, func() error {
		if got = linkMailTo(t, ms, addr); len(got) < n {
			return fmt.Errorf("%d e-mails to %s, want %d", len(got), addr, n)
		}
		return nil
	})
	m := got[n-1]
	c := linkCode.FindStringSubmatch(m.Text)
	if c == nil {
		t.Fatalf("e-mail to %s carries no sign-in code:\n%s", addr, m.Text)
	}
	return m, c[1]
}

// TestSignInLink_emailed: with a mail server, the link the operator makes goes to
// the person, in their language, and not to the operator; a person who asks for a
// link gets one, and the answer is the same for an address nobody has, which gets
// no e-mail.
func TestSignInLink_emailed(t *testing.T) {
	ms := startMailServer(t, false, "PLAIN")
	h := oneHubWith(t, func(c *node.Config) {
		c.Notify.SMTP = smtpConfig(ms, "starttls")
		c.PublicURL = "https://hub.example.eu"
	})
	if !h.MailsSignInLinks() {
		t.Fatal("MailsSignInLinks false with a mail server")
	}
	l, err := h.AddPerson(api.PersonRequest{Name: "Aino Virtanen", Email: "aino@hub-1.example.eu", Role: api.RoleAdvisor, Language: "fi"})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Emailed || l.Code != "" || l.Link != "" || l.MailError != "" {
		t.Errorf("answer to the operator %+v, want emailed without the link", l)
	}
	m, code := waitLinkMail(t, ms, "aino@hub-1.example.eu", 1)
	if m.Language != "fi" || !strings.Contains(m.Subject, "Kirjautumislinkkisi") || !strings.Contains(m.Text, "https://hub.example.eu/login/link?code=") ||
		!strings.Contains(m.HTML, "Valitse salasana") {
		t.Errorf("e-mail %q in %q, want Finnish with the link:\n%s", m.Subject, m.Language, m.Text)
	}
	if _, _, _, err := h.UseSignInLink(code, testPassword, "192.0.2.1:1"); err != nil {
		t.Fatalf("the e-mailed code: %v", err)
	}

	// Asked for: an unknown address first, then Aino's, through the API.
	c, err := api.NewClient("http://"+h.HTTPAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := c.RequestSignInLink(t.Context(), "nobody@hub-1.example.eu")
	if err != nil {
		t.Fatalf("asked for an unknown address: %v", err)
	}
	known, err := c.RequestSignInLink(t.Context(), "AINO@hub-1.example.eu")
	if err != nil {
		t.Fatalf("asked for Aino: %v", err)
	}
	if unknown != known {
		t.Errorf("answers differ: %+v for nobody, %+v for Aino", unknown, known)
	}
	m, code = waitLinkMail(t, ms, "aino@hub-1.example.eu", 2)
	if m.Language != "fi" {
		t.Errorf("asked-for link in %q, want fi", m.Language)
	}
	if got := allMailTo(t, ms, "nobody@hub-1.example.eu"); len(got) != 0 {
		t.Errorf("%d e-mails to an address nobody has", len(got))
	}
	if _, _, _, err := h.UseSignInLink(code, "another good password", "192.0.2.1:1"); err != nil {
		t.Fatalf("the asked-for code: %v", err)
	}
	if _, _, _, err := h.SignIn("aino@hub-1.example.eu", "another good password", "192.0.2.1:1"); err != nil {
		t.Errorf("sign in with the password chosen: %v", err)
	}

	// The console's English for a person without a language; a bad address.
	if _, err := h.AddPerson(api.PersonRequest{Name: "Eve Example", Email: "eve@hub-1.example.eu", Role: api.RoleOperator}); err != nil {
		t.Fatal(err)
	}
	if m, _ := waitLinkMail(t, ms, "eve@hub-1.example.eu", 1); m.Language != "en" || !strings.Contains(m.Subject, "Your sign-in link to") {
		t.Errorf("e-mail %q in %q, want English", m.Subject, m.Language)
	}
	if status, msg := apiCall(t, h, "POST", "/v1/sessions/link", `{"email":"not an address"}`, ""); status != http.StatusBadRequest ||
		!strings.Contains(msg, "email") {
		t.Errorf("a bad address: %d %q, want 400 naming the field", status, msg)
	}
}

// TestSignInLink_askThrottled: asking for links is throttled per e-mail address,
// known or not alike, and per client address.
func TestSignInLink_askThrottled(t *testing.T) {
	ms := startMailServer(t, false, "PLAIN")
	h := oneHubWith(t, func(c *node.Config) {
		c.Notify.SMTP = smtpConfig(ms, "starttls")
		c.Limits = node.DefaultLimits()
	})
	if _, err := h.AddPerson(api.PersonRequest{Name: "Aino Virtanen", Email: "aino@hub-1.example.eu", Role: api.RoleAdvisor}); err != nil {
		t.Fatal(err)
	}
	// Per e-mail address, from a new client address each time: three, then wait.
	for _, addr := range []string{"aino@hub-1.example.eu", "nobody@hub-1.example.eu"} {
		for i := range 4 {
			err := h.RequestSignInLink(addr, fmt.Sprintf("192.0.2.%d:1000", 10*len(addr)%200+i))
			var we *node.WaitError
			switch {
			case i < 3 && err != nil:
				t.Errorf("%s, request %d: %v, want nil", addr, i+1, err)
			case i == 3 && (!errors.As(err, &we) || we.What != "link"):
				t.Errorf("%s, request 4: %v, want a wait for the e-mail address", addr, err)
			}
		}
	}
	// Per client address: six go through, as wrong passwords do, whatever they ask
	// for.
	for i := range 7 {
		err := h.RequestSignInLink(fmt.Sprintf("p%d@hub-1.example.eu", i), "198.51.100.7:2000")
		var we *node.WaitError
		switch {
		case i < 6 && err != nil:
			t.Errorf("request %d from one address: %v, want nil", i+1, err)
		case i == 6 && (!errors.As(err, &we) || we.What != "link-address"):
			t.Errorf("request 7 from one address: %v, want a wait for the address", err)
		}
	}
	status, msg := apiCall(t, h, "POST", "/v1/sessions/link", `{"email":"aino@hub-1.example.eu"}`, "")
	if status != http.StatusTooManyRequests || !strings.Contains(msg, "too many sign-in links") {
		t.Errorf("POST /v1/sessions/link for Aino: %d %q, want 429", status, msg)
	}
	// Aino got three links, the last of which works.
	_, code := waitLinkMail(t, ms, "aino@hub-1.example.eu", 4) // the first from AddPerson
	if _, _, _, err := h.UseSignInLink(code, testPassword, "192.0.2.1:1"); err != nil {
		t.Errorf("the last link asked for: %v", err)
	}
}

// TestSignInLink_noMail: without a mail server the operator gets the link, and a
// person cannot ask for one; when the mail server is down, the operator gets the
// link and why it was not sent.
func TestSignInLink_noMail(t *testing.T) {
	h := oneHubWith(t, func(c *node.Config) {})
	if h.MailsSignInLinks() {
		t.Error("MailsSignInLinks true without a mail server")
	}
	l, err := h.AddPerson(api.PersonRequest{Name: "Aino Virtanen", Email: "aino@hub-1.example.eu", Role: api.RoleAdvisor})
	if err != nil {
		t.Fatal(err)
	}
	if l.Emailed || l.Code == "" || l.Link == "" {
		t.Errorf("answer %+v, want the link for the operator", l)
	}
	if err := h.RequestSignInLink("aino@hub-1.example.eu", "192.0.2.1:1"); !errors.Is(err, node.ErrNoMail) {
		t.Errorf("asked for without a mail server: %v, want ErrNoMail", err)
	}
	if status, _ := apiCall(t, h, "POST", "/v1/sessions/link", `{"email":"aino@hub-1.example.eu"}`, ""); status != http.StatusConflict {
		t.Errorf("POST /v1/sessions/link without a mail server: %d, want 409", status)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens there now
	down := oneHubWith(t, func(c *node.Config) {
		c.Notify.SMTP = node.SMTPConfig{Host: "127.0.0.1", Port: addr.Port, TLS: "none", From: "hub@hub-1.example.eu"}
	})
	l, err = down.AddPerson(api.PersonRequest{Name: "Aino Virtanen", Email: "aino@hub-1.example.eu", Role: api.RoleAdvisor})
	if err != nil {
		t.Fatal(err)
	}
	if l.Emailed || l.Code == "" || !strings.Contains(l.MailError, "connect to mail server") {
		t.Errorf("answer %+v, want the link and the mail server's error", l)
	}
	if _, _, _, err := down.UseSignInLink(l.Code, testPassword, "192.0.2.1:1"); err != nil {
		t.Errorf("the link of a failed e-mail: %v", err)
	}
}
