package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/protocol"
)

// vocabLists are the lists `hubnet vocab` prints.
var vocabLists = []string{"technologies", "services", "families", "sectors", "countries", "regions", "categories", "types"}

func newVocabCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "vocab LIST [COUNTRY]",
		Short: a.T("List the values profiles and searches use: technologies, services, sectors ..."),
		Long: a.T(`Print one list of the federation's vocabulary, with the value to type and what
it means: technologies, services (with their family), families, sectors (NACE
sections and divisions), countries, regions (NUTS 2021 of a COUNTRY), categories
(customer categories) or types (hub types).`),
		Example: "  hubnet vocab technologies\n  hubnet vocab regions FI\n  hubnet vocab sectors --json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || len(args) > 2 {
				return usagef("name one list: %s", strings.Join(vocabLists, ", "))
			}
			if (args[0] == "regions") != (len(args) == 2) {
				return usagef("only regions takes a COUNTRY, and needs it: hubnet vocab regions FI")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			type entry struct {
				Value   string `json:"value"`
				Meaning string `json:"meaning"`
			}
			// The meanings are in the language of the command line in a table, in
			// English in JSON, as the API writes them.
			tr := a.lang.Text
			if a.json {
				tr = func(s string) string { return s }
			}
			var list []entry
			add := func(v, m string) { list = append(list, entry{v, m}) }
			switch args[0] {
			case "technologies":
				for _, t := range protocol.Technologies {
					add(t.Slug, tr(t.Label))
				}
			case "services":
				for _, s := range protocol.Services {
					add(s.Slug, tr(s.Label)+" ("+string(s.Family)+")")
				}
			case "families":
				for _, f := range protocol.Families {
					add(string(f.Slug), tr(f.Label))
				}
			case "sectors":
				for _, s := range protocol.Sections() {
					add(s.Code, tr(s.Name))
					for d := 1; d <= 99; d++ {
						if div, ok := protocol.SectorByCode(fmt.Sprintf("%02d", d)); ok && div.Section == s.Code {
							add(div.Code, "  "+tr(div.Name))
						}
					}
				}
			case "countries":
				for _, c := range protocol.Countries {
					if a.json {
						add(c.Code, c.Name)
					} else {
						add(c.Code, a.lang.Country(c.Code))
					}
				}
			case "regions":
				c, ok := protocol.CountryByCode(strings.ToUpper(args[1]))
				if !ok {
					return usagef("unknown country %q; see hubnet vocab countries", args[1])
				}
				var regions []protocol.Region
				for level := 1; level <= 3; level++ {
					regions = append(regions, protocol.RegionsOf(c.Code, level)...)
				}
				slices.SortFunc(regions, func(x, y protocol.Region) int { return strings.Compare(x.Code, y.Code) })
				for _, r := range regions {
					add(r.Code, strings.Repeat("  ", r.Level-1)+r.Name)
				}
			case "categories":
				for _, c := range protocol.Categories {
					add(string(c), "")
				}
			case "types":
				add(string(protocol.HubEDIH), tr(msg("European Digital Innovation Hub")))
				add(string(protocol.HubSoE), tr(msg("hub with the Seal of Excellence")))
				add(string(protocol.HubDIH), tr(msg("other Digital Innovation Hub")))
			default:
				return usagef("unknown list %q: name one of %s", args[0], strings.Join(vocabLists, ", "))
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			t := newTable(cmd.OutOrStdout(), a.T("VALUE"), a.T("MEANING"))
			for _, e := range list {
				t.row(e.Value, e.Meaning)
			}
			return t.flush()
		},
	}
}
