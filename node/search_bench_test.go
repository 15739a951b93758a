package node_test

import (
	"slices"
	"testing"

	"github.com/hubnet-eu/hubnet/internal/synth"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// TestSearch_largeDirectory checks search over 5,000 hubs against a plain scan and
// sort of every hub: synthetic queries, whose gates admit a few hundred hubs, and
// broad ones that admit thousands, with limits from 1 to the highest; each scored in
// one part, then, with the threshold lowered, in parallel parts.
func TestSearch_largeDirectory(t *testing.T) {
	const size = 5000
	h := largeHub(t, size)
	profiles := synth.Profiles(size, 7)
	cands := make([]*protocol.Candidate, len(profiles))
	for i := range profiles {
		cands[i] = protocol.NewCandidate(&profiles[i])
	}
	broad := []protocol.Query{{}, {Languages: []string{"en"}}, {Text: "a"}, {Limit: protocol.MaxQueryLimit}}
	queries := append(synth.Queries(40, 3), broad...)
	for i, q := range synth.Queries(20, 5) {
		q.Limit = []int{1, 5, protocol.MaxQueryLimit}[i%3]
		queries = append(queries, q)
	}
	for _, parts := range []string{"one part", "parallel parts"} {
		if parts == "parallel parts" {
			defer node.SetParallelScan(500)()
		}
		for i, q := range queries {
			checkPlainScan(t, h, cands, parts, i, q)
		}
	}
}

// checkPlainScan compares the search's answer to q with a plain scan and sort of
// every candidate.
func checkPlainScan(t *testing.T, h *nodetest.Hub, cands []*protocol.Candidate, parts string, i int, q protocol.Query) {
	t.Helper()
	res, err := h.Search(q)
	if err != nil {
		t.Fatal(err)
	}
	// The plain way: score every profile, sort them all.
	m, _ := protocol.NewMatcher(q)
	var all []protocol.Ranked
	for _, c := range cands {
		if r, ok := m.Rank(c); ok {
			all = append(all, r)
		}
	}
	slices.SortFunc(all, protocol.CompareRanked)
	if res.Total != len(all) {
		t.Fatalf("%s, query %d: total %d, plain scan %d", parts, i, res.Total, len(all))
	}
	if want := min(len(all), m.Limit()); len(res.Hits) != want {
		t.Fatalf("%s, query %d: %d hits, plain scan %d", parts, i, len(res.Hits), want)
	}
	for k, hit := range res.Hits {
		if hit.ID != all[k].Candidate.Profile.ID || hit.Score != all[k].Score {
			t.Fatalf("%s, query %d rank %d: %s %.2f, plain scan %s %.2f", parts, i, k+1, hit.ID, hit.Score,
				all[k].Candidate.Profile.ID, all[k].Score)
		}
	}
}

// largeHub starts a hub with size synthetic hubs in its directory.
func largeHub(tb testing.TB, size int) *nodetest.Hub {
	tb.Helper()
	dir := tb.TempDir()
	p := nodetest.Profile("advisor-hub")
	if _, err := node.InitDataDir(dir, nodetest.Network(tb), p.ID, &p); err != nil {
		tb.Fatal(err)
	}
	if err := synth.FillDirectory(dir, synth.Profiles(size, 7)); err != nil {
		tb.Fatal(err)
	}
	return nodetest.StartConfig(tb, nodetest.Config(dir))
}

func BenchmarkSearch_10000Hubs(b *testing.B) {
	h := largeHub(b, 10000)
	qs := synth.Queries(1000, 3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := h.Search(qs[i%len(qs)]); err != nil {
			b.Fatal(err)
		}
	}
}
