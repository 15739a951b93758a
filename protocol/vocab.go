package protocol

import "strings"

//go:generate go run ./internal/gen -nuts ../../shared/data/NUTS2021.csv -nace ../../shared/data/nace_r2.csv

// Technology is one of the 34 technologies of the EC's EDIH catalogue. Slug is the
// stable identifier hubs exchange; Label is spelled exactly as the catalogue spells it.
type Technology struct {
	Slug  string
	Label string
}

// Technologies lists the catalogue's technologies in alphabetical order of label.
// Slugs never change once published; labels follow the catalogue.
var Technologies = []Technology{
	{"additive-manufacturing", "Additive manufacturing"},
	{"ai-decision-support", "Artificial Intelligence & Decision support"},
	{"bi-tools", "BI tools"},
	{"big-data", "Big data"},
	{"blockchain-dlt", "Blockchain and Distributed Ledger Technology (DLT)"},
	{"chemical-engineering", "Chemical engineering (plants, products)"},
	{"cloud-services", "Cloud Services"},
	{"communication-network", "Communication network"},
	{"cyber-physical-systems", "Cyber-physical systems"},
	{"cybersecurity", "Cybersecurity"},
	{"data", "data"},
	{"digital-twins", "Digital twins"},
	{"displays", "Displays"},
	{"gamification", "Gamification"},
	{"high-performance-computing", "High performance computing"},
	{"human-computer-interaction", "Human computer interaction"},
	{"industrial-biotechnology", "Industrial biotechnology"},
	{"internet-of-things", "Internet of Things"},
	{"internet-services-applications", "Internet Services & Applications"},
	{"laser-based-manufacturing", "Laser-based manufacturing and materials processing"},
	{"location-based-applications", "Location-based applications"},
	{"logistics", "Logistics"},
	{"micro-nanoelectronics-optoelectronics", "Micro- and nanoelectronics, optoelectronics"},
	{"mobility", "Mobility"},
	{"audio-visual-media", "New technologies for Audio-Visual sector - Media"},
	{"organic-large-area-electronics", "Organic and large area electronics"},
	{"photonics", "Photonics"},
	{"quantum-technologies", "Quantum Technologies (computing/communication)"},
	{"robotics", "Robotics"},
	{"semiconductors-nanotechnology", "Semiconductors and Nanotechnology"},
	{"sensors-vision-processing", "Sensors & Vision Processing Systems"},
	{"simulation-modelling", "Simulation engineering and modelling"},
	{"software-architectures", "Software Architectures"},
	{"virtual-reality", "Virtual Reality"},
}

var (
	technologyBySlug  = indexBy(Technologies, func(t Technology) string { return t.Slug })
	technologyByLabel = indexBy(Technologies, func(t Technology) string { return labelKey(t.Label) })
)

// TechnologyBySlug returns the technology with the given slug.
func TechnologyBySlug(slug string) (Technology, bool) {
	t, ok := technologyBySlug[slug]
	return t, ok
}

// TechnologyByLabel returns the technology with the given catalogue label, ignoring
// case and surrounding spaces.
func TechnologyByLabel(label string) (Technology, bool) {
	t, ok := technologyByLabel[labelKey(label)]
	return t, ok
}

// Family is the slug of a service family: the four services every EDIH offers, plus
// digital maturity assessment, which hubs plan and report capacity for separately.
type Family string

// The service families.
const (
	FamilyTestBeforeInvest Family = "test-before-invest"
	FamilySkills           Family = "skills-and-training"
	FamilyInvestment       Family = "support-to-find-investments"
	FamilyEcosystem        Family = "innovation-ecosystem"
	FamilyMaturity         Family = "digital-maturity-assessment"
)

// FamilyInfo is a service family with its English label.
type FamilyInfo struct {
	Slug  Family
	Label string
}

// Families lists the five service families in the order of the constants.
var Families = []FamilyInfo{
	{FamilyTestBeforeInvest, "test before invest"},
	{FamilySkills, "skills and training"},
	{FamilyInvestment, "support to find investments"},
	{FamilyEcosystem, "innovation ecosystem"},
	{FamilyMaturity, "digital maturity assessment"},
}

var familyBySlug = indexBy(Families, func(f FamilyInfo) string { return string(f.Slug) })

// FamilyBySlug returns the service family with the given slug.
func FamilyBySlug(slug string) (FamilyInfo, bool) {
	f, ok := familyBySlug[slug]
	return f, ok
}

// Service is one of the 15 services of the EDIH catalogue, with the family whose
// capacity it draws on.
type Service struct {
	Slug   string
	Label  string
	Family Family
}

