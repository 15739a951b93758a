package protocol

import (
	"slices"
	"testing"
)

func TestOfficialLanguages_everyCountry(t *testing.T) {
	for _, c := range Countries {
		langs := OfficialLanguages(c.Code)
		if len(langs) == 0 {
			t.Errorf("%s (%s): no official languages", c.Code, c.Name)
		}
		seen := map[string]bool{}
		for _, tag := range langs {
			if !ValidLanguageTag(tag) || CanonicalLanguageTag(tag) != tag || len(tag) != 2 {
				t.Errorf("%s: %q, want a lower-case ISO 639-1 code that ValidLanguageTag accepts", c.Code, tag)
			}
			if seen[tag] {
				t.Errorf("%s: %q is listed twice", c.Code, tag)
			}
			seen[tag] = true
		}
		// A profile that takes the list as its languages is valid on that count.
		p := Profile{ID: "test-hub", Name: "Test", Type: HubDIH, Country: c.Code, Languages: langs}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: profile with languages %v: %v", c.Code, langs, err)
		}
	}
	if len(officialLanguages) != len(Countries) {
		t.Errorf("table has %d countries, want the %d of Countries", len(officialLanguages), len(Countries))
	}
}

func TestOfficialLanguages_examples(t *testing.T) {
	tests := []struct {
		country string
		want    []string
	}{
		{"BE", []string{"nl", "fr", "de"}},
		{"CH", []string{"de", "fr", "it"}},
		{"FI", []string{"fi", "sv"}},
		{"IE", []string{"en", "ga"}},
		{"LU", []string{"lb", "fr", "de"}},
		{"MT", []string{"mt", "en"}},
		{"EL", []string{"el"}},
		{"UA", []string{"uk"}},
		{"UK", []string{"en"}},
		{"XK", []string{"sq", "sr"}},
		{"GR", nil}, // ISO, not Eurostat
		{"be", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.country, func(t *testing.T) {
			if got := OfficialLanguages(tt.country); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOfficialLanguages_returnsCopy(t *testing.T) {
	OfficialLanguages("BE")[0] = "xx"
	if got := OfficialLanguages("BE"); got[0] != "nl" {
		t.Errorf("after changing a returned slice: got %v, want nl first", got)
	}
}
