package main

import (
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// The operator lists, adds, changes and removes the hub's recipients with the
// command line; a recipient gets the e-mail of a referral received, in its language.
func TestCLI_recipients(t *testing.T) {
	ms := nodetest.StartMailServer(t)
	adv, rcv := startReferralHubsWith(t, func(c *node.Config) { c.Notify.SMTP = ms.SMTP() })
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
	if m := ms.Wait(t, "team@robo-hub.example.eu", 1); m.Language != "de" || !strings.Contains(m.Subject, "Neue Vermittlung") {
		t.Errorf("the team's e-mail %q in %q, want German", m.Subject, m.Language)
	}
}

// With a mail server, 'hubnet users add' and 'reset' e-mail the sign-in link to the
// person and do not print it.
func TestCLI_usersLinkMailed(t *testing.T) {
	ms := nodetest.StartMailServer(t)
	_, rcv := startReferralHubsWith(t, func(c *node.Config) { c.Notify.SMTP = ms.SMTP() })
	r := rcv.must(t, "users", "add", "aino@robo-hub.example.eu", "--name", "Aino Virtanen", "--language", "fi")
	if !strings.Contains(r.stdout, "sign-in link e-mailed to aino@robo-hub.example.eu") || strings.Contains(r.stdout, "code:") {
		t.Errorf("users add printed %q, want the link e-mailed and not printed", r.stdout)
	}
	r = rcv.must(t, "users", "reset", "aino@robo-hub.example.eu")
	if !strings.Contains(r.stdout, "e-mailed") || strings.Contains(r.stdout, "/login/link") {
		t.Errorf("users reset printed %q", r.stdout)
	}
	ms.Wait(t, "aino@robo-hub.example.eu", 2)
	if m := ms.To("aino@robo-hub.example.eu")[0]; !strings.Contains(m.Subject, "Kirjautumislinkkisi") || !strings.Contains(m.Text, "/login/link?code=") {
		t.Errorf("e-mail %q, want Finnish with the link:\n%s", m.Subject, m.Text)
	}
}
