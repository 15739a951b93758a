package protocol

import (
	"cmp"
	"iter"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Weights of the parts of a hub's score. A part counts only when the query asks for
// it: technologies, services, the sector, the family (capacity), languages and the
// SME's place. The score is the weighted mean of the parts asked for, 0 to 100.
// docs/matching.md explains each part with worked examples.
const (
	WeightTechnology = 40
	WeightService    = 15
	WeightSector     = 10
	WeightCapacity   = 15
	WeightLanguage   = 10
	WeightDistance   = 50
)

// Discounts of what a hub did not declare in so many words: a level read from a
// broader sector (a division asked, the section listed), a level read from a
// catalogue label that is not a NACE activity ("Smart City"), a language guessed
// from the country, and a technology found only in the description of a hub that
// lists none.
const (
	BroaderSector  = 0.6
	InferredSector = 0.5
	InferredLang   = 0.5
	DescribedLevel = 2 // the level a technology named only in the description counts as
	StaleCapacity  = 0.5
	StaleAfterDays = 30 // capacity older than this counts StaleCapacity of its free places
)

// CapacityFull is the number of free places in the family at which the capacity part
// is full; fewer free places count in proportion.
const CapacityFull = 5

// Values of the language part: the SME's first language, or only another of its
// languages.
const (
	LanguagePreferred = 1.0
	LanguageOther     = 0.5
)

// Values of the distance part by proximity. When the query gives the SME's country
// but not its region, same region cannot be told, so each value is divided by
// DistanceCountry and the same country scores full.
const (
	DistanceNUTS3     = 1.0
	DistanceRegion    = 0.85 // the same NUTS 2 region
	DistanceNearby    = 0.7  // the same NUTS 1 region: the neighbouring regions of a country
	DistanceCountry   = 0.55
	DistanceNeighbour = 0.25
	DistanceElsewhere = 0.0
)

// Proximity is how near a hub is to the SME.
type Proximity int

// The proximities, from the farthest.
const (
	ProximityUnknown   Proximity = iota // the query does not say where the SME is
	ProximityElsewhere                  // another, not neighbouring, country
	ProximityNeighbour                  // a neighbouring country
	ProximityCountry                    // the SME's country, another region
	ProximityNearby                     // the SME's NUTS 1 region, another NUTS 2
	ProximityRegion                     // the SME's NUTS 2 region
	ProximityNUTS3                      // the SME's NUTS 3 region
)

var proximityNames = [...]string{"", "another country", "neighbouring country", "same country", "neighbouring region", "same region", "same NUTS 3 region"}

// String returns "same NUTS 3 region", "same region", "neighbouring region", "same
// country", "neighbouring country", "another country", or "" when unknown.
func (p Proximity) String() string { return proximityNames[p] }

// Sizes of the vocabulary, fixed so a Candidate is a flat value (vocab_test checks them).
const (
	numTechnologies = 34
	numServices     = 15
	numSections     = 21
	numDivisions    = 100
	numFamilies     = 5
)

var (
	techIndex    = indexOf(Technologies, func(t Technology) string { return t.Slug })
	serviceIndex = indexOf(Services, func(s Service) string { return s.Slug })
	familyIndex  = indexOf(Families, func(f FamilyInfo) string { return string(f.Slug) })
	// serviceFamily is the family bit of each service.
	serviceFamily = func() (bits [numServices]uint8) {
		for i, s := range Services {
			bits[i] = 1 << familyIndex[string(s.Family)]
		}
		return bits
	}()
	categoryIndex = indexOf(Categories, func(c Category) string { return string(c) })
	countryIndex  = indexOf(Countries, func(c Country) string { return c.Code })
	hubTypeIndex  = map[HubType]int{HubEDIH: 0, HubSoE: 1, HubDIH: 2}
)

func indexOf[V any](vs []V, key func(V) string) map[string]int {
	m := make(map[string]int, len(vs))
	for i, v := range vs {
		m[key(v)] = i
	}
	return m
}

// Candidate is a hub's profile made ready for matching: its levels in flat arrays and
// its words sorted, so that scoring does no lookups and no allocation. Build one per
// profile revision with NewCandidate and do not change it afterwards.
type Candidate struct {
	// What every query reads comes first, in the first 64 bytes: a scan over many
	// hubs then touches one cache line of most of them.
	hubType    uint8 // the bit of its type
	families   uint8 // a bit per family the hub offers
	published  uint8 // a bit per family whose capacity the hub publishes
	categories uint8 // a bit per customer category served; 0 for all
	country    int16 // index in Countries, -1 if unknown
	free       [numFamilies]int16
	tech       [numTechnologies]uint8
	described  uint64 // a bit per technology named in the description of a hub that lists none

	// What many queries read, in the next two lines: a scored hub costs two or three
	// cache misses, not one per part.
	staleAt         [numFamilies]int64 // capacity's updated time, Unix seconds; 0 when unknown
	tie             uint64             // tieKey
	service         [numServices]uint8
	inSection       [numSections]uint8 // highest level of the section or a division in it
	declLangs       bool               // the hub declared languages: they filter
	regionsInferred bool
	regions         []string           // declared regions, or failing those the inferred ones
	langBits        [4]uint64          // a bit per known primary language (languageIndex)
	hintLang        [4]uint64          // likewise, for languages inferred and not declared
	section         [numSections]uint8 // level of each NACE section listed as such
	hintSec         [numSections]uint8 // level of each NACE section read from a label
	hintDiv         [numDivisions]uint8

	Profile  *Profile
	offered  uint8               // a bit per family offered through its services
	division [numDivisions]uint8 // level of each NACE division
	langs    []string            // primary language subtags, in the profile's order
	text     string              // folded words of ID, name, title and description, sorted, distinct, end to end
	ends     []uint32            // where each word of text ends
	prefixes [8]uint64           // a bit per hash of the first three bytes of a word
	gate     Gate
}

// NewCandidate prepares a validated profile for matching. Values the vocabulary does
// not know are ignored.
func NewCandidate(p *Profile) *Candidate {
	c := &Candidate{Profile: p, country: -1, hubType: 1 << hubTypeIndex[p.Type]}
	if i, ok := countryIndex[p.Country]; ok {
		c.country = int16(i)
	}
	for slug, l := range p.Technologies {
		if i, ok := techIndex[slug]; ok {
			c.tech[i] = level(l)
		}
	}
	for slug, l := range p.Services {
		if i, ok := serviceIndex[slug]; ok && l > 0 {
			c.service[i] = level(l)
			c.offered |= serviceFamily[i]
		}
	}
	c.setCapacity(p.Capacity)
	for code, l := range p.Sectors {
		s, ok := SectorByCode(code)
		if !ok {
			continue
		}
		sec := int(s.Section[0] - 'A')
		if s.Level == 1 {
			c.section[sec] = level(l)
		} else {
			d, _ := strconv.Atoi(code)
			c.division[d] = level(l)
		}
		c.inSection[sec] = max(c.inSection[sec], level(l))
	}
	for _, tag := range p.Languages {
		l := primaryLanguage(tag)
		c.langs = append(c.langs, l)
		if i, ok := languageIndex[l]; ok {
			c.langBits[i/64] |= 1 << (i % 64)
		}
	}
	guessed := p.GuessedLanguages()
	c.declLangs = len(guessed) == 0
	for _, h := range guessed {
		if i, ok := languageIndex[primaryLanguage(h.Value)]; ok {
			c.hintLang[i/64] |= 1 << (i % 64)
		}
	}
	c.regions = p.Regions
	for _, h := range p.GuessedRegions() {
		c.regions = append(c.regions, h.Value)
		c.regionsInferred = true
	}
	if in := p.Inferred; in != nil {
		for _, h := range in.Sectors {
			s, ok := SectorByCode(h.Value)
			if !ok {
				continue
			}
			if s.Level == 1 {
				c.hintSec[s.Section[0]-'A'] = max(c.hintSec[s.Section[0]-'A'], level(h.Level))
			} else {
				d, _ := strconv.Atoi(h.Value)
				c.hintDiv[d] = max(c.hintDiv[d], level(h.Level))
			}
		}
	}
	for _, cat := range p.Categories {
		if i, ok := categoryIndex[string(cat)]; ok {
			c.categories |= 1 << i
		}
	}
	var words []string
	for _, s := range []string{p.ID, p.Name, p.Title, p.Description} {
		words = appendWords(words, s)
	}
	if len(p.Technologies) == 0 {
		c.described = describedTechnologies(words)
	}
	slices.Sort(words)
	words = slices.Compact(words)
	c.text, c.ends = packWords(words)
	for _, w := range words {
		if len(w) >= prefixLen {
			bit := prefixBit(w)
			c.prefixes[bit/64] |= 1 << (bit % 64)
		}
	}
	c.setGate()
	c.tie = tieKey(c)
	return c
}

// setCapacity sets what the candidate knows of the hub's capacity.
func (c *Candidate) setCapacity(capacity map[Family]Capacity) {
	c.families, c.published, c.free, c.staleAt = c.offered, 0, [numFamilies]int16{}, [numFamilies]int64{}
	for fam, capa := range capacity {
		if i, ok := familyIndex[string(fam)]; ok {
			c.families |= 1 << i
			c.published |= 1 << i
			c.free[i] = int16(min(capa.Free(), MaxMinCapacity))
			if !capa.Updated.IsZero() {
				c.staleAt[i] = capa.Updated.Unix()
			}
		}
	}
	c.setGate()
}

// Trim keeps of the candidate's profile only what matching, its reasons and a hit
// read once the candidate is made: the ID, name, type, country, regions, languages,
// categories, capacity, guesses, revision and time of update. The title,
// description, website and contact go, their words held in the candidate's text, as
// do the specialisation levels, held in its arrays. A hub's index holds a candidate
// for every hub of the network: the decoded profiles were 22% of the live heap of
// 457 hubs in one process (docs/benchmarks.md). The profile itself is not changed.
func (c *Candidate) Trim() {
	p := c.Profile
	c.Profile = &Profile{ID: p.ID, Name: p.Name, Type: p.Type, Country: p.Country, Regions: p.Regions,
		Languages: p.Languages, Categories: p.Categories, Capacity: p.Capacity, Inferred: p.Inferred,
		Revision: p.Revision, Updated: p.Updated}
}

// WithCapacity returns a copy of the candidate whose profile has the given capacity
// in place of its own, as a hub's answer to a live query tells it. It costs far less
// than NewCandidate: nothing else is prepared again.
func (c *Candidate) WithCapacity(capacity map[Family]Capacity) *Candidate {
	p := *c.Profile
	p.Capacity = capacity
	cc := *c
	cc.Profile = &p
	cc.setCapacity(capacity)
	return &cc
}

// level clamps a specialisation level to 0..MaxLevel.
func level(l int) uint8 { return uint8(min(max(l, 0), MaxLevel)) }

func primaryLanguage(tag string) string {
	primary, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(primary)
}

// Matcher scores hubs against one query. Build it with NewMatcher; it is read-only and
// safe for concurrent use.
type Matcher struct {
	q        Query
	tech     []int
	service  []int
	family   int    // index of the family asked for, -1 for none
	section  int    // index of the sector's section, -1 for no sector
	division int    // the sector's division, -1 when the sector is a section
	region2  string // the SME's NUTS 2 region, "" if unknown
	region3  string // the SME's NUTS 3 region, "" if unknown
	region1  string // the SME's NUTS 1 region, "" if unknown
	stale    int64  // capacity updated before this Unix time is stale
	country  int16  // index of the SME's country in Countries; -2 when the query gives none
	gate     gateMasks
	groups   [][]int // features of a GateIndex, by set checked: a hub needs one of each
	minProx  Proximity
	prox     []Proximity // by country index: how near a hub in that country is at best
	types    uint8       // bits of the hub types accepted; 0 for all
	langs    []string    // primary subtags of the SME's languages
	langIdx  []int       // their languageIndex, -1 for a language not in it
	category uint8       // bit of the SME's category, 0 for none
	tokens   []string    // folded words of the text
	weights  int         // sum of the weights of the parts asked for
}

// NewMatcher checks the query and prepares it for scoring, with capacity judged
// stale against the present time.
func NewMatcher(q Query) (*Matcher, error) { return NewMatcherAt(q, time.Now()) }

// NewMatcherAt is NewMatcher with capacity judged stale against now.
func NewMatcherAt(q Query, now time.Time) (*Matcher, error) {
	q.Normalize()
	if err := q.Validate(); err != nil {
		return nil, err
	}
	m := &Matcher{q: q, family: -1, section: -1, division: -1, country: -2}
	for _, slug := range q.Technologies {
		m.tech = append(m.tech, techIndex[slug])
	}
	if len(m.tech) > 0 {
		m.weights += WeightTechnology
	}
	for _, slug := range q.Services {
		m.service = append(m.service, serviceIndex[slug])
	}
	if len(m.service) > 0 {
		m.weights += WeightService
	}
	if q.Family != "" {
		m.family = familyIndex[string(q.Family)]
		m.weights += WeightCapacity
	}
	if q.Sector != "" {
		s, _ := SectorByCode(q.Sector)
		m.section = int(s.Section[0] - 'A')
		if s.Level == 2 {
			m.division, _ = strconv.Atoi(q.Sector)
		}
		m.weights += WeightSector
	}
	m.stale = now.Add(-StaleAfterDays * 24 * time.Hour).Unix()
	if q.Region != "" {
		m.region2 = RegionParent(q.Region, 2)
		m.region3 = RegionParent(q.Region, 3)
		m.region1 = RegionParent(q.Region, 1)
	}
	if q.Country != "" {
		m.weights += WeightDistance
		m.prox = make([]Proximity, len(Countries))
		for i, c := range Countries {
			if c.Code == q.Country {
				m.country = int16(i)
			}
			switch {
			case c.Code == q.Country && m.region2 != "":
				m.prox[i] = ProximityRegion // if it covers the region; Proximity checks
			case c.Code == q.Country:
				m.prox[i] = ProximityCountry
			case AreNeighbours(c.Code, q.Country):
				m.prox[i] = ProximityNeighbour
			default:
				m.prox[i] = ProximityElsewhere
			}
		}
	}
	for _, t := range q.Types {
		m.types |= 1 << hubTypeIndex[t]
	}
	switch q.Reach {
	case ReachRegion:
		m.minProx = ProximityRegion
	case ReachCountry:
		m.minProx = ProximityCountry
	case ReachNeighbours:
		m.minProx = ProximityNeighbour
	}
	for _, tag := range q.Languages {
		l := primaryLanguage(tag)
		i, ok := languageIndex[l]
		if !ok {
			i = -1
		}
		m.langs, m.langIdx = append(m.langs, l), append(m.langIdx, i)
	}
	if len(m.langs) > 0 {
		m.weights += WeightLanguage
	}
	if q.Category != "" {
		m.category = 1 << categoryIndex[string(q.Category)]
	}
	m.tokens = appendWords(nil, q.Text)
	m.prepareGate()
	return m, nil
}

// Query returns the normalized query.
func (m *Matcher) Query() Query { return m.q }

// Limit returns how many results the query asks for.
func (m *Matcher) Limit() int {
	if m.q.Limit == 0 {
		return DefaultQueryLimit
	}
	return m.q.Limit
}

// Score returns the hub's score, 0 to 100 in hundredths, and whether it passes every filter the
// query sets. It does not allocate.
func (m *Matcher) Score(c *Candidate) (float64, bool) {
	s, _, ok := m.score(c, false)
	return s, ok
}

// score is Score, with the hub's Proximity; textChecked says the caller has checked
// the text already.
func (m *Matcher) score(c *Candidate, textChecked bool) (float64, Proximity, bool) {
	prox := ProximityUnknown
	if m.types != 0 && c.hubType&m.types == 0 {
		return 0, 0, false
	}
	if m.category != 0 && c.categories != 0 && c.categories&m.category == 0 {
		return 0, 0, false
	}
	var total float64
	if len(m.tech) > 0 {
		cov := coverage(c.tech[:], m.tech)
		if cov == 0 && c.described != 0 {
			cov = m.describedCoverage(c.described)
		}
		if cov == 0 {
			return 0, 0, false
		}
		total += WeightTechnology * cov
	}
	if len(m.service) > 0 {
		cov := coverage(c.service[:], m.service)
		if cov == 0 {
			return 0, 0, false
		}
		total += WeightService * cov
	}
	if m.family >= 0 {
		if c.families&(1<<m.family) == 0 {
			return 0, 0, false
		}
		free, known := m.Free(c)
		if m.q.MinCapacity > 0 && (!known || free < m.q.MinCapacity) {
			return 0, 0, false
		}
		v := float64(min(free, CapacityFull)) / CapacityFull
		if m.isStale(c) {
			v *= StaleCapacity
		}
		total += WeightCapacity * v
	}
	if m.section >= 0 {
		l, f, _ := m.sectorLevel(c)
		total += WeightSector * f * float64(l) / MaxLevel
	}
	if len(m.langs) > 0 {
		v := m.language(c)
		if v == 0 && c.declLangs {
			return 0, 0, false
		}
		total += WeightLanguage * v
	}
	if m.prox != nil {
		prox = m.Proximity(c)
		if prox < m.minProx {
			return 0, 0, false
		}
		total += WeightDistance * m.distance(prox)
	}
	if !textChecked && !m.hasWords(c) {
		return 0, 0, false
	}
	if m.weights == 0 {
		return 0, prox, true
	}
	// Rounded to hundredths, so that hubs equal on paper tie exactly.
	return math.Round(10000*total/float64(m.weights)) / 100, prox, true
}

// coverage is the share, 0 to 1, of the highest levels that the hub's levels of the
// wanted items reach.
func coverage(levels []uint8, wanted []int) float64 {
	sum := 0
	for _, i := range wanted {
		sum += int(levels[i])
	}
	return float64(sum) / float64(MaxLevel*len(wanted))
}

// Free returns the hub's free places in the family asked for, and whether it publishes
// them; 0 and false when the query names no family.
func (m *Matcher) Free(c *Candidate) (int, bool) {
	if m.family < 0 {
		return 0, false
	}
	return int(c.free[m.family]), c.published&(1<<m.family) != 0
}

// sectorLevel returns the hub's level in the sector asked for, the factor it counts
// with, and where it comes from: the best of a level declared for the sector (or, for
// a section, one of its divisions), one declared for the section of the division
// asked (BroaderSector), and one read from a label (InferredSector).
func (m *Matcher) sectorLevel(c *Candidate) (uint8, float64, SectorBasis) {
	type option struct {
		l    uint8
		f    float64
		kind SectorBasis
	}
	var opts [4]option
	if m.division < 0 {
		opts[0] = option{c.inSection[m.section], 1, SectorDeclared}
		opts[1] = option{c.hintSec[m.section], InferredSector, SectorFromLabel}
	} else {
		opts[0] = option{c.division[m.division], 1, SectorDeclared}
		opts[1] = option{c.section[m.section], BroaderSector, SectorBroader}
		opts[2] = option{c.hintDiv[m.division], InferredSector, SectorFromLabel}
		opts[3] = option{c.hintSec[m.section], InferredSector * BroaderSector, SectorFromLabel}
	}
	best := option{}
	for _, o := range opts {
		if float64(o.l)*o.f > float64(best.l)*best.f {
			best = o
		}
	}
	return best.l, best.f, best.kind
}

// isStale reports whether the hub's capacity in the family asked for was updated
// longer ago than StaleAfterDays.
func (m *Matcher) isStale(c *Candidate) bool {
	t := c.staleAt[m.family]
	return t != 0 && t < m.stale
}

// describedCoverage is the technology part of a hub that lists no technologies but
// names wanted ones, the bits of described, in its description: each counts as
// DescribedLevel.
func (m *Matcher) describedCoverage(described uint64) float64 {
	n := 0
	for _, i := range m.tech {
		if described&(1<<i) != 0 {
			n++
		}
	}
	return float64(n*DescribedLevel) / float64(MaxLevel*len(m.tech))
}

// language returns the language part: LanguagePreferred, LanguageOther or 0, times
// InferredLang when the hub declared no languages and the match is a guess.
func (m *Matcher) language(c *Candidate) float64 {
	bits, f := &c.langBits, 1.0
	if !c.declLangs {
		bits, f = &c.hintLang, InferredLang
	}
	for i, l := range m.langs {
		if k := m.langIdx[i]; k >= 0 && bits[k/64]&(1<<(k%64)) != 0 ||
			k < 0 && c.declLangs && slices.Contains(c.langs, l) {
			if i == 0 {
				return LanguagePreferred * f
			}
			return LanguageOther * f
		}
	}
	return 0
}

// Proximity returns how near the hub is to the SME.
func (m *Matcher) Proximity(c *Candidate) Proximity {
	switch {
	case m.prox == nil:
		return ProximityUnknown
	case c.country < 0:
		return ProximityElsewhere
	}
	p := m.prox[c.country]
	if p == ProximityRegion {
		p, _ = m.nearestRegion(c)
	}
	return p
}

// nearestRegion returns how near the nearest of the hub's regions (declared, or
// failing those inferred) is to the SME's, and that region; ProximityCountry and ""
// when none is nearer than the country. A hub region that covers the SME's region
// counts as the same at the hub region's level: a hub for all of FI19 is in the same
// NUTS 2 region as an SME in FI193.
func (m *Matcher) nearestRegion(c *Candidate) (Proximity, string) {
	best, where := ProximityCountry, ""
	if m.region2 == "" {
		return best, where
	}
	for _, r := range c.regions {
		var p Proximity
		switch {
		case m.region3 != "" && strings.HasPrefix(r, m.region3):
			p = ProximityNUTS3
		case strings.HasPrefix(m.region2, r) || strings.HasPrefix(r, m.region2):
			p = ProximityRegion
		case m.region1 != "" && (strings.HasPrefix(r, m.region1) || strings.HasPrefix(m.region1, r)):
			p = ProximityNearby
		default:
			continue
		}
		if p > best {
			best, where = p, r
		}
	}
	return best, where
}

func (m *Matcher) distance(p Proximity) float64 {
	var v float64
	switch p {
	case ProximityNUTS3:
		v = DistanceNUTS3
	case ProximityRegion:
		v = DistanceRegion
	case ProximityNearby:
		v = DistanceNearby
	case ProximityCountry:
		v = DistanceCountry
	case ProximityNeighbour:
		v = DistanceNeighbour
	default:
		v = DistanceElsewhere
	}
	if m.region2 == "" {
		v /= DistanceCountry
	}
	return v
}

// hasWords reports whether every word of the query's text begins a word of the hub's
// ID, name, title or description.
func (m *Matcher) hasWords(c *Candidate) bool {
	for _, t := range m.tokens {
		if len(t) >= prefixLen {
			bit := prefixBit(t)
			if c.prefixes[bit/64]&(1<<(bit%64)) == 0 {
				return false // no word of the hub starts as t does
			}
		}
		n := len(c.ends)
		i := sort.Search(n, func(i int) bool { return c.word(i) >= t })
		if i == n || !strings.HasPrefix(c.word(i), t) {
			return false
		}
	}
	return true
}

// Ranked is a hub that passed the query's filters, with its score.
type Ranked struct {
	Candidate *Candidate
	Score     float64
	Free      int       // free places in the family asked for; -1 when not published or no family
	Proximity Proximity // how near the hub is to the SME
	Fresh     int       // Free when the capacity is not stale, else -1
	tie       uint64    // the candidate's tieKey
}

// Rank scores c and says whether it passes the filters.
func (m *Matcher) Rank(c *Candidate) (Ranked, bool) { return m.rank(c, false) }

// RankTextChecked is Rank for a caller that has checked, with an index of its own
// over Candidate.Words, that every one of Tokens begins a word of c.
func (m *Matcher) RankTextChecked(c *Candidate) (Ranked, bool) { return m.rank(c, true) }

// Tokens returns the folded words of the query's text. A hub matches the text when
// each of them begins one of its Words.
func (m *Matcher) Tokens() []string { return m.tokens }

// Words yields the hub's folded words (of its ID, name, title and description),
// sorted and distinct.
func (c *Candidate) Words() iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range c.ends {
			if !yield(c.word(i)) {
				return
			}
		}
	}
}

