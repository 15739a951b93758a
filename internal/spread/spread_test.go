package spread

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

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
	// With three gateway hubs per cluster, the others leaf hubs of one connection
	// each, the catalogue needs well under half as many.
	leaves := clustered
	leaves.GatewayHubs = 3
	if got := Files(leaves, all); got > need/2 {
		t.Errorf("the catalogue with gateway hubs: %d files, want under half the %d of clusters without", got, need)
	}
	// Two hubs of a cluster, both gateway hubs: the same as without.
	if a, b := Files(leaves, []string{"FI", "FI", "IT"}), Files(clustered, []string{"FI", "FI", "IT"}); a != b {
		t.Errorf("three hubs, all gateway hubs: %d files, want %d as without gateway hubs", a, b)
	}
}

func TestProcs(t *testing.T) {
	for _, tc := range []struct{ need, limit, want int }{
		{100, 20000, 1}, {15000, 20000, 1}, {15001, 20000, 2}, {45000, 20000, 3}, {45001, 20000, 4}, {5000, 0, 1},
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

// TestMain lets the test binary stand in as the child of TestChild.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		echoChild()
		return
	}
	os.Exit(m.Run())
}

const childEnv = "HUBNET_SPREAD_TEST_CHILD"

// echoChild answers each command with its spec and the command, until "stop".
func echoChild() {
	var spec struct{ Name string }
	json.Unmarshal([]byte(os.Getenv(childEnv)), &spec)
	enc := json.NewEncoder(os.Stdout)
	enc.Encode(map[string]string{"hello": spec.Name})
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		if lines.Text() == "stop" {
			return
		}
		if lines.Text() == "hang" {
			time.Sleep(time.Minute)
		}
		enc.Encode(map[string]string{"said": spec.Name + ": " + lines.Text()})
	}
}

func TestChild(t *testing.T) {
	c, err := StartChild(childEnv, struct{ Name string }{"w1"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(10 * time.Second)
	var got map[string]string
	if err := c.Next(context.Background(), 10*time.Second, &got); err != nil || got["hello"] != "w1" {
		t.Fatalf("first answer %v (%v), want hello w1", got, err)
	}
	if err := c.Send("status"); err != nil {
		t.Fatal(err)
	}
	if err := c.Next(context.Background(), 10*time.Second, &got); err != nil || got["said"] != "w1: status" {
		t.Fatalf("answer to status: %v (%v), want w1: status", got, err)
	}
	// A child that does not answer in time is given up and killed.
	c.Send("hang")
	if err := c.Next(context.Background(), 200*time.Millisecond, &got); err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("answer from a hanging child: %v, want no answer within 200ms", err)
	}
}

// The machine's memory is read, and the collector of a process among several is
// bounded at its share of half of it.
func TestPaceCollector_memoryShare(t *testing.T) {
	total := MemTotal()
	if total == 0 {
		t.Skip("no /proc/meminfo here")
	}
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		t.Skip("GOMEMLIMIT or GOGC set: the environment decides")
	}
	oldLimit := debug.SetMemoryLimit(-1)
	oldPercent := debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldPercent)
	})
	PaceCollector(4)
	if got, want := debug.SetMemoryLimit(-1), total/8; got != want {
		t.Errorf("memory limit %d, want a quarter of half of %d: %d", got, total, want)
	}
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GOGC %d, want 400", got)
	}
}
