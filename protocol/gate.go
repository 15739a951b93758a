package protocol

import (
	"math"
	"slices"
)

// Gate is what the cheapest filters of a query read of a hub, and its technology
// levels, in 80 bytes. A directory keeps the gates of its hubs side by side in one
// array, prepared when a profile enters, and a GateIndex over them; a search admits
// hubs with Matcher.AdmitIndexed (or Matcher.AdmitAll, gate by gate) and scores only
// those. Most hubs are turned down without reading their candidate, and many of those
// admitted are set aside on Matcher.Ceiling, read from the gate alone.
//
// Each set of bits keeps one bit always set (gateAlways) that a query which does not
// ask for that part sets in its mask too, so that every test is a plain AND.
type Gate struct {
	techs      uint64 // a bit per technology listed at a level above 0 or named in the description
	langs      uint64 // a bit per declared language (gateLangBit); all set when none are declared
	free       [numFamilies]int16
	services   uint16 // a bit per service offered at a level above 0
	country    int16  // index in Countries, -1 if unknown
	families   uint8
	published  uint8
	hubType    uint8
	categories uint8 // a bit per customer category served; all set when it serves all
	tech       [numTechnologies]uint8
}

// The bit of Gate.techs, Gate.langs and Gate.services that is always set.
const (
	gateAlways    = 1 << 63
	gateAlways16  = 1 << 15
	gateLangOther = 62 // the bit shared by the languages without one of their own
	gateAllTypes  = 0xff
	gateAllCateg  = 0xff
	gateAllReach  = ^uint64(0)
)

// Gate returns the hub's gate. It changes with the candidate's capacity: take it again
// from a candidate made by WithCapacity.
func (c *Candidate) Gate() Gate { return c.gate }

// setGate fills c.gate from the rest of the candidate.
func (c *Candidate) setGate() {
	g := Gate{
		techs: c.described | gateAlways, services: gateAlways16, free: c.free, country: c.country,
		families: c.families, published: c.published, hubType: c.hubType, categories: c.categories,
		tech: c.tech,
	}
	for i, l := range c.tech {
		if l > 0 {
			g.techs |= 1 << i
		}
	}
	for i, l := range c.service {
		if l > 0 {
			g.services |= 1 << i
		}
	}
	if c.declLangs {
		g.langs = gateAlways
		for k := range len(c.langBits) * 64 {
			if c.langBits[k/64]&(1<<(k%64)) != 0 {
				g.langs |= 1 << gateLangBit[k]
			}
		}
	} else {
		g.langs = ^uint64(0) // a guess never excludes
	}
	if g.categories == 0 {
		g.categories = gateAllCateg
	}
	c.gate = g
}

// gateMasks are what a gate is compared with: a hub is admitted when each of its sets
// of bits shares one with the mask, it offers the family asked for, publishes at least
// MinCapacity free places in it, and its country is within reach.
type gateMasks struct {
	techs    uint64
	langs    uint64 // gateAlways too when a language of the SME is not in languageIndex: Score reads the hub's list
	sure     bool   // the gate alone tells whether a hub passes the language filter
	services uint16
	hubTypes uint8
	categ    uint8
	family   uint8     // the family's bit, 0 for none
	minFree  int16     // with family: the free places needed, in a published capacity; 0 for any
	famIndex int       // index of the family in Gate.free; 0 for none
	reach    [2]uint64 // a bit per country index + 1 within reach; vocab_test checks the countries fit
}

// prepareGate sets the masks from the prepared matcher. It runs last in NewMatcherAt.
func (m *Matcher) prepareGate() {
	g := gateMasks{
		techs: gateAlways, services: gateAlways16, langs: gateAlways,
		hubTypes: gateAllTypes, categ: gateAllCateg, reach: [2]uint64{gateAllReach, gateAllReach},
	}
	if len(m.tech) > 0 {
		g.techs = 0
		for _, i := range m.tech {
			g.techs |= 1 << i
		}
	}
	if len(m.service) > 0 {
		g.services = 0
		for _, i := range m.service {
			g.services |= 1 << i
		}
	}
	g.sure = true
	if len(m.langIdx) > 0 && !slices.Contains(m.langIdx, -1) {
		g.langs = 0
		for _, k := range m.langIdx {
			g.langs |= 1 << gateLangBit[k]
			g.sure = g.sure && gateLangBit[k] != gateLangOther
		}
	} else if len(m.langIdx) > 0 {
		g.sure = false
	}
	if m.types != 0 {
		g.hubTypes = m.types
	}
	if m.category != 0 {
		g.categ = m.category
	}
	if m.family >= 0 {
		g.family, g.famIndex, g.minFree = 1<<m.family, m.family, int16(m.q.MinCapacity)
	}
	if m.prox != nil && m.minProx > ProximityUnknown {
		g.reach = [2]uint64{}
		for i := -1; i < len(Countries); i++ {
			best := ProximityElsewhere
			if i >= 0 {
				best = m.prox[i]
				if best == ProximityRegion {
					best = ProximityNUTS3 // the SME's own country: its regions decide, in Score
				}
			}
			if best >= m.minProx {
				g.reach[(i+1)/64] |= 1 << ((i + 1) % 64)
			}
		}
	}
	m.gate = g
	m.prepareGroups()
}

