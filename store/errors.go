package store

import "errors"

// Sentinel errors of the store. Methods wrap them with what failed; match them with
// errors.Is.
var (
	// ErrInUse is returned by Open when another process holds the data file's lock for
	// longer than Options.LockTimeout.
	ErrInUse = errors.New("store: data directory is in use by another process; is another hubnet running on the same directory?")
	// ErrSchemaTooNew is returned by Open when the file was written by a newer hubnet
	// with a schema this build does not know.
	ErrSchemaTooNew = errors.New("store: data file schema is newer than this hubnet supports")
	// ErrClosed is returned when a Store is used after Close.
	ErrClosed = errors.New("store: closed")
	// ErrNoIdentity is returned when the hub has no identity yet.
	ErrNoIdentity = errors.New("store: no identity; run hubnet init first")
	// ErrIdentityExists is returned by CreateIdentity when an identity is already stored.
	ErrIdentityExists = errors.New("store: identity already exists")
	// ErrNoProfile is returned when the hub has not stored its own profile yet.
	ErrNoProfile = errors.New("store: no profile yet")
	// ErrNotFound is returned when a hub is not in the directory cache or a referral is
	// not stored.
	ErrNotFound = errors.New("store: not found")
	// ErrStale is returned by PutHub when the cached revision of the hub's profile is the
	// same as or newer than the one offered.
	ErrStale = errors.New("store: stale profile revision")
)
