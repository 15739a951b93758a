package node

import (
	"crypto/x509"
	"fmt"
	"net/mail"
	"time"
)

// NotifyConfig says how the node sends the notifications of referral and directory
// events: e-mails over SMTP and webhook calls (see notify.go). The zero value means
// the defaults: no e-mail, and webhooks tried with the retry defaults below.
type NotifyConfig struct {
	// SMTP is the mail server e-mails go through. An empty Host means no e-mails:
	// none is queued.
	SMTP SMTPConfig

	// AllowHTTPWebhooks lets the operator register http:// webhook URLs, which carry
	// the events unencrypted: for tests on loopback only. Default false: https only.
	AllowHTTPWebhooks bool

	// RetryMin is the wait after a first failed attempt; each further failure doubles
	// it, up to RetryMax. Defaults 30 seconds and 1 hour.
	RetryMin time.Duration
	RetryMax time.Duration
	// Attempts is how many attempts a notification gets before it is given up and
	// logged as failed. Default 12 (about 5 hours with the default waits).
	Attempts int
	// Timeout bounds one attempt: the SMTP conversation, or the webhook's answer.
	// Default 10 seconds.
	Timeout time.Duration
	// Workers is how many webhook calls are made at once; the e-mails of a batch go
	// one after the other through one SMTP session. Default 4.
	Workers int
	// Delay is how long the node waits after a change before it sends its
	// notifications, so that those of a burst of changes go out together, in one
	// SMTP session and with one write to the disk. Default 500 milliseconds.
	Delay time.Duration
	// CheckEvery is how often, at most, the node looks for referrals whose deadline
	// is within 24 hours. The look rides on the pass that enforces deadlines, which
	// runs every half DecisionGrace, between 100 milliseconds and 10 seconds.
	// Default 1 minute.
	CheckEvery time.Duration
	// Keep is how long events stay in the change feed and ended deliveries in the
	// delivery log. Default 90 days.
	Keep time.Duration
}

// SMTPConfig is a mail server and the account e-mails are sent from.
type SMTPConfig struct {
	// Host and Port of the server, such as smtp.example.eu and 587. Port 0 means 465
	// with TLS "tls", 587 otherwise.
	Host string
	Port int
	// TLS is how the connection is encrypted: "starttls" (the default: the server
	// must offer STARTTLS), "tls" (implicit TLS from the first byte, usually port 465)
	// or "none" (plain text: for a relay on the same machine only).
	TLS string
	// Username and Password authenticate, with AUTH PLAIN or, when the server offers
	// only that, AUTH LOGIN; an empty Username sends no AUTH.
	Username string
	Password string
	// From is the sender's address, such as "Hub Notifications <hubnet@hub.example.eu>".
	// Required with Host.
	From string
	// RootCAs are the certificate authorities the server's certificate is checked
	// against; nil means the system's. For tests with a server of their own.
	RootCAs *x509.CertPool
}

// DefaultNotifyConfig returns the defaults of NotifyConfig's timers and bounds.
func DefaultNotifyConfig() NotifyConfig {
	return NotifyConfig{RetryMin: 30 * time.Second, RetryMax: time.Hour, Attempts: 12, Timeout: 10 * time.Second,
		Workers: 4, Delay: 500 * time.Millisecond, CheckEvery: time.Minute, Keep: 90 * 24 * time.Hour}
}

// validate fills the defaults in and returns every problem.
func (c *NotifyConfig) validate() []error {
	var errs []error
	def := DefaultNotifyConfig()
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.RetryMin, def.RetryMin}, {&c.RetryMax, def.RetryMax}, {&c.Timeout, def.Timeout}, {&c.CheckEvery, def.CheckEvery}, {&c.Keep, def.Keep}, {&c.Delay, def.Delay}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if c.Attempts <= 0 {
		c.Attempts = def.Attempts
	}
	if c.Workers <= 0 {
		c.Workers = def.Workers
	}
	if c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("Notify.RetryMax: must not be below Notify.RetryMin (%v)", c.RetryMin))
	}
	s := &c.SMTP
	if s.Host == "" {
		return errs
	}
	switch s.TLS {
	case "":
		s.TLS = "starttls"
	case "starttls", "tls", "none":
	default:
		errs = append(errs, fmt.Errorf("Notify.SMTP.TLS: must be starttls, tls or none, got %q", s.TLS))
	}
	if s.Port == 0 {
		s.Port = 587
		if s.TLS == "tls" {
			s.Port = 465
		}
	}
	if s.Port < 0 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("Notify.SMTP.Port: must be 1 to 65535, got %d", s.Port))
	}
	if s.From == "" {
		errs = append(errs, fmt.Errorf("Notify.SMTP.From: is required with a mail server, such as hubnet@hub.example.eu"))
	} else if _, err := mail.ParseAddress(s.From); err != nil {
		errs = append(errs, fmt.Errorf("Notify.SMTP.From: must be an e-mail address such as \"Hub <hubnet@hub.example.eu>\", got %q", s.From))
	}
	if s.Password != "" && s.Username == "" {
		errs = append(errs, fmt.Errorf("Notify.SMTP.Username: is required with a password"))
	}
	return errs
}
