package protocol

import (
	"slices"
	"strings"
	"testing"
)

// The worked examples of docs/matching.md: if this test changes, change the page.
func TestMatchingDoc_workedExamples(t *testing.T) {
	tbi := func(avail, maxi int) map[Family]Capacity {
		return map[Family]Capacity{FamilyTestBeforeInvest: capacity(avail, maxi)}
	}
	robocoast := hub("robocoast", "FI", func(p *Profile) {
		p.Regions, p.Languages = []string{"FI19"}, []string{"fi", "sv", "en"}
		p.Technologies = map[string]int{"ai-decision-support": 5}
		p.Services = map[string]int{"field-trial": 5}
		p.Sectors = map[string]int{"10": 4}
		p.Capacity = tbi(4, 10)
	})
	digihall := hub("digihall", "FR", func(p *Profile) {
		p.Regions, p.Languages = []string{"FR10"}, []string{"fr", "en"}
		p.Technologies = map[string]int{"ai-decision-support": 5}
		p.Sectors = map[string]int{"C": 3}
		p.Capacity = tbi(5, 12)
	})
	sweden := hub("digit-hub-sweden", "SE", func(p *Profile) {
		p.Regions, p.Languages = []string{"SE33"}, []string{"sv", "en"}
		p.Technologies = map[string]int{"ai-decision-support": 3}
		p.Capacity = tbi(1, 4)
	})
	all := []*Profile{sweden, digihall, robocoast}

	q := Query{Technologies: []string{"ai-decision-support"}, Family: FamilyTestBeforeInvest, Sector: "10",
		Region: "FI193", Languages: []string{"fi", "en"}}
	m, err := NewMatcher(q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		score float64
		why   string
	}{
		"robocoast":        {90, "Artificial Intelligence & Decision support level 5 (wanted); offers test before invest, 4 of 10 free (SMEs per month); sector 10 Manufacture of food products level 4; works in fi, en; region FI19, same region"},
		"digihall":         {50.88, "Artificial Intelligence & Decision support level 5 (wanted); offers test before invest, 5 of 12 free (SMEs per month); sector C Manufacturing level 3, section C: covers 10 Manufacture of food products; works in en, not in fi; region FR10, another country"},
		"digit-hub-sweden": {35.6, "Artificial Intelligence & Decision support level 3 (wanted); offers test before invest, 1 of 4 free (SMEs per month); sector 10 Manufacture of food products not listed; works in en, not in fi; region SE33, neighbouring country"},
	}
	for _, p := range all {
		c := NewCandidate(p)
		score, ok := m.Score(c)
		why := strings.Join(m.Explain(c), "; ")
		if w := want[p.ID]; !ok || score != w.score || why != w.why {
			t.Errorf("%s: score %v (%v)\n  why  %q\n  want %v %q", p.ID, score, ok, why, w.score, w.why)
		}
	}
	wantOrder(t, rank(t, q, all...), "robocoast", "digihall", "digit-hub-sweden")

	q.Reach = ReachNeighbours
	wantOrder(t, rank(t, q, all...), "robocoast", "digit-hub-sweden")
	q.Reach, q.MinCapacity = "", 2
	wantOrder(t, rank(t, q, all...), "robocoast", "digihall")

	// Only the country known: same country is the best there is.
	q = Query{Technologies: []string{"ai-decision-support"}, Country: "FI"}
	m, _ = NewMatcher(q)
	var scores []float64
	for _, p := range []*Profile{robocoast, digihall, sweden} {
		s, _ := m.Score(NewCandidate(p))
		scores = append(scores, s)
	}
	if !slices.Equal(scores, []float64{100, 44.44, 51.92}) {
		t.Errorf("country-only scores %v, want [100 44.44 51.92]", scores)
	}
}
