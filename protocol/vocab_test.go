package protocol

import (
	"encoding/csv"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dataDir is the shared reference data, outside the repository (see its README).
const dataDir = "../../shared/data/"

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// catalogueRows returns the rows of the EDIH catalogue export as maps from column to
// value, or skips the test where the reference data is absent.
func catalogueRows(t *testing.T) []map[string]string {
	t.Helper()
	f, err := os.Open(dataDir + "edih-catalogue-2025-05.csv")
	if os.IsNotExist(err) {
		t.Skip("reference data " + dataDir + "edih-catalogue-2025-05.csv absent; the fixture tests still run")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// tagPattern splits a catalogue tag field: labels may contain commas, so the level
// marks the end of each.
var tagPattern = regexp.MustCompile(`(.+?) - [1-5](,|$)`)

// catalogueLabels returns the distinct labels of a tag column, trimmed.
func catalogueLabels(t *testing.T, column string) []string {
	t.Helper()
	var labels []string
	for _, row := range catalogueRows(t) {
		for _, m := range tagPattern.FindAllStringSubmatch(row[column], -1) {
			if l := strings.TrimSpace(m[1]); !slices.Contains(labels, l) {
				labels = append(labels, l)
			}
		}
	}
	return labels
}

func TestTechnologyBySlug_known(t *testing.T) {
	tests := []struct{ slug, label string }{
		{"ai-decision-support", "Artificial Intelligence & Decision support"},
		{"data", "data"},
		{"audio-visual-media", "New technologies for Audio-Visual sector - Media"},
		{"internet-of-things", "Internet of Things"},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			got, ok := TechnologyBySlug(tt.slug)
			if !ok || got.Label != tt.label {
				t.Errorf("got %v, %v, want label %q", got, ok, tt.label)
			}
		})
	}
}

func TestTechnologyBySlug_unknown(t *testing.T) {
	for _, slug := range []string{"", "AI-decision-support", " ai-decision-support", "Artificial Intelligence & Decision support", "\xff"} {
		if got, ok := TechnologyBySlug(slug); ok {
			t.Errorf("TechnologyBySlug(%q) = %v, want not found", slug, got)
		}
	}
}

func TestTechnologyByLabel_caseAndSpaces(t *testing.T) {
	tests := []struct{ label, slug string }{
		{"Artificial Intelligence & Decision support", "ai-decision-support"},
		{"  artificial intelligence & DECISION support ", "ai-decision-support"},
		{"Data", "data"},
		{"Micro- and nanoelectronics, optoelectronics", "micro-nanoelectronics-optoelectronics"},
		{"Blockchain and Distributed Ledger Technology (DLT)", "blockchain-dlt"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, ok := TechnologyByLabel(tt.label)
			if !ok || got.Slug != tt.slug {
				t.Errorf("got %v, %v, want slug %q", got, ok, tt.slug)
			}
		})
	}
	for _, label := range []string{"", "AI", "Artificial Intelligence", "data - 3"} {
		if got, ok := TechnologyByLabel(label); ok {
			t.Errorf("TechnologyByLabel(%q) = %v, want not found", label, got)
		}
	}
}

func TestTechnologies_slugsUniqueAndWellFormed(t *testing.T) {
	if len(Technologies) != 34 {
		t.Errorf("got %d technologies, want 34", len(Technologies))
	}
	slugs, labels := map[string]bool{}, map[string]bool{}
	for i, tech := range Technologies {
		if !slugPattern.MatchString(tech.Slug) {
			t.Errorf("slug %q is not lower-case words joined by '-'", tech.Slug)
		}
		if slugs[tech.Slug] || labels[labelKey(tech.Label)] {
			t.Errorf("%v repeats a slug or label", tech)
		}
		slugs[tech.Slug], labels[labelKey(tech.Label)] = true, true
		if i > 0 && labelKey(Technologies[i-1].Label) >= labelKey(tech.Label) {
			t.Errorf("%q comes after %q, want alphabetical order", tech.Label, Technologies[i-1].Label)
		}
	}
}

func TestTechnologyByLabel_catalogue(t *testing.T) {
	labels := catalogueLabels(t, "technologies")
	if len(labels) != len(Technologies) {
		t.Errorf("catalogue has %d technology labels, want %d", len(labels), len(Technologies))
	}
	for _, l := range labels {
		if got, ok := TechnologyByLabel(l); !ok || got.Label != l {
			t.Errorf("TechnologyByLabel(%q) = %v, %v, want the exact label", l, got, ok)
		}
	}
}

