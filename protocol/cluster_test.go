package protocol

import (
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func clusteredNetwork(t *testing.T, cs ...Cluster) Network {
	t.Helper()
	n, _, err := NewNetwork("eu-hubs", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n.Clusters = cs
	return n
}

func TestNetwork_ClusterOf(t *testing.T) {
	n := clusteredNetwork(t, Cluster{"it", []string{"IT"}}, Cluster{"north", []string{"EE", "IS", "NO"}})
	if err := n.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, tt := range []struct{ country, want string }{
		{"IT", "it"}, {"NO", "north"}, {"EE", "north"}, {"DE", OtherCluster}, {"", OtherCluster}, {"it", OtherCluster},
	} {
		if got := n.ClusterOf(tt.country); got != tt.want {
			t.Errorf("ClusterOf(%q): got %q, want %q", tt.country, got, tt.want)
		}
	}
	n.Clusters = nil
	if got := n.ClusterOf("IT"); got != "" || n.Clustered() {
		t.Errorf("without a region map: ClusterOf(IT) %q, Clustered %v; want \"\", false", got, n.Clustered())
	}
}

func TestNetwork_Validate_clusters(t *testing.T) {
	tests := []struct {
		name     string
		clusters []Cluster
		want     []string
	}{
		{"empty name", []Cluster{{"", []string{"IT"}}}, []string{"clusters[0].name"}},
		{"name upper case", []Cluster{{"IT", []string{"IT"}}}, []string{"clusters[0].name"}},
		{"name too long", []Cluster{{strings.Repeat("a", 17), []string{"IT"}}}, []string{"clusters[0].name"}},
		{"name with a dot", []Cluster{{"a.b", []string{"IT"}}}, []string{"clusters[0].name"}},
		{"name twice", []Cluster{{"it", []string{"IT"}}, {"it", []string{"FI"}}}, []string{"clusters[1].name"}},
		{"no countries", []Cluster{{"it", nil}}, []string{"clusters[0].countries"}},
		{"unknown country", []Cluster{{"it", []string{"IT", "ZZ"}}}, []string{"clusters[0].countries[1]"}},
		{"country in lower case", []Cluster{{"it", []string{"it"}}}, []string{"clusters[0].countries[0]"}},
		{"country in two clusters", []Cluster{{"it", []string{"IT"}}, {"south", []string{"MT", "IT"}}}, []string{"clusters[1].countries[1]"}},
		{"country twice in one", []Cluster{{"it", []string{"IT", "IT"}}}, []string{"clusters[0].countries[1]"}},
		{"everything", []Cluster{{"", nil}, {"Bad", []string{"XX"}}},
			[]string{"clusters[0].name", "clusters[0].countries", "clusters[1].name", "clusters[1].countries[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := clusteredNetwork(t, tt.clusters...)
			if got := problemFields(t, n.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("too many", func(t *testing.T) {
		var cs []Cluster
		for i := range MaxClusters + 1 {
			cs = append(cs, Cluster{Name: "c" + strings.Repeat("x", i%10) + string(rune('a'+i%26)), Countries: []string{"IT"}})
		}
		if got := problemFields(t, clusteredNetwork(t, cs...).Validate()); !slices.Equal(got, []string{"clusters"}) {
			t.Errorf("got %v, want [clusters]", got)
		}
	})
}

func TestNetwork_Validate_gatewayHubs(t *testing.T) {
	it := Cluster{"it", []string{"IT"}}
	tests := []struct {
		name     string
		clusters []Cluster
		hubs     int
		want     []string
	}{
		{"every hub", []Cluster{it}, 0, nil},
		{"three", []Cluster{it}, 3, nil},
		{"the most", []Cluster{it}, MaxGatewayHubs, nil},
		{"negative", []Cluster{it}, -1, []string{"gateway_hubs"}},
		{"too many", []Cluster{it}, MaxGatewayHubs + 1, []string{"gateway_hubs"}},
		{"without a region map", nil, 3, []string{"gateway_hubs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := clusteredNetwork(t, tt.clusters...)
			n.GatewayHubs = tt.hubs
			err := n.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			if got := problemFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestParseNetwork_withoutClusters reads a network file written before region maps:
// it is one mesh, and written again it has no clusters field.
func TestParseNetwork_withoutClusters(t *testing.T) {
	n := clusteredNetwork(t)
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "clusters") {
		t.Errorf("network without clusters encodes %s", b)
	}
	got, err := ParseNetwork(b)
	if err != nil {
		t.Fatalf("ParseNetwork: %v", err)
	}
	if got.Clustered() {
		t.Errorf("got clusters %v, want none", got.Clusters)
	}
}

func TestParseNetwork_clustersRoundTrip(t *testing.T) {
	n := clusteredNetwork(t, DefaultClusters(map[string]int{"IT": 57, "FI": 9, "MT": 2})...)
	n.GatewayHubs = DefaultGatewayHubs
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseNetwork(b)
	if err != nil {
		t.Fatalf("ParseNetwork: %v", err)
	}
	if got.GatewayHubs != DefaultGatewayHubs {
		t.Errorf("got %d gateway hubs per cluster, want %d", got.GatewayHubs, DefaultGatewayHubs)
	}
	if got.ClusterOf("FI") != "fi" || got.ClusterOf("MT") != "south" || got.ClusterOf("DE") != "west" {
		t.Errorf("got FI in %q, MT in %q, DE in %q; want fi, south, west", got.ClusterOf("FI"), got.ClusterOf("MT"), got.ClusterOf("DE"))
	}
}

func TestDefaultClusters(t *testing.T) {
	t.Run("every country in one region", func(t *testing.T) {
		seen := map[string]string{}
		for _, r := range clusterRegions {
			for _, c := range r.Countries {
				if other, ok := seen[c]; ok {
					t.Errorf("%s in regions %s and %s", c, other, r.Name)
				}
				seen[c] = r.Name
			}
		}
		for _, c := range Countries {
			if _, ok := seen[c.Code]; !ok {
				t.Errorf("%s (%s) in no region", c.Code, c.Name)
			}
		}
	})
	t.Run("no hubs", func(t *testing.T) {
		cs := DefaultClusters(nil)
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.Name
		}
		if want := []string{"east", "north", "south", "west"}; !slices.Equal(names, want) {
			t.Errorf("got %v, want %v", names, want)
		}
	})
	t.Run("small and large countries", func(t *testing.T) {
		cs := DefaultClusters(map[string]int{"IT": 57, "FI": SmallCountry, "NO": SmallCountry - 1, "BG": 13, "CZ": 11,
			"HU": 12, "PL": 21, "RO": 9, "SK": 6, "UA": 10})
		n := clusteredNetwork(t, cs...)
		if err := n.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		for country, want := range map[string]string{"IT": "it", "FI": "fi", "NO": "north", "MT": "south", "UK": "west", "PL": "pl"} {
			if got := n.ClusterOf(country); got != want {
				t.Errorf("ClusterOf(%s): got %q, want %q", country, got, want)
			}
		}
		for _, c := range cs {
			if c.Name == "east" {
				t.Errorf("region east holds %v, want it left out: all its countries are large", c.Countries)
			}
		}
		if !slices.IsSortedFunc(cs, func(a, b Cluster) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("clusters not sorted by name")
		}
	})
}
