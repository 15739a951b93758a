package main

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/hubnet-eu/hubnet/internal/i18n"
)

// cliKeyCalls are the calls whose literal arguments are message keys, and where.
var cliKeyCalls = map[string][]int{
	"T":      {0},    // a.T("…", …)
	"msg":    {0},    // msg("…"): translated where it is shown
	"usagef": {0},    // translated by report
	"fail":   {0, 2}, // what failed and what to do, translated by report
	"change": {1, 2}, // the short and long help of a gossip-key command
}

// cliKeys returns every message the command line translates.
func cliKeys(t *testing.T) []string {
	t.Helper()
	keys, err := i18n.SourceKeys(".", cliKeyCalls)
	if err != nil {
		t.Fatal(err)
	}
	// The vocabulary's labels are translated in internal/i18n.
	return slices.DeleteFunc(keys, func(k string) bool { return slices.Contains(i18n.VocabKeys(), k) })
}

// TestCLICatalog_complete fails when a language misses a message of the command
// line, keeps one it no longer uses, or fills in other values than the English.
// With HUBNET_I18N_KEYS=file it also writes the keys, for translators.
func TestCLICatalog_complete(t *testing.T) {
	keys := cliKeys(t)
	if len(keys) < 100 {
		t.Fatalf("found %d messages, want 100 or more: the search for them is broken", len(keys))
	}
	if out := os.Getenv("HUBNET_I18N_KEYS"); out != "" {
		b, _ := json.MarshalIndent(keys, "", "  ")
		os.WriteFile(out, b, 0o644)
	}
	for _, code := range i18n.Languages[1:] {
		msgs, err := i18n.ReadFile(translationFS, "translations/"+code+".json")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range i18n.Problems(code, keys, msgs) {
			t.Error(p)
		}
	}
}
