package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/internal/catalogue"
	"github.com/hubnet-eu/hubnet/protocol"
)

func newImportCmd(a *app) *cobra.Command {
	return groupCmd("import", a.T("Make hub profiles from other sources"), newImportEDIHCmd(a))
}

const importEDIHLong = `Read the European Commission's EDIH catalogue export (the XLSX file its "Download
Data" button gives, sheet "EDIH Catalogue") and write one profile per hub into DIR,
named ID.yaml, for 'hubnet profile apply -f' or 'hubnet init --profile'.

What is mapped: the ID is made from "EDIH Name" (lower case, accents dropped, other
characters '-', at most 48 characters; a taken ID gets "-2", "-3" in row order). Name,
title, description, type (EDIH, Seal of Excellence -> SoE, DIH) and country are taken
over; technologies and services keep their levels 1-5; each sector label becomes one or
more NACE codes, a code reached twice keeping the higher level. The website is kept when
it is an http(s) URL ("www.hub.eu" gets https://). The catalogue has no regions,
languages, contact or capacity: languages are set to the official languages of the
hub's country, marked "check" in the file; the rest stays empty.

What is reported: every label with no vocabulary entry or NACE code, a tag without a
level, a missing or unusable website, a hub with no tags, a shortened text or a changed
ID is noted in the hub's file and in the report. A row is not imported when it has no
name, no known type or country, or repeats an earlier row cell for cell.

The summary goes to standard output; the report, one line per note ("row N, NAME (ID):
field: note"), to standard error, or with --report FILE to FILE as CSV with the columns
row,name,id,status,field,note. --json prints summary and report as one JSON document.
Existing files are not overwritten without --force.

Exit code 0 means the file was read, even if rows were not imported: the summary counts
them. 4 means the workbook lacks a column, or the hub of --name was not imported.

The catalogue's data: Source: European Commission, EDIH catalogue.`

func newImportEDIHCmd(a *app) *cobra.Command {
	var (
		out    string
		name   string
		report string
		force  bool
	)
	cmd := &cobra.Command{
		Use:   "edih-xlsx FILE.xlsx",
		Short: a.T("Write hub profiles from the EC's EDIH catalogue export"),
		Long:  a.T(importEDIHLong),
		Example: `  hubnet import edih-xlsx edih-catalogue.xlsx --out ./profiles
  hubnet import edih-xlsx edih-catalogue.xlsx --name robocoast --out ./hub
  hubnet import edih-xlsx edih-catalogue.xlsx --out ./profiles --report notes.csv`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			op := a.T("import %s", file)
			hubs, err := a.readCatalogueFile(file)
			if err != nil {
				return err
			}
			selected := hubs
			if name != "" {
				h, several, err := findCatalogueHub(hubs, name)
				if err != nil {
					hint := msg("give the name, title or ID as the catalogue or the report spells it")
					if several {
						hint = msg("give one of the IDs listed")
					}
					return fail(op, err, hint)
				}
				if !h.Imported() {
					return fail(op, &protocol.ValidationError{What: "catalogue row " + strconv.Itoa(h.Row), Problems: []protocol.FieldError{{
						Field: a.T("row %d", h.Row), Rule: h.Reason,
					}}}, "")
				}
				selected = []catalogue.Hub{h}
			}

			rep := newImportReport(file, out, len(hubs), hubs, selected)
			if err := writeImported(rep, force); err != nil {
				return fail(op, err, "")
			}
			w := cmd.OutOrStdout()
			if a.json {
				return writeJSON(w, rep)
			}
			if report != "" {
				if err := writeReportCSV(report, rep); err != nil {
					return fail(op, err, "")
				}
			} else if err := a.writeReportLines(cmd.ErrOrStderr(), rep); err != nil {
				return err
			}
			return a.printImportSummary(w, rep, name, report)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", ".", a.T("write the profiles into `DIR`; made if missing"))
	f.StringVar(&name, "name", "", a.T("import only the hub whose name, title or ID is `NAME` (any case)"))
	f.StringVar(&report, "report", "", a.T("write the report to `FILE` as CSV instead of standard error"))
	f.BoolVar(&force, "force", false, a.T("overwrite existing profile files"))
	return cmd
}

// readCatalogueFile reads and maps the export at path. Its errors say what failed.
func (a *app) readCatalogueFile(path string) ([]catalogue.Hub, error) {
	op := a.T("import %s", path)
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(op, err, "give the path of the catalogue's XLSX export")
	}
	defer f.Close()
	rows, err := catalogue.ReadRows(f)
	switch {
	case errors.Is(err, catalogue.ErrNotWorkbook):
		return nil, fail(op, err, `export the catalogue with its "Download Data" button`)
	case err != nil:
		return nil, fail(op, err, "")
	}
	return catalogue.Import(rows), nil
}

