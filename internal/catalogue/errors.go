package catalogue

import "errors"

// ErrNotWorkbook is returned, wrapped, when a file is not an XLSX workbook at all. Its
// text has no package prefix: `hubnet import edih-xlsx` prints it after the file name.
var ErrNotWorkbook = errors.New("not an XLSX workbook")
