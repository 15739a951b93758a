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
	// ErrNoProfile is returned when the hub has not published its own profile yet.
	ErrNoProfile = store.ErrNoProfile
	// ErrWrite is returned, wrapped with the cause, when the data file did not take a
	// write: nothing was changed, or, after an I/O error in the last fsync, perhaps
	// it was. See store.ErrWrite.
	ErrWrite = store.ErrWrite
	// ErrInitialised is returned by InitDataDir for a data directory that already
	// holds a hub.
	ErrInitialised = store.ErrIdentityExists
)
