package protocol

import "slices"

// Gate is what the cheapest filters of a query read of a hub, in 40 bytes. A directory
// keeps the gates of its hubs side by side in one array, prepared when a profile
// enters, and a GateIndex over them; a search admits hubs with Matcher.AdmitIndexed
// (or Matcher.AdmitAll, gate by gate) and scores only those. Most hubs are turned down
// without reading their candidate.
//
// Each set of bits keeps one bit always set (gateAlways) that a query which does not
// ask for that part sets in its mask too, so that every test is a plain AND.
type Gate struct {
	techs      uint64 // a bit per technology listed at a level above 0 or named in the description
	langs      uint64 // a bit per declared language, by languageIndex mod 63; all set when none are declared
	free       [numFamilies]int16
	services   uint16 // a bit per service offered at a level above 0
	country    int16  // index in Countries, -1 if unknown
	families   uint8
	published  uint8
	hubType    uint8
	categories uint8 // a bit per customer category served; all set when it serves all
}

// The bit of Gate.techs, Gate.langs and Gate.services that is always set.
const (
	gateAlways   = 1 << 63
	gateAlways16 = 1 << 15
	gateLangBits = 63 // languages fold onto the bits below gateAlways
	gateAllTypes = 0xff
	gateAllCateg = 0xff
	gateAllReach = ^uint64(0)
)

// Gate returns the hub's gate. It changes with the candidate's capacity: take it again
// from a candidate made by WithCapacity.
func (c *Candidate) Gate() Gate { return c.gate }

// setGate fills c.gate from the rest of the candidate.
func (c *Candidate) setGate() {
	g := Gate{
		techs: c.described | gateAlways, services: gateAlways16, free: c.free, country: c.country,
		families: c.families, published: c.published, hubType: c.hubType, categories: c.categories,
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
				g.langs |= 1 << (k % gateLangBits)
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
	if len(m.langIdx) > 0 && !slices.Contains(m.langIdx, -1) {
		g.langs = 0
		for _, k := range m.langIdx {
			g.langs |= 1 << (k % gateLangBits)
		}
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
