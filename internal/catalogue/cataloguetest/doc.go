// Package cataloguetest makes small EDIH catalogue workbooks for tests of package
// catalogue and of `hubnet import edih-xlsx`: [Workbook] writes a header and rows as
// an XLSX file's bytes; [Header] and [Rows] are a workbook of eleven rows, one empty, that covers
// every case the importer notes or refuses, each explained beside it.
package cataloguetest
