package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

func newReportCmd(a *app) *cobra.Command {
	var (
		from, to string
		csv      bool
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: a.T("Report this hub's KPIs of a period: services delivered and collaborations"),
		Long: a.T(`Sum what this hub's referrals achieved from --from up to --to, in the shape of the
EDIH KPI reporting: the customers served through referrals (a service delivered for
each referral to this hub that completed) by customer category, sector, region and
type of support (service family), and the collaborations with other hubs (a
completed referral, sent or received) by partner hub. Each referral counts once at
each hub, when it completed.

--from is the first day counted (default: the first day of this year), --to the day
after the last (default: tomorrow, so that today counts); both are dates such as
2026-01-01. With --csv the node's records come as CSV, one line per record, for a
spreadsheet; with --json as the node's JSON. Reading the report needs the hub's
operator token (--token, HUBNET_TOKEN or -d DIR).`),
		Example: `  hubnet -d ./hub report
  hubnet -d ./hub report --from 2026-01-01 --to 2026-07-01
  hubnet -d ./hub report --from 2026-01-01 --to 2027-01-01 --csv > kpi-2026.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if csv && a.json {
				return usagef("give --csv or --json, not both")
			}
			now := time.Now()
			if from == "" {
				from = time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.Local).Format(time.DateOnly)
			}
			if to == "" {
				to = now.AddDate(0, 0, 1).Format(time.DateOnly)
			}
			for _, d := range []struct{ flag, value string }{{"--from", from}, {"--to", to}} {
				if _, err := time.Parse(time.DateOnly, d.value); err != nil {
					return usagef("%s must be a date such as 2026-01-01, got %q", d.flag, d.value)
				}
			}
			c, err := a.client()
			if err != nil {
				return fail("report", err, "")
			}
			// Both dates parsed above.
			fromDay, _ := time.Parse(time.DateOnly, from)
			toDay, _ := time.Parse(time.DateOnly, to)
			var rep api.Report
			raw, err := c.call(operator, func(ac *api.Client) (err error) {
				if csv {
					_, err = ac.ReportCSV(cmd.Context(), fromDay, toDay)
				} else {
					rep, err = ac.Report(cmd.Context(), fromDay, toDay)
				}
				return err
			})
			if err != nil {
				return fail("report", renameFields(err, map[string]string{"from": "--from", "to": "--to"}), "")
			}
			if csv || a.json {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			return a.printReport(cmd.OutOrStdout(), rep)
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", a.T("the first day counted (default: the first day of this year)"))
	f.StringVar(&to, "to", "", a.T("the day after the last day counted (default: tomorrow)"))
	f.BoolVar(&csv, "csv", false, a.T("print the node's KPI records as CSV"))
	return cmd
}

// printReport writes the report as the EDIH KPI reporting groups it.
func (a *app) printReport(w io.Writer, r api.Report) error {
	var b strings.Builder
	last := r.To.AddDate(0, 0, -1)
	b.WriteString(a.T("KPI report of %s, %s to %s (both included)", r.Hub, r.From.Format(time.DateOnly), last.Format(time.DateOnly)) + "\n\n")

	b.WriteString(a.T("Customers served through referrals (services delivered): %d", r.ServicesDelivered) + "\n")
	if r.ServicesDelivered > 0 {
		var cats []row
		for _, c := range protocol.Categories {
			cats = append(cats, row{string(c), r.ByCategory[string(c)]})
		}
		section(&b, a.T("by customer category"), cats)
		section(&b, a.T("by sector (NACE)"), counted(r.BySector, func(code string) string {
			if s, ok := protocol.SectorByCode(code); ok {
				return code + " " + a.lang.Text(s.Name)
			}
			return code
		}))
		section(&b, a.T("by region (NUTS 3)"), counted(r.ByRegion, func(code string) string {
			if reg, ok := protocol.RegionByCode(code); ok {
				return code + " " + reg.Name
			}
			return code
		}))
		var fams []row
		for _, f := range protocol.Families {
			fams = append(fams, row{a.familyLabel(f.Slug), r.ByFamily[string(f.Slug)]})
		}
		section(&b, a.T("by type of support (service family)"), fams)
	}
	b.WriteString("\n" + a.T("Collaborations with other hubs (completed referrals): %d", r.Collaborations) + "\n")
	if r.Collaborations > 0 {
		section(&b, a.T("by partner hub"), counted(r.ByPartner, func(id string) string { return id }))
	}
	if r.ServicesDelivered == 0 && r.Collaborations == 0 {
		b.WriteString("\n" + a.T("No referral of this hub completed in the period.") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// row is one line of a report section: a label and its count.
type row struct {
	label string
	n     int
}

// counted turns counts by code into rows, most first, then by code.
func counted(m map[string]int, label func(string) string) []row {
	keys := slices.SortedFunc(maps.Keys(m), func(x, y string) int {
		return cmp.Or(cmp.Compare(m[y], m[x]), cmp.Compare(x, y))
	})
	rows := make([]row, len(keys))
	for i, k := range keys {
		rows[i] = row{label(k), m[k]}
	}
	return rows
}

// section writes a titled list of counts, aligned.
func section(b *strings.Builder, title string, rows []row) {
	fmt.Fprintf(b, "  %s:\n", title)
	width := 0
	for _, r := range rows {
		width = max(width, len([]rune(r.label)))
	}
	for _, r := range rows {
		fmt.Fprintf(b, "    %s%s  %4d\n", r.label, strings.Repeat(" ", width-len([]rune(r.label))), r.n)
	}
}
