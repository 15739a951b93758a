package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the version of the file layout this build reads and writes: the
// number of migrations it knows.
const SchemaVersion = 5

// initialMmapSize is the size of bbolt's first memory map of the file.
const initialMmapSize = 1 << 30

// DefaultLockTimeout is how long Open waits for another process's lock when
// Options.LockTimeout is zero.
const DefaultLockTimeout = time.Second

// Bucket and key names.
var (
	bucketMeta     = []byte("meta")
	bucketIdentity = []byte("identity")
	bucketSelf     = []byte("self")
	bucketHubs     = []byte("hubs")
	bucketBodies   = []byte("hub_bodies")

	// Since schema 2: referrals and their messages; see referrals.go, outbox.go, inbox.go
	// and kpi.go.
	bucketReferrals   = []byte("referrals")
	bucketSMEs        = []byte("referral_smes")
	bucketCreated     = []byte("referrals_created")
	bucketOutbox      = []byte("outbox")
	bucketOutboxBlobs = []byte("outbox_envelopes")
	bucketInbox       = []byte("inbox")
	bucketKPIs        = []byte("kpis")

	// Since schema 4: people and API tokens; see people.go and tokens.go.
	bucketPeople       = []byte("people")
	bucketPeopleEmails = []byte("people_emails")
	bucketTokens       = []byte("tokens")
	bucketTokenHashes  = []byte("token_hashes")

	// Since schema 5: the change feed and notifications; see events.go and notify.go.
	bucketEvents         = []byte("events")
	bucketNotifyOutbox   = []byte("notify_outbox")
	bucketNotifyLog      = []byte("notify_log")
	bucketWebhooks       = []byte("webhooks")
	bucketNotifySettings = []byte("notify_settings")
	bucketDueMarks       = []byte("due_marks")

	keySchema = []byte("schema")
)

// Options configures Open. A nil *Options means the defaults.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the data file
	// before it returns ErrInUse. Zero means DefaultLockTimeout (1s); a negative value
	// fails at once.
	LockTimeout time.Duration

	// NoSync skips fsync after each write, so a crash can lose or corrupt recent writes.
	// For benchmarks and throwaway tests only.
	NoSync bool

	// Now is the clock that stamps profile revisions, fetch times, referral updates,
	// outbox entries and received messages. Nil means time.Now.
	Now func() time.Time
}

// Store is a hub's data file. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time

	wmu     sync.Mutex // guards writes and writing
	writes  []*write   // waiting for the next commit
	writing bool       // a goroutine is committing

	feed feed        // wakes the readers of the change feed; see events.go
	mail atomic.Bool // whether e-mail notifications are queued; see SetMail
}

// write is one call of update waiting for its commit.
type write struct {
	fn   func(tx *bolt.Tx) error
	err  error
	done chan struct{}
}

// Open opens the data file at path, creating it with mode 0600 if it does not exist (its
// directory must), and migrates it to SchemaVersion. It returns ErrInUse when another
// process holds the file and ErrSchemaTooNew when a newer hubnet wrote it.
func Open(path string, opts *Options) (*Store, error) {
	return open(path, opts, migrations)
}

// open is Open with the migration steps as a parameter, so tests can add one.
func open(path string, opts *Options, steps []migration) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	bo := *bolt.DefaultOptions
	bo.Timeout = o.LockTimeout
	bo.NoSync = o.NoSync
	// A map large enough that bbolt seldom maps the file again: since Linux 6.16 a
	// file on a filesystem that an error made read-only cannot be mapped again, and a
	// store left with no map reads nothing until it is opened anew. The map is address
	// space, not memory: pages are read in as they are used.
	bo.InitialMmapSize = initialMmapSize
	db, err := bolt.Open(path, 0o600, &bo)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w", path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return migrate(tx, steps) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db, path: path, now: o.Now}, nil
}

// Close releases the data file and its lock, after waiting for open transactions.
// Closing a closed Store does nothing.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the path of the data file, as given to Open.
func (s *Store) Path() string { return s.path }

// view runs fn in a read transaction.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	return closed(s.db.View(fn))
}

// update runs fn in a write transaction, committed (and fsynced) when fn returns nil.
//
// Writes that arrive while another commit is on its way to the disk are committed
// together, in one transaction and one fsync, in the order they arrived: group
// commit. A lone write waits for nothing. If any fn of a group fails, the group is
// rolled back and each fn runs again in a transaction of its own, so every fn must
// read what it needs from tx and leave nothing behind until update returns: every
// fn in this package does. An error of fn is returned as it is; a failure to commit
// is wrapped in ErrWrite.
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	w := &write{fn: guarded(fn), done: make(chan struct{})}
	s.wmu.Lock()
	s.writes = append(s.writes, w)
	lead := !s.writing
	s.writing = true
	s.wmu.Unlock()
	if lead && s.commitGroup() {
		// Writes came in meanwhile: commit them in the background, so this caller,
		// whose write is done, need not wait for theirs.
		go s.drain()
	}
	<-w.done
	return w.err
}

