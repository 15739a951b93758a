package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// searchFlags are the flags of `hubnet search`, one per field of the query.
type searchFlags struct {
	tech, service, lang, types []string
	family, sector, country    string
	region, reach, category    string
	text                       string
	minCapacity, limit         int
	live                       bool
	timeout                    time.Duration
}

// flagOfField names the flag for a field of the query, as the node names it.
var flagOfField = map[string]string{
	"technologies": "--tech", "services": "--service", "family": "--family", "sector": "--sector",
	"country": "--country", "region": "--region", "reach": "--reach", "languages": "--languages",
	"category": "--category", "min_capacity": "--min-capacity", "types": "--type", "text": "--text",
	"limit": "--limit", "timeout_ms": "--timeout",
}

func newSearchCmd(a *app) *cobra.Command {
	var f searchFlags
	cmd := &cobra.Command{
		Use:   "search",
		Short: a.T("Find the partner hubs that fit an SME's need, best first"),
		Long: a.T(`Rank the hubs of this node's directory against what you know of the SME: the
technologies and services it needs, its sector, where it is and how far it may go,
the languages it works in, its size, and the free capacity it needs. Each hub comes
with the reasons for its place. Every flag is optional; lists take several values,
comma-separated or by repeating the flag.

Hard filters: a hub must offer at least one wanted technology and one wanted
service, offer the family, lie within --reach, work in one of --languages, serve the
--category, be of one of --type, have --min-capacity free places in the family and
contain every word of --text. The sector, languages, capacity and distance only
rank. docs/matching.md explains the score.

Without --live the search reads the node's cached directory: it is instant and
works while the network is split. With --live the node also asks every reachable
hub for its capacity now, waits at most --timeout, and says which hubs answered.

Values: technologies, services and families are slugs (see 'hubnet vocab'), sectors
NACE sections (C) or divisions (10), places Eurostat country codes (FI, EL) and NUTS
2021 regions (FI1C1), languages BCP 47 tags (fi, en).`),
		Example: `  hubnet search --tech ai-decision-support --family test-before-invest --region FI1C1
  hubnet search --tech robotics,internet-of-things --sector 10 --country FI --reach neighbours --languages fi,en
  hubnet search --family skills-and-training --min-capacity 2 --live --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return fail("search", err, "")
			}
			var (
				res api.SearchResult
				raw []byte
			)
			if f.live {
				if f.timeout < 0 || f.timeout > node.MaxQueryTimeout {
					return usagef("--timeout must be 0 to %v, got %v", node.MaxQueryTimeout, f.timeout)
				}
				raw, err = c.call(anyone, func(ac *api.Client) (err error) {
					res, err = ac.Query(cmd.Context(), api.LiveQuery{Query: f.query(), TimeoutMS: f.timeout.Milliseconds()})
					return err
				})
			} else {
				raw, err = c.call(anyone, func(ac *api.Client) (err error) {
					res, err = ac.Search(cmd.Context(), f.query())
					return err
				})
			}
			if err != nil {
				return fail("search", flagNames(err), "")
			}
			if a.json {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			return a.printSearch(cmd.OutOrStdout(), res, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.tech, "tech", nil, a.T("technologies wanted (slugs, e.g. ai-decision-support)"))
	fl.StringSliceVar(&f.service, "service", nil, a.T("services wanted (slugs, e.g. prototyping)"))
	fl.StringVar(&f.family, "family", "", a.T("service family wanted (e.g. test-before-invest)"))
	fl.StringVar(&f.sector, "sector", "", a.T("the SME's sector: NACE section (C) or division (10)"))
	fl.StringVar(&f.country, "country", "", a.T("the SME's country (Eurostat code, e.g. FI)"))
	fl.StringVar(&f.region, "region", "", a.T("the SME's NUTS 3 (or NUTS 2) region, e.g. FI1C1"))
	fl.StringVar(&f.reach, "reach", "", a.T("how far the SME may go: region, country, neighbours or anywhere"))
	fl.StringSliceVar(&f.lang, "languages", nil, a.T("languages the SME works in, preferred first (e.g. fi,en)"))
	fl.StringVar(&f.category, "category", "", a.T("the SME's category: %s", strings.Join(categoryNames(), ", ")))
	fl.IntVar(&f.minCapacity, "min-capacity", 0, a.T("free places needed in --family"))
	fl.StringSliceVar(&f.types, "type", nil, a.T("hub types accepted: EDIH, SoE, DIH"))
	fl.StringVar(&f.text, "text", "", a.T("words that must begin words of the hub's name, title or description"))
	fl.BoolVar(&f.live, "live", false, a.T("ask the hubs for their capacity now"))
	fl.DurationVar(&f.timeout, "timeout", 0, a.T("with --live: how long to wait for answers (default 1.5s)"))
	fl.IntVar(&f.limit, "limit", 0, a.T("how many hubs to list (default 20, at most 500)"))
	return cmd
}

// query is the flags as a query, normalized as the node would: codes in any case and
// labels become the values the API documents.
func (f *searchFlags) query() protocol.Query {
	q := protocol.Query{
		Technologies: f.tech, Services: f.service, Family: protocol.Family(f.family), Sector: f.sector,
		Country: f.country, Region: f.region, Reach: protocol.Reach(f.reach), Languages: f.lang,
		Category: protocol.Category(f.category), MinCapacity: f.minCapacity, Text: f.text, Limit: f.limit,
	}
	for _, t := range f.types {
		q.Types = append(q.Types, protocol.HubType(t))
	}
	q.Normalize()
	return q
}

// flagNames renames the fields of the node's field problems to the flags that set
// them, so "technologies.0" reads "--tech".
func flagNames(err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return err
	}
	for i, p := range ae.Body.Problems {
		name, _, _ := strings.Cut(p.Field, ".")
		if flag, ok := flagOfField[name]; ok {
			ae.Body.Problems[i].Field = flag
		}
	}
	return err
}

func categoryNames() []string {
	out := make([]string, len(protocol.Categories))
	for i, c := range protocol.Categories {
		out[i] = string(c)
	}
	return out
}

// printSearch writes the ranked hubs, each with its explanation on the line below.
// The explanation is written from the reasons' data when the node gave it, in the
// language of the command line, else as the node wrote it.
func (a *app) printSearch(w io.Writer, res api.SearchResult, now time.Time) error {
	var b strings.Builder
	switch {
	case res.Total == 0:
		b.WriteString(a.T("No hub matches. Widen --reach, drop a filter or lower --min-capacity.") + "\n")
	case res.Total > len(res.Hits):
		b.WriteString(a.T("%d hubs match; the best %d:", res.Total, len(res.Hits)) + "\n\n")
	case res.Total == 1:
		b.WriteString(a.T("1 hub matches, best first:") + "\n\n")
	default:
		b.WriteString(a.T("%d hubs match, best first:", res.Total) + "\n\n")
	}
	head := []string{"#", a.T("HUB"), a.T("NAME"), a.T("COUNTRY"), a.T("TYPE"), a.T("SCORE"), a.T("FREE")}
	idW, nameW, countryW, typeW := utf8.RuneCountInString(head[1]), utf8.RuneCountInString(head[2]), max(7, utf8.RuneCountInString(head[3])), max(4, utf8.RuneCountInString(head[4]))
	for _, h := range res.Hits {
		idW, nameW = max(idW, len(h.ID)), max(nameW, min(utf8.RuneCountInString(h.Name), 40))
	}
	scoreW := max(5, utf8.RuneCountInString(head[5]))
	pad := func(s string, w int) string { return s + strings.Repeat(" ", max(0, w-utf8.RuneCountInString(s))) }
	if len(res.Hits) > 0 {
		fmt.Fprintf(&b, "%3s  %s  %s  %s  %s  %*s  %s\n", head[0], pad(head[1], idW), pad(head[2], nameW), pad(head[3], countryW), pad(head[4], typeW), scoreW, head[5], head[6])
	}
	for _, h := range res.Hits {
		free := "-"
		if h.Free != nil {
			free = strconv.Itoa(*h.Free)
			if slices.Contains(h.StaleCapacity, res.Query.Family) {
				free += ", " + a.T("stale")
			}
		}
		var notes []string
		if !h.Reachable {
			notes = append(notes, a.T("not reachable, last seen %s", a.ago(h.LastSeen, now)))
		}
		if res.Live != nil && !h.Answered && h.Reachable {
			notes = append(notes, a.T("did not answer: cached capacity"))
		}
		name := h.Name
		if utf8.RuneCountInString(name) > 40 {
			name = string([]rune(name)[:39]) + "…"
		}
		fmt.Fprintf(&b, "%3d  %s  %s  %s  %s  %*s  %s", h.Rank, pad(h.ID, idW), pad(name, nameW), pad(h.Country, countryW), pad(string(h.Type), typeW), scoreW, a.lang.Printer().Sprintf("%.1f", h.Score), free)
		if len(notes) > 0 {
			b.WriteString("  (" + strings.Join(notes, "; ") + ")")
		}
		b.WriteString("\n")
		if why := a.lang.Why(h.Why, h.Explanation); why != "" {
			fmt.Fprintf(&b, "%3s  %s\n", "", why)
		}
		if res.Query.Family == "" {
			if c := a.capacityLine(h); c != "" {
				fmt.Fprintf(&b, "%3s  %s\n", "", a.T("free: %s", c))
			}
		}
		if g := a.hitGuesses(h); len(g) > 0 {
			fmt.Fprintf(&b, "%3s  %s\n", "", a.T("guessed: %s", strings.Join(g, "; ")))
		}
	}
	if l := res.Live; l != nil {
		b.WriteString("\n" + a.T("Live: asked %d hubs, %d answered in %s ms (deadline %d ms).", len(l.Asked), len(l.Answered),
			a.lang.Printer().Sprintf("%.0f", l.TookMS), l.TimeoutMS) + "\n")
		if len(l.Late) > 0 {
			b.WriteString(a.T("Did not answer in time: %s.", strings.Join(l.Late, ", ")) + "\n")
		}
		if len(l.Failed) > 0 {
			b.WriteString(a.T("Answered with an error: %s.", strings.Join(l.Failed, ", ")) + "\n")
		}
		if len(l.Unreachable) > 0 {
			b.WriteString(a.T("Could match, not reachable: %s.", strings.Join(l.Unreachable, ", ")) + "\n")
		}
		if len(l.NotAsked) > 0 {
			b.WriteString(a.T("Could match, not asked (past this hub's bound): %s.", strings.Join(l.NotAsked, ", ")) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// capacityLine says, for a search without a family, the free places of every family
// the hub publishes, in the order of protocol.Families: "test before invest 4 of 10,
// skills and training 9 of 12 (SMEs per month)". "" for a hub that publishes none.
func (a *app) capacityLine(h api.Hit) string {
	var parts []string
	units := map[string]bool{}
	for _, f := range protocol.Families {
		c, ok := h.Capacity[f.Slug]
		if !ok {
			continue
		}
		p := a.T("%s %d of %d", a.familyLabel(f.Slug), c.Free(), c.Maximum)
		if slices.Contains(h.StaleCapacity, f.Slug) {
			p += " (" + a.T("stale") + ")"
		}
		parts = append(parts, p)
		units[c.Unit] = true
	}
	if len(parts) == 0 {
		return ""
	}
	line := strings.Join(parts, ", ")
	if len(units) == 1 {
		for u := range units {
			line += " (" + a.unit(u) + ")"
		}
	}
	return line
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// hitGuesses says which of the hit's values are guesses and which capacity is stale, as
// api.Hit.Guesses does, in the language of the command line.
func (a *app) hitGuesses(h api.Hit) []string {
	var out []string
	if len(h.InferredLanguages) > 0 {
		tags := make([]string, len(h.InferredLanguages))
		for i, l := range h.InferredLanguages {
			tags[i] = l.Value
			if n := a.lang.Language(l.Value); n != l.Value {
				tags[i] += " (" + n + ")"
			}
		}
		if len(tags) > 1 {
			out = append(out, a.T("probably works in %s, its country's languages, not declared", strings.Join(tags, ", ")))
		} else {
			out = append(out, a.T("probably works in %s, its country's language, not declared", tags[0]))
		}
	}
	for _, r := range h.InferredRegions {
		name := r.Value
		if reg, ok := protocol.RegionByCode(r.Value); ok {
			name += " " + reg.Name
		}
		out = append(out, a.T("region %s from the address, not declared", name))
	}
	for _, fam := range h.StaleCapacity {
		label := a.familyLabel(fam)
		if c, ok := h.Capacity[fam]; ok && !c.Updated.IsZero() {
			// The layout of a date is a message too: "2.1.2006" in German.
			out = append(out, a.T("capacity of %s stale: updated %s", label, c.Updated.UTC().Format(a.T(dateLayout))))
		} else {
			out = append(out, a.T("capacity of %s stale", label))
		}
	}
	return out
}

// dateLayout is the layout of a date in a line of text, as time.Format takes it; a
// language translates it with its own order and words.
const dateLayout = "2 Jan 2006"
