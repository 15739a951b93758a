package faultfs

import (
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Kinds of [Disk]: how it runs out of space.
const (
	// Tmpfs is a tmpfs of its own, in the child's mount namespace: a write that needs a
	// page more than the disk has fails with ENOSPC, as on a real full disk.
	Tmpfs = "tmpfs"
	// Rlimit is RLIMIT_FSIZE on the child process: a write past the limit fails with
	// EFBIG. It limits every file the process writes, not only those in Dir.
	Rlimit = "rlimit"
)

// Disk is a directory on a disk that a test fills and empties. Make one with FullDisk.
type Disk struct {
	// Dir is the directory to put the files in.
	Dir string
	// Kind is Tmpfs or Rlimit.
	Kind string

	size   int64  // of the tmpfs, bytes
	filler string // the file that fills the tmpfs
}

// Volume is an ext4 file system on a loop device, mounted with errors=remount-ro, that
// a test makes fail. Make one with FailingExt4.
type Volume struct {
	// Dir is where the file system is mounted.
	Dir string

	image string // the file the file system lives in
}

// CheckBolt opens the bbolt file at path read-only, runs bbolt's consistency check
// (every page reachable once, no page both used and free, keys in order) and fails the
// test with every problem it finds.
func CheckBolt(t testing.TB, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open %s to check it: %v", path, err)
	}
	defer db.Close()
	var problems []string
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			problems = append(problems, err.Error())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("check %s: %v", path, err)
	}
	if len(problems) > 0 {
		t.Fatalf("%s fails bbolt's check:\n%s", path, strings.Join(problems, "\n"))
	}
}
