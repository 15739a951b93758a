package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

func newHubsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "hubs [ID]",
		Short: a.T("List the hubs in this node's directory, or show one"),
		Long: a.T(`List every hub whose profile this node holds, this hub included, or with ID show
that hub's profile: where it works, in which languages, what it is good at and how
much room it has. The directory is local: it answers while the network is split, and
a hub that went away stays listed as not reachable.`),
		Example: "  hubnet -d ./hub hubs\n  hubnet -d ./hub hubs robocoast\n  hubnet --node http://127.0.0.1:7480 hubs --json",
		Args:    maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return fail("list hubs", err, "")
			}
			w := cmd.OutOrStdout()
			if len(args) == 1 {
				var h api.HubInfo
				raw, err := c.call(anyone, func(ac *api.Client) (err error) {
					h, err = ac.Hub(cmd.Context(), args[0])
					return err
				})
				if err != nil {
					var ae *apiError
					if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
						return fail(a.T("show hub %s", args[0]), errors.New(a.T("not in this node's directory")), "see 'hubnet hubs' for the hubs it knows")
					}
					return fail(a.T("show hub %s", args[0]), err, "")
				}
				if a.json {
					_, err := w.Write(raw)
					return err
				}
				return a.printHub(w, h, time.Now())
			}
			var hubs []api.HubInfo
			raw, err := c.call(anyone, func(ac *api.Client) (err error) {
				hubs, err = ac.Hubs(cmd.Context())
				return err
			})
			if err != nil {
				return fail("list hubs", err, "")
			}
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			now := time.Now()
			t := newTable(w, a.T("ID"), a.T("NAME"), a.T("COUNTRY"), a.T("TYPE"), a.T("REV"), a.T("REACHABLE"), a.T("LAST SEEN"))
			for _, h := range hubs {
				seen := a.ago(h.LastSeen, now)
				if h.Self {
					seen = a.T("self")
				}
				t.row(h.ID, h.Profile.Name, h.Profile.Country, h.Profile.Type, h.Revision, a.yesNo(h.Reachable), seen)
			}
			return t.flush()
		},
	}
}

// maxArgs is cobra.MaximumNArgs as a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes at most %d argument (%s), got %d", cmd.CommandPath(), n, cmd.Use, len(args))
		}
		return nil
	}
}

