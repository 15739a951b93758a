package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The operator registers a webhook with the command line, reads its deliveries,
// has one sent again and removes it; the program behind the webhook checks each
// call's signature with the secret the command printed.
func TestCLI_webhooks(t *testing.T) {
	var (
		mu     sync.Mutex
		secret string
		got    []string // delivery/type of each call with a good signature
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		ts, sig, _ := strings.Cut(r.Header.Get(api.HeaderSignature), ",v1=")
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(strings.TrimPrefix(ts, "t=") + "."))
		m.Write(body)
		if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(m.Sum(nil)))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev api.Event
		json.Unmarshal(body, &ev)
		got = append(got, r.Header.Get(api.HeaderDelivery)+"/"+ev.Type)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	adv, rcv := startReferralHubsWith(t, func(c *node.Config) { c.Notify.AllowHTTPWebhooks = true })

	r := rcv.must(t, "webhooks", "add", srv.URL+"/in", "--id", "crm", "--topics", "received,decision")
	m := regexp.MustCompile(`(whsec_\S+)`).FindStringSubmatch(r.stdout)
	if m == nil || !strings.Contains(r.stdout, "webhook crm to "+srv.URL+"/in, topics received,decision") {
		t.Fatalf("webhooks add printed %q", r.stdout)
	}
	mu.Lock()
	secret = m[1]
	mu.Unlock()
	if r := rcv.must(t, "webhooks", "list"); !strings.Contains(r.stdout, "crm") || !strings.Contains(r.stdout, "received,decision") {
		t.Errorf("webhooks list: %s", r.stdout)
	}
	if r := rcv.run(t, "webhooks", "add", "ftp://crm.example.eu/in"); r.code == 0 || !strings.Contains(r.stderr, "url") {
		t.Errorf("webhooks add of an ftp URL: %v", r)
	}
	if r := rcv.run(t, "webhooks", "add", srv.URL, "--topics", "gossip"); r.code == 0 || !strings.Contains(r.stderr, "topics.0") {
		t.Errorf("webhooks add with a topic that is none: %v", r)
	}
	if r := rcv.run(t, "webhooks", "deliveries", "--limit", "0"); r.code != 2 || !strings.Contains(r.stderr, "--limit") {
		t.Errorf("webhooks deliveries --limit 0: %v", r)
	}

	sent, err := adv.Refer(hookReferral(rcv.ID()))
	if err != nil {
		t.Fatal(err)
	}
	waitReferral(t, rcv, sent.Referral.ID, protocol.StateReceived)
	var first string
	nodetest.Eventually(t, 15*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(got) == 0 {
			return fmt.Errorf("no call yet")
		}
		first, _, _ = strings.Cut(got[0], "/")
		return nil
	})
	nodetest.Eventually(t, 10*time.Second, func() error {
		r := rcv.must(t, "webhooks", "deliveries", "crm")
		if !strings.Contains(r.stdout, first) || !strings.Contains(r.stdout, "delivered") || !strings.Contains(r.stdout, "referral.received") {
			return fmt.Errorf("deliveries:\n%s", r.stdout)
		}
		return nil
	})
	r = rcv.must(t, "webhooks", "redeliver", first)
	again := regexp.MustCompile(`delivery (\S+) queued`).FindStringSubmatch(r.stdout)
	if again == nil {
		t.Fatalf("redeliver printed %q", r.stdout)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range got {
			if g == again[1]+"/referral.received" {
				return nil
			}
		}
		return fmt.Errorf("calls %v, want %s", got, again[1])
	})
	if r := rcv.must(t, "webhooks", "remove", "crm"); !strings.Contains(r.stdout, "removed webhook crm") {
		t.Errorf("remove: %s", r.stdout)
	}
	if r := rcv.run(t, "webhooks", "remove", "crm"); r.code == 0 {
		t.Errorf("second remove: %v", r)
	}
}

// hookReferral is a valid referral to hub to.
func hookReferral(to string) api.ReferralRequest {
	now := time.Now()
	return api.ReferralRequest{To: to,
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall,
			Family: protocol.FamilyTestBeforeInvest, Description: "Wants to test machine vision on a bakery line."},
		SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: to,
			Purpose: "referral for test-before-invest services", Until: now.Add(90 * 24 * time.Hour)}}
}

// The example consumer of the change feed in docs/examples/feed builds, and, run
// again after more events and a restart of the hub, prints each event once, in
// order, from where it stopped.
func TestFeedExample(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "feed")
	if out, err := exec.Command("go", "build", "-o", bin, "../../docs/examples/feed").CombinedOutput(); err != nil {
		t.Fatalf("go build docs/examples/feed: %v\n%s", err, out)
	}
	adv, rcv := startReferralHubs(t)
	state := filepath.Join(t.TempDir(), "crm.state")
	consume := func(h referralHub) []string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-once", "-state", state)
		cmd.Env = cleanEnv(h.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("feed: %v\n%s", err, out)
		}
		return strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' })
	}
	sent, err := adv.Refer(hookReferral(rcv.ID()))
	if err != nil {
		t.Fatal(err)
	}
	id := sent.Referral.ID
	waitReferral(t, rcv, id, protocol.StateReceived)
	first := consume(rcv)
	if len(first) == 0 || !strings.HasPrefix(first[len(first)-1], fmt.Sprint(len(first))+" referral.received "+id+" received "+adv.ID()) {
		t.Fatalf("first run printed %q, want events 1 to n, the last the referral received", first)
	}
	if again := consume(rcv); len(again) != 0 {
		t.Errorf("run again with nothing new: %q", again)
	}
	if _, err := rcv.Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	rcv.Kill()
	restarted := rcv.Restart(adv.GossipAddr())
	rcv = referralHub{Hub: restarted, name: rcv.name, env: []string{"HUBNET_NODE=http://" + restarted.HTTPAddr(), rcv.env[1]}}
	if _, err := rcv.Act(id, protocol.EventStart, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	second := consume(rcv)
	n := len(first)
	want := []string{
		fmt.Sprintf("%d referral.accepted %s accepted %s", n+1, id, adv.ID()),
		fmt.Sprintf("%d referral.changed %s in-progress %s", n+2, id, adv.ID()),
	}
	if strings.Join(second, "\n") != strings.Join(want, "\n") {
		t.Errorf("after the restart the consumer printed\n%s\nwant\n%s", strings.Join(second, "\n"), strings.Join(want, "\n"))
	}
}
