package protocol

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// hub returns a small valid profile; change applies the test's differences.
func hub(id, country string, change func(p *Profile)) *Profile {
	p := &Profile{ID: id, Name: strings.ToUpper(id), Type: HubEDIH, Country: country, Languages: []string{"en"}}
	if change != nil {
		change(p)
	}
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return p
}

func capacity(avail, maxi int) Capacity {
	return Capacity{Available: avail, Maximum: maxi, Unit: "SMEs per month"}
}

// rank returns the IDs of the hubs that pass the query, best first.
func rank(t *testing.T, q Query, hubs ...*Profile) []string {
	t.Helper()
	m, err := NewMatcher(q)
	if err != nil {
		t.Fatalf("NewMatcher: %v", err)
	}
	var rs []Ranked
	for _, p := range hubs {
		if r, ok := m.Rank(NewCandidate(p)); ok {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, CompareRanked)
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.Candidate.Profile.ID
	}
	return ids
}

func wantOrder(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestRank_technologyLevelsOrder(t *testing.T) {
	expert := hub("ai-expert", "FI", func(p *Profile) { p.Technologies = map[string]int{"ai-decision-support": 5} })
	some := hub("ai-some", "FI", func(p *Profile) { p.Technologies = map[string]int{"ai-decision-support": 2} })
	none := hub("robots-only", "FI", func(p *Profile) { p.Technologies = map[string]int{"robotics": 5} })
	got := rank(t, Query{Technologies: []string{"ai-decision-support"}}, none, some, expert)
	wantOrder(t, got, "ai-expert", "ai-some") // the hub without AI is filtered out
}

func TestRank_coverageOfSeveralTechnologies(t *testing.T) {
	both := hub("both", "FI", func(p *Profile) {
		p.Technologies = map[string]int{"ai-decision-support": 3, "robotics": 3}
	})
	one := hub("one-strong", "FI", func(p *Profile) { p.Technologies = map[string]int{"ai-decision-support": 5} })
	got := rank(t, Query{Technologies: []string{"ai-decision-support", "robotics"}}, one, both)
	wantOrder(t, got, "both", "one-strong") // 6 of 10 levels beats 5 of 10
}

func TestRank_tiesBrokenByCapacityThenTypeThenHash(t *testing.T) {
	mk := func(id string, free int) *Profile {
		return hub(id, "FI", func(p *Profile) {
			p.Technologies = map[string]int{"robotics": 4}
			p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(free, 20)}
		})
	}
	// Without a family the score is equal: a hash of the ID decides, always the same
	// way whatever the order of the directory, and not by the alphabet.
	q := Query{Technologies: []string{"robotics"}}
	wantOrder(t, rank(t, q, mk("c-hub", 1), mk("a-hub", 1), mk("b-hub", 1)), "b-hub", "c-hub", "a-hub")
	wantOrder(t, rank(t, q, mk("a-hub", 1), mk("b-hub", 1), mk("c-hub", 1)), "b-hub", "c-hub", "a-hub")
	// An EDIH comes before a DIH of the same score.
	dih := mk("b-dih", 1)
	dih.Type = HubDIH
	wantOrder(t, rank(t, q, dih, mk("z-hub", 1)), "z-hub", "b-dih")

	// With the family, 5 and more free places score the same; then more free places
	// come first, then the hash of the ID.
	q.Family = FamilyTestBeforeInvest
	wantOrder(t, rank(t, q, mk("c-hub", 6), mk("a-hub", 5), mk("b-hub", 9), mk("d-hub", 5)),
		"b-hub", "c-hub", "a-hub", "d-hub")
}

