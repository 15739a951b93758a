package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// testClock is a clock that moves only when told to.
type testClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustOpen opens a fresh store in a temporary directory, closed when the test ends.
func mustOpen(t testing.TB) *Store {
	t.Helper()
	return mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), nil)
}

// mustOpenPath opens the store at path, closed when the test ends.
func mustOpenPath(t testing.TB, path string, opts *Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// mustIdentity makes fresh keys for the hub id.
func mustIdentity(t testing.TB, id string) protocol.Identity {
	t.Helper()
	ident, err := protocol.NewIdentity(id, rand.Reader)
	if err != nil {
		t.Fatalf("NewIdentity(%s): %v", id, err)
	}
	return ident
}

// mustNetwork makes a network called testnet.
func mustNetwork(t testing.TB) protocol.Network {
	t.Helper()
	n, _, err := protocol.NewNetwork("testnet", rand.Reader)
	if err != nil {
		t.Fatalf("NewNetwork: %v", err)
	}
	return n
}

// mustInit gives s an identity for the hub id, as `hubnet init` does.
func mustInit(t testing.TB, s *Store, id string) protocol.Identity {
	t.Helper()
	ident := mustIdentity(t, id)
	if err := s.CreateIdentity(ident, mustNetwork(t)); err != nil {
		t.Fatalf("CreateIdentity: %v", err)
	}
	return ident
}

// testProfile returns a valid profile of the hub id.
func testProfile(id string) protocol.Profile {
	return protocol.Profile{
		ID:        id,
		Name:      "Test Hub " + id,
		Type:      protocol.HubEDIH,
		Country:   "FI",
		Languages: []string{"fi", "en"},
		Contact:   protocol.Contact{Role: "partnerships", Email: "partners@example.eu"},
		Capacity: map[protocol.Family]protocol.Capacity{
			protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 10, Unit: "SMEs per month"},
		},
	}
}

// readSchema reads the schema version of a closed store file.
func readSchema(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	defer db.Close()
	var v uint64
	if err := db.View(func(tx *bolt.Tx) error {
		var err error
		v, err = schemaVersion(tx)
		return err
	}); err != nil {
		t.Fatalf("read schema: %v", err)
	}
	return v
}

func TestOpen_creates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s := mustOpenPath(t, path, nil)
	if got := s.Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode %v, want 0600", got)
	}
	if _, err := s.Identity(); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("Identity() error %v, want ErrNoIdentity", err)
	}
	if hubs, err := s.Hubs(); err != nil || hubs == nil || len(hubs) != 0 {
		t.Errorf("Hubs() = %v, %v; want empty, nil", hubs, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := readSchema(t, path); got != SchemaVersion {
		t.Errorf("schema %d, want %d", got, SchemaVersion)
	}
}

func TestOpen_missingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "hubnet.db")
	_, err := Open(path, nil)
	if err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q, want one naming %s and wrapping os.ErrNotExist", err, path)
	}
}

func TestOpen_notBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, nil); err == nil {
		t.Fatal("Open of a text file succeeded")
	}
}

func TestOpen_foreignBoltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("widgets"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, nil)
	if err == nil || !strings.Contains(err.Error(), "not a hubnet data file") {
		t.Fatalf("Open of another program's bbolt file: %v, want 'not a hubnet data file'", err)
	}
}

func TestOpen_inUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	mustOpenPath(t, path, nil)

	start := time.Now()
	s, err := Open(path, &Options{LockTimeout: 200 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("second Open of the same file succeeded")
	}
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), "another hubnet") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q should name the path and suggest another hubnet is running", err)
	}
	if elapsed < 100*time.Millisecond || elapsed > 800*time.Millisecond {
		t.Errorf("second Open took %v, want about 200ms", elapsed)
	}
}

func TestStore_Close_releasesLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	mustOpenPath(t, path, &Options{LockTimeout: -1})
}

func TestStore_Close_thenUse(t *testing.T) {
	s := mustOpen(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hubs(); !errors.Is(err, ErrClosed) {
		t.Errorf("Hubs after Close: %v, want ErrClosed", err)
	}
	if _, err := s.PutSelf(testProfile("hub-one")); !errors.Is(err, ErrClosed) {
		t.Errorf("PutSelf after Close: %v, want ErrClosed", err)
	}
}

func TestStore_reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ident := mustInit(t, s, "hub-one")
	net, err := s.Network()
	if err != nil {
		t.Fatal(err)
	}
	self, err := s.PutSelf(testProfile("hub-one"))
	if err != nil {
		t.Fatal(err)
	}
	other := mustSignedHub(t, mustIdentity(t, "hub-two"), 4)
	if err := s.PutHub(other); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenPath(t, path, nil)
	gotIdent, err := s.Identity()
	if err != nil {
		t.Fatalf("Identity after reopen: %v", err)
	}
	if !identityEqual(gotIdent, ident) {
		t.Errorf("Identity after reopen differs from the one stored")
	}
	gotNet, err := s.Network()
	if err != nil || gotNet.Name != net.Name || string(gotNet.GossipKey) != string(net.GossipKey) {
		t.Errorf("Network after reopen = %+v, %v; want %+v", gotNet, err, net)
	}
	gotSelf, _, err := s.Self()
	if err != nil || gotSelf.Revision != self.Revision || gotSelf.Name != self.Name {
		t.Errorf("Self after reopen = revision %d, %v; want revision %d", gotSelf.Revision, err, self.Revision)
	}
	h, err := s.Hub("hub-two")
	if err != nil || h.Profile.Revision != 4 {
		t.Errorf("Hub(hub-two) after reopen = revision %d, %v; want 4", h.Profile.Revision, err)
	}
}

