package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// validProfile returns a profile that passes Validate and uses every field, the same
// in every run: the golden files encode it.
func validProfile() Profile {
	return Profile{
		ID:          "hub-one",
		Name:        "Hub One – Helsinki Digital Innovation Hub",
		Title:       "AI and robotics for manufacturing SMEs",
		Type:        HubEDIH,
		Country:     "FI",
		Regions:     []string{"FI1B", "FI1C1"},
		Website:     "https://hub-one.example.eu/",
		Languages:   []string{"fi", "sv", "en"},
		Description: "We test AI & robotics with SMEs <before> they invest.",
		Contact:     Contact{Role: "Partnerships desk", Email: "partners@hub-one.example.eu", Phone: "+358 40 123 4567"},
		Technologies: map[string]int{
			"ai-decision-support": 5,
			"robotics":            4,
			"cybersecurity":       1,
		},
		Services: map[string]int{"prototyping": 5, "finance": 2},
		Sectors:  map[string]int{"C": 4, "10": 3},
		Capacity: map[Family]Capacity{
			FamilyTestBeforeInvest: {Available: 3, Maximum: 10, Unit: "SMEs per month", Updated: fixedTime},
			FamilyMaturity:         {Available: 0, Maximum: 0, Unit: "assessments per month"},
		},
		Revision: 7,
		Updated:  fixedTime,
	}
}

// problemFields returns the fields err names, in order, failing the test unless err
// is a *ValidationError that matches ErrInvalid.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want an error matching %v", err, ErrInvalid)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %T, want *ValidationError", err)
	}
	fields := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		if p.Rule == "" {
			t.Errorf("field %s: empty rule", p.Field)
		}
		fields[i] = p.Field
	}
	return fields
}

