package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/protocol"
)

// natsConns starts a NATS server on 127.0.0.1 and returns n client connections to it.
func natsConns(t *testing.T, n int) []*nats.Conn {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	if !srv.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats server not ready")
	}
	var out []*nats.Conn
	for range n {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		out = append(out, nc)
	}
	return out
}

// dropped records what a mailbox drops.
type dropped struct {
	mu   sync.Mutex
	errs []string
}

func (d *dropped) drop(reason string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs = append(d.errs, reason+": "+err.Error())
}

func (d *dropped) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.errs...)
}

// A request from one hub's mailbox to another's is answered through the one
// subscription of each; a request to a hub that has none fails at once with
// nats.ErrNoResponders, as nats.go's own request does; a reply to a token this run
// never gave, or a kind the mailbox does not know, is dropped and nothing else.
func TestMailbox_requestAndReply(t *testing.T) {
	conns := natsConns(t, 2)
	var dropsA, dropsB dropped
	a := newMailbox("a", nil, func(*nats.Msg) {}, dropsA.drop)
	b := newMailbox("b", map[string]nats.MsgHandler{
		protocol.KindProfile: func(m *nats.Msg) { m.Respond([]byte("profile of b for " + string(m.Data))) },
	}, func(*nats.Msg) {}, dropsB.drop)
	for i, mb := range []*mailbox{a, b} {
		if err := mb.subscribe(conns[i]); err != nil {
			t.Fatal(err)
		}
		if err := conns[i].Flush(); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for i := range 3 {
		m, err := a.request(ctx, protocol.ProfileSubject("b"), fmt.Appendf(nil, "a#%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("profile of b for a#%d", i); string(m.Data) != want {
			t.Errorf("reply %q, want %q", m.Data, want)
		}
		if !strings.HasPrefix(m.Subject, protocol.HubPrefix("a")+protocol.KindReply+".") {
			t.Errorf("reply came on %q, not a's reply subject", m.Subject)
		}
	}
	if _, err := a.request(ctx, protocol.ProfileSubject("c"), nil); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("request to a hub without a mailbox: %v, want %v", err, nats.ErrNoResponders)
	}
	short, cancelShort := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := a.request(short, protocol.ReferralSubject("b"), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("request of a kind b does not handle: %v, want %v", err, context.DeadlineExceeded)
	}

	conns[1].Publish(protocol.HubPrefix("a")+protocol.KindReply+".other-run-1", []byte("stray"))
	if err := conns[1].Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := a.request(ctx, protocol.ProfileSubject("b"), []byte("after")); err != nil || string(m.Data) != "profile of b for after" {
		t.Errorf("request after a stray reply: %v %q", err, m.Data)
	}
	if got := dropsA.list(); len(got) != 0 {
		t.Errorf("a dropped %q", got)
	}
	if got := dropsB.list(); len(got) != 1 || !strings.HasPrefix(got[0], "unknown-subject: no such kind") {
		t.Errorf("b dropped %q, want the referral it has no handler for", got)
	}
}

// Messages of one kind are handled in the order they came, one at a time, while the
// replies the handler waits for still arrive; once laneMaxMsgs wait, more are
// dropped with their kind named, and what waited is still handled.
func TestMailbox_laneOrderAndBacklog(t *testing.T) {
	conns := natsConns(t, 2)
	var drops dropped
	var (
		mu      sync.Mutex
		got     []string
		release = make(chan struct{})
	)
	var mb *mailbox
	mb = newMailbox("b", map[string]nats.MsgHandler{
		protocol.KindReferral: func(m *nats.Msg) {
			if string(m.Data) == "ask" {
				// A handler that makes a request of its own: its reply comes through the
				// same subscription while the lane is busy.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				r, err := mb.request(ctx, protocol.ProfileSubject("b"), nil)
				if err != nil {
					t.Errorf("request from a handler: %v", err)
					return
				}
				m.Respond(r.Data)
				return
			}
			<-release
			mu.Lock()
			got = append(got, string(m.Data))
			mu.Unlock()
		},
		protocol.KindProfile: func(m *nats.Msg) { m.Respond([]byte("profile")) },
	}, func(*nats.Msg) {}, drops.drop)
	if err := mb.subscribe(conns[1]); err != nil {
		t.Fatal(err)
	}
	if err := conns[1].Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := conns[0].Request(protocol.ReferralSubject("b"), []byte("ask"), 5*time.Second)
	if err != nil {
		t.Fatalf("a handler waiting for a reply: %v", err)
	}
	if string(r.Data) != "profile" {
		t.Fatalf("a handler waiting for a reply: answered %q", r.Data)
	}

	const sent = laneMaxMsgs + 10
	for i := range sent {
		if err := conns[0].Publish(protocol.ReferralSubject("b"), fmt.Append(nil, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := conns[0].Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(drops.list()) < 9 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	// The first message is in the handler, laneMaxMsgs wait behind it: the other 9
	// are dropped.
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == laneMaxMsgs+1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != laneMaxMsgs+1 {
		t.Fatalf("%d handled, want %d", len(got), laneMaxMsgs+1)
	}
	for i, s := range got {
		if s != fmt.Sprint(i) {
			t.Fatalf("message %q handled in place %d", s, i)
		}
	}
	if d := drops.list(); len(d) != 9 || !strings.HasPrefix(d[0], "backlog-referral: 65536 messages") {
		t.Errorf("dropped %d: %q, want 9 referral messages", len(d), d[:min(len(d), 3)])
	}
}
