package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/internal/catalogue"
	"github.com/hubnet-eu/hubnet/internal/catalogue/cataloguetest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// realCatalogue is the EC's export in the shared reference data, from this package's
// directory: cmd/hubnet -> the repository's root -> ../shared/data.
const realCatalogue = "../../../shared/data/edih-catalogue-export-2025-05.xlsx"

// writeTestCatalogue writes the small test workbook into dir and returns its path.
func writeTestCatalogue(t *testing.T, dir string) string {
	t.Helper()
	file := filepath.Join(dir, "catalogue.xlsx")
	if err := os.WriteFile(file, cataloguetest.Workbook(t, cataloguetest.Header, cataloguetest.Rows), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// yamlFiles lists the .yaml files in dir.
func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func TestCLI_importEDIH(t *testing.T) {
	dir := t.TempDir()
	file := writeTestCatalogue(t, dir)
	out := filepath.Join(dir, "profiles")

	r := mustHubnet(t, "import", "edih-xlsx", file, "--out", out)
	for _, want := range []string{
		"read 10 rows from catalogue.xlsx (EDIH 3, SoE 1, DIH 5, unknown type 1)\n",
		"imported          7\n",
		"  with notes      6\n",
		"not imported      3\n",
		"profiles written to " + out,
		// Three rows have an address that names no region: each gets a note saying why.
		"hubs with notes, by field: website 5, sectors 4, regions 3, services 2, technologies 2, description 1, id 1, tags 1\n",
		"Source: European Commission, EDIH catalogue\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout:\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
	for _, want := range []string{
		`row 5, Quantum Valley (quantum-valley): sectors: "Regulation" has no NACE equivalent; left out` + "\n",
		`row 7, Atlantis Hub: not imported: Country "Atlantis" is not a country of the catalogue` + "\n",
		`row 8, ROBOCOAST (robocoast-2): id: "robocoast" is taken by row 2; this hub is "robocoast-2"` + "\n",
		"row 11, Retail Hub: not imported: repeats row 3 cell for cell\n",
		"row 9, Verbose Hub (verbose-hub): regions: none derived from the address: no part of the address (Somewhere 1, 1000 Town) is a region's name, and IE postcodes name no region\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr:\n%s\nwant it to contain %q", r.stderr, want)
		}
	}
	if strings.Contains(r.stderr, "row 2,") {
		t.Errorf("stderr:\n%s\nwant no line for row 2, which has no notes", r.stderr)
	}
	want := []string{"empty-hub.yaml", "lukasiewicz-hub-odegard-strasse.yaml", "quantum-valley.yaml", "retail-hub.yaml",
		"robocoast-2.yaml", "robocoast.yaml", "verbose-hub.yaml"}
	if got := yamlFiles(t, out); !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}

	// Each file reads back as a valid profile, as `profile apply` reads it.
	for _, name := range want {
		p, err := readProfileFile(filepath.Join(out, name), nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A second run refuses to overwrite, and changes nothing.
	before, err := os.ReadFile(filepath.Join(out, "robocoast.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "robocoast.yaml"), []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = hubnet(t, nil, "import", "edih-xlsx", file, "--out", out)
	if r.code != exitError || !strings.Contains(r.stderr, "exists (and 6 more)") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("second import: %v\nwant exit %d naming the file that exists and --force", r, exitError)
	}
	checkOneLine(t, r)
	if data, _ := os.ReadFile(filepath.Join(out, "robocoast.yaml")); string(data) != "# edited\n" {
		t.Errorf("robocoast.yaml after a refused import:\n%s", data)
	}
	mustHubnet(t, "import", "edih-xlsx", file, "--out", out, "--force")
	if data, _ := os.ReadFile(filepath.Join(out, "robocoast.yaml")); string(data) != string(before) {
		t.Errorf("robocoast.yaml after --force:\n%s\nwant\n%s", data, before)
	}
}

func TestCLI_importEDIH_name(t *testing.T) {
	dir := t.TempDir()
	file := writeTestCatalogue(t, dir)
	tests := []struct {
		name string
		want string // the one file written
	}{
		{"robocoast-2", "robocoast-2.yaml"},
		{"robocoast", "robocoast.yaml"}, // the ID, though two names match
		{"retail hub flanders", "retail-hub.yaml"},
		{"QUANTUM VALLEY", "quantum-valley.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			r := mustHubnet(t, "import", "edih-xlsx", file, "--name", tt.name, "--out", out)
			if got := yamlFiles(t, out); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("files %v, want %v", got, tt.want)
			}
			if !strings.Contains(r.stdout, "selected 1 hub with --name "+tt.name) || !strings.Contains(r.stdout, "imported          1\n") {
				t.Errorf("stdout:\n%s\nwant one hub selected and imported", r.stdout)
			}
		})
	}

	failures := []struct {
		name, want string
		code       int
	}{
		{"RoboCoast", `"RoboCoast" names 2 hubs: robocoast (RoboCoast, row 2), robocoast-2 (ROBOCOAST, row 8)`, exitError},
		{"robocost", `no hub is named "robocost"; close: robocoast (RoboCoast, row 2), robocoast-2 (ROBOCOAST, row 8)`, exitError},
		{"nothing like it", `no hub is named "nothing like it"`, exitError},
		{"Atlantis Hub", "invalid catalogue row 7, 1 problem", exitInvalid},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			r := hubnet(t, nil, "import", "edih-xlsx", file, "--name", tt.name, "--out", out)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("got %v\nwant exit %d and %q", r, tt.code, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("--out %s made though nothing was imported", out)
			}
		})
	}
}

