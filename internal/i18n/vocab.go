package i18n

import (
	"maps"
	"slices"

	"github.com/hubnet-eu/hubnet/protocol"
)

// VocabKeys returns the English labels of the vocabulary that vocab/<code>.json
// translates, sorted: technologies, services, service families and the names of the
// NACE sections and divisions. Countries and languages are named from CLDR. The
// files also translate the messages of a search's reasons (Lang.Why).
func VocabKeys() []string {
	keys := map[string]bool{}
	for _, x := range protocol.Technologies {
		keys[x.Label] = true
	}
	for _, x := range protocol.Services {
		keys[x.Label] = true
	}
	for _, x := range protocol.Families {
		keys[x.Label] = true
	}
	for _, x := range protocol.Sectors() {
		keys[x.Name] = true
	}
	return slices.Sorted(maps.Keys(keys))
}
