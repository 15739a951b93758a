package protocol

import (
	"maps"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of a profile's free-text fields, in characters.
const (
	MaxNameLen        = 120
	MaxTitleLen       = 300
	MaxDescriptionLen = 10000
	MaxUnitLen        = 40
	MaxLevel          = 5
	MinLevel          = 1
)

// Profile is what a hub says about itself: who it is, where it works, what it is good at
// and how much room it has. Its owner signs it; every other hub caches the signed copy.
type Profile struct {
	ID        string   `json:"id" yaml:"id"`
	Name      string   `json:"name" yaml:"name"`
	Title     string   `json:"title,omitempty" yaml:"title,omitempty"`
	Type      HubType  `json:"type" yaml:"type"`
	Country   string   `json:"country" yaml:"country"`
	Regions   []string `json:"regions,omitempty" yaml:"regions,omitempty"` // NUTS 2021 codes (level 1-3) the hub covers
	Website   string   `json:"website,omitempty" yaml:"website,omitempty"`
	Languages []string `json:"languages" yaml:"languages"` // BCP 47 tags
	// Categories are the kinds of customer the hub serves; empty means every kind.
	Categories  []Category `json:"categories,omitempty" yaml:"categories,omitempty"`
	Description string     `json:"description,omitempty" yaml:"description,omitempty"`
	Contact     Contact    `json:"contact" yaml:"contact"`

	// Specialisations: slug or NACE code to level 1 (some involvement) .. 5 (core).
	Technologies map[string]int `json:"technologies,omitempty" yaml:"technologies,omitempty"`
	Services     map[string]int `json:"services,omitempty" yaml:"services,omitempty"`
	Sectors      map[string]int `json:"sectors,omitempty" yaml:"sectors,omitempty"`

	// Capacity is the free room per service family.
	Capacity map[Family]Capacity `json:"capacity,omitempty" yaml:"capacity,omitempty"`

	// Inferred holds what was guessed about the hub, not declared by it, each value
	// with its source: a hint ranks the hub but never excludes it, and what the hub
	// declares overrides it. nil for a profile with no hints.
	Inferred *Inferred `json:"inferred,omitempty" yaml:"inferred,omitempty"`

	// Revision grows by one with every change; the hub's store sets it.
	Revision uint64    `json:"revision" yaml:"revision,omitempty"`
	Updated  time.Time `json:"updated" yaml:"updated,omitempty"`
}

// Inferred is what an importer guessed about a hub from data not written for the
// purpose, such as its postal address or its country. Regions and languages hold the
// guesses the hub has not declared itself; sectors hold NACE codes read from a label
// that is not a NACE activity ("Smart City"), with the label's level.
type Inferred struct {
	Regions   []Hint `json:"regions,omitempty" yaml:"regions,omitempty"`
	Languages []Hint `json:"languages,omitempty" yaml:"languages,omitempty"`
	Sectors   []Hint `json:"sectors,omitempty" yaml:"sectors,omitempty"`
}

// Hint is one inferred value: a NUTS code, a language tag or a NACE code, what it
// was inferred from, and for a sector its level.
type Hint struct {
	Value  string `json:"value" yaml:"value"`
	Level  int    `json:"level,omitempty" yaml:"level,omitempty"`
	Source string `json:"source" yaml:"source"`
}

// GuessedLanguages returns the inferred languages, with their sources, of a hub that
// has declared none: search ranks by them without filtering. nil when the hub
// declared its languages. A profile with inferred languages repeats them in
// Languages, which every version of the protocol requires (see docs/protocol.md).
func (p *Profile) GuessedLanguages() []Hint {
	if p.Inferred == nil {
		return nil
	}
	return p.Inferred.Languages
}

// KeepInferred carries the inferred values of cur, the profile before an edit, over
// to p, the edited one that has none of its own: regions and sectors always (declared
// regions override the inferred ones), and the languages only while p's languages are
// still the guessed ones. An edit that changes the languages declares them.
func (p *Profile) KeepInferred(cur *Profile) {
	if p.Inferred != nil || cur == nil || cur.Inferred == nil {
		return
	}
	in := *cur.Inferred
	if !sameLanguages(p.Languages, in.Languages) {
		in.Languages = nil
	}
	if len(in.Regions)+len(in.Languages)+len(in.Sectors) > 0 {
		p.Inferred = &in
	}
}

// sameLanguages reports whether tags and the hints' values are the same languages,
// in any order.
func sameLanguages(tags []string, hints []Hint) bool {
	if len(tags) != len(hints) {
		return false
	}
	for _, h := range hints {
		if !slices.ContainsFunc(tags, func(t string) bool { return CanonicalLanguageTag(t) == CanonicalLanguageTag(h.Value) }) {
			return false
		}
	}
	return true
}

// hintValues lists the hints' values, comma-separated.
func hintValues(hints []Hint) string {
	vals := make([]string, len(hints))
	for i, h := range hints {
		vals[i] = h.Value
	}
	return strings.Join(vals, ", ")
}

// GuessedRegions returns the inferred regions when the hub has declared none; nil
// when it declared its own, which override them.
func (p *Profile) GuessedRegions() []Hint {
	if len(p.Regions) > 0 || p.Inferred == nil {
		return nil
	}
	return p.Inferred.Regions
}

// Contact is a role address, such as a partnerships desk; no person's name is needed.
type Contact struct {
	Role  string `json:"role,omitempty" yaml:"role,omitempty"`
	Email string `json:"email,omitempty" yaml:"email,omitempty"`
	Phone string `json:"phone,omitempty" yaml:"phone,omitempty"`
}

// Capacity is the room a hub has in one service family, after the capacity object of
// the Open Referral data standard.
type Capacity struct {
	Available int       `json:"available" yaml:"available"`
	Maximum   int       `json:"maximum" yaml:"maximum"`
	Unit      string    `json:"unit" yaml:"unit"` // "SMEs per month"
	Updated   time.Time `json:"updated" yaml:"updated,omitempty"`
}

// Free returns the places available, never below zero.
func (c Capacity) Free() int { return max(c.Available, 0) }

// Stale reports whether the capacity was updated more than StaleAfterDays before now:
// search counts it StaleCapacity of its free places and says it is stale. A capacity
// without an updated time is not stale.
func (c Capacity) Stale(now time.Time) bool {
	return !c.Updated.IsZero() && c.Updated.Unix() < now.Add(-StaleAfterDays*24*time.Hour).Unix()
}

// Validate checks every field of the profile and returns all problems at once as a
// *ValidationError, each naming the field and the rule.
func (p *Profile) Validate() error {
	v := problems{what: "profile"}
	if !ValidID(p.ID) {
		v.add("id", idRule)
	}
	text(&v, "name", p.Name, 1, MaxNameLen)
	text(&v, "title", p.Title, 0, MaxTitleLen)
	text(&v, "description", p.Description, 0, MaxDescriptionLen)
	switch p.Type {
	case HubEDIH, HubSoE, HubDIH:
	case "":
		v.add("type", "must be one of EDIH, SoE, DIH")
	default:
		v.add("type", "%s", HubTypeVocab.Rule(string(p.Type)))
	}
	switch _, ok := CountryByCode(p.Country); {
	case !ok && p.Country == "":
		v.add("country", "must be a known country code (Eurostat, e.g. FI, EL, DE)")
	case !ok:
		v.add("country", "%s", CountryVocab.Rule(p.Country))
	}
	seen := map[string]bool{}
	for _, code := range p.Regions {
		f := "regions." + code
		r, ok := RegionByCode(code)
		switch {
		case !ok:
			v.add(f, "%s", RegionVocab.KeyRule(code))
		case r.Level < 1 || r.Level > 3:
			v.add(f, "must be a NUTS 2021 code of level 1, 2 or 3")
		case RegionCountry(code) != p.Country:
			v.add(f, "must lie in the hub's country %s", p.Country)
		case seen[code]:
			v.add(f, "is listed twice")
		}
		seen[code] = true
	}
	if p.Website != "" {
		if u, err := url.Parse(p.Website); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("website", "must be an absolute http or https URL")
		}
	}
	if len(p.Languages) == 0 {
		v.add("languages", "must list at least one language")
	} else if p.Inferred != nil && len(p.Inferred.Languages) > 0 && !sameLanguages(p.Languages, p.Inferred.Languages) {
		v.add("languages", "must repeat the languages of inferred.languages (%s), which mark them as guessed; to declare the hub's own languages, remove inferred.languages", hintValues(p.Inferred.Languages))
	}
	seen = map[string]bool{}
	for i, tag := range p.Languages {
		f := "languages." + strconv.Itoa(i)
		switch {
		case !ValidLanguageTag(tag):
			v.add(f, "%q must be a BCP 47 language tag such as en, fi or pt-BR", tag)
		case seen[CanonicalLanguageTag(tag)]:
			v.add(f, "%q is listed twice", tag)
		}
		seen[CanonicalLanguageTag(tag)] = true
	}
	seen = map[string]bool{}
	for i, c := range p.Categories {
		f := "categories." + strconv.Itoa(i)
		switch {
		case !ValidCategory(string(c)):
			v.add(f, "%s", CategoryVocab.Rule(string(c)))
		case seen[string(c)]:
			v.add(f, "%q is listed twice", c)
		}
		seen[string(c)] = true
	}
	text(&v, "contact.role", p.Contact.Role, 0, MaxTitleLen)
	if p.Contact.Email != "" {
		if a, err := mail.ParseAddress(p.Contact.Email); err != nil || a.Address != p.Contact.Email {
			v.add("contact.email", "must be a plain e-mail address such as partners@hub.eu")
		}
	}
	text(&v, "contact.phone", p.Contact.Phone, 0, 40)
	levels(&v, "technologies", p.Technologies, TechnologyVocab)
	levels(&v, "services", p.Services, ServiceVocab)
	levels(&v, "sectors", p.Sectors, SectorVocab)
	capacities(&v, p.Capacity)
	if p.Inferred != nil {
		inferred(&v, p.Country, p.Inferred)
	}
	return v.err()
}

