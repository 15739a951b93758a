package protocol

import "slices"

// Country is a country with its Eurostat code, which is the ISO 3166 alpha-2 code
// except for Greece ("EL") and the United Kingdom ("UK"), and "XK" for Kosovo. Name is
// the English name as the EDIH catalogue writes it.
type Country struct {
	Code string
	Name string
}

// Countries lists, by code, the 38 countries of the EDIH catalogue and the two more
// with NUTS 2021 regions (Switzerland, the United Kingdom).
var Countries = []Country{
	{"AL", "Albania"},
	{"AT", "Austria"},
	{"BA", "Bosnia and Herzegovina"},
	{"BE", "Belgium"},
	{"BG", "Bulgaria"},
	{"CH", "Switzerland"},
	{"CY", "Cyprus"},
	{"CZ", "Czechia"},
	{"DE", "Germany"},
	{"DK", "Denmark"},
	{"EE", "Estonia"},
	{"EL", "Greece"},
	{"ES", "Spain"},
	{"FI", "Finland"},
	{"FR", "France"},
	{"HR", "Croatia"},
	{"HU", "Hungary"},
	{"IE", "Ireland"},
	{"IS", "Iceland"},
	{"IT", "Italy"},
	{"LI", "Liechtenstein"},
	{"LT", "Lithuania"},
	{"LU", "Luxembourg"},
	{"LV", "Latvia"},
	{"ME", "Montenegro"},
	{"MK", "North Macedonia"},
	{"MT", "Malta"},
	{"NL", "Netherlands"},
	{"NO", "Norway"},
	{"PL", "Poland"},
	{"PT", "Portugal"},
	{"RO", "Romania"},
	{"RS", "Serbia"},
	{"SE", "Sweden"},
	{"SI", "Slovenia"},
	{"SK", "Slovakia"},
	{"TR", "Türkiye"},
	{"UA", "Ukraine"},
	{"UK", "United Kingdom"},
	{"XK", "Kosovo"},
}

// countryAliases are other English names people write for a country.
var countryAliases = map[string]string{
	"bosnia & herzegovina":        "BA",
	"bosnia-herzegovina":          "BA",
	"czech republic":              "CZ",
	"great britain":               "UK",
	"hellas":                      "EL",
	"republic of north macedonia": "MK",
	"slovak republic":             "SK",
	"the netherlands":             "NL",
	"turkey":                      "TR",
	"turkiye":                     "TR",
}

var (
	countryByCode = indexBy(Countries, func(c Country) string { return c.Code })
	countryByName = func() map[string]Country {
		m := indexBy(Countries, func(c Country) string { return labelKey(c.Name) })
		for alias, code := range countryAliases {
			m[alias] = countryByCode[code]
		}
		return m
	}()
)

// CountryByCode returns the country with the given Eurostat code, such as "EL" for
// Greece. Codes are exact upper case.
func CountryByCode(code string) (Country, bool) {
	c, ok := countryByCode[code]
	return c, ok
}

// CountryByName returns the country with the given English name as the catalogue
// writes it ("Czechia", "Türkiye"), or a common variant ("Czech Republic", "Turkey"),
// ignoring case and surrounding spaces.
func CountryByName(name string) (Country, bool) {
	c, ok := countryByName[labelKey(name)]
	return c, ok
}

