package console

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hubnet-eu/hubnet/protocol"
)

// The region boxes of the search and referral forms take what an advisor knows of
// where an SME is: a NUTS code in any case, the name of a NUTS region
// ("Keski-Suomi", "Miasto Kraków", "München"), or the name of a town
// ("Jyväskylä", "Lyon", "Munich"), which webTowns places in its NUTS 3 region.
// Names match without regard to case or accents.

// webTowns are towns whose names are not the names of their NUTS 3 regions, and
// English names of towns whose regions are named in their own language: a few of
// the larger towns of each country, enough for the common cases. Region is the
// NUTS 2021 name of the region, which TestWebTowns holds to the code.
var webTowns = []struct{ Town, Code, Region string }{
	// Finland
	{"Jyväskylä", "FI193", "Keski-Suomi"},
	{"Tampere", "FI197", "Pirkanmaa"},
	{"Turku", "FI1C1", "Varsinais-Suomi"},
	{"Oulu", "FI1D9", "Pohjois-Pohjanmaa"},
	{"Helsinki", "FI1B1", "Helsinki-Uusimaa"},
	{"Espoo", "FI1B1", "Helsinki-Uusimaa"},
	{"Vantaa", "FI1B1", "Helsinki-Uusimaa"},
	{"Kuopio", "FI1D2", "Pohjois-Savo"},
	{"Lahti", "FI1C3", "Päijät-Häme"},
	{"Joensuu", "FI1D3", "Pohjois-Karjala"},
	{"Vaasa", "FI195", "Pohjanmaa"},
	{"Seinäjoki", "FI194", "Etelä-Pohjanmaa"},
	{"Pori", "FI196", "Satakunta"},
	{"Rovaniemi", "FI1D7", "Lappi"},
	{"Hämeenlinna", "FI1C2", "Kanta-Häme"},
	{"Kouvola", "FI1C4", "Kymenlaakso"},
	{"Lappeenranta", "FI1C5", "Etelä-Karjala"},
	{"Mikkeli", "FI1D1", "Etelä-Savo"},
	{"Kajaani", "FI1D8", "Kainuu"},
	{"Kokkola", "FI1D5", "Keski-Pohjanmaa"},
	// France
	{"Lyon", "FRK26", "Rhône"},
	{"Marseille", "FRL04", "Bouches-du-Rhône"},
	{"Toulouse", "FRJ23", "Haute-Garonne"},
	{"Nice", "FRL03", "Alpes-Maritimes"},
	{"Nantes", "FRG01", "Loire-Atlantique"},
	{"Strasbourg", "FRF11", "Bas-Rhin"},
	{"Bordeaux", "FRI12", "Gironde"},
	{"Lille", "FRE11", "Nord"},
	{"Rennes", "FRH03", "Ille-et-Vilaine"},
	{"Montpellier", "FRJ13", "Hérault"},
	{"Grenoble", "FRK24", "Isère"},
	// Germany, Austria, Switzerland
	{"Munich", "DE212", "München, Kreisfreie Stadt"},
	{"Cologne", "DEA23", "Köln, Kreisfreie Stadt"},
	{"Frankfurt", "DE712", "Frankfurt am Main, Kreisfreie Stadt"},
	{"Vienna", "AT130", "Wien"},
	{"Geneva", "CH013", "Genève"},
	{"Zurich", "CH040", "Zürich"},
	// Italy
	{"Rome", "ITI43", "Roma"},
	{"Milan", "ITC4C", "Milano"},
	{"Turin", "ITC11", "Torino"},
	{"Naples", "ITF33", "Napoli"},
	{"Florence", "ITI14", "Firenze"},
	{"Venice", "ITH35", "Venezia"},
	{"Genoa", "ITC33", "Genova"},
	// Spain, Portugal
	{"Seville", "ES618", "Sevilla"},
	{"Bilbao", "ES213", "Bizkaia"},
	{"Lisbon", "PT170", "Área Metropolitana de Lisboa"},
	{"Lisboa", "PT170", "Área Metropolitana de Lisboa"},
	{"Porto", "PT11A", "Área Metropolitana do Porto"},
	// Poland
	{"Warsaw", "PL911", "Miasto Warszawa"},
	{"Cracow", "PL213", "Miasto Kraków"},
	{"Gdańsk", "PL633", "Trójmiejski"},
	{"Gdynia", "PL633", "Trójmiejski"},
	// Elsewhere
	{"Brussels", "BE100", "Arr. de Bruxelles-Capitale/Arr. Brussel-Hoofdstad"},
	{"Bruxelles", "BE100", "Arr. de Bruxelles-Capitale/Arr. Brussel-Hoofdstad"},
	{"Brussel", "BE100", "Arr. de Bruxelles-Capitale/Arr. Brussel-Hoofdstad"},
	{"Prague", "CZ010", "Hlavní město Praha"},
	{"Praha", "CZ010", "Hlavní město Praha"},
	{"Copenhagen", "DK011", "Byen København"},
	{"København", "DK011", "Byen København"},
	{"Athens", "EL303", "Kentrikos Tomeas Athinon"},
	{"Tallinn", "EE001", "Põhja-Eesti"},
	{"Riga", "LV006", "Rīga"},
	{"Vilnius", "LT011", "Vilniaus apskritis"},
	{"Bucharest", "RO321", "Bucureşti"},
	{"Sofia", "BG411", "Sofia (stolitsa)"},
	{"Zagreb", "HR050", "Grad Zagreb"},
	{"Amsterdam", "NL329", "Groot-Amsterdam"},
	{"Rotterdam", "NL33C", "Groot-Rijnmond"},
	{"Eindhoven", "NL414", "Zuidoost-Noord-Brabant"},
	{"Nicosia", "CY000", "Kýpros"},
	{"Valletta", "MT001", "Malta"},
}

