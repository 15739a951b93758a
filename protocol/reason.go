package protocol

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ReasonKind says which part of a hub's score a [Reason] explains.
type ReasonKind uint8

// The kinds of reason, in the order Reasons gives them.
const (
	ReasonLevels    ReasonKind = iota + 1 // Items: the wanted technologies or services the hub lists, highest level first
	ReasonLacks                           // Items: the wanted technologies or services it does not list
	ReasonDescribed                       // Items: the wanted technologies its description names; Level: what each counts as
	ReasonCapacity                        // Family, and Free, Maximum, Unit when Published; Updated when Stale
	ReasonSector                          // Sector, Level (0: not listed), Basis, and Source for SectorFromLabel
	ReasonLanguages                       // Languages it works in, Guessed, Missing; Wanted when it works in none
	ReasonPlace                           // Region, else Country; Guessed; Proximity
)

// SectorBasis says where a hub's level in the sector asked for comes from.
type SectorBasis uint8

// The bases of a sector level.
const (
	SectorDeclared  SectorBasis = iota // declared for the sector asked for, or a division of it
	SectorBroader                      // declared for the section of the division asked for
	SectorFromLabel                    // read from a catalogue label that is not a NACE activity
)

// ReasonItem is a technology or a service in a reason, with the hub's level in it.
type ReasonItem struct {
	Label string `json:"label"`           // in English, as in Technologies and Services
	Level int    `json:"level,omitempty"` // 1 to 5; 0 in ReasonLacks
}

// Reason is one part of why a hub ranks where it does, as data: a reader can be told
// it in any language. Its String is the English text of Explain. Which fields are
// set depends on Kind.
type Reason struct {
	Kind  ReasonKind   `json:"kind"`
	Items []ReasonItem `json:"items,omitempty"`
	Level int          `json:"level,omitempty"` // ReasonDescribed: the level each item counts as; ReasonSector: the hub's level

	Family    Family    `json:"family,omitempty"`    // ReasonCapacity: the family asked for
	Published bool      `json:"published,omitempty"` // ReasonCapacity: the hub publishes its capacity in Family
	Free      int       `json:"free,omitempty"`
	Maximum   int       `json:"maximum,omitempty"`
	Unit      string    `json:"unit,omitempty"`
	Stale     bool      `json:"stale,omitempty"`  // ReasonCapacity: updated longer ago than StaleAfterDays
	Updated   time.Time `json:"updated,omitzero"` // ReasonCapacity: when, if Stale

	Sector string      `json:"sector,omitempty"` // ReasonSector: the NACE code asked for
	Basis  SectorBasis `json:"basis,omitempty"`  // ReasonSector
	Source string      `json:"source,omitempty"` // ReasonSector: the catalogue label the level was read from

	Languages []string `json:"languages,omitempty"` // ReasonLanguages: those of the SME's the hub works in, in the SME's order
	Wanted    []string `json:"wanted,omitempty"`    // ReasonLanguages: the SME's languages, when the hub works in none
	Missing   string   `json:"missing,omitempty"`   // ReasonLanguages: the SME's first language, when the hub does not work in it
	Guessed   bool     `json:"guessed,omitempty"`   // ReasonLanguages, ReasonPlace: from the hub's country or address, not declared

	Region    string    `json:"region,omitempty"`    // ReasonPlace: the hub's region nearest to the SME; "" for its country
	Country   string    `json:"country,omitempty"`   // ReasonPlace
	Proximity Proximity `json:"proximity,omitempty"` // ReasonPlace
}

var (
	reasonKindNames  = [...]string{"", "levels", "lacks", "described", "capacity", "sector", "languages", "place"}
	sectorBasisNames = [...]string{"declared", "broader", "label"}
)

// String returns the kind's name in JSON: levels, lacks, described, capacity,
// sector, languages or place.
func (k ReasonKind) String() string {
	if int(k) < len(reasonKindNames) {
		return reasonKindNames[k]
	}
	return ""
}