func TestFamilyBySlug(t *testing.T) {
	tests := []struct {
		slug  string
		label string
		ok    bool
	}{
		{"test-before-invest", "test before invest", true},
		{"skills-and-training", "skills and training", true},
		{"support-to-find-investments", "support to find investments", true},
		{"innovation-ecosystem", "innovation ecosystem", true},
		{"digital-maturity-assessment", "digital maturity assessment", true},
		{"Test-Before-Invest", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			got, ok := FamilyBySlug(tt.slug)
			if ok != tt.ok || got.Label != tt.label {
				t.Errorf("got %v, %v, want %q, %v", got, ok, tt.label, tt.ok)
			}
		})
	}
}

func TestFamilies_order(t *testing.T) {
	want := []Family{FamilyTestBeforeInvest, FamilySkills, FamilyInvestment, FamilyEcosystem, FamilyMaturity}
	var got []Family
	for _, f := range Families {
		got = append(got, f.Slug)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestServiceBySlug_family(t *testing.T) {
	tests := []struct {
		slug   string
		family Family
	}{
		{"prototyping", FamilyTestBeforeInvest},
		{"field-trial", FamilyTestBeforeInvest},
		{"vocational-training", FamilySkills},
		{"knowledge-transfer", FamilySkills},
		{"finance", FamilyInvestment},
		{"sme-business-development", FamilyInvestment},
		{"ecosystem-building", FamilyEcosystem},
		{"innovation-management", FamilyMaturity},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			got, ok := ServiceBySlug(tt.slug)
			if !ok || got.Family != tt.family {
				t.Errorf("got %v, %v, want family %q", got, ok, tt.family)
			}
		})
	}
	if got, ok := ServiceBySlug("Prototyping"); ok {
		t.Errorf("ServiceBySlug(%q) = %v, want not found", "Prototyping", got)
	}
}

func TestServiceByLabel_caseAndSpaces(t *testing.T) {
	tests := []struct{ label, slug string }{
		{"Sme Business Development", "sme-business-development"},
		{"SME business development", "sme-business-development"},
		{" SME support", "sme-support"},
		{"smart specialisation strategies", "smart-specialisation"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, ok := ServiceByLabel(tt.label)
			if !ok || got.Slug != tt.slug {
				t.Errorf("got %v, %v, want slug %q", got, ok, tt.slug)
			}
		})
	}
	if got, ok := ServiceByLabel("Training"); ok {
		t.Errorf("ServiceByLabel(%q) = %v, want not found", "Training", got)
	}
}

func TestServices_wellFormed(t *testing.T) {
	if len(Services) != 15 {
		t.Errorf("got %d services, want 15", len(Services))
	}
	slugs, labels := map[string]bool{}, map[string]bool{}
	families := map[Family]int{}
	for _, s := range Services {
		if !slugPattern.MatchString(s.Slug) {
			t.Errorf("slug %q is not lower-case words joined by '-'", s.Slug)
		}
		if slugs[s.Slug] || labels[labelKey(s.Label)] {
			t.Errorf("%v repeats a slug or label", s)
		}
		slugs[s.Slug], labels[labelKey(s.Label)] = true, true
		if _, ok := FamilyBySlug(string(s.Family)); !ok {
			t.Errorf("%v has unknown family %q", s, s.Family)
		}
		families[s.Family]++
	}
	for _, f := range Families {
		if families[f.Slug] == 0 {
			t.Errorf("no service is in family %q", f.Slug)
		}
	}
}

func TestServiceByLabel_catalogue(t *testing.T) {
	labels := catalogueLabels(t, "services")
	if len(labels) != len(Services) {
		t.Errorf("catalogue has %d service labels, want %d", len(labels), len(Services))
	}
	for _, l := range labels {
		if got, ok := ServiceByLabel(l); !ok || got.Label != l {
			t.Errorf("ServiceByLabel(%q) = %v, %v, want the exact label", l, got, ok)
		}
	}
}

