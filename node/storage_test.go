package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/faultfs"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console/consoletest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// A hub whose disk fills up, or turns read-only after a disk error, while it runs:
// what its operator sees through the HTTP API, what the other hub sees, and what is
// left once the disk is fixed. Each test runs in a child process with the disk
// mounted in a mount namespace of its own (internal/faultfs), and skips, saying why,
// where the machine does not permit that.

// nodeLog collects a node's log for a test to read.
type nodeLog struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *nodeLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *nodeLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startOnDisk initialises dir for hub id with its test profile and starts it joined to
// join, with quick delivery retries; its log goes to the returned buffer.
func startOnDisk(t *testing.T, dir string, net protocol.Network, id string, join ...string) (*nodetest.Hub, *nodeLog) {
	t.Helper()
	p := nodetest.Profile(id)
	nodetest.Init(t, dir, net, id, &p)
	cfg := nodetest.Config(dir, join...)
	log := &nodeLog{}
	cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	cfg.DeliveryTimeout, cfg.RetryMin, cfg.RetryMax = 500*time.Millisecond, 100*time.Millisecond, 500*time.Millisecond
	return nodetest.StartConfig(t, cfg), log
}

// syncDataDir syncs every file in dir, and dir itself.
func syncDataDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range append(entries, nil) {
		path := dir
		if e != nil {
			path = filepath.Join(dir, e.Name())
		}
		f, err := os.Open(path)
		if err == nil {
			err = f.Sync()
			f.Close()
		}
		if err != nil {
			t.Fatalf("sync %s: %v", path, err)
		}
	}
}

// leaveAndStop stops h as its operator does, leaving the network first.
func leaveAndStop(t *testing.T, h *nodetest.Hub) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.Leave(ctx); err != nil {
		t.Errorf("leave: %v", err)
	}
	h.Kill()
}

