package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Sign-in links by e-mail. When the hub has a mail server (NotifyConfig.SMTP), the
// one-time sign-in link the operator makes (AddPerson, ResetPerson) goes to the
// person by e-mail, in their language, and the operator's answer does not carry it:
// only the person sees it. Without a mail server, or when the mail server refuses,
// the answer carries the link for the operator to pass on.
//
// A person may also ask for a link themselves, on the console's sign-in page or
// with POST /v1/sessions/link (RequestSignInLink). The answer is the same whether
// or not anybody has the address, and the link is made and sent in the background
// (runLinks), so that neither the answer nor its time tells who has an account.
// Every request counts against the address it came from as a wrong password does
// (Limits.AuthFreeFailures, AuthBackoff, AuthBackoffMax: with the defaults the
// seventh waits a second), and against the e-mail address asked for:
// linkMailsFree, then waits from linkMailsWait doubling to linkMailsWaitMax, so
// that nobody can fill a person's mailbox. An asked-for link
// replaces any earlier one; the person's password works until they choose another.

// Throttle of sign-in links asked for one e-mail address: linkMailsFree go out,
// then the next must wait linkMailsWait, each further one twice as long.
const (
	linkMailsFree    = 3
	linkMailsWait    = time.Minute
	linkMailsWaitMax = time.Hour
)

// linkMailQueue bounds the asked-for links waiting to be made and sent; a request
// past it is dropped and logged.
const linkMailQueue = 16

// ErrNoMail is returned by RequestSignInLink when the hub has no mail server. It
// matches ErrNotAllowed.
var ErrNoMail = fmt.Errorf("this hub has no mail server, so it cannot e-mail sign-in links: ask an operator of the hub for one: %w", ErrNotAllowed)

// LinkRequestedMessage is the answer to a sign-in link asked for, whoever has the
// address.
const LinkRequestedMessage = "if a person at this hub has this e-mail address, a sign-in link is on its way to it"

// MailsSignInLinks reports whether the hub e-mails sign-in links: whether it has a
// mail server.
func (n *Node) MailsSignInLinks() bool { return n.notify.mail != nil }

// deliverLink e-mails the new sign-in link l to its person when the hub has a mail
// server, and returns the answer for the operator: without the link once it is
// sent, with it and the mail server's error otherwise.
func (n *Node) deliverLink(l api.SignInLink) api.SignInLink {
	if n.notify.mail == nil {
		return l
	}
	if err := n.mailLink(l); err != nil {
		n.log.Warn("sign-in link not e-mailed", "person", l.Person.ID, "err", err)
		l.MailError = err.Error()
		return l
	}
	n.log.Info("sign-in link e-mailed", "person", l.Person.ID)
	l.Emailed, l.Link, l.Code = true, "", ""
	return l
}

// mailLink sends the e-mail of the sign-in link l to its person, in one SMTP
// session bounded by NotifyConfig.Timeout.
func (n *Node) mailLink(l api.SignInLink) error {
	m := n.notify.mail
	ctx := n.ctx
	if ctx == nil { // not started: no sign-in link is made then, but be safe
		ctx = context.Background()
	}
	data, err := renderLinkMail(l.Person.Language, n.hubName(), l).encode(m.cfg.From, l.Person.Email, "link-"+l.Person.ID, n.cfg.Now())
	if err != nil {
		return fmt.Errorf("write the e-mail: %w", err)
	}
	c, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := m.send(c, l.Person.Email, data); err != nil {
		return err
	}
	c.Quit()
	return nil
}

// hubName is the hub's name as its profile gives it, or its ID.
func (n *Node) hubName() string {
	if p, err := n.Profile(); err == nil && p.Name != "" {
		return p.Name
	}
	return n.id.ID
}

// RequestSignInLink asks for a one-time sign-in link to be e-mailed to the person
// whose work e-mail address is email, from the client at remote. It returns nil
// whether or not a person has that address, and the e-mail, if any, goes out after;
// ErrNoMail without a mail server; a *WaitError (What "link-address" or "link")
// while the address, or the e-mail address asked for, must wait; a
// *protocol.ValidationError for something that is no e-mail address.
func (n *Node) RequestSignInLink(email, remote string) error {
	if n.notify.mail == nil {
		return ErrNoMail
	}
	key := strings.ToLower(strings.TrimSpace(email))
	if !protocol.ValidEmail(key) {
		return fieldError("sign-in link request", "email", "must be a work e-mail address such as aino@hub.example.eu")
	}
	ip, now := remoteIP(remote), time.Now()
	if b := n.limits.linkAddrs; b != nil {
		if d := b.wait(ip, now); d > 0 {
			n.refusals.refuse(RefusedSignIn, "link-backoff", ip, slog.LevelWarn, "sign-in link asked for while waiting", "retry_after", retryAfter(d))
			return &WaitError{Wait: d, What: "link-address"}
		}
	}
	if b := n.limits.linkPersons; b != nil {
		if d := b.wait(key, now); d > 0 {
			n.refusals.refuse(RefusedSignIn, "link-person-backoff", ip, slog.LevelWarn, "sign-in link asked for a person while waiting", "retry_after", retryAfter(d))
			return &WaitError{Wait: d, What: "link"}
		}
	}
	// Every request counts, for an address somebody has or not.
	if b := n.limits.linkAddrs; b != nil {
		b.fail(ip, now)
	}
	if b := n.limits.linkPersons; b != nil {
		b.fail(key, now)
	}
	select {
	case n.notify.links <- key:
	default:
		n.log.Warn("sign-in link request dropped: too many wait to be sent", "remote", ip)
	}
	return nil
}

// runLinks makes and e-mails the sign-in links asked for, one at a time, until the
// node stops.
func (q *notifier) runLinks() {
	for {
		select {
		case <-q.n.ctx.Done():
			return
		case key := <-q.links:
			q.n.mailAskedLink(key)
		}
	}
}

// mailAskedLink makes a new sign-in link for the person whose e-mail address is key,
// if there is one, and e-mails it.
func (n *Node) mailAskedLink(key string) {
	p, err := n.store.Person(key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(p.Email, key)) {
		n.log.Info("sign-in link asked for an address nobody at the hub has")
		return
	}
	if err != nil {
		n.log.Error("read person for a sign-in link", "err", err)
		return
	}
	l, err := n.ResetPerson(p.ID)
	if err != nil {
		n.log.Error("make an asked-for sign-in link", "person", p.ID, "err", err)
		return
	}
	if !l.Emailed {
		n.log.Warn("asked-for sign-in link not e-mailed", "person", p.ID, "err", l.MailError)
	}
}
