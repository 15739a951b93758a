package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/internal/faultfs"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The store on a disk that fills up, and on one that the kernel makes read-only after
// an error. Each test runs in a child process with the disk mounted in a mount
// namespace of its own (internal/faultfs), and skips, saying why, where the machine
// does not permit that.

// causeOf is the errno a write to d fails with when it is full.
func causeOf(d *faultfs.Disk) syscall.Errno {
	if d.Kind == faultfs.Rlimit {
		return syscall.EFBIG
	}
	return syscall.ENOSPC
}

// assertWriteError fails unless err is ErrWrite with cause errno and a message that
// says what failed (op), in which file and why.
func assertWriteError(t *testing.T, err error, op, path string, errno syscall.Errno) {
	t.Helper()
	if !errors.Is(err, ErrWrite) || !errors.Is(err, errno) {
		t.Fatalf("%s: %v; want ErrWrite caused by %q", op, err, errno.Error())
	}
	msg := err.Error()
	for _, want := range []string{op, "could not write the data file " + path, errno.Error()} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
}

// assertReferrals fails unless s holds exactly the referrals want, each as saved.
func assertReferrals(t *testing.T, s *Store, want []ReferralRecord) {
	t.Helper()
	got := mustReferrals(t, s, ReferralFilter{})
	if len(got) != len(want) {
		t.Fatalf("%d referrals stored, want %d", len(got), len(want))
	}
	for _, w := range want {
		r, err := s.Referral(w.Referral.ID)
		if err != nil {
			t.Fatalf("referral %s: %v", w.Referral.ID, err)
		}
		if a, b := mustJSON(t, r.Referral), mustJSON(t, w.Referral); a != b || r.Role != w.Role || mustJSON(t, r.SME) != mustJSON(t, w.SME) {
			t.Errorf("referral %s reads back as\n%s %s %s\nwant\n%s %s %s", w.Referral.ID, a, r.Role, mustJSON(t, r.SME), b, w.Role, mustJSON(t, w.SME))
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A full disk fails the write that needs room, with ErrWrite and the OS's reason, and
// keeps nothing of it; what was stored before reads back unchanged, concurrent writes
// that commit together fail together, and once there is room again the same write
// succeeds. The file then passes bbolt's check and reopens with everything in it.
func TestStore_fullDisk(t *testing.T) {
	faultfs.Run(t, func(t *testing.T) {
		disk := faultfs.FullDisk(t, 2<<20)
		errno := causeOf(disk)
		path := filepath.Join(disk.Dir, "hubnet.db")
		s, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.Close() }()
		mustInit(t, s, "hub-one")
		self, err := s.PutSelf(testProfile("hub-one"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutHub(mustSignedHub(t, mustIdentity(t, "hub-two"), 3)); err != nil {
			t.Fatal(err)
		}
		var kept []ReferralRecord
		save := func(rec ReferralRecord) error {
			err := s.SaveReferral(rec, []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", testTime)}, nil)
			if err == nil {
				kept = append(kept, rec)
			}
			return err
		}
		for range 3 {
			if err := save(testRecord(t, protocol.RoleSender, testTime)); err != nil {
				t.Fatal(err)
			}
		}

		disk.Fill(t)
		t.Logf("disk full (%s), file %s", disk.Kind, path)

		// Writes that fit in the pages the file has free still succeed; the file must
		// grow within a few referrals, and cannot.
		var failed ReferralRecord
		for i := 0; ; i++ {
			if i == 200 {
				t.Fatal("200 referrals saved on a full disk")
			}
			failed = testRecord(t, protocol.RoleSender, testTime)
			if err = save(failed); err != nil {
				t.Logf("referral %d failed: %v", i+1, err)
				break
			}
		}
		assertWriteError(t, err, "save referral "+failed.Referral.ID, path, errno)
		if _, err := s.Referral(failed.Referral.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("Referral of the failed save: %v, want ErrNotFound", err)
		}
		if n := len(mustOutbox(t, s)); n != len(kept) {
			t.Errorf("%d outbox entries, want %d: one per referral saved", n, len(kept))
		}

		// Writes that arrive together commit together, in one transaction: they fail
		// together, and none of them is half there.
		var (
			wg   sync.WaitGroup
			recs = make([]ReferralRecord, 16)
			errs = make([]error, 16)
		)
		for i := range recs {
			recs[i] = testRecord(t, protocol.RoleSender, testTime)
			wg.Go(func() {
				errs[i] = s.SaveReferral(recs[i], []Outgoing{testOutgoing(t, recs[i].Referral.ID, "hub-two", testTime)}, nil)
			})
		}
		wg.Wait()
		nfailed := 0
		for i, err := range errs {
			_, rerr := s.Referral(recs[i].Referral.ID)
			switch {
			case err == nil && rerr == nil:
				kept = append(kept, recs[i])
			case err != nil && errors.Is(rerr, ErrNotFound):
				nfailed++
				assertWriteError(t, err, "save referral "+recs[i].Referral.ID, path, errno)
			default:
				t.Errorf("concurrent save %d: %v, and reading it back: %v", i, err, rerr)
			}
		}
		if nfailed == 0 {
			t.Errorf("16 more referrals saved on a full disk")
		}

		// Receiving a message: the same, and its ID is not recorded as applied.
		offer := testReferral(t, testTime)
		msgID := mustUUID(t)
		_, _, err = s.Receive(msgID, offer.ID, func(ReferralRecord, bool) (Incoming, error) {
			rec := ReferralRecord{Referral: offer, Role: protocol.RoleReceiver}
			return Incoming{Record: &rec, Ack: []byte(strings.Repeat("a signed acknowledgement ", 200))}, nil
		})
		if err != nil {
			assertWriteError(t, err, "receive message "+msgID, path, errno)
		} else {
			kept = append(kept, ReferralRecord{Referral: offer, Role: protocol.RoleReceiver})
		}

		// A profile five times the size of the stored one.
		big := testProfile("hub-one")
		big.Description = strings.Repeat("Testaa ennen kuin investoit: robotiikka, tekoäly, datatalous. ", 150)
		if _, err := s.PutSelf(big); err != nil {
			assertWriteError(t, err, "store own profile", path, errno)
			if p, _, err := s.Self(); err != nil || p.Revision != self.Revision || p.Description != self.Description {
				t.Errorf("own profile after a failed write: revision %d, %v; want revision %d unchanged", p.Revision, err, self.Revision)
			}
		} else {
			t.Logf("the larger profile fitted in the file's free pages")
		}

		// Everything stored before reads back as it was.
		assertReferrals(t, s, kept)
		if h, err := s.Hub("hub-two"); err != nil || h.Profile.Revision != 3 {
			t.Errorf("Hub(hub-two) on a full disk = revision %d, %v; want 3", h.Profile.Revision, err)
		}

		disk.Free(t)
		if err := save(failed); err != nil {
			t.Fatalf("save the failed referral again once there is room: %v", err)
		}
		saved, err := s.PutSelf(big)
		if err != nil {
			t.Fatalf("store the larger profile once there is room: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		faultfs.CheckBolt(t, path)

		s, err = Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertReferrals(t, s, kept)
		if p, _, err := s.Self(); err != nil || p.Revision != saved.Revision || p.Description != big.Description {
			t.Errorf("own profile after reopening: revision %d, %v; want %d with the larger description", p.Revision, err, saved.Revision)
		}
		if _, err := s.Identity(); err != nil {
			t.Errorf("Identity after reopening: %v", err)
		}
	})
}

// A file system that the kernel remounts read-only after a disk error fails every
// write with ErrWrite and EROFS and keeps serving reads; a new Open says the file
// system is read-only. After the operator's repair (unmount, e2fsck, mount) the file
// passes bbolt's check, holds everything written before the error, and takes writes.
func TestStore_readOnlyDisk(t *testing.T) {
	faultfs.Run(t, func(t *testing.T) {
		vol := faultfs.FailingExt4(t, 32<<20)
		path := filepath.Join(vol.Dir, "hubnet.db")
		s, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.Close() }()
		mustInit(t, s, "hub-one")
		self, err := s.PutSelf(testProfile("hub-one"))
		if err != nil {
			t.Fatal(err)
		}
		var kept []ReferralRecord
		for range 3 {
			rec := testRecord(t, protocol.RoleSender, testTime)
			mustSave(t, s, rec, []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", testTime)}, nil)
			kept = append(kept, rec)
		}

		vol.Fail(t)

		rec := testRecord(t, protocol.RoleSender, testTime)
		err = s.SaveReferral(rec, []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", testTime)}, nil)
		assertWriteError(t, err, "save referral "+rec.Referral.ID, path, syscall.EROFS)
		_, err = s.UpdateSelf(func(p *protocol.Profile) error { p.Name = "Renamed"; return nil })
		assertWriteError(t, err, "store own profile", path, syscall.EROFS)
		msgID := mustUUID(t)
		_, _, err = s.Receive(msgID, kept[0].Referral.ID, func(cur ReferralRecord, found bool) (Incoming, error) {
			return Incoming{Ack: []byte("ack")}, nil
		})
		assertWriteError(t, err, "receive message "+msgID, path, syscall.EROFS)

		assertReferrals(t, s, kept)
		if p, _, err := s.Self(); err != nil || p.Revision != self.Revision || p.Name != self.Name {
			t.Errorf("own profile on a read-only disk: %q revision %d, %v; want it unchanged", p.Name, p.Revision, err)
		}
		if n := len(mustOutbox(t, s)); n != len(kept) {
			t.Errorf("%d outbox entries, want %d", n, len(kept))
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close on a read-only disk: %v", err)
		}
		_, err = Open(path, nil)
		if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "read-only file system") {
			t.Errorf("Open on a read-only disk: %v; want an error naming %s and saying it is read-only", err, path)
		}

		vol.Repair(t)
		faultfs.CheckBolt(t, path)
		s, err = Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertReferrals(t, s, kept)
		mustSave(t, s, rec, []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", testTime)}, nil)
		p, err := s.UpdateSelf(func(p *protocol.Profile) error { p.Name = "Renamed"; return nil })
		if err != nil || p.Revision != self.Revision+1 {
			t.Errorf("UpdateSelf after the repair: revision %d, %v; want %d", p.Revision, err, self.Revision+1)
		}
		assertReferrals(t, s, append(kept, rec))
	})
}

// An error of the write function is returned as it is, not as a failed write.
func TestStore_update_fnErrorIsNotWriteError(t *testing.T) {
	s := mustOpen(t)
	boom := fmt.Errorf("boom")
	if err := s.update(func(*bolt.Tx) error { return boom }); err != boom {
		t.Errorf("update = %v, want the function's error as it is", err)
	}
}

// bbolt reports a failure to grow the file with the errno's text only; ErrWrite still
// lets callers match the errno.
func TestWriteFailed_errnoFromText(t *testing.T) {
	err := writeFailed("/data/hubnet.db", errors.New("file resize error: file too large"))
	if !errors.Is(err, ErrWrite) || !errors.Is(err, syscall.EFBIG) {
		t.Errorf("%v: want ErrWrite and EFBIG", err)
	}
	if want := "store: could not write the data file /data/hubnet.db: file resize error: file too large"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if err := writeFailed("/data/hubnet.db", ErrClosed); err != ErrClosed {
		t.Errorf("writeFailed(ErrClosed) = %v, want ErrClosed as it is", err)
	}
}

// growOnReadOnly makes the store on vol write more than its memory map of the file
// holds after vol has failed, and returns a referral stored before.
func growOnReadOnly(t *testing.T, vol *faultfs.Volume) (*Store, ReferralRecord) {
	t.Helper()
	path := filepath.Join(vol.Dir, "hubnet.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	mustInit(t, s, "hub-one")
	rec := testRecord(t, protocol.RoleSender, testTime)
	mustSave(t, s, rec, []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", testTime)}, nil)

	vol.Fail(t)
	err = s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("large"))
		if err != nil {
			return err
		}
		return b.Put([]byte("value"), make([]byte, 4<<20))
	})
	if !errors.Is(err, ErrWrite) || !errors.Is(err, syscall.EROFS) {
		t.Errorf("a 4 MiB write on a read-only disk: %v, want ErrWrite and EROFS", err)
	}
	return s, rec
}

// When bbolt has lost its map of the file (see the test below), reads say to restart.
func TestStore_readOnlyDisk_lostMapSaysRestart(t *testing.T) {
	faultfs.Run(t, func(t *testing.T) {
		s, rec := growOnReadOnly(t, faultfs.FailingExt4(t, 32<<20))
		_, err := s.Referral(rec.Referral.ID)
		if err == nil {
			t.Skip("this kernel let bbolt map the file again: no lost map to report")
		}
		if !strings.Contains(err.Error(), "restart hubnet") {
			t.Errorf("read with the map lost: %v, want it to say to restart hubnet", err)
		}
	})
}

// A write on a read-only disk that needs a larger memory map of the file leaves the
// store readable. bbolt unmaps the file before it maps it again, larger; since Linux
// 6.16 ext4 refuses to map a file open for writing once an error has made it
// read-only, and bbolt is left with no map: every read then fails with "database
// isn't correctly mapped" until the store is opened again.
func TestStore_readOnlyDisk_readsAfterMapGrows(t *testing.T) {
	faultfs.Run(t, func(t *testing.T) {
		s, rec := growOnReadOnly(t, faultfs.FailingExt4(t, 32<<20))
		if _, err := s.Referral(rec.Referral.ID); err != nil {
			t.Errorf("read after it: %v", err)
		}
	})
}