func TestMigrations_matchSchemaVersion(t *testing.T) {
	if len(migrations) != SchemaVersion {
		t.Errorf("%d migrations, SchemaVersion %d: raise SchemaVersion with each new step", len(migrations), SchemaVersion)
	}
}

// withStep returns the migrations with one more step.
func withStep(m migration) []migration {
	return append(migrations[:len(migrations):len(migrations)], m)
}

func TestMigrate_newStep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustInit(t, s, "hub-one")
	if _, err := s.PutSelf(testProfile("hub-one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The file is at SchemaVersion; a build with one more step finds it one behind.
	ran := 0
	s, err = open(path, nil, withStep(migration{name: "test step", up: func(tx *bolt.Tx) error {
		ran++
		_, err := tx.CreateBucket([]byte("test_step"))
		return err
	}}))
	if err != nil {
		t.Fatalf("open with a new step: %v", err)
	}
	if ran != 1 {
		t.Errorf("new step ran %d times, want 1", ran)
	}
	if p, _, err := s.Self(); err != nil || p.Revision != 1 {
		t.Errorf("Self after migration = revision %d, %v; want 1", p.Revision, err)
	}
	if _, err := s.Identity(); err != nil {
		t.Errorf("Identity after migration: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := readSchema(t, path), uint64(SchemaVersion+1); got != want {
		t.Errorf("schema %d after migration, want %d", got, want)
	}

	// Opening again with the same steps runs nothing.
	s, err = open(path, nil, withStep(migration{name: "test step", up: func(tx *bolt.Tx) error {
		ran++
		return nil
	}}))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if ran != 1 {
		t.Errorf("step ran again on a current file")
	}
}

func TestMigrate_failedStepKeepsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustInit(t, s, "hub-one")
	s.Close()

	boom := errors.New("boom")
	_, err = open(path, nil, withStep(migration{name: "failing step", up: func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("half-done")); err != nil {
			return err
		}
		return boom
	}}))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "failing step") {
		t.Fatalf("open with a failing step: %v, want the step's error naming the step", err)
	}
	if got := readSchema(t, path); got != SchemaVersion {
		t.Errorf("schema %d after a failed migration, want %d", got, SchemaVersion)
	}
	s = mustOpenPath(t, path, nil)
	if err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("half-done")) != nil {
			t.Error("a failed step's bucket was kept")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_schemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubnet.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint64(nil, SchemaVersion+6))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = Open(path, nil)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer file: %v, want ErrSchemaTooNew", err)
	}
	if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("schema %d", SchemaVersion+6)) ||
		!strings.Contains(msg, fmt.Sprintf("up to %d", SchemaVersion)) {
		t.Errorf("error %q should name both versions", msg)
	}
	if got := readSchema(t, path); got != SchemaVersion+6 {
		t.Errorf("schema changed to %d by a refused Open", got)
	}
}

func identityEqual(a, b protocol.Identity) bool {
	return a.ID == b.ID && a.SignKey.Equal(b.SignKey) && a.BoxKey == b.BoxKey && a.BoxPub == b.BoxPub
}

// Concurrent writes are committed in groups, each applied once, and one that fails
// fails alone: the others of its group still commit.
func TestStore_groupCommit(t *testing.T) {
	s := mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), nil)
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.update(func(tx *bolt.Tx) error {
				if i%10 == 3 {
					return fmt.Errorf("write %d refused", i)
				}
				b, err := tx.CreateBucketIfNotExists([]byte("group_test"))
				if err != nil {
					return err
				}
				return b.Put([]byte(fmt.Sprintf("%03d", i)), []byte("x"))
			})
		})
	}
	wg.Wait()
	want := 0
	for i, err := range errs {
		if (i%10 == 3) != (err != nil) {
			t.Errorf("write %d: err = %v", i, err)
		}
		if err == nil {
			want++
		}
	}
	got := 0
	s.view(func(tx *bolt.Tx) error {
		got = tx.Bucket([]byte("group_test")).Stats().KeyN
		return nil
	})
	if got != want {
		t.Errorf("%d keys stored, want %d", got, want)
	}
}

// A write that panics fails alone, with an error; the store goes on writing.
func TestStore_groupCommitPanic(t *testing.T) {
	s := mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), nil)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.update(func(tx *bolt.Tx) error {
				if i == 5 {
					panic("boom")
				}
				b, err := tx.CreateBucketIfNotExists([]byte("panic_test"))
				if err != nil {
					return err
				}
				return b.Put([]byte{byte(i)}, []byte("x"))
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 5) != (err != nil) {
			t.Errorf("write %d: err = %v", i, err)
		}
	}
	if err := s.update(func(tx *bolt.Tx) error { return nil }); err != nil {
		t.Errorf("write after a panic: %v", err)
	}
}

func TestTimeKey_sorts(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(1960, 1, 1, 0, 0, 0, 999, time.UTC),
		time.Unix(0, 0),
		time.Unix(0, 1),
		testTime,
		testTime.Add(time.Nanosecond),
		testTime.Add(time.Second - time.Nanosecond),
		time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC), // past UnixNano's range
	}
	for i := 1; i < len(times); i++ {
		if a, b := timeKey(times[i-1]), timeKey(times[i]); bytes.Compare(a, b) >= 0 {
			t.Errorf("timeKey(%v) = %x is not before timeKey(%v) = %x", times[i-1], a, times[i], b)
		}
	}
}