func TestCLI_importEDIH_reportAndJSON(t *testing.T) {
	dir := t.TempDir()
	file := writeTestCatalogue(t, dir)

	report := filepath.Join(dir, "report.csv")
	r := mustHubnet(t, "import", "edih-xlsx", file, "--out", filepath.Join(dir, "a"), "--report", report)
	if r.stderr != "" {
		t.Errorf("stderr %q, want nothing: the report went to --report", r.stderr)
	}
	if !strings.Contains(r.stdout, "report: "+report) {
		t.Errorf("stdout:\n%s\nwant it to name the report", r.stdout)
	}
	f, err := os.Open(report)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"row", "name", "id", "status", "field", "note"}; !slices.Equal(records[0], want) {
		t.Errorf("CSV header %q, want %q", records[0], want)
	}
	if want := []string{"7", "Atlantis Hub", "", "not imported", "", `Country "Atlantis" is not a country of the catalogue`}; !slices.ContainsFunc(records, func(rec []string) bool { return slices.Equal(rec, want) }) {
		t.Errorf("CSV:\n%q\nwant a record %q", records, want)
	}
	if want := []string{"3", "Retail Hub", "retail-hub", "imported", "website", `"www.retailhub.be" has no scheme; https:// added`}; !slices.ContainsFunc(records, func(rec []string) bool { return slices.Equal(rec, want) }) {
		t.Errorf("CSV:\n%q\nwant a record %q", records, want)
	}

	r = mustHubnet(t, "import", "edih-xlsx", file, "--out", filepath.Join(dir, "b"), "--json")
	var rep importReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	if rep.Read != 10 || rep.Imported != 7 || rep.WithNotes != 6 || rep.NotImported != 3 || len(rep.Hubs) != 10 {
		t.Errorf("JSON report: read %d, imported %d, with notes %d, not imported %d, %d hubs; want 10, 7, 6, 3, 10",
			rep.Read, rep.Imported, rep.WithNotes, rep.NotImported, len(rep.Hubs))
	}
	if h := rep.Hubs[0]; h.ID != "robocoast" || h.Status != "imported" || h.File != filepath.Join(dir, "b", "robocoast.yaml") || h.Country != "FI" {
		t.Errorf("first hub %+v, want robocoast imported into b", h)
	}
	if rep.Attribution != "Source: European Commission, EDIH catalogue" {
		t.Errorf("attribution %q", rep.Attribution)
	}
}

func TestCLI_importEDIH_badFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.xlsx")
	text := writeFile(t, dir, "catalogue.csv", "name,title\nDIHSE,Silver economy\n")
	noColumn := filepath.Join(dir, "no-country.xlsx")
	header := slices.DeleteFunc(slices.Clone(cataloguetest.Header), func(c string) bool { return c == "Country" })
	if err := os.WriteFile(noColumn, cataloguetest.Workbook(t, header, nil), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, file string
		code       int
		want       string
		oneLine    bool
	}{
		{"missing file", missing, exitError, "import " + missing + ": open " + missing + ": no such file", true},
		{"not a workbook", text, exitError, "import " + text + ": not an XLSX workbook", true},
		{"missing column", noColumn, exitInvalid, "\n  column \"Country\": is missing from the header", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hubnet(t, nil, "import", "edih-xlsx", tt.file, "--out", filepath.Join(dir, "out"))
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("got %v\nwant exit %d and %q", r, tt.code, tt.want)
			}
			if tt.oneLine {
				checkOneLine(t, r)
			}
		})
	}

	r := hubnet(t, nil, "import", "edih-xlsx")
	if r.code != exitUsage || !strings.Contains(r.stderr, "takes 1 arguments") {
		t.Errorf("no file: got %v, want exit %d", r, exitUsage)
	}
	r = hubnet(t, nil, "import", "csv", text)
	if r.code != exitUsage || !strings.Contains(r.stderr, `unknown command "csv" for "hubnet import"`) {
		t.Errorf("unknown source: got %v, want exit %d", r, exitUsage)
	}
}

