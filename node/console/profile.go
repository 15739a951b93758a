package console

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The profile form of the hub's own page: POST /me/profile.

// profileFormOrder is the order of the profile form's fields, for the error summary.
var profileFormOrder = func() []string {
	out := []string{"name", "title", "type", "country", "regions", "website", "languages", "categories", "description",
		"contact.role", "contact.email", "contact.phone"}
	for _, t := range protocol.Technologies {
		out = append(out, "technologies."+t.Slug)
	}
	for _, s := range protocol.Services {
		out = append(out, "services."+s.Slug)
	}
	return append(out, "sectors")
}()

// profileLabels are the profile form's labels, for the error summary.
var profileLabels = map[string]string{
	"name": "Name", "title": "Title (one line on what the hub does, optional)", "type": "Type", "country": "Country",
	"regions": "Regions", "website": "Website", "languages": "Languages", "categories": "Customers served",
	"description": "Description", "contact.role": "Contact role", "contact.email": "Contact e-mail",
	"contact.phone": "Contact phone", "sectors": "Sectors",
}

// profileValues fills the profile form from a profile.
func profileValues(p *protocol.Profile) url.Values {
	v := url.Values{}
	if p == nil {
		return v
	}
	v.Set("name", p.Name)
	v.Set("title", p.Title)
	v.Set("type", string(p.Type))
	v.Set("country", p.Country)
	v.Set("regions", strings.Join(p.Regions, ", "))
	v.Set("website", p.Website)
	v.Set("languages", strings.Join(p.Languages, ", "))
	for _, c := range p.Categories {
		v.Add("categories", string(c))
	}
	v.Set("description", p.Description)
	v.Set("contact.role", p.Contact.Role)
	v.Set("contact.email", p.Contact.Email)
	v.Set("contact.phone", p.Contact.Phone)
	for slug, l := range p.Technologies {
		v.Set("technologies."+slug, strconv.Itoa(l))
	}
	for slug, l := range p.Services {
		v.Set("services."+slug, strconv.Itoa(l))
	}
	var sectors []string
	for _, code := range slices.SortedFunc(maps.Keys(p.Sectors), func(a, b string) int {
		return cmp.Or(cmp.Compare(p.Sectors[b], p.Sectors[a]), strings.Compare(a, b))
	}) {
		sectors = append(sectors, fmt.Sprintf("%s:%d", code, p.Sectors[code]))
	}
	v.Set("sectors", strings.Join(sectors, ", "))
	return v
}

// webList splits a comma-separated field into its trimmed, non-blank parts.
func webList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// profileFromForm builds a profile from the form over cur, whose ID and capacity it
// keeps; problems are those of values that could not be read at all.
func profileFromForm(f url.Values, cur *protocol.Profile) (protocol.Profile, []protocol.FieldError) {
	var problems []protocol.FieldError
	p := protocol.Profile{
		Name:        strings.TrimSpace(f.Get("name")),
		Title:       strings.TrimSpace(f.Get("title")),
		Type:        protocol.HubType(f.Get("type")),
		Country:     f.Get("country"),
		Website:     strings.TrimSpace(f.Get("website")),
		Languages:   webList(f.Get("languages")),
		Description: strings.TrimSpace(f.Get("description")),
		Contact: protocol.Contact{
			Role:  strings.TrimSpace(f.Get("contact.role")),
			Email: strings.TrimSpace(f.Get("contact.email")),
			Phone: strings.TrimSpace(f.Get("contact.phone")),
		},
	}
	if cur != nil {
		p.ID, p.Capacity = cur.ID, cur.Capacity
		p.KeepInferred(cur)
	}
	for _, r := range webList(f.Get("regions")) {
		p.Regions = append(p.Regions, strings.ToUpper(r))
	}
	for _, c := range f["categories"] {
		p.Categories = append(p.Categories, protocol.Category(c))
	}
	levels := func(prefix string, slugs []string) map[string]int {
		m := map[string]int{}
		for _, slug := range slugs {
			s := f.Get(prefix + slug)
			if s == "" {
				continue
			}
			l, err := strconv.Atoi(s)
			if err != nil {
				problems = append(problems, protocol.FieldError{Field: prefix + slug, Rule: fmt.Sprintf("level must be 1 to 5, got %q", s)})
				continue
			}
			m[slug] = l
		}
		return m
	}
	var techs, svcs []string
	for _, t := range protocol.Technologies {
		techs = append(techs, t.Slug)
	}
	for _, s := range protocol.Services {
		svcs = append(svcs, s.Slug)
	}
	p.Technologies, p.Services = levels("technologies.", techs), levels("services.", svcs)
	p.Sectors = map[string]int{}
	for _, entry := range webList(f.Get("sectors")) {
		code, level, ok := strings.Cut(entry, ":")
		code = strings.ToUpper(strings.TrimSpace(code))
		l, err := strconv.Atoi(strings.TrimSpace(level))
		_, dup := p.Sectors[code]
		switch {
		case !ok || code == "" || err != nil:
			problems = append(problems, protocol.FieldError{Field: "sectors",
				Rule: fmt.Sprintf("%q must be a NACE code and a level, such as C:4", entry)})
		case dup:
			problems = append(problems, protocol.FieldError{Field: "sectors", Rule: fmt.Sprintf("%s is listed twice", code)})
		default:
			p.Sectors[code] = l
		}
	}
	return p, problems
}

