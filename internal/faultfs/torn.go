package faultfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The torn commit: what a power cut in the middle of a bbolt commit leaves on disk.
//
// bbolt commits copy-on-write. A transaction writes the pages it changed to pages that
// were free at the last commit (or past the end of the file) and fdatasyncs them; then
// it writes its meta page into slot txid%2, which holds the meta page of the commit
// before the last, and fdatasyncs again. Only then does Commit return, and only then
// does hubnet answer the request or acknowledge the message that made the change. When
// it opens a file, bbolt takes the meta page with the highest txid whose checksum
// holds.
//
// A cut during a commit can therefore leave some free pages overwritten with any
// bytes, and the other meta slot holding part of the new meta page. bbolt then opens
// the file at the last complete commit and nothing acknowledged is lost: the commit
// that was cut off had not returned. TearNextCommit writes exactly that into the data
// file of a killed hub.
//
// It does not tear the newest meta page itself, although that too would make bbolt
// fall back to the transaction before. That page was synced before its commit
// returned, so the transaction may have been acknowledged, to the operator's HTTP call
// or to another hub; a disk that loses it has broken the promise of fsync, which
// hubnet cannot be asked to survive, and the checks could not tell that loss from a
// bug.

// The parts of bbolt's file format (go.etcd.io/bbolt/internal/common) that a torn
// commit touches. bbolt writes them in the machine's byte order.
const (
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	metaChecksumAt   = 56 // magic u32, version u32, page size u32, flags u32, root u64+u64, freelist u64, hwm u64, txid u64
	metaSize         = 64 // ... and the checksum u64, FNV-1a over the bytes before it
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	noFreelist       = ^uint64(0)
	sectorSize       = 512
)

var order = binary.NativeEndian

// boltMeta is one meta page of a bbolt file.
type boltMeta struct {
	page     []byte // the whole page
	pageSize int
	freelist uint64
	hwm      uint64 // pages in use end here
	txid     uint64
}

// parseMeta reads the meta page at the start of page and checks it as bbolt does.
func parseMeta(page []byte) (boltMeta, error) {
	if len(page) < pageHeaderSize+metaSize {
		return boltMeta{}, errors.New("short meta page")
	}
	m := page[pageHeaderSize:]
	switch {
	case order.Uint32(m[0:]) != boltMagic:
		return boltMeta{}, errors.New("no bbolt magic")
	case order.Uint32(m[4:]) != boltVersion:
		return boltMeta{}, fmt.Errorf("bbolt file version %d", order.Uint32(m[4:]))
	case order.Uint64(m[metaChecksumAt:]) != metaSum(m):
		return boltMeta{}, errors.New("meta checksum does not match")
	}
	return boltMeta{page: page, pageSize: int(order.Uint32(m[8:])), freelist: order.Uint64(m[32:]),
		hwm: order.Uint64(m[40:]), txid: order.Uint64(m[48:])}, nil
}

// metaSum is bbolt's checksum of the meta m.
func metaSum(m []byte) uint64 {
	h := fnv.New64a()
	h.Write(m[:metaChecksumAt])
	return h.Sum64()
}

// TornCommit says what TearNextCommit did.
type TornCommit struct {
	Txid  uint64   // the last complete commit, at which the file opens
	Pages []uint64 // the free pages the cut-off commit overwrote
	Slot  int      // the meta page (0 or 1) it tore
}

// String says what was torn, for a report.
func (t TornCommit) String() string {
	return fmt.Sprintf("the commit after txid %d cut off: free pages %v overwritten, meta page %d torn", t.Txid, t.Pages, t.Slot)
}

