package protocol

import (
	"fmt"
	"strings"
)

// The vocabularies of what people type, one per kind of value. Each is built once, at
// package initialisation, from the tables of vocab.go, places.go, sectors.go and the
// generated NACE and NUTS lists.
var (
	// TechnologyVocab holds the technology slugs; catalogue labels are accepted, and
	// the words of techwords.go ("iot", "machine learning") suggest their slug.
	TechnologyVocab = newVocabulary(vocabSpec{
		name: "technology slug", list: "technologies", examples: []string{"ai-decision-support", "robotics"},
		terms: func() []Term {
			ts := make([]Term, len(Technologies))
			for i, t := range Technologies {
				ts[i] = Term{t.Slug, t.Label}
			}
			return ts
		}(),
		labels: true,
		hints:  technologyHints(),
	})
	// ServiceVocab holds the service slugs; catalogue labels are accepted.
	ServiceVocab = newVocabulary(vocabSpec{
		name: "service slug", list: "services", examples: []string{"prototyping", "field-trial"},
		terms: func() []Term {
			ts := make([]Term, len(Services))
			for i, s := range Services {
				ts[i] = Term{s.Slug, s.Label}
			}
			return ts
		}(),
		labels: true,
	})
	// FamilyVocab holds the service families; their labels are accepted.
	FamilyVocab = newVocabulary(vocabSpec{
		name: "service family", list: "families", examples: []string{"test-before-invest", "skills-and-training"},
		terms: func() []Term {
			ts := make([]Term, len(Families))
			for i, f := range Families {
				ts[i] = Term{string(f.Slug), f.Label}
			}
			return ts
		}(),
		labels: true,
		hints: map[string][]string{
			string(FamilyTestBeforeInvest): {"testing", "test"},
			string(FamilySkills):           {"training", "skills"},
			string(FamilyInvestment):       {"investment", "funding", "finance"},
			string(FamilyEcosystem):        {"networking", "ecosystem"},
			string(FamilyMaturity):         {"dma", "maturity"},
		},
	})
	// SectorVocab holds the NACE Rev. 2 sections (C) and divisions (10); a division
	// may be written without its leading zero, and a section or division by its name.
	SectorVocab = newVocabulary(vocabSpec{
		name: "NACE Rev. 2 section (A-U) or division (01-99)", list: "sectors", examples: []string{"C", "10"},
		terms: func() []Term {
			ts := make([]Term, len(naceSectors))
			for i, s := range naceSectors {
				ts[i] = Term{s.Code, s.Name}
			}
			return ts
		}(),
		labels: true, showLabel: true,
		accepted: func() map[string]string {
			m := map[string]string{}
			for d := 1; d <= 9; d++ {
				if _, ok := SectorByCode(fmt.Sprintf("%02d", d)); ok {
					m[fmt.Sprint(d)] = fmt.Sprintf("%02d", d)
				}
			}
			return m
		}(),
	})
	// CountryVocab holds the Eurostat country codes; English names, their common
	// variants and the ISO codes of Greece (GR) and the United Kingdom (GB) are accepted.
	CountryVocab = newVocabulary(vocabSpec{
		name: "country code (Eurostat)", list: "countries", examples: []string{"FI", "EL", "DE"},
		terms: func() []Term {
			ts := make([]Term, len(Countries))
			for i, c := range Countries {
				ts[i] = Term{c.Code, c.Name}
			}
			return ts
		}(),
		labels: true, showLabel: true,
		accepted: func() map[string]string {
			m := map[string]string{"GR": "EL", "GB": "UK"}
			for name, code := range countryAliases {
				m[name] = code
			}
			return m
		}(),
	})
	// RegionVocab holds the NUTS 2021 regions of levels 1 to 3, by code; names only
	// suggest codes, since many regions share a name with their parent.
	RegionVocab = newVocabulary(vocabSpec{
		name: "NUTS 2021 region code", list: "regions", examples: []string{"FI1C1", "DE21"},
		terms: func() []Term {
			var ts []Term
			for _, r := range nutsRegions {
				if r.Level > 0 {
					ts = append(ts, Term{r.Code, r.Name})
				}
			}
			return ts
		}(),
		showLabel: true,
	})
	// HubTypeVocab holds the hub types; "Seal of Excellence" and the other long names
	// are accepted.
	HubTypeVocab = newVocabulary(vocabSpec{
		name: "hub type", list: "types", examples: []string{"EDIH", "SoE", "DIH"},
		terms: []Term{
			{string(HubEDIH), "European Digital Innovation Hub"},
			{string(HubSoE), "Seal of Excellence"},
			{string(HubDIH), "Digital Innovation Hub"},
		},
		labels: true,
	})
	// CategoryVocab holds the customer categories.
	CategoryVocab = newVocabulary(vocabSpec{
		name: "customer category", list: "categories", examples: []string{"micro", "small", "medium"},
		terms: func() []Term {
			ts := make([]Term, len(Categories))
			for i, c := range Categories {
				ts[i] = Term{Value: string(c)}
			}
			return ts
		}(),
		accepted: map[string]string{"public": string(CategoryPublic), "micro-enterprise": string(CategoryMicro)},
	})
	// ReachVocab holds the reaches of a search.
	ReachVocab = newVocabulary(vocabSpec{
		name: "reach", examples: []string{"region", "country", "neighbours", "anywhere"},
		terms: []Term{{Value: string(ReachRegion)}, {Value: string(ReachCountry)},
			{Value: string(ReachNeighbours)}, {Value: string(ReachAnywhere)}},
		accepted: map[string]string{"neighbors": string(ReachNeighbours), "neighbouring": string(ReachNeighbours)},
	})
	// StateVocab holds the states of a referral. "declined" is accepted for
	// rejected, the state a declined referral is in, and "canceled" for cancelled.
	StateVocab = newVocabulary(vocabSpec{
		name: "referral state", examples: []string{"received", "accepted", "rejected"},
		terms: func() []Term {
			ts := make([]Term, len(States))
			for i, s := range States {
				ts[i] = Term{Value: string(s)}
			}
			return ts
		}(),
		accepted: map[string]string{"declined": string(StateRejected), "canceled": string(StateCancelled)},
		hints: map[string][]string{
			string(StateRejected): {"decline", "reject", "refused"}, string(StateAccepted): {"accept"},
			string(StateCancelled): {"cancel"}, string(StateCompleted): {"complete", "done"},
		},
	})
)

