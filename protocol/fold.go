package protocol

import "unicode"

// foldGroups lists, for each plain Latin letter, the accented letters that fold to it
// in search: "müller" finds "Muller" and the other way round.
var foldGroups = []string{
	"aàáâãäåāăą", "cçćĉċč", "dďđ", "eèéêëēĕėęě", "gĝğġģ", "hĥħ", "iìíîïĩīĭįı", "jĵ", "kķ",
	"lĺļľŀł", "nñńņňŉ", "oòóôõöøōŏő", "rŕŗř", "sśŝşšș", "tţťŧț", "uùúûüũūŭůűų", "wŵ", "yýÿŷ",
	"zźżž",
}

var foldTable = func() map[rune]rune {
	m := map[rune]rune{}
	for _, g := range foldGroups {
		plain := []rune(g)[0]
		for _, r := range []rune(g)[1:] {
			m[r] = plain
		}
	}
	return m
}()

// foldRune returns r as search compares it: lower case without its accent; 'ß' for
// 'ß' and 'ẞ', which the caller spells "ss"; 0 for a rune that separates words.
func foldRune(r rune) rune {
	if r < 0x80 {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return 0
	}
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return 0
	}
	r = unicode.ToLower(r)
	if r == 'ẞ' || r == 'ß' {
		return 'ß'
	}
	if f, ok := foldTable[r]; ok {
		return f
	}
	return r
}

// FoldWords returns the words of s as search compares them: lower case, common Latin
// accents removed, split at everything that is not a letter or a digit.
func FoldWords(s string) []string { return appendWords(nil, s) }
