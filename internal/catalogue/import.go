package catalogue

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Note is something about a row that could not be carried into its profile as it
// stands, or was changed on the way.
type Note struct {
	Field string `json:"field"` // the profile field concerned: id, website, sectors, ...
	Text  string `json:"text"`
}

// String returns the note as the report prints it: "field: text".
func (n Note) String() string { return n.Field + ": " + n.Text }

// Hub is what became of one row: a profile, with notes, or the reason it was not
// imported. Its JSON is what `hubnet import edih-xlsx --json` reports of the row.
type Hub struct {
	Row     int               `json:"row"`               // the spreadsheet's row number
	Name    string            `json:"name"`              // the row's name, white space made single
	Title   string            `json:"title,omitempty"`   // the row's title, likewise
	ID      string            `json:"id,omitempty"`      // the profile's ID; empty when not imported
	Type    protocol.HubType  `json:"type,omitempty"`    // empty when the row's type is unknown
	Country string            `json:"country,omitempty"` // the code; empty when unknown
	Profile *protocol.Profile `json:"-"`                 // nil when not imported
	Region  RegionHint        `json:"region"`            // derived from the address, or why none was
	Notes   []Note            `json:"notes,omitempty"`
	Reason  string            `json:"reason,omitempty"` // why it was not imported
}

// Imported reports whether the row gave a profile.
func (h Hub) Imported() bool { return h.Profile != nil }

// note adds a note on field.
func (h *Hub) note(field, format string, args ...any) {
	h.Notes = append(h.Notes, Note{Field: field, Text: fmt.Sprintf(format, args...)})
}

// Import maps rows to hubs, one per row in the same order. Every profile it returns
// passes Validate. IDs are made unique in row order: a later hub whose name gives a
// taken ID gets "-2", "-3"... A row that repeats an earlier one cell for cell is not
// imported.
func Import(rows []Row) []Hub {
	out := make([]Hub, 0, len(rows))
	taken := map[string]int{}   // ID -> row that has it
	seenRow := map[string]int{} // row content -> first row with it
	for _, row := range rows {
		h := importRow(row)
		if first, dup := seenRow[row.key()]; dup && h.Imported() {
			h.Profile, h.ID, h.Notes = nil, "", nil
			h.Reason = fmt.Sprintf("repeats row %d cell for cell", first)
		} else if !dup {
			seenRow[row.key()] = row.Row
		}
		if h.Imported() {
			id := uniqueID(h.ID, taken)
			if id != h.ID {
				h.note("id", "%q is taken by row %d; this hub is %q", h.ID, taken[h.ID], id)
				h.ID, h.Profile.ID = id, id
			}
			taken[id] = row.Row
		}
		out = append(out, h)
	}
	return out
}

// uniqueID returns id, or id with the first free suffix "-2", "-3"..., shortened so
// that it stays a valid ID.
func uniqueID(id string, taken map[string]int) string {
	if _, ok := taken[id]; !ok {
		return id
	}
	for n := 2; ; n++ {
		suffix := "-" + strconv.Itoa(n)
		base := strings.TrimRight(id[:min(len(id), maxIDLen-len(suffix))], "-")
		if _, ok := taken[base+suffix]; !ok {
			return base + suffix
		}
	}
}

// maxIDLen is the longest ID protocol.ValidID accepts.
const maxIDLen = 48

