package faultfs

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// mustBoltFile makes a bbolt file of commits transactions, each writing a few keys and
// deleting some written before, so that it has free pages, and returns its path and
// its last txid.
func mustBoltFile(t *testing.T, commits int) (string, uint64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	// Without fsync: the file is read back from the page cache, and no power is cut.
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	value := []byte(strings.Repeat("v", 700))
	for i := range commits {
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			for j := range 5 {
				if err := b.Put(fmt.Appendf(nil, "k%04d-%d", i, j), value); err != nil {
					return err
				}
			}
			if i >= 3 {
				return b.Delete(fmt.Appendf(nil, "k%04d-0", i-3))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var txid uint64
	if err := db.View(func(tx *bolt.Tx) error { txid = uint64(tx.ID()); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, txid
}

// TestTearNextCommit_opensAtLastCommit tears the commit after the last one, as a
// power cut would, and checks that bbolt opens the file at the last commit with all
// of its data, and goes on from there.
func TestTearNextCommit_opensAtLastCommit(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			commits := 40 + int(seed%2) // either meta page torn
			path, txid := mustBoltFile(t, commits)
			torn, err := TearNextCommit(path, rand.New(rand.NewPCG(seed, 0)))
			if err != nil {
				t.Fatal(err)
			}
			if torn.Txid != txid || len(torn.Pages) == 0 || torn.Slot != int((txid+1)%2) {
				t.Fatalf("got %v, want the commit after txid %d torn in meta page %d, with pages written", torn, txid, (txid+1)%2)
			}
			// The torn meta page is there, and does not pass bbolt's check.
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := pageSize(mustOpen(t, path), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parseMeta(data[torn.Slot*ps:]); err == nil {
				t.Fatalf("meta page %d passes the checksum after the tear", torn.Slot)
			}
			if err := CheckOpens(path, txid); err != nil {
				t.Fatal(err)
			}

			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.View(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("b"))
				last := commits - 1
				for j := range 5 {
					if k := fmt.Appendf(nil, "k%04d-%d", last, j); b.Get(k) == nil {
						return fmt.Errorf("key %s of the last commit is gone", k)
					}
				}
				if k := fmt.Appendf(nil, "k%04d-0", last-3); b.Get(k) != nil {
					return fmt.Errorf("key %s, deleted by the last commit, is back", k)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("after"), []byte("x")) }); err != nil {
				t.Fatalf("commit after the tear: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := CheckOpens(path, txid+1); err != nil {
				t.Fatalf("after a commit that followed the tear: %v", err)
			}
		})
	}
}

// TestCheckOpens_newestMetaTorn shows why the harness does not tear the newest meta
// page: bbolt then opens the commit before, and CheckOpens says so.
func TestCheckOpens_newestMetaTorn(t *testing.T) {
	path, txid := mustBoltFile(t, 10)
	f := mustOpen(t, path)
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pageSize(f, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	// The checksum's last byte, flipped.
	at := int64(txid%2)*int64(ps) + pageHeaderSize + metaSize - 1
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
	err = CheckOpens(path, txid)
	if want := fmt.Sprintf("opens %s at txid %d, want %d", path, txid-1, txid); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want an error saying bbolt %s", err, want)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
