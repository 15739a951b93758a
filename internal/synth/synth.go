package synth

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Profile returns a valid profile for hub id, in Finland: a name, a type, a region,
// two languages, one technology and capacity in test-before-invest.
func Profile(id string) protocol.Profile {
	return protocol.Profile{
		ID:           id,
		Name:         "Hub " + id,
		Type:         protocol.HubEDIH,
		Country:      "FI",
		Regions:      []string{"FI1C"},
		Languages:    []string{"fi", "en"},
		Contact:      protocol.Contact{Role: "SME desk"},
		Technologies: map[string]int{"ai-decision-support": 4},
		Capacity: map[protocol.Family]protocol.Capacity{
			protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 5, Unit: "SMEs per month"},
		},
	}
}

// descriptionWords are words hubs use to describe themselves; synthetic descriptions
// draw from them and from made-up words, so that text search sees a realistic mix
// of common and rare words.
var descriptionWords = strings.Fields(`digital innovation hub manufacturing industry robotics automation
artificial intelligence data cloud cybersecurity skills training testing prototyping pilot
factory food agriculture health care energy mobility logistics maritime textile wood metal
region regional university research centre laboratory cluster network sme smes companies
public sector administration transformation maturity assessment investment finance funding
sustainable green circular economy blockchain simulation twin sensors vision photonics
quantum computing supercomputing internet things connectivity 5g edge platform software
design creative media tourism construction chemistry biotechnology pharma medical devices
services support consortium partners experts infrastructure facilities demonstrators
experimentation ecosystem startups entrepreneurs innovation vouchers workshops courses`)

// Profiles returns n valid profiles made from seed: the same seed gives the same
// profiles. They spread over every country of the vocabulary, with NUTS 2 regions,
// specialisations, capacity and descriptions of realistic size, for benchmarks and
// tests of search over a large directory.
func Profiles(n int, seed uint64) []protocol.Profile {
	r := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(k int) int { return r.IntN(k) }
	level := func() int { return 1 + pick(protocol.MaxLevel) }
	made := make([]string, 400)
	for i := range made {
		made[i] = syllables(r, 2+pick(3))
	}
	families := []protocol.Family{protocol.FamilyTestBeforeInvest, protocol.FamilySkills,
		protocol.FamilyInvestment, protocol.FamilyEcosystem, protocol.FamilyMaturity}
	types := []protocol.HubType{protocol.HubEDIH, protocol.HubSoE, protocol.HubDIH}
	langs := []string{"en", "de", "fr", "es", "it", "pl", "fi", "sv", "pt", "nl", "el", "cs", "ro", "hu"}
	sections := protocol.Sections()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

	out := make([]protocol.Profile, n)
	for i := range out {
		c := protocol.Countries[pick(len(protocol.Countries))]
		p := protocol.Profile{
			ID:           fmt.Sprintf("synthetic-%05d", i),
			Name:         fmt.Sprintf("%s %s Hub", strings.ToUpper(made[pick(len(made))][:1])+made[pick(len(made))][1:], c.Name),
			Type:         types[pick(len(types))],
			Country:      c.Code,
			Languages:    []string{"en"},
			Technologies: map[string]int{},
			Services:     map[string]int{},
			Sectors:      map[string]int{},
			Capacity:     map[protocol.Family]protocol.Capacity{},
		}
		if regions := protocol.RegionsOf(c.Code, 2); len(regions) > 0 {
			for range 1 + pick(2) {
				code := regions[pick(len(regions))].Code
				if len(p.Regions) == 0 || p.Regions[0] != code {
					p.Regions = append(p.Regions, code)
				}
			}
		}
		if l := langs[pick(len(langs))]; l != "en" {
			p.Languages = append([]string{l}, p.Languages...)
		}
		for range 4 + pick(12) {
			p.Technologies[protocol.Technologies[pick(len(protocol.Technologies))].Slug] = level()
		}
		for range 2 + pick(8) {
			p.Services[protocol.Services[pick(len(protocol.Services))].Slug] = level()
		}
		for range 2 + pick(8) {
			s := sections[pick(len(sections))]
			p.Sectors[s.Code] = level()
		}
		for range 1 + pick(3) {
			maxi := 2 + pick(20)
			p.Capacity[families[pick(len(families))]] = protocol.Capacity{
				Available: pick(maxi + 1), Maximum: maxi, Unit: "SMEs per month", Updated: now}
		}
		var d strings.Builder
		for w := range 40 + pick(120) {
			if w > 0 {
				d.WriteByte(' ')
			}
			if pick(4) == 0 {
				d.WriteString(made[pick(len(made))])
			} else {
				d.WriteString(descriptionWords[pick(len(descriptionWords))])
			}
		}
		p.Description = d.String()
		p.Revision, p.Updated = 1, now
		out[i] = p
	}
	return out
}

