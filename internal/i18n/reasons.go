package i18n

import (
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// A search's reasons are written from their data, protocol.Reason, in the reader's
// language; the API's explanation stays in English for its callers.

// proximities are the proximities a reason names; their English names are keys.
var proximities = []protocol.Proximity{
	protocol.ProximityElsewhere, protocol.ProximityNeighbour, protocol.ProximityCountry,
	protocol.ProximityNearby, protocol.ProximityRegion, protocol.ProximityNUTS3,
}

// Why writes why a hub ranks where it does, its reasons joined by "; ". Without
// the reasons' data (a node of an older version) it returns the English
// explanation, english.
func (l *Lang) Why(reasons []protocol.Reason, english string) string {
	if len(reasons) == 0 || l.Code == "en" {
		return english
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = l.Reason(r)
	}
	return strings.Join(parts, "; ")
}

// Reason writes one reason in the language.
func (l *Lang) Reason(r protocol.Reason) string {
	switch r.Kind {
	case protocol.ReasonLevels:
		return l.T("%s (wanted)", l.items(r.Items, true))
	case protocol.ReasonLacks:
		return l.T("lacks %s", l.items(r.Items, false))
	case protocol.ReasonDescribed:
		return l.T("lists no technologies; its description names %s (counted as level %d)", l.items(r.Items, false), r.Level)
	case protocol.ReasonCapacity:
		fam := string(r.Family)
		if f, ok := protocol.FamilyBySlug(fam); ok {
			fam = l.T(f.Label)
		}
		if !r.Published {
			return l.T("offers %s, capacity not published", fam)
		}
		unit := r.Unit
		if unit == "SMEs per month" { // the unit a hub gets when it names none
			unit = l.T(unit)
		}
		s := l.T("offers %s, %d of %d free (%s)", fam, r.Free, r.Maximum, unit)
		if r.Stale {
			s = l.T("%s, stale: updated %s", s, r.Updated.Format(time.DateOnly))
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
func (l *Lang) items(items []protocol.ReasonItem, levels bool) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = l.T(it.Label)
		if levels {
			parts[i] = l.T("%s level %d", parts[i], it.Level)
		}
	}
	return strings.Join(parts, ", ")
}