// callAPI sends one request to h's HTTP API with the operator token, decodes the answer
// into out, and returns its status.
func callAPI(t *testing.T, h *nodetest.Hub, method, path string, body, out any) int {
	t.Helper()
	token, err := node.ReadToken(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+h.HTTPAddr()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: status %d, body %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// wantStorageError fails unless a write was answered with status and code, and a
// message that names the data file, the cause and what to do.
func wantStorageError(t *testing.T, what string, got int, e api.ErrorResponse, status int, code, path, cause, todo string) {
	t.Helper()
	if got != status || e.Error.Code != code {
		t.Fatalf("%s: %d %q (%s); want %d %q", what, got, e.Error.Code, e.Error.Message, status, code)
	}
	for _, want := range []string{"could not write the data file " + path, cause, "nothing was changed", todo} {
		if !strings.Contains(e.Error.Message, want) {
			t.Errorf("%s: message %q does not say %q", what, e.Error.Message, want)
		}
	}
}

// untilRefused makes call with i = 0, 1, ... while it answers ok, handing each
// answer, decoded, to saved; it returns the status and error of the first call
// refused. Fifty calls answered ok fail the test: the disk was not full.
func untilRefused[T any](t *testing.T, what string, ok int, call func(i int, raw *json.RawMessage) int, saved func(T)) (int, api.ErrorResponse) {
	t.Helper()
	for i := range 50 {
		var raw json.RawMessage
		if status := call(i, &raw); status != ok {
			var e api.ErrorResponse
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			return status, e
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		saved(v)
	}
	t.Fatalf("50 %s on a full disk", what)
	return 0, api.ErrorResponse{}
}

// referralStates returns the state of each referral h's API lists, by ID.
func referralStates(t *testing.T, h *nodetest.Hub) map[string]protocol.State {
	t.Helper()
	var list []api.ReferralInfo
	if st := callAPI(t, h, "GET", "/v1/referrals", nil, &list); st != 200 {
		t.Fatalf("GET /v1/referrals: %d", st)
	}
	ids := map[string]protocol.State{}
	for _, r := range list {
		ids[r.Referral.ID] = r.Referral.State
	}
	return ids
}

// bigProfile is hub id's profile with a description of 10,000 characters, 19 KB.
func bigProfile(id string) protocol.Profile {
	const line = "Тествай преди да инвестираш: роботика, изкуствен интелект и данни за МСП. "
	p := nodetest.Profile(id)
	p.Description = strings.TrimSpace(strings.Repeat(line, protocol.MaxDescriptionLen/utf8.RuneCountInString(line)))
	return p
}

// bigProfileNo is bigProfile with its description made the i-th of its kind, so that
// each save changes the profile.
func bigProfileNo(id string, i int) protocol.Profile {
	p := bigProfile(id)
	no := fmt.Sprintf(" №%d", i)
	r := []rune(p.Description)
	p.Description = string(r[:len(r)-utf8.RuneCountInString(no)]) + no
	return p
}

// roomInMap leaves free pages in h's data file, inside bbolt's memory map of it, so
// that the writes that come next fail at writing, on a read-only disk, and not at
// mapping the file larger, which leaves the store with no map at all on Linux 6.16
// and later (TestStore_readOnlyDisk_readsAfterMapGrows in package store).
func roomInMap(t *testing.T, h *nodetest.Hub) {
	t.Helper()
	for range 3 {
		if _, err := h.PutProfile(bigProfile(h.ID())); err != nil {
			t.Fatal(err)
		}
		if _, err := h.PutProfile(nodetest.Profile(h.ID())); err != nil {
			t.Fatal(err)
		}
	}
}

// A full disk: applying a profile and creating referrals through the API are
// answered 507 with what failed and why, a referral from another hub waits in that
// hub's outbox, and the hub keeps answering reads. Once there is room the same
// requests succeed, the waiting referral arrives, and after a restart every record is
// there and the file passes bbolt's check.
func TestAPI_fullDisk(t *testing.T) {
	faultfs.Run(t, func(t *testing.T) {
		disk := faultfs.FullDisk(t, 8<<20)
		cause := map[string]string{faultfs.Tmpfs: "no space left on device", faultfs.Rlimit: "file too large"}[disk.Kind]
		net := nodetest.Network(t)
		a, _ := startOnDisk(t, t.TempDir(), net, "hub-a")
		b, blog := startOnDisk(t, filepath.Join(disk.Dir, "hub-b"), net, "hub-b", a.GossipAddr())
		nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{a, b}) })
		dbB := filepath.Join(b.Dir, node.StoreFile)

		// Before the disk fills: a referral each way.
		want := map[string]protocol.State{receivedReferral(t, a, b, referralTo("hub-b")): protocol.StateReceived}
		var sent api.ReferralInfo
		if st := callAPI(t, b, "POST", "/v1/referrals", referralTo("hub-a"), &sent); st != 201 {
			t.Fatalf("POST /v1/referrals: %d", st)
		}
		nodetest.WaitState(t, a, sent.Referral.ID, protocol.StateReceived)
		want[sent.Referral.ID] = protocol.StateReceived
		before, err := b.Self()
		if err != nil {
			t.Fatal(err)
		}

		disk.Fill(t)

		// Referrals: those that fit in the file's free pages are saved; the file must
		// grow within a few, and cannot.
		status, e := untilRefused(t, "referrals created", 201, func(_ int, raw *json.RawMessage) int {
			return callAPI(t, b, "POST", "/v1/referrals", referralTo("hub-a"), raw)
		}, func(info api.ReferralInfo) { want[info.Referral.ID] = protocol.StateRequested })
		t.Logf("disk full (%s): %d referrals created before one was refused", disk.Kind, len(want)-2)
		wantStorageError(t, "POST /v1/referrals", status, e, http.StatusInsufficientStorage, api.CodeStorageFull, dbB, cause, "free space")

		// Profiles likewise: a failed write may leave pages of the disk to the file that
		// the next one fits in, so each try differs until one is refused.
		revision := before.Revision
		status, e = untilRefused(t, "profiles saved", 200, func(i int, raw *json.RawMessage) int {
			return callAPI(t, b, "PUT", "/v1/self/profile", bigProfileNo("hub-b", i), raw)
		}, func(saved protocol.Profile) { revision = saved.Revision })
		wantStorageError(t, "PUT /v1/self/profile", status, e, http.StatusInsufficientStorage, api.CodeStorageFull, dbB, cause, "free space")

		// The console says the same, and keeps what was typed.
		br := consoletest.NewBrowser(t, b)
		br.SignIn(b)
		for i := 50; ; i++ {
			if i == 100 {
				t.Fatal("50 profiles saved from the console on a full disk")
			}
			form := br.Get("/me").Form(t, "profile-form")
			form.Set("description", bigProfileNo("hub-b", i).Description)
			p := br.Post("/me/profile", form)
			if p.Status < 400 {
				revision++
				continue
			}
			if p.Status != http.StatusInsufficientStorage ||
				!strings.Contains(p.Text(), cause) || !strings.Contains(p.Text(), "free space") ||
				!strings.Contains(p.Text(), form.Get("description")[:100]) {
				t.Errorf("console profile on a full disk: status %d, want 507 saying %q and what to do, with the description kept:\n%s", p.Status, cause, p.Text())
			}
			break
		}

		// Reads are answered, from what was stored.
		var self api.SelfInfo
		if st := callAPI(t, b, "GET", "/v1/self", nil, &self); st != 200 || self.Revision != revision {
			t.Errorf("GET /v1/self on a full disk: %d, revision %d; want 200, %d", st, self.Revision, revision)
		}
		var hubs []api.HubInfo
		if st := callAPI(t, b, "GET", "/v1/hubs", nil, &hubs); st != 200 || len(hubs) != 2 {
			t.Errorf("GET /v1/hubs on a full disk: %d, %d hubs; want 200, 2", st, len(hubs))
		}

		// A referral from the other hub: hub-b cannot store it, so it does not
		// acknowledge it, and hub-a keeps it in its outbox.
		var waiting []string
		if disk.Kind == faultfs.Tmpfs {
			for range 5 {
				info, err := a.Refer(referralTo("hub-b"))
				if err != nil {
					t.Fatal(err)
				}
				waiting = append(waiting, info.Referral.ID)
			}
			// Each failed attempt is one line in hub-b's log: wait for a second round.
			nodetest.Eventually(t, 10*time.Second, func() error {
				if n := strings.Count(blog.String(), "apply referral message"); n < 8 {
					return fmt.Errorf("hub-b has logged %d referral messages it could not apply, want 8", n)
				}
				return nil
			})
			if !strings.Contains(blog.String(), cause) {
				t.Errorf("hub-b's log does not say %q:\n%s", cause, blog)
			}
			held := referralStates(t, b)
			stuck := 0
			for _, id := range waiting {
				info, err := a.Referral(id)
				if err != nil {
					t.Fatal(err)
				}
				_, there := held[id]
				switch {
				case there: // stored on the full disk: it fitted in free pages
					nodetest.WaitState(t, a, id, protocol.StateReceived)
				case info.Referral.State == protocol.StateRequested && info.Pending == 1:
					stuck++
				default:
					t.Errorf("referral %s: %s with %d pending at hub-a, at hub-b: %t", id, info.Referral.State, info.Pending, there)
				}
			}
			t.Logf("%d of 5 referrals from hub-a wait in its outbox", stuck)
			if stuck == 0 {
				t.Errorf("all 5 referrals to hub-b were stored on its full disk")
			}
		} else {
			t.Log("RLIMIT_FSIZE holds hub-a's file too: no referral to hub-b while the disk is full")
		}

		disk.Free(t)
		var info api.ReferralInfo
		if st := callAPI(t, b, "POST", "/v1/referrals", referralTo("hub-a"), &info); st != 201 {
			t.Fatalf("POST /v1/referrals once there is room: %d", st)
		}
		want[info.Referral.ID] = protocol.StateRequested
		var saved protocol.Profile
		if st := callAPI(t, b, "PUT", "/v1/self/profile", bigProfile("hub-b"), &saved); st != 200 || saved.Revision != revision+1 {
			t.Errorf("PUT /v1/self/profile once there is room: %d, revision %d; want 200, %d", st, saved.Revision, revision+1)
		}
		for _, id := range waiting {
			nodetest.WaitState(t, b, id, protocol.StateReceived)
			want[id] = protocol.StateReceived
		}

		// Every record is there after a restart, and the file is sound.
		leaveAndStop(t, b)
		faultfs.CheckBolt(t, dbB)
		b = b.Restart(a.GossipAddr())
		got := referralStates(t, b)
		for id := range want {
			if _, ok := got[id]; !ok {
				t.Errorf("referral %s is gone after the restart", id)
			}
		}
		if len(got) != len(want) {
			t.Errorf("hub-b holds %d referrals after the restart, want %d", len(got), len(want))
		}
		if s, err := b.Self(); err != nil || s.Revision != saved.Revision {
			t.Errorf("hub-b's profile after the restart: revision %d, %v; want %d", s.Revision, err, saved.Revision)
		}
	})
}

