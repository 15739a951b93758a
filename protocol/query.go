package protocol

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Reach is how far from the SME a partner hub may be.
type Reach string

// The reaches, from the nearest to the farthest.
const (
	ReachRegion     Reach = "region"     // the SME's NUTS 2 region
	ReachCountry    Reach = "country"    // the SME's country
	ReachNeighbours Reach = "neighbours" // the SME's country or a neighbouring one
	ReachAnywhere   Reach = "anywhere"   // the default
)

// Limits of a query.
const (
	MaxQueryText      = 200   // characters of free text
	MaxQueryLimit     = 500   // results asked for at most
	DefaultQueryLimit = 20    // results when Limit is 0
	MaxMinCapacity    = 10000 // the largest minimum free capacity one can ask for
)

// Query is what an advisor knows about an SME's need, as a search for partner hubs.
// Every field is optional; an empty query lists every hub. Which fields filter and
// which only rank is documented in docs/matching.md.
type Query struct {
	V            int       `json:"v"`
	Technologies []string  `json:"technologies,omitempty"` // technology slugs wanted
	Family       Family    `json:"family,omitempty"`       // service family wanted
	Services     []string  `json:"services,omitempty"`     // service slugs wanted
	Sector       string    `json:"sector,omitempty"`       // the SME's NACE section or division
	Country      string    `json:"country,omitempty"`      // where the SME is
	Region       string    `json:"region,omitempty"`       // the SME's NUTS 3 (or NUTS 2) region
	Reach        Reach     `json:"reach,omitempty"`        // how far the SME may go
	Languages    []string  `json:"languages,omitempty"`    // languages the SME can work in, preferred first
	Category     Category  `json:"category,omitempty"`     // the SME's customer category
	MinCapacity  int       `json:"min_capacity,omitempty"` // free places needed in Family
	Types        []HubType `json:"types,omitempty"`        // hub types accepted
	Text         string    `json:"text,omitempty"`         // words in the hub's name, title or description
	Limit        int       `json:"limit,omitempty"`        // results wanted; 0 for DefaultQueryLimit
}

// Normalize writes what a person typed as the values hubs exchange, through each
// field's vocabulary (codes and slugs in any case, labels and names where the
// vocabulary accepts them: see [Vocabulary]), and fills what follows from other
// fields: the version, and the country of a known region given alone. What no
// vocabulary knows is left as it is, for Validate to report with suggestions.
func (q *Query) Normalize() {
	if q.V == 0 {
		q.V = Version
	}
	q.Technologies = canonList(TechnologyVocab, q.Technologies)
	q.Services = canonList(ServiceVocab, q.Services)
	q.Family = canon(FamilyVocab, q.Family)
	q.Sector = canon(SectorVocab, q.Sector)
	q.Country = canon(CountryVocab, q.Country)
	q.Region = canon(RegionVocab, q.Region)
	q.Reach = canon(ReachVocab, q.Reach)
	if q.Languages != nil {
		langs := make([]string, len(q.Languages))
		for i, l := range q.Languages {
			langs[i] = CanonicalLanguageTag(l)
		}
		q.Languages = langs
	}
	q.Category = canon(CategoryVocab, q.Category)
	q.Types = canonList(HubTypeVocab, q.Types)
	if _, ok := RegionByCode(q.Region); ok && q.Country == "" {
		q.Country = RegionCountry(q.Region)
	}
}