func TestRank_missingCapacity(t *testing.T) {
	published := hub("published", "FI", func(p *Profile) {
		p.Services = map[string]int{"prototyping": 3}
		p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(2, 10)}
	})
	silent := hub("silent", "FI", func(p *Profile) { p.Services = map[string]int{"prototyping": 5} })
	full := hub("full", "FI", func(p *Profile) {
		p.Services = map[string]int{"prototyping": 5}
		p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(0, 10)}
	})
	q := Query{Family: FamilyTestBeforeInvest}
	// Offering the family is enough to be listed; free places rank.
	wantOrder(t, rank(t, q, silent, full, published), "published", "full", "silent")
	// Asking for one free place drops the hub that has none and the one that does not say.
	q.MinCapacity = 1
	wantOrder(t, rank(t, q, silent, full, published), "published")

	m, _ := NewMatcher(Query{Family: FamilyTestBeforeInvest})
	if got := strings.Join(m.Explain(NewCandidate(silent)), "; "); got != "offers test before invest, capacity not published" {
		t.Errorf("explanation = %q", got)
	}
	// A hub that offers nothing of the family is not listed at all.
	skills := hub("skills", "FI", func(p *Profile) { p.Services = map[string]int{"vocational-training": 5} })
	wantOrder(t, rank(t, Query{Family: FamilyTestBeforeInvest}, skills))
}

func TestRank_farAwayHubFitsOnTechnology(t *testing.T) {
	// The SME is in Helsinki (FI1B1). The far hub is the best on technology; with
	// reach anywhere it still comes first, the near ones follow by distance.
	far := hub("far-expert", "PT", func(p *Profile) { p.Technologies = map[string]int{"robotics": 5} })
	region := hub("helsinki", "FI", func(p *Profile) {
		p.Technologies = map[string]int{"robotics": 4}
		p.Regions = []string{"FI1B"}
	})
	country := hub("oulu", "FI", func(p *Profile) {
		p.Technologies = map[string]int{"robotics": 4}
		p.Regions = []string{"FI1D"}
	})
	neighbour := hub("stockholm", "SE", func(p *Profile) { p.Technologies = map[string]int{"robotics": 4} })
	all := []*Profile{far, neighbour, country, region}

	q := Query{Technologies: []string{"robotics"}, Region: "FI1B1"}
	// technology 40×1 + distance 0 = 40/90 for far; 40×0.8 + 50×0.85 = 74.5/90 for
	// helsinki, 40×0.8 + 50×0.7 (same NUTS 1) for oulu, 40×0.8 + 50×0.25 for stockholm:
	// near hubs with the technology come before the far expert.
	wantOrder(t, rank(t, q, all...), "helsinki", "oulu", "stockholm", "far-expert")

	q.Reach = ReachNeighbours
	wantOrder(t, rank(t, q, all...), "helsinki", "oulu", "stockholm")
	q.Reach = ReachCountry
	wantOrder(t, rank(t, q, all...), "helsinki", "oulu")
	q.Reach = ReachRegion
	wantOrder(t, rank(t, q, all...), "helsinki")

	// Without distance in the query the far expert is simply the best.
	wantOrder(t, rank(t, Query{Technologies: []string{"robotics"}}, all...)[:1], "far-expert")
}