// word returns the i-th of the hub's words.
func (c *Candidate) word(i int) string {
	start := uint32(0)
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.text[start:c.ends[i]]
}

func (m *Matcher) rank(c *Candidate, textChecked bool) (Ranked, bool) {
	s, prox, ok := m.score(c, textChecked)
	if !ok {
		return Ranked{}, false
	}
	free, known := m.Free(c)
	if !known {
		free = -1
	}
	fresh := free
	if known && m.isStale(c) {
		fresh = -1
	}
	return Ranked{Candidate: c, Score: s, Free: free, Proximity: prox, Fresh: fresh, tie: c.tie}, true
}

// CompareRanked orders results best first: higher score; then nearer to the SME;
// then more free places in fresh capacity, then in any; then the hub whose profile
// declares more and guesses less (declared languages, then declared regions); then
// EDIH before Seal of Excellence before DIH; and last a hash of the hub's ID, so that
// equal hubs always come out in the same order without the alphabet favouring some.
func CompareRanked(a, b Ranked) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Proximity, a.Proximity); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Fresh, a.Fresh); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Free, a.Free); c != 0 {
		return c
	}
	if c := cmp.Compare(a.tie, b.tie); c != 0 {
		return c
	}
	return cmp.Compare(a.Candidate.Profile.ID, b.Candidate.Profile.ID)
}