// findCatalogueHub returns the hub whose ID, name or title is name, ignoring case. When
// several are, the one whose ID is name exactly wins, else the only one imported; else
// the error lists them and several is true. When none is, the error lists the closest.
func findCatalogueHub(hubs []catalogue.Hub, name string) (h catalogue.Hub, several bool, err error) {
	key := nameKey(name)
	var found []catalogue.Hub
	for _, h := range hubs {
		if nameKey(h.ID) == key || nameKey(h.Name) == key || (h.Title != "" && nameKey(h.Title) == key) {
			found = append(found, h)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], false, nil
	case len(found) > 1:
		if i := slices.IndexFunc(found, func(h catalogue.Hub) bool { return h.ID == name }); i >= 0 {
			return found[i], false, nil
		}
		if imported := slices.DeleteFunc(slices.Clone(found), func(h catalogue.Hub) bool { return !h.Imported() }); len(imported) == 1 {
			return imported[0], false, nil // the others are rows not imported, such as repeats
		}
		return catalogue.Hub{}, true, fmt.Errorf("%q names %d hubs: %s", name, len(found), describeHubs(found))
	}
	near := closeHubs(hubs, key, 5)
	if len(near) == 0 {
		return catalogue.Hub{}, false, fmt.Errorf("no hub is named %q", name)
	}
	return catalogue.Hub{}, false, fmt.Errorf("no hub is named %q; close: %s", name, describeHubs(near))
}

// nameKey is how --name compares with names, titles and IDs: case and surrounding
// spaces do not count.
func nameKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// describeHubs lists hubs as "ID (Name, row N)".
func describeHubs(hubs []catalogue.Hub) string {
	s := make([]string, len(hubs))
	for i, h := range hubs {
		id := h.ID
		if id == "" {
			id = "not imported"
		}
		s[i] = fmt.Sprintf("%s (%s, row %d)", id, h.Name, h.Row)
	}
	return strings.Join(s, ", ")
}

// closeHubs returns up to n hubs whose name or ID contains key, is contained in it, or
// is a few edits away from it, the closest first.
func closeHubs(hubs []catalogue.Hub, key string, n int) []catalogue.Hub {
	type scored struct {
		h     catalogue.Hub
		score int
	}
	var near []scored
	for _, h := range hubs {
		best := -1
		for _, s := range []string{nameKey(h.Name), h.ID} {
			if s == "" {
				continue
			}
			d := protocol.EditDistance(s, key)
			switch {
			case d <= max(1, len(key)/4):
			case len(key) >= 3 && (strings.Contains(s, key) || strings.Contains(key, s)):
				d = 10 + abs(len(s)-len(key))
			default:
				continue
			}
			if best < 0 || d < best {
				best = d
			}
		}
		if best >= 0 {
			near = append(near, scored{h, best})
		}
	}
	slices.SortStableFunc(near, func(a, b scored) int { return a.score - b.score })
	out := make([]catalogue.Hub, 0, n)
	for _, c := range near[:min(n, len(near))] {
		out = append(out, c.h)
	}
	return out
}

func abs(n int) int { return max(n, -n) }

// importReport is what an import did, as --json prints it.
type importReport struct {
	Source      string         `json:"source"` // the file read
	Attribution string         `json:"attribution"`
	Out         string         `json:"out"`   // the directory written to
	Read        int            `json:"read"`  // rows read from the file
	Types       map[string]int `json:"types"` // rows read per hub type; "" for an unknown one
	Imported    int            `json:"imported"`
	WithNotes   int            `json:"with_notes"`
	NotImported int            `json:"not_imported"`
	Regions     []regionCount  `json:"regions_by_country"` // of the hubs imported, by country code
	Hubs        []reportHub    `json:"hubs"`               // the rows imported or refused: all, or the one of --name
}