func TestHubTypeByLabel(t *testing.T) {
	tests := []struct {
		label string
		want  HubType
		ok    bool
	}{
		{"EDIH", HubEDIH, true},
		{"edih", HubEDIH, true},
		{"Seal of Excellence", HubSoE, true},
		{" seal of excellence ", HubSoE, true},
		{"SoE", HubSoE, true},
		{"DIH", HubDIH, true},
		{"", "", false},
		{"Hub", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, ok := HubTypeByLabel(tt.label)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q, %v, want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestHubTypeByLabel_catalogue(t *testing.T) {
	for _, row := range catalogueRows(t) {
		if _, ok := HubTypeByLabel(row["type"]); !ok {
			t.Errorf("HubTypeByLabel(%q) not found (hub %q)", row["type"], row["name"])
		}
	}
}

func TestValidCategory(t *testing.T) {
	for _, c := range Categories {
		if !ValidCategory(string(c)) {
			t.Errorf("ValidCategory(%q) = false, want true", c)
		}
	}
	if len(Categories) != 6 {
		t.Errorf("got %d categories, want 6", len(Categories))
	}
	for _, c := range []string{"", "Micro", "sme", "large", "small mid-cap"} {
		if ValidCategory(c) {
			t.Errorf("ValidCategory(%q) = true, want false", c)
		}
	}
}

func TestSectorByCode(t *testing.T) {
	tests := []struct {
		code    string
		section string
		level   int
		name    string
	}{
		{"A", "A", 1, "Agriculture, forestry and fishing"},
		{"C", "C", 1, "Manufacturing"},
		{"10", "C", 2, "Manufacture of food products"},
		{"01", "A", 2, "Crop and animal production, hunting and related service activities"},
		{"99", "U", 2, "Activities of extraterritorial organisations and bodies"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, ok := SectorByCode(tt.code)
			want := Sector{Code: tt.code, Name: tt.name, Section: tt.section, Level: tt.level}
			if !ok || got != want {
				t.Errorf("got %+v, %v, want %+v", got, ok, want)
			}
		})
	}
	for _, code := range []string{"", "c", "C10", "10.1", "1", "04", "V", "A-S"} {
		if got, ok := SectorByCode(code); ok {
			t.Errorf("SectorByCode(%q) = %+v, want not found", code, got)
		}
	}
}

func TestSections(t *testing.T) {
	got := Sections()
	if len(got) != 21 {
		t.Fatalf("got %d sections, want 21", len(got))
	}
	for i, s := range got {
		if want := string(rune('A' + i)); s.Code != want || s.Section != want || s.Level != 1 {
			t.Errorf("section %d is %+v, want code %s at level 1", i, s, want)
		}
	}
	got[0].Name = "changed"
	if Sections()[0].Name == "changed" {
		t.Error("Sections returned the package's own slice, want a copy")
	}
}

func TestSectors_divisionsUnderTheirSection(t *testing.T) {
	n := 0
	for _, s := range naceSectors {
		if s.Level != 2 {
			continue
		}
		n++
		if sec, ok := SectorByCode(s.Section); !ok || sec.Level != 1 {
			t.Errorf("division %s has section %q, want a known section", s.Code, s.Section)
		}
	}
	if n != 88 {
		t.Errorf("got %d divisions, want 88", n)
	}
}

func TestSectorsByCatalogueLabel(t *testing.T) {
	tests := []struct {
		label string
		want  []string
		ok    bool
	}{
		{"Automotive", []string{"29"}, true},
		{"health care", []string{"Q"}, true},
		{" Retail, wholesale or distribution ", []string{"G"}, true},
		{"Smart City", []string{"D", "E", "O", "49"}, true},
		{"Legal Aspects", nil, false},
		{"Regulation", nil, false},
		{"Community-Led Local Development", nil, false},
		{"Unknown", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, ok := SectorsByCatalogueLabel(tt.label)
			if ok != tt.ok || !slices.Equal(got, tt.want) {
				t.Errorf("got %v, %v, want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	codes, _ := SectorsByCatalogueLabel("Automotive")
	codes[0] = "changed"
	if again, _ := SectorsByCatalogueLabel("Automotive"); again[0] != "29" {
		t.Error("SectorsByCatalogueLabel returned the package's own slice, want a copy")
	}
}

func TestCatalogueSectorLabels_mapToKnownCodes(t *testing.T) {
	if len(CatalogueSectorLabels) != 42 {
		t.Errorf("got %d labels, want 42", len(CatalogueSectorLabels))
	}
	unmapped := 0
	for i, l := range CatalogueSectorLabels {
		if i > 0 && labelKey(CatalogueSectorLabels[i-1]) >= labelKey(l) {
			t.Errorf("%q comes after %q, want alphabetical order without repeats", l, CatalogueSectorLabels[i-1])
		}
		codes, ok := SectorsByCatalogueLabel(l)
		if !ok {
			unmapped++
		}
		for _, c := range codes {
			if _, known := SectorByCode(c); !known {
				t.Errorf("%q maps to %q, which is not a NACE section or division", l, c)
			}
		}
	}
	if unmapped != 3 {
		t.Errorf("got %d labels without NACE codes, want 3", unmapped)
	}
}

func TestCatalogueSectorLabels_catalogue(t *testing.T) {
	labels := catalogueLabels(t, "sectors")
	if len(labels) != len(CatalogueSectorLabels) {
		t.Errorf("catalogue has %d sector labels, want %d", len(labels), len(CatalogueSectorLabels))
	}
	for _, l := range labels {
		if !slices.Contains(CatalogueSectorLabels, l) {
			t.Errorf("catalogue sector %q is missing from CatalogueSectorLabels", l)
		}
	}
}
