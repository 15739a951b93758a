package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/store"
)

// mailer sends e-mails through the SMTP server of NotifyConfig.SMTP, one
// connection per e-mail: notifications are few, and a connection kept open would
// need watching.
type mailer struct {
	cfg     SMTPConfig
	timeout time.Duration
}

// sendMails renders each delivery's event, from events, in its language and sends them all in one
// SMTP session; it returns each one's error, nil for those the server took.
func (q *notifier) sendMails(ctx context.Context, ds []store.Delivery, events map[uint64]store.Event) []error {
	errs := make([]error, len(ds))
	if q.mail == nil {
		for i := range errs {
			errs[i] = errGiveUp{errors.New("no SMTP server is configured (hubnet run --smtp-host)")}
		}
		return errs
	}
	type msg struct {
		i    int
		to   string
		data []byte
	}
	var msgs []msg
	for i, d := range ds {
		ev, ok := events[d.Event]
		if !ok {
			errs[i] = errGiveUp{fmt.Errorf("event %d: %w", d.Event, store.ErrNotFound)}
			continue
		}
		data, err := renderMail(d.Language, q.n.apiEvent(ev)).encode(q.mail.cfg.From, d.Target, d.ID, q.n.cfg.Now())
		if err != nil {
			errs[i] = errGiveUp{err}
			continue
		}
		msgs = append(msgs, msg{i, d.Target, data})
	}
	if len(msgs) == 0 {
		return errs
	}
	c, err := q.mail.open(ctx)
	if err != nil {
		for _, m := range msgs {
			errs[m.i] = err
		}
		return errs
	}
	defer c.Close()
	for _, m := range msgs {
		if err := q.mail.send(c, m.to, m.data); err != nil {
			errs[m.i] = err
			if c.Reset() != nil { // the session is lost: the rest fail too, and are tried again
				for _, rest := range msgs {
					if rest.i > m.i {
						errs[rest.i] = err
					}
				}
				return errs
			}
		}
	}
	c.Quit()
	return errs
}

// open connects to the mail server, encrypts the connection as configured and signs
// in. The connection's deadline is NotifyConfig.Timeout from now.
func (m *mailer) open(ctx context.Context) (*smtp.Client, error) {
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	deadline := time.Now().Add(m.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dialer := &net.Dialer{Deadline: deadline}
	tlsCfg := &tls.Config{ServerName: m.cfg.Host, RootCAs: m.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	var (
		conn net.Conn
		err  error
	)
	if m.cfg.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to mail server %s: %w", addr, err)
	}
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("mail server %s: %w", addr, err)
	}
	if m.cfg.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			c.Close()
			return nil, errGiveUp{fmt.Errorf("mail server %s does not offer STARTTLS; set the TLS mode to tls or none", addr)}
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			c.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	}
	if m.cfg.Username != "" {
		_, mechs := c.Extension("AUTH")
		var auth smtp.Auth
		switch list := strings.Fields(strings.ToUpper(mechs)); {
		case slices.Contains(list, "PLAIN"):
			auth = smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)
		case slices.Contains(list, "LOGIN"):
			auth = &loginAuth{user: m.cfg.Username, pass: m.cfg.Password}
		default:
			c.Close()
			return nil, errGiveUp{fmt.Errorf("mail server %s offers no AUTH PLAIN or LOGIN (it offers %q)", addr, mechs)}
		}
		if err := c.Auth(auth); err != nil {
			c.Close()
			return nil, fmt.Errorf("sign in to mail server %s as %s: %w", addr, m.cfg.Username, err)
		}
	}
	return c, nil
}

// send sends the message data to the address to in the session c.
func (m *mailer) send(c *smtp.Client, to string, data []byte) error {
	from, err := mail.ParseAddress(m.cfg.From)
	if err != nil {
		return errGiveUp{fmt.Errorf("sender address: %w", err)}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("MAIL FROM %s: %w", from.Address, err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO %s: %w", to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("send message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("send message: %w", err)
	}
	return nil
}

// loginAuth is AUTH LOGIN, which net/smtp lacks: the user name, then the password,
// each when the server asks. Like net/smtp's PLAIN it is refused on a connection
// that is not encrypted, except to this machine.
type loginAuth struct{ user, pass string }

func (a *loginAuth) Start(s *smtp.ServerInfo) (string, []byte, error) {
	if !s.TLS && s.Name != "localhost" && s.Name != "127.0.0.1" && s.Name != "::1" {
		return "", nil, errors.New("unencrypted connection: AUTH LOGIN refused")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(from []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch q := strings.ToLower(strings.TrimSpace(string(from))); {
	case strings.HasPrefix(q, "user"):
		return []byte(a.user), nil
	case strings.HasPrefix(q, "pass"):
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("AUTH LOGIN: unexpected question %q", from)
}

// message is an e-mail's content, in one language.
type message struct {
	Lang    string
	Subject string
	Text    string
	HTML    string
}

// encode returns the message as sent: headers and a multipart/alternative body, text
// then HTML, each quoted-printable.
func (m message) encode(from, to, id string, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	boundary := make([]byte, 12)
	rand.Read(boundary)
	bound := "hubnet-" + hex.EncodeToString(boundary)
	host := "hubnet"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, h, ok := strings.Cut(a.Address, "@"); ok {
			host = h
		}
	}
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from)
	hdr("To", to)
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", at.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+id+"."+strconv.FormatInt(at.UnixNano(), 36)+"@"+host+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Language", m.Lang)
	hdr("Auto-Submitted", "auto-generated")
	hdr("Content-Type", `multipart/alternative; boundary="`+bound+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", bound, part.typ)
		qp := quotedprintable.NewWriter(&b)
		if _, err := qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", bound)
	return b.Bytes(), nil
}