// regionCount is how many of a country's imported hubs got a region from their
// address.
type regionCount struct {
	Country    string `json:"country"`
	Imported   int    `json:"imported"`
	WithRegion int    `json:"with_region"`
}

// reportHub is one row of an importReport.
type reportHub struct {
	catalogue.Hub
	Status string `json:"status"`         // "imported" or "not imported"
	File   string `json:"file,omitempty"` // the profile written
}

// newImportReport counts what became of the rows; selected are the ones to write.
func newImportReport(source, out string, read int, all, selected []catalogue.Hub) *importReport {
	rep := &importReport{Source: source, Attribution: catalogue.Attribution, Out: out, Read: read, Types: map[string]int{}}
	for _, h := range all {
		rep.Types[string(h.Type)]++
	}
	for _, h := range selected {
		rh := reportHub{Hub: h, Status: "not imported"}
		if h.Imported() {
			rh.Status = "imported"
			rh.File = filepath.Join(out, h.ID+".yaml")
			rep.Imported++
			if len(h.Notes) > 0 {
				rep.WithNotes++
			}
		} else {
			rep.NotImported++
		}
		rep.Hubs = append(rep.Hubs, rh)
	}
	rep.Regions = regionCounts(selected)
	return rep
}

// regionCounts counts, by country, the imported hubs and those whose address gave a
// region.
func regionCounts(hubs []catalogue.Hub) []regionCount {
	by := map[string]*regionCount{}
	for _, h := range hubs {
		if !h.Imported() {
			continue
		}
		c := by[h.Country]
		if c == nil {
			c = &regionCount{Country: h.Country}
			by[h.Country] = c
		}
		c.Imported++
		if h.Region.Code != "" {
			c.WithRegion++
		}
	}
	out := make([]regionCount, 0, len(by))
	for _, code := range slices.Sorted(maps.Keys(by)) {
		out = append(out, *by[code])
	}
	return out
}