// importRow maps one row to a profile, with an ID that may still be taken.
func importRow(row Row) Hub {
	h := Hub{Row: row.Row, Name: oneSpace(row.Name), Title: oneSpace(row.Title)}
	if t, ok := protocol.HubTypeByLabel(row.Type); ok {
		h.Type = t
	}
	if c, ok := protocol.CountryByName(row.Country); ok {
		h.Country = c.Code
	}
	var reasons []string
	if h.Name == "" {
		reasons = append(reasons, colName+" is empty")
	}
	if h.Type == "" {
		reasons = append(reasons, fmt.Sprintf("%s %q must be EDIH, Seal of Excellence or DIH", colType, strings.TrimSpace(row.Type)))
	}
	switch {
	case strings.TrimSpace(row.Country) == "":
		reasons = append(reasons, colCountry+" is empty")
	case h.Country == "":
		reasons = append(reasons, fmt.Sprintf("%s %q is not a country of the catalogue", colCountry, strings.TrimSpace(row.Country)))
	}
	if len(reasons) > 0 {
		h.Reason = strings.Join(reasons, "; ")
		return h
	}

	p := &protocol.Profile{Type: h.Type, Country: h.Country, Inferred: &protocol.Inferred{}}
	h.ID = slug(h.Name)
	if !protocol.ValidID(h.ID) {
		title := slug(h.Title)
		if !protocol.ValidID(title) {
			h.Reason = fmt.Sprintf("%s %q gives no valid ID (3-48 of a-z, 0-9, '-'), and neither does %s", colName, h.Name, colTitle)
			h.ID = ""
			return h
		}
		h.note("id", "the name gives no valid ID (3-48 of a-z, 0-9, '-'); made from the title")
		h.ID = title
	}
	p.ID = h.ID

	var cut bool
	if p.Name, cut = shorten(h.Name, protocol.MaxNameLen); cut {
		h.note("name", "longer than %d characters; cut at a word boundary", protocol.MaxNameLen)
	}
	if p.Title, cut = shorten(h.Title, protocol.MaxTitleLen); cut {
		h.note("title", "longer than %d characters; cut at a word boundary", protocol.MaxTitleLen)
	}
	if p.Description, cut = shorten(cleanText(row.Description), protocol.MaxDescriptionLen); cut {
		h.note("description", "longer than %d characters; cut at a word boundary", protocol.MaxDescriptionLen)
	}
	p.Website = website(&h, row.Website)

	p.Technologies = mapTags(&h, "technologies", row.Technologies, func(label string) ([]string, string) {
		if t, ok := protocol.TechnologyByLabel(label); ok {
			return []string{t.Slug}, ""
		}
		return nil, "is not a catalogue technology"
	})
	p.Services = mapTags(&h, "services", row.Services, func(label string) ([]string, string) {
		if s, ok := protocol.ServiceByLabel(label); ok {
			return []string{s.Slug}, ""
		}
		return nil, "is not a catalogue service"
	})
	p.Sectors = mapTags(&h, "sectors", row.Sectors, func(label string) ([]string, string) {
		if codes, ok := protocol.SectorsByCatalogueLabel(label); ok {
			if !protocol.CatalogueLabelIsNACE(label) {
				return nil, readAsNACE
			}
			return codes, ""
		}
		if catalogueSectorLabel(label) {
			return nil, "has no NACE equivalent"
		}
		return nil, "is not a catalogue sector"
	})
	p.Inferred.Sectors = sectorHints(row.Sectors)
	region := deriveRegion(h.Country, row.Location)
	h.Region = region
	if region.Code != "" {
		p.Inferred.Regions = []protocol.Hint{{Value: region.Code, Source: "Contact Location: " + region.Source}}
	} else {
		h.note("regions", "none derived from the address: %s", region.Why)
	}
	// The guessed languages stay in languages too, as every node requires; the hints
	// mark them as guessed (docs/protocol.md, "Inferred values").
	p.Inferred.Languages = languageHints(h.Country, region.Code)
	p.Languages = make([]string, len(p.Inferred.Languages))
	for i, l := range p.Inferred.Languages {
		p.Languages[i] = l.Value
	}
	empty := map[string]bool{
		"technologies": strings.TrimSpace(row.Technologies) == "",
		"services":     strings.TrimSpace(row.Services) == "",
		"sectors":      strings.TrimSpace(row.Sectors) == "",
	}
	if empty["technologies"] && empty["services"] && empty["sectors"] {
		h.note("tags", "the catalogue lists no technologies, services or sectors")
	} else {
		for _, field := range []string{"technologies", "services", "sectors"} {
			if empty[field] {
				h.note(field, "none listed in the catalogue")
			}
		}
	}

	if err := p.Validate(); err != nil {
		// Not expected: everything above is built to pass. Refuse rather than write a
		// profile that `hubnet profile apply` would refuse.
		h.Reason = "the profile would not validate: " + err.Error()
		h.ID = ""
		return h
	}
	h.Profile = p
	return h
}