func syllables(r *mrand.Rand, n int) string {
	const cons, vows = "bcdfghklmnprstvz", "aeiou"
	var b strings.Builder
	for range n {
		b.WriteByte(cons[r.IntN(len(cons))])
		b.WriteByte(vows[r.IntN(len(vows))])
	}
	return b.String()
}

// FillDirectory stores the profiles in the directory of the hub whose data directory
// is dir, each signed by a fresh identity, as if fetched from their hubs. The hub
// must not be running. It skips fsync: the data is for a benchmark or a test.
func FillDirectory(dir string, profiles []protocol.Profile) error {
	s, err := store.Open(filepath.Join(dir, node.StoreFile), &store.Options{NoSync: true})
	if err != nil {
		return fmt.Errorf("open store of %s: %w", dir, err)
	}
	defer s.Close()
	now := time.Now()
	for _, p := range profiles {
		id, err := protocol.NewIdentity(p.ID, rand.Reader)
		if err != nil {
			return fmt.Errorf("identity of %s: %w", p.ID, err)
		}
		env, err := protocol.SignProfile(id, p, now)
		if err != nil {
			return fmt.Errorf("sign %s: %w", p.ID, err)
		}
		if err := s.PutHub(store.Hub{Profile: p, Envelope: env, LastSeen: now, Fetched: now}); err != nil {
			return fmt.Errorf("store %s: %w", p.ID, err)
		}
	}
	return nil
}

// Queries returns n queries made from seed, as advisors would ask them: one
// to three technologies, often a family (sometimes with a minimum of free places),
// often the SME's region with a reach, sometimes languages, a sector, or the first
// letters of a word of the descriptions.
func Queries(n int, seed uint64) []protocol.Query {
	r := mrand.New(mrand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	pick := func(k int) int { return r.IntN(k) }
	reaches := []protocol.Reach{protocol.ReachRegion, protocol.ReachCountry, protocol.ReachNeighbours, protocol.ReachAnywhere}
	out := make([]protocol.Query, n)
	for i := range out {
		var q protocol.Query
		for range 1 + pick(3) {
			slug := protocol.Technologies[pick(len(protocol.Technologies))].Slug
			if !slices.Contains(q.Technologies, slug) {
				q.Technologies = append(q.Technologies, slug)
			}
		}
		if pick(3) > 0 {
			q.Family = protocol.Families[pick(len(protocol.Families))].Slug
			if pick(2) == 0 {
				q.MinCapacity = 1 + pick(3)
			}
		}
		if pick(3) > 0 {
			c := protocol.Countries[pick(len(protocol.Countries))].Code
			if regions := protocol.RegionsOf(c, 3); len(regions) > 0 {
				q.Region = regions[pick(len(regions))].Code
				q.Reach = reaches[pick(len(reaches))]
			}
		}
		if pick(3) == 0 {
			q.Languages = []string{"en"}
		}
		if pick(4) == 0 {
			q.Sector = protocol.Sections()[pick(21)].Code
		}
		if pick(4) == 0 {
			w := descriptionWords[pick(len(descriptionWords))]
			q.Text = w[:min(len(w), 3+pick(4))]
		}
		out[i] = q
	}
	return out
}
