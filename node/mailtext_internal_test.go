package node

import (
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// mailVerb finds the values a text takes: %[1]s and the like.
var mailVerb = regexp.MustCompile(`%(\[\d+\])?[a-z]`)

// TestMailTexts_complete fails when a language of the console has no e-mail texts,
// or when a language misses a text of English or takes other values than it.
func TestMailTexts_complete(t *testing.T) {
	catalogues, err := filepath.Glob(filepath.Join("console", "translations", "*.json"))
	if err != nil || len(catalogues) == 0 {
		t.Fatalf("the console's catalogues: %v, %d found", err, len(catalogues))
	}
	want := []string{"en"}
	for _, c := range catalogues {
		want = append(want, strings.TrimSuffix(filepath.Base(c), ".json"))
	}
	var got []string
	for l := range mailLanguages {
		got = append(got, l)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("e-mail languages %v, want the console's %v", got, want)
	}
	en := mailLanguages["en"]
	verbs := func(s string) []string {
		v := mailVerb.FindAllString(s, -1)
		slices.Sort(v)
		return v
	}
	for _, l := range want {
		tx, ok := mailLanguages[l]
		if !ok {
			continue
		}
		for typ, s := range en.Subjects {
			if tx.Subjects[typ] == "" {
				t.Errorf("%s: no subject for %s", l, typ)
			} else if !slices.Equal(verbs(tx.Subjects[typ]), verbs(s)) {
				t.Errorf("%s: subject of %s %q takes %v, want %v as English", l, typ, tx.Subjects[typ], verbs(tx.Subjects[typ]), verbs(s))
			}
		}
		if len(tx.Subjects) != len(en.Subjects) {
			t.Errorf("%s: %d subjects, want English's %d", l, len(tx.Subjects), len(en.Subjects))
		}
		v, ve := reflect.ValueOf(tx), reflect.ValueOf(en)
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Type.Kind() != reflect.String {
				continue
			}
			s, e := v.Field(i).String(), ve.Field(i).String()
			switch {
			case s == "":
				t.Errorf("%s: no text for %s", l, f.Name)
			case !slices.Equal(verbs(s), verbs(e)):
				t.Errorf("%s: %s %q takes %v, want %v as English", l, f.Name, s, verbs(s), verbs(e))
			case l != "en" && s == e:
				t.Errorf("%s: %s is English's text %q", l, f.Name, s)
			}
		}
	}
}
