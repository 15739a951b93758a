package nodetest

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/hubnet-eu/hubnet/node"
)

// MailServer is a real SMTP server on 127.0.0.1 (github.com/emersion/go-smtp)
// without TLS or AUTH, as a relay on the hub's own machine is. It keeps every
// message it takes. The node's own tests of STARTTLS, implicit TLS and AUTH have a
// server of their own.
type MailServer struct {
	Addr string

	mu   sync.Mutex // guards msgs
	msgs []Mail
}

// Mail is a message the server took.
type Mail struct {
	To       string // the To header
	Subject  string // decoded
	Language string // Content-Language
	Text     string // the text/plain part, decoded
	HTML     string // the text/html part, decoded
}

// StartMailServer starts a mail server, stopped when the test ends.
func StartMailServer(t testing.TB) *MailServer {
	t.Helper()
	m := &MailServer{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	s.Domain = "127.0.0.1"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.Addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return m
}

// SMTP returns the configuration that points a node at the server.
func (m *MailServer) SMTP() node.SMTPConfig {
	host, port, _ := net.SplitHostPort(m.Addr)
	p, _ := strconv.Atoi(port)
	return node.SMTPConfig{Host: host, Port: p, TLS: "none", From: "hubnet@hub.example.eu"}
}

// To returns the messages to addr taken so far, oldest first.
func (m *MailServer) To(addr string) []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Mail
	for _, msg := range m.msgs {
		if strings.EqualFold(msg.To, addr) {
			out = append(out, msg)
		}
	}
	return out
}

// Wait waits up to 10 seconds for the n-th message to addr and returns it.
func (m *MailServer) Wait(t testing.TB, addr string, n int) Mail {
	t.Helper()
	var got []Mail
	Eventually(t, 10*time.Second, func() error {
		if got = m.To(addr); len(got) < n {
			return fmt.Errorf("%d e-mails to %s, want %d", len(got), addr, n)
		}
		return nil
	})
	return got[n-1]
}

type mailSession struct{ m *MailServer }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }

func (s *mailSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	out := Mail{To: msg.Header.Get("To"), Subject: subject, Language: msg.Header.Get("Content-Language")}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return fmt.Errorf("Content-Type %q: want multipart", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for range 10 {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return err
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			out.Text = string(b)
		case "text/html":
			out.HTML = string(b)
		}
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, out)
	s.m.mu.Unlock()
	return nil
}
