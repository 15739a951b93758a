package spread

import (
	"time"

	"github.com/hubnet-eu/hubnet/node"
)

// SettleWait bounds how long Settle waits for one hub.
const SettleWait = 15 * time.Second

// Settle waits, at most SettleWait or until stop closes, until hub h holds the
// profile of every hub it knows, at least known of them (itself among them), and
// first holds h's: the new hub has its directory, and its own profile is on its way
// to the others. It reports whether h settled.
//
// Hubs on one machine start one after another with Settle between them. A hub's
// start costs every other hub a little work (gossip, subscription interest, a
// profile to fetch); several hundred started back to back on two cores pile that
// work up faster than it is done, and the federation then spends its CPU on false
// suspicions of hubs too busy to answer in time (docs/benchmarks.md). Real hubs each
// have a machine of their own; settled one by one, the hubs of one machine get the
// same chance.
func Settle(h, first *node.Node, known int, stop <-chan struct{}) bool {
	deadline := time.Now().Add(SettleWait)
	for {
		if settled(h, first, known) {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		select {
		case <-stop:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// settled reports whether h knows at least n hubs and holds the profile of each,
// and first holds h's.
func settled(h, first *node.Node, n int) bool {
	peers := h.Peers()
	if len(peers) < n {
		return false
	}
	for _, p := range peers {
		if !p.Current() {
			return false
		}
	}
	if first == h {
		return true
	}
	for _, p := range first.Peers() {
		if p.ID == h.ID() {
			return p.Current()
		}
	}
	return false
}