func TestProfile_Validate_valid(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Profile)
	}{
		{"full", func(p *Profile) {}},
		{"minimal", func(p *Profile) {
			*p = Profile{ID: "abc", Name: "A", Type: HubDIH, Country: "EL", Languages: []string{"el"}}
		}},
		{"seal of excellence", func(p *Profile) { p.Type = HubSoE }},
		{"name of MaxNameLen runes", func(p *Profile) { p.Name = strings.Repeat("ä", MaxNameLen) }},
		{"description of MaxDescriptionLen runes", func(p *Profile) { p.Description = strings.Repeat("€", MaxDescriptionLen) }},
		{"id of 48 characters", func(p *Profile) { p.ID = strings.Repeat("a", 48) }},
		{"levels at the bounds", func(p *Profile) { p.Technologies = map[string]int{"robotics": MinLevel, "photonics": MaxLevel} }},
		{"capacity full", func(p *Profile) {
			p.Capacity = map[Family]Capacity{FamilySkills: {Available: 0, Maximum: 5, Unit: strings.Repeat("u", MaxUnitLen)}}
		}},
		{"capacity all free", func(p *Profile) {
			p.Capacity = map[Family]Capacity{FamilyInvestment: {Available: 5, Maximum: 5, Unit: "SMEs"}}
		}},
		{"regions of levels 1 to 3", func(p *Profile) { p.Regions = []string{"FI1", "FI19", "FI193"} }},
		{"region and country of Greece", func(p *Profile) { p.Country, p.Regions = "EL", []string{"EL30"} }},
		{"language tags differing in more than case", func(p *Profile) { p.Languages = []string{"pt", "pt-BR", "pt-PT"} }},
		{"http website", func(p *Profile) { p.Website = "http://hub.example.eu/path?q=1" }},
		{"no contact", func(p *Profile) { p.Contact = Contact{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile()
			tt.edit(&p)
			if err := p.Validate(); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestProfile_Validate_broken(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Profile)
		want []string // the fields named, in order
	}{
		{"id missing", func(p *Profile) { p.ID = "" }, []string{"id"}},
		{"id upper case", func(p *Profile) { p.ID = "Hub-One" }, []string{"id"}},
		{"id too short", func(p *Profile) { p.ID = "ab" }, []string{"id"}},
		{"id too long", func(p *Profile) { p.ID = strings.Repeat("a", 49) }, []string{"id"}},
		{"id ends with a dash", func(p *Profile) { p.ID = "hub-" }, []string{"id"}},
		{"name missing", func(p *Profile) { p.Name = "" }, []string{"name"}},
		{"name too long", func(p *Profile) { p.Name = strings.Repeat("ä", MaxNameLen+1) }, []string{"name"}},
		{"name invalid UTF-8", func(p *Profile) { p.Name = "Hub \xff" }, []string{"name"}},
		{"title too long", func(p *Profile) { p.Title = strings.Repeat("t", MaxTitleLen+1) }, []string{"title"}},
		{"description too long", func(p *Profile) { p.Description = strings.Repeat("€", MaxDescriptionLen+1) }, []string{"description"}},
		{"description invalid UTF-8", func(p *Profile) { p.Description = "\xc3\x28" }, []string{"description"}},
		{"type missing", func(p *Profile) { p.Type = "" }, []string{"type"}},
		{"type lower case", func(p *Profile) { p.Type = "edih" }, []string{"type"}},
		{"country missing", func(p *Profile) { p.Country, p.Regions = "", nil }, []string{"country"}},
		{"country ISO code for Greece", func(p *Profile) { p.Country, p.Regions = "GR", nil }, []string{"country"}},
		{"country lower case", func(p *Profile) { p.Country, p.Regions = "fi", nil }, []string{"country"}},
		{"region unknown", func(p *Profile) { p.Regions = []string{"XX99"} }, []string{"regions.XX99"}},
		{"region outside the country", func(p *Profile) { p.Regions = []string{"FI1B", "SE11"} }, []string{"regions.SE11"}},
		{"region of level 0", func(p *Profile) { p.Regions = []string{"FI"} }, []string{"regions.FI"}},
		{"region listed twice", func(p *Profile) { p.Regions = []string{"FI1B", "FI1B"} }, []string{"regions.FI1B"}},
		{"region lower case", func(p *Profile) { p.Regions = []string{"fi1b"} }, []string{"regions.fi1b"}},
		{"website without scheme", func(p *Profile) { p.Website = "hub-one.example.eu" }, []string{"website"}},
		{"website ftp", func(p *Profile) { p.Website = "ftp://hub-one.example.eu" }, []string{"website"}},
		{"website without host", func(p *Profile) { p.Website = "https:///path" }, []string{"website"}},
		{"website unparsable", func(p *Profile) { p.Website = "https://hub one.eu" }, []string{"website"}},
		{"languages missing", func(p *Profile) { p.Languages = nil }, []string{"languages"}},
		{"language not a tag", func(p *Profile) { p.Languages = []string{"english"} }, []string{"languages.0"}},
		{"language with underscore", func(p *Profile) { p.Languages = []string{"fi", "en_GB"} }, []string{"languages.1"}},
		{"language listed twice in other case", func(p *Profile) { p.Languages = []string{"pt-BR", "PT-br"} }, []string{"languages.1"}},
		{"email with a name", func(p *Profile) { p.Contact.Email = "Partners <partners@hub.eu>" }, []string{"contact.email"}},
		{"email without at", func(p *Profile) { p.Contact.Email = "partners.hub.eu" }, []string{"contact.email"}},
		{"phone too long", func(p *Profile) { p.Contact.Phone = strings.Repeat("1", 41) }, []string{"contact.phone"}},
		{"role too long", func(p *Profile) { p.Contact.Role = strings.Repeat("r", MaxTitleLen+1) }, []string{"contact.role"}},
		{"technology unknown", func(p *Profile) { p.Technologies = map[string]int{"blockchain": 3} }, []string{"technologies.blockchain"}},
		{"technology by label", func(p *Profile) { p.Technologies = map[string]int{"Robotics": 3} }, []string{"technologies.Robotics"}},
		{"technology level 0", func(p *Profile) { p.Technologies = map[string]int{"robotics": 0} }, []string{"technologies.robotics"}},
		{"technology level 6", func(p *Profile) { p.Technologies = map[string]int{"robotics": 6} }, []string{"technologies.robotics"}},
		{"service unknown", func(p *Profile) { p.Services = map[string]int{"x": 1} }, []string{"services.x"}},
		{"service level negative", func(p *Profile) { p.Services = map[string]int{"finance": -1} }, []string{"services.finance"}},
		{"sector unknown", func(p *Profile) { p.Sectors = map[string]int{"ZZ": 2} }, []string{"sectors.ZZ"}},
		{"sector group, not division", func(p *Profile) { p.Sectors = map[string]int{"10.1": 2} }, []string{"sectors.10.1"}},
		{"capacity available over maximum", func(p *Profile) {
			p.Capacity = map[Family]Capacity{FamilySkills: {Available: 11, Maximum: 10, Unit: "seats"}}
		}, []string{"capacity.skills-and-training.available"}},
		{"capacity available negative", func(p *Profile) {
			p.Capacity = map[Family]Capacity{FamilySkills: {Available: -1, Maximum: 10, Unit: "seats"}}
		}, []string{"capacity.skills-and-training.available"}},
		{"capacity maximum negative", func(p *Profile) {
			p.Capacity = map[Family]Capacity{FamilySkills: {Available: 0, Maximum: -1, Unit: "seats"}}
		}, []string{"capacity.skills-and-training.maximum", "capacity.skills-and-training.available"}},
		{"capacity of a service, not a family", func(p *Profile) {
			p.Capacity = map[Family]Capacity{"prototyping": {Available: 1, Maximum: 2, Unit: "SMEs"}}
		}, []string{"capacity.prototyping"}},
		{"capacity unit missing", func(p *Profile) {
			p.Capacity = map[Family]Capacity{FamilyEcosystem: {Available: 1, Maximum: 2}}
		}, []string{"capacity.innovation-ecosystem.unit"}},
		{"capacity unit too long", func(p *Profile) {
			p.Capacity = map[Family]Capacity{FamilyEcosystem: {Available: 1, Maximum: 2, Unit: strings.Repeat("u", MaxUnitLen+1)}}
		}, []string{"capacity.innovation-ecosystem.unit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile()
			tt.edit(&p)
			if got := problemFields(t, p.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProfile_Validate_rules(t *testing.T) {
	p := validProfile()
	p.Regions = []string{"SE11"}
	p.Name = strings.Repeat("n", MaxNameLen+3)
	p.Technologies = map[string]int{"robotics": 6}
	err := p.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	want := []FieldError{
		{"name", "must be at most 120 characters, got 123"},
		{"regions.SE11", "must lie in the hub's country FI"},
		{"technologies.robotics", "level must be 1 to 5, got 6"},
	}
	if !reflect.DeepEqual(ve.Problems, want) {
		t.Errorf("got %v, want %v", ve.Problems, want)
	}
	if got, want := err.Error(), "invalid profile: name: must be at most 120 characters, got 123; "+
		"regions.SE11: must lie in the hub's country FI; technologies.robotics: level must be 1 to 5, got 6"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// brokenProfile breaks every rule it can at once; TestProfile_Validate_allProblems
// counts them and the fuzz tests start from it.
func brokenProfile() Profile {
	return Profile{
		ID:          "Hub_One",
		Name:        "",
		Title:       strings.Repeat("t", MaxTitleLen+1),
		Description: "\xff",
		Type:        "Hub",
		Country:     "FI",
		Regions:     []string{"XX99", "SE11", "FI"},
		Website:     "mailto:partners@hub.eu",
		Languages:   []string{"english", "fi", "FI"},
		Contact:     Contact{Email: "Partners <partners@hub.eu>", Phone: strings.Repeat("0", 41)},
		Technologies: map[string]int{
			"robotics": 0, "quantum": 3, "photonics": 6,
		},
		Services: map[string]int{"x": 1},
		Sectors:  map[string]int{"ZZ": 1, "C": 9},
		Capacity: map[Family]Capacity{
			FamilyTestBeforeInvest: {Available: 11, Maximum: 10, Unit: "SMEs"},
			"consulting":           {Available: 1, Maximum: 1, Unit: "SMEs"},
			FamilySkills:           {Available: 1, Maximum: 2},
		},
	}
}

func TestProfile_Validate_allProblems(t *testing.T) {
	p := brokenProfile()
	err := p.Validate()
	want := []string{
		"id", "name", "title", "description", "type",
		"regions.XX99", "regions.SE11", "regions.FI",
		"website", "languages.0", "languages.2", "contact.email", "contact.phone",
		"technologies.photonics", "technologies.quantum", "technologies.robotics",
		"services.x", "sectors.C", "sectors.ZZ",
		"capacity.consulting", "capacity.skills-and-training.unit", "capacity.test-before-invest.available",
	}
	got := problemFields(t, err)
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d", len(got), len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	var ve *ValidationError
	if errors.As(err, &ve) && ve.What != "profile" {
		t.Errorf("got What %q, want %q", ve.What, "profile")
	}
	// The same profile gives the same report: a user fixing them one by one sees a
	// stable list.
	if again := p.Validate(); again.Error() != err.Error() {
		t.Errorf("second Validate: got %v, want %v", again, err)
	}
}

func TestProfile_Validate_afterJSON(t *testing.T) {
	// What a hub reads from the wire validates as what its owner wrote.
	p := validProfile()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var got Profile
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("got %v, want nil", err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("got %+v, want %+v", got, p)
	}
}

func TestProfile_golden(t *testing.T) {
	b, err := json.Marshal(validProfile())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "profile", b)
}

func TestCapacity_Free(t *testing.T) {
	tests := []struct {
		c    Capacity
		want int
	}{
		{Capacity{Available: 3, Maximum: 10}, 3},
		{Capacity{Available: 0, Maximum: 10}, 0},
		{Capacity{Available: -2, Maximum: 10}, 0},
	}
	for _, tt := range tests {
		if got := tt.c.Free(); got != tt.want {
			t.Errorf("%+v: got %d, want %d", tt.c, got, tt.want)
		}
	}
}

// fixedTime is the clock of every deterministic fixture.
var fixedTime = time.Date(2025, 5, 14, 9, 30, 0, 123456789, time.UTC)

// TestProfile_Validate_inferredLanguages: a profile whose languages are guessed
// repeats them in languages, which nodes of every version require; languages that
// differ from the guesses are refused, naming the way out.
func TestProfile_Validate_inferredLanguages(t *testing.T) {
	guessed := func(langs ...string) Profile {
		p := validProfile()
		p.Languages = langs
		p.Inferred = &Inferred{Languages: []Hint{{Value: "fi", Source: "official language of FI"}, {Value: "sv", Source: "official language of FI"}}}
		return p
	}
	for _, langs := range [][]string{{"fi", "sv"}, {"sv", "fi"}} {
		p := guessed(langs...)
		if err := p.Validate(); err != nil {
			t.Errorf("languages %v repeating the guesses: %v", langs, err)
		}
		if got := p.GuessedLanguages(); len(got) != 2 {
			t.Errorf("languages %v: GuessedLanguages = %v, want the two hints", langs, got)
		}
	}
	for _, c := range []struct {
		langs []string
		want  string
	}{
		{nil, "languages: must list at least one language"},
		{[]string{"fi"}, "languages: must repeat the languages of inferred.languages (fi, sv), which mark them as guessed; to declare the hub's own languages, remove inferred.languages"},
		{[]string{"fi", "en"}, "languages: must repeat the languages of inferred.languages (fi, sv)"},
	} {
		p := guessed(c.langs...)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("languages %v: got %v, want %q", c.langs, err, c.want)
		}
	}
	// Declared languages without inferred ones are the hub's own.
	p := validProfile()
	if got := p.GuessedLanguages(); got != nil {
		t.Errorf("declared languages: GuessedLanguages = %v, want nil", got)
	}
}

// TestProfile_inferredOnTheWire reads an imported profile as a node of the version
// before inferred values reads it: without the inferred block. It is valid there,
// with the guessed languages as its languages.
func TestProfile_inferredOnTheWire(t *testing.T) {
	p := validProfile()
	p.Languages = []string{"fi", "sv"}
	p.Inferred = &Inferred{
		Regions:   []Hint{{Value: "FI1C1", Source: "Contact Location: town Turku"}},
		Languages: []Hint{{Value: "fi", Source: "official language of FI"}, {Value: "sv", Source: "official language of FI"}},
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var old Profile
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	old.Inferred = nil // a field the older node does not know
	if err := old.Validate(); err != nil {
		t.Errorf("the older node's view: %v", err)
	}
	if !slices.Equal(old.Languages, []string{"fi", "sv"}) {
		t.Errorf("the older node's languages: %v, want [fi sv]", old.Languages)
	}
}

// TestProfile_KeepInferred: an edit keeps the guesses it does not replace; changing
// the languages declares them.
func TestProfile_KeepInferred(t *testing.T) {
	cur := validProfile()
	cur.Languages = []string{"fi", "sv"}
	cur.Inferred = &Inferred{
		Regions:   []Hint{{Value: "FI1C1", Source: "Contact Location: town Turku"}},
		Languages: []Hint{{Value: "fi", Source: "official language of FI"}, {Value: "sv", Source: "official language of FI"}},
		Sectors:   []Hint{{Value: "O", Level: 3, Source: `catalogue sector "Defence" - 3`}},
	}
	same := validProfile()
	same.Languages = []string{"sv", "fi"}
	same.KeepInferred(&cur)
	if !reflect.DeepEqual(same.Inferred, cur.Inferred) {
		t.Errorf("languages unchanged: inferred %+v, want %+v", same.Inferred, cur.Inferred)
	}
	if err := same.Validate(); err != nil {
		t.Errorf("languages unchanged: %v", err)
	}
	declared := validProfile()
	declared.Languages = []string{"fi", "en"}
	declared.KeepInferred(&cur)
	want := &Inferred{Regions: cur.Inferred.Regions, Sectors: cur.Inferred.Sectors}
	if !reflect.DeepEqual(declared.Inferred, want) {
		t.Errorf("languages changed: inferred %+v, want %+v", declared.Inferred, want)
	}
	if err := declared.Validate(); err != nil || declared.GuessedLanguages() != nil {
		t.Errorf("languages changed: %v, guessed %v; want valid and declared", err, declared.GuessedLanguages())
	}
}
