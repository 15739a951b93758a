package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// crash kills p with SIGKILL, by its PID, and waits until it has exited: no leave, no
// shutdown, whatever was in flight is cut off.
func crash(t *testing.T, p *proc, timeout time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL pid %d: %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("pid %d still running %v after SIGKILL", p.cmd.Process.Pid, timeout)
	}
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) {
		t.Fatalf("pid %d after SIGKILL: %v, want killed by a signal", p.cmd.Process.Pid, p.err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("pid %d after SIGKILL: %v, want killed by SIGKILL", p.cmd.Process.Pid, p.err)
	}
}

// apiClient calls one hub's HTTP API with its operator token.
type apiClient struct {
	url, token string
	http       *http.Client
}

func newAPIClient(t *testing.T, dir string) *apiClient {
	t.Helper()
	nf, err := readNodeFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	token, err := node.ReadToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{url: nf.URL, token: token, http: &http.Client{Timeout: 10 * time.Second}}
}

// do sends one request and decodes a response with status want into out.
func (c *apiClient) do(method, path string, body, out any, want int) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: got %s %s, want %d", method, path, resp.Status, bytes.TrimSpace(b), want)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// referrals lists the referrals in direction "in" or "out".
func (c *apiClient) referrals(direction string) ([]api.ReferralInfo, error) {
	var list []api.ReferralInfo
	err := c.do(http.MethodGet, "/v1/referrals?direction="+direction, nil, &list, http.StatusOK)
	return list, err
}

// metric reads one sample of the hub's /metrics, such as
// `hubnet_referral_messages_total{result="duplicate"}`; a sample not there yet is 0.
func (c *apiClient) metric(sample string) (string, error) {
	resp, err := c.http.Get(c.url + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			return v, nil
		}
	}
	return "0", sc.Err()
}

// referralRequest is a valid referral of a small food company in Keski-Suomi to hub to.
func referralRequest(to string, i int) api.ReferralRequest {
	now := time.Now()
	return api.ReferralRequest{
		To: to,
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall,
			Family: protocol.FamilyTestBeforeInvest, Technologies: []string{"ai-decision-support"},
			Description: fmt.Sprintf("Referral %d: wants to test machine vision for quality control on a bakery line.", i)},
		SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: to,
			Purpose: "referral for AI test-before-invest services", Until: now.Add(90 * 24 * time.Hour)},
	}
}

// receives counts the receive entries in a referral's history.
func receives(r protocol.Referral) int {
	n := 0
	for _, c := range r.History {
		if c.Event == protocol.EventReceive {
			n++
		}
	}
	return n
}

