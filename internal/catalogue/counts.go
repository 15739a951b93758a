package catalogue

// CountHubs returns the number of rows per country code, imported or not: every row
// of the catalogue is a hub, whatever its profile lacks. Rows whose country is
// unknown are not counted.
func CountHubs(hubs []Hub) map[string]int {
	out := map[string]int{}
	for _, h := range hubs {
		if h.Country != "" {
			out[h.Country]++
		}
	}
	return out
}

// HubsPerCountry is CountHubs of the catalogue's export of May 2025: 457 hubs in 38
// countries. `hubnet network create` makes its default region map from it when it is
// given no export.
var HubsPerCountry = map[string]int{
	"AL": 4, "AT": 11, "BA": 2, "BE": 15, "BG": 13, "CY": 2, "CZ": 11, "DE": 57, "DK": 6, "EE": 2,
	"EL": 9, "ES": 51, "FI": 9, "FR": 30, "HR": 17, "HU": 12, "IE": 6, "IS": 1, "IT": 57, "LI": 2,
	"LT": 10, "LU": 1, "LV": 4, "ME": 1, "MK": 4, "MT": 2, "NL": 16, "NO": 3, "PL": 21, "PT": 17,
	"RO": 9, "RS": 6, "SE": 12, "SI": 10, "SK": 6, "TR": 7, "UA": 10, "XK": 1,
}
