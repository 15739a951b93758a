//go:build linux

package faultfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of a child process.
const (
	envChild = "HUBNET_FAULTFS_CHILD" // the name of the test the child runs
	envNS    = "HUBNET_FAULTFS_NS"    // "1" when the child has a mount namespace of its own
	envMode  = "HUBNET_FAULTFS"       // "rlimit" in the parent: no namespace for the child
)

// Run runs fn, the body of the calling test, in a child process: the test binary run
// again for this test alone, in a mount namespace of its own when the machine permits.
// In the child, Run calls fn. In the parent it waits for the child and passes its
// result on: the test fails with the child's output when the child fails, and is
// skipped with the child's reason when the child skips.
//
// Call Run from a top-level test, first thing: everything before it runs twice.
func Run(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	if name := os.Getenv(envChild); name != "" {
		if name != t.Name() {
			t.Fatalf("faultfs: child process for %s runs %s", name, t.Name())
		}
		fn(t)
		return
	}
	ns := os.Getenv(envMode) != Rlimit
	out, werr, serr := runChild(t, ns)
	if serr != nil && ns {
		// Typically EPERM: no CAP_SYS_ADMIN, or unprivileged namespaces are off.
		t.Logf("faultfs: no mount namespace for the child process (%v); RLIMIT_FSIZE stands in for a full disk", serr)
		ns = false
		out, werr, serr = runChild(t, false)
	}
	if serr != nil {
		t.Fatalf("faultfs: start a child process: %v", serr)
	}
	name := t.Name()
	switch {
	case werr != nil:
		t.Fatalf("%s failed in its child process (%v):\n%s", name, werr, out)
	case strings.Contains(out, "--- SKIP: "+name+" "):
		t.Skipf("skipped in its child process: %s", skipReason(out, name))
	case !strings.Contains(out, "--- PASS: "+name+" "):
		t.Fatalf("the child process did not run %s:\n%s", name, out)
	}
	how := "with a mount namespace of its own"
	if !ns {
		how = "without a mount namespace of its own"
	}
	if testing.Verbose() {
		t.Logf("ran in a child process %s:\n%s", how, out)
	} else {
		t.Logf("ran in a child process %s", how)
	}
}

// runChild runs the test t.Name() in a child process and returns its output, the error
// of its exit, and the error of its start.
func runChild(t *testing.T, ns bool) (out string, waitErr, startErr error) {
	timeout := 10 * time.Minute
	if d, ok := t.Deadline(); ok {
		timeout = time.Until(d) - 10*time.Second
	}
	if timeout < 10*time.Second {
		return "", nil, errors.New("too little time left before the test's deadline")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+pattern(t.Name()), "-test.count=1", "-test.v=true",
		"-test.timeout="+(timeout-5*time.Second).String())
	cmd.Env = append(os.Environ(), envChild+"="+t.Name(), envNS+"="+map[bool]string{true: "1", false: "0"}[ns])
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.WaitDelay = 5 * time.Second
	// The child is killed if this thread ends: keep it until the child has exited.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if ns {
		// os/exec makes / private in the new namespace, so no mount leaks out of it.
		cmd.SysProcAttr.Unshareflags = syscall.CLONE_NEWNS
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	err := cmd.Wait()
	return buf.String(), err, nil
}

// pattern is the -test.run pattern that matches the test name and nothing else.
func pattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// skipReason returns what the child logged for the test name that skipped: with -v the
// lines come before the SKIP line, without it after.
func skipReason(out, name string) string {
	var reason []string
	in := false
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "=== RUN   "+name), strings.HasPrefix(line, "--- SKIP: "+name+" "):
			in = true
		case in && strings.HasPrefix(line, "    "):
			reason = append(reason, strings.TrimSpace(line))
		default:
			in = false
		}
	}
	return strings.Join(reason, "; ")
}

// mustChild fails the test unless it runs in a child process of Run's.
func mustChild(t *testing.T) {
	t.Helper()
	if os.Getenv(envChild) != t.Name() {
		t.Fatal("faultfs: call this inside faultfs.Run, whose child process it changes")
	}
}