// checkExactlyOnce compares what the receiving hub lists (in) and what the referring
// hub lists (out) with the IDs the referring hub returned (sent), and describes every
// referral missing, duplicated, or not received at either end.
func checkExactlyOnce(sent []string, in, out []api.ReferralInfo) error {
	var problems []string
	wanted := map[string]bool{}
	for _, id := range sent {
		wanted[id] = true
	}
	seen := map[string]int{}
	for _, info := range in {
		seen[info.Referral.ID]++
	}
	var missing, dup, extra, notRecv []string
	for _, id := range sent {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	for _, info := range in {
		id := info.Referral.ID
		switch {
		case !wanted[id]:
			extra = append(extra, id)
		case seen[id] > 1:
			dup = append(dup, fmt.Sprintf("%s (%d times)", id, seen[id]))
			seen[id] = 1 // name it once
		}
		if n := receives(info.Referral); info.Referral.State != protocol.StateReceived || n != 1 {
			notRecv = append(notRecv, fmt.Sprintf("%s is %s with %d receive entries", id, info.Referral.State, n))
		}
	}
	if len(in) != len(sent) {
		problems = append(problems, fmt.Sprintf("receiver lists %d incoming referrals, want %d", len(in), len(sent)))
	}
	for _, p := range []struct {
		what string
		ids  []string
	}{
		{"missing at the receiver", missing},
		{"duplicated at the receiver", dup},
		{"at the receiver but never sent", extra},
		{"at the receiver not received exactly once", notRecv},
	} {
		if len(p.ids) > 0 {
			problems = append(problems, fmt.Sprintf("%d %s:\n\t%s", len(p.ids), p.what, strings.Join(p.ids, "\n\t")))
		}
	}

	var notAcked []string
	outIDs := map[string]bool{}
	for _, info := range out {
		outIDs[info.Referral.ID] = true
		if n := receives(info.Referral); info.Referral.State != protocol.StateReceived || info.Pending != 0 || n != 1 {
			notAcked = append(notAcked, fmt.Sprintf("%s is %s with %d pending and %d receive entries", info.Referral.ID, info.Referral.State, info.Pending, n))
		}
	}
	if len(out) != len(sent) {
		problems = append(problems, fmt.Sprintf("sender lists %d outgoing referrals, want %d", len(out), len(sent)))
	}
	for _, id := range sent {
		if !outIDs[id] {
			notAcked = append(notAcked, id+" is not listed")
		}
	}
	if len(notAcked) > 0 {
		problems = append(problems, fmt.Sprintf("%d at the sender not acknowledged as received:\n\t%s", len(notAcked), strings.Join(notAcked, "\n\t")))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// TestReferrals_killedReceiverGetsAllExactlyOnce sends a stream of referrals from one
// hub to another, kills the receiving hub's process with SIGKILL in the middle of it,
// restarts it from its data directory, and checks that every referral arrives once.
func TestReferrals_killedReceiverGetsAllExactlyOnce(t *testing.T) {
	const (
		total     = 200
		killAfter = 70                    // referrals created before the kill
		pace      = 10 * time.Millisecond // between two referrals
	)
	root := t.TempDir()
	netFile := filepath.Join(root, "network.json")
	mustHubnet(t, "network", "create", "testnet", "-o", netFile, "--key", filepath.Join(filepath.Dir(netFile), "admission.key"))
	dirA, dirB := filepath.Join(root, "hub-a"), filepath.Join(root, "hub-b")
	mustHubnet(t, "init", "-d", dirA, "--network", netFile, "--admission-key", filepath.Join(filepath.Dir(netFile), "admission.key"), "--id", "hub-a",
		"--profile", writeFile(t, root, "hub-a.yaml", testProfile("hub-a", "FI", "FI1C")))
	mustHubnet(t, "init", "-d", dirB, "--network", netFile, "--admission-key", filepath.Join(filepath.Dir(netFile), "admission.key"), "--id", "hub-b",
		"--profile", writeFile(t, root, "hub-b.yaml", testProfile("hub-b", "SE", "SE11")))

	local := []string{"--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--gossip", "local"}
	if os.Getenv("HUBNET_TEST_LOG") != "" {
		local = append(local, "--log-level", "debug")
	}
	waitReady := func(dir string) nodeFile {
		t.Helper()
		var nf nodeFile
		nodetest.Eventually(t, 15*time.Second, func() error {
			var err error
			nf, err = readNodeFile(dir)
			return err
		})
		return nf
	}
	pa := startHubnet(t, append([]string{"run", "-d", dirA}, local...)...)
	nfA := waitReady(dirA)
	argsB := append([]string{"run", "-d", dirB, "--join", nfA.Gossip}, local...)
	pb := startHubnet(t, argsB...)
	waitReady(dirB)
	a, b := newAPIClient(t, dirA), newAPIClient(t, dirB)
	var pb2 *proc // hub-b after the restart
	t.Cleanup(func() {
		if !t.Failed() && os.Getenv("HUBNET_TEST_LOG") == "" {
			return
		}
		t.Logf("log of hub-a:\n%s", pa.stderr.String())
		t.Logf("log of hub-b before the kill:\n%s", pb.stderr.String())
		if pb2 != nil {
			t.Logf("log of hub-b after the restart:\n%s", pb2.stderr.String())
		}
	})

	// Each hub lists the other as reachable.
	for _, c := range []*apiClient{a, b} {
		nodetest.Eventually(t, 20*time.Second, func() error {
			var hubs []api.HubInfo
			if err := c.do(http.MethodGet, "/v1/hubs", nil, &hubs, http.StatusOK); err != nil {
				return err
			}
			var got []string
			for _, h := range hubs {
				if h.Self || h.Reachable {
					got = append(got, h.ID)
				}
			}
			if want := []string{"hub-a", "hub-b"}; !slices.Equal(got, want) {
				return fmt.Errorf("%s lists %v as self or reachable, want %v", c.url, got, want)
			}
			return nil
		})
	}

	// The stream: total referrals from hub-a to hub-b, one every pace, whatever
	// happens to hub-b.
	var (
		mu      sync.Mutex // guards sent and sendErr
		sent    []string
		sendErr error
		created atomic.Int64
	)
	streamDone := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(streamDone)
		tick := time.NewTicker(pace)
		defer tick.Stop()
		for i := range total {
			var info api.ReferralInfo
			err := a.do(http.MethodPost, "/v1/referrals", referralRequest("hub-b", i), &info, http.StatusCreated)
			mu.Lock()
			if err == nil && info.Referral.State != protocol.StateRequested {
				err = fmt.Errorf("referral %d created as %s, want %s", i, info.Referral.State, protocol.StateRequested)
			}
			if err != nil {
				sendErr = fmt.Errorf("referral %d of %d: %w", i, total, err)
				mu.Unlock()
				return
			}
			sent = append(sent, info.Referral.ID)
			mu.Unlock()
			created.Add(1)
			<-tick.C
		}
	}()
	t.Cleanup(func() { <-streamDone }) // no request outlives the test

	// Kill hub-b once killAfter referrals exist and it has received some of them.
	var before int
	nodetest.Eventually(t, 20*time.Second, func() error {
		select {
		case <-streamDone:
			return nil // fails below, with the reason
		default:
		}
		if n := created.Load(); n < killAfter {
			return fmt.Errorf("%d referrals created, want %d before the kill", n, killAfter)
		}
		in, err := b.referrals("in")
		before = len(in)
		if err == nil && before == 0 {
			err = errors.New("hub-b has received none yet")
		}
		return err
	})
	createdAtKill := created.Load()
	dupBefore, _ := b.metric(`hubnet_referral_messages_total{result="duplicate"}`)
	crash(t, pb, 5*time.Second)
	killedAt := time.Now()
	t.Logf("killed hub-b (pid %d) %v into the stream: %d referrals created, %d listed at hub-b and %s duplicate messages just before",
		pb.cmd.Process.Pid, killedAt.Sub(start).Round(time.Millisecond), createdAtKill, before, dupBefore)

	// The rest is sent while hub-b is down.
	select {
	case <-streamDone:
	case <-time.After(20 * time.Second):
		t.Fatalf("the stream of %d referrals has not ended after 20s; %d created", total, created.Load())
	}
	mu.Lock()
	err, ids := sendErr, slices.Clone(sent)
	mu.Unlock()
	if err != nil {
		t.Fatalf("%v\nlog of hub-a:\n%s", err, pa.stderr.String())
	}
	t.Logf("all %d referrals created in %v, %d of them while hub-b was down", total, time.Since(start).Round(time.Millisecond), total-int(createdAtKill))
	if out, err := a.referrals("out"); err == nil {
		requested := 0
		for _, info := range out {
			if info.Referral.State == protocol.StateRequested {
				requested++
			}
		}
		t.Logf("hub-a before the restart: %d of %d still requested", requested, len(out))
	}

	// SIGKILL leaves node.json behind; the restarted node writes its own.
	if err := os.Remove(filepath.Join(dirB, nodeFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	restarted := time.Now()
	pb2 = startHubnet(t, argsB...)
	waitReady(dirB)
	b = newAPIClient(t, dirB)
	ready := time.Since(restarted)

	var allAtB time.Duration
	nodetest.Eventually(t, 60*time.Second, func() error {
		in, err := b.referrals("in")
		if err != nil {
			return err
		}
		if allAtB == 0 && len(in) == total {
			allAtB = time.Since(restarted)
		}
		out, err := a.referrals("out")
		if err != nil {
			return err
		}
		return checkExactlyOnce(ids, in, out)
	})
	all := time.Since(restarted)
	dup, err := b.metric(`hubnet_referral_messages_total{result="duplicate"}`)
	if err != nil {
		t.Errorf("metrics of hub-b: %v", err)
	}
	recv, err := b.metric(`hubnet_referral_messages_total{result="received"}`)
	if err != nil {
		t.Errorf("metrics of hub-b: %v", err)
	}
	t.Logf("after the restart: hub-b ready in %v, all %d at hub-b in %v, all acknowledged at hub-a in %v; "+
		"hub-b since the restart: %s received, %s duplicate messages",
		ready.Round(time.Millisecond), total, allAtB.Round(time.Millisecond), all.Round(time.Millisecond), recv, dup)

	// The restarted hub and the other still leave and stop cleanly.
	pb2.stop(t, 10*time.Second)
	pa.stop(t, 10*time.Second)
}
