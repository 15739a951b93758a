package catalogue

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"go.yaml.in/yaml/v3"

	"github.com/hubnet-eu/hubnet/internal/catalogue/cataloguetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// realCatalogue is the EC's export in the shared reference data, from this package's
// directory: internal/catalogue -> the repository's root -> ../shared/data.
const realCatalogue = "../../../shared/data/edih-catalogue-export-2025-05.xlsx"

// decodeProfile reads a profile file as `hubnet profile apply -f` reads one it
// accepts: YAML that holds no field the profile does not have. (cmd/hubnet's
// TestDecodeProfile_importedHubs reads the importer's files with the command's own.)
func decodeProfile(data []byte) (protocol.Profile, error) {
	var p protocol.Profile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&p)
	return p, err
}

// mustImport reads and maps a workbook, failing the test on an error.
func mustImport(t *testing.T, data []byte) []Hub {
	t.Helper()
	rows, err := ReadRows(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read workbook: %v", err)
	}
	return Import(rows)
}

func TestImport_smallWorkbook(t *testing.T) {
	hubs := mustImport(t, cataloguetest.Workbook(t, cataloguetest.Header, cataloguetest.Rows))

	wantLong, _ := shorten(strings.TrimSpace(cataloguetest.LongDescription), protocol.MaxDescriptionLen)
	tests := []struct {
		row     int
		profile *protocol.Profile // nil: not imported
		notes   []string
		reason  string
	}{
		{row: 2, profile: &protocol.Profile{
			ID: "robocoast", Name: "RoboCoast", Title: "Robocoast EDIH", Type: protocol.HubEDIH, Country: "FI",
			Website: "https://robocoast.eu/", Languages: []string{"fi", "sv"},
			Description:  "Robots for the Satakunta coast.\nSecond line.",
			Technologies: map[string]int{"robotics": 5, "ai-decision-support": 3},
			Services:     map[string]int{"field-trial": 4, "sme-support": 2},
			Sectors:      map[string]int{"C": 5, "D": 4},
			Inferred: &protocol.Inferred{
				Regions:   []protocol.Hint{{Value: "FI1B1", Source: `Contact Location: town "02150 Espoo", in Helsinki-Uusimaa`}},
				Languages: []protocol.Hint{{Value: "fi", Source: "official language of FI"}, {Value: "sv", Source: "official language of FI"}},
			},
		}},
		{row: 3, profile: &protocol.Profile{
			ID: "retail-hub", Name: "Retail Hub", Title: "Retail Hub Flanders", Type: protocol.HubDIH, Country: "BE",
			Website: "https://www.retailhub.be", Languages: []string{"nl"},
			Technologies: map[string]int{"micro-nanoelectronics-optoelectronics": 3},
			Services:     map[string]int{"technology-transfer": 1},
			Sectors:      map[string]int{"G": 4, "I": 2, "79": 2},
			Inferred: &protocol.Inferred{
				Regions:   []protocol.Hint{{Value: "BE24", Source: "Contact Location: postcode 3001, in the province Prov. Vlaams-Brabant"}},
				Languages: []protocol.Hint{{Value: "nl", Source: "official language of Flanders (BE24)"}},
			},
		}, notes: []string{`website: "www.retailhub.be" has no scheme; https:// added`}},
		{row: 5, profile: &protocol.Profile{
			ID: "quantum-valley", Name: "Quantum Valley", Type: protocol.HubSoE, Country: "DE",
			Languages:    []string{"de"},
			Technologies: map[string]int{"robotics": 2},
			Services:     map[string]int{"finance": 5},
			Sectors:      map[string]int{"O": 4},
			Inferred: &protocol.Inferred{
				Regions:   []protocol.Hint{{Value: "DEA2D", Source: `Contact Location: town "52062 Aachen", named in the NUTS 3 region Städteregion Aachen`}},
				Languages: []protocol.Hint{{Value: "de", Source: "official language of DE"}},
				Sectors:   []protocol.Hint{{Value: "O", Level: 3, Source: `catalogue sector "Defence" - 3`}},
			},
		}, notes: []string{
			`website: the catalogue gives only the word "Website"; left out`,
			`technologies: "Quantum Gravity" is not a catalogue technology; left out`,
			`sectors: "Regulation" has no NACE equivalent; left out`,
		}},
		{row: 6, profile: &protocol.Profile{
			ID: "empty-hub", Name: "Empty Hub", Title: "A hub with nothing listed", Type: protocol.HubEDIH, Country: "ES",
			Languages: []string{"es"},
			Inferred: &protocol.Inferred{
				Regions:   []protocol.Hint{{Value: "ES412", Source: "Contact Location: postcode 09001, of the province Burgos"}},
				Languages: []protocol.Hint{{Value: "es", Source: "official language of ES"}},
			},
		}, notes: []string{
			"website: empty in the catalogue; left out",
			"tags: the catalogue lists no technologies, services or sectors",
		}},
		{row: 7, reason: `Country "Atlantis" is not a country of the catalogue`},
		{row: 8, profile: &protocol.Profile{
			ID: "robocoast-2", Name: "ROBOCOAST", Title: "Robocoast Sweden", Type: protocol.HubDIH, Country: "SE",
			Website: "http://robocoast.se", Languages: []string{"sv"},
			Technologies: map[string]int{"robotics": 4},
			Inferred:     &protocol.Inferred{Languages: []protocol.Hint{{Value: "sv", Source: "official language of SE"}}},
		}, notes: []string{
			"regions: none derived from the address: no part of the address (Somewhere 1, 1000 Town) is a region's name, and SE postcodes name no region",
			"services: none listed in the catalogue",
			"sectors: none listed in the catalogue",
			`id: "robocoast" is taken by row 2; this hub is "robocoast-2"`,
		}},
		{row: 9, profile: &protocol.Profile{
			ID: "verbose-hub", Name: "Verbose Hub", Type: protocol.HubDIH, Country: "IE",
			Languages: []string{"en", "ga"}, Description: wantLong,
			Technologies: map[string]int{"big-data": 2},
			Inferred:     &protocol.Inferred{Languages: []protocol.Hint{{Value: "en", Source: "official language of IE"}, {Value: "ga", Source: "official language of IE"}}},
		}, notes: []string{
			"description: longer than 10000 characters; cut at a word boundary",
			"website: empty in the catalogue; left out",
			"regions: none derived from the address: no part of the address (Somewhere 1, 1000 Town) is a region's name, and IE postcodes name no region",
			"services: none listed in the catalogue",
			"sectors: none listed in the catalogue",
		}},
		{row: 10, profile: &protocol.Profile{
			ID: "lukasiewicz-hub-odegard-strasse", Name: "Łukasiewicz Hub – Ødegård Straße", Type: protocol.HubEDIH, Country: "TR",
			Languages:    []string{"tr"},
			Technologies: map[string]int{"big-data": 3},
			Services:     map[string]int{"prototyping": 2},
			Inferred:     &protocol.Inferred{Languages: []protocol.Hint{{Value: "tr", Source: "official language of TR"}}},
		}, notes: []string{
			"website: empty in the catalogue; left out",
			`technologies: "Robotics" has no level 1-5; left out`,
			"regions: none derived from the address: no part of the address (Somewhere 1, 1000 Town) is a region's name, and TR postcodes name no region",
			"sectors: none listed in the catalogue",
		}},
		{row: 11, reason: "repeats row 3 cell for cell"},
		{row: 12, reason: `EDIH Name is empty; EDIH/SoE "Cluster" must be EDIH, Seal of Excellence or DIH`},
	}
	if len(hubs) != len(tests) {
		t.Fatalf("got %d rows, want %d (the empty row skipped)", len(hubs), len(tests))
	}
	for i, tt := range tests {
		h := hubs[i]
		if h.Row != tt.row {
			t.Errorf("hub %d: row %d, want %d", i, h.Row, tt.row)
			continue
		}
		var notes []string
		for _, n := range h.Notes {
			notes = append(notes, n.String())
		}
		if !slices.Equal(notes, tt.notes) {
			t.Errorf("row %d notes:\ngot  %q\nwant %q", tt.row, notes, tt.notes)
		}
		if h.Reason != tt.reason {
			t.Errorf("row %d reason: got %q, want %q", tt.row, h.Reason, tt.reason)
		}
		if !reflect.DeepEqual(h.Profile, tt.profile) {
			t.Errorf("row %d profile:\ngot  %+v\nwant %+v", tt.row, h.Profile, tt.profile)
		}
		if h.Profile == nil {
			if h.ID != "" {
				t.Errorf("row %d not imported has ID %q", tt.row, h.ID)
			}
			continue
		}
		if err := h.Profile.Validate(); err != nil {
			t.Errorf("row %d: %v", tt.row, err)
		}
		if h.ID != h.Profile.ID {
			t.Errorf("row %d: report ID %q, profile ID %q", tt.row, h.ID, h.Profile.ID)
		}
		checkRoundTrip(t, h)
	}
	// The cut description ends with a whole word of the original and "…".
	desc := hubs[6].Profile.Description
	kept, ok := strings.CutSuffix(desc, "…")
	if next := strings.TrimPrefix(cataloguetest.LongDescription, kept); !ok || next == cataloguetest.LongDescription || !strings.ContainsAny(next[:1], " .") ||
		utf8.RuneCountInString(desc) > protocol.MaxDescriptionLen {
		t.Errorf("cut description of %d characters ends %q, want at most %d ending at a word and \"…\"",
			utf8.RuneCountInString(desc), desc[len(desc)-20:], protocol.MaxDescriptionLen)
	}
}

