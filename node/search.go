package node

import (
	"context"
	"maps"
	mathbits "math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// index holds every other hub's profile prepared for matching. Searches read a
// snapshot without locks; a change copies the slices of the snapshot, which at 10,000
// hubs takes microseconds. A hub keeps its position for good, so the word index,
// which is rebuilt in the background a little after changes, stays valid for every
// position whose candidate has not changed since; search checks the others one by
// one.
type index struct {
	mu    sync.Mutex     // serializes writers; guards pos
	pos   map[string]int // hub ID -> position in the snapshot
	snap  atomic.Pointer[snapshot]
	text  atomic.Pointer[textIndex]
	dirty chan struct{} // buffered 1: the word index is behind the snapshot
}

// textDelay is how long the word index of up to textPer hubs waits for changes to
// stop before it is rebuilt, so that a burst of changes costs one build; changes
// that do not stop wait at most textWaits times as long. A larger index waits longer,
// in proportion: while hundreds of hubs join, profiles arrive many times a second, a
// build walks every hub's words, and rebuilding after each pause of a second was
// 12% of the CPU of 250 hubs starting; at least every ten pauses' time, still 9%
// while the 200th to 250th of 457 hubs started. A search in the meantime checks the
// hubs changed since the last build one by one, as a search without an index would.
const (
	textDelay = 100 * time.Millisecond
	textPer   = 20
	textWaits = 50
)

func newIndex() *index {
	x := &index{pos: map[string]int{}, dirty: make(chan struct{}, 1)}
	x.snap.Store(&snapshot{gidx: protocol.NewGateIndex(nil)})
	x.text.Store(&textIndex{})
	return x
}

// run rebuilds the word index after changes until ctx ends.
func (x *index) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-x.dirty:
		}
		quiet := textDelay * time.Duration(max(1, len(x.all())/textPer))
		latest := time.NewTimer(textWaits * quiet)
	wait:
		for {
			select {
			case <-ctx.Done():
				latest.Stop()
				return
			case <-x.dirty:
				continue // not quiet yet
			case <-latest.C:
				break wait
			case <-time.After(quiet):
				break wait
			}
		}
		latest.Stop()
		x.text.Store(buildText(x.all()))
	}
}

// snapshot is the index at one moment: the candidates, and beside them, at the same
// positions, their gates, prepared when a profile enters, and the gates' bitmaps. A
// search reads the bitmaps of what it asks for, 64 hubs a word, and reads the
// candidate of a hub only when its gate admits it: most hubs are turned down without
// being looked at.
type snapshot struct {
	cands []*protocol.Candidate
	gates []protocol.Gate
	gidx  *protocol.GateIndex
}

// textIndex maps every word of the hubs' texts to the positions of the hubs that
// use it, for the candidates it was built from.
type textIndex struct {
	cands []*protocol.Candidate
	words []string  // sorted
	posts [][]int32 // positions of the hubs using words[i], ascending
}

// buildText builds the word index of cands in two passes, counting the hubs of each
// word and then placing them, so that all the postings share one array: a build
// allocates a handful of times, not once or more per word.
func buildText(cands []*protocol.Candidate) *textIndex {
	count, total := map[string]int32{}, 0
	for _, c := range cands {
		for w := range c.Words() {
			count[w]++
			total++
		}
	}
	t := &textIndex{cands: cands, words: slices.Sorted(maps.Keys(count))}
	t.posts = make([][]int32, len(t.words))
	flat := make([]int32, total)
	for i, w := range t.words {
		k := int(count[w])
		t.posts[i], flat = flat[:0:k], flat[k:]
		count[w] = int32(i) // from here on, the word's place in words
	}
	for p, c := range cands {
		for w := range c.Words() {
			i := count[w]
			t.posts[i] = append(t.posts[i], int32(p))
		}
	}
	return t
}

// match returns a bit per position: set when every token begins a word of that hub.
func (t *textIndex) match(tokens []string) []uint64 {
	var acc []uint64
	for k, tok := range tokens {
		bits := make([]uint64, (len(t.cands)+63)/64)
		i, _ := slices.BinarySearch(t.words, tok)
		for ; i < len(t.words) && strings.HasPrefix(t.words[i], tok); i++ {
			for _, p := range t.posts[i] {
				bits[p/64] |= 1 << (p % 64)
			}
		}
		if k == 0 {
			acc = bits
			continue
		}
		for j := range acc {
			acc[j] &= bits[j]
		}
	}
	return acc
}

// all returns the candidates of the current snapshot; callers must not change them.
func (x *index) all() []*protocol.Candidate { return x.snap.Load().cands }

// put adds the profiles, or replaces older revisions of them.
func (x *index) put(ps ...protocol.Profile) {
	x.mu.Lock()
	defer x.mu.Unlock()
	cur := x.snap.Load()
	next := &snapshot{cands: slices.Clone(cur.cands), gates: slices.Clone(cur.gates)}
	for i := range ps {
		p := &ps[i]
		if at, ok := x.pos[p.ID]; ok {
			if next.cands[at].Profile.Revision < p.Revision {
				next.cands[at] = indexed(p)
				next.gates[at] = next.cands[at].Gate()
			}
			continue
		}
		c := indexed(p)
		x.pos[p.ID] = len(next.cands)
		next.cands, next.gates = append(next.cands, c), append(next.gates, c.Gate())
	}
	next.gidx = protocol.NewGateIndex(next.gates)
	x.snap.Store(next)
	select {
	case x.dirty <- struct{}{}:
	default:
	}
}