func TestRank_regionCoverageLevels(t *testing.T) {
	// A hub covering the NUTS 1 or NUTS 2 region is in the SME's region; one in the
	// SME's NUTS 3 region is nearer still; one covering another NUTS 2 region of the
	// same NUTS 1 is a neighbouring region.
	nuts1 := hub("nuts1", "FI", func(p *Profile) { p.Regions = []string{"FI1"} })
	nuts3 := hub("nuts3", "FI", func(p *Profile) { p.Regions = []string{"FI1B1"} })
	other := hub("other", "FI", func(p *Profile) { p.Regions = []string{"FI1D"} })
	none := hub("no-regions", "FI", nil)
	m, err := NewMatcher(Query{Region: "FI1B1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    *Profile
		want Proximity
	}{{nuts1, ProximityRegion}, {nuts3, ProximityNUTS3}, {other, ProximityNearby}, {none, ProximityCountry}} {
		if got := m.Proximity(NewCandidate(c.p)); got != c.want {
			t.Errorf("%s: proximity %v, want %v", c.p.ID, got, c.want)
		}
	}
}

func TestRank_languages(t *testing.T) {
	fi := hub("finnish", "FI", func(p *Profile) { p.Languages = []string{"fi", "sv"} })
	en := hub("english", "FI", func(p *Profile) { p.Languages = []string{"en-GB"} })
	de := hub("german", "DE", func(p *Profile) { p.Languages = []string{"de"} })
	// The SME prefers Finnish and can work in English: Finnish first, German out.
	wantOrder(t, rank(t, Query{Languages: []string{"fi", "en"}}, de, en, fi), "finnish", "english")
}

func TestRank_sectorSectionAndDivision(t *testing.T) {
	food := hub("food", "FI", func(p *Profile) { p.Sectors = map[string]int{"10": 5} })
	manufacturing := hub("manufacturing", "FI", func(p *Profile) { p.Sectors = map[string]int{"C": 3} })
	health := hub("health", "FI", func(p *Profile) { p.Sectors = map[string]int{"Q": 5} })
	// Sector ranks but does not filter: a hub without it comes last.
	wantOrder(t, rank(t, Query{Sector: "10"}, health, manufacturing, food), "food", "manufacturing", "health")
	// A division counts for its section.
	wantOrder(t, rank(t, Query{Sector: "C"}, health, manufacturing, food), "food", "manufacturing", "health")
}

func TestRank_filters(t *testing.T) {
	edih := hub("edih", "FI", func(p *Profile) { p.Categories = []Category{CategorySmall, CategoryMedium} })
	dih := hub("dih", "FI", func(p *Profile) { p.Type = HubDIH })
	soe := hub("soe", "FI", func(p *Profile) {
		p.Type = HubSoE
		p.Description = "Testing facilities for agri-food robotics in Müllheim."
	})
	all := []*Profile{edih, dih, soe}
	wantOrder(t, rank(t, Query{Types: []HubType{HubDIH, HubSoE}}, all...), "soe", "dih")
	// A hub that lists categories serves only those; one that lists none serves all.
	wantOrder(t, rank(t, Query{Category: CategoryMicro}, all...), "soe", "dih")
	wantOrder(t, rank(t, Query{Category: CategorySmall}, all...), "edih", "soe", "dih")
	// Text: every word must begin a word of the name, title, description or ID,
	// ignoring case and accents.
	wantOrder(t, rank(t, Query{Text: "ROBOT agri"}, all...), "soe")
	wantOrder(t, rank(t, Query{Text: "mullheim"}, all...), "soe")
	wantOrder(t, rank(t, Query{Text: "robot cloud"}, all...))
	wantOrder(t, rank(t, Query{Text: "  "}, all...), "edih", "soe", "dih")
}

func TestExplain_example(t *testing.T) {
	p := hub("robocoast", "FI", func(p *Profile) {
		p.Regions = []string{"FI19"}
		p.Languages = []string{"fi", "sv", "en"}
		p.Technologies = map[string]int{"ai-decision-support": 5, "robotics": 3}
		p.Services = map[string]int{"field-trial": 5}
		p.Sectors = map[string]int{"C": 4}
		p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(3, 10)}
	})
	m, err := NewMatcher(Query{
		Technologies: []string{"robotics", "ai-decision-support", "cybersecurity"},
		Family:       FamilyTestBeforeInvest,
		Sector:       "10",
		Region:       "FI1C1",
		Languages:    []string{"en", "fi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCandidate(p)
	want := []string{
		"Artificial Intelligence & Decision support level 5, Robotics level 3 (wanted)",
		"lacks Cybersecurity",
		"offers test before invest, 3 of 10 free (SMEs per month)",
		"sector C Manufacturing level 4, section C: covers 10 Manufacture of food products",
		"works in en, fi",
		"region FI19, neighbouring region",
	}
	if got := m.Explain(c); !slices.Equal(got, want) {
		t.Errorf("explanation:\n got %q\nwant %q", got, want)
	}
	// The same reasons as data, for readers in other languages: each writes its text.
	reasons := m.Reasons(c)
	if len(reasons) != len(want) {
		t.Fatalf("got %d reasons, want %d: %+v", len(reasons), len(want), reasons)
	}
	for i, r := range reasons {
		if r.String() != want[i] {
			t.Errorf("reason %d: got %q, want %q", i, r.String(), want[i])
		}
	}
	wantData := []Reason{
		{Kind: ReasonLevels, Items: []ReasonItem{{"Artificial Intelligence & Decision support", 5}, {"Robotics", 3}}},
		{Kind: ReasonLacks, Items: []ReasonItem{{Label: "Cybersecurity"}}},
		{Kind: ReasonCapacity, Family: FamilyTestBeforeInvest, Published: true, Free: 3, Maximum: 10, Unit: "SMEs per month"},
		{Kind: ReasonSector, Sector: "10", Level: 4, Basis: SectorBroader},
		{Kind: ReasonLanguages, Languages: []string{"en", "fi"}},
		{Kind: ReasonPlace, Region: "FI19", Country: "FI", Proximity: ProximityNearby},
	}
	for i, w := range wantData {
		if !reflect.DeepEqual(reasons[i], w) {
			t.Errorf("reason %d:\n got %+v\nwant %+v", i, reasons[i], w)
		}
	}
	// The API sends them as JSON, their kinds by name; they read back the same.
	b, err := json.Marshal(reasons)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"kind":"levels"`, `"basis":"broader"`, `"proximity":"neighbouring region"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("reasons in JSON lack %s: %s", s, b)
		}
	}
	var back []Reason
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, wantData) {
		t.Errorf("reasons from JSON: %v\n got %+v\nwant %+v", err, back, wantData)
	}
	// technology 40×8/15, capacity 15×3/5, sector 10×0.6×4/5 (the section's level),
	// language 10, distance 50×0.7 (FI19 and FI1C share NUTS 1 FI1) over
	// 40+15+10+10+50 = 125.
	score, ok := m.Score(c)
	want100 := math.Round(10000*(40*8.0/15+15*3.0/5+10*0.6*4.0/5+10+50*0.7)/125) / 100
	if !ok || score != want100 {
		t.Errorf("score = %v, %v; want %v", score, ok, want100)
	}
}