// Vocabularies lists every vocabulary, for completion and for [VocabularyOfRule].
var Vocabularies = []*Vocabulary{TechnologyVocab, ServiceVocab, FamilyVocab, SectorVocab, CountryVocab,
	RegionVocab, HubTypeVocab, CategoryVocab, ReachVocab, StateVocab}

// technologyHints are the words of technologyWords, and a few more abbreviations, as
// hints of their technology.
func technologyHints() map[string][]string {
	m := map[string][]string{}
	for slug, words := range technologyWords {
		m[slug] = append(m[slug], words...)
	}
	for slug, words := range map[string][]string{
		"ai-decision-support":        {"artificial intelligence", "ml"},
		"virtual-reality":            {"vr", "ar", "xr", "extended reality"},
		"high-performance-computing": {"supercomputing"},
		"blockchain-dlt":             {"dlt"},
		"internet-of-things":         {"internet-things"},
	} {
		m[slug] = append(m[slug], words...)
	}
	return m
}

// canon returns the canonical form of s in v, or s itself when v does not know it.
func canon[T ~string](v *Vocabulary, s T) T {
	c, _ := v.Canonical(string(s))
	return T(c)
}

// canonList returns xs with each value in its canonical form, in a new slice; nil
// for nil.
func canonList[T ~string](v *Vocabulary, xs []T) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = canon(v, x)
	}
	return out
}

// canonKeys returns m with each key in its canonical form, in a new map. A key whose
// canonical form is also written as such stays as written, so Validate names both.
func canonKeys[K ~string, V any](v *Vocabulary, m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k := range m {
		c := canon(v, k)
		if _, clash := m[c]; clash && c != k {
			c = k
		}
		out[c] = m[k]
	}
	return out
}

// ParseState returns the referral state s names, in any case, with "declined" for
// rejected; ok is false when it names none: StateVocab.Rule(s) says why.
func ParseState(s string) (State, bool) {
	c, ok := StateVocab.Canonical(s)
	return State(c), ok
}

// Normalize writes what a person typed in the profile's coded fields as the values
// hubs exchange: codes and slugs in their case ("fi" as "FI", "Robotics" as
// "robotics"), labels and names as their slugs and codes, and language tags in their
// canonical case. What no vocabulary knows is left for Validate to report. A hub
// normalizes its own profile before it signs it; a profile received from another hub
// is never changed.
func (p *Profile) Normalize() {
	p.Type = canon(HubTypeVocab, p.Type)
	p.Country = canon(CountryVocab, strings.TrimSpace(p.Country))
	p.Regions = canonList(RegionVocab, p.Regions)
	p.Categories = canonList(CategoryVocab, p.Categories)
	if p.Languages != nil {
		langs := make([]string, len(p.Languages))
		for i, l := range p.Languages {
			langs[i] = CanonicalLanguageTag(strings.TrimSpace(l))
		}
		p.Languages = langs
	}
	p.Technologies = canonKeys(TechnologyVocab, p.Technologies)
	p.Services = canonKeys(ServiceVocab, p.Services)
	p.Sectors = canonKeys(SectorVocab, p.Sectors)
	p.Capacity = canonKeys(FamilyVocab, p.Capacity)
}

// Normalize writes the need's coded fields as the values hubs exchange, as
// [Query.Normalize] does; what no vocabulary knows is left for Validate to report.
func (n *Need) Normalize() {
	n.Sector = canon(SectorVocab, n.Sector)
	n.Region = canon(RegionVocab, n.Region)
	n.Category = canon(CategoryVocab, n.Category)
	n.Family = canon(FamilyVocab, n.Family)
	n.Technologies = canonList(TechnologyVocab, n.Technologies)
}
