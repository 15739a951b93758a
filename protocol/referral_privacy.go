package protocol

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// The receiving hub reads a referral's need before it accepts, and may decline: the
// need must not tell who the SME is. (Other hubs read none of it: the offer is sealed
// to the receiver, seal.go.) NamesSME checks that the description does not spell out the SME's details.

// minNamePart is the fewest letters a part of a name needs to count: an initial or a
// two-letter word ("J.", "AB", "de") names nobody.
const minNamePart = 3

// minPhoneDigits is the fewest digits a phone number needs to be looked for, and
// phoneKey how many of its last digits are: a number written in national form
// ("040 765 4321") ends with the same digits as in international form ("+358 40 765
// 4321").
const (
	minPhoneDigits = 6
	phoneKey       = 7
)

// nameFillers are words of a company's name that name nobody: legal forms, and the
// words that join the parts of a name, folded as appendWords spells them. Words of
// fewer than minNamePart letters are left out anyway.
var nameFillers = map[string]bool{
	// legal forms
	"oyj": true, "abp": true, "tmi": true, "gmbh": true, "mbh": true, "ohg": true, "ltd": true,
	"limited": true, "llc": true, "llp": true, "inc": true, "plc": true, "corp": true, "sas": true,
	"sasu": true, "sarl": true, "eurl": true, "srl": true, "srls": true, "spa": true, "sapa": true,
	"slu": true, "sro": true, "kft": true, "zrt": true, "nyrt": true, "doo": true, "asa": true,
	"aps": true, "sia": true, "uab": true, "ehf": true, "ltda": true, "lda": true, "eood": true,
	"ood": true, "ike": true, "bvba": true, "vof": true, "sprl": true, "scrl": true, "scs": true,
	"gbr": true,
	// words that join or introduce a name
	"and": true, "und": true, "och": true, "the": true, "der": true, "die": true, "das": true,
	"les": true, "del": true, "della": true, "von": true, "van": true,
	"company": true, "corporation": true, "incorporated": true, "group": true, "holding": true,
}

// roleMailboxes are parts before the @ of e-mail addresses that name a role, not a
// person or a company: "info" in a description names nobody.
var roleMailboxes = map[string]bool{
	"info": true, "contact": true, "kontakt": true, "office": true, "toimisto": true, "mail": true,
	"post": true, "posti": true, "sales": true, "myynti": true, "hello": true, "hei": true,
	"admin": true, "support": true, "service": true, "asiakaspalvelu": true, "team": true,
	"hallo": true, "bonjour": true, "accueil": true, "kansli": true, "kundservice": true,
}

// NamesSME returns a problem of the need's description for each of the SME's details
// s that it contains, so that a referral whose need names the SME is refused before
// it is sent. It compares, after folding case, accents and the spaces between words:
//
//   - the SME's name and its contact person's name: their parts of minNamePart letters
//     or more, less legal forms and joining words (Oy, GmbH, Ltd, SA, and, von, ...),
//     found together as whole words ("Leipomo Esimerkki", "LeipomoEsimerkki",
//     "leipomo-esimerkki" for "Leipomo Esimerkki Oy"; "Esimerkki" alone for
//     "Esimerkki Oy"). A word of the name used on its own ("a bakery", for "Example
//     Bakery Oy") is not a match: names are made of ordinary words too;
//   - the e-mail address, and its part before the @ as a name ("aino" for
//     aino@leipomo.example), unless that part names a role (info@, sales@);
//   - the phone number: its last 7 digits, however the description groups them;
//   - the website: its host, without "www.".
//
// Each problem's field is "description"; its rule names the SME's field it matched.
// It returns nil when the description names none of them. It is a check against the
// obvious mistake, not a proof: a misspelt or inflected name passes.
func (n *Need) NamesSME(s SME) []FieldError {
	words := significant(appendWords(nil, n.Description))
	lower := strings.ToLower(n.Description)
	var out []FieldError
	add := func(field, what string) {
		out = append(out, FieldError{Field: "description",
			Rule: "must not name the SME: it contains " + what + " (sme." + field + ")"})
	}
	if containsName(words, s.Name, nil) {
		add("name", "the SME's name")
	}
	if containsName(words, s.ContactName, nil) {
		add("contact_name", "the name of the SME's contact person")
	}
	if email := strings.ToLower(strings.TrimSpace(s.ContactEmail)); email != "" {
		local, _, _ := strings.Cut(email, "@")
		if (strings.Contains(email, "@") && strings.Contains(lower, email)) || containsName(words, local, roleMailboxes) {
			add("contact_email", "the SME's e-mail address, or its part before the @")
		}
	}
	if containsPhone(n.Description, s.ContactPhone) {
		add("contact_phone", "the SME's phone number")
	}
	if host := websiteHost(s.Website); host != "" && containsHost(lower, host) {
		add("website", "the SME's website")
	}
	return out
}

// significant returns the words that may name someone: those of minNamePart letters
// or more that are not fillers of a name.
func significant(words []string) []string {
	out := words[:0]
	for _, w := range words {
		if utf8.RuneCountInString(w) >= minNamePart && !nameFillers[w] {
			out = append(out, w)
		}
	}
	return out
}

// containsName reports whether name's significant parts, less those in skip, stand
// in words one after the other, however they are split into words there: the
// spaces between them are folded away.
func containsName(words []string, name string, skip map[string]bool) bool {
	var parts []string
	for _, p := range significant(appendWords(nil, name)) {
		if !skip[p] {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return false
	}
	target := strings.Join(parts, "")
	for i := range words {
		acc := ""
		for _, w := range words[i:] {
			acc += w
			if acc == target {
				return true
			}
			if !strings.HasPrefix(target, acc) {
				break
			}
		}
	}
	return false
}

// containsPhone reports whether text holds the last phoneKey digits of phone, in a
// run of digits that spaces, dots, dashes, slashes, parentheses and plus signs may
// split. A phone number of fewer than minPhoneDigits digits is not looked for.
func containsPhone(text, phone string) bool {
	digits := keepDigits(phone)
	if len(digits) < minPhoneDigits {
		return false
	}
	key := digits[max(0, len(digits)-phoneKey):]
	var run strings.Builder
	for _, r := range text + "x" { // the last rune ends the last run
		switch {
		case '0' <= r && r <= '9':
			run.WriteRune(r)
			continue
		case strings.ContainsRune(" \u00a0.-/()+", r):
			continue
		}
		if strings.Contains(run.String(), key) {
			return true
		}
		run.Reset()
	}
	return false
}

// keepDigits returns the ASCII digits of s.
func keepDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if '0' <= r && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// websiteHost returns the host of website, lower case and without "www.", or "" when
// it has none.
func websiteHost(website string) string {
	u, err := url.Parse(strings.TrimSpace(website))
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// containsHost reports whether lower, a text in lower case, holds host as a whole: not
// inside a longer name ("notbakery.example"), though a subdomain or a path may go
// with it.
func containsHost(lower, host string) bool {
	for i := 0; ; {
		j := strings.Index(lower[i:], host)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(host)
		before, _ := utf8.DecodeLastRuneInString(lower[:start])
		after, _ := utf8.DecodeRuneInString(lower[end:])
		if (start == 0 || !hostRune(before)) && (end == len(lower) || !hostRune(after)) {
			return true
		}
		i = start + 1
	}
}

// hostRune reports whether r may stand inside a label of a host name.
func hostRune(r rune) bool { return r == '-' || foldRune(r) != 0 }