// MaxHintSource is the longest source a hint may give, in characters.
const MaxHintSource = 200

// inferred checks the hints: each value as its declared field would be checked, and a
// source.
func inferred(v *problems, country string, in *Inferred) {
	check := func(field string, hints []Hint, value func(f string, h Hint)) {
		seen := map[string]bool{}
		for i, h := range hints {
			f := field + "." + strconv.Itoa(i)
			value(f, h)
			if seen[h.Value] {
				v.add(f+".value", "%q is listed twice", h.Value)
			}
			seen[h.Value] = true
			text(v, f+".source", h.Source, 1, MaxHintSource)
		}
	}
	check("inferred.regions", in.Regions, func(f string, h Hint) {
		r, ok := RegionByCode(h.Value)
		switch {
		case !ok || r.Level < 1:
			v.add(f+".value", "%q must be a NUTS 2021 code of level 1, 2 or 3", h.Value)
		case RegionCountry(h.Value) != country:
			v.add(f+".value", "%q must lie in the hub's country %s", h.Value, country)
		}
	})
	check("inferred.languages", in.Languages, func(f string, h Hint) {
		if !ValidLanguageTag(h.Value) {
			v.add(f+".value", "%q must be a BCP 47 language tag such as en, fi or pt-BR", h.Value)
		}
	})
	check("inferred.sectors", in.Sectors, func(f string, h Hint) {
		if _, ok := SectorByCode(h.Value); !ok {
			v.add(f+".value", "%q must be a NACE Rev. 2 section (A-U) or division (01-99)", h.Value)
		}
		if h.Level < MinLevel || h.Level > MaxLevel {
			v.add(f+".level", "level must be 1 to 5, got %d", h.Level)
		}
	})
}