func TestQueryValidate(t *testing.T) {
	for _, c := range []struct {
		name  string
		q     Query
		field string
	}{
		{"unknown technology", Query{Technologies: []string{"ai"}}, "technologies.0"},
		{"technology twice", Query{Technologies: []string{"robotics", "robotics"}}, "technologies.1"},
		{"unknown service", Query{Services: []string{"coffee"}}, "services.0"},
		{"unknown family", Query{Family: "test"}, "family"},
		{"unknown sector", Query{Sector: "Z"}, "sector"},
		{"section and division", Query{Sector: "C10"}, "sector"},
		{"unknown country", Query{Country: "XX"}, "country"},
		{"unknown region", Query{Region: "FI9"}, "region"},
		{"region level 1", Query{Region: "FI1"}, "region"},
		{"region outside country", Query{Country: "SE", Region: "FI1C1"}, "region"},
		{"unknown reach", Query{Reach: "galaxy"}, "reach"},
		{"reach region without region", Query{Country: "FI", Reach: ReachRegion}, "reach"},
		{"reach country without place", Query{Reach: ReachCountry}, "reach"},
		{"bad language", Query{Languages: []string{"english"}}, "languages.0"},
		{"unknown category", Query{Category: "huge"}, "category"},
		{"negative capacity", Query{Family: FamilySkills, MinCapacity: -1}, "min_capacity"},
		{"capacity without family", Query{MinCapacity: 2}, "min_capacity"},
		{"unknown type", Query{Types: []HubType{"Seal"}}, "types.0"},
		{"long text", Query{Text: strings.Repeat("a", MaxQueryText+1)}, "text"},
		{"bad utf-8", Query{Text: "\xff"}, "text"},
		{"limit", Query{Limit: MaxQueryLimit + 1}, "limit"},
		{"version", Query{V: 2}, "v"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewMatcher(c.q)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			if len(ve.Problems) != 1 || ve.Problems[0].Field != c.field {
				t.Errorf("problems = %v, want one on %s", ve.Problems, c.field)
			}
		})
	}
	// A region alone gives the country.
	m, err := NewMatcher(Query{Region: "FI1C1", Reach: ReachCountry})
	if err != nil || m.Query().Country != "FI" || m.Query().V != Version {
		t.Errorf("normalized = %+v, %v", m.Query(), err)
	}
}

