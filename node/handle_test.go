package node_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// wantPanic fails the test unless f panics.
func wantPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

// A handler added with Handle before Start is served beside the API; one that
// conflicts with a route, or comes after Start, panics at the call.
func TestNode_Handle(t *testing.T) {
	dir := t.TempDir()
	nodetest.Init(t, dir, nodetest.Network(t), "hub-1", nil)
	n, err := node.New(nodetest.Config(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown() })
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	n.Handle("GET /hello", hello)
	wantPanic(t, "an API route", func() { n.Handle("GET /v1/self", hello) })
	wantPanic(t, "a route added before", func() { n.Handle("GET /hello", hello) })

	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantPanic(t, "after Start", func() { n.Handle("GET /late", hello) })
	hc := &http.Client{Timeout: 10 * time.Second}
	for path, want := range map[string]int{"/hello": http.StatusOK, "/v1/self": http.StatusOK, "/late": http.StatusNotFound} {
		resp, err := hc.Get("http://" + n.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: got %d, want %d", path, resp.StatusCode, want)
		}
		if path == "/hello" && string(body) != "hello" {
			t.Errorf("GET /hello: got %q, want %q", body, "hello")
		}
	}
}

// A gossip address whose host is a name, not an IP address, is refused when the node
// is made, naming the setting; an IP address or an empty host is taken.
func TestNew_gossipHostMustBeIP(t *testing.T) {
	dir := t.TempDir()
	nodetest.Init(t, dir, nodetest.Network(t), "hub-1", nil)
	cfg := nodetest.Config(dir)
	cfg.GossipAddr = "localhost:0"
	if _, err := node.New(cfg); err == nil || !strings.Contains(err.Error(), "GossipAddr") || !strings.Contains(err.Error(), "IP address") {
		t.Fatalf("gossip on localhost:0: got %v, want an error naming GossipAddr and the rule", err)
	}
	for _, addr := range []string{"127.0.0.1:0", ":0"} {
		cfg.GossipAddr = addr
		n, err := node.New(cfg)
		if err != nil {
			t.Fatalf("gossip on %s: %v", addr, err)
		}
		n.Shutdown()
	}
}
