package protocol

import "slices"

// Sector is a NACE Rev. 2 section (Level 1, Code "A" to "U") or division (Level 2,
// Code "01" to "99"). Section is the letter of the section a division belongs to, and
// a section's own letter for a section.
type Sector struct {
	Code    string
	Name    string
	Section string
	Level   int
}

var (
	sectorByCode = indexBy(naceSectors, func(s Sector) string { return s.Code })
	naceSections = slices.DeleteFunc(slices.Clone(naceSectors), func(s Sector) bool { return s.Level != 1 })
)

// SectorByCode returns the NACE section ("C") or division ("10") with the given code.
// Codes are exact: no lower case, no section letter before a division.
func SectorByCode(code string) (Sector, bool) {
	s, ok := sectorByCode[code]
	return s, ok
}

// Sectors returns the NACE sections and divisions, each section followed by its
// divisions, in a new slice.
func Sectors() []Sector { return slices.Clone(naceSectors) }

// Sections returns the 21 NACE sections, A to U, in a new slice.
func Sections() []Sector { return slices.Clone(naceSections) }

// catalogueSector is a sector label of the EDIH catalogue with its NACE codes; codes is
// nil where the label has no sensible NACE equivalent.
type catalogueSector struct {
	label string
	codes []string
}

// catalogueSectors maps the catalogue's 42 sector labels, in alphabetical order, to
// NACE codes. A whole section is named by its letter, also where the section has a
// single division (D = 35, L = 68, O = 84, P = 85). A label narrower than a division
// gets the division that holds it (Space: 30.30 and 51.22; Nuclear: 35.11), except
// Defence, whose industry (25.40, 30.40) is too small a part of its divisions: it
// maps to O for 84.22. Labels that are topics or funding instruments rather than
// economic activities have no codes, so an importer reports them instead of guessing.
var catalogueSectors = []catalogueSector{
	{"Aeronautics", []string{"30", "51"}}, // aircraft manufacture, air transport
	{"Agricultural biotechnology and food biotechnology", []string{"01", "10", "72"}},
	{"Automotive", []string{"29"}},
	{"Community-Led Local Development", nil}, // an EU rural-development instrument
	{"Construction & Assembly", []string{"F"}},
	{"Consumer products", []string{"31", "32"}}, // furniture, toys, jewellery...; textiles and leather have their own labels
	{"Cultural and creative economy", []string{"58", "59", "60", "90", "91"}},
	{"Defence", []string{"O"}},
	{"Education", []string{"P"}},
	{"Electricity", []string{"D"}},
	{"Energy", []string{"D"}},
	{"Energy, fuels and petroleum engineering", []string{"06", "19", "D"}},
	{"Environment", []string{"E"}}, // water, sewerage, waste, remediation
	{"Financial", []string{"K"}},
	{"Fishery", []string{"03"}},
	{"Food and beverages", []string{"10", "11"}},
	{"Health care", []string{"Q"}},
	{"Leather", []string{"15"}},
	{"Legal Aspects", nil},                  // a topic of digitalisation, not legal services (69)
	{"Life sciences", []string{"21", "72"}}, // pharmaceuticals, research and development
	{"Manufacturing and processing", []string{"C"}},
	{"Maritime", []string{"50"}},
	{"Metal working and industrial production", []string{"24", "25", "28"}},
	{"Mining and extraction", []string{"B"}},
	{"NMP Non-Metallic Materials & basic processes", []string{"23"}},
	{"Nuclear", []string{"D"}},
	{"Paper and wood", []string{"16", "17"}},
	{"Personal services", []string{"96"}},
	{"Polymers and plastics", []string{"20", "22"}},
	{"Public administration", []string{"O"}},
	{"Real estate", []string{"L"}},
	{"Regulation", nil}, // a topic, not an activity
	{"Retail, wholesale or distribution", []string{"G"}},
	{"Security", []string{"80"}},
	{"Smart City", []string{"D", "E", "O", "49"}}, // what a city runs: energy, water and waste, administration, public transport
	{"Space", []string{"30", "51"}},
	{"Telecommunications", []string{"61"}},
	{"Textiles", []string{"13", "14"}},
	{"Tobacco", []string{"12"}},
	{"Transport & Mobility", []string{"H"}},
	{"Transport sector", []string{"H"}},
	{"Travel and tourism", []string{"I", "79"}}, // accommodation and food service, travel agencies
}

// nacelikeLabels are the catalogue's sector labels that name the economic activity of
// their NACE codes ("Health care" is Q). The others name a field that NACE does not
// have ("Smart City", "Space", "Security"), so their codes are a reading of the label,
// not what the hub declared.
var nacelikeLabels = []string{
	"Automotive", "Construction & Assembly", "Education", "Electricity", "Energy",
	"Energy, fuels and petroleum engineering", "Financial", "Fishery", "Food and beverages",
	"Health care", "Leather", "Manufacturing and processing", "Mining and extraction",
	"Paper and wood", "Personal services", "Public administration", "Real estate",
	"Retail, wholesale or distribution", "Telecommunications", "Textiles", "Tobacco",
	"Transport & Mobility", "Transport sector", "Travel and tourism",
}

// CatalogueLabelIsNACE reports whether a sector label of the EDIH catalogue names
// the NACE activity it maps to, so that its codes can stand as the hub's declared
// sectors; false for a label that maps by reading ("Smart City") and for an unknown
// label.
func CatalogueLabelIsNACE(label string) bool {
	return slices.ContainsFunc(nacelikeLabels, func(l string) bool { return labelKey(l) == labelKey(label) })
}

// CatalogueSectorLabels lists the 42 sector labels of the EDIH catalogue, spelled as
// the catalogue spells them, in alphabetical order.
var CatalogueSectorLabels = func() []string {
	labels := make([]string, len(catalogueSectors))
	for i, s := range catalogueSectors {
		labels[i] = s.label
	}
	return labels
}()

var catalogueSectorByLabel = indexBy(catalogueSectors, func(s catalogueSector) string { return labelKey(s.label) })

// SectorsByCatalogueLabel returns the NACE codes (sections or divisions) for a sector
// label of the EDIH catalogue, ignoring case and surrounding spaces. ok is false for
// an unknown label and for the few labels with no sensible NACE equivalent
// ("Community-Led Local Development", "Legal Aspects", "Regulation"); importers
// should report those rather than guess.
func SectorsByCatalogueLabel(label string) (codes []string, ok bool) {
	s := catalogueSectorByLabel[labelKey(label)]
	if len(s.codes) == 0 {
		return nil, false
	}
	return slices.Clone(s.codes), true
}
