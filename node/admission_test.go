package node_test

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// A local process without the operator token cannot attach to the node's NATS client
// listener, and so cannot read what passes through the node.
func TestNATSClientPort_needsToken(t *testing.T) {
	h := nodetest.Start(t, nodetest.Network(t), "hub-1", nil)
	for name, opts := range map[string][]nats.Option{
		"no token":    nil,
		"wrong token": {nats.Token("not-the-token")},
	} {
		nc, err := nats.Connect(h.Addrs().Client, opts...)
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected, want an authorization error", name)
		} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Errorf("%s: %v, want an authorization error", name, err)
		}
	}
	nc, err := nats.Connect(h.Addrs().Client, nodetest.Token(h))
	if err != nil {
		t.Fatalf("with the operator token: %v", err)
	}
	nc.Close()
}