// TestCLI_importEDIH_apply initialises a hub with the ID of an imported profile, runs
// it, and applies the profile the import wrote.
func TestCLI_importEDIH_apply(t *testing.T) {
	dir := t.TempDir()
	file := writeTestCatalogue(t, dir)
	out := filepath.Join(dir, "out")
	mustHubnet(t, "import", "edih-xlsx", file, "--name", "Quantum Valley", "--out", out)

	// The node runs as a process of its own, as in TestCLI_threeHubs: an in-process node
	// of a test built with -race trips over memberlist's unlocked local node.
	netFile := filepath.Join(dir, "network.json")
	mustHubnet(t, "network", "create", "testnet", "-o", netFile, "--key", filepath.Join(filepath.Dir(netFile), "admission.key"))
	hubDir := filepath.Join(dir, "hub")
	mustHubnet(t, "init", "-d", hubDir, "--network", netFile, "--admission-key", filepath.Join(filepath.Dir(netFile), "admission.key"), "--id", "quantum-valley")
	p := startHubnet(t, "run", "-d", hubDir, "--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0",
		"--http-addr", "127.0.0.1:0", "--gossip", "local")
	nodetest.Eventually(t, 15*time.Second, func() error {
		_, err := readNodeFile(hubDir)
		return err
	})

	r := mustHubnet(t, "-d", hubDir, "profile", "apply", "-f", filepath.Join(out, "quantum-valley.yaml"))
	if want := "profile of quantum-valley applied: revision 1\n"; r.stdout != want {
		t.Errorf("apply printed %q, want %q", r.stdout, want)
	}
	r = mustHubnet(t, "-d", hubDir, "hubs", "quantum-valley")
	// The region and the languages are guesses from the address and the country, and
	// the page says so, with where each comes from.
	for _, want := range []string{"Quantum Valley", "SoE", "DE (Germany)", "Public administration",
		"  regions:    probably DEA2D Städteregion Aachen, region from the address\n",
		"  languages:  probably de (German), its country's, not declared\n",
		"guessed, not declared (ranks the hub, never excludes it):\n",
		"  region DEA2D       Contact Location: town \"52062 Aachen\", named in the NUTS 3 region Städteregion Aachen\n",
		"  language de        official language of DE\n",
		"  sector O level 3   catalogue sector \"Defence\" - 3\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("hubs quantum-valley:\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
	p.stop(t, 10*time.Second)
}

// TestDecodeProfile_importedHubs reads the file of every hub imported from the small
// test workbook, and from the real export when the shared reference data is there,
// through decodeProfile, as `hubnet profile apply -f` reads it: it reads back the
// same valid profile.
func TestDecodeProfile_importedHubs(t *testing.T) {
	files := map[string][]byte{"small": cataloguetest.Workbook(t, cataloguetest.Header, cataloguetest.Rows)}
	if data, err := os.ReadFile(realCatalogue); err == nil {
		files["real"] = data
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			rows, err := catalogue.ReadRows(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			imported := 0
			for _, h := range catalogue.Import(rows) {
				if !h.Imported() {
					continue
				}
				imported++
				file, err := h.YAML("catalogue.xlsx")
				if err != nil {
					t.Fatalf("row %d: encode: %v", h.Row, err)
				}
				back, err := decodeProfile(file)
				if err != nil {
					t.Fatalf("row %d: decode:\n%s\n%v", h.Row, file, err)
				}
				if !reflect.DeepEqual(&back, h.Profile) {
					t.Errorf("row %d: round trip:\ngot  %+v\nwant %+v\nYAML:\n%s", h.Row, back, *h.Profile, file)
				}
				if err := back.Validate(); err != nil {
					t.Errorf("row %d: decoded profile: %v", h.Row, err)
				}
			}
			if imported == 0 {
				t.Fatal("got no hub imported, want some")
			}
		})
	}
}

// TestCLI_importEDIH_realExportRegions imports the real export and checks the summary's
// table of regions against the profiles written: for each country, how many of its
// hubs' files carry a region inferred from the address.
func TestCLI_importEDIH_realExportRegions(t *testing.T) {
	if _, err := os.Stat(realCatalogue); err != nil {
		t.Skipf("no %s: the shared reference data is not beside this repository", filepath.Clean(realCatalogue))
	}
	out := filepath.Join(t.TempDir(), "profiles")
	r := mustHubnet(t, "import", "edih-xlsx", realCatalogue, "--out", out)

	want := map[string][2]int{} // country -> with a region, imported; from the files
	total, with := 0, 0
	for _, name := range yamlFiles(t, out) {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := decodeProfile(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := want[p.Country]
		c[1]++
		total++
		if len(p.GuessedRegions()) > 0 {
			c[0]++
			with++
		}
		want[p.Country] = c
	}
	head := fmt.Sprintf("regions from the address: %d of %d imported hubs (%.0f%%); by country, with a region of imported:\n",
		with, total, 100*float64(with)/float64(total))
	if !strings.Contains(r.stdout, head) {
		t.Fatalf("stdout:\n%s\nwant it to contain %q", r.stdout, head)
	}
	got := map[string][2]int{}
	table := strings.SplitN(r.stdout, head, 2)[1]
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		f := strings.Fields(line)
		for i := 0; i+3 < len(f); i += 4 {
			w, _ := strconv.Atoi(f[i+1])
			n, _ := strconv.Atoi(f[i+3])
			got[f[i]] = [2]int{w, n}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("table by country (with a region, imported):\n got %v\nwant %v (from the files written)\nstdout:\n%s", got, want, r.stdout)
	}
	// 317 of the 457 rows carry a postcode and a town; most of them, and some others,
	// give a region.
	if total != 457 || with < 320 {
		t.Errorf("%d of %d hubs with a region, want at least 320 of 457", with, total)
	}
}
