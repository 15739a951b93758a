package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/internal/catalogue/cataloguetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// readNetworkJSON reads and validates a network file the binary wrote.
func readNetworkJSON(t *testing.T, path string) protocol.Network {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := protocol.ParseNetwork(data)
	if err != nil {
		t.Fatalf("network.json as written: %v", err)
	}
	return n
}

func TestCLI_networkCreate_clusters(t *testing.T) {
	root := t.TempDir()
	file := func(name string) string { return filepath.Join(root, name) }

	r := mustHubnet(t, "network", "create", "eu-edihs", "-o", file("eu.json"), "--key", file("eu.key"))
	if !strings.Contains(r.stdout, "region map of 31 clusters") {
		t.Errorf("stdout:\n%s\nwant the region map's size", r.stdout)
	}
	eu := readNetworkJSON(t, file("eu.json"))
	for country, want := range map[string]string{"IT": "it", "DE": "de", "NO": "north", "MT": "south", "UK": "west"} {
		if got := eu.ClusterOf(country); got != want {
			t.Errorf("ClusterOf(%s): got %q, want %q", country, got, want)
		}
	}
	r = mustHubnet(t, "network", "clusters", "--network", file("eu.json"))
	for _, want := range []string{"CLUSTER", "it  ", "north", "EE IS NO", "other"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("clusters printed:\n%s\nwant %q", r.stdout, want)
		}
	}
	r = mustHubnet(t, "--json", "network", "clusters", "--network", file("eu.json"))
	var cs []protocol.Cluster
	if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil || len(cs) != 31 {
		t.Errorf("--json: %d clusters, %v; want 31", len(cs), err)
	}

	mustHubnet(t, "network", "create", "pilot", "-o", file("pilot.json"), "--key", file("pilot.key"), "--no-clusters")
	if n := readNetworkJSON(t, file("pilot.json")); n.Clustered() {
		t.Errorf("--no-clusters wrote clusters %v", n.Clusters)
	}
	r = mustHubnet(t, "network", "clusters", "--network", file("pilot.json"))
	if !strings.Contains(r.stdout, "no region map") {
		t.Errorf("clusters of a network without a map:\n%s", r.stdout)
	}

	// A catalogue of four Finnish hubs and one Italian: Finland is a cluster, Italy,
	// with 57 hubs in the real catalogue, is small here.
	var rows []*cataloguetest.Row
	for i, country := range []string{"Finland", "Finland", "Italy", "Finland", "Finland"} {
		rows = append(rows, &cataloguetest.Row{Country: country, Name: "Hub " + string(rune('A'+i)), Type: "EDIH"})
	}
	wb := file("catalogue.xlsx")
	if err := os.WriteFile(wb, cataloguetest.Workbook(t, cataloguetest.Header, rows), 0o600); err != nil {
		t.Fatal(err)
	}
	mustHubnet(t, "network", "create", "small", "-o", file("small.json"), "--key", file("small.key"), "--catalogue", wb)
	small := readNetworkJSON(t, file("small.json"))
	if got, want := small.ClusterOf("FI"), "fi"; got != want {
		t.Errorf("ClusterOf(FI): got %q, want %q", got, want)
	}
	if got, want := small.ClusterOf("IT"), "south"; got != want {
		t.Errorf("ClusterOf(IT): got %q, want %q", got, want)
	}

	for _, args := range [][]string{
		{"network", "create", "both", "-o", file("both.json"), "--key", file("both.key"), "--no-clusters", "--catalogue", wb},
		{"network", "create", "nocat", "-o", file("nocat.json"), "--key", file("nocat.key"), "--catalogue", file("missing.xlsx")},
		{"network", "clusters", "--network", file("missing.json")},
	} {
		if r := hubnet(t, nil, args...); r.code == 0 {
			t.Errorf("hubnet %s: %v; want an error", strings.Join(args, " "), r)
		}
	}
	if _, err := os.Stat(file("nocat.json")); err == nil {
		t.Errorf("nocat.json written although the catalogue was missing")
	}

	// A region map a steward broke by hand is refused, naming the field and the rule.
	bad := strings.Replace(mustRead(t, file("eu.json")), `"name": "north"`, `"name": "it"`, 1)
	writeFile(t, root, "bad.json", bad)
	r = hubnet(t, nil, "network", "clusters", "--network", file("bad.json"))
	if r.code != exitInvalid || !strings.Contains(r.stderr, ".name") || !strings.Contains(r.stderr, "clusters[") {
		t.Errorf("a map with a name twice: %v; want exit %d naming the field", r, exitInvalid)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
