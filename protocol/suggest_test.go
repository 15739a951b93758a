package protocol

import (
	"slices"
	"strings"
	"testing"
)

func TestVocabulary_Canonical(t *testing.T) {
	for _, c := range []struct {
		v        *Vocabulary
		in, want string
		ok       bool
	}{
		{CountryVocab, "fi", "FI", true},
		{CountryVocab, " Finland ", "FI", true},
		{CountryVocab, "czech republic", "CZ", true},
		{CountryVocab, "GR", "EL", true},
		{CountryVocab, "Finnland", "Finnland", false},
		{RegionVocab, "fi193", "FI193", true},
		{RegionVocab, "Helsinki-Uusimaa", "Helsinki-Uusimaa", false}, // a name of two regions
		{HubTypeVocab, "edih", "EDIH", true},
		{HubTypeVocab, "seal of excellence", "SoE", true},
		{TechnologyVocab, "Robotics", "robotics", true},
		{TechnologyVocab, "Internet of Things", "internet-of-things", true},
		{TechnologyVocab, "iot", "iot", false}, // suggested, not taken
		{ServiceVocab, "Field Trial", "field-trial", true},
		{FamilyVocab, "Test before invest", "test-before-invest", true},
		{SectorVocab, "c", "C", true},
		{SectorVocab, "1", "01", true},
		{CategoryVocab, "Public sector", "public-sector", true},
		{ReachVocab, "Neighbors", "neighbours", true},
		{StateVocab, "declined", "rejected", true},
		{StateVocab, "Rejected", "rejected", true},
		{StateVocab, "", "", false},
	} {
		got, ok := c.v.Canonical(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%s.Canonical(%q) = %q, %v; want %q, %v", c.v.Name, c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestVocabulary_Suggest(t *testing.T) {
	for _, c := range []struct {
		v    *Vocabulary
		in   string
		want []string
	}{
		{TechnologyVocab, "iot", []string{"internet-of-things"}},
		{TechnologyVocab, "ai", []string{"ai-decision-support"}},
		{TechnologyVocab, "cyber-security", []string{"cybersecurity"}},
		{TechnologyVocab, "Robotcs", []string{"robotics"}},
		{TechnologyVocab, "machine learning", []string{"ai-decision-support"}},
		{TechnologyVocab, "3D printing", []string{"additive-manufacturing"}},
		{TechnologyVocab, "xyz", nil},
		{ServiceVocab, "prototype", []string{"prototyping"}},
		{FamilyVocab, "training", []string{"skills-and-training"}},
		{RegionVocab, "Helsinki", []string{"FI1B", "FI1B1"}},
		{RegionVocab, "München", []string{"DE212", "DE21H"}},
		{CountryVocab, "Finnland", []string{"FI"}},
		{HubTypeVocab, "EDHI", []string{"EDIH"}},
		{StateVocab, "decline", []string{"rejected"}},
	} {
		if got := c.v.Suggest(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s.Suggest(%q) = %q, want %q", c.v.Name, c.in, got, c.want)
		}
	}
}

func TestVocabulary_Rule(t *testing.T) {
	for _, c := range []struct {
		v        *Vocabulary
		in, want string
	}{
		{TechnologyVocab, "iot", `"iot" is not a technology slug; did you mean internet-of-things?`},
		{TechnologyVocab, "xyz", `"xyz" is not a technology slug such as ai-decision-support or robotics`},
		{RegionVocab, "Helsinki", `"Helsinki" is not a NUTS 2021 region code; did you mean FI1B Helsinki-Uusimaa or FI1B1 Helsinki-Uusimaa?`},
		{StateVocab, "decline", `"decline" is not a referral state; did you mean rejected?`},
	} {
		if got := c.v.Rule(c.in); got != c.want {
			t.Errorf("Rule(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// TestVocabulary_everyValueCanonical: every value of every vocabulary is its own
// canonical form, in upper and lower case too, and the labels accepted name their
// own value: no label shadows another value.
func TestVocabulary_everyValueCanonical(t *testing.T) {
	for _, v := range Vocabularies {
		for _, term := range v.Terms() {
			for _, in := range []string{term.Value, strings.ToUpper(term.Value), strings.ToLower(term.Value)} {
				if got, ok := v.Canonical(in); !ok || got != term.Value {
					t.Errorf("%s.Canonical(%q) = %q, %v; want %q", v.Name, in, got, ok, term.Value)
				}
			}
			if !v.Has(term.Value) {
				t.Errorf("%s.Has(%q) = false", v.Name, term.Value)
			}
		}
	}
}

func TestQuery_Normalize(t *testing.T) {
	q := Query{Technologies: []string{"Robotics", "Internet of Things"}, Family: "Test before invest", Sector: "c",
		Region: "fi193", Reach: "Neighbours", Languages: []string{"FI", "pt-br"}, Category: "Small", Types: []HubType{"edih", "Seal of Excellence"}}
	q.Normalize()
	want := Query{V: Version, Technologies: []string{"robotics", "internet-of-things"}, Family: FamilyTestBeforeInvest, Sector: "C",
		Country: "FI", Region: "FI193", Reach: ReachNeighbours, Languages: []string{"fi", "pt-BR"}, Category: CategorySmall, Types: []HubType{HubEDIH, HubSoE}}
	if !slices.Equal(q.Technologies, want.Technologies) || q.Family != want.Family || q.Sector != want.Sector || q.Country != want.Country ||
		q.Region != want.Region || q.Reach != want.Reach || !slices.Equal(q.Languages, want.Languages) || q.Category != want.Category ||
		!slices.Equal(q.Types, want.Types) {
		t.Errorf("got %+v, want %+v", q, want)
	}
	if err := q.Validate(); err != nil {
		t.Error(err)
	}

	// A region no vocabulary knows is not taken for a country: only the region is wrong.
	q = Query{Region: "Helsinki"}
	q.Normalize()
	err := q.Validate()
	if p := ProblemsOf(err); len(p) != 1 || p[0].Field != "region" || !strings.Contains(p[0].Rule, "FI1B1 Helsinki-Uusimaa") {
		t.Errorf("region Helsinki: got %v, want one problem of region suggesting FI1B1", err)
	}
}

func TestProfile_Normalize(t *testing.T) {
	p := Profile{Type: "edih", Country: "fi", Regions: []string{"fi1c1"}, Languages: []string{"FI"},
		Categories: []Category{"Micro"}, Technologies: map[string]int{"Robotics": 4, "Cybersecurity": 3},
		Services: map[string]int{"Field trial": 2}, Sectors: map[string]int{"c": 3},
		Capacity: map[Family]Capacity{"Skills and training": {Available: 1, Maximum: 2, Unit: "SMEs"}}}
	p.Normalize()
	if p.Type != HubEDIH || p.Country != "FI" || !slices.Equal(p.Regions, []string{"FI1C1"}) || p.Languages[0] != "fi" ||
		p.Categories[0] != CategoryMicro || p.Technologies["robotics"] != 4 || p.Technologies["cybersecurity"] != 3 ||
		p.Services["field-trial"] != 2 || p.Sectors["C"] != 3 || p.Capacity[FamilySkills].Maximum != 2 {
		t.Errorf("got %+v", p)
	}

	// Two spellings of one value both stay, so Validate names them.
	p = Profile{Technologies: map[string]int{"Robotics": 4, "robotics": 3}}
	p.Normalize()
	if len(p.Technologies) != 2 {
		t.Errorf("got %v, want both spellings kept", p.Technologies)
	}
}

func TestVocabularyOfRule(t *testing.T) {
	v, sug := VocabularyOfRule(RegionVocab.Rule("Helsinki"))
	if v != RegionVocab || !slices.Equal(sug, []string{"FI1B", "FI1B1"}) {
		t.Errorf("got %v %q, want the regions and FI1B, FI1B1", v, sug)
	}
	if v, sug := VocabularyOfRule(TechnologyVocab.Rule("xyz")); v != TechnologyVocab || sug != nil {
		t.Errorf("got %v %q, want technologies without suggestions", v, sug)
	}
	if v, sug := VocabularyOfRule(TechnologyVocab.KeyRule("iot")); v != TechnologyVocab || !slices.Equal(sug, []string{"internet-of-things"}) {
		t.Errorf("key rule: got %v %q", v, sug)
	}
	if v, _ := VocabularyOfRule("must be at most 5"); v != nil {
		t.Errorf("got %v for a rule of no vocabulary", v)
	}
}