// website returns the row's website as an absolute http(s) URL, or "" with a note.
func website(h *Hub, cell string) string {
	s := strings.TrimSpace(cell)
	switch {
	case s == "":
		h.note("website", "empty in the catalogue; left out")
		return ""
	case strings.EqualFold(s, "website"):
		h.note("website", "the catalogue gives only the word %q; left out", s)
		return ""
	}
	if !strings.Contains(s, "://") && bareDomain.MatchString(s) {
		h.note("website", "%q has no scheme; https:// added", s)
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\n") {
		h.note("website", "%q is not an absolute http(s) URL; left out", strings.TrimSpace(cell))
		return ""
	}
	return s
}

// bareDomain matches a host name with a dot and maybe a path, such as "www.hub.eu" or
// "hub.eu/en": a website written without its scheme.
var bareDomain = regexp.MustCompile(`(?i)^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}(/\S*)?$`)

// tagPattern is one "Label - N" of a tag field, N the level 1 to 5. Labels may hold
// commas ("Retail, wholesale or distribution"), so tags are found by their level, not
// split at commas.
var tagPattern = regexp.MustCompile(`(?s)(.+?) - ([1-5])(?:,|$)`)

// catalogueTag is one tag of a tag field.
type catalogueTag struct {
	Label string
	Level int
}

// parseTags splits a tag field into its tags, and returns apart the text that carries
// no level 1-5. known tells labels of the field's vocabulary: it separates a tag that
// lost its level from the next one ("Robotics, Big data - 3").
func parseTags(field string, known func(string) bool) (tags []catalogueTag, unlevelled []string) {
	s := strings.TrimSpace(field)
	pos := 0
	addUnlevelled := func(text string) {
		if text = strings.Trim(text, " ,\t\r\n"); text != "" {
			unlevelled = append(unlevelled, text)
		}
	}
	for _, m := range tagPattern.FindAllStringSubmatchIndex(s, -1) {
		addUnlevelled(s[pos:m[0]])
		label := strings.TrimSpace(s[m[2]:m[3]])
		if !known(label) {
			for i, r := range label {
				if r == ',' && known(strings.TrimSpace(label[i+1:])) {
					addUnlevelled(label[:i])
					label = strings.TrimSpace(label[i+1:])
					break
				}
			}
		}
		tags = append(tags, catalogueTag{Label: label, Level: int(s[m[4]] - '0')})
		pos = m[1]
	}
	addUnlevelled(s[pos:])
	return tags, unlevelled
}

