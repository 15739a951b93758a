package catalogue

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/hubnet-eu/hubnet/protocol"
)

// The export's columns, by their header text.
const (
	colName         = "EDIH Name"
	colTitle        = "EDIH Title"
	colDescription  = "Description (indexed field)"
	colCountry      = "Country"
	colType         = "EDIH/SoE"
	colWebsite      = "Website"
	colSectors      = "Formatted sectors"
	colServices     = "Formatted services"
	colTechnologies = "Formatted technologies"
	colLocation     = "Contact Location"
)

// catalogueColumns are the columns the importer needs. It also reads "Contact
// Location", a postal address, when the workbook has it, for the hub's region; it never
// reads "Contact name", which names a person.
var catalogueColumns = []string{
	colName, colTitle, colDescription, colCountry, colType, colWebsite, colSectors, colServices, colTechnologies,
}

const (
	// Sheet is the sheet the export puts its hubs in.
	Sheet = "EDIH Catalogue"
	// Attribution is the credit the Commission's reuse policy asks for.
	Attribution = "Source: European Commission, EDIH catalogue"
	// maxWorkbookSize bounds what is read into memory: the real export is under 1 MB.
	maxWorkbookSize = 64 << 20
)

// Row is one data row of the export, its cells by column as the export holds them:
// Name is "EDIH Name", Title "EDIH Title", Description "Description (indexed field)",
// Type "EDIH/SoE", and Sectors, Services and Technologies the "Formatted ..." columns,
// each a list of "Label - level".
type Row struct {
	Row          int // the spreadsheet's row number; the header is row 1
	Name         string
	Title        string
	Description  string
	Country      string
	Type         string
	Website      string
	Sectors      string
	Services     string
	Technologies string
	Location     string // "Contact Location": a postal address; "" when the column is missing
}

// ReadRows reads the rows of the export's sheet "EDIH Catalogue" (or of the only
// sheet, when there is one), finding the columns by their header text in row 1. Empty
// rows are skipped. A file that is not a workbook, or is larger than 64 MB, gives an
// error wrapping [ErrNotWorkbook]; a header that lacks columns gives a
// *protocol.ValidationError naming each missing column.
func ReadRows(r io.Reader) ([]Row, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxWorkbookSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxWorkbookSize {
		return nil, fmt.Errorf("%w: larger than %d MB", ErrNotWorkbook, maxWorkbookSize>>20)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotWorkbook, err)
	}
	defer f.Close()

	sheets := f.GetSheetList()
	sheet := Sheet
	if !slices.Contains(sheets, sheet) {
		if len(sheets) != 1 {
			return nil, &protocol.ValidationError{What: "catalogue", Problems: []protocol.FieldError{{
				Field: "sheet " + strconv.Quote(Sheet),
				Rule:  "is missing; the workbook has " + quoteList(sheets),
			}}}
		}
		sheet = sheets[0]
	}
	rows, err := f.GetRows(sheet)
	if err != nil {
		return nil, fmt.Errorf("read sheet %q: %w", sheet, err)
	}
	var header []string
	if len(rows) > 0 {
		header = rows[0]
	}
	index := map[string]int{}
	for i, h := range header {
		if _, dup := index[catalogueKey(h)]; !dup {
			index[catalogueKey(h)] = i
		}
	}
	missing := &protocol.ValidationError{What: "catalogue"}
	for _, col := range catalogueColumns {
		if _, ok := index[catalogueKey(col)]; !ok {
			missing.Problems = append(missing.Problems, protocol.FieldError{
				Field: "column " + strconv.Quote(col),
				Rule:  fmt.Sprintf("is missing from the header (row 1 of sheet %q)", sheet),
			})
		}
	}
	if len(missing.Problems) > 0 {
		return nil, missing
	}

	var out []Row
	for i, cells := range rows[1:] {
		cell := func(col string) string {
			if j := index[catalogueKey(col)]; j < len(cells) {
				return cells[j]
			}
			return ""
		}
		row := Row{
			Row:          i + 2,
			Name:         cell(colName),
			Title:        cell(colTitle),
			Description:  cell(colDescription),
			Country:      cell(colCountry),
			Type:         cell(colType),
			Website:      cell(colWebsite),
			Sectors:      cell(colSectors),
			Services:     cell(colServices),
			Technologies: cell(colTechnologies),
		}
		if _, ok := index[catalogueKey(colLocation)]; ok {
			row.Location = cell(colLocation)
		}
		if row.blank() {
			continue
		}
		out = append(out, row)
	}
	return out, nil
}

// blank reports whether every cell the importer reads is empty.
func (r Row) blank() bool {
	return strings.TrimSpace(r.Name+r.Title+r.Description+r.Country+r.Type+r.Website+r.Sectors+r.Services+r.Technologies+r.Location) == ""
}

// key is the row's content, for finding rows that repeat an earlier one.
func (r Row) key() string {
	return strings.Join([]string{r.Name, r.Title, r.Description, r.Country, r.Type, r.Website, r.Sectors, r.Services, r.Technologies, r.Location}, "\x00")
}

// catalogueKey is how header texts compare: case and surrounding spaces do not count.
func catalogueKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// quoteList quotes each string and joins them with ", ".
func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
