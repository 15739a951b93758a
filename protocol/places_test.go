package protocol

import (
	"encoding/csv"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestCountryByCode(t *testing.T) {
	tests := []struct {
		code, name string
		ok         bool
	}{
		{"EL", "Greece", true},
		{"XK", "Kosovo", true},
		{"TR", "Türkiye", true},
		{"UA", "Ukraine", true},
		{"CH", "Switzerland", true},
		{"GR", "", false}, // ISO, not Eurostat
		{"el", "", false},
		{"", "", false},
		{"1A", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, ok := CountryByCode(tt.code)
			if ok != tt.ok || got.Name != tt.name {
				t.Errorf("got %v, %v, want %q, %v", got, ok, tt.name, tt.ok)
			}
		})
	}
}

func TestCountryByName(t *testing.T) {
	tests := []struct{ name, code string }{
		{"Czechia", "CZ"},
		{"Czech Republic", "CZ"},
		{"Türkiye", "TR"},
		{"TÜRKIYE", "TR"},
		{"Turkey", "TR"},
		{"Greece", "EL"},
		{"North Macedonia", "MK"},
		{"Bosnia and Herzegovina", "BA"},
		{"Kosovo", "XK"},
		{"  netherlands ", "NL"},
		{"The Netherlands", "NL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CountryByName(tt.name)
			if !ok || got.Code != tt.code {
				t.Errorf("got %v, %v, want code %q", got, ok, tt.code)
			}
		})
	}
	for _, name := range []string{"", "EL", "Macedonia", "Atlantis"} {
		if got, ok := CountryByName(name); ok {
			t.Errorf("CountryByName(%q) = %v, want not found", name, got)
		}
	}
}

func TestCountryByName_catalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, row := range catalogueRows(t) {
		c, ok := CountryByName(row["country"])
		if !ok || c.Name != row["country"] {
			t.Errorf("CountryByName(%q) = %v, %v, want the catalogue's spelling", row["country"], c, ok)
		}
		seen[c.Code] = true
	}
	if len(seen) != 38 {
		t.Errorf("catalogue has %d countries, want 38", len(seen))
	}
}

func TestCountries_coverNUTS(t *testing.T) {
	codes := map[string]bool{}
	for _, c := range Countries {
		if len(c.Code) != 2 || strings.ToUpper(c.Code) != c.Code || c.Name == "" || codes[c.Code] {
			t.Errorf("%v: want a unique upper-case two-letter code and a name", c)
		}
		codes[c.Code] = true
	}
	for _, r := range nutsRegions {
		if !codes[RegionCountry(r.Code)] {
			t.Errorf("region %s lies in %q, which is not in Countries", r.Code, RegionCountry(r.Code))
		}
	}
}