// MarshalText writes the kind's name.
func (k ReasonKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name; an unknown one, from a newer node, reads as 0.
func (k *ReasonKind) UnmarshalText(b []byte) error {
	*k = ReasonKind(max(0, slices.Index(reasonKindNames[:], string(b))))
	return nil
}

// MarshalText writes the basis: declared, broader or label.
func (s SectorBasis) MarshalText() ([]byte, error) {
	if int(s) < len(sectorBasisNames) {
		return []byte(sectorBasisNames[s]), nil
	}
	return nil, nil
}

// UnmarshalText reads a basis; an unknown one reads as declared.
func (s *SectorBasis) UnmarshalText(b []byte) error {
	*s = SectorBasis(max(0, slices.Index(sectorBasisNames[:], string(b))))
	return nil
}

// MarshalText writes the proximity as String does.
func (p Proximity) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a proximity as String writes it; an unknown one reads as
// ProximityUnknown.
func (p *Proximity) UnmarshalText(b []byte) error {
	*p = Proximity(max(0, slices.Index(proximityNames[:], string(b))))
	return nil
}

// Explain says, part by part, why the hub scores what it does: the levels of what is
// wanted, its capacity in the family, its languages and its place.
func (m *Matcher) Explain(c *Candidate) []string {
	_, reasons := m.ExplainJoined(c)
	return reasons
}

// ExplainJoined is Explain, with the reasons also joined by "; " as one text. Both
// come from one buffer: a search explains every hub it returns.
func (m *Matcher) ExplainJoined(c *Candidate) (string, []string) {
	return ReasonTexts(m.Reasons(c))
}

// ReasonTexts writes reasons in English: joined by "; " as one text, and each
// of them; "" and nil for none. Both come from one buffer.
func ReasonTexts(reasons []Reason) (string, []string) {
	if len(reasons) == 0 {
		return "", nil
	}
	buf := make([]byte, 0, 256)
	bounds := make([]int, 0, 2*len(reasons))
	for i, r := range reasons {
		if i > 0 {
			buf = append(buf, "; "...)
		}
		bounds = append(bounds, len(buf))
		buf = r.AppendText(buf)
		bounds = append(bounds, len(buf))
	}
	all := string(buf)
	out := make([]string, len(reasons))
	for i := range out {
		out[i] = all[bounds[2*i]:bounds[2*i+1]]
	}
	return all, out
}

// maxReasons returns the most reasons Reasons gives for the query: one per part of
// the score it asks for, and "lacks" after the technologies and the services. A
// search explains every hub it returns, so the slice is made no larger.
func (m *Matcher) maxReasons() int {
	n := 0
	for _, part := range []bool{m.family >= 0, m.section >= 0, len(m.langs) > 0, m.q.Country != ""} {
		if part {
			n++
		}
	}
	if len(m.tech) > 0 {
		n += 2
	}
	if len(m.service) > 0 {
		n += 2
	}
	return n
}

// Reasons says, part by part, why the hub scores what it does, as data.
func (m *Matcher) Reasons(c *Candidate) []Reason {
	out := make([]Reason, 0, m.maxReasons())
	items := make([]ReasonItem, 0, len(m.tech)+len(m.service))
	p := c.Profile
	if len(m.tech) > 0 {
		if coverage(c.tech[:], m.tech) == 0 && c.described != 0 {
			start := len(items)
			for _, i := range m.tech {
				if c.described&(1<<i) != 0 {
					items = append(items, ReasonItem{Label: Technologies[i].Label, Level: DescribedLevel})
				}
			}
			out = append(out, Reason{Kind: ReasonDescribed, Items: items[start:len(items):len(items)], Level: DescribedLevel})
		} else {
			out, items = levelReasons(out, items, m.tech, c.tech[:], func(i int) string { return Technologies[i].Label })
		}
	}
	if len(m.service) > 0 {
		out, items = levelReasons(out, items, m.service, c.service[:], func(i int) string { return Services[i].Label })
	}
	if m.family >= 0 {
		fam := Families[m.family]
		r := Reason{Kind: ReasonCapacity, Family: fam.Slug}
		if capa, ok := p.Capacity[fam.Slug]; ok {
			r.Published, r.Free, r.Maximum, r.Unit = true, capa.Free(), capa.Maximum, capa.Unit
			if m.isStale(c) {
				r.Stale, r.Updated = true, capa.Updated
			}
		}
		out = append(out, r)
	}
	if m.section >= 0 {
		out = append(out, m.sectorReason(c))
	}
	if len(m.langs) > 0 {
		out = append(out, m.languageReason(c))
	}
	if m.q.Country != "" {
		_, region := m.nearestRegion(c)
		if region == "" && len(c.regions) > 0 {
			region = c.regions[0]
		}
		out = append(out, Reason{Kind: ReasonPlace, Region: region, Country: p.Country,
			Guessed: region != "" && c.regionsInferred, Proximity: m.Proximity(c)})
	}
	return out
}

// levelReasons appends to out the levels of the wanted items the hub lists, highest
// first, and the wanted items it lacks; their items go to the end of items.
func levelReasons(out []Reason, items []ReasonItem, wanted []int, levels []uint8, label func(int) string) ([]Reason, []ReasonItem) {
	start := len(items)
	for _, i := range wanted {
		if levels[i] > 0 {
			items = append(items, ReasonItem{Label: label(i), Level: int(levels[i])})
		}
	}
	if have := items[start:len(items):len(items)]; len(have) > 0 {
		slices.SortStableFunc(have, func(a, b ReasonItem) int { return cmp.Compare(b.Level, a.Level) })
		out = append(out, Reason{Kind: ReasonLevels, Items: have})
	}
	start = len(items)
	for _, i := range wanted {
		if levels[i] == 0 {
			items = append(items, ReasonItem{Label: label(i)})
		}
	}
	if lacks := items[start:len(items):len(items)]; len(lacks) > 0 {
		out = append(out, Reason{Kind: ReasonLacks, Items: lacks})
	}
	return out, items
}

// sectorReason says the hub's level in the sector asked for and where it comes
// from: declared for it, declared for its section, or read from a catalogue label.
func (m *Matcher) sectorReason(c *Candidate) Reason {
	l, _, basis := m.sectorLevel(c)
	r := Reason{Kind: ReasonSector, Sector: m.q.Sector, Level: int(l), Basis: basis}
	if l == 0 || basis != SectorFromLabel {
		return r
	}
	code := m.q.Sector
	if m.division >= 0 && c.hintDiv[m.division] == 0 {
		s, _ := SectorByCode(code)
		code = s.Section
	}
	for _, h := range c.Profile.Inferred.Sectors {
		if h.Value == code {
			r.Source = h.Source
		}
	}
	return r
}

// languageReason says which of the SME's languages the hub works in, and whether
// that is declared or a guess from its country.
func (m *Matcher) languageReason(c *Candidate) Reason {
	r := Reason{Kind: ReasonLanguages, Guessed: !c.declLangs}
	for i, l := range m.langs {
		k := m.langIdx[i]
		switch {
		case c.declLangs && slices.Contains(c.langs, l):
			r.Languages = append(r.Languages, l)
		case !c.declLangs && k >= 0 && c.hintLang[k/64]&(1<<(k%64)) != 0:
			r.Languages = append(r.Languages, l)
		}
	}
	switch {
	case len(r.Languages) == 0:
		r.Wanted = m.langs
	case r.Languages[0] != m.langs[0]:
		r.Missing = m.langs[0]
	}
	return r
}

// String returns the reason in English, as Explain writes it.
func (r Reason) String() string { return string(r.AppendText(nil)) }

// AppendText appends the reason in English to b.
func (r Reason) AppendText(b []byte) []byte {
	switch r.Kind {
	case ReasonLevels:
		b = appendItems(b, r.Items, true)
		return append(b, " (wanted)"...)
	case ReasonLacks:
		return appendItems(append(b, "lacks "...), r.Items, false)
	case ReasonDescribed:
		b = appendItems(append(b, "lists no technologies; its description names "...), r.Items, false)
		b = append(b, " (counted as level "...)
		return append(strconv.AppendInt(b, int64(r.Level), 10), ')')
	case ReasonCapacity:
		label := string(r.Family)
		if f, ok := FamilyBySlug(label); ok {
			label = f.Label
		}
		b = append(append(b, "offers "...), label...)
		if !r.Published {
			return append(b, ", capacity not published"...)
		}
		b = strconv.AppendInt(append(b, ", "...), int64(r.Free), 10)
		b = strconv.AppendInt(append(b, " of "...), int64(r.Maximum), 10)
		b = append(append(append(b, " free ("...), r.Unit...), ')')
		if r.Stale {
			b = r.Updated.AppendFormat(append(b, ", stale: updated "...), time.DateOnly)
		}
		return b
	case ReasonSector:
		s, _ := SectorByCode(r.Sector)
		sec, _ := SectorByCode(s.Section)
		b = append(b, "sector "...)
		switch {
		case r.Level == 0:
			return append(append(append(append(b, s.Code...), ' '), s.Name...), " not listed"...)
		case r.Basis == SectorBroader:
			b = append(append(append(b, sec.Code...), ' '), sec.Name...)
			b = strconv.AppendInt(append(b, " level "...), int64(r.Level), 10)
			b = append(append(append(b, ", section "...), sec.Code...), ": covers "...)
			return append(append(append(b, s.Code...), ' '), s.Name...)
		case r.Basis == SectorFromLabel:
			b = append(append(append(b, s.Code...), ' '), s.Name...)
			return append(append(append(b, ": read from "...), r.Source...), ", not a level declared for it"...)
		}
		b = append(append(append(b, s.Code...), ' '), s.Name...)
		return strconv.AppendInt(append(b, " level "...), int64(r.Level), 10)
	case ReasonLanguages:
		if len(r.Languages) == 0 {
			b = append(b, "languages not declared; "...)
			return append(append(b, strings.Join(r.Wanted, ", ")...), " not among those of its country"...)
		}
		if r.Guessed {
			b = append(append(append(b, "probably works in "...), strings.Join(r.Languages, ", ")...), " (its country's language, not declared)"...)
		} else {
			b = append(append(b, "works in "...), strings.Join(r.Languages, ", ")...)
		}
		if r.Missing != "" {
			b = append(append(b, ", not in "...), r.Missing...)
		}
		return b
	case ReasonPlace:
		if r.Region != "" {
			b = append(append(b, "region "...), r.Region...)
			if r.Guessed {
				b = append(b, " (from its address)"...)
			}
		} else {
			b = append(b, r.Country...)
		}
		return append(append(b, ", "...), r.Proximity.String()...)
	}
	return b
}

// appendItems appends "A level 5, B level 3", or without levels "A, B".
func appendItems(b []byte, items []ReasonItem, levels bool) []byte {
	for i, it := range items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, it.Label...)
		if levels {
			b = strconv.AppendInt(append(b, " level "...), int64(it.Level), 10)
		}
	}
	return b
}