// A data directory that the kernel remounts read-only after a disk error: writes
// through the API are answered 503 with what failed and why, nothing changes, reads
// go on, and a referral from another hub waits in its outbox. A restart on the
// read-only disk says why it cannot open the store. After the operator's repair
// (unmount, e2fsck, mount) the hub starts with every record, takes the waiting
// referral and accepts writes again.
func TestAPI_readOnlyDisk(t *testing.T) {
	faultfs.Run(t, func(t *testing.T) {
		vol := faultfs.FailingExt4(t, 64<<20)
		net := nodetest.Network(t)
		a, _ := startOnDisk(t, t.TempDir(), net, "hub-a")
		b, blog := startOnDisk(t, filepath.Join(vol.Dir, "hub-b"), net, "hub-b", a.GossipAddr())
		nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{a, b}) })
		dbB := filepath.Join(b.Dir, node.StoreFile)
		in := receivedReferral(t, a, b, referralTo("hub-b"))
		out, err := b.Refer(referralTo("hub-a"))
		if err != nil {
			t.Fatal(err)
		}
		nodetest.WaitState(t, a, out.Referral.ID, protocol.StateReceived)
		roomInMap(t, b)
		before, err := b.Self()
		if err != nil {
			t.Fatal(err)
		}

		vol.Fail(t)

		var e api.ErrorResponse
		const cause, todo = "read-only file system", "make the data directory writable"
		p := nodetest.Profile("hub-b")
		p.Name = "Renamed while read-only"
		st := callAPI(t, b, "PUT", "/v1/self/profile", p, &e)
		wantStorageError(t, "PUT /v1/self/profile", st, e, http.StatusServiceUnavailable, api.CodeStorageReadOnly, dbB, cause, todo)
		st = callAPI(t, b, "POST", "/v1/referrals", referralTo("hub-a"), &e)
		wantStorageError(t, "POST /v1/referrals", st, e, http.StatusServiceUnavailable, api.CodeStorageReadOnly, dbB, cause, todo)
		st = callAPI(t, b, "POST", "/v1/referrals/"+in+"/accept", nil, &e)
		wantStorageError(t, "POST /v1/referrals/ID/accept", st, e, http.StatusServiceUnavailable, api.CodeStorageReadOnly, dbB, cause, todo)

		// Reads go on, and show nothing changed.
		if got := referralStates(t, b); len(got) != 2 || got[in] != protocol.StateReceived || got[out.Referral.ID] != protocol.StateReceived {
			t.Errorf("referrals on a read-only disk: %v; want %s and %s, both received", got, in, out.Referral.ID)
		}
		var self api.SelfInfo
		if st := callAPI(t, b, "GET", "/v1/self", nil, &self); st != 200 || self.Revision != before.Revision || self.Profile.Name != before.Profile.Name {
			t.Errorf("GET /v1/self on a read-only disk: %d, revision %d; want 200, %d unchanged", st, self.Revision, before.Revision)
		}
		var found any
		if st := callAPI(t, b, "GET", "/v1/search?family=test-before-invest", nil, &found); st != 200 {
			t.Errorf("GET /v1/search on a read-only disk: %d", st)
		}

		waiting, err := a.Refer(referralTo("hub-b"))
		if err != nil {
			t.Fatal(err)
		}
		nodetest.Eventually(t, 10*time.Second, func() error {
			if !strings.Contains(blog.String(), "apply referral message") || !strings.Contains(blog.String(), cause) {
				return fmt.Errorf("hub-b has not logged the message it could not apply")
			}
			return nil
		})
		if info, err := a.Referral(waiting.Referral.ID); err != nil || info.Pending != 1 || info.Referral.State != protocol.StateRequested {
			t.Errorf("hub-a's referral to a read-only hub-b: %s with %d pending, %v; want requested, 1", info.Referral.State, info.Pending, err)
		}

		// A restart on the read-only disk is refused with the reason.
		leaveAndStop(t, b)
		if n, err := node.New(b.Cfg); err == nil {
			n.Shutdown()
			t.Error("a node started on a read-only data directory")
		} else if !strings.Contains(err.Error(), dbB) || !strings.Contains(err.Error(), cause) {
			t.Errorf("node.New on a read-only data directory: %v; want it to name %s and say %q", err, dbB, cause)
		}

		vol.Repair(t)
		faultfs.CheckBolt(t, dbB)
		b = b.Restart(a.GossipAddr())
		nodetest.WaitState(t, b, waiting.Referral.ID, protocol.StateReceived)
		if st := callAPI(t, b, "POST", "/v1/referrals/"+in+"/accept", nil, nil); st != 200 {
			t.Errorf("accept after the repair: %d, want 200", st)
		}
		if st := callAPI(t, b, "PUT", "/v1/self/profile", p, nil); st != 200 {
			t.Errorf("PUT /v1/self/profile after the repair: %d, want 200", st)
		}
		if got := referralStates(t, b); len(got) != 3 || got[in] != protocol.StateAccepted || got[out.Referral.ID] != protocol.StateReceived {
			t.Errorf("referrals after the repair: %v; want 3, %s accepted", got, in)
		}
	})
}