// borders are the pairs of Countries that share a land border or a fixed link (the
// Øresund bridge between Denmark and Sweden, the Channel Tunnel between France and the
// United Kingdom). Borders with countries outside Countries are left out.
var borders = [][2]string{
	{"AL", "EL"}, {"AL", "ME"}, {"AL", "MK"}, {"AL", "XK"},
	{"AT", "CH"}, {"AT", "CZ"}, {"AT", "DE"}, {"AT", "HU"}, {"AT", "IT"}, {"AT", "LI"}, {"AT", "SI"}, {"AT", "SK"},
	{"BA", "HR"}, {"BA", "ME"}, {"BA", "RS"},
	{"BE", "DE"}, {"BE", "FR"}, {"BE", "LU"}, {"BE", "NL"},
	{"BG", "EL"}, {"BG", "MK"}, {"BG", "RO"}, {"BG", "RS"}, {"BG", "TR"},
	{"CH", "DE"}, {"CH", "FR"}, {"CH", "IT"}, {"CH", "LI"},
	{"CZ", "DE"}, {"CZ", "PL"}, {"CZ", "SK"},
	{"DE", "DK"}, {"DE", "FR"}, {"DE", "LU"}, {"DE", "NL"}, {"DE", "PL"},
	{"DK", "SE"},
	{"EE", "LV"},
	{"EL", "MK"}, {"EL", "TR"},
	{"ES", "FR"}, {"ES", "PT"},
	{"FI", "NO"}, {"FI", "SE"},
	{"FR", "IT"}, {"FR", "LU"}, {"FR", "UK"},
	{"HR", "HU"}, {"HR", "ME"}, {"HR", "RS"}, {"HR", "SI"},
	{"HU", "RO"}, {"HU", "RS"}, {"HU", "SI"}, {"HU", "SK"}, {"HU", "UA"},
	{"IE", "UK"},
	{"IT", "SI"},
	{"LT", "LV"}, {"LT", "PL"},
	{"ME", "RS"}, {"ME", "XK"},
	{"MK", "RS"}, {"MK", "XK"},
	{"NO", "SE"},
	{"PL", "SK"}, {"PL", "UA"},
	{"RO", "RS"}, {"RO", "UA"},
	{"RS", "XK"},
	{"SK", "UA"},
}

var neighbours = func() map[string][]string {
	m := map[string][]string{}
	for _, b := range borders {
		m[b[0]] = append(m[b[0]], b[1])
		m[b[1]] = append(m[b[1]], b[0])
	}
	for _, ns := range m {
		slices.Sort(ns)
	}
	return m
}()

// Neighbours returns, sorted, the codes of the Countries that share a land border or a
// fixed link with the country code; nil for an island state or an unknown code.
func Neighbours(code string) []string { return slices.Clone(neighbours[code]) }

// AreNeighbours reports whether the countries a and b share a land border or a fixed
// link.
func AreNeighbours(a, b string) bool { return slices.Contains(neighbours[a], b) }

// Region is a NUTS 2021 region. Level is len(Code)-2: 0 is the country itself, 1 to 3
// are ever smaller regions. Name is Eurostat's name in Latin script, in the
// country's language(s).
type Region struct {
	Code  string
	Name  string
	Level int
}

type countryLevel struct {
	country string
	level   int
}

var (
	regionByCode = indexBy(nutsRegions, func(r Region) string { return r.Code })
	regionsOf    = func() map[countryLevel][]Region {
		m := map[countryLevel][]Region{}
		for _, r := range nutsRegions {
			k := countryLevel{RegionCountry(r.Code), r.Level}
			m[k] = append(m[k], r)
		}
		return m
	}()
)

// RegionByCode returns the NUTS 2021 region with the given code, such as "FI1C1".
// Codes are exact upper case.
func RegionByCode(code string) (Region, bool) {
	r, ok := regionByCode[code]
	return r, ok
}

// RegionCountry returns the country code of a NUTS code: its first two letters, or ""
// if code is shorter.
func RegionCountry(code string) string {
	if len(code) < 2 {
		return ""
	}
	return code[:2]
}

// RegionParent returns the code of the region at the given level that contains the
// region code, such as "FI1C" for RegionParent("FI1C1", 2); code itself at its own
// level, and "" if code is shorter than level asks or level is negative.
func RegionParent(code string, level int) string {
	if level < 0 || len(code) < level+2 {
		return ""
	}
	return code[:level+2]
}

// RegionsOf returns, sorted by code, the NUTS 2021 regions of country at level, in a
// new slice; nil if there are none.
func RegionsOf(country string, level int) []Region {
	return slices.Clone(regionsOf[countryLevel{country, level}])
}