// capacities checks capacity per family: a known family, numbers in range, a unit.
func capacities(v *problems, m map[Family]Capacity) {
	for _, fam := range sortedKeys(m) {
		c := m[fam]
		f := "capacity." + string(fam)
		if _, ok := FamilyBySlug(string(fam)); !ok {
			v.add(f, "%s", FamilyVocab.KeyRule(string(fam)))
			continue
		}
		if c.Maximum < 0 {
			v.add(f+".maximum", "must not be negative")
		}
		if c.Available < 0 || c.Available > c.Maximum {
			v.add(f+".available", "must be between 0 and maximum (%d)", c.Maximum)
		}
		text(v, f+".unit", c.Unit, 1, MaxUnitLen)
	}
}

func text(v *problems, field, s string, minLen, maxLen int) {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		v.add(field, "must be valid UTF-8")
	case n < minLen:
		v.add(field, "is required")
	case n > maxLen:
		v.add(field, "must be at most %d characters, got %d", maxLen, n)
	}
}

// levels checks that every key of m is a value of the vocabulary voc with a level.
func levels(v *problems, field string, m map[string]int, voc *Vocabulary) {
	for _, k := range sortedKeys(m) {
		f := field + "." + k
		if !voc.Has(k) {
			v.add(f, "%s", voc.KeyRule(k))
			continue
		}
		if l := m[k]; l < MinLevel || l > MaxLevel {
			v.add(f, "level must be 1 to 5, got %d", l)
		}
	}
}

func sortedKeys[K ~string, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }
