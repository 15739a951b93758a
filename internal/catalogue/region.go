package catalogue

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hubnet-eu/hubnet/protocol"
)

// RegionHint is the region derived from a row's postal address, or why there is none.
type RegionHint struct {
	Code   string `json:"code,omitempty"`   // NUTS 3 code, or NUTS 2 where the address tells no more; "" if none
	Source string `json:"source,omitempty"` // what it was derived from, for the profile and the report
	Why    string `json:"why,omitempty"`    // why there is none, when Code is ""
}

// deriveRegion finds the NUTS region of a postal address ("Rua de Vila Flor 166,
// 4810-453 Guimaraes, Portugal") in the hub's country. In order it tries: a country
// with a single NUTS 3 region; the Spanish and French postcode, whose first digits
// name the province or département; a part of the address that is the name of a
// NUTS 3 (or NUTS 2) region; and the capitals and other towns whose English or local
// name is not a region's name. It guesses nothing else.
func deriveRegion(country, location string) RegionHint {
	regions3 := protocol.RegionsOf(country, 3)
	if len(regions3) == 0 {
		return RegionHint{Why: "the country has no NUTS 2021 regions"}
	}
	if len(regions3) == 1 {
		return RegionHint{Code: regions3[0].Code, Source: fmt.Sprintf("the country's only NUTS 3 region (%s)", regions3[0].Name)}
	}
	parts := addressParts(country, location)
	if len(parts) == 0 {
		return RegionHint{Why: "the address names only the country"}
	}
	if h, ok := postcodeRegion(country, parts); ok {
		return h
	}
	var contained RegionHint
	var ambiguous string
	for i := len(parts) - 1; i >= 0; i-- {
		town := townWords(parts[i])
		if town == "" {
			continue
		}
		if code, ok := knownTowns[country+":"+town]; ok {
			r, _ := protocol.RegionByCode(code)
			return RegionHint{Code: code, Source: fmt.Sprintf("town %q, in %s", strings.TrimSpace(parts[i]), r.Name)}
		}
		codes := regionsNamed(country, town)
		switch len(codes) {
		case 0:
			if c := regionsContaining(country, town); len(c) == 1 && contained.Code == "" {
				r, _ := protocol.RegionByCode(c[0])
				contained = RegionHint{Code: c[0], Source: fmt.Sprintf("town %q, named in the NUTS %d region %s", strings.TrimSpace(parts[i]), r.Level, r.Name)}
			}
			continue
		case 1:
			r, _ := protocol.RegionByCode(codes[0])
			return RegionHint{Code: codes[0], Source: fmt.Sprintf("town %q, the name of the NUTS %d region %s", strings.TrimSpace(parts[i]), r.Level, r.Name)}
		default:
			if ambiguous == "" {
				ambiguous = fmt.Sprintf("town %q names several regions (%s)", strings.TrimSpace(parts[i]), strings.Join(codes, ", "))
			}
		}
	}
	if contained.Code != "" {
		return contained
	}
	if ambiguous != "" {
		return RegionHint{Why: ambiguous}
	}
	return RegionHint{Why: fmt.Sprintf("no part of the address (%s) is a region's name, and %s postcodes name no region", strings.Join(parts, ", "), country)}
}

// addressParts splits an address at commas, trimmed, without empty parts and without
// the country's name at the end.
func addressParts(country, location string) []string {
	var parts []string
	for p := range strings.SplitSeq(location, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if c, ok := protocol.CountryByCode(country); ok && len(parts) > 0 {
		last := strings.Join(protocol.FoldWords(parts[len(parts)-1]), " ")
		name := strings.Join(protocol.FoldWords(c.Name), " ")
		if last == name {
			parts = parts[:len(parts)-1]
		}
		// "Sofia, 1784 Bulgaria", "19086 Tallinn Estonia": the country's name after a
		// town or postcode.
		for i, p := range parts {
			if len(p) > len(c.Name) && strings.EqualFold(p[len(p)-len(c.Name):], c.Name) && p[len(p)-len(c.Name)-1] == ' ' {
				parts[i] = strings.TrimSpace(p[:len(p)-len(c.Name)])
			}
		}
	}
	return parts
}

// townWords returns a part of an address as folded words without postcodes and
// Italian province codes ("00185 Roma RM" is "roma"); "" for a part with digits
// left, which is a street.
func townWords(part string) string {
	part = postcodeToken.ReplaceAllString(part, " ")
	part = provinceCode.ReplaceAllString(part, " ")
	words := protocol.FoldWords(part)
	for _, w := range words {
		if strings.ContainsAny(w, "0123456789") {
			return ""
		}
	}
	return strings.Join(words, " ")
}

var (
	// postcodeToken is a postcode as the catalogue's addresses write them: digits,
	// maybe with a country prefix ("LV-1010"), a dash ("4810-453"), a space
	// ("501 15") or two letters after ("9728 BM").
	postcodeToken = regexp.MustCompile(`\b([A-Z]{1,2}-)?\d{2,6}([ -]\d{2,4})?\b( [A-Z]{2}\b)?`)
	// provinceCode is the two capital letters of an Italian province after its town.
	provinceCode = regexp.MustCompile(`\s[A-Z]{2}$`)
	fiveDigits   = regexp.MustCompile(`(^|\D)(\d{5})(\D|$)`)
	fourDigits   = regexp.MustCompile(`(^|\D)(\d{4})(\D|$)`)
	// postBox is a post-office box number ("BP 90702"), which looks like a postcode.
	postBox = regexp.MustCompile(`(?i)\b(bp|cs|box|p\.?o\.? box)\s*(\d+)`)
)

// postcodeRegion derives a region from a Spanish or French postcode.
func postcodeRegion(country string, parts []string) (RegionHint, bool) {
	var boxes []string
	for _, p := range parts {
		for _, m := range postBox.FindAllStringSubmatch(p, -1) {
			boxes = append(boxes, m[2])
		}
	}
	if country == "BE" {
		return belgianPostcode(parts, boxes)
	}
	var table map[string]string
	switch country {
	case "ES":
		table = spanishProvinces
	case "FR":
		table = frenchDepartements
	default:
		return RegionHint{}, false
	}
	for i := len(parts) - 1; i >= 0; i-- {
		m := fiveDigits.FindStringSubmatch(parts[i])
		if m == nil {
			continue
		}
		pc := m[2]
		if slices.Contains(boxes, pc) {
			continue
		}
		name, ok := table[pc[:2]]
		switch {
		case country == "FR" && pc[:2] == "97":
			name, ok = table[pc[:3]]
		case country == "FR" && pc[:2] == "20":
			name, ok = "Corse-du-Sud", true
			if pc[2] >= '2' {
				name = "Haute-Corse"
			}
		}
		if !ok {
			continue
		}
		codes := regionsNamed(country, strings.Join(protocol.FoldWords(name), " "))
		if len(codes) != 1 {
			continue
		}
		what := "province"
		if country == "FR" {
			what = "département"
		}
		return RegionHint{Code: codes[0], Source: fmt.Sprintf("postcode %s, of the %s %s", pc, what, name)}, true
	}
	return RegionHint{}, false
}

// regionsNamed returns the NUTS 3 regions of country with the folded name town, or
// failing those the NUTS 2 regions. A name matches when it is the town or one of its
// alternatives ("Alicante/Alacant"), or the town with a word that marks a city
// ("Grad Zagreb", "Karlsruhe, Stadtkreis"). Where a city and its district share a
// name, the city is chosen.
func regionsNamed(country, town string) []string {
	for _, level := range []int{3, 2} {
		var exact, city []string
		for _, r := range protocol.RegionsOf(country, level) {
			for alt := range strings.SplitSeq(r.Name, "/") {
				words := protocol.FoldWords(alt)
				name := strings.Join(words, " ")
				switch {
				case name == town:
					exact = append(exact, r.Code)
				case strings.Join(slices.DeleteFunc(slices.Clone(words), isCityWord), " ") == town:
					city = append(city, r.Code)
				case strings.Join(slices.DeleteFunc(slices.Clone(words), isDistrictWord), " ") == town:
					exact = append(exact, r.Code)
				}
			}
		}
		exact, city = slices.Compact(exact), slices.Compact(city)
		if len(city) == 1 {
			return city
		}
		if len(exact)+len(city) > 0 {
			return append(exact, city...)
		}
	}
	return nil
}

// cityWords mark a NUTS region that is a city: German "kreisfreie Stadt" and
// "Stadtkreis", Croatian "Grad", Polish "Miasto", "City of".
func isCityWord(w string) bool {
	switch w {
	case "kreisfreie", "stadt", "stadtkreis", "grad", "miasto", "city", "of":
		return true
	}
	return false
}

// isDistrictWord marks a district around a city: German "Landkreis", "Kreis".
func isDistrictWord(w string) bool { return w == "landkreis" || w == "kreis" }

// belgianPostcode derives the province, a NUTS 2 region, from a Belgian postcode:
// its ranges follow the provinces.
func belgianPostcode(parts, boxes []string) (RegionHint, bool) {
	for i := len(parts) - 1; i >= 0; i-- {
		m := fourDigits.FindStringSubmatch(parts[i])
		if m == nil || slices.Contains(boxes, m[2]) || townWords(parts[i]) == "" {
			continue // a house number, not a postcode before a town
		}
		pc := m[2]
		for _, r := range belgianProvinces {
			if pc >= r.from && pc <= r.to {
				reg, _ := protocol.RegionByCode(r.code)
				return RegionHint{Code: r.code, Source: fmt.Sprintf("postcode %s, in the province %s", pc, reg.Name)}, true
			}
		}
	}
	return RegionHint{}, false
}

// regionsContaining returns the NUTS 3 regions of country whose name holds the folded
// town as a word of its own ("Städteregion Aachen", "Linz-Wels"); nil for a town of
// fewer than four letters, which would match too much.
func regionsContaining(country, town string) []string {
	if len(town) < 4 || strings.Contains(town, " ") {
		return nil
	}
	var out []string
	for _, r := range protocol.RegionsOf(country, 3) {
		if slices.Contains(protocol.FoldWords(r.Name), town) {
			out = append(out, r.Code)
		}
	}
	return out
}
