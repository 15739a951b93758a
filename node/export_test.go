package node

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
