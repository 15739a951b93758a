//go:build !linux

package faultfs

import "testing"

const linuxOnly = "faultfs: full and failing disks are simulated on Linux only"

// Run skips the test: see the Linux version.
func Run(t *testing.T, fn func(t *testing.T)) { t.Skip(linuxOnly) }

// FullDisk skips the test: see the Linux version.
func FullDisk(t *testing.T, size int64) *Disk { t.Skip(linuxOnly); return nil }

// Fill is not reached: FullDisk skips.
func (d *Disk) Fill(t *testing.T) { t.Skip(linuxOnly) }

// Free is not reached: FullDisk skips.
func (d *Disk) Free(t *testing.T) { t.Skip(linuxOnly) }

// FailingExt4 skips the test: see the Linux version.
func FailingExt4(t *testing.T, size int64) *Volume { t.Skip(linuxOnly); return nil }

// Fail is not reached: FailingExt4 skips.
func (v *Volume) Fail(t *testing.T) { t.Skip(linuxOnly) }

// Repair is not reached: FailingExt4 skips.
func (v *Volume) Repair(t *testing.T) { t.Skip(linuxOnly) }
