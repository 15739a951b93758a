package protocol

import "slices"

// officialLanguages maps the code of every country in [Countries] to its official
// national languages, as ISO 639-1 codes (BCP 47 primary subtags), the language of
// the majority or the constitution's first language first. Regional co-official
// languages (Catalan, Basque and Galician in Spain, Frisian in the Netherlands, Sami
// in Norway, Sweden and Finland) are left out: they are official in a region, not in
// the whole country.
var officialLanguages = map[string][]string{
	"AL": {"sq"},
	"AT": {"de"},
	"BA": {"bs", "hr", "sr"},
	"BE": {"nl", "fr", "de"},
	"BG": {"bg"},
	"CH": {"de", "fr", "it"}, // the federal official languages; Romansh only towards its speakers
	"CY": {"el", "tr"},
	"CZ": {"cs"},
	"DE": {"de"},
	"DK": {"da"},
	"EE": {"et"},
	"EL": {"el"},
	"ES": {"es"},
	"FI": {"fi", "sv"},
	"FR": {"fr"},
	"HR": {"hr"},
	"HU": {"hu"},
	"IE": {"en", "ga"},
	"IS": {"is"},
	"IT": {"it"},
	"LI": {"de"},
	"LT": {"lt"},
	"LU": {"lb", "fr", "de"},
	"LV": {"lv"},
	"ME": {"sr"}, // Montenegrin has no ISO 639-1 code; Serbian is the nearest that has one
	"MK": {"mk", "sq"},
	"MT": {"mt", "en"},
	"NL": {"nl"},
	"NO": {"no"}, // Norwegian, both written standards (nb, nn)
	"PL": {"pl"},
	"PT": {"pt"},
	"RO": {"ro"},
	"RS": {"sr"},
	"SE": {"sv"},
	"SI": {"sl"},
	"SK": {"sk"},
	"TR": {"tr"},
	"UA": {"uk"},
	"UK": {"en"},
	"XK": {"sq", "sr"},
}

// OfficialLanguages returns, in a new slice, the official national languages of the
// country with the given Eurostat code ("BE" gives nl, fr, de), each a BCP 47 primary
// language subtag; nil for a code not in [Countries]. Importers use it as a first guess
// at a hub's working languages, which the hub's operator should check: many hubs also
// work in English, and few in every official language of their country.
func OfficialLanguages(country string) []string {
	return slices.Clone(officialLanguages[country])
}
