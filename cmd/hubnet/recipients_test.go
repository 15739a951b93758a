package main

import (
	"io"
	"mime"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// plainMailServer is an SMTP server on 127.0.0.1 without TLS or AUTH, as a relay on
// the hub's own machine is, that keeps every message it takes.
type plainMailServer struct {
	addr string
	mu   sync.Mutex // guards msgs
	msgs []*mail.Message
}

func startPlainMailServer(t *testing.T) *plainMailServer {
	t.Helper()
	m := &plainMailServer{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &plainSession{m: m}, nil }))
	s.Domain = "127.0.0.1"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return m
}

// config points a node at the server.
func (m *plainMailServer) config() node.SMTPConfig {
	host, port, _ := net.SplitHostPort(m.addr)
	p, _ := strconv.Atoi(port)
	return node.SMTPConfig{Host: host, Port: p, TLS: "none", From: "hubnet@robo-hub.example.eu"}
}

// to returns the messages to addr.
func (m *plainMailServer) to(addr string) []*mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*mail.Message
	for _, msg := range m.msgs {
		if strings.EqualFold(msg.Header.Get("To"), addr) {
			out = append(out, msg)
		}
	}
	return out
}

type plainSession struct{ m *plainMailServer }

func (s *plainSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *plainSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *plainSession) Reset()                               {}
func (s *plainSession) Logout() error                        { return nil }
func (s *plainSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, msg)
	s.m.mu.Unlock()
	return nil
}

// The operator lists, adds, changes and removes the hub's recipients with the
// command line; a recipient gets the e-mail of a referral received, in its language.
func TestCLI_recipients(t *testing.T) {
	ms := startPlainMailServer(t)
	adv, rcv := startReferralHubsWith(t, func(c *node.Config) { c.Notify.SMTP = ms.config() })
	if r := rcv.must(t, "recipients", "list"); !strings.Contains(r.stdout, "No recipients") {
		t.Errorf("recipients list of none: %q", r.stdout)
	}
	if r := rcv.must(t, "recipients", "add", "team@robo-hub.example.eu", "--language", "de"); r.stdout !=
		"recipient team@robo-hub.example.eu (de), topics received,decision,hold,deadline,expiry\n" {
		t.Errorf("recipients add printed %q", r.stdout)
	}
	rcv.must(t, "recipients", "add", "kpi@robo-hub.example.eu", "--topics", "decision")
	rcv.must(t, "recipients", "add", "KPI@robo-hub.example.eu", "--topics", "decision,expiry")
	r := rcv.must(t, "recipients", "list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "team@robo-hub.example.eu") || !strings.Contains(lines[1], "de") ||
		!strings.Contains(lines[2], "KPI@robo-hub.example.eu") || !strings.Contains(lines[2], "decision,expiry") {
		t.Errorf("recipients list, want team and the changed kpi:\n%s", r.stdout)
	}
	if r := rcv.run(t, "recipients", "add", "not-an-address"); r.code != exitInvalid || !strings.Contains(r.stderr, "recipients.2.email") {
		t.Errorf("recipients add of no address: %d %q, want exit %d naming the field", r.code, r.stderr, exitInvalid)
	}
	if r := rcv.run(t, "recipients", "add", "x@robo-hub.example.eu", "--topics", "directory"); r.code != exitInvalid || !strings.Contains(r.stderr, "topics") {
		t.Errorf("recipients add with the topic directory: %d %q, want refused naming topics", r.code, r.stderr)
	}
	if r := rcv.run(t, "recipients", "remove", "nobody@robo-hub.example.eu"); r.code == 0 || !strings.Contains(r.stderr, "not a recipient") {
		t.Errorf("recipients remove of no recipient: %d %q", r.code, r.stderr)
	}
	if r := rcv.must(t, "recipients", "remove", "kpi@robo-hub.example.eu"); r.stdout != "removed recipient kpi@robo-hub.example.eu\n" {
		t.Errorf("recipients remove printed %q", r.stdout)
	}
	list, err := rcv.Recipients()
	if err != nil || len(list) != 1 || list[0].Email != "team@robo-hub.example.eu" {
		t.Fatalf("recipients after remove: %+v, %v; want only team", list, err)
	}

	if _, err := adv.Refer(hookReferral(rcv.ID())); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 15*time.Second, func() error {
		if len(ms.to("team@robo-hub.example.eu")) == 0 {
			return io.ErrNoProgress
		}
		return nil
	})
	m := ms.to("team@robo-hub.example.eu")[0]
	if m.Header.Get("Content-Language") != "de" {
		t.Errorf("the team's e-mail in %q, want de", m.Header.Get("Content-Language"))
	}
}

// With a mail server, 'hubnet users add' and 'reset' e-mail the sign-in link to the
// person and do not print it.
func TestCLI_usersLinkMailed(t *testing.T) {
	ms := startPlainMailServer(t)
	_, rcv := startReferralHubsWith(t, func(c *node.Config) { c.Notify.SMTP = ms.config() })
	r := rcv.must(t, "users", "add", "aino@robo-hub.example.eu", "--name", "Aino Virtanen", "--language", "fi")
	if !strings.Contains(r.stdout, "sign-in link e-mailed to aino@robo-hub.example.eu") || strings.Contains(r.stdout, "code:") {
		t.Errorf("users add printed %q, want the link e-mailed and not printed", r.stdout)
	}
	r = rcv.must(t, "users", "reset", "aino@robo-hub.example.eu")
	if !strings.Contains(r.stdout, "e-mailed") || strings.Contains(r.stdout, "/login/link") {
		t.Errorf("users reset printed %q", r.stdout)
	}
	got := ms.to("aino@robo-hub.example.eu")
	if len(got) != 2 {
		t.Fatalf("%d e-mails to Aino, want 2", len(got))
	}
	var dec mime.WordDecoder
	if s, err := dec.DecodeHeader(got[0].Header.Get("Subject")); err != nil || !strings.Contains(s, "Kirjautumislinkkisi") {
		t.Errorf("subject %q (%v), want Finnish", s, err)
	}
}
