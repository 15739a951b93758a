package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/hubnet-eu/hubnet/protocol"
)

// The fuzz targets of this file feed the files the CLI reads: a profile and a
// referral as YAML, and the config file. Package catalogue fuzzes the EC catalogue's
// XLSX export and its rows.

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

// FuzzDecodeProfile feeds profile files to decodeProfile, as `hubnet profile apply -f`
// and `hubnet init --profile` read them: a refusal names each field or line; a
// profile it reads can be sent to the node as JSON, and written as `hubnet profile
// show` writes it, it reads back the same.
func FuzzDecodeProfile(f *testing.F) {
	files, err := filepath.Glob("demodata/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no demo profiles to seed with (%v)", err)
	}
	for _, name := range files[:min(len(files), 4)] {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "---\n", "id: x\nnmae: y\n", "name: [1, 2]\n", "capacity:\n  test-before-invest: {available: x, colour: red}\n",
		"updated: 2026-11-22T16:02:11+02:00\nrevision: -1\n", "a: &a [*a, *a]\n", "technologies: {robotics: 1e3}\n",
		"name: \xff\xfe\n", "id: a\n---\nid: b\n", "{\"id\": \"json-is-yaml\", \"languages\": [\"fi\"]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodeProfile(data)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("read %+v, which cannot be sent to the node: %v", p, err)
		}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(p); err != nil {
			t.Fatalf("read %+v, which profile show cannot write: %v", p, err)
		}
		enc.Close()
		back, err := decodeProfile(buf.Bytes())
		if err != nil {
			t.Fatalf("read %q, written as\n%s\nrefused: %v", data, buf.Bytes(), err)
		}
		if !sameJSON(emptyAsNil(back), emptyAsNil(p)) {
			t.Fatalf("written as\n%s\nreads %+v, want %+v", buf.Bytes(), back, p)
		}
	})
}

// emptyAsNil returns p with its empty lists and maps nil: YAML writes a list the
// profile always has ("languages: []") when it is nil, and reads it back empty.
func emptyAsNil(p protocol.Profile) protocol.Profile {
	if len(p.Regions) == 0 {
		p.Regions = nil
	}
	if len(p.Languages) == 0 {
		p.Languages = nil
	}
	if len(p.Categories) == 0 {
		p.Categories = nil
	}
	if len(p.Technologies) == 0 {
		p.Technologies = nil
	}
	if len(p.Services) == 0 {
		p.Services = nil
	}
	if len(p.Sectors) == 0 {
		p.Sectors = nil
	}
	if len(p.Capacity) == 0 {
		p.Capacity = nil
	}
	return p
}

// sameJSON reports whether a and b encode to the same JSON: the same values, times the
// same instant in the same zone offset.
func sameJSON(a, b any) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && bytes.Equal(ja, jb)
}

// FuzzDecodeReferral feeds referral files to decodeReferral and then to the request
// `hubnet refer -f` makes of them with no flags: a refusal names each field (and its
// flag) or line; a request made can be sent to the node as JSON.
func FuzzDecodeReferral(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "referral.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(referralYAML("hub-two")))
	for _, s := range []string{
		"", "to: x\nneed: {sectr: 10}\n", "need:\n  maturity: {strategy: 40}\n", "consent: {given_at: yesterday, until: 2026-13-01}\n",
		"need: {technologies: robotics}\n", "sme: [1]\n", "consent: {given_at: 2026-11-22 09:30, until: '2027-02-20'}\n",
		"need:\n  maturity: {strategy: 1, readiness: 2, human: 3, data: 4, automation: 5, green: 600}\n",
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 22, 16, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := decodeReferral(data)
		if err != nil {
			checkProblems(t, err)
			return
		}
		var flags referFlags
		req, err := flags.request(pflag.NewFlagSet("refer", pflag.ContinueOnError), file, now)
		if err != nil {
			checkProblems(t, err)
			return
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("made %+v, which cannot be sent to the node: %v", req, err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if req.Consent.Recipient == "" && req.To != "" {
			t.Fatalf("consent for no hub in a referral to %q", req.To)
		}
	})
}

// FuzzReadConfigFile feeds config files (--config) to readConfigFile: a key that is no
// setting, or a value that is not one, is refused by name; what it reads are
// settings.
func FuzzReadConfigFile(f *testing.F) {
	for _, s := range []string{
		"data-dir: ./hub\njoin: [a.example:7946, b.example:7946]\nlog-level: debug\n", "colour: red\n", "join: {a: b}\n",
		"", "- a\n- b\n", "data-dir: &a [*a]\n", "json: true\nhttp-addr: 127.0.0.1:0\n", "\xff: 1\n", "join: [[1]]\n",
	} {
		f.Add([]byte(s))
	}
	a := &app{}
	newRootCmd(a)
	known := map[string]bool{}
	for _, fs := range []*pflag.FlagSet{a.root.PersistentFlags(), a.run.LocalFlags()} {
		fs.VisitAll(func(fl *pflag.Flag) { known[fl.Name] = true })
	}
	path := filepath.Join(f.TempDir(), "hubnet.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		values, err := a.readConfigFile(path)
		if err != nil {
			checkProblems(t, err)
			return
		}
		for k := range values {
			if !known[k] || k == "config" || k == "help" {
				t.Fatalf("read %q, which is no setting", k)
			}
		}
	})
}