// regionNoise are words of NUTS names that a person leaves out: "Miasto Kraków" is
// Kraków, "München, Kreisfreie Stadt" is München.
var regionNoise = regexp.MustCompile(`^(miasto|grad|arr\.? de|arr\.?|prov\.?|provincia de|provincia di) |, (kreisfreie stadt|stadtkreis|landkreis|kreis|stadt)$`)

// webPlace is one name a region box understands.
type webPlace struct {
	Name   string // as written: the town or the region's name
	Region protocol.Region
	Town   bool
	rank   int // which of several places of one name wins: lower first
}

// webPlaces indexes the names the region boxes understand, by folded name.
var webPlaces = sync.OnceValue(func() map[string][]webPlace {
	m := map[string][]webPlace{}
	add := func(name string, p webPlace) {
		k := foldName(name)
		if k == "" {
			return
		}
		if slices.ContainsFunc(m[k], func(q webPlace) bool { return q.Region.Code == p.Region.Code }) {
			return
		}
		m[k] = append(m[k], p)
	}
	for _, c := range protocol.Countries {
		for level := 3; level >= 1; level-- {
			for _, r := range protocol.RegionsOf(c.Code, level) {
				// A NUTS 3 region first; a town's own region (Kreisfreie Stadt, Miasto)
				// before the district around it.
				rank := 3 - level
				lower := strings.ToLower(r.Name)
				if strings.Contains(lower, "landkreis") || strings.HasSuffix(lower, ", kreis") {
					rank++
				}
				p := webPlace{Name: r.Name, Region: r, rank: rank}
				add(r.Name, p)
				for part := range strings.SplitSeq(r.Name, "/") {
					part = strings.TrimSpace(part)
					add(part, p)
					add(regionNoise.ReplaceAllString(strings.ToLower(part), ""), p)
				}
			}
		}
	}
	for _, t := range webTowns {
		if r, ok := protocol.RegionByCode(t.Code); ok {
			k := foldName(t.Town)
			// A town is what a person means by its name, before a region of the same name.
			m[k] = slices.Insert(m[k], 0, webPlace{Name: t.Town, Region: r, Town: true, rank: -1})
		}
	}
	for k, ps := range m {
		slices.SortStableFunc(ps, func(a, b webPlace) int { return cmp.Compare(a.rank, b.rank) })
		m[k] = ps
	}
	return m
})

// foldName is a name as the region boxes compare it: lower case, without accents,
// punctuation or the words of regionNoise.
func foldName(s string) string {
	return strings.Join(protocol.FoldWords(s), " ")
}

// regionInParens reads a suggestion picked from the list, "Keski-Suomi (FI193)".
var regionInParens = regexp.MustCompile(`\(([A-Za-z]{2}[0-9A-Za-z]{0,3})\)\s*$`)

// webRegionAnswer is what a region box's text names.
type webRegionAnswer struct {
	Code        string            // the NUTS code; "" when the text names none
	Place       *webPlace         // the place the text named, when it was a name
	Suggestions []protocol.Region // near names, or the NUTS 3 regions of a larger region
}

