package node

import "github.com/hubnet-eu/hubnet/store"

// Errors callers of this package may match with errors.Is.
var (
	// ErrInUse is returned by New when another process runs a node on the same data
	// directory.
	ErrInUse = store.ErrInUse
	// ErrNotInitialised is returned by New for a data directory that holds no hub:
	// `hubnet init` has not made one there.
	ErrNotInitialised = store.ErrNoIdentity
	// ErrInitialised is returned by InitDataDir for a data directory that already
	// holds a hub.
	ErrInitialised = store.ErrIdentityExists
)
