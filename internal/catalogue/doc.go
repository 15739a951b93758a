// Package catalogue turns the European Commission's EDIH catalogue into hub profiles.
// The catalogue offers its hubs as an XLSX file (its "Download Data" button); `hubnet
// import edih-xlsx` writes the profiles out and `hubnet demo --from-catalogue` runs
// them.
//
// # Where to start
//
// [ReadRows] reads the export's sheet into [Row] values, finding the columns by their
// header text. [Import] maps the rows to [Hub] values: a valid profile under a unique
// ID, with a [Note] for everything that could not be carried over as it stands, or the
// reason the row was not imported. [Hub.YAML] writes an imported hub's profile as the
// file `hubnet profile apply -f` reads, its notes in the header.
//
// # What is mapped
//
// The ID is made from "EDIH Name": lower case, accents dropped, every other character
// '-', at most 48 characters; a taken ID gets "-2", "-3" in row order. Technologies and
// services keep their levels 1 to 5; each sector label becomes one or more NACE codes,
// a code reached twice keeping the higher level. Languages are the official languages
// of the hub's country. The catalogue has no regions, contact or capacity.
//
// # Caveats
//
// The package neither logs nor prints; errors say what failed. A workbook is read
// into memory whole, up to 64 MB; the real export is under 1 MB. The catalogue's data
// must be credited with [Attribution].
package catalogue
