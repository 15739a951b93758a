package node_test

import (
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node/nodetest"
)

func TestDirectory_fiveHubsConverge(t *testing.T) {
	net := nodetest.Network(t)
	hubs := nodetest.StartN(t, net, 5)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
}