// indexed returns the candidate the index keeps for p: trimmed, since a hub's own
// details are read from the store, and the index holds one for every hub.
func indexed(p *protocol.Profile) *protocol.Candidate {
	c := protocol.NewCandidate(p)
	c.Trim()
	return c
}

// remove takes a hub out of the index, as when it is revoked.
func (x *index) remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	at, ok := x.pos[id]
	if !ok {
		return
	}
	cur := x.snap.Load()
	next := &snapshot{
		cands: slices.Delete(slices.Clone(cur.cands), at, at+1),
		gates: slices.Delete(slices.Clone(cur.gates), at, at+1),
	}
	delete(x.pos, id)
	for i := at; i < len(next.cands); i++ {
		x.pos[next.cands[i].Profile.ID] = i
	}
	next.gidx = protocol.NewGateIndex(next.gates)
	x.snap.Store(next)
	select {
	case x.dirty <- struct{}{}:
	default:
	}
}

// load puts the profiles and builds the word index at once.
func (x *index) load(ps []protocol.Profile) {
	x.put(ps...)
	x.text.Store(buildText(x.all()))
}

// get returns the hub's candidate.
func (x *index) get(id string) (*protocol.Candidate, bool) {
	x.mu.Lock()
	at, ok := x.pos[id]
	x.mu.Unlock()
	if !ok {
		return nil, false
	}
	return x.all()[at], true
}

// Search ranks the hubs of the directory, this hub left out, against the query. It
// reads only the local cache, so it answers while the network is partitioned.
func (n *Node) Search(q protocol.Query) (api.SearchResult, error) {
	m, err := protocol.NewMatcher(q)
	if err != nil {
		return api.SearchResult{}, err
	}
	top, total := n.rank(m, nil)
	res := api.SearchResult{Query: m.Query(), Total: total, Hits: make([]api.Hit, len(top))}
	free := make([]int, len(top)) // the hits' free places, in one allocation
	for i, r := range top {
		res.Hits[i] = n.hit(m, r, i+1, &free[i])
	}
	n.metrics.searches.WithLabelValues("local").Inc()
	return res, nil
}

// rank returns the best m.Limit() hubs of the index, best first, and how many passed
// the filters. live, when not nil, replaces a hub's candidate by the one made from
// its answer to a live query. The gates of all hubs are passed over first, and only
// the hubs they admit are scored; many admitted hubs are scored in parallel parts.
func (n *Node) rank(m *protocol.Matcher, live map[string]*protocol.Candidate) ([]protocol.Ranked, int) {
	snap := n.index.snap.Load()
	cands, gates := snap.cands, snap.gates
	admitted := bitmaps.get(len(cands))
	defer bitmaps.put(admitted)
	if live == nil {
		m.AdmitIndexed(snap.gidx, admitted)
	} else {
		// A hub's answer changes its capacity, and so its gate.
		for i, c := range cands {
			g := snap.gates[i]
			if lc, ok := live[c.Profile.ID]; ok {
				g = lc.Gate()
			}
			if m.Admits(g) {
				admitted[i/64] |= 1 << (i % 64)
			}
		}
	}
	var (
		ti   *textIndex
		bits []uint64
	)
	if tokens := m.Tokens(); len(tokens) > 0 {
		ti = n.index.text.Load()
		bits = ti.match(tokens)
	}
	// scan scores the admitted hubs of the words lo to hi of admitted.
	scan := func(lo, hi int) *topK {
		top := newTopK(m.Limit())
		for w := lo; w < hi; w++ {
			for set := admitted[w]; set != 0; set &= set - 1 {
				i := w*64 + mathbits.TrailingZeros64(set)
				c := cands[i]
				checked := false
				if ti != nil && i < len(ti.cands) && ti.cands[i] == c {
					if bits[i/64]&(1<<(i%64)) == 0 {
						continue
					}
					checked = true
				}
				if live != nil {
					if lc, ok := live[c.Profile.ID]; ok {
						c = lc
					}
				} else if top.k > 0 && len(top.heap) == top.k && (ti == nil || checked) {
					// Once k results are kept, a hub whose gate shows it passes and
					// cannot score above the worst of them is counted, not scored:
					// its candidate is not read.
					if ceil, sure := m.Ceiling(&gates[i]); sure && ceil < top.heap[0].Score {
						top.seen++
						continue
					}
				}
				var (
					r  protocol.Ranked
					ok bool
				)
				if checked {
					r, ok = m.RankTextChecked(c)
				} else {
					r, ok = m.Rank(c)
				}
				if ok {
					top.add(r)
				}
			}
		}
		return top
	}
	toScore := 0
	for _, w := range admitted {
		toScore += mathbits.OnesCount64(w)
	}
	parts := min(runtime.GOMAXPROCS(0), (toScore+parallelScan-1)/parallelScan)
	if parts <= 1 {
		top := scan(0, len(admitted))
		return top.sorted(), top.seen
	}
	tops := make([]*topK, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() { tops[p] = scan(p*len(admitted)/parts, (p+1)*len(admitted)/parts) })
	}
	wg.Wait()
	all := newTopK(m.Limit())
	seen := 0
	for _, t := range tops {
		seen += t.seen
		for _, r := range t.heap {
			all.add(r)
		}
	}
	return all.sorted(), seen
}

