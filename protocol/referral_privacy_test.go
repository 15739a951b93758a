package protocol

import (
	"slices"
	"strings"
	"testing"
)

func TestNeed_NamesSME(t *testing.T) {
	sme := SME{
		Name:         "Leipomo Esimerkki Oy",
		Website:      "https://www.leipomo-esimerkki.example.fi/yhteys",
		ContactName:  "Aino Virtanen",
		ContactEmail: "aino@leipomo-esimerkki.example.fi",
		ContactPhone: "+358 40 765 4321",
	}
	for _, tc := range []struct {
		name, desc string
		sme        func(*SME) // changes sme for this case; nil keeps it
		want       []string   // the SME's fields named in the rules, in order
	}{
		{"names nobody", "A bakery wants to test vision-based quality control on one line before it buys.", nil, nil},
		{"name as written", "Leipomo Esimerkki Oy wants to test machine vision.", nil, []string{"sme.name"}},
		{"name without legal form, other case", "LEIPOMO ESIMERKKI wants to test machine vision.", nil, []string{"sme.name"}},
		{"name run together", "#LeipomoEsimerkki wants machine vision.", nil, []string{"sme.name"}},
		{"name with a dash and accents", "Léipömo-Ésimerkki wants machine vision.", nil, []string{"sme.name"}},
		{"name split otherwise", "Leipo Moesimerkki wants machine vision.", nil, []string{"sme.name"}},
		{"a word of the name alone", "A leipomo (bakery) wants machine vision.", nil, nil},
		{"name parts apart", "Esimerkki, a leipomo, wants machine vision.", nil, nil},
		{"one-word name", "Esimerkki wants machine vision.", func(s *SME) { s.Name = "Esimerkki Oy" }, []string{"sme.name"}},
		{"ordinary word of a name", "A bakery wants machine vision.", func(s *SME) { s.Name = "Example Bakery Oy" }, nil},
		{"legal forms and short parts left out", "Konepaja Virtanen wants a robot cell.",
			func(s *SME) { s.Name, s.ContactName = "Konepaja J. Virtanen GmbH", "Eero Example" }, []string{"sme.name"}},
		{"short parts left out of the description too", "Konepaja J. Virtanen wants a robot cell.",
			func(s *SME) { s.Name, s.ContactName = "Konepaja Virtanen Ltd", "Eero Example" }, []string{"sme.name"}},
		{"name of legal forms only", "The AB and the Oy want a robot cell.", func(s *SME) { s.Name = "AB Oy Ltd" }, nil},
		{"contact person", "Aino Virtanen, the owner, wants machine vision.", nil, []string{"sme.contact_name", "sme.contact_email"}},
		{"contact person's surname only", "Ms Virtanen wants machine vision.", nil, nil},
		{"e-mail", "Write to AINO@leipomo-esimerkki.example.fi for details.", nil, // the host holds the name
			[]string{"sme.name", "sme.contact_email", "sme.website"}},
		{"e-mail's local part", "Ask Aino about the line.", nil, []string{"sme.contact_email"}},
		{"local part of two words", "Ask aino virtanen about the line.",
			func(s *SME) { s.ContactName, s.ContactEmail = "A. V.", "aino.virtanen@example.fi" }, []string{"sme.contact_email"}},
		{"role mailbox", "More info from the owner.", func(s *SME) { s.ContactEmail = "info@example.fi" }, nil},
		{"phone as written", "Call +358 40 765 4321.", nil, []string{"sme.contact_phone"}},
		{"phone in national form", "Call 040-765 43 21.", nil, []string{"sme.contact_phone"}},
		{"phone's last digits", "Call (765) 4321.", nil, []string{"sme.contact_phone"}},
		{"too few digits", "Line 4321 fails.", nil, nil},
		{"numbers apart", "12 people, 765 machines, 4,321 products a day.", nil, nil},
		{"short phone ignored", "Room 12345.", func(s *SME) { s.ContactPhone = "12345" }, nil},
		{"website", "See leipomo-esimerkki.example.fi/tuotteet.", nil, []string{"sme.name", "sme.website"}},
		{"website with www", "See https://WWW.Leipomo-Esimerkki.example.fi.", nil, []string{"sme.name", "sme.website"}},
		{"website alone", "See vision-lab.example.", func(s *SME) { s.Website = "http://vision-lab.example:8080" }, []string{"sme.website"}},
		{"website inside another host", "See notleipomo-esimerkki.example.fi.", nil, nil},
		{"everything", "Leipomo Esimerkki (leipomo-esimerkki.example.fi), Aino Virtanen, 040 765 4321.", nil,
			[]string{"sme.name", "sme.contact_name", "sme.contact_email", "sme.contact_phone", "sme.website"}},
		{"empty SME", "Leipomo Esimerkki wants machine vision.", func(s *SME) { *s = SME{} }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sme
			if tc.sme != nil {
				tc.sme(&s)
			}
			n := validNeed()
			n.Description = tc.desc
			var got []string
			for _, p := range n.NamesSME(s) {
				if p.Field != "description" || !strings.HasPrefix(p.Rule, "must not name the SME: it contains ") {
					t.Errorf("got problem %+v, want field description and a rule that says why", p)
				}
				field := p.Rule[strings.LastIndex(p.Rule, "(")+1 : len(p.Rule)-1]
				got = append(got, field)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%q: got %v, want %v", tc.desc, got, tc.want)
			}
		})
	}
}

func TestNeed_NamesSME_rule(t *testing.T) {
	n := validNeed()
	n.Description = "Leipomo Esimerkki wants machine vision."
	got := n.NamesSME(SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example"})
	want := []FieldError{{Field: "description", Rule: "must not name the SME: it contains the SME's name (sme.name)"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
