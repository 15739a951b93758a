package node

// SetParallelScan sets the number of admitted hubs above which a search scores them
// in parallel parts, and returns a function that restores it.
func SetParallelScan(n int) (restore func()) {
	old := parallelScan
	parallelScan = n
	return func() { parallelScan = old }
}