// FullDisk returns an empty directory on a disk of size bytes that the test fills with
// Disk.Fill and empties with Disk.Free: a tmpfs mounted in the child's namespace, or,
// where mounts are refused, a temporary directory and RLIMIT_FSIZE. Inside Run only.
func FullDisk(t *testing.T, size int64) *Disk {
	t.Helper()
	mustChild(t)
	d := &Disk{Dir: t.TempDir(), Kind: Rlimit, size: size}
	if os.Getenv(envNS) == "1" {
		err := syscall.Mount("tmpfs", d.Dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV,
			"size="+strconv.FormatInt(size, 10)+",mode=0700")
		if err == nil {
			t.Cleanup(func() { syscall.Unmount(d.Dir, syscall.MNT_DETACH) })
			d.Kind, d.filler = Tmpfs, filepath.Join(d.Dir, ".filler")
			return d
		}
		t.Logf("faultfs: mount a tmpfs: %v; RLIMIT_FSIZE stands in for a full disk", err)
	}
	t.Cleanup(func() { d.Free(t) })
	return d
}

// Fill makes the disk full. On a Tmpfs, a file takes every page left, so that a write
// that needs one more page fails with ENOSPC. With Rlimit, the process may write no
// further into any file than the size of the largest file in Dir is now, so that a
// file there that grows fails with EFBIG.
func (d *Disk) Fill(t *testing.T) {
	t.Helper()
	if d.Kind == Rlimit {
		limit := largestFile(t, d.Dir)
		if limit == 0 {
			t.Fatalf("faultfs: no file in %s to set a size limit by", d.Dir)
		}
		setFileLimit(t, uint64(limit))
		return
	}
	f, err := os.OpenFile(d.filler, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("faultfs: fill %s: %v", d.Dir, err)
	}
	buf := make([]byte, 64<<10)
	for i := int64(0); err == nil; i++ {
		if i > d.size/int64(len(buf))+1 {
			f.Close()
			t.Fatalf("faultfs: wrote %d bytes to a tmpfs of %d without running out of space", i*int64(len(buf)), d.size)
		}
		_, err = f.Write(buf)
	}
	if cerr := f.Close(); !errors.Is(err, syscall.ENOSPC) || (cerr != nil && !errors.Is(cerr, syscall.ENOSPC)) {
		t.Fatalf("faultfs: fill %s: %v, %v; want ENOSPC", d.Dir, err, cerr)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.Dir, &st); err != nil || st.Bavail != 0 {
		t.Fatalf("faultfs: %s filled, but statfs says %d blocks free (%v)", d.Dir, st.Bavail, err)
	}
}

// Free gives the space back: the file that filled the tmpfs goes, or the size limit is
// lifted.
func (d *Disk) Free(t *testing.T) {
	t.Helper()
	if d.Kind == Rlimit {
		setFileLimit(t, 0)
		return
	}
	if err := os.Remove(d.filler); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("faultfs: free %s: %v", d.Dir, err)
	}
}

// setFileLimit sets the soft RLIMIT_FSIZE of the process to limit bytes, or back to
// the hard limit when limit is 0. A write past it fails with EFBIG; the SIGXFSZ that
// comes with it does nothing to a Go program, whose runtime handles that signal.
func setFileLimit(t *testing.T, limit uint64) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &rl); err != nil {
		t.Fatalf("faultfs: getrlimit: %v", err)
	}
	rl.Cur = rl.Max
	if limit > 0 && limit < rl.Max {
		rl.Cur = limit
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &rl); err != nil {
		t.Fatalf("faultfs: setrlimit RLIMIT_FSIZE %d: %v", rl.Cur, err)
	}
}

// largestFile returns the size of the largest regular file under dir.
func largestFile(t *testing.T, dir string) int64 {
	t.Helper()
	var largest int64
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		fi, err := e.Info()
		if err == nil {
			largest = max(largest, fi.Size())
		}
		return err
	})
	if err != nil {
		t.Fatalf("faultfs: walk %s: %v", dir, err)
	}
	return largest
}

