package protocol

import (
	"testing"
	"time"
)

// gateHubs are hubs at the edges of each filter the gate reads.
func gateHubs() []*Profile {
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	return []*Profile{
		hub("plain-fi", "FI", nil),
		hub("ai-fi", "FI", func(p *Profile) {
			p.Regions = []string{"FI1B"}
			p.Technologies = map[string]int{"ai-decision-support": 5}
			p.Services = map[string]int{"prototyping": 3}
			p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(3, 5)}
		}),
		hub("stale-se", "SE", func(p *Profile) {
			p.Languages = []string{"sv", "en"}
			p.Technologies = map[string]int{"robotics": 2, "cybersecurity": 4}
			p.Capacity = map[Family]Capacity{FamilySkills: {Available: 1, Maximum: 2, Unit: "SMEs", Updated: old}}
		}),
		hub("described-pt", "PT", func(p *Profile) {
			p.Languages = []string{"pt"}
			p.Description = "A port hub that writes about blockchain and distributed ledger pilots."
			p.Inferred = &Inferred{Languages: []Hint{{Value: "pt", Source: "official language of PT"}}}
		}),
		hub("odd-language", "MT", func(p *Profile) {
			p.Languages = []string{"mt-MT", "ga"}
			p.Categories = []Category{CategoryPublic}
			p.Type = HubSoE
		}),
		hub("esperanto-fi", "FI", func(p *Profile) {
			p.Regions = []string{"FI1C1"}
			p.Languages = []string{"eo"} // no bit of its own in the gate: shared with Welsh
			p.Technologies = map[string]int{"ai-decision-support": 2}
			p.Sectors = map[string]int{"C": 4}
		}),
		hub("far-dih", "IS", func(p *Profile) {
			p.Type = HubDIH
			p.Languages = []string{"is"}
			p.Technologies = map[string]int{"cloud-services": 1}
			p.Services = map[string]int{"vocational-training": 1}
		}),
	}
}

// gateQueries ask for each filter the gate reads, alone and together.
func gateQueries() []Query {
	return []Query{
		{},
		{Technologies: []string{"ai-decision-support"}},
		{Technologies: []string{"blockchain-dlt", "robotics"}},
		{Services: []string{"prototyping"}},
		{Services: []string{"vocational-training"}, Technologies: []string{"cloud-services"}},
		{Family: FamilyTestBeforeInvest},
		{Family: FamilySkills, MinCapacity: 1},
		{Family: FamilyTestBeforeInvest, MinCapacity: 4},
		{Languages: []string{"sv"}},
		{Languages: []string{"en", "pt"}},
		{Languages: []string{"ga"}},
		{Languages: []string{"mt"}},
		{Languages: []string{"cy"}, Technologies: []string{"ai-decision-support"}},
		{Sector: "C", Region: "FI1B1", Technologies: []string{"ai-decision-support"}, Family: FamilyTestBeforeInvest},
		{Types: []HubType{HubDIH, HubSoE}},
		{Category: CategoryPublic},
		{Category: CategoryMicro},
		{Country: "FI", Reach: ReachCountry},
		{Region: "FI1B1", Reach: ReachRegion},
		{Region: "FI1B1", Reach: ReachNeighbours},
		{Country: "SE", Reach: ReachNeighbours, Languages: []string{"sv"}, Family: FamilySkills},
		{Region: "PT170", Reach: ReachAnywhere, Technologies: []string{"blockchain-dlt"}},
	}
}

// TestMatcher_AdmitAll_neverTurnsDownAPassingHub: the gate turns a hub down only when
// Score would; AdmitAll and Admits agree; and the gate does turn hubs down.
func TestMatcher_AdmitAll_neverTurnsDownAPassingHub(t *testing.T) {
	hubs := gateHubs()
	cands := make([]*Candidate, len(hubs))
	gates := make([]Gate, len(hubs))
	for i, p := range hubs {
		cands[i] = NewCandidate(p)
		gates[i] = cands[i].Gate()
	}
	turnedDown := 0
	for _, q := range gateQueries() {
		m, err := NewMatcher(q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		admitted, indexed := make([]uint64, 1), make([]uint64, 1)
		m.AdmitAll(gates, admitted)
		m.AdmitIndexed(NewGateIndex(gates), indexed)
		if indexed[0] != admitted[0] {
			t.Errorf("%+v: AdmitIndexed admits %b, AdmitAll %b", q, indexed[0], admitted[0])
		}
		for i, c := range cands {
			in := admitted[0]&(1<<i) != 0
			if in != m.Admits(gates[i]) {
				t.Errorf("%+v, %s: AdmitAll says %v, Admits the opposite", q, c.Profile.ID, in)
			}
			_, pass := m.Score(c)
			if pass && !in {
				t.Errorf("%+v, %s: the gate turns down a hub that passes", q, c.Profile.ID)
			}
			if !in {
				turnedDown++
			}
		}
	}
	if turnedDown < 40 {
		t.Errorf("the gate turned down %d hubs of the table, want at least 40: it checks little", turnedDown)
	}
}

// TestCandidate_WithCapacity_gate: a hub's answer to a live query changes its gate.
func TestCandidate_WithCapacity_gate(t *testing.T) {
	c := NewCandidate(hub("cap", "FI", nil))
	m, _ := NewMatcher(Query{Family: FamilySkills, MinCapacity: 2})
	if m.Admits(c.Gate()) {
		t.Fatal("a hub without the family is admitted")
	}
	live := c.WithCapacity(map[Family]Capacity{FamilySkills: capacity(3, 3)})
	if !m.Admits(live.Gate()) {
		t.Error("a hub whose answer gives 3 free places is turned down for 2")
	}
}

// TestMatcher_Ceiling: for every hub its gate admits, the ceiling is never below the
// score, and a hub the gate alone says passes does pass. Where the gate cannot tell
// (a language without a bit of its own, the SME's own country under --reach region),
// it says so.
func TestMatcher_Ceiling(t *testing.T) {
	unsure := map[string]bool{}
	for _, q := range gateQueries() {
		m, err := NewMatcher(q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		for _, p := range gateHubs() {
			c := NewCandidate(p)
			g := c.Gate()
			if !m.Admits(g) {
				continue
			}
			ceil, sure := m.Ceiling(&g)
			score, pass := m.Score(c)
			if pass && score > ceil {
				t.Errorf("%+v, %s: score %.2f above the ceiling %.2f", q, p.ID, score, ceil)
			}
			if sure && !pass {
				t.Errorf("%+v, %s: the gate is sure the hub passes; it does not", q, p.ID)
			}
			if !sure {
				unsure[p.ID] = true
			}
		}
	}
	// Welsh shares its bit with Esperanto; FI1B1 is in the hubs' own country.
	for _, id := range []string{"esperanto-fi", "ai-fi"} {
		if !unsure[id] {
			t.Errorf("%s: the gate was always sure", id)
		}
	}
}
