package node_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// A real SMTP server on 127.0.0.1 for the tests of e-mail notifications
// (github.com/emersion/go-smtp): STARTTLS or implicit TLS with a certificate made
// for the test, AUTH PLAIN and LOGIN for one account, and every message it takes
// kept for the test to read.

const (
	smtpUser     = "hubnet@hub-2.example.eu"
	smtpPassword = "mail secret"
)

// mailServer is the test's SMTP server.
type mailServer struct {
	Addr  string
	Roots *x509.CertPool // trusts the server's certificate

	mechs []string // AUTH mechanisms offered

	mu   sync.Mutex // guards msgs and auth
	msgs []sentMail
	auth []string // mechanisms used, one per sign-in
}

// sentMail is a message as the server took it.
type sentMail struct {
	From string
	To   []string
	Data []byte
}

// startMailServer starts an SMTP server, implicit TLS when implicit, STARTTLS
// otherwise, offering the AUTH mechanisms mechs.
func startMailServer(t testing.TB, implicit bool, mechs ...string) *mailServer {
	t.Helper()
	cert, roots := testCert(t)
	m := &mailServer{Roots: roots, mechs: mechs}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	s.Domain = "127.0.0.1"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, s.TLSConfig)
	}
	m.Addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return m
}

// Mails returns the messages taken so far.
func (m *mailServer) Mails() []sentMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sentMail(nil), m.msgs...)
}

type mailSession struct {
	m      *mailServer
	authed bool
	from   string
	to     []string
}

func (s *mailSession) AuthMechanisms() []string { return s.m.mechs }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != smtpUser || pass != smtpPassword {
			return errors.New("wrong user or password")
		}
		s.authed = true
		s.m.mu.Lock()
		s.m.auth = append(s.m.auth, mech)
		s.m.mu.Unlock()
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, errors.New("unknown mechanism")
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, sentMail{From: s.from, To: s.to, Data: b})
	s.m.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl does not have.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if resp != nil { // an initial response: the user name
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(resp)
		l.step++
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that trusts it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}

// readMail is an e-mail taken apart as its reader's program would.
type readMail struct {
	To, Subject, Language string
	MessageID             string
	Text, HTML            string
	Parts                 []string // content types of the parts
}

// parseMail reads the multipart message data.
func parseMail(t *testing.T, data []byte) readMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	out := readMail{To: msg.Header.Get("To"), Subject: subject, Language: msg.Header.Get("Content-Language"),
		MessageID: msg.Header.Get("Message-ID")}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for range 10 {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out.Parts = append(out.Parts, ct)
		var r io.Reader = p // multipart decodes quoted-printable itself, and drops the header
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("part %s: %v", ct, err)
		}
		switch ct {
		case "text/plain":
			out.Text = string(b)
		case "text/html":
			out.HTML = string(b)
		}
	}
	return out
}

// mailTo returns the notifications mailed to addr.
func mailTo(t *testing.T, m *mailServer, addr string) []readMail {
	t.Helper()
	var out []readMail
	for _, r := range allMailTo(t, m, addr) {
		if !strings.HasPrefix(r.MessageID, "<link-") {
			out = append(out, r)
		}
	}
	return out
}

// linkMailTo returns the sign-in links mailed to addr.
func linkMailTo(t *testing.T, m *mailServer, addr string) []readMail {
	t.Helper()
	var out []readMail
	for _, r := range allMailTo(t, m, addr) {
		if strings.HasPrefix(r.MessageID, "<link-") {
			out = append(out, r)
		}
	}
	return out
}

// allMailTo returns the mails to addr.
func allMailTo(t *testing.T, m *mailServer, addr string) []readMail {
	t.Helper()
	var out []readMail
	for _, s := range m.Mails() {
		for _, to := range s.To {
			if strings.EqualFold(to, addr) {
				out = append(out, parseMail(t, s.Data))
			}
		}
	}
	return out
}
