package console

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/i18n"
	"github.com/hubnet-eu/hubnet/protocol"
)

// templateKey finds the messages templates translate: {{t "…"}}, (t "…"), and
// with values {{tf "…" …}}.
var templateKey = regexp.MustCompile(`[{( ]tf? "((?:[^"\\]|\\.)*)"`)

// catalogKeys returns every message the console translates: those written in the
// templates and in Go calls of T, and the labels of the vocabulary and the forms,
// which templates and code translate by value.
func catalogKeys(t *testing.T) []string {
	t.Helper()
	keys := map[string]bool{}
	err := fs.WalkDir(consoleTemplateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := consoleTemplateFS.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			k, err := strconv.Unquote(`"` + m[1] + `"`)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, m[1], err)
			}
			keys[k] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "T" {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				k, _ := strconv.Unquote(lit.Value)
				keys[k] = true
			}
			return true
		})
	}
	add := func(ks ...string) {
		for _, k := range ks {
			keys[k] = true
		}
	}
	for _, x := range protocol.States {
		add(webState(x))
	}
	for _, x := range webVocab().Types {
		add(webHubType(x))
	}
	for _, x := range webVocab().Reaches {
		add(x.Label)
	}
	for _, x := range maturityDims {
		add(x.Label)
	}
	for _, x := range smeFields {
		add(x.Label)
	}
	for _, m := range []map[string]string{webCodes, searchLabels, referLabels, profileLabels, webFieldLabels, api.PurgeReasons, topicLabels} {
		add(slices.Collect(maps.Values(m))...)
	}
	add(slices.Collect(maps.Values(webCategories))...)
	for _, e := range webEvents {
		add(string(e))
	}
	add(webRules...)
	for _, p := range webRulePrefixes {
		add(p[1])
	}
	add(api.RoleAdvisor, api.RoleOperator, "an "+api.RoleAdvisor, "an "+api.RoleOperator)
	add("active", "expired", "revoked", "alive", "failed", "left") // token and peer states
	return slices.Sorted(maps.Keys(keys))
}

// TestCatalog_complete fails when a language misses a message, has one the
// console no longer uses, or fills in other values than the English. The
// vocabulary's labels and the NACE names are checked in internal/i18n. With
// HUBNET_I18N_KEYS=file it also writes the keys, for translators.
func TestCatalog_complete(t *testing.T) {
	keys := catalogKeys(t)
	if len(keys) < 300 {
		t.Fatalf("found %d messages, want the console's 300 or more: the search for them is broken", len(keys))
	}
	if out := os.Getenv("HUBNET_I18N_KEYS"); out != "" {
		b, _ := json.MarshalIndent(keys, "", "  ")
		os.WriteFile(out, b, 0o644)
	}
	// The vocabulary's labels are translated in internal/i18n, for the command
	// line too; a console file that repeats one is using a key of its own.
	keys = slices.DeleteFunc(keys, func(k string) bool { return slices.Contains(i18n.VocabKeys(), k) })
	for _, l := range webLanguages[1:] {
		msgs, err := readTranslations(l.Code)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range i18n.Problems(l.Code, keys, msgs) {
			t.Error(p)
		}
	}
}

// TestRequestLang_choice checks the order of the choices: the language switch's
// cookie, the person's language, the browser's Accept-Language, English.
func TestRequestLang_choice(t *testing.T) {
	for _, tc := range []struct {
		name, cookie, person, accept, want string
	}{
		{"nothing", "", "", "", "en"},
		{"browser", "", "", "de-AT,de;q=0.9,en;q=0.5", "de"},
		{"browser's second choice", "", "", "sv,fi;q=0.8", "fi"},
		{"browser's language the console lacks", "", "", "sv", "en"},
		{"person over browser", "", "pl", "de", "pl"},
		{"person's regional tag", "", "fr-BE", "", "fr"},
		{"switch over person", "it", "pl", "de", "it"},
		{"unknown cookie ignored", "xx", "", "es", "es"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/search", nil)
			if tc.cookie != "" {
				r.Header.Set("Cookie", langCookie+"="+tc.cookie)
			}
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			if got := requestLang(r, tc.person).Code; got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestWebLang_formats checks dates, numbers and relative times in each language.
func TestWebLang_formats(t *testing.T) {
	day := time.Date(2027, 3, 5, 14, 7, 0, 0, time.UTC)
	for _, tc := range []struct{ lang, date, num, score, ago string }{
		{"en", "5 Mar 2027", "12,345", "7.5", "3 h ago"},
		{"de", "05.03.2027", "12.345", "7,5", "vor 3 Std."},
		{"fr", "05/03/2027", "12\u00a0345", "7,5", "il y a 3 h"},
		{"fi", "5.3.2027", "12\u00a0345", "7,5", "3 t sitten"},
		{"pl", "05.03.2027", "12\u00a0345", "7,5", "3 godz. temu"},
	} {
		l := webLangs()[tc.lang]
		if got := l.Date(day); got != tc.date {
			t.Errorf("%s date: got %q, want %q", tc.lang, got, tc.date)
		}
		if got := l.Num(12345); got != tc.num {
			t.Errorf("%s number: got %q, want %q", tc.lang, got, tc.num)
		}
		if got := l.funcs()["score"].(func(float64) string)(7.5); got != tc.score {
			t.Errorf("%s score: got %q, want %q", tc.lang, got, tc.score)
		}
		if got := l.Rel(day, day.Add(-3*time.Hour)); got != tc.ago {
			t.Errorf("%s 3 hours ago: got %q, want %q", tc.lang, got, tc.ago)
		}
	}
}
