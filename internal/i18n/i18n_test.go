package i18n

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

// TestVocab_complete fails when a language misses the translation of a label of the
// vocabulary, a NACE name or a message of a search's reasons, or translates one
// nothing uses.
func TestVocab_complete(t *testing.T) {
	keys, err := SourceKeys(".", map[string][]int{"T": {0}})
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, VocabKeys()...)
	keys = append(keys, "SMEs per month") // the unit of capacity a hub gets when it names none
	for _, p := range proximities {
		keys = append(keys, p.String())
	}
	if len(keys) < 180 {
		t.Fatalf("found %d messages, want 180 or more: the vocabulary's labels, NACE names and reasons", len(keys))
	}
	for _, code := range Languages[1:] {
		msgs, err := ReadVocab(code)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range Problems(code, keys, msgs) {
			t.Error(p)
		}
	}
}

func TestProblems(t *testing.T) {
	keys := []string{"%d hubs", "Robotics", "none"}
	msgs := map[string]string{"%d hubs": "%s Hubs", "Robotics": "Robotik", "gone": "weg", "none": " "}
	got := Problems("de", keys, msgs)
	want := []string{
		`de misses "none"`,
		`de translates "gone", which nothing uses`,
		`de: "%d hubs" translates "%s Hubs" with values [s], want [d]`,
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		all, messages, lang, want string
	}{
		{"", "", "", ""},
		{"", "", "de_DE.UTF-8", "de"},
		{"", "", "fr_CH@euro", "fr"},
		{"", "fi_FI.UTF-8", "de_DE.UTF-8", "fi"},
		{"pl_PL", "fi_FI.UTF-8", "de_DE.UTF-8", "pl"},
		{"C", "", "de_DE.UTF-8", ""}, // LC_ALL decides, and C is English
		{"", "", "sv_SE.UTF-8", ""},  // not a language hubnet is written in
		{"", "", "es", "es"},
	} {
		env := map[string]string{"LC_ALL": tc.all, "LC_MESSAGES": tc.messages, "LANG": tc.lang}
		if got := FromEnv(func(k string) string { return env[k] }); got != tc.want {
			t.Errorf("LC_ALL=%q LC_MESSAGES=%q LANG=%q: got %q, want %q", tc.all, tc.messages, tc.lang, got, tc.want)
		}
	}
}

func TestCatalog_Lang(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, code := range Languages[1:] {
		fsys["m/"+code+".json"] = &fstest.MapFile{Data: []byte(`{"%d hubs match": "` + code + ` %d"}`)}
	}
	c, err := NewCatalog(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code, key string
		args      []any
		want      string
	}{
		{"en", "%d hubs match", []any{1234}, "1,234 hubs match"},
		{"de", "%d hubs match", []any{1234}, "de 1.234"},
		{"de", "Manufacture of furniture", nil, "Herstellung von Möbeln"},
		{"fr", "Robotics", nil, "Robotique"},
		{"fi", "Country", nil, "Country"}, // a key no file has shows in English
	} {
		if got := c.Lang(tc.code).T(tc.key, tc.args...); got != tc.want {
			t.Errorf("%s %q: got %q, want %q", tc.code, tc.key, got, tc.want)
		}
	}
	if l, ok := c.Match("de-AT"); !ok || l.Code != "de" {
		t.Errorf("de-AT: got %s, %v; want de", l.Code, ok)
	}
	if got := c.Lang("de").Country("EL"); got != "Griechenland" {
		t.Errorf("EL in German: got %q, want Griechenland", got)
	}
}

func TestSourceKeys_constants(t *testing.T) {
	dir := t.TempDir()
	src := `package x

const base = "http://127.0.0.1:7480"

const long = "Talks to the node at " + base + ".\n" +
	"More."

func f(a app) {
	a.T(long)
	a.T("literal %d", 3)
	a.T(("paren" + "thesised"))
	a.T(notConst())
	a.T(long + notConst())
}
`
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := SourceKeys(dir, map[string][]int{"T": {0}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Talks to the node at http://127.0.0.1:7480.\nMore.", "literal %d", "parenthesised"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