// TearNextCommit writes into the bbolt file at path, whose process is dead, what a
// power cut during its next commit would leave: a few pages free at the last commit
// overwritten in part or in whole with random bytes, and the other meta page holding
// the next commit's meta page up to, but not including, its checksum.
func TearNextCommit(path string, rng *rand.Rand) (TornCommit, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return TornCommit{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return TornCommit{}, err
	}
	size := info.Size()
	ps, err := pageSize(f, size)
	if err != nil {
		return TornCommit{}, fmt.Errorf("%s: %w", path, err)
	}

	var metas [2]boltMeta
	var errs [2]error
	for i := range metas {
		page := make([]byte, ps)
		if _, err := f.ReadAt(page, int64(i*ps)); err != nil {
			return TornCommit{}, fmt.Errorf("%s: read meta page %d: %w", path, i, err)
		}
		metas[i], errs[i] = parseMeta(page)
	}
	var last boltMeta
	switch {
	case errs[0] != nil && errs[1] != nil:
		return TornCommit{}, fmt.Errorf("%s: no valid meta page: %w", path, errors.Join(errs[0], errs[1]))
	case errs[1] != nil || (errs[0] == nil && metas[0].txid > metas[1].txid):
		last = metas[0]
	default:
		last = metas[1]
	}

	free, err := freePages(f, last, size)
	if err != nil {
		return TornCommit{}, fmt.Errorf("%s: %w", path, err)
	}
	t := TornCommit{Txid: last.txid, Slot: int((last.txid + 1) % 2)}
	full := false
	if len(free) == 0 {
		// Nothing free: the commit would have grown the file.
		free, full = []uint64{last.hwm, last.hwm + 1}, true
	}
	for _, i := range rng.Perm(len(free))[:1+rng.IntN(min(4, len(free)))] {
		t.Pages = append(t.Pages, free[i])
	}
	slices.Sort(t.Pages)
	for _, id := range t.Pages {
		n := ps
		if !full {
			n = sectorSize * (1 + rng.IntN(ps/sectorSize)) // the write may stop at any sector
		}
		junk := make([]byte, n)
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(junk, int64(id)*int64(ps)); err != nil {
			return TornCommit{}, fmt.Errorf("%s: write page %d: %w", path, id, err)
		}
	}

	// The next meta page: the last one with the next txid and a root among the pages
	// just written, its checksum right; of it, everything before the checksum reached
	// the disk, the checksum did not.
	old := metas[t.Slot].page
	next := slices.Clone(last.page)
	order.PutUint64(next[0:], uint64(t.Slot))
	m := next[pageHeaderSize:]
	order.PutUint64(m[16:], t.Pages[0])
	order.PutUint64(m[40:], max(last.hwm, t.Pages[len(t.Pages)-1]+1))
	order.PutUint64(m[48:], last.txid+1)
	order.PutUint64(m[metaChecksumAt:], metaSum(m))
	torn := slices.Clone(old)
	copy(torn[:pageHeaderSize+metaChecksumAt], next)
	if _, err := parseMeta(torn); err == nil {
		// The old checksum happens to fit the new bytes: the cut then came a byte earlier.
		torn[pageHeaderSize+metaChecksumAt-1] = old[pageHeaderSize+metaChecksumAt-1] ^ 0xff
	}
	if _, err := f.WriteAt(torn, int64(t.Slot*ps)); err != nil {
		return TornCommit{}, fmt.Errorf("%s: write meta page %d: %w", path, t.Slot, err)
	}
	if err := f.Sync(); err != nil {
		return TornCommit{}, err
	}
	return t, f.Close()
}

// pageSize reads the page size from the first meta page, or else finds the second one
// as bbolt does.
func pageSize(f *os.File, size int64) (int, error) {
	buf := make([]byte, pageHeaderSize+metaSize)
	if _, err := f.ReadAt(buf, 0); err == nil {
		if m, err := parseMeta(buf); err == nil {
			return m.pageSize, nil
		}
	}
	for i := range 15 {
		pos := int64(1024) << i
		if pos >= size-1024 {
			break
		}
		if _, err := f.ReadAt(buf, pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if m, err := parseMeta(buf); err == nil {
			return m.pageSize, nil
		}
	}
	return 0, errors.New("no valid meta page to read the page size from")
}

// freePages lists the pages free at the commit of meta m: those its freelist names and
// those past its high water mark that the file already holds.
func freePages(f *os.File, m boltMeta, size int64) ([]uint64, error) {
	var free []uint64
	if m.freelist != noFreelist {
		head := make([]byte, pageHeaderSize+8)
		if _, err := f.ReadAt(head, int64(m.freelist)*int64(m.pageSize)); err != nil {
			return nil, fmt.Errorf("read freelist page %d: %w", m.freelist, err)
		}
		if flags := order.Uint16(head[8:]); flags != freelistPageFlag {
			return nil, fmt.Errorf("page %d is not a freelist page (flags %#x)", m.freelist, flags)
		}
		count, skip := uint64(order.Uint16(head[10:])), uint64(0)
		if count == 0xFFFF {
			count, skip = order.Uint64(head[pageHeaderSize:]), 1
		}
		overflow := uint64(order.Uint32(head[12:]))
		if (skip+count)*8 > (overflow+1)*uint64(m.pageSize) {
			return nil, fmt.Errorf("freelist page %d: %d entries do not fit in %d pages", m.freelist, count, overflow+1)
		}
		body := make([]byte, (skip+count)*8)
		if _, err := f.ReadAt(body, int64(m.freelist)*int64(m.pageSize)+pageHeaderSize); err != nil {
			return nil, fmt.Errorf("read freelist page %d: %w", m.freelist, err)
		}
		for i := skip; i < skip+count; i++ {
			free = append(free, order.Uint64(body[8*i:]))
		}
	}
	for id := m.hwm; id < uint64(size)/uint64(m.pageSize); id++ {
		free = append(free, id)
	}
	slices.Sort(free)
	return slices.Compact(free), nil
}

// CheckOpens opens the bbolt file at path read-only, as bbolt itself would, and
// returns an error unless it opens at transaction txid and bbolt's consistency check
// finds nothing wrong.
func CheckOpens(path string, txid uint64) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("bbolt cannot open %s: %w", path, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		if got := uint64(tx.ID()); got != txid {
			return fmt.Errorf("bbolt opens %s at txid %d, want %d", path, got, txid)
		}
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("bbolt's check of %s at txid %d: %w", path, txid, errors.Join(errs...))
		}
		return nil
	})
}