// profileField names the profile form field of a problem: "regions.XX999" is the
// regions field, "technologies.ai" its own select.
func profileField(field string) string {
	head, _, _ := strings.Cut(field, ".")
	switch head {
	case "name", "title", "type", "country", "regions", "website", "languages", "categories", "description", "sectors":
		return head
	case "contact", "technologies", "services":
		if slices.Contains(profileFormOrder, field) {
			return field
		}
	}
	return ""
}

// addProfileProblem files a problem of the profile under its form field; a problem
// of one entry of a list field names the entry.
func addProfileProblem(f *webForm, p protocol.FieldError) {
	if head, key, ok := strings.Cut(p.Field, "."); ok && (head == "regions" || head == "sectors") {
		p.Rule = key + " " + p.Rule
	}
	f.add(p, profileField)
}

// saveProfile is POST /me/profile: the whole profile, from the form.
func (c *Console) saveProfile(w http.ResponseWriter, r *http.Request, v *webView) {
	f := newWebForm(r.PostForm).inOrder(profileFormOrder).labelled(profileLabels)
	cur, err := c.n.Profile()
	var curp *protocol.Profile
	switch {
	case err == nil:
		curp = &cur
	case !errors.Is(err, node.ErrNoProfile):
		c.fail(w, r, v, http.StatusInternalServerError, err.Error())
		return
	}
	p, problems := profileFromForm(r.PostForm, curp)
	if p.ID == "" {
		p.ID = c.n.ID()
	}
	var ve *protocol.ValidationError
	if err := p.Validate(); errors.As(err, &ve) {
		problems = append(problems, ve.Problems...)
	}
	if len(problems) > 0 {
		for _, pr := range problems {
			addProfileProblem(f, pr)
		}
		c.renderMe(w, r, v, http.StatusBadRequest, meForms{profile: f})
		return
	}
	saved, err := c.n.PutProfile(p)
	switch {
	case err == nil:
		c.n.Logger().Info("profile changed in the console", "revision", saved.Revision)
		http.Redirect(w, r, "/me?profile="+strconv.FormatUint(saved.Revision, 10), http.StatusSeeOther)
	case errors.As(err, &ve):
		for _, pr := range ve.Problems {
			addProfileProblem(f, pr)
		}
		c.renderMe(w, r, v, http.StatusBadRequest, meForms{profile: f})
	default:
		status, msg := consoleError(err)
		c.renderMe(w, r, v, status, meForms{profile: f, msg: msg})
	}
}
