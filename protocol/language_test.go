package protocol

import (
	"strings"
	"testing"
)

func TestValidLanguageTag_accepts(t *testing.T) {
	for _, tag := range []string{
		"en", "EN", "pt-BR", "PT-br", "sr-Latn-RS", "sr-Cyrl", "de-CH-1996", "es-419",
		"zh-Hant-TW", "sl-rozaj-biske", "en-GB-oxendict", "de-DE-u-co-phonebk",
		"en-a-bbb-x-a-ccc", "fr-x-private", "nb", "nn-NO", "zh-yue-HK", "ca-ES-valencia",
	} {
		if !ValidLanguageTag(tag) {
			t.Errorf("ValidLanguageTag(%q) = false, want true", tag)
		}
	}
}

func TestValidLanguageTag_refuses(t *testing.T) {
	for _, tag := range []string{
		"", "english", "e", "en_GB", "xx", "en-", "-en", "en--GB", " en", "en ",
		"eng",            // three-letter languages are not ISO 639-1
		"i-klingon",      // grandfathered
		"x-private",      // private use only
		"en-GB-GB",       // a second region
		"en-Latn-Latn",   // a second script
		"sl-rozaj-rozaj", // repeated variant
		"de-u-co-u-nu",   // repeated singleton
		"en-u",           // extension without subtags
		"en-x",           // private use without subtags
		"en-abcdefghi",   // subtag longer than 8
		"iw", "sh",       // withdrawn codes
		"\u212Aa", // the Kelvin sign lowers to "k"
		"en-\xff",
	} {
		if ValidLanguageTag(tag) {
			t.Errorf("ValidLanguageTag(%q) = true, want false", tag)
		}
	}
}

func TestValidLanguageTag_officialLanguages(t *testing.T) {
	// The official languages of Countries (Montenegrin has no ISO 639-1 code; sr
	// serves) and the others the brief asks for.
	for _, code := range strings.Fields(`en fr de es it pt nl pl cs sk sl hr sr bs mk sq bg ro
		hu el tr uk ru fi sv da no nb nn is et lv lt mt ga lb ca eu gl cy ar zh ja rm`) {
		if !ValidLanguageTag(code) || LanguageName(code) == "" {
			t.Errorf("%q: want a valid tag with an English name", code)
		}
	}
}

func TestCanonicalLanguageTag(t *testing.T) {
	tests := []struct{ tag, want string }{
		{"PT-br", "pt-BR"},
		{"en", "en"},
		{"SR-LATN-rs", "sr-Latn-RS"},
		{"ES-419", "es-419"},
		{"DE-ch-1996", "de-CH-1996"},
		{"de-DE-U-CO-PHONEBK", "de-DE-u-co-phonebk"},
		{"en-x-US", "en-x-us"}, // private-use subtags are not regions
		{"ZH-YUE-hk", "zh-yue-HK"},
		{"en_GB", "en_GB"}, // invalid: unchanged
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			if got := CanonicalLanguageTag(tt.tag); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLanguageName(t *testing.T) {
	tests := []struct{ tag, want string }{
		{"pt-BR", "Portuguese"},
		{"EL", "Greek"},
		{"nb", "Norwegian Bokmål"},
		{"sr-Latn-RS", "Serbian"},
		{"xx", ""},
		{"eng", ""},
		{"", ""},
		{"\u212Aa", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			if got := LanguageName(tt.tag); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzCanonicalLanguageTag(f *testing.F) {
	for _, seed := range []string{"en", "pt-BR", "sr-Latn-RS", "de-DE-u-co-phonebk", "en-x-US", "en_GB", "", "\u212Aa"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		got := CanonicalLanguageTag(tag)
		if !ValidLanguageTag(tag) {
			if got != tag {
				t.Errorf("CanonicalLanguageTag(%q) = %q, want an invalid tag unchanged", tag, got)
			}
			return
		}
		if !ValidLanguageTag(got) || !strings.EqualFold(got, tag) || CanonicalLanguageTag(got) != got {
			t.Errorf("CanonicalLanguageTag(%q) = %q, want a valid, idempotent change of case", tag, got)
		}
	})
}