// metricOf reads one sample of h's /metrics, 0 when it is not there yet.
func metricOf(t *testing.T, h *nodetest.Hub, sample string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + h.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), sample+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("metricOf %s: %q: %v", sample, v, err)
			}
			return f
		}
	}
	return 0
}

// A hub that cannot record an acknowledgement, its disk gone read-only, sends the
// message again after a backoff, not at once in a loop: the other hub is asked again a
// few times a second at most, and the log gets no line per attempt.
func TestReferral_unrecordedAckNotResentInALoop(t *testing.T) {
	faultfs.Run(t, func(t *testing.T) {
		vol := faultfs.FailingExt4(t, 64<<20)
		net := nodetest.Network(t)
		a, _ := startOnDisk(t, t.TempDir(), net, "hub-a")
		b, blog := startOnDisk(t, filepath.Join(vol.Dir, "hub-b"), net, "hub-b", a.GossipAddr())
		nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{a, b}) })

		// hub-a is away while hub-b refers an SME to it; hub-b's disk fails; hub-a
		// comes back and acknowledges the offer, which hub-b cannot record.
		leaveAndStop(t, a)
		nodetest.Eventually(t, 10*time.Second, func() error {
			if h, err := b.Hub("hub-a"); err != nil || h.Reachable {
				return fmt.Errorf("hub-b still sees hub-a reachable (%v)", err)
			}
			return nil
		})
		sent, err := b.Refer(referralTo("hub-a"))
		if err != nil {
			t.Fatal(err)
		}
		roomInMap(t, b)
		vol.Fail(t)
		a = a.Restart(b.GossipAddr())
		nodetest.WaitState(t, a, sent.Referral.ID, protocol.StateReceived)

		const dup = `hubnet_referral_messages_total{result="duplicate"}`
		before, lines := metricOf(t, a, dup), strings.Count(blog.String(), "level=ERROR")
		time.Sleep(2 * time.Second)
		if n := metricOf(t, a, dup) - before; n > 20 {
			t.Errorf("hub-b sent the offer %.0f more times in 2 s, want a few at most", n)
		}
		if n := strings.Count(blog.String(), "level=ERROR") - lines; n > 20 {
			t.Errorf("hub-b logged %d errors in 2 s, want a few at most", n)
		}
	})
}