// checkRoundTrip fails unless the hub's profile, written as the importer writes it,
// reads back the same through decodeProfile.
func checkRoundTrip(t *testing.T, h Hub) {
	t.Helper()
	data, err := h.YAML("catalogue.xlsx")
	if err != nil {
		t.Fatalf("row %d: encode: %v", h.Row, err)
	}
	back, err := decodeProfile(data)
	if err != nil {
		t.Fatalf("row %d: decode:\n%s\n%v", h.Row, data, err)
	}
	if !reflect.DeepEqual(&back, h.Profile) {
		t.Errorf("row %d: round trip:\ngot  %+v\nwant %+v\nYAML:\n%s", h.Row, back, *h.Profile, data)
	}
	if err := back.Validate(); err != nil {
		t.Errorf("row %d: decoded profile: %v", h.Row, err)
	}
}

func TestHub_YAML_commentsAndNotes(t *testing.T) {
	hubs := mustImport(t, cataloguetest.Workbook(t, cataloguetest.Header, cataloguetest.Rows))
	data, err := hubs[2].YAML("export.xlsx") // Quantum Valley, row 5
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{
		"# Made by `hubnet import edih-xlsx` from row 5 of export.xlsx.\n",
		"# Source: European Commission, EDIH catalogue.\n",
		"hubnet profile apply -f quantum-valley.yaml\n",
		"# Notes:\n",
		`#   - technologies: "Quantum Gravity" is not a catalogue technology; left out` + "\n",
		"\n# Guessed, not declared: they rank the hub but never exclude it.",
		"\ninferred:\n  regions:\n    - value: DEA2D\n",
		"  languages:\n    - value: de\n      source: official language of DE\n",
		"\nid: quantum-valley\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("YAML:\n%s\nwant it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "\nrevision:") || strings.Contains(got, "\ncapacity:") {
		t.Errorf("YAML:\n%s\nwant no revision and no capacity", got)
	}
}

