package node

import "time"

// SetParallelScan sets the number of admitted hubs above which a search scores them
// in parallel parts, and returns a function that restores it.
func SetParallelScan(n int) (restore func()) {
	old := parallelScan
	parallelScan = n
	return func() { parallelScan = old }
}

// SetBatchSync sets how many profiles a hub must lack before it asks for them in
// batches, and the bytes of profiles in one batch served, and returns a function that
// restores both.
func SetBatchSync(lacking, bytes int) (restore func()) {
	oldMin, oldBytes := syncMin, batchBytes
	syncMin, batchBytes = lacking, bytes
	return func() { syncMin, batchBytes = oldMin, oldBytes }
}

// SetGossipDeaf makes n drop every gossip packet and stream that comes to it, or
// hear them again: only the exchanges it starts itself reach it.
func SetGossipDeaf(n *Node, deaf bool) { n.gossipTr.deaf.Store(deaf) }

// SetCatchUp sets when, after its join, a hub asks a member for the membership again,
// and returns a function that restores it.
func SetCatchUp(after ...time.Duration) (restore func()) {
	old := catchUpAfter
	catchUpAfter = after
	return func() { catchUpAfter = old }
}
