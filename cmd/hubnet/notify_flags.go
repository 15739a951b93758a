package main

import (
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hubnet-eu/hubnet/node"
)

// notifyFlags are the flags of `hubnet run` that say how notifications are sent:
// the SMTP server of e-mails, and whether webhooks may be plain http. Like every
// flag of run they also come from HUBNET_SMTP_HOST ... and the --config file.
type notifyFlags struct {
	host, tlsMode, user, passwordFile, from string
	port                                    int
	allowHTTP                               bool
}

func (nf *notifyFlags) register(a *app, f *pflag.FlagSet) {
	f.StringVar(&nf.host, "smtp-host", "", a.T("mail server for e-mail notifications, such as smtp.example.eu; empty: no e-mails"))
	f.IntVar(&nf.port, "smtp-port", 0, a.T("mail server port (default 587, or 465 with --smtp-tls tls)"))
	f.StringVar(&nf.tlsMode, "smtp-tls", "starttls", a.T("how the mail connection is encrypted: starttls, tls (implicit, port 465) or none (a relay on this machine)"))
	f.StringVar(&nf.user, "smtp-user", "", a.T("user name at the mail server (AUTH PLAIN or LOGIN); empty: no sign-in"))
	f.StringVar(&nf.passwordFile, "smtp-password-file", "", a.T("file holding the mail server password, kept out of the command line"))
	f.StringVar(&nf.from, "smtp-from", "", a.T(`sender of the e-mails, such as "Hub <hubnet@hub.example.eu>"; required with --smtp-host`))
	f.BoolVar(&nf.allowHTTP, "webhook-allow-http", false, a.T("let the operator register http:// webhooks, unencrypted: for tests on one machine only"))
}

// apply fills cfg.Notify in.
func (nf *notifyFlags) apply(cfg *node.Config) error {
	cfg.Notify.AllowHTTPWebhooks = nf.allowHTTP
	if nf.host == "" {
		if nf.user != "" || nf.from != "" || nf.passwordFile != "" {
			return usagef("--smtp-user, --smtp-from and --smtp-password-file need --smtp-host, the mail server")
		}
		return nil
	}
	s := node.SMTPConfig{Host: nf.host, Port: nf.port, TLS: nf.tlsMode, Username: nf.user, From: nf.from}
	if nf.passwordFile != "" {
		b, err := os.ReadFile(nf.passwordFile)
		if err != nil {
			return usagef("--smtp-password-file: %v", err)
		}
		s.Password = strings.TrimRight(string(b), "\r\n")
		if s.Password == "" {
			return usagef("--smtp-password-file: %s is empty", nf.passwordFile)
		}
	}
	if s.From == "" {
		return usagef("--smtp-host needs --smtp-from, the sender's address, such as hubnet@hub.example.eu")
	}
	switch s.TLS {
	case "starttls", "tls", "none":
	default:
		return usagef("--smtp-tls: %q must be starttls, tls or none", s.TLS)
	}
	if s.Port < 0 || s.Port > 65535 {
		return usagef("--smtp-port: %d must be 1 to 65535", s.Port)
	}
	cfg.Notify.SMTP = s
	return nil
}