func TestReadRows_missingColumns(t *testing.T) {
	header := slices.DeleteFunc(slices.Clone(cataloguetest.Header), func(c string) bool {
		return c == "Country" || c == "Formatted sectors"
	})
	_, err := ReadRows(bytes.NewReader(cataloguetest.Workbook(t, header, nil)))
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *protocol.ValidationError", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
		if !strings.Contains(p.Rule, `is missing from the header (row 1 of sheet "EDIH Catalogue")`) {
			t.Errorf("rule %q, want it to say the column is missing from the header", p.Rule)
		}
	}
	if want := []string{`column "Country"`, `column "Formatted sectors"`}; !slices.Equal(fields, want) {
		t.Errorf("fields %q, want %q", fields, want)
	}
}

func TestReadRows_notAWorkbook(t *testing.T) {
	for name, data := range map[string][]byte{
		"text":  []byte("name,title\nDIHSE,x\n"),
		"empty": nil,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadRows(bytes.NewReader(data))
			if !errors.Is(err, ErrNotWorkbook) {
				t.Errorf("got %v, want ErrNotWorkbook", err)
			}
		})
	}
}

func TestReadRows_otherSheetName(t *testing.T) {
	// A workbook of one sheet is read whatever the sheet is called.
	data := cataloguetest.Workbook(t, cataloguetest.Header, cataloguetest.Rows[:1])
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetName(Sheet, "Export"); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadRows(buf)
	if err != nil || len(rows) != 1 || rows[0].Name != "RoboCoast" {
		t.Errorf("got %+v, %v, want the one row", rows, err)
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ name, want string }{
		{"RoboCoast", "robocoast"},
		{"EDIH MADRID REGION", "edih-madrid-region"},
		{"eDIH La Rioja 4.0", "edih-la-rioja-4-0"},
		{"Andalucía Agrotech Digital Innovation Hub", "andalucia-agrotech-digital-innovation-hub"},
		{"P.R.I.D.E.", "p-r-i-d-e"},
		{"Mittelstand-Digital Zentrum Lingen.Münster.Osnarbrück", "mittelstand-digital-zentrum-lingen-munster"},
		{"Łukasiewicz – Ødegård Straße", "lukasiewicz-odegard-strasse"},
		{"  --DIH_4.0--  ", "dih-4-0"},
		{"AIR4S - Artificial Intelligence & Robotics for Sustainable Development Goals", "air4s-artificial-intelligence-robotics-for"},
		{"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv"},
		{"AI", "ai"},
		{"ΔΙΗ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slug(tt.name)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(got) > maxIDLen {
				t.Errorf("%q is longer than %d", got, maxIDLen)
			}
		})
	}
}