// printHub writes one hub's profile for people to read.
func (a *app) printHub(w io.Writer, h api.HubInfo, now time.Time) error {
	p := h.Profile
	country := p.Country
	if _, ok := protocol.CountryByCode(p.Country); ok {
		country += " (" + a.lang.Country(p.Country) + ")"
	}
	status := a.T("reachable")
	if !h.Reachable {
		status = a.T("not reachable")
	}
	seen := a.T("last seen %s", a.ago(h.LastSeen, now))
	if h.Self {
		seen = a.T("this hub")
	}

	// The names of the fields, in the language, padded to the longest.
	names := map[string]string{}
	width := 11 // as wide as the English "languages:" and a space
	for _, n := range []string{msg("title"), msg("type"), msg("country"), msg("regions"), msg("languages"),
		msg("website"), msg("contact"), msg("revision")} {
		names[n] = a.lang.Text(n) + ":"
		width = max(width, utf8.RuneCountInString(names[n]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", h.ID, p.Name)
	field := func(name, value string) {
		label := names[name]
		if value != "" {
			fmt.Fprintf(&b, "  %s%s %s\n", label, strings.Repeat(" ", width-utf8.RuneCountInString(label)), value)
		}
	}
	field("title", p.Title)
	field("type", string(p.Type))
	field("country", country)
	for i, code := range p.Regions {
		if i == 0 {
			field("regions", regionName(code))
		} else {
			field("", regionName(code))
		}
	}
	for i, h := range p.GuessedRegions() {
		name := a.T("probably %s, region from the address", regionName(h.Value))
		if i == 0 {
			field("regions", name)
		} else {
			field("", name)
		}
	}
	if guessed := p.GuessedLanguages(); len(guessed) > 0 {
		tags := make([]string, len(guessed))
		for i, h := range guessed {
			tags[i] = h.Value
		}
		field("languages", a.T("probably %s, its country's, not declared", a.languageNames(tags)))
	} else {
		field("languages", a.languageNames(p.Languages))
	}
	field("website", p.Website)
	contact := strings.Join(nonEmpty(p.Contact.Role, p.Contact.Email, p.Contact.Phone), ", ")
	field("contact", contact)
	field("revision", fmt.Sprintf("%d, %s, %s", h.Revision, status, seen))

	levels(&b, a.T("technologies (level 1-5):"), p.Technologies, a.techLabel)
	levels(&b, a.T("services (level 1-5):"), p.Services, func(slug string) string {
		if s, ok := protocol.ServiceBySlug(slug); ok {
			return a.lang.Text(s.Label) + " (" + a.familyLabel(s.Family) + ")"
		}
		return slug
	})
	levels(&b, a.T("sectors (level 1-5):"), p.Sectors, func(code string) string {
		if s, ok := protocol.SectorByCode(code); ok {
			return code + " " + a.lang.Text(s.Name)
		}
		return code
	})
	if len(p.Capacity) > 0 {
		b.WriteString(a.T("capacity (available of maximum):") + "\n")
		for _, f := range protocol.Families {
			c, ok := p.Capacity[f.Slug]
			if !ok {
				continue
			}
			label := a.familyLabel(f.Slug)
			pad := strings.Repeat(" ", max(0, 30-utf8.RuneCountInString(label)))
			line := "  " + label + pad + " " + a.T("%3d of %d %s", c.Available, c.Maximum, a.unit(c.Unit))
			if !c.Updated.IsZero() {
				line += a.T(", updated %s", c.Updated.Local().Format("2006-01-02 15:04"))
			}
			if c.Stale(now) {
				line += " (" + a.T("stale") + ")"
			}
			b.WriteString(line + "\n")
		}
	}
	a.guesses(&b, p)
	_, err := io.WriteString(w, b.String())
	return err
}

// guesses writes what was inferred about the hub and counts for search, each value
// with its source: the regions and languages when the hub declared none, and the
// sectors read from a catalogue label.
func (a *app) guesses(b *strings.Builder, p protocol.Profile) {
	type line struct{ what, source string }
	var lines []line
	for _, h := range p.GuessedRegions() {
		lines = append(lines, line{a.T("region %s", h.Value), h.Source})
	}
	for _, h := range p.GuessedLanguages() {
		lines = append(lines, line{a.T("language %s", h.Value), h.Source})
	}
	if p.Inferred != nil {
		for _, h := range p.Inferred.Sectors {
			lines = append(lines, line{a.T("sector %s level %d", h.Value, h.Level), h.Source})
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString(a.T("guessed, not declared (ranks the hub, never excludes it):") + "\n")
	for _, l := range lines {
		pad := strings.Repeat(" ", max(0, 18-utf8.RuneCountInString(l.what)))
		fmt.Fprintf(b, "  %s%s %s\n", l.what, pad, l.source)
	}
}

// regionName is a NUTS code with its region's name: "FI1C1 Varsinais-Suomi".
func regionName(code string) string {
	if r, ok := protocol.RegionByCode(code); ok {
		return code + " " + r.Name
	}
	return code
}

// languageNames is a list of language tags with their names: "fi (Finnish), en (English)".
func (a *app) languageNames(tags []string) string {
	out := make([]string, len(tags))
	for i, tag := range tags {
		out[i] = tag
		if n := a.lang.Language(tag); n != tag {
			out[i] += " (" + n + ")"
		}
	}
	return strings.Join(out, ", ")
}

// levels writes a map of specialisations under its title, strongest first, with
// their labels.
func levels(b *strings.Builder, title string, m map[string]int, label func(string) string) {
	if len(m) == 0 {
		return
	}
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	b.WriteString(title + "\n")
	for _, k := range keys {
		fmt.Fprintf(b, "  %d  %s\n", m[k], label(k))
	}
}

func nonEmpty(s ...string) []string {
	out := s[:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