// Admits reports whether the hub with this gate may pass the query's filters. It is
// false only for hubs that Score would turn down.
func (m *Matcher) Admits(g Gate) bool {
	var admitted [1]uint64
	m.AdmitAll([]Gate{g}, admitted[:])
	return admitted[0] != 0
}

// AdmitAll sets bit i of admitted (bit i%64 of word i/64) for each gates[i] that the
// query admits, and leaves the other bits as they are. admitted holds at least
// len(gates) bits. It costs a few nanoseconds a hub.
func (m *Matcher) AdmitAll(gates []Gate, admitted []uint64) {
	gm := m.gate // a copy, held in registers through the loop
	admitted = admitted[:(len(gates)+63)/64]
	for i := range gates {
		// Each test is a 0 or a 1, and all are ANDed: no branch for the processor to
		// guess wrong, which at one hub in two would cost more than the tests.
		g := &gates[i]
		c := int(g.country) + 1
		ok := isSet(g.techs&gm.techs) & isSet(uint64(g.services&gm.services)) & isSet(g.langs&gm.langs) &
			isSet(uint64(g.hubType&gm.hubTypes)) & isSet(uint64(g.categories&gm.categ)) &
			isZero(uint64(^g.families&gm.family)) &
			(isZero(uint64(gm.minFree)) | isSet(uint64(g.published&gm.family))&isTrue(g.free[gm.famIndex%numFamilies] >= gm.minFree)) &
			isSet(gm.reach[c/64&1]&(1<<(c%64)))
		admitted[i/64] |= ok << (i % 64)
	}
}

// isSet is 1 when x is not 0, else 0.
func isSet(x uint64) uint64 { return (x | -x) >> 63 }

// isZero is 1 when x is 0, else 0.
func isZero(x uint64) uint64 { return isSet(x) ^ 1 }

// isTrue is 1 when b is true, else 0.
func isTrue(b bool) uint64 {
	var x uint64
	if b {
		x = 1
	}
	return x
}

// gateLangBit is the bit of Gate.langs of each language, by languageIndex. The
// official languages of the vocabulary's countries, English among them, have a bit of
// their own, so that the gate tells for sure whether a hub declared one of them; all
// other languages share gateLangOther.
var gateLangBit = func() (bits [256]uint8) {
	var own []string
	for _, langs := range officialLanguages {
		own = append(own, langs...)
	}
	slices.Sort(own)
	own = slices.Compact(own)
	if len(own) > gateLangOther {
		panic("protocol: more official languages than Gate.langs has bits")
	}
	for i := range bits {
		bits[i] = gateLangOther
	}
	for i, l := range own {
		bits[languageIndex[l]] = uint8(i)
	}
	return bits
}()

// Ceiling returns the highest score that a hub admitted by its gate g can reach, and
// whether the gate alone shows that the hub passes every filter of the query but its
// text. A search that keeps the best results can set such a hub aside, counted but
// not scored, when the ceiling is below the worst result it keeps: the hub would not
// enter them. The ceiling counts each part the gate cannot tell at its best: every
// service wanted at the highest level, fresh capacity, the sector and the language at
// their best, and the hub's own country as the SME's NUTS 3 region. It sums the parts
// as Score does, so it is never below the score.
func (m *Matcher) Ceiling(g *Gate) (float64, bool) {
	sure := m.gate.sure && (m.minProx <= ProximityCountry || g.country != m.country)
	var total float64
	if len(m.tech) > 0 {
		cov := coverage(g.tech[:], m.tech)
		if cov == 0 {
			// A hub with no wanted technology listed is admitted only for those its
			// description names, and the gate holds those among its technologies.
			cov = m.describedCoverage(g.techs)
		}
		total += WeightTechnology * cov
	}
	if len(m.service) > 0 {
		total += WeightService
	}
	if m.family >= 0 {
		total += WeightCapacity * (float64(min(int(g.free[m.family]), CapacityFull)) / CapacityFull)
	}
	if m.section >= 0 {
		total += WeightSector
	}
	if len(m.langs) > 0 {
		total += WeightLanguage * LanguagePreferred
	}
	if m.prox != nil {
		p := ProximityElsewhere
		if g.country >= 0 {
			p = m.prox[g.country]
		}
		if p == ProximityRegion {
			p = ProximityNUTS3 // the SME's own country: its regions decide, in Score
		}
		total += WeightDistance * m.distance(p)
	}
	if m.weights == 0 {
		return 0, sure
	}
	return math.Round(10000*total/float64(m.weights)) / 100, sure
}