// guarded turns a panic in fn into its error: fn may run in another caller's
// goroutine, which must go on committing for the others.
func guarded(fn func(tx *bolt.Tx) error) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("store: write panicked: %v", p)
			}
		}()
		return fn(tx)
	}
}

// commitGroup commits the writes waiting now, and reports whether more arrived
// meanwhile; when none did, no goroutine is committing any more.
func (s *Store) commitGroup() bool {
	s.wmu.Lock()
	group := s.writes
	s.writes = nil
	s.wmu.Unlock()
	s.commit(group)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if len(s.writes) == 0 {
		s.writing = false
		return false
	}
	return true
}

// drain commits groups until no write is waiting.
func (s *Store) drain() {
	for s.commitGroup() {
	}
}

// commit runs a group of writes in one transaction, or each alone if one fails.
func (s *Store) commit(group []*write) {
	defer func() {
		s.feed.committed()
		for _, w := range group {
			close(w.done)
		}
	}()
	if len(group) > 1 {
		failed := false
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, w := range group {
				if err := w.fn(tx); err != nil {
					failed = true
					return err
				}
			}
			return nil
		})
		if !failed {
			for _, w := range group {
				w.err = writeFailed(s.path, closed(err))
			}
			return
		}
	}
	for _, w := range group {
		var fnErr error
		err := s.db.Update(func(tx *bolt.Tx) error {
			fnErr = w.fn(tx)
			return fnErr
		})
		if fnErr != nil {
			w.err = fnErr
		} else {
			w.err = writeFailed(s.path, closed(err))
		}
	}
}

// closed maps bbolt's error for a closed database to ErrClosed, and says what to do
// when bbolt has lost its map of the file.
func closed(err error) error {
	switch {
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return ErrClosed
	case errors.Is(err, berrors.ErrInvalidMapping):
		return fmt.Errorf("%w, after a write failed to map the data file larger: restart hubnet", err)
	}
	return err
}

// clock returns the store's time, in UTC and without a monotonic reading, so that
// what is stored compares equal to what is read back.
func (s *Store) clock() time.Time { return s.now().UTC() }

// timeKeyLen is the length of a timeKey.
const timeKeyLen = 12

// timeKey encodes t so that keys sort as their times do, for every t, the zero time
// too: the Unix seconds with the sign bit flipped, then the nanoseconds, big-endian.
func timeKey(t time.Time) []byte {
	k := make([]byte, 0, timeKeyLen)
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
}

// A migration upgrades the file from its index in migrations to the next version. It
// runs inside Open's write transaction: if it fails, nothing of it is kept.
type migration struct {
	name string
	up   func(tx *bolt.Tx) error
}

// migrations[i] upgrades schema i to i+1; len(migrations) must equal SchemaVersion.
// Add a version by appending a step and raising SchemaVersion; never edit a released
// step.
var migrations = []migration{
	{name: "create buckets", up: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketIdentity, bucketSelf, bucketHubs, bucketBodies} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	{name: "create referral buckets", up: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketReferrals, bucketSMEs, bucketCreated, bucketOutbox, bucketOutboxBlobs, bucketInbox, bucketKPIs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	{name: "create trust buckets", up: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketRevocations, bucketSeen} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	{name: "create people and token buckets", up: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketPeople, bucketPeopleEmails, bucketTokens, bucketTokenHashes} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	{name: "create feed and notification buckets", up: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEvents, bucketNotifyOutbox, bucketNotifyLog, bucketWebhooks, bucketNotifySettings, bucketDueMarks} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
}

// migrate brings the file from its stored version to len(steps), or refuses a file
// newer than that.
func migrate(tx *bolt.Tx, steps []migration) error {
	want := uint64(len(steps))
	have, err := schemaVersion(tx)
	if err != nil {
		return err
	}
	if have > want {
		return fmt.Errorf("file has schema %d, this build supports up to %d: %w", have, want, ErrSchemaTooNew)
	}
	if have == want {
		return nil
	}
	for v := have; v < want; v++ {
		if err := steps[v].up(tx); err != nil {
			return fmt.Errorf("migrate schema %d to %d (%s): %w", v, v+1, steps[v].name, err)
		}
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, want)); err != nil {
		return fmt.Errorf("write schema version %d: %w", want, err)
	}
	return nil
}

// schemaVersion reads the file's schema version: 0 for a fresh file.
func schemaVersion(tx *bolt.Tx) (uint64, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		// A bbolt file of some other program has buckets but no meta; do not write ours
		// into it.
		if k, _ := tx.Cursor().First(); k != nil {
			return 0, fmt.Errorf("not a hubnet data file: bucket %q but no %s bucket", k, bucketMeta)
		}
		return 0, nil
	}
	v := meta.Get(keySchema)
	if len(v) != 8 {
		return 0, fmt.Errorf("schema version is %d bytes, want 8: data file is damaged", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