// Validate checks every field of the query and returns all problems at once.
func (q *Query) Validate() error {
	v := problems{what: "query"}
	if q.V != 0 && q.V != Version {
		v.add("v", "must be %d", Version)
	}
	list(&v, "technologies", q.Technologies, TechnologyVocab)
	list(&v, "services", q.Services, ServiceVocab)
	if q.Family != "" {
		if _, ok := FamilyBySlug(string(q.Family)); !ok {
			v.add("family", FamilyVocab.Rule(string(q.Family)))
		}
	}
	if q.Sector != "" {
		if _, ok := SectorByCode(q.Sector); !ok {
			v.add("sector", SectorVocab.Rule(q.Sector))
		}
	}
	if q.Country != "" {
		if _, ok := CountryByCode(q.Country); !ok {
			v.add("country", CountryVocab.Rule(q.Country))
		}
	}
	if q.Region != "" {
		r, ok := RegionByCode(q.Region)
		switch {
		case !ok:
			v.add("region", RegionVocab.Rule(q.Region))
		case r.Level != 2 && r.Level != 3:
			v.add("region", "must be a NUTS 2021 code of level 2 or 3, got level %d", r.Level)
		case q.Country != "" && RegionCountry(q.Region) != q.Country:
			v.add("region", "must lie in the country %s", q.Country)
		}
	}
	switch q.Reach {
	case "", ReachAnywhere:
	case ReachRegion:
		if q.Region == "" {
			v.add("reach", "region needs the SME's region")
		}
	case ReachCountry, ReachNeighbours:
		if q.Country == "" && q.Region == "" {
			v.add("reach", "%s needs the SME's country or region", q.Reach)
		}
	default:
		v.add("reach", ReachVocab.Rule(string(q.Reach)))
	}
	languages(&v, "languages", q.Languages)
	if q.Category != "" && !ValidCategory(string(q.Category)) {
		v.add("category", CategoryVocab.Rule(string(q.Category)))
	}
	switch {
	case q.MinCapacity < 0 || q.MinCapacity > MaxMinCapacity:
		v.add("min_capacity", "must be 0 to %d", MaxMinCapacity)
	case q.MinCapacity > 0 && q.Family == "":
		v.add("min_capacity", "needs a service family: capacity is per family")
	}
	list(&v, "types", q.Types, HubTypeVocab)
	text(&v, "text", q.Text, 0, MaxQueryText)
	if q.Limit < 0 || q.Limit > MaxQueryLimit {
		v.add("limit", "must be 0 to %d", MaxQueryLimit)
	}
	return v.err()
}

// list checks that every element of a list is a value of the vocabulary voc, listed
// once.
func list[T ~string](v *problems, field string, xs []T, voc *Vocabulary) {
	seen := make(map[T]bool, len(xs))
	for i, x := range xs {
		f := field + "." + strconv.Itoa(i)
		switch {
		case !voc.Has(string(x)):
			v.add(f, "%s", voc.Rule(string(x)))
		case seen[x]:
			v.add(f, "%q is listed twice", x)
		}
		seen[x] = true
	}
}

// languages checks that every element of a list is a language tag, listed once.
func languages(v *problems, field string, tags []string) {
	seen := make(map[string]bool, len(tags))
	for i, tag := range tags {
		f := field + "." + strconv.Itoa(i)
		switch {
		case !ValidLanguageTag(tag):
			v.add(f, "%q must be a BCP 47 language tag such as en, fi or pt-BR", tag)
		case seen[tag]:
			v.add(f, "%q is listed twice", tag)
		}
		seen[tag] = true
	}
}

// Live query messages.
const (
	TypeQuery       = "query"        // body: Query, to every hub, on SubjectQuery
	TypeQueryAnswer = "query-answer" // body: QueryAnswer, to the asking hub
)

// MaxQueryAge is how old a live query may be when a hub receives it; an older one is
// dropped, since its asker has stopped waiting.
const MaxQueryAge = 30 * time.Second

// QueryAnswer is a hub's answer to a live query: its capacity now and its own
// evaluation of the query against its current profile.
type QueryAnswer struct {
	V        int                 `json:"v"`
	Query    string              `json:"query"`    // the ID of the query's envelope
	Revision uint64              `json:"revision"` // of the profile evaluated
	Match    bool                `json:"match"`
	Score    float64             `json:"score"`
	Reasons  []string            `json:"reasons,omitempty"`
	Capacity map[Family]Capacity `json:"capacity,omitempty"`
}

// Limits of an answer.
const (
	maxAnswerReasons   = 16
	maxAnswerReasonLen = 600
)

// Validate checks an answer received from another hub.
func (a *QueryAnswer) Validate() error {
	v := problems{what: "query answer"}
	if a.V != Version {
		v.add("v", "must be %d", Version)
	}
	if _, err := uuid.Parse(a.Query); err != nil {
		v.add("query", "must be the query's message ID")
	}
	if a.Score < 0 || a.Score > 100 || a.Score != a.Score {
		v.add("score", "must be 0 to 100")
	}
	if len(a.Reasons) > maxAnswerReasons {
		v.add("reasons", "must be at most %d", maxAnswerReasons)
	}
	for i, r := range a.Reasons {
		if !utf8.ValidString(r) || len(r) > maxAnswerReasonLen {
			v.add("reasons."+strconv.Itoa(i), "must be valid UTF-8 of at most %d bytes", maxAnswerReasonLen)
		}
	}
	capacities(&v, a.Capacity)
	return v.err()
}