func TestNeighbours(t *testing.T) {
	tests := []struct {
		code string
		want []string
	}{
		{"DK", []string{"DE", "SE"}},
		{"XK", []string{"AL", "ME", "MK", "RS"}},
		{"PT", []string{"ES"}},
		{"IE", []string{"UK"}},
		{"MT", nil},
		{"IS", nil},
		{"", nil},
		{"ZZ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := Neighbours(tt.code); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNeighbours_symmetricSortedKnown(t *testing.T) {
	for _, c := range Countries {
		ns := Neighbours(c.Code)
		if !slices.IsSorted(ns) {
			t.Errorf("Neighbours(%s) = %v, want sorted", c.Code, ns)
		}
		for i, n := range ns {
			if n == c.Code || (i > 0 && ns[i-1] == n) {
				t.Errorf("Neighbours(%s) = %v lists itself or a country twice", c.Code, ns)
			}
			if _, ok := CountryByCode(n); !ok {
				t.Errorf("Neighbours(%s) lists %q, which is not in Countries", c.Code, n)
			}
			if !AreNeighbours(n, c.Code) {
				t.Errorf("%s borders %s but not the other way round", c.Code, n)
			}
		}
	}
	for c := range neighbours {
		if _, ok := CountryByCode(c); !ok {
			t.Errorf("border table names %q, which is not in Countries", c)
		}
	}
}

func TestAreNeighbours(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"DK", "SE", true},
		{"SE", "DK", true},
		{"FR", "UK", true},
		{"AT", "DE", true},
		{"EL", "TR", true},
		{"ES", "IT", false},
		{"FI", "FI", false},
		{"FI", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+"-"+tt.b, func(t *testing.T) {
			if got := AreNeighbours(tt.a, tt.b); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRegionByCode(t *testing.T) {
	tests := []Region{
		{"FI", "Suomi/Finland", 0},
		{"FI1C", "Etelä-Suomi", 2},
		{"FI1C1", "Varsinais-Suomi", 3},
		{"DE300", "Berlin", 3},
		{"EL30", "Attiki", 2},
		{"TR100", "İstanbul", 3},
	}
	for _, want := range tests {
		t.Run(want.Code, func(t *testing.T) {
			if got, ok := RegionByCode(want.Code); !ok || got != want {
				t.Errorf("got %+v, %v, want %+v", got, ok, want)
			}
		})
	}
	for _, code := range []string{"", "fi1c1", "FI1C9", "GR30", "US", "1A", "FI1C1 "} {
		if got, ok := RegionByCode(code); ok {
			t.Errorf("RegionByCode(%q) = %+v, want not found", code, got)
		}
	}
}

func TestRegionCountry(t *testing.T) {
	tests := []struct{ code, want string }{
		{"FI1C1", "FI"},
		{"EL", "EL"},
		{"F", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RegionCountry(tt.code); got != tt.want {
			t.Errorf("RegionCountry(%q): got %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestRegionParent(t *testing.T) {
	tests := []struct {
		code  string
		level int
		want  string
	}{
		{"FI1C1", 2, "FI1C"},
		{"FI1C1", 1, "FI1"},
		{"FI1C1", 0, "FI"},
		{"FI1C1", 3, "FI1C1"},
		{"FI1C1", 4, ""},
		{"FI1", 2, ""},
		{"FI1C1", -1, ""},
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := RegionParent(tt.code, tt.level); got != tt.want {
			t.Errorf("RegionParent(%q, %d): got %q, want %q", tt.code, tt.level, got, tt.want)
		}
	}
}

func TestRegionsOf(t *testing.T) {
	tests := []struct {
		country string
		level   int
		want    []string
	}{
		{"MT", 3, []string{"MT001", "MT002"}},
		{"LI", 2, []string{"LI00"}},
		{"EL", 0, []string{"EL"}},
		{"MT", 4, nil},
		{"XK", 2, nil},
		{"", 0, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range RegionsOf(tt.country, tt.level) {
			got = append(got, r.Code)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("RegionsOf(%q, %d): got %v, want %v", tt.country, tt.level, got, tt.want)
		}
	}
	rs := RegionsOf("MT", 3)
	rs[0].Name = "changed"
	if RegionsOf("MT", 3)[0].Name == "changed" {
		t.Error("RegionsOf returned the package's own slice, want a copy")
	}
}

func TestRegions_levelsAndParents(t *testing.T) {
	for _, r := range nutsRegions {
		if r.Level != len(r.Code)-2 || r.Level < 0 || r.Level > 3 {
			t.Errorf("%+v: want level len(code)-2, 0 to 3", r)
		}
		if r.Level > 0 {
			if _, ok := RegionByCode(RegionParent(r.Code, r.Level-1)); !ok {
				t.Errorf("%s has no parent region", r.Code)
			}
		}
	}
}

// TestRegionByCode_NUTSFile checks every code of the NUTS countries in Eurostat's file,
// by the first row that names it: the file repeats some countries at its end under
// their English names, after a list of the world's countries, which are not NUTS.
func TestRegionByCode_NUTSFile(t *testing.T) {
	f, err := os.Open(dataDir + "NUTS2021.csv")
	if os.IsNotExist(err) {
		t.Skip("reference data " + dataDir + "NUTS2021.csv absent; the fixture tests still run")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.FieldsPerRecord = ';', -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]string{}
	nutsCountry := map[string]bool{}
	for _, rec := range recs[1:] {
		if _, dup := first[rec[0]]; !dup {
			first[rec[0]] = strings.Join(rec[1:], ";")
		}
		if len(rec[0]) > 2 {
			nutsCountry[rec[0][:2]] = true
		}
	}
	n := 0
	for code, name := range first {
		if !nutsCountry[RegionCountry(code)] {
			continue
		}
		n++
		if got, ok := RegionByCode(code); !ok || got.Name != name {
			t.Errorf("RegionByCode(%q) = %+v, %v, want name %q", code, got, ok, name)
		}
	}
	if n != len(nutsRegions) || n < 1800 {
		t.Errorf("file has %d NUTS codes, table has %d", n, len(nutsRegions))
	}
}