// Services lists the catalogue's services in alphabetical order of label.
//
// The catalogue does not group its services, so the families are our reading of the
// EDIH work programme:
//   - Field trial, Prototyping, Technological innovation and Technology transfer put a
//     technology in an SME's hands before it buys: test before invest.
//   - Knowledge transfer and Vocational training build people's skills: skills and training.
//   - Finance and Sme Business Development (business plans, investor readiness) lead to
//     money: support to find investments.
//   - Ecosystem building, Regional development, Smart Specialisation strategies, Public
//     sector innovation, Circular economy and SME support (general advice and brokering)
//     work through the hub's network and region: innovation ecosystem.
//   - Innovation management assesses how a firm innovates and plans what to change,
//     which is what a digital maturity assessment does for digitalisation.
var Services = []Service{
	{"circular-economy", "Circular economy", FamilyEcosystem},
	{"ecosystem-building", "Ecosystem building", FamilyEcosystem},
	{"field-trial", "Field trial", FamilyTestBeforeInvest},
	{"finance", "Finance", FamilyInvestment},
	{"innovation-management", "Innovation management", FamilyMaturity},
	{"knowledge-transfer", "Knowledge transfer", FamilySkills},
	{"prototyping", "Prototyping", FamilyTestBeforeInvest},
	{"public-sector-innovation", "Public sector innovation", FamilyEcosystem},
	{"regional-development", "Regional development", FamilyEcosystem},
	{"sme-business-development", "Sme Business Development", FamilyInvestment},
	{"sme-support", "SME support", FamilyEcosystem},
	{"smart-specialisation", "Smart Specialisation strategies", FamilyEcosystem},
	{"technological-innovation", "Technological innovation", FamilyTestBeforeInvest},
	{"technology-transfer", "Technology transfer", FamilyTestBeforeInvest},
	{"vocational-training", "Vocational training", FamilySkills},
}

var (
	serviceBySlug  = indexBy(Services, func(s Service) string { return s.Slug })
	serviceByLabel = indexBy(Services, func(s Service) string { return labelKey(s.Label) })
)

// ServiceBySlug returns the service with the given slug.
func ServiceBySlug(slug string) (Service, bool) {
	s, ok := serviceBySlug[slug]
	return s, ok
}

// ServiceByLabel returns the service with the given catalogue label, ignoring case
// and surrounding spaces.
func ServiceByLabel(label string) (Service, bool) {
	s, ok := serviceByLabel[labelKey(label)]
	return s, ok
}

// HubType is the kind of hub: a European Digital Innovation Hub funded by the DIGITAL
// Europe programme, a hub with the Seal of Excellence, or another Digital Innovation Hub.
type HubType string

// The hub types.
const (
	HubEDIH HubType = "EDIH"
	HubSoE  HubType = "SoE"
	HubDIH  HubType = "DIH"
)

var hubTypeByLabel = map[string]HubType{
	"edih":               HubEDIH,
	"soe":                HubSoE,
	"seal of excellence": HubSoE,
	"dih":                HubDIH,
}

// HubTypeByLabel returns the hub type for "EDIH", "Seal of Excellence" (as the
// catalogue writes it), "SoE" or "DIH", ignoring case and surrounding spaces.
func HubTypeByLabel(label string) (HubType, bool) {
	t, ok := hubTypeByLabel[labelKey(label)]
	return t, ok
}

// Category is the kind of customer a hub serves, after the EU's SME definition
// (Recommendation 2003/361/EC) and the small mid-caps of the DIGITAL Europe programme.
type Category string

// The customer categories.
const (
	CategoryMicro       Category = "micro"
	CategorySmall       Category = "small"
	CategoryMedium      Category = "medium"
	CategorySmallMidCap Category = "small-mid-cap"
	CategoryPublic      Category = "public-sector"
	CategoryOther       Category = "other"
)

// Categories lists the customer categories from the smallest firm to the others.
var Categories = []Category{
	CategoryMicro, CategorySmall, CategoryMedium, CategorySmallMidCap, CategoryPublic, CategoryOther,
}

// categoryList names the categories for error messages.
var categoryList = "micro, small, medium, small-mid-cap, public-sector or other"

var validCategories = indexBy(Categories, func(c Category) string { return string(c) })

// ValidCategory reports whether c is the exact value of a customer category.
func ValidCategory(c string) bool {
	_, ok := validCategories[c]
	return ok
}

// indexBy maps key(v) to v for every v in vs; the first of equal keys wins.
func indexBy[V any](vs []V, key func(V) string) map[string]V {
	m := make(map[string]V, len(vs))
	for _, v := range vs {
		if _, dup := m[key(v)]; !dup {
			m[key(v)] = v
		}
	}
	return m
}

// labelKey is how human-written labels and names are compared: case and surrounding
// spaces do not count.
func labelKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
