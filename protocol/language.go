package protocol

import "strings"

// languageNames maps every ISO 639-1 code to the language's English name. Withdrawn
// codes (iw, in, ji, mo, sh) are left out: their replacements are here.
var languageNames = map[string]string{
	"aa": "Afar", "ab": "Abkhazian", "ae": "Avestan", "af": "Afrikaans", "ak": "Akan",
	"am": "Amharic", "an": "Aragonese", "ar": "Arabic", "as": "Assamese", "av": "Avaric",
	"ay": "Aymara", "az": "Azerbaijani",
	"ba": "Bashkir", "be": "Belarusian", "bg": "Bulgarian", "bi": "Bislama", "bm": "Bambara",
	"bn": "Bengali", "bo": "Tibetan", "br": "Breton", "bs": "Bosnian",
	"ca": "Catalan", "ce": "Chechen", "ch": "Chamorro", "co": "Corsican", "cr": "Cree",
	"cs": "Czech", "cu": "Church Slavic", "cv": "Chuvash", "cy": "Welsh",
	"da": "Danish", "de": "German", "dv": "Divehi", "dz": "Dzongkha",
	"ee": "Ewe", "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish",
	"et": "Estonian", "eu": "Basque",
	"fa": "Persian", "ff": "Fulah", "fi": "Finnish", "fj": "Fijian", "fo": "Faroese",
	"fr": "French", "fy": "Western Frisian",
	"ga": "Irish", "gd": "Scottish Gaelic", "gl": "Galician", "gn": "Guarani", "gu": "Gujarati",
	"gv": "Manx",
	"ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "ho": "Hiri Motu", "hr": "Croatian",
	"ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian", "hz": "Herero",
	"ia": "Interlingua", "id": "Indonesian", "ie": "Interlingue", "ig": "Igbo", "ii": "Sichuan Yi",
	"ik": "Inupiaq", "io": "Ido", "is": "Icelandic", "it": "Italian", "iu": "Inuktitut",
	"ja": "Japanese", "jv": "Javanese",
	"ka": "Georgian", "kg": "Kongo", "ki": "Kikuyu", "kj": "Kuanyama", "kk": "Kazakh",
	"kl": "Kalaallisut", "km": "Khmer", "kn": "Kannada", "ko": "Korean", "kr": "Kanuri",
	"ks": "Kashmiri", "ku": "Kurdish", "kv": "Komi", "kw": "Cornish", "ky": "Kyrgyz",
	"la": "Latin", "lb": "Luxembourgish", "lg": "Ganda", "li": "Limburgish", "ln": "Lingala",
	"lo": "Lao", "lt": "Lithuanian", "lu": "Luba-Katanga", "lv": "Latvian",
	"mg": "Malagasy", "mh": "Marshallese", "mi": "Maori", "mk": "Macedonian", "ml": "Malayalam",
	"mn": "Mongolian", "mr": "Marathi", "ms": "Malay", "mt": "Maltese", "my": "Burmese",
	"na": "Nauru", "nb": "Norwegian Bokmål", "nd": "North Ndebele", "ne": "Nepali", "ng": "Ndonga",
	"nl": "Dutch", "nn": "Norwegian Nynorsk", "no": "Norwegian", "nr": "South Ndebele",
	"nv": "Navajo", "ny": "Chichewa",
	"oc": "Occitan", "oj": "Ojibwa", "om": "Oromo", "or": "Odia", "os": "Ossetian",
	"pa": "Punjabi", "pi": "Pali", "pl": "Polish", "ps": "Pashto", "pt": "Portuguese",
	"qu": "Quechua",
	"rm": "Romansh", "rn": "Rundi", "ro": "Romanian", "ru": "Russian", "rw": "Kinyarwanda",
	"sa": "Sanskrit", "sc": "Sardinian", "sd": "Sindhi", "se": "Northern Sami", "sg": "Sango",
	"si": "Sinhala", "sk": "Slovak", "sl": "Slovenian", "sm": "Samoan", "sn": "Shona",
	"so": "Somali", "sq": "Albanian", "sr": "Serbian", "ss": "Swati", "st": "Southern Sotho",
	"su": "Sundanese", "sv": "Swedish", "sw": "Swahili",
	"ta": "Tamil", "te": "Telugu", "tg": "Tajik", "th": "Thai", "ti": "Tigrinya", "tk": "Turkmen",
	"tl": "Tagalog", "tn": "Tswana", "to": "Tonga", "tr": "Turkish", "ts": "Tsonga", "tt": "Tatar",
	"tw": "Twi", "ty": "Tahitian",
	"ug": "Uyghur", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek",
	"ve": "Venda", "vi": "Vietnamese", "vo": "Volapük",
	"wa": "Walloon", "wo": "Wolof",
	"xh": "Xhosa",
	"yi": "Yiddish", "yo": "Yoruba",
	"za": "Zhuang", "zh": "Chinese", "zu": "Zulu",
}

