package console

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hubnet-eu/hubnet/protocol"
)

// webForm is a form as the user filled it in, with the problems found, each filed
// under the form field it belongs to. Templates read it through its methods.
type webForm struct {
	Values url.Values
	errs   map[string][]string   // form field -> rules it breaks
	order  []string              // the fields in the order the page shows them
	labels map[string]string     // form field -> its label on the page, in English
	Other  []protocol.FieldError // problems of no field in the form
}

func newWebForm(v url.Values) *webForm {
	if v == nil {
		v = url.Values{}
	}
	return &webForm{Values: v, errs: map[string][]string{}}
}

// inOrder sets the order of the fields on the page, for the error summary.
func (f *webForm) inOrder(names []string) *webForm {
	f.order = names
	return f
}

// labelled sets the labels of the fields, which the error summary shows.
func (f *webForm) labelled(labels map[string]string) *webForm {
	f.labels = labels
	return f
}

// Label returns the label of the field as the page shows it, in English (the
// template translates it), or the field's name when the form has no label for it.
func (f *webForm) Label(name string) string {
	if l, ok := f.labels[name]; ok {
		return l
	}
	if l, ok := webFieldLabels[name]; ok {
		return l
	}
	if slug, ok := strings.CutPrefix(name, "technologies."); ok {
		return webTech(slug)
	}
	if slug, ok := strings.CutPrefix(name, "services."); ok {
		return webService(slug)
	}
	return name
}

// webFieldLabels are the labels of fields that mean the same on every form.
var webFieldLabels = map[string]string{
	"reason":    "Reason",
	"outcome":   "Outcome",
	"note":      "Note",
	"from":      "From",
	"to":        "Before",
	"(query)":   "The search's address",
	"available": "Free places now",
	"maximum":   "Maximum",
	"unit":      "Unit",
}

// Get returns the field's first value.
func (f *webForm) Get(name string) string { return f.Values.Get(name) }

// Has reports whether value is among the field's values, which may also be given
// comma-separated, as in a shared search URL.
func (f *webForm) Has(name, value string) bool {
	for _, s := range f.Values[name] {
		for part := range strings.SplitSeq(s, ",") {
			if strings.TrimSpace(part) == value {
				return true
			}
		}
	}
	return false
}

// List returns the field's values joined with ", ", for a text input holding a list.
func (f *webForm) List(name string) string {
	var out []string
	for _, s := range f.Values[name] {
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return strings.Join(out, ", ")
}

// Errors returns the rules the field breaks.
func (f *webForm) Errors(name string) webFieldErrors {
	return webFieldErrors{ID: "e-" + strings.TrimPrefix(webFieldID(name), "f-"), Rules: f.errs[name]}
}

// Invalid reports whether the field has a problem.
func (f *webForm) Invalid(name string) bool { return len(f.errs[name]) > 0 }

// Described returns the ids that describe the field: its hint, if any, and its
// errors when it has some, for aria-describedby.
func (f *webForm) Described(name, hint string) string {
	ids := []string{}
	if hint != "" {
		ids = append(ids, hint)
	}
	if f.Invalid(name) {
		ids = append(ids, f.Errors(name).ID)
	}
	return strings.Join(ids, " ")
}

// HasErrors reports whether there is any problem.
func (f *webForm) HasErrors() bool { return len(f.errs) > 0 || len(f.Other) > 0 }

// Summary lists every problem, those of fields first in the order of the page, for
// the error summary at the top of a form.
func (f *webForm) Summary() []webProblem {
	var out []webProblem
	names := slices.Sorted(maps.Keys(f.errs))
	rank := func(name string) int {
		if i := slices.Index(f.order, name); i >= 0 {
			return i
		}
		return len(f.order)
	}
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	for _, name := range names {
		for _, rule := range f.errs[name] {
			out = append(out, webProblem{Field: name, Label: f.Label(name), Link: "#" + webFieldID(name), Rule: rule})
		}
	}
	for _, p := range f.Other {
		out = append(out, webProblem{Field: p.Field, Label: f.Label(p.Field), Rule: p.Rule})
	}
	return out
}

type webProblem struct {
	Field string // the field's name in the form
	Label string // its label on the page, in English
	Link  string // "" when the problem has no field on the page
	Rule  string
}

// webFieldErrors are the problems of one field, with the id the field points to.
type webFieldErrors struct {
	ID    string
	Rules []string
}

// add files a problem under the form field fieldOf names, or under Other.
func (f *webForm) add(p protocol.FieldError, fieldOf func(string) string) {
	if name := fieldOf(p.Field); name != "" {
		if !slices.Contains(f.errs[name], p.Rule) {
			f.errs[name] = append(f.errs[name], p.Rule)
		}
		return
	}
	f.Other = append(f.Other, p)
}

// addError files err's field problems; it reports whether err was a validation
// error.
func (f *webForm) addError(err error, fieldOf func(string) string) bool {
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, p := range ve.Problems {
		f.add(p, fieldOf)
	}
	return true
}

// webInt reads a whole number from the form; blank gives nil. A value that is not
// a number is a problem of the field.
func webInt(v url.Values, name string, problems *[]protocol.FieldError) *int {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return nil
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		*problems = append(*problems, protocol.FieldError{Field: name, Rule: fmt.Sprintf("must be a whole number, got %q", s)})
		return nil
	}
	return &i
}

