package protocol

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Cluster is one region of the network's map: the hubs of its countries form a full
// mesh of NATS routes among themselves, and the clusters are joined by NATS gateways.
// A hub's cluster follows from the country of its profile (see Network.ClusterOf).
type Cluster struct {
	Name      string   `json:"name"`      // short slug, see ValidClusterName
	Countries []string `json:"countries"` // Eurostat country codes, as profiles write them
}

// OtherCluster is the cluster of a hub whose country no cluster of the map lists, and of
// a hub without a profile yet.
const OtherCluster = "other"

// MaxClusterName is the longest cluster name: it travels in every hub's gossip metadata.
const MaxClusterName = 16

// MaxClusters bounds the clusters of a network: every hub holds a gateway connection
// to each other cluster.
const MaxClusters = 64

// SmallCountry is the number of hubs under which DefaultClusters puts a country into
// its regional group rather than a cluster of its own.
const SmallCountry = 4

var clusterPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

const clusterRule = "must be 1-16 characters of a-z, 0-9 and '-', starting and ending with a letter or digit"

// ValidClusterName reports whether name is a valid cluster name: lower case letters,
// digits and '-', 1 to 16 characters, starting and ending with a letter or digit.
func ValidClusterName(name string) bool {
	return len(name) >= 1 && len(name) <= MaxClusterName && clusterPattern.MatchString(name)
}

// validateClusters adds every problem of a region map to p: names invalid or given
// twice, countries unknown or listed twice (in one cluster or in two).
func validateClusters(cs []Cluster, p *problems) {
	if len(cs) > MaxClusters {
		p.add("clusters", "must list at most %d clusters, got %d", MaxClusters, len(cs))
		return
	}
	names := map[string]int{}
	where := map[string]string{} // country -> cluster that lists it first
	for i, c := range cs {
		f := fmt.Sprintf("clusters[%d]", i)
		switch j, dup := names[c.Name]; {
		case c.Name == "":
			p.add(f+".name", "must not be empty")
		case !ValidClusterName(c.Name):
			p.add(f+".name", clusterRule)
		case dup:
			p.add(f+".name", "%q is the name of clusters[%d] already", c.Name, j)
		default:
			names[c.Name] = i
		}
		if len(c.Countries) == 0 {
			p.add(f+".countries", "must list at least one country")
		}
		for k, code := range c.Countries {
			cf := fmt.Sprintf("%s.countries[%d]", f, k)
			if _, ok := CountryByCode(code); !ok {
				p.add(cf, "%q must be a known country code (Eurostat, e.g. FI, EL, DE)", code)
				continue
			}
			if other, dup := where[code]; dup {
				p.add(cf, "%s is in cluster %q already: a country belongs to one cluster", code, other)
				continue
			}
			where[code] = c.Name
		}
	}
}

// Clustered reports whether the network has a region map. A network without one is a
// single full mesh of routes, as networks were before region maps.
func (n Network) Clustered() bool { return len(n.Clusters) > 0 }

// ClusterOf returns the cluster of a hub in country: the cluster that lists it, or
// OtherCluster. It returns "" when the network has no region map.
func (n Network) ClusterOf(country string) string {
	if !n.Clustered() {
		return ""
	}
	for _, c := range n.Clusters {
		if slices.Contains(c.Countries, country) {
			return c.Name
		}
	}
	return OtherCluster
}

// clusterRegions are the regional groups DefaultClusters puts small countries in,
// each listing every country of Countries once.
var clusterRegions = []Cluster{
	{"north", []string{"DK", "EE", "FI", "IS", "LT", "LV", "NO", "SE"}},
	{"west", []string{"AT", "BE", "CH", "DE", "FR", "IE", "LI", "LU", "NL", "UK"}},
	{"east", []string{"BG", "CZ", "HU", "PL", "RO", "SK", "UA"}},
	{"south", []string{"AL", "BA", "CY", "EL", "ES", "HR", "IT", "ME", "MK", "MT", "PT", "RS", "SI", "TR", "XK"}},
}

// DefaultClusters returns the default region map for a network whose countries have
// the given numbers of hubs (country code -> hubs): a cluster of its own, named by
// its code in lower case, for each country with SmallCountry hubs or more, and the
// other countries, those with no hubs too, grouped by region (north, west, east,
// south). A region left with no country is left out. Clusters are sorted by name.
func DefaultClusters(hubs map[string]int) []Cluster {
	var out []Cluster
	for _, r := range clusterRegions {
		group := Cluster{Name: r.Name}
		for _, code := range r.Countries {
			if hubs[code] >= SmallCountry {
				out = append(out, Cluster{Name: strings.ToLower(code), Countries: []string{code}})
			} else {
				group.Countries = append(group.Countries, code)
			}
		}
		if len(group.Countries) > 0 {
			out = append(out, group)
		}
	}
	slices.SortFunc(out, func(a, b Cluster) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
