package node

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// SearchResult is the answer to a search: the best hubs, best first, and how many
// hubs passed the query's filters in all.
type SearchResult struct {
	Query protocol.Query `json:"query"`
	Total int            `json:"total"` // hubs that pass the filters; Hits holds the first Limit
	Hits  []Hit          `json:"hits"`
	Live  *LiveInfo      `json:"live,omitempty"` // set by a live query
}

// Hit is one hub in a search result, with why it ranks where it does and its capacity.
type Hit struct {
	Rank        int                                   `json:"rank"`
	ID          string                                `json:"id"`
	Name        string                                `json:"name"`
	Type        protocol.HubType                      `json:"type"`
	Country     string                                `json:"country"`
	Regions     []string                              `json:"regions,omitempty"`
	Languages   []string                              `json:"languages"`
	Score       float64                               `json:"score"`
	Explanation string                                `json:"explanation"`
	Reasons     []string                              `json:"reasons"`
	Proximity   string                                `json:"proximity,omitempty"`
	Free        *int                                  `json:"free,omitempty"` // free places in the family asked for, when published
	Capacity    map[protocol.Family]protocol.Capacity `json:"capacity,omitempty"`
	Revision    uint64                                `json:"revision"`
	Reachable   bool                                  `json:"reachable"`
	LastSeen    time.Time                             `json:"last_seen,omitzero"`

	// Set by a live query.
	Answered bool     `json:"answered,omitempty"`  // the hub answered in time; capacity is its own, now
	HubScore *float64 `json:"hub_score,omitempty"` // the hub's own evaluation, when it answered and matched
}

// index holds every other hub's profile prepared for matching. Searches read a
// snapshot without locks; a change copies the slice of pointers, which at 10,000
// hubs takes microseconds.
type index struct {
	mu   sync.Mutex     // serializes writers; guards pos
	pos  map[string]int // hub ID -> position in the snapshot
	snap atomic.Pointer[[]*protocol.Candidate]
}

func newIndex() *index {
	x := &index{pos: map[string]int{}}
	x.snap.Store(&[]*protocol.Candidate{})
	return x
}

// all returns the current snapshot; callers must not change it.
func (x *index) all() []*protocol.Candidate { return *x.snap.Load() }

// put adds the profiles, or replaces older revisions of them.
func (x *index) put(ps ...protocol.Profile) {
	x.mu.Lock()
	defer x.mu.Unlock()
	next := slices.Clone(x.all())
	for i := range ps {
		p := &ps[i]
		if at, ok := x.pos[p.ID]; ok {
			if next[at].Profile.Revision < p.Revision {
				next[at] = protocol.NewCandidate(p)
			}
			continue
		}
		x.pos[p.ID] = len(next)
		next = append(next, protocol.NewCandidate(p))
	}
	x.snap.Store(&next)
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
func (n *Node) Search(q protocol.Query) (SearchResult, error) {
	m, err := protocol.NewMatcher(q)
	if err != nil {
		return SearchResult{}, err
	}
	top, total := n.rank(m, n.index.all(), nil)
	res := SearchResult{Query: m.Query(), Total: total, Hits: make([]Hit, len(top))}
	for i, r := range top {
		res.Hits[i] = n.hit(m, r, i+1)
	}
	n.metrics.searches.WithLabelValues("local").Inc()
	return res, nil
}

// rank returns the best m.Limit() candidates, best first, and how many passed the
// filters. live, when not nil, replaces a candidate by the one made from its hub's
// answer.
func (n *Node) rank(m *protocol.Matcher, cands []*protocol.Candidate, live map[string]*protocol.Candidate) ([]protocol.Ranked, int) {
	top := topK{k: m.Limit()}
	self := n.id.ID
	for _, c := range cands {
		if lc, ok := live[c.Profile.ID]; ok {
			c = lc
		}
		if c.Profile.ID == self {
			continue
		}
		if r, ok := m.Rank(c); ok {
			top.add(r)
		}
	}
	return top.sorted(), top.seen
}

// hit describes a ranked hub for the API.
func (n *Node) hit(m *protocol.Matcher, r protocol.Ranked, rank int) Hit {
	p := r.Candidate.Profile
	reasons := m.Explain(r.Candidate)
	h := Hit{
		Rank: rank, ID: p.ID, Name: p.Name, Type: p.Type, Country: p.Country, Regions: p.Regions,
		Languages: p.Languages, Score: r.Score, Explanation: strings.Join(reasons, "; "), Reasons: reasons,
		Proximity: m.Proximity(r.Candidate).String(), Capacity: p.Capacity, Revision: p.Revision,
	}
	if h.Reasons == nil {
		h.Reasons = []string{}
	}
	if r.Free >= 0 {
		free := r.Free
		h.Free = &free
	}
	if pv, ok := n.dir.peer(p.ID); ok {
		h.Reachable, h.LastSeen = pv.Reachable, pv.LastSeen
	}
	return h
}

// topK keeps the k best of the results added, in a heap whose root is the worst kept.
type topK struct {
	k    int
	seen int
	heap []protocol.Ranked
}

func (t *topK) add(r protocol.Ranked) {
	t.seen++
	if len(t.heap) < t.k {
		t.heap = append(t.heap, r)
		t.up(len(t.heap) - 1)
		return
	}
	if protocol.CompareRanked(r, t.heap[0]) >= 0 {
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

// sorted returns the kept results, best first.
func (t *topK) sorted() []protocol.Ranked {
	out := slices.Clone(t.heap)
	slices.SortFunc(out, protocol.CompareRanked)
	return out
}