// FailingExt4 mounts a fresh ext4 file system of size bytes, in an image file on a
// loop device, with errors=remount-ro, and returns it: Volume.Fail makes the kernel
// turn it read-only as after a disk error. It skips the test, saying why, where the
// machine cannot do that. Inside Run only.
func FailingExt4(t *testing.T, size int64) *Volume {
	t.Helper()
	mustChild(t)
	if os.Getenv(envNS) != "1" {
		t.Skip("faultfs: no mount namespace of its own for this process (it needs root or CAP_SYS_ADMIN): no ext4 volume to make read-only")
	}
	for _, tool := range []string{"mkfs.ext4", "e2fsck", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("faultfs: %s not found (e2fsprogs, util-linux): no ext4 volume to make read-only", tool)
		}
	}
	v := &Volume{Dir: t.TempDir(), image: filepath.Join(t.TempDir(), "ext4.img")}
	if err := os.WriteFile(v.image, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(v.image, size); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", v.image).CombinedOutput(); err != nil {
		t.Skipf("faultfs: mkfs.ext4: %v: %s", err, bytes.TrimSpace(out))
	}
	if err := v.mount(); err != nil {
		t.Skipf("faultfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(v.Dir, syscall.MNT_DETACH) })
	return v
}

// mount mounts the image at Dir; the loop device is freed again at the unmount.
func (v *Volume) mount() error {
	out, err := exec.Command("mount", "-o", "loop,errors=remount-ro", v.image, v.Dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mount an ext4 image on a loop device: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// Fail makes the kernel act as on an error of the disk under the volume: it records
// an ext4 error (through /sys/fs/ext4/DEV/trigger_fs_error, which is there for such
// tests), aborts the journal and, by errors=remount-ro, remounts the file system
// read-only. Files open for writing stay open; their writes fail with EROFS.
func (v *Volume) Fail(t *testing.T) {
	t.Helper()
	dev, _ := v.mountInfo(t)
	trigger := filepath.Join("/sys/fs/ext4", filepath.Base(dev), "trigger_fs_error")
	if err := os.WriteFile(trigger, []byte("faultfs: simulated disk error\n"), 0o200); err != nil {
		t.Skipf("faultfs: cannot make ext4 fail: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Kernels before 6.16 set the file system read-only; later ones mark it
		// emergency_ro and leave its mount flags alone.
		if _, opts := v.mountInfo(t); hasOption(opts, "ro") || hasOption(opts, "emergency_ro") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("faultfs: %s still writable 5s after an ext4 error", v.Dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Repair does what an operator does after such an error, once every file on the
// volume is closed: unmount it, check and repair it with e2fsck, and mount it again,
// writable.
func (v *Volume) Repair(t *testing.T) {
	t.Helper()
	if err := syscall.Unmount(v.Dir, 0); err != nil {
		t.Fatalf("faultfs: unmount %s: %v (is a file on it still open?)", v.Dir, err)
	}
	out, err := exec.Command("e2fsck", "-f", "-y", v.image).CombinedOutput()
	var ee *exec.ExitError
	// 1 means errors were found and corrected.
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		t.Fatalf("faultfs: e2fsck: %v:\n%s", err, out)
	}
	if err := v.mount(); err != nil {
		t.Fatalf("faultfs: %v", err)
	}
}

// mountInfo returns the device the volume is mounted from and the options of its
// file system, from /proc/self/mountinfo.
func (v *Volume) mountInfo(t *testing.T) (dev, superOpts string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		// ID parent major:minor root mount-point options [optional...] - type source super-options
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if len(f) < 5 || f[4] != v.Dir || sep < 0 || len(f) < sep+4 {
			continue
		}
		dev, superOpts = f[sep+2], f[sep+3]
	}
	if dev == "" {
		t.Fatalf("faultfs: %s is not mounted", v.Dir)
	}
	return dev, superOpts
}

func hasOption(opts, o string) bool {
	for x := range strings.SplitSeq(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}
