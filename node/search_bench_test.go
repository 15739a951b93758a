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
// sort of every hub: synthetic queries, whose gates admit a few hundred hubs scored in
// one part, and broad ones that admit enough to be scored in parallel parts.
func TestSearch_largeDirectory(t *testing.T) {
	const size = 5000
	h := largeHub(t, size)
	profiles := synth.Profiles(size, 7)
	cands := make([]*protocol.Candidate, len(profiles))
	for i := range profiles {
		cands[i] = protocol.NewCandidate(&profiles[i])
	}
	broad := []protocol.Query{{}, {Languages: []string{"en"}}, {Text: "a"}, {Limit: protocol.MaxQueryLimit}}
	for i, q := range append(synth.Queries(40, 3), broad...) {
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
			t.Fatalf("query %d: total %d, plain scan %d", i, res.Total, len(all))
		}
		for k, hit := range res.Hits {
			if hit.ID != all[k].Candidate.Profile.ID || hit.Score != all[k].Score {
				t.Fatalf("query %d rank %d: %s %.2f, plain scan %s %.2f", i, k+1, hit.ID, hit.Score,
					all[k].Candidate.Profile.ID, all[k].Score)
			}
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