// mapTags turns a tag field into slugs or codes with levels, noting on h every tag it
// leaves out. lookup returns a label's keys, or why it has none. A key reached twice
// keeps the higher level.
func mapTags(h *Hub, field, cell string, lookup func(label string) (keys []string, why string)) map[string]int {
	known := func(label string) bool {
		keys, why := lookup(label)
		return len(keys) > 0 || why == "has no NACE equivalent" || why == readAsNACE
	}
	tags, unlevelled := parseTags(cell, known)
	for _, text := range unlevelled {
		h.note(field, "%q has no level 1-5; left out", text)
	}
	out := map[string]int{}
	for _, t := range tags {
		keys, why := lookup(t.Label)
		if why == readAsNACE {
			continue // kept as a hint by sectorHints
		}
		if len(keys) == 0 {
			h.note(field, "%q %s; left out", t.Label, why)
			continue
		}
		for _, k := range keys {
			out[k] = max(out[k], t.Level)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// readAsNACE is the reason mapTags gets for a sector label whose NACE codes are a
// reading of the label: they become hints, not declared sectors.
const readAsNACE = "is read as NACE codes"

// sectorHints returns the NACE codes of the sector labels that are not NACE
// activities ("Smart City - 4"), each with its label's level and the label as source;
// a code reached twice keeps the higher level.
func sectorHints(cell string) []protocol.Hint {
	tags, _ := parseTags(cell, func(label string) bool {
		_, ok := protocol.SectorsByCatalogueLabel(label)
		return ok || catalogueSectorLabel(label)
	})
	var out []protocol.Hint
	for _, t := range tags {
		codes, ok := protocol.SectorsByCatalogueLabel(t.Label)
		if !ok || protocol.CatalogueLabelIsNACE(t.Label) {
			continue
		}
		for _, code := range codes {
			src := fmt.Sprintf("catalogue sector %q - %d", t.Label, t.Level)
			if i := slices.IndexFunc(out, func(h protocol.Hint) bool { return h.Value == code }); i >= 0 {
				if t.Level > out[i].Level {
					out[i].Level, out[i].Source = t.Level, src
				}
				continue
			}
			out = append(out, protocol.Hint{Value: code, Level: t.Level, Source: src})
		}
	}
	return out
}

// languageHints returns the languages a hub in country, maybe in region, is likely
// to work in: the official languages of its country, or of its part of Belgium.
func languageHints(country, region string) []protocol.Hint {
	langs := protocol.OfficialLanguages(country)
	src := "official language of " + country
	if country == "BE" && len(region) >= 3 {
		switch {
		case region[:3] == "BE2":
			langs, src = []string{"nl"}, "official language of Flanders ("+region+")"
		case len(region) >= 5 && region[:5] == "BE336":
			langs, src = []string{"de", "fr"}, "official language of the German-speaking Community ("+region+")"
		case region[:3] == "BE3":
			langs, src = []string{"fr"}, "official language of Wallonia ("+region+")"
		case region[:3] == "BE1":
			langs, src = []string{"fr", "nl"}, "official language of Brussels ("+region+")"
		}
	}
	out := make([]protocol.Hint, len(langs))
	for i, l := range langs {
		out[i] = protocol.Hint{Value: l, Source: src}
	}
	return out
}

// catalogueSectorLabel reports whether label is one of the catalogue's sector labels,
// with or without a NACE equivalent.
func catalogueSectorLabel(label string) bool {
	return slices.ContainsFunc(protocol.CatalogueSectorLabels, func(l string) bool {
		return catalogueKey(l) == catalogueKey(label)
	})
}

// slug makes an ID from a name: lower case, accents dropped, every run of other
// characters one '-', at most 48 characters, cut at a '-' where there is one.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(name) {
		if unicode.Is(unicode.Mn, r) {
			continue // the accent of a decomposed letter
		}
		r = unicode.ToLower(r)
		if s, ok := foldLetters[r]; ok {
			b.WriteString(s)
			dash = false
			continue
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > maxIDLen {
		s = s[:maxIDLen]
		if i := strings.LastIndexByte(s, '-'); i >= maxIDLen/2 {
			s = s[:i]
		}
		s = strings.Trim(s, "-")
	}
	return s
}

// foldLetters spells in ASCII the letters that do not decompose into a letter and an
// accent.
var foldLetters = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i", 'ħ': "h",
}

// oneSpace trims s and turns every run of white space in it into one space.
func oneSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// cleanText trims a multi-line text and the end of each of its lines, with "\n" line
// ends.
func cleanText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// shorten returns s if it has at most maxLen characters, else s cut at the last word
// boundary that leaves room for "…", with "…" added, and true.
func shorten(s string, maxLen int) (string, bool) {
	if utf8.RuneCountInString(s) <= maxLen {
		return s, false
	}
	runes := []rune(s)[:maxLen-1]
	cut := len(runes)
	for i := len(runes) - 1; i > len(runes)/2; i-- {
		if unicode.IsSpace(runes[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(runes[:cut]), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	}) + "…", true
}