// webVocabulary is the vocabulary as the forms offer it.
type webVocabulary struct {
	Technologies []protocol.Technology
	Families     []protocol.FamilyInfo
	Services     []webServiceGroup
	Sectors      []webSectorGroup
	Countries    []protocol.Country
	Categories   []protocol.Category
	Types        []protocol.HubType
	Reaches      []webOption
	Decline      []string
	Fail         []string
	Cancel       []string
	Outcomes     []string
	States       []protocol.State
}

type webServiceGroup struct {
	Family   protocol.FamilyInfo
	Services []protocol.Service
}

type webSectorGroup struct {
	Section   protocol.Sector
	Divisions []protocol.Sector
}

type webOption struct{ Value, Label string }

// webVocab is built once: the lists never change while the process runs.
var webVocab = sync.OnceValue(func() *webVocabulary {
	v := &webVocabulary{
		Technologies: protocol.Technologies, Families: protocol.Families, Countries: protocol.Countries,
		Categories: protocol.Categories, Types: []protocol.HubType{protocol.HubEDIH, protocol.HubSoE, protocol.HubDIH},
		Reaches: []webOption{
			{"", "Anywhere"}, {string(protocol.ReachRegion), "Same region (NUTS 2) as the SME"},
			{string(protocol.ReachCountry), "Same country as the SME"},
			{string(protocol.ReachNeighbours), "The SME's country or a neighbouring one"},
		},
		Decline: protocol.DeclineReasons, Fail: protocol.FailReasons, Cancel: protocol.CancelReasons,
		Outcomes: protocol.Outcomes, States: protocol.States,
	}
	for _, f := range protocol.Families {
		g := webServiceGroup{Family: f}
		for _, s := range protocol.Services {
			if s.Family == f.Slug {
				g.Services = append(g.Services, s)
			}
		}
		if len(g.Services) > 0 {
			v.Services = append(v.Services, g)
		}
	}
	at := map[string]int{}
	for _, s := range protocol.Sections() {
		at[s.Code] = len(v.Sectors)
		v.Sectors = append(v.Sectors, webSectorGroup{Section: s})
	}
	for i := 1; i <= 99; i++ {
		if d, ok := protocol.SectorByCode(fmt.Sprintf("%02d", i)); ok && d.Level == 2 {
			g := &v.Sectors[at[d.Section]]
			g.Divisions = append(g.Divisions, d)
		}
	}
	return v
})