func TestQueryAnswerValidate(t *testing.T) {
	good := QueryAnswer{V: Version, Query: "0190f5d4-7c3a-7d2e-9b1a-3f4e5d6c7b8a", Score: 50,
		Capacity: map[Family]Capacity{FamilySkills: capacity(1, 2)}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good answer: %v", err)
	}
	bad := good
	bad.Score = 101
	bad.Capacity = map[Family]Capacity{"nope": capacity(1, 2), FamilySkills: capacity(3, 2)}
	err := bad.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Errorf("bad answer: %v", err)
	}
}

func TestVocabularySizes(t *testing.T) {
	if len(Technologies) != numTechnologies || len(Services) != numServices ||
		len(Sections()) != numSections || len(Families) > 8 || len(Categories) > 8 {
		t.Fatal("the vocabulary changed size: update the constants in match.go")
	}
}

func TestFoldWords(t *testing.T) {
	got := appendWords(nil, "Škoda-Werk MÜNCHEN, Straße 5 — ΑΘΗΝΑ")
	want := []string{"skoda", "werk", "munchen", "strasse", "5", "αθηνα"}
	if !slices.Equal(got, want) {
		t.Errorf("words = %q, want %q", got, want)
	}
}

func TestCandidate_hotFieldsInOneCacheLine(t *testing.T) {
	var c Candidate
	if end := unsafe.Offsetof(c.tech) + unsafe.Sizeof(c.tech); end > 64 {
		t.Errorf("the fields every query reads end at byte %d, past the first cache line", end)
	}
}

func TestCandidate_withCapacity(t *testing.T) {
	p := hub("cap", "FI", func(p *Profile) {
		p.Services = map[string]int{"vocational-training": 2}
		p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(4, 10)}
	})
	c := NewCandidate(p)
	live := c.WithCapacity(map[Family]Capacity{FamilySkills: capacity(1, 3)})
	// The copy is as if made from the profile with the new capacity; the original
	// candidate and profile are unchanged.
	p2 := *p
	p2.Capacity = map[Family]Capacity{FamilySkills: capacity(1, 3)}
	want := NewCandidate(&p2)
	want.Profile, live.Profile = nil, nil
	if !reflect.DeepEqual(live, want) {
		t.Errorf("WithCapacity:\n got %+v\nwant %+v", live, want)
	}
	if c.Profile.Capacity[FamilyTestBeforeInvest].Available != 4 || c.free[0] != 4 {
		t.Errorf("original changed: %+v", c)
	}
	// skills-and-training is still offered through its service when the capacity goes.
	none := c.WithCapacity(nil)
	m, _ := NewMatcher(Query{Family: FamilySkills})
	if _, ok := m.Score(none); !ok {
		t.Errorf("a service of the family no longer offers it")
	}
	m, _ = NewMatcher(Query{Family: FamilyTestBeforeInvest})
	if _, ok := m.Score(none); ok {
		t.Errorf("a family offered only through capacity survives its removal")
	}
}