// parallelScan is the number of admitted hubs up to which a search scores them in one
// part; above it, in up to GOMAXPROCS parts. For fewer hubs, starting goroutines and
// waiting for them costs more than it saves: on a busy machine a search that waits
// for a second thread to be scheduled takes longer than one that does not. Above it,
// two parts cost a little more CPU than one now that most admitted hubs are set aside
// on their ceiling (each query's best of three times, p99 505 against 426 µs over
// 10,000 hubs at a load average of 7 to 15), but they halve the wall time of the
// broadest queries, which set the p99 (3.52 against 7.48 ms, in the same runs). A
// variable, so that a test can lower it.
var parallelScan = 4096

// hit describes a ranked hub for the API. free is where the hit's free places are
// kept when it has them.
func (n *Node) hit(m *protocol.Matcher, r protocol.Ranked, rank int, free *int) api.Hit {
	p := r.Candidate.Profile
	why := m.Reasons(r.Candidate)
	explanation, reasons := protocol.ReasonTexts(why)
	h := api.Hit{
		Rank: rank, ID: p.ID, Name: p.Name, Type: p.Type, Country: p.Country, Regions: p.Regions,
		Languages: p.Languages, Score: r.Score, Explanation: explanation, Reasons: reasons, Why: why,
		Proximity: r.Proximity.String(), Capacity: p.Capacity, Revision: p.Revision,
	}
	if h.Reasons == nil {
		h.Reasons = []string{}
	}
	h.InferredLanguages, h.InferredRegions = p.GuessedLanguages(), p.GuessedRegions()
	if p.Inferred != nil {
		h.InferredSectors = p.Inferred.Sectors
	}
	now := time.Now()
	for _, f := range protocol.Families {
		if c, ok := p.Capacity[f.Slug]; ok && c.Stale(now) {
			h.StaleCapacity = append(h.StaleCapacity, f.Slug)
		}
	}
	if r.Free >= 0 {
		*free = r.Free
		h.Free = free
	}
	h.Reachable, h.LastSeen, _ = n.dir.reach(p.ID)
	return h
}

// topK keeps the k best of the results added, in a heap whose root is the worst kept.
type topK struct {
	k    int
	seen int
	heap []protocol.Ranked
}

func newTopK(k int) *topK { return &topK{k: k, heap: make([]protocol.Ranked, 0, k)} }

func (t *topK) add(r protocol.Ranked) {
	t.seen++
	if len(t.heap) < t.k {
		t.heap = append(t.heap, r)
		t.up(len(t.heap) - 1)
		return
	}
	// Most hubs score below the worst kept: the score alone says so.
	if r.Score < t.heap[0].Score || protocol.CompareRanked(r, t.heap[0]) >= 0 {
		return // no better than the worst kept
	}
	t.heap[0] = r
	t.down(0)
}

// worse reports whether heap[i] ranks below heap[j]: the root is the worst.
func (t *topK) worse(i, j int) bool { return protocol.CompareRanked(t.heap[i], t.heap[j]) > 0 }

func (t *topK) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !t.worse(i, parent) {
			return
		}
		t.heap[i], t.heap[parent] = t.heap[parent], t.heap[i]
		i = parent
	}
}

func (t *topK) down(i int) {
	for {
		worst, l, r := i, 2*i+1, 2*i+2
		if l < len(t.heap) && t.worse(l, worst) {
			worst = l
		}
		if r < len(t.heap) && t.worse(r, worst) {
			worst = r
		}
		if worst == i {
			return
		}
		t.heap[i], t.heap[worst] = t.heap[worst], t.heap[i]
		i = worst
	}
}

// sorted returns the kept results, best first. The heap is spent.
func (t *topK) sorted() []protocol.Ranked {
	slices.SortFunc(t.heap, protocol.CompareRanked)
	return t.heap
}

// bitmaps keeps the bitmaps of admitted hubs between searches: a search then
// allocates only its results, and the collector runs less often under a stream of
// searches.
var bitmaps bitmapPool

type bitmapPool struct{ p sync.Pool }

// get returns a bitmap of n bits, all 0.
func (b *bitmapPool) get(n int) []uint64 {
	words := (n + 63) / 64
	if v, ok := b.p.Get().(*[]uint64); ok && cap(*v) >= words {
		bm := (*v)[:words]
		clear(bm)
		return bm
	}
	return make([]uint64, words)
}

func (b *bitmapPool) put(bm []uint64) { b.p.Put(&bm) }