// tieKey packs the last tie-breaks of CompareRanked into one number, smaller first,
// so that comparing two hubs reads neither their candidates nor their IDs: languages
// guessed (1) after declared (0), then regions inferred after declared, then the
// type's bit, then the hash of the ID.
func tieKey(c *Candidate) uint64 {
	var k uint64
	if !c.declLangs {
		k |= 1 << 41
	}
	if c.regionsInferred {
		k |= 1 << 40
	}
	return k | uint64(c.hubType)<<32 | uint64(idHash(c.Profile.ID))
}

// idHash is FNV-1a of a hub's ID: the last tie-break, stable and not alphabetical.
func idHash(id string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return h
}

// prefixLen is how many bytes of a word Candidate.prefixes hashes: a cheap first test
// that rejects most hubs before the binary search over their words.
const prefixLen = 3

// prefixBit returns the bit, 0 to 511, for the first prefixLen bytes of w.
func prefixBit(w string) uint32 {
	h := (uint32(w[0]) | uint32(w[1])<<8 | uint32(w[2])<<16) * 0x9e3779b1
	return h >> 23
}

// languageIndex numbers the ISO 639-1 languages, so a Candidate holds its languages
// as bits.
var languageIndex = func() map[string]int {
	m := make(map[string]int, len(languageNames))
	for i, code := range slices.Sorted(maps.Keys(languageNames)) {
		m[code] = i
	}
	if len(m) > 256 {
		panic("protocol: more languages than Candidate.langBits holds")
	}
	return m
}()

// packWords returns the words end to end in one string, and where each ends: a
// directory of 10,000 hubs then holds two objects of words per hub, neither of which
// the collector must look into, where a slice of strings would give it a million
// pointers to follow on every cycle.
func packWords(words []string) (string, []uint32) {
	n := 0
	for _, w := range words {
		n += len(w)
	}
	var b strings.Builder
	b.Grow(n)
	ends := make([]uint32, len(words))
	for i, w := range words {
		b.WriteString(w)
		ends[i] = uint32(b.Len())
	}
	return b.String(), ends
}

// appendWords appends the words of s, folded: lower case, common Latin accents
// removed, split at everything that is not a letter or a digit.
func appendWords(words []string, s string) []string {
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch f := foldRune(r); {
		case f == 0:
			flush()
		case f == 'ß':
			b.WriteString("ss")
		default:
			b.WriteRune(f)
		}
	}
	flush()
	return words
}