// ValidLanguageTag reports whether tag is a well-formed BCP 47 language tag (RFC 5646:
// language[-extlang][-script][-region][-variant]...[-extension]...[-x-private]) whose
// language is an ISO 639-1 code, such as "en", "pt-BR" or "sr-Latn-RS". Case does not
// matter; "_" is not a separator. Grandfathered tags and three-letter languages are
// refused, and so are repeated variants and extension singletons.
func ValidLanguageTag(tag string) bool {
	// Only ASCII is lowered: strings.ToLower would turn the Kelvin sign into a "k".
	if strings.Trim(tag, alnumChars+"-") != "" {
		return false
	}
	parts := strings.Split(strings.ToLower(tag), "-")
	if _, ok := languageNames[parts[0]]; !ok {
		return false
	}
	i := 1
	for n := 0; n < 3 && i < len(parts) && isAlpha(parts[i], 3, 3); n++ {
		i++ // extlang, as in zh-yue
	}
	if i < len(parts) && isAlpha(parts[i], 4, 4) {
		i++ // script
	}
	if i < len(parts) && (isAlpha(parts[i], 2, 2) || isDigits(parts[i], 3)) {
		i++ // region
	}
	variants := map[string]bool{}
	for ; i < len(parts) && isVariant(parts[i]); i++ {
		if variants[parts[i]] {
			return false
		}
		variants[parts[i]] = true
	}
	singletons := map[string]bool{}
	for i < len(parts) && len(parts[i]) == 1 && parts[i] != "x" && isAlnum(parts[i], 1, 1) {
		if singletons[parts[i]] {
			return false
		}
		singletons[parts[i]] = true
		i++
		start := i
		for i < len(parts) && isAlnum(parts[i], 2, 8) {
			i++
		}
		if i == start {
			return false // an extension needs at least one subtag
		}
	}
	if i < len(parts) && parts[i] == "x" {
		i++
		start := i
		for i < len(parts) && isAlnum(parts[i], 1, 8) {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(parts)
}

// CanonicalLanguageTag returns tag in the case BCP 47 recommends: lower-case language,
// title-case script, upper-case region, lower case for the rest ("PT-br" gives
// "pt-BR"). A tag that ValidLanguageTag refuses is returned unchanged.
func CanonicalLanguageTag(tag string) string {
	if !ValidLanguageTag(tag) {
		return tag
	}
	parts := strings.Split(strings.ToLower(tag), "-")
	for i := 1; i < len(parts); i++ {
		p := parts[i]
		if len(p) == 1 {
			break // extensions and private use stay lower case
		}
		switch {
		case isAlpha(p, 4, 4):
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		case isAlpha(p, 2, 2):
			parts[i] = strings.ToUpper(p)
		}
	}
	return strings.Join(parts, "-")
}

// LanguageName returns the English name of the tag's language ("Portuguese" for
// "pt-BR"), or "" if the language is not an ISO 639-1 code.
func LanguageName(tag string) string {
	primary, _, _ := strings.Cut(tag, "-")
	if !isAlpha(primary, 2, 2) {
		return ""
	}
	return languageNames[strings.ToLower(primary)]
}

const (
	alphaChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	alnumChars = alphaChars + "0123456789"
)

// isAlpha reports whether s is lo to hi ASCII letters.
func isAlpha(s string, lo, hi int) bool {
	return len(s) >= lo && len(s) <= hi && strings.Trim(s, alphaChars) == ""
}

// isDigits reports whether s is exactly n ASCII digits.
func isDigits(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789") == ""
}

// isAlnum reports whether s is lo to hi ASCII letters and digits.
func isAlnum(s string, lo, hi int) bool {
	return len(s) >= lo && len(s) <= hi && strings.Trim(s, alnumChars) == ""
}

// isVariant reports whether s is a BCP 47 variant: 5 to 8 letters and digits, or a
// digit and then 3 letters and digits.
func isVariant(s string) bool {
	return isAlnum(s, 5, 8) || (isAlnum(s, 4, 4) && s[0] >= '0' && s[0] <= '9')
}
