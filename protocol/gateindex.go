package protocol

import "math/bits"

// GateIndex turns a list of gates around: for each bit of each of the gates' sets
// (a technology, a language, a country, ...) a bitmap of the gates that have it. A
// query then admits hubs word by word, 64 at a time, by ORing the bitmaps of what it
// accepts in each set and ANDing the sets, instead of reading every gate: over 10,000
// hubs that is a few thousand operations. Build it with NewGateIndex when the list
// changes; it is read-only and safe for concurrent use.
type GateIndex struct {
	gates []Gate
	words int
	bits  [gateFeatures][]uint64 // nil when no gate has the feature
}

// The features of a gate: the bits of its sets, each set from its offset.
const (
	featTechs     = 0
	featLangs     = featTechs + 64
	featServices  = featLangs + 64
	featHubType   = featServices + 16
	featCateg     = featHubType + 8
	featFamilies  = featCateg + 8
	featCountries = featFamilies + 8 // country index + 1, as in gateMasks.reach
	gateFeatures  = featCountries + 128
)

// NewGateIndex indexes the gates. The index keeps gates, which must not change.
func NewGateIndex(gates []Gate) *GateIndex {
	x := &GateIndex{gates: gates, words: (len(gates) + 63) / 64}
	set := func(f, i int) {
		if x.bits[f] == nil {
			x.bits[f] = make([]uint64, x.words)
		}
		x.bits[f][i/64] |= 1 << (i % 64)
	}
	each := func(v uint64, off, i int) {
		for ; v != 0; v &= v - 1 {
			set(off+bits.TrailingZeros64(v), i)
		}
	}
	for i := range gates {
		g := &gates[i]
		each(g.techs, featTechs, i)
		each(g.langs, featLangs, i)
		each(uint64(g.services), featServices, i)
		each(uint64(g.hubType), featHubType, i)
		each(uint64(g.categories), featCateg, i)
		each(uint64(g.families), featFamilies, i)
		set(featCountries+int(g.country)+1, i)
	}
	return x
}

// Len returns the number of gates indexed.
func (x *GateIndex) Len() int { return len(x.gates) }

// prepareGroups sets m.groups from m.gate: for each set the query checks, the
// features of which a hub must have one.
func (m *Matcher) prepareGroups() {
	gm := &m.gate
	var groups [][]int
	add := func(mask uint64, off int, always uint64) {
		if mask&always != 0 {
			return // the query does not check this set
		}
		var g []int
		for ; mask != 0; mask &= mask - 1 {
			g = append(g, off+bits.TrailingZeros64(mask))
		}
		groups = append(groups, g)
	}
	add(gm.techs, featTechs, gateAlways)
	add(gm.langs, featLangs, gateAlways)
	add(uint64(gm.services), featServices, gateAlways16)
	add(uint64(gm.hubTypes), featHubType, 1<<7)
	add(uint64(gm.categ), featCateg, 1<<7)
	if gm.family != 0 {
		add(uint64(gm.family), featFamilies, 0)
	}
	if gm.reach != [2]uint64{gateAllReach, gateAllReach} {
		add(gm.reach[0], featCountries, 0)
		g := groups[len(groups)-1]
		for v := gm.reach[1]; v != 0; v &= v - 1 {
			g = append(g, featCountries+64+bits.TrailingZeros64(v))
		}
		groups[len(groups)-1] = g
	}
	m.groups = groups
}

// AdmitIndexed is AdmitAll over the gates of x, read through its bitmaps: it sets the
// same bits of admitted, which holds at least x.Len() bits.
func (m *Matcher) AdmitIndexed(x *GateIndex, admitted []uint64) {
	n := len(x.gates)
	admitted = admitted[:x.words]
	gm := &m.gate
	for w := range admitted {
		v := ^uint64(0)
		for _, g := range m.groups {
			var any uint64
			for _, f := range g {
				if b := x.bits[f]; b != nil {
					any |= b[w]
				}
			}
			v &= any
		}
		if w == x.words-1 && n%64 != 0 {
			v &= 1<<(n%64) - 1
		}
		if gm.minFree > 0 {
			// Free places are a number, not a set: checked on the gates left.
			for set := v; set != 0; set &= set - 1 {
				k := bits.TrailingZeros64(set)
				g := &x.gates[w*64+k]
				if g.published&gm.family == 0 || g.free[gm.famIndex] < gm.minFree {
					v &^= 1 << k
				}
			}
		}
		admitted[w] |= v
	}
}