// resolveRegion reads a region box: a NUTS code in any case, a suggestion picked
// from the list, or a name. A name of several regions gives the first by
// webPlace.rank: the town, then the NUTS 3 region.
func resolveRegion(text string) webRegionAnswer {
	s := strings.TrimSpace(text)
	if s == "" {
		return webRegionAnswer{}
	}
	if m := regionInParens.FindStringSubmatch(s); m != nil {
		if _, ok := protocol.RegionByCode(strings.ToUpper(m[1])); ok {
			return webRegionAnswer{Code: strings.ToUpper(m[1])}
		}
	}
	if _, ok := protocol.RegionByCode(strings.ToUpper(s)); ok {
		return webRegionAnswer{Code: strings.ToUpper(s)}
	}
	k := foldName(s)
	if ps := webPlaces()[k]; len(ps) > 0 {
		p := ps[0]
		return webRegionAnswer{Code: p.Region.Code, Place: &p}
	}
	if k2 := foldName(regionNoise.ReplaceAllString(strings.ToLower(s), "")); k2 != k {
		if ps := webPlaces()[k2]; len(ps) > 0 {
			p := ps[0]
			return webRegionAnswer{Code: p.Region.Code, Place: &p}
		}
	}
	return webRegionAnswer{Suggestions: nearPlaces(k, 5)}
}

// nearPlaces returns at most n regions whose names begin with k or are a few
// letters from it, nearest first.
func nearPlaces(k string, n int) []protocol.Region {
	if k == "" {
		return nil
	}
	type near struct {
		r    protocol.Region
		dist int
		name string
	}
	var found []near
	limit := max(2, len([]rune(k))/4)
	for name, ps := range webPlaces() {
		d := editDistance(k, name, limit)
		if strings.HasPrefix(name, k) && len(k) >= 3 {
			d = min(d, 1)
		}
		if d <= limit {
			found = append(found, near{ps[0].Region, d, name})
		}
	}
	slices.SortFunc(found, func(a, b near) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.r.Level, b.r.Level)*-1, strings.Compare(a.name, b.name))
	})
	var out []protocol.Region
	for _, f := range found {
		if !slices.ContainsFunc(out, func(r protocol.Region) bool { return r.Code == f.r.Code }) {
			out = append(out, f.r)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// editDistance is the Levenshtein distance of a and b in runes, or limit+1 when it
// is larger than limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// nuts3Of returns the NUTS 3 regions inside the region code, for a person who named
// a larger one.
func nuts3Of(code string) []protocol.Region {
	var out []protocol.Region
	for _, r := range protocol.RegionsOf(protocol.RegionCountry(code), 3) {
		if strings.HasPrefix(r.Code, code) {
			out = append(out, r)
		}
	}
	return out
}

// regionProblem reads the region box field as typed in lang and returns the NUTS
// code it names, or "" and the problem to show next to the box. nuts3 asks for a
// NUTS 3 region, as a referral's need does; else any level will do.
func regionProblem(l *webLang, text string, nuts3 bool) (string, string) {
	a := resolveRegion(text)
	if a.Code == "" {
		msg := l.T("No NUTS region or town is called %q.", strings.TrimSpace(text))
		if len(a.Suggestions) > 0 {
			msg += " " + l.T("Did you mean %s?", regionList(l, a.Suggestions))
		}
		return "", msg + " " + l.T("Type a NUTS code such as FI193, or the name of a region or a town.")
	}
	r, _ := protocol.RegionByCode(a.Code)
	if nuts3 && r.Level != 3 {
		msg := l.T("%s (%s) is a NUTS %d region; the SME's region must be a NUTS 3 region.", r.Name, r.Code, r.Level)
		if in := nuts3Of(r.Code); len(in) > 0 && len(in) <= 12 {
			msg += " " + l.T("Choose one of: %s.", regionList(l, in))
		}
		return "", msg
	}
	return a.Code, ""
}

// regionList writes regions as "Keski-Suomi (FI193), Pirkanmaa (FI197)".
func regionList(l *webLang, rs []protocol.Region) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Name + " (" + r.Code + ")"
	}
	return strings.Join(parts, ", ")
}

// regionChoices are the NUTS 3 regions of country, for the region boxes' list of
// suggestions: "Keski-Suomi (FI193)".
func regionChoices(country string) []string {
	rs := protocol.RegionsOf(country, 3)
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name + " (" + r.Code + ")"
	}
	return out
}
