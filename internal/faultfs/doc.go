// Package faultfs gives tests, and the chaos harness, disks that fail the way real ones
// do: one that fills up, one the kernel turns read-only after an error, and a data
// file whose last commit a power cut tore. It is for tests and hubnet-chaos only; with
// package store, it is the only package that reads bbolt's file format.
//
// # Where to start
//
// A test puts its body in [Run], which runs it again in a child process of its own:
// the test binary, for that one test, in a private mount namespace when the machine
// permits one. Inside, [FullDisk] mounts a small tmpfs that [Disk.Fill] fills to the
// last page and [Disk.Free] empties again; [FailingExt4] mounts an ext4 image on a loop
// device with errors=remount-ro, which [Volume.Fail] makes the kernel remount
// read-only as after a disk error, and [Volume.Repair] unmounts, checks and mounts
// again. [CheckBolt] runs bbolt's consistency check over a data file. [TearNextCommit]
// writes into a dead hub's data file what a power cut during its next commit would
// leave, and [CheckOpens] tells whether bbolt opens it at the last whole commit.
//
// # Fallbacks and skips
//
// Mounts need root, or CAP_SYS_ADMIN, and a kernel that lets the process unshare its
// mount namespace. Where that is refused, or HUBNET_FAULTFS=rlimit is set, [FullDisk]
// stands in for the full disk with RLIMIT_FSIZE set on the child process: a write past
// the limit fails with EFBIG, not ENOSPC, and it fails for every file of the process,
// so [Disk.Kind] tells the test which it got. [FailingExt4] has no stand-in: without a
// namespace, a loop device, mkfs.ext4 or e2fsck it skips the test and says why.
//
// # Caveats
//
// The mounts live in the child's namespace and go with it, even when the child is
// killed; nothing is mounted where the rest of the machine sees it. A loop device is
// a machine-wide resource, freed when the image is unmounted. Linux only: elsewhere
// [Run] skips.
package faultfs
