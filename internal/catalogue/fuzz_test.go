package catalogue

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/internal/catalogue/cataloguetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// fuzzing reports whether the test binary runs with -fuzz.
func fuzzing() bool {
	fl := flag.Lookup("test.fuzz")
	return fl != nil && fl.Value.String() != ""
}

// checkProblems fails the test unless err is a *protocol.ValidationError, itself or
// wrapped, whose problems each name a field and a rule.
func checkProblems(t *testing.T, err error) {
	t.Helper()
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) == 0 {
		t.Fatalf("got %T %v, want a *protocol.ValidationError with problems", err, err)
	}
	for _, p := range ve.Problems {
		if p.Field == "" || p.Rule == "" {
			t.Fatalf("problem %+v without a field or a rule", p)
		}
	}
}

// checkImported fails the test unless hubs is what Import promises: every row either
// imported, with a valid profile under a unique ID that reads back the same from the
// YAML the importer writes, or not imported with a reason.
func checkImported(t *testing.T, hubs []Hub) {
	t.Helper()
	ids := map[string]int{}
	for _, h := range hubs {
		if !h.Imported() {
			if h.Reason == "" || h.ID != "" {
				t.Fatalf("row %d not imported, with ID %q and reason %q", h.Row, h.ID, h.Reason)
			}
			continue
		}
		if h.Reason != "" || h.ID != h.Profile.ID {
			t.Fatalf("row %d imported as %q (profile %q), with reason %q", h.Row, h.ID, h.Profile.ID, h.Reason)
		}
		if err := h.Profile.Validate(); err != nil {
			t.Fatalf("row %d imported, invalid: %v", h.Row, err)
		}
		if first, dup := ids[h.ID]; dup {
			t.Fatalf("rows %d and %d both imported as %q", first, h.Row, h.ID)
		}
		ids[h.ID] = h.Row
		for _, n := range h.Notes {
			if n.Field == "" || n.Text == "" {
				t.Fatalf("row %d: note %+v", h.Row, n)
			}
		}
		data, err := h.YAML("catalogue.xlsx")
		if err != nil {
			t.Fatalf("row %d: write YAML: %v", h.Row, err)
		}
		back, err := decodeProfile(data)
		if err != nil {
			t.Fatalf("row %d: written as\n%s\nrefused: %v", h.Row, data, err)
		}
		if !reflect.DeepEqual(&back, h.Profile) {
			t.Fatalf("row %d: written as\n%s\nreads %+v, want %+v", h.Row, data, back, *h.Profile)
		}
	}
}

// FuzzReadCatalogue feeds files to ReadRows and Import, as `hubnet import edih-xlsx`
// reads the catalogue's export: a file that is not a workbook, or a workbook without
// the catalogue's sheet or columns, is refused saying so; the rows of one that is are
// imported as checkImported says. The seeds are small workbooks made
// here: the real export, 362 KB, would make each execution 50 times slower, and its
// rows seed FuzzImportRow.
func FuzzReadCatalogue(f *testing.F) {
	f.Add(cataloguetest.Workbook(f, cataloguetest.Header, cataloguetest.Rows))
	f.Add(cataloguetest.Workbook(f, cataloguetest.Header[:3], cataloguetest.Rows[:1]))
	f.Add(cataloguetest.Workbook(f, append([]string{"EDIH Name"}, cataloguetest.Header...), nil))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("EDIH Name,EDIH Title\nx,y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadRows(bytes.NewReader(data))
		if err != nil {
			var ve *protocol.ValidationError
			switch {
			case errors.Is(err, ErrNotWorkbook):
			case errors.As(err, &ve):
				checkProblems(t, err)
			case strings.HasPrefix(err.Error(), "read sheet "):
			default:
				t.Fatalf("got %T %v, want ErrNotWorkbook, a *protocol.ValidationError or a sheet read error", err, err)
			}
			return
		}
		for i, r := range rows {
			if r.blank() || r.Row < 2 || (i > 0 && r.Row <= rows[i-1].Row) {
				t.Fatalf("row %d of %d: %+v", i, len(rows), r)
			}
		}
		checkImported(t, Import(rows))
	})
}

// FuzzImportRow feeds the cells of catalogue rows to Import, without the workbook
// around them, so that the fuzzer spends its time on the mapping: the row, a row with
// the same name in another country, and the row again. The seeds are the
// rows of the small test workbook and, when fuzzing where the shared reference data
// is beside the repository, the first rows of the real export.
func FuzzImportRow(f *testing.F) {
	for _, h := range cataloguetest.Rows {
		if h != nil {
			f.Add(h.Name, h.Title, h.Description, h.Country, h.Type, h.Website, h.Sectors, h.Services, h.Technologies)
		}
	}
	if fuzzing() {
		// Real rows, where the shared reference data is beside the repository. As a
		// plain test, TestImport_realExport checks them all.
		if file, err := os.Open(realCatalogue); err == nil {
			rows, err := ReadRows(file)
			file.Close()
			if err != nil {
				f.Fatal(err)
			}
			for _, r := range rows[:min(len(rows), 60)] {
				f.Add(r.Name, r.Title, r.Description, r.Country, r.Type, r.Website, r.Sectors, r.Services, r.Technologies)
			}
		}
	}
	f.Add("---", "Ääliö ß Hub", "", " finland ", "seal of excellence", "hub.example/x y", "Energy - 6, - 1", ", , - 2", "Robotics - 5 - 4")
	f.Add(strings.Repeat("x", 60)+"-2", "", "\x00", "Czechia", "EDIH", "HTTPS://X", "Defence - 1,Defence - 5", "Finance - 3,", "Big data - 0")
	f.Fuzz(func(t *testing.T, name, title, description, country, typ, website, sectors, services, technologies string) {
		row := Row{Row: 2, Name: name, Title: title, Description: description, Country: country, Type: typ,
			Website: website, Sectors: sectors, Services: services, Technologies: technologies}
		other := row
		other.Row, other.Country = 3, "Estonia"
		again := row
		again.Row = 4
		hubs := Import([]Row{row, other, again})
		checkImported(t, hubs)
		if hubs[2].Imported() {
			t.Fatalf("row 4 repeats row 2 and was imported as %q", hubs[2].ID)
		}
	})
}
