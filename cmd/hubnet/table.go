package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// table writes aligned columns. Cells are written as they come; Flush aligns them.
type table struct {
	tw *tabwriter.Writer
}

// newTable starts a table with a header row.
func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(toAny(headers)...)
	return t
}

// row adds one row; each cell is printed with fmt.Sprint, an empty one as "-".
func (t *table) row(cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = fmt.Sprint(c)
		if s[i] == "" {
			s[i] = "-"
		}
		// A tab or newline in a cell would break the columns.
		s[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(s[i])
	}
	fmt.Fprintln(t.tw, strings.Join(s, "\t"))
}

// flush writes the aligned table.
func (t *table) flush() error { return t.tw.Flush() }

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// ago says how long before now t was, roughly: "just now", "42s ago", "3m ago",
// "5h ago", "2d ago", or "never" for the zero time.
func (a *app) ago(t, now time.Time) string {
	if t.IsZero() {
		return a.T("never")
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return a.T("just now")
	case d < time.Minute:
		return a.T("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return a.T("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return a.T("%dh ago", int(d/time.Hour))
	}
	return a.T("%dd ago", int(d/(24*time.Hour)))
}

// yesNo renders a boolean for a table.
func (a *app) yesNo(b bool) string {
	if b {
		return a.T("yes")
	}
	return a.T("no")
}

// unit is a unit of capacity in the language: the default one translated, any
// other as the hub wrote it.
func (a *app) unit(u string) string {
	if u == "SMEs per month" {
		return a.lang.Text(u)
	}
	return u
}

// fieldWriter returns a function that writes "  name: value" lines to b, the name
// translated and its column as wide as the longest of names, at least width; a
// field without a value is left out, one without a name continues the one above.
func (a *app) fieldWriter(b *strings.Builder, width int, names ...string) func(name, value string) {
	for _, n := range names {
		width = max(width, utf8.RuneCountInString(a.lang.Text(n))+1) // and the colon
	}
	return func(name, value string) {
		if value == "" {
			return
		}
		label := ""
		if name != "" {
			label = a.lang.Text(name) + ":"
		}
		pad := strings.Repeat(" ", max(0, width-utf8.RuneCountInString(label)))
		fmt.Fprintf(b, "  %s%s %s\n", label, pad, value)
	}
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
