package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Languages are the codes of the languages hubnet is written in, English first: it
// is the fallback, and the language of the keys.
var Languages = []string{"en", "de", "fr", "it", "es", "fi", "pl"}

//go:embed vocab/*.json
var vocabFS embed.FS

// Catalog holds the translations of every language, built once.
type Catalog struct {
	builder *catalog.Builder
	langs   map[string]*Lang
	matcher language.Matcher
	keys    map[string]bool // every key a file translates
}

// NewCatalog builds a catalogue from the files <dir>/<code>.json of fsys, one for
// each language but English, and the vocabulary's translations. An empty
// translation is left out: the message shows in English.
func NewCatalog(fsys fs.FS, dir string) (*Catalog, error) {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	keys := map[string]bool{}
	for _, code := range Languages[1:] {
		tag := language.MustParse(code)
		for _, src := range []struct {
			fsys fs.FS
			path string
		}{{vocabFS, "vocab/" + code + ".json"}, {fsys, dir + "/" + code + ".json"}} {
			msgs, err := ReadFile(src.fsys, src.path)
			if err != nil {
				return nil, err
			}
			for key, text := range msgs {
				if text == "" {
					continue
				}
				if err := b.SetString(tag, key, text); err != nil {
					return nil, fmt.Errorf("translation %s %q: %w", code, key, err)
				}
				keys[key] = true
			}
		}
	}
	c := &Catalog{builder: b, langs: map[string]*Lang{}, keys: keys}
	tags := make([]language.Tag, len(Languages))
	for i, code := range Languages {
		tags[i] = language.MustParse(code)
		c.langs[code] = &Lang{Code: code, Tag: tags[i], p: message.NewPrinter(tags[i], message.Catalog(b)), keys: keys}
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// ReadFile reads one translation file: English key -> translation.
func ReadFile(fsys fs.FS, path string) (map[string]string, error) {
	raw, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("translations: %w", err)
	}
	var msgs map[string]string
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, fmt.Errorf("translations %s: %w", path, err)
	}
	return msgs, nil
}

// ReadVocab reads the vocabulary's translations into code, for tests.
func ReadVocab(code string) (map[string]string, error) {
	return ReadFile(vocabFS, "vocab/"+code+".json")
}

// Lang returns the language of code, one of [Languages]; nil for another.
func (c *Catalog) Lang(code string) *Lang { return c.langs[code] }

// Match returns the language nearest to a BCP 47 tag such as de-AT, and whether
// there is one near enough; English when not.
func (c *Catalog) Match(tag string) (*Lang, bool) {
	t, err := language.Parse(strings.TrimSpace(tag))
	if err != nil || tag == "" {
		return c.langs["en"], false
	}
	_, i, conf := c.matcher.Match(t)
	if conf < language.High {
		return c.langs["en"], false
	}
	return c.langs[Languages[i]], true
}

// Matcher returns the matcher of the languages, in the order of [Languages].
func (c *Catalog) Matcher() language.Matcher { return c.matcher }

// Lang is one language of a catalogue, with its printer.
type Lang struct {
	Code string       // BCP 47 code, such as de
	Tag  language.Tag // the code parsed
	p    *message.Printer
	keys map[string]bool // of the catalogue; read only
}

// T translates the message key, an English text, and fills in args as fmt would,
// with numbers written the language's way.
func (l *Lang) T(key string, args ...any) string { return l.p.Sprintf(key, args...) }

// Text translates s when the catalogue has it as a key, and returns any other
// text as it is: a message made at run time, which may hold a '%' of its own.
func (l *Lang) Text(s string) string {
	if !l.keys[s] {
		return s
	}
	return l.p.Sprintf(s)
}

// Printer returns the language's printer.
func (l *Lang) Printer() *message.Printer { return l.p }

// Country names a country of the vocabulary in the language, from CLDR, or in
// English.
func (l *Lang) Country(code string) string {
	iso := code
	switch code {
	case "EL":
		iso = "GR"
	case "UK":
		iso = "GB"
	}
	if reg, err := language.ParseRegion(iso); err == nil && l.Code != "en" {
		if name := display.Regions(l.Tag).Name(reg); name != "" {
			return name
		}
	}
	if c, ok := protocol.CountryByCode(code); ok {
		return c.Name
	}
	return code
}

// Language names a language in the language, from CLDR, or in English.
func (l *Lang) Language(tag string) string {
	if t, err := language.Parse(tag); err == nil && l.Code != "en" {
		if name := display.Languages(l.Tag).Name(t); name != "" {
			return name
		}
	}
	if name := protocol.LanguageName(tag); name != "" {
		return name
	}
	return tag
}

// FromLocale returns the language of a POSIX locale such as de_DE.UTF-8 or
// fr_CH@euro: its language part, when it is one of [Languages]; "" for C, POSIX,
// or a language hubnet is not written in.
func FromLocale(locale string) string {
	s, _, _ := strings.Cut(locale, ".")
	s, _, _ = strings.Cut(s, "@")
	s, _, _ = strings.Cut(s, "_")
	s = strings.ToLower(s)
	for _, code := range Languages {
		if s == code {
			return code
		}
	}
	return ""
}

// FromEnv returns the language the environment asks for, as POSIX programs read it:
// the first of LC_ALL, LC_MESSAGES and LANG that is set decides; "" when none is,
// or the one set names a language hubnet is not written in. getenv is os.Getenv
// when nil.
func FromEnv(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			return FromLocale(v)
		}
	}
	return ""
}
