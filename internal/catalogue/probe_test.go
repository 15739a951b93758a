package catalogue

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/protocol"
)

func probeHubs(t *testing.T) ([]Hub, []*protocol.Candidate) {
	f, err := os.Open(realCatalogue)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	rows, err := ReadRows(f)
	if err != nil {
		t.Fatal(err)
	}
	hubs := Import(rows)
	var cs []*protocol.Candidate
	for _, h := range hubs {
		if h.Imported() {
			cs = append(cs, protocol.NewCandidate(h.Profile))
		}
	}
	return hubs, cs
}

func probeRun(t *testing.T, cs []*protocol.Candidate, q protocol.Query) []protocol.Ranked {
	m, err := protocol.NewMatcher(q)
	if err != nil {
		t.Fatal(err)
	}
	var out []protocol.Ranked
	for _, c := range cs {
		if r, ok := m.Rank(c); ok {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, protocol.CompareRanked)
	fmt.Printf("== %+v: %d hubs\n", q, len(out))
	for i, r := range out {
		if i < 30 {
			fmt.Printf("%2d %-30s %s %6.2f %s\n", i+1, r.Candidate.Profile.ID, r.Candidate.Profile.Country, r.Score, strings.Join(m.Explain(r.Candidate), "; "))
		}
	}
	return out
}

func TestProbe(t *testing.T) {
	_, cs := probeHubs(t)
	q := func(s string) protocol.Query {
		var qq protocol.Query
		for _, kv := range strings.Fields(s) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "tech":
				qq.Technologies = strings.Split(v, ",")
			case "sector":
				qq.Sector = v
			case "region":
				qq.Region = v
			case "country":
				qq.Country = v
			case "lang":
				qq.Languages = strings.Split(v, ",")
			case "reach":
				qq.Reach = protocol.Reach(v)
			case "family":
				qq.Family = protocol.Family(v)
			case "text":
				qq.Text = strings.ReplaceAll(v, "+", " ")
			}
		}
		qq.Limit = 500
		return qq
	}
	for _, s := range strings.Split(os.Getenv("PROBE"), ";") {
		probeRun(t, cs, q(s))
	}
}

func TestProbeStats(t *testing.T) {
	hubs, cs := probeHubs(t)
	ai5, regions, c5, notags, div31 := 0, 0, 0, 0, 0
	for _, c := range cs {
		p := c.Profile
		if p.Technologies["ai-decision-support"] == 5 {
			ai5++
		}
		if len(p.Regions) > 0 {
			regions++
		}
		if p.Sectors["C"] == 5 {
			c5++
		}
		if _, ok := p.Sectors["31"]; ok {
			div31++
		}
		if len(p.Technologies)+len(p.Services)+len(p.Sectors) == 0 {
			notags++
		}
	}
	fmt.Println("ai5", ai5, "regions", regions, "C5", c5, "div31", div31, "notags", notags, len(hubs))
}

func TestProbeRegions(t *testing.T) {
	f, _ := os.Open("../../../shared/data/edih-catalogue-2025-05.csv")
	defer f.Close()
	rs, _ := csvRead(f)
	got := map[string]int{}
	tot := map[string]int{}
	n := 0
	for _, r := range rs[1:] {
		c, _ := protocol.CountryByName(r[3])
		h := deriveRegion(c.Code, r[4])
		tot[c.Code]++
		if h.Code != "" {
			got[c.Code]++
			n++
			fmt.Printf("OK %s | %s | %s\n", h.Code, r[4], h.Source)
		} else {
			fmt.Printf("NO %s | %s | %s\n", c.Code, r[4], h.Why)
		}
	}
	fmt.Println("total", n, got, tot)
}