func TestUniqueID(t *testing.T) {
	long := strings.Repeat("a", 47) + "b"
	taken := map[string]int{"cih": 2, "cih-2": 3, long: 4}
	if got := uniqueID("cih", taken); got != "cih-3" {
		t.Errorf("got %q, want cih-3", got)
	}
	if got := uniqueID("nest", taken); got != "nest" {
		t.Errorf("got %q, want nest", got)
	}
	if got := uniqueID(long, taken); got != strings.Repeat("a", 46)+"-2" || !protocol.ValidID(got) {
		t.Errorf("got %q, want 46 a's and -2", got)
	}
}

func TestParseTags(t *testing.T) {
	known := func(l string) bool {
		return slices.Contains([]string{"Robotics", "Big data", "Retail, wholesale or distribution"}, l)
	}
	tests := []struct {
		field      string
		tags       []catalogueTag
		unlevelled []string
	}{
		{"", nil, nil},
		{"Robotics - 5", []catalogueTag{{"Robotics", 5}}, nil},
		{"Robotics - 5, Big data - 1", []catalogueTag{{"Robotics", 5}, {"Big data", 1}}, nil},
		{"Retail, wholesale or distribution - 4,Robotics - 2", []catalogueTag{{"Retail, wholesale or distribution", 4}, {"Robotics", 2}}, nil},
		{"Robotics, Big data - 3", []catalogueTag{{"Big data", 3}}, []string{"Robotics"}},
		{"Robotics - 3, Big data", []catalogueTag{{"Robotics", 3}}, []string{"Big data"}},
		{"Robotics - 7", nil, []string{"Robotics - 7"}},
		{"New technologies for Audio-Visual sector - Media - 2", []catalogueTag{{"New technologies for Audio-Visual sector - Media", 2}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			tags, unlevelled := parseTags(tt.field, known)
			if !slices.Equal(tags, tt.tags) || !slices.Equal(unlevelled, tt.unlevelled) {
				t.Errorf("got %v, %q, want %v, %q", tags, unlevelled, tt.tags, tt.unlevelled)
			}
		})
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		s      string
		max    int
		want   string
		wantCt bool
	}{
		{"short", 10, "short", false},
		{"exactly ten", 11, "exactly ten", false},
		{"one two three four", 12, "one two…", true},
		{"one two, three four", 15, "one two…", true},
		{"abcdefghijklmnop", 8, "abcdefg…", true},
		{"ünïcödé wörds here", 10, "ünïcödé…", true},
	}
	for _, tt := range tests {
		got, cut := shorten(tt.s, tt.max)
		if got != tt.want || cut != tt.wantCt {
			t.Errorf("shorten(%q, %d) = %q, %v, want %q, %v", tt.s, tt.max, got, cut, tt.want, tt.wantCt)
		}
		if utf8.RuneCountInString(got) > tt.max {
			t.Errorf("shorten(%q, %d) = %q, longer than %d", tt.s, tt.max, got, tt.max)
		}
	}
}

