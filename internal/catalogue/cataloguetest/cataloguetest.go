package cataloguetest

import (
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// sheet is the sheet the Commission's export puts its hubs in, spelt here as the
// export spells it rather than taken from package catalogue, which tests this data.
const sheet = "EDIH Catalogue"

// Header has the export's columns in another order than the export's, to show
// columns are found by their header text.
var Header = []string{
	"Country", "EDIH Name", "EDIH/SoE", "EDIH Title", "Contact name", "Contact Location", "Website",
	"Formatted technologies", "Formatted services", "Formatted sectors", "Description (indexed field)",
}

// Row is a row of the small test workbook, by column.
type Row struct {
	Country, Name, Type, Title, Website, Technologies, Services, Sectors, Description string
	Location                                                                          string // "Somewhere 1, 1000 Town" when empty
}

// Cells returns the row's cells in the order of Header, with an empty contact name and
// a postal address.
func (h Row) Cells() []string {
	loc := h.Location
	if loc == "" {
		loc = "Somewhere 1, 1000 Town"
	}
	return []string{h.Country, h.Name, h.Type, h.Title, "", loc, h.Website,
		h.Technologies, h.Services, h.Sectors, h.Description}
}

// LongDescription is over protocol.MaxDescriptionLen characters.
var LongDescription = strings.Repeat("Digitalisation für alle. ", 420)

// Rows are the rows of the small test workbook, from row 2; a nil entry is an empty
// row.
var Rows = []*Row{
	{ // row 2: clean; Energy and Electricity both give D, which keeps the higher level
		Country: "Finland", Name: "RoboCoast", Type: "EDIH", Title: "Robocoast EDIH", Website: "https://robocoast.eu/",
		Technologies: "Robotics - 5, Artificial Intelligence & Decision support - 3",
		Services:     "Field trial - 4,SME support - 2",
		Sectors:      "Manufacturing and processing - 5, Energy - 3, Electricity - 4",
		Description:  "  Robots for the Satakunta coast.  \r\nSecond line.  ",
		Location:     "Konemiehentie 2, 02150 Espoo, Finland",
	},
	{ // row 3: labels with commas inside; a website without its scheme
		Country: "Belgium", Name: "Retail Hub", Type: "DIH", Title: "Retail Hub Flanders", Website: "www.retailhub.be",
		Technologies: "Micro- and nanoelectronics, optoelectronics - 3",
		Services:     "Technology transfer - 1",
		Sectors:      "Retail, wholesale or distribution - 4,Travel and tourism - 2",
		Location:     "Kapeldreef 75, 3001 Leuven, Belgium",
	},
	nil, // row 4: empty, skipped
	{ // row 5: an unknown technology, an unmappable sector, the "Website" placeholder
		Country: "Germany", Name: "Quantum Valley", Type: "Seal of Excellence", Website: "Website",
		Technologies: "Quantum Gravity - 3, Robotics - 2",
		Services:     "Finance - 5",
		Sectors:      "Regulation - 2, Defence - 3, Public administration - 4",
		Location:     "Templergraben 55, 52062 Aachen, Germany",
	},
	{ // row 6: no tags, no website
		Country: "Spain", Name: "Empty Hub", Type: "EDIH", Title: "A hub with nothing listed",
		Location: "C/ lópez bravo nº 70, 09001 Burgos Burgos, Spain",
	},
	{ // row 7: unknown country
		Country: "Atlantis", Name: "Atlantis Hub", Type: "DIH", Technologies: "Robotics - 1",
	},
	{ // row 8: RoboCoast again, another hub of the same name
		Country: "Sweden", Name: "ROBOCOAST", Type: "DIH", Title: "Robocoast Sweden", Website: "http://robocoast.se",
		Technologies: "Robotics - 4",
	},
	{ // row 9: a description too long; Irish languages
		Country: "Ireland", Name: "Verbose Hub", Type: "DIH", Description: LongDescription,
		Technologies: "Big data - 2",
	},
	{ // row 10: accents in the name; a tag without its level; services only
		Country: "Türkiye", Name: "Łukasiewicz Hub – Ødegård Straße", Type: "EDIH",
		Technologies: "Robotics, Big data - 3",
		Services:     "Prototyping - 2",
	},
	{ // row 11: repeats row 3
		Country: "Belgium", Name: "Retail Hub", Type: "DIH", Title: "Retail Hub Flanders", Website: "www.retailhub.be",
		Technologies: "Micro- and nanoelectronics, optoelectronics - 3",
		Services:     "Technology transfer - 1",
		Sectors:      "Retail, wholesale or distribution - 4,Travel and tourism - 2",
		Location:     "Kapeldreef 75, 3001 Leuven, Belgium",
	},
	{ // row 12: no name, and a type the catalogue does not have
		Country: "Italy", Type: "Cluster", Title: "Nameless",
	},
}

// Workbook returns an XLSX workbook whose sheet "EDIH Catalogue" holds header and then
// rows, a nil row left empty.
func Workbook(t testing.TB, header []string, rows []*Row) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		t.Fatal(err)
	}
	for i, h := range rows {
		if h == nil {
			continue
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			t.Fatal(err)
		}
		cells := h.Cells()
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