// writeImported writes the profile of every imported hub of rep. Without force it
// writes nothing when one of the files exists.
func writeImported(rep *importReport, force bool) error {
	files := map[string][]byte{}
	var order []string
	for _, h := range rep.Hubs {
		if h.File == "" {
			continue
		}
		data, err := h.YAML(filepath.Base(rep.Source))
		if err != nil {
			return fmt.Errorf("encode profile of row %d: %w", h.Row, err)
		}
		files[h.File] = data
		order = append(order, h.File)
	}
	if !force {
		var exist []string
		for _, f := range order {
			if fileExists(f) {
				exist = append(exist, f)
			}
		}
		if len(exist) > 0 {
			more := ""
			if len(exist) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(exist)-1)
			}
			return &failure{Op: "write profiles", Err: fmt.Errorf("%s exists%s", exist[0], more),
				Hint: "give --force to overwrite, or another --out DIR"}
		}
	}
	if err := os.MkdirAll(rep.Out, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", rep.Out, err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags |= os.O_EXCL // a file made since the check above is not overwritten either
	}
	for _, name := range order {
		f, err := os.OpenFile(name, flags, 0o644)
		if err != nil {
			return err
		}
		_, err = f.Write(files[name])
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// reportLines are the report's lines: one per note, and one per row not imported.
func reportLines(rep *importReport) [][]string {
	var lines [][]string // row, name, id, status, field, note
	for _, h := range rep.Hubs {
		row := strconv.Itoa(h.Row)
		if !h.Imported() {
			lines = append(lines, []string{row, h.Name, "", h.Status, "", h.Reason})
			continue
		}
		for _, n := range h.Notes {
			lines = append(lines, []string{row, h.Name, h.ID, h.Status, n.Field, n.Text})
		}
	}
	return lines
}

// writeReportLines prints the report for people: "row N, NAME (ID): field: note".
func (a *app) writeReportLines(w io.Writer, rep *importReport) error {
	for _, l := range reportLines(rep) {
		var err error
		if l[3] == "imported" {
			_, err = fmt.Fprintln(w, a.T("row %s, %s (%s): %s: %s", l[0], l[1], l[2], l[4], l[5]))
		} else {
			_, err = fmt.Fprintln(w, a.T("row %s, %s: not imported: %s", l[0], l[1], l[5]))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeReportCSV writes the report to path as CSV with a header row.
func writeReportCSV(path string, rep *importReport) error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"row", "name", "id", "status", "field", "note"})
	cw.WriteAll(reportLines(rep))
	if err := cw.Error(); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// printImportSummary prints the counts, and the notes most often made.
func (a *app) printImportSummary(w io.Writer, rep *importReport, name, reportFile string) error {
	var b strings.Builder
	b.WriteString(a.T("read %d rows from %s (%s)", rep.Read, filepath.Base(rep.Source), a.typeCounts(rep.Types)) + "\n")
	if name != "" {
		b.WriteString(a.T("selected 1 hub with --name %s", name) + "\n")
	}
	counts := [][2]any{{a.T("imported"), rep.Imported}, {"  " + a.T("with notes"), rep.WithNotes}, {a.T("not imported"), rep.NotImported}}
	width := 14
	for _, c := range counts {
		width = max(width, utf8.RuneCountInString(c[0].(string))+1)
	}
	for _, c := range counts {
		fmt.Fprintf(&b, "%-*s %4d\n", width, c[0], c[1])
	}
	if rep.Imported > 0 {
		b.WriteString(a.T("profiles written to %s, one ID.yaml per hub", rep.Out) + "\n")
	}
	if notes := noteCounts(rep); notes != "" {
		b.WriteString(a.T("hubs with notes, by field: %s", notes) + "\n")
	}
	if name == "" {
		b.WriteString(a.regionTable(rep.Regions))
	}
	switch {
	case reportFile != "":
		b.WriteString(a.T("report: %s", reportFile) + "\n")
	case rep.WithNotes+rep.NotImported > 0:
		b.WriteString(a.T("report: above, on standard error") + "\n")
	}
	b.WriteString(catalogue.Attribution + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// regionTable renders how many imported hubs got a region from their address, in
// all and by country, five countries a line:
//
//	regions from the address: 317 of 457 imported hubs (69%); by country, with a region of imported:
//	  AT   9 of 12   BE  10 of 14   ...
func (a *app) regionTable(counts []regionCount) string {
	total, with := 0, 0
	for _, c := range counts {
		total, with = total+c.Imported, with+c.WithRegion
	}
	if total == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(a.T("regions from the address: %d of %d imported hubs (%.0f%%); by country, with a region of imported:",
		with, total, 100*float64(with)/float64(total)) + "\n")
	for line := range slices.Chunk(counts, 5) {
		cells := make([]string, len(line))
		for i, c := range line {
			cells[i] = fmt.Sprintf("%-2s ", c.Country) + a.T("%3d of %-3d", c.WithRegion, c.Imported)
		}
		b.WriteString(strings.TrimRight("  "+strings.Join(cells, "  "), " ") + "\n")
	}
	return b.String()
}

// typeCounts renders rows per hub type as "EDIH 168, SoE 83, DIH 206".
func (a *app) typeCounts(types map[string]int) string {
	var s []string
	for _, t := range []string{string(protocol.HubEDIH), string(protocol.HubSoE), string(protocol.HubDIH)} {
		s = append(s, fmt.Sprintf("%s %d", t, types[t]))
	}
	if n := types[""]; n > 0 {
		s = append(s, a.T("unknown type %d", n))
	}
	return strings.Join(s, ", ")
}

// noteCounts renders how many hubs have notes on each field, most first:
// "tags 152, website 82".
func noteCounts(rep *importReport) string {
	count := map[string]int{}
	for _, h := range rep.Hubs {
		fields := map[string]bool{}
		for _, n := range h.Notes {
			fields[n.Field] = true
		}
		for f := range fields {
			count[f]++
		}
	}
	fields := slices.Sorted(maps.Keys(count))
	slices.SortStableFunc(fields, func(a, b string) int { return count[b] - count[a] })
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = f + " " + strconv.Itoa(count[f])
	}
	return strings.Join(s, ", ")
}

// fileExists reports whether path names an existing file or directory.
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