// TestImport_realExport imports the EC's real export when the shared reference
// data is there.
func TestImport_realExport(t *testing.T) {
	f, err := os.Open(realCatalogue)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no %s: the shared reference data is not beside this repository", filepath.Clean(realCatalogue))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadRows(f)
	if err != nil {
		t.Fatal(err)
	}
	hubs := Import(rows)
	if len(hubs) != 457 {
		t.Errorf("read %d rows, want 457", len(hubs))
	}

	types := map[protocol.HubType]int{}
	ids := map[string]bool{}
	var imported, withNotes, notImported int
	notes := map[string]int{}
	for _, h := range hubs {
		types[h.Type]++
		if !h.Imported() {
			notImported++
			if h.Reason == "" {
				t.Errorf("row %d (%s): neither imported nor a reason", h.Row, h.Name)
			}
			t.Logf("row %d (%s) not imported: %s", h.Row, h.Name, h.Reason)
			continue
		}
		imported++
		if len(h.Notes) > 0 {
			withNotes++
		}
		for _, n := range h.Notes {
			notes[n.Field]++
		}
		if err := h.Profile.Validate(); err != nil {
			t.Errorf("row %d (%s): %v", h.Row, h.Name, err)
		}
		if ids[h.ID] {
			t.Errorf("row %d: ID %q twice", h.Row, h.ID)
		}
		ids[h.ID] = true
		checkRoundTrip(t, h)
	}
	want := map[protocol.HubType]int{protocol.HubEDIH: 168, protocol.HubSoE: 83, protocol.HubDIH: 206}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("rows per type: got %v, want %v", types, want)
	}
	if imported+notImported != len(hubs) {
		t.Errorf("imported %d + not imported %d != %d rows", imported, notImported, len(hubs))
	}
	withRegion, byCountry, bySource := 0, map[string]int{}, map[string]int{}
	for _, h := range hubs {
		if h.Region.Code == "" {
			t.Logf("row %d %s (%s): no region: %s", h.Row, h.ID, h.Country, h.Region.Why)
			continue
		}
		withRegion++
		byCountry[h.Country]++
		src := h.Region.Source
		switch {
		case strings.HasPrefix(src, "postcode"):
			bySource["postcode"]++
		case strings.Contains(src, "the name of the NUTS"):
			bySource["region's name"]++
		case strings.Contains(src, "named in the NUTS"):
			bySource["word of a region's name"]++
		case strings.Contains(src, "only NUTS 3"):
			bySource["only region"]++
		default:
			bySource["table of towns"]++
		}
	}
	t.Logf("%d rows with a region; by country %v; by source %v", withRegion, byCountry, bySource)
	if withRegion < 350 {
		t.Errorf("%d rows with a region derived from the address, want at least 350", withRegion)
	}
	t.Logf("rows read %d, imported %d, with notes %d, not imported %d; types %v; notes per field %v",
		len(hubs), imported, withNotes, notImported, types, notes)
}

// TestHubsPerCountry checks the built-in counts against the real export when the
// shared reference data is there.
func TestHubsPerCountry(t *testing.T) {
	total := 0
	for code, n := range HubsPerCountry {
		if _, ok := protocol.CountryByCode(code); !ok || n <= 0 {
			t.Errorf("%s: %d hubs, want a known country and a positive count", code, n)
		}
		total += n
	}
	if total != 457 || len(HubsPerCountry) != 38 {
		t.Errorf("got %d hubs in %d countries, want 457 in 38", total, len(HubsPerCountry))
	}
	f, err := os.Open(realCatalogue)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no %s: the shared reference data is not beside this repository", filepath.Clean(realCatalogue))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadRows(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := CountHubs(Import(rows)); !reflect.DeepEqual(got, HubsPerCountry) {
		t.Errorf("CountHubs of the export: got %v, want %v", got, HubsPerCountry)
	}
}

func TestCountHubs(t *testing.T) {
	hubs := []Hub{{Country: "IT", Profile: &protocol.Profile{}}, {Country: "IT", Reason: "no type"}, {Country: "FI"}, {Reason: "no country"}}
	if got, want := CountHubs(hubs), map[string]int{"IT": 2, "FI": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
