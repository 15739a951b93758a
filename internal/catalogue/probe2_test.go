package catalogue

import (
	"encoding/csv"
	"io"
)

func csvRead(r io.Reader) ([][]string, error) { return csv.NewReader(r).ReadAll() }
