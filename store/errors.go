package store

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/hubnet-eu/hubnet/protocol"
)

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
	// ErrNoIdentity is returned when the hub has no identity yet: the data file was
	// never initialised.
	ErrNoIdentity = errors.New("store: no identity")
	// ErrIdentityExists is returned by CreateIdentity when an identity is already stored.
	ErrIdentityExists = errors.New("store: identity already exists")
	// ErrNoProfile is returned when the hub has not stored its own profile yet.
	ErrNoProfile = errors.New("store: no profile yet")
	// ErrNotFound is returned when a hub is not in the directory cache or a referral is
	// not stored. It is protocol.ErrNotFound, the error of a hub asked for what it does
	// not have, so that callers test for one not-found whichever part said it.
	ErrNotFound = protocol.ErrNotFound
	// ErrWrite is returned, wrapped with the path and the cause, when the data file could
	// not be written: the disk is full, the file system is read-only, the device failed.
	// The write is rolled back, and what was stored before is intact; only an I/O error
	// in the last fsync leaves unknown whether the write reached the disk. The cause is
	// matched with errors.Is: syscall.ENOSPC, EDQUOT, EFBIG, EROFS or EIO, whether or not
	// bbolt wrapped the errno it got.
	ErrWrite = errors.New("store: could not write the data file")
	// ErrStale is returned by PutHub when the cached revision of the hub's profile is the
	// same as or newer than the one offered.
	ErrStale = errors.New("store: stale profile revision")
	// ErrExists is returned when a person or a token is added with an ID (or a
	// token hash) already stored.
	ErrExists = errors.New("store: already exists")
)

// writeFailed wraps an error of bbolt's commit, as opposed to one of the write
// function, in ErrWrite with the file's path.
func writeFailed(path string, err error) error {
	if err == nil || errors.Is(err, ErrClosed) {
		return err
	}
	return fmt.Errorf("%w %s: %w", ErrWrite, path, withErrno(err))
}

// diskErrnos are the causes of a failed write that callers act on.
var diskErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.EROFS, syscall.EIO}

// withErrno returns err, made to wrap the errno its text ends with when it does not:
// bbolt formats the errors of growing the file with %s ("file resize error: file too
// large"), which drops the errno.
func withErrno(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return err
	}
	for _, e := range diskErrnos {
		if strings.HasSuffix(err.Error(), e.Error()) {
			return errnoError{err, e}
		}
	}
	return err
}

// errnoError is an error with the errno its text names.
type errnoError struct {
	err   error
	errno syscall.Errno
}

func (e errnoError) Error() string   { return e.err.Error() }
func (e errnoError) Unwrap() []error { return []error{e.err, e.errno} }
