package console

import (
	"strings"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The console writes a search result's reasons from their data, Hit.Why, in the
// reader's language; the API's Explanation stays in English for its callers.

// webProximities are the proximities a reason names; their English names are keys.
var webProximities = []protocol.Proximity{
	protocol.ProximityElsewhere, protocol.ProximityNeighbour, protocol.ProximityCountry,
	protocol.ProximityNearby, protocol.ProximityRegion, protocol.ProximityNUTS3,
}

// Why writes why the hit ranks where it does, its reasons joined by "; ". A hit
// without the reasons' data, from another source, keeps its English explanation.
func (l *webLang) Why(h api.Hit) string {
	if h.Why == nil || l.Code == "en" {
		return h.Explanation
	}
	parts := make([]string, len(h.Why))
	for i, r := range h.Why {
		parts[i] = l.reason(r)
	}
	return strings.Join(parts, "; ")
}

// reason writes one reason in the language.
func (l *webLang) reason(r protocol.Reason) string {
	switch r.Kind {
	case protocol.ReasonLevels:
		return l.T("%s (wanted)", l.items(r.Items, true))
	case protocol.ReasonLacks:
		return l.T("lacks %s", l.items(r.Items, false))
	case protocol.ReasonDescribed:
		return l.T("lists no technologies; its description names %s (counted as level %d)", l.items(r.Items, false), r.Level)
	case protocol.ReasonCapacity:
		fam := l.T(webFamily(r.Family))
		if !r.Published {
			return l.T("offers %s, capacity not published", fam)
		}
		unit := r.Unit
		if unit == webDefaultUnit {
			unit = l.T(unit)
		}
		s := l.T("offers %s, %d of %d free (%s)", fam, r.Free, r.Maximum, unit)
		if r.Stale {
			s = l.T("%s, stale: updated %s", s, l.Date(r.Updated))
		}
		return s
	case protocol.ReasonSector:
		s, _ := protocol.SectorByCode(r.Sector)
		sec, _ := protocol.SectorByCode(s.Section)
		name := l.T(s.Name)
		switch {
		case r.Level == 0:
			return l.T("sector %s %s not listed", s.Code, name)
		case r.Basis == protocol.SectorBroader:
			return l.T("sector %s %s level %d, section %s: covers %s %s", sec.Code, l.T(sec.Name), r.Level, sec.Code, s.Code, name)
		case r.Basis == protocol.SectorFromLabel:
			return l.T("sector %s %s: read from %s, not a level declared for it", s.Code, name, r.Source)
		}
		return l.T("sector %s %s level %d", s.Code, name, r.Level)
	case protocol.ReasonLanguages:
		switch {
		case len(r.Languages) == 0:
			return l.T("languages not declared; %s not among those of its country", strings.Join(r.Wanted, ", "))
		case r.Guessed && r.Missing != "":
			return l.T("probably works in %s (its country's language, not declared), not in %s", strings.Join(r.Languages, ", "), r.Missing)
		case r.Guessed:
			return l.T("probably works in %s (its country's language, not declared)", strings.Join(r.Languages, ", "))
		case r.Missing != "":
			return l.T("works in %s, not in %s", strings.Join(r.Languages, ", "), r.Missing)
		}
		return l.T("works in %s", strings.Join(r.Languages, ", "))
	case protocol.ReasonPlace:
		prox := l.T(r.Proximity.String())
		switch {
		case r.Region == "":
			return l.T("%s, %s", r.Country, prox)
		case r.Guessed:
			return l.T("region %s (from its address), %s", r.Region, prox)
		}
		return l.T("region %s, %s", r.Region, prox)
	}
	return r.String()
}

// items writes technologies or services, "Robotik Stufe 5, …" with levels.
func (l *webLang) items(items []protocol.ReasonItem, levels bool) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = l.T(it.Label)
		if levels {
			parts[i] = l.T("%s level %d", parts[i], it.Level)
		}
	}
	return strings.Join(parts, ", ")
}