// A trimmed candidate scores, ranks and explains itself as the whole one does, for
// queries on every part of a profile, and a hit's fields are all still there.
func TestCandidate_trim(t *testing.T) {
	p := hub("robocoast", "FI", func(p *Profile) {
		p.Title = "Robotics test beds of the Finnish west coast"
		p.Description = "Field trials for autonomous machines in food processing plants."
		p.Website = "https://robocoast.example"
		p.Contact = Contact{Role: "partnerships", Email: "desk@robocoast.example"}
		p.Regions = []string{"FI19"}
		p.Languages = []string{"fi", "sv", "en"}
		p.Categories = []Category{CategorySmall}
		p.Technologies = map[string]int{"ai-decision-support": 5, "robotics": 3}
		p.Services = map[string]int{"field-trial": 5}
		p.Sectors = map[string]int{"C": 4}
		p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(3, 10)}
		p.Inferred = &Inferred{Sectors: []Hint{{Value: "10", Level: 3, Source: "label: Food"}}}
	})
	whole, trimmed := NewCandidate(p), NewCandidate(p)
	trimmed.Trim()
	for _, q := range []Query{
		{Technologies: []string{"robotics", "ai-decision-support", "cybersecurity"}, Family: FamilyTestBeforeInvest,
			Sector: "10", Region: "FI1C1", Languages: []string{"en", "fi"}},
		{Text: "autonomous food"},
		{Text: "west coast"},
		{Services: []string{"field-trial"}, Category: CategorySmall},
		{Sector: "C", MinCapacity: 2, Family: FamilyTestBeforeInvest},
	} {
		m, err := NewMatcher(q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		w, wok := m.Rank(whole)
		g, gok := m.Rank(trimmed)
		if wok != gok || w.Score != g.Score || w.Proximity != g.Proximity || w.Free != g.Free {
			t.Errorf("%+v: trimmed ranks %+v (%v), whole %+v (%v)", q, g, gok, w, wok)
		}
		if !wok {
			t.Errorf("%+v: the hub does not pass; the query tests nothing", q)
		}
		if got, want := m.Explain(trimmed), m.Explain(whole); !slices.Equal(got, want) {
			t.Errorf("%+v: trimmed explains %q, whole %q", q, got, want)
		}
	}
	tp := trimmed.Profile
	if tp.ID != p.ID || tp.Name != p.Name || tp.Type != p.Type || tp.Country != p.Country ||
		!slices.Equal(tp.Regions, p.Regions) || !slices.Equal(tp.Languages, p.Languages) ||
		!slices.Equal(tp.Categories, p.Categories) || !reflect.DeepEqual(tp.Capacity, p.Capacity) ||
		tp.Inferred != p.Inferred || tp.Revision != p.Revision || !tp.Updated.Equal(p.Updated) {
		t.Errorf("trimmed profile lost a field a hit shows: %+v", tp)
	}
	if tp.Description != "" || tp.Technologies != nil || tp.Contact != (Contact{}) {
		t.Errorf("trimmed profile still holds what the candidate holds already: %+v", tp)
	}
	if p.Description == "" || len(p.Technologies) != 2 {
		t.Errorf("Trim changed the profile it was made from: %+v", p)
	}
}

// TestRank_guessedLanguagesNeverExclude: a hub whose languages are guessed from its
// country is ranked by them, below one that declares the language, but never left
// out; a hub that declares other languages is.
func TestRank_guessedLanguagesNeverExclude(t *testing.T) {
	declared := hub("declared-sv", "SE", func(p *Profile) { p.Languages = []string{"sv", "en"} })
	guessedDA := hub("guessed-da", "DK", func(p *Profile) {
		p.Languages = []string{"da"}
		p.Inferred = &Inferred{Languages: []Hint{{Value: "da", Source: "official language of DK"}}}
	})
	guessedSV := hub("guessed-sv", "FI", func(p *Profile) {
		p.Languages = []string{"fi", "sv"}
		p.Inferred = &Inferred{Languages: []Hint{{Value: "fi", Source: "official language of FI"}, {Value: "sv", Source: "official language of FI"}}}
	})
	onlyDE := hub("declared-de", "DE", func(p *Profile) { p.Languages = []string{"de"} })
	q := Query{Languages: []string{"sv"}}
	wantOrder(t, rank(t, q, onlyDE, guessedDA, guessedSV, declared), "declared-sv", "guessed-sv", "guessed-da")

	m, err := NewMatcher(q)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    *Profile
		want string
	}{
		{declared, "works in sv"},
		{guessedSV, "probably works in sv (its country's language, not declared)"},
		{guessedDA, "languages not declared; sv not among those of its country"},
	} {
		if got := m.Explain(NewCandidate(c.p)); !slices.Contains(got, c.want) {
			t.Errorf("%s: reasons %q, want %q among them", c.p.ID, got, c.want)
		}
	}
}
