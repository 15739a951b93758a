package spread

import (
	"testing"

	"github.com/hubnet-eu/hubnet/internal/catalogue"
	"github.com/hubnet-eu/hubnet/protocol"
)

func TestFiles(t *testing.T) {
	mesh := protocol.Network{}
	// Four hubs in one mesh: 12 each and both ends of 6 routes.
	if got, want := Files(mesh, []string{"FI", "FI", "IT", "DE"}), 4*perHub+4*3; got != want {
		t.Errorf("mesh of 4: %d files, want %d", got, want)
	}
	clustered := protocol.Network{Clusters: protocol.DefaultClusters(catalogue.HubsPerCountry)}
	var all []string
	for c, k := range catalogue.HubsPerCountry {
		for range k {
			all = append(all, c)
		}
	}
	// The whole catalogue does not fit one process of 20,000 files, and needs
	// several; as one mesh it would need many more.
	need := Files(clustered, all)
	if need < 30000 || need > 60000 {
		t.Errorf("the catalogue's %d hubs in clusters: %d files, want 30,000 to 60,000", len(all), need)
	}
	if p := Procs(need, 20000); p < 3 || p > 6 {
		t.Errorf("the catalogue in clusters: %d processes of 20,000 files, want 3 to 6", p)
	}
	if m := Files(mesh, all); m < 4*need {
		t.Errorf("the catalogue as a mesh: %d files, want over four times as many as in clusters (%d)", m, need)
	}
}

func TestProcs(t *testing.T) {
	for _, tc := range []struct{ need, limit, want int }{
		{100, 20000, 1}, {10000, 20000, 1}, {10001, 20000, 2}, {45000, 20000, 5}, {5000, 0, 1},
	} {
		if got := Procs(tc.need, tc.limit); got != tc.want {
			t.Errorf("Procs(%d, %d) = %d, want %d", tc.need, tc.limit, got, tc.want)
		}
	}
}

func TestRanges(t *testing.T) {
	for _, tc := range []struct{ n, procs int }{{457, 5}, {10, 3}, {2, 4}, {1, 1}} {
		r := Ranges(tc.n, tc.procs)
		next := 0
		for _, rg := range r {
			if rg[0] != next || rg[1] <= rg[0] {
				t.Fatalf("Ranges(%d, %d) = %v: not consecutive, non-empty ranges", tc.n, tc.procs, r)
			}
			next = rg[1]
		}
		if next != tc.n || len(r) != min(tc.n, tc.procs) {
			t.Fatalf("Ranges(%d, %d) = %v: want %d ranges covering all", tc.n, tc.procs, r, min(tc.n, tc.procs))
		}
	}
}
