package protocol

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Term is one value of a [Vocabulary]: the value hubs store and exchange, and what
// people read for it.
type Term struct {
	Value string // the slug or code, such as "internet-of-things" or "FI1B1"
	Label string // the English label or the place's name
}

// Vocabulary is one list of values people type: technologies, countries, NUTS regions
// and so on. Every edge that reads what a person typed (CLI flags, profile files, the
// API's query parameters, the console's forms) goes through the vocabulary of each
// field: [Vocabulary.Canonical] turns what it accepts into the stored value, and
// [Vocabulary.Rule] words the error, with suggestions, for what it does not.
//
// Canonical accepts a value in any case and with any surrounding spaces ("fi" for
// "FI", "Robotics" for "robotics"), and, where the vocabulary accepts them, a label or
// a name as the catalogue writes it ("Internet of Things", "Finland"). Everything else
// is an error: a near miss is suggested, never silently taken.
type Vocabulary struct {
	// Name is what one value is called in an error, such as "technology slug".
	Name string
	// List is the argument of 'hubnet vocab' that prints the vocabulary.
	List string
	// Examples are quoted in an error that has no suggestion.
	Examples []string

	terms   []Term
	showLbl bool                // suggestions are shown with their label: "FI1B1 Helsinki-Uusimaa"
	exact   map[string]string   // key of a value, or of an accepted label or name -> value
	hints   map[string][]string // key of a hint ("iot") -> the values it suggests
	names   [][][]string        // per term: the words of its value, label and hints
}

// vocabSpec says how a vocabulary is built.
type vocabSpec struct {
	name, list string
	examples   []string
	terms      []Term
	labels     bool                // labels are accepted as well as values
	showLabel  bool                // suggestions carry their label
	accepted   map[string]string   // other names accepted: name -> value
	hints      map[string][]string // words that only suggest: value -> hints
}

func newVocabulary(s vocabSpec) *Vocabulary {
	v := &Vocabulary{Name: s.name, List: s.list, Examples: s.examples, terms: s.terms, showLbl: s.showLabel,
		exact: map[string]string{}, hints: map[string][]string{}, names: make([][][]string, len(s.terms))}
	ambiguous := map[string]bool{}
	accept := func(k, value string) {
		if k == "" || ambiguous[k] {
			return
		}
		if cur, ok := v.exact[k]; ok && cur != value {
			delete(v.exact, k) // two values share this name: it names neither
			ambiguous[k] = true
			return
		}
		v.exact[k] = value
	}
	for _, t := range s.terms {
		v.exact[vocabKey(t.Value)] = t.Value
	}
	for i, t := range s.terms {
		v.names[i] = append(v.names[i], FoldWords(t.Value))
		if t.Label != "" {
			v.names[i] = append(v.names[i], FoldWords(t.Label))
			if s.labels {
				accept(vocabKey(t.Label), t.Value)
			}
		}
		for _, h := range s.hints[t.Value] {
			k := vocabKey(strings.ReplaceAll(h, "*", ""))
			v.hints[k] = append(v.hints[k], t.Value)
			v.names[i] = append(v.names[i], strings.Fields(k))
		}
	}
	for name, value := range s.accepted {
		accept(vocabKey(name), value)
	}
	return v
}

// vocabKey is how typed values are compared: the folded words of s, so that case,
// accents, spaces and punctuation do not count ("Cyber-physical  systems" and
// "cyber physical systems" are the same).
func vocabKey(s string) string { return strings.Join(FoldWords(s), " ") }

// Canonical returns the value s names: the value itself in any case, or an accepted
// label or name. ok is false when s names none; s is then returned unchanged, for
// Validate to report with Rule.
func (v *Vocabulary) Canonical(s string) (string, bool) {
	if s == "" {
		return s, false
	}
	if value, ok := v.exact[vocabKey(s)]; ok {
		return value, true
	}
	return s, false
}

// Has reports whether s is one of the vocabulary's values exactly, as hubs exchange
// it.
func (v *Vocabulary) Has(s string) bool {
	c, ok := v.exact[vocabKey(s)]
	return ok && c == s
}

// Terms returns the vocabulary's values with their labels, in its order, in a new
// slice: what shell completion offers.
func (v *Vocabulary) Terms() []Term { return slices.Clone(v.terms) }

// maxSuggestions is how many values Suggest returns at most.
const maxSuggestions = 3

// Suggest returns up to three values s may have meant, best first: values whose hint
// s is ("iot" for internet-of-things), that are s with other punctuation
// ("cyber-security"), whose label has every word of s or s as its initials ("ai",
// "helsinki"), or that are a typo or two away. nil when nothing is near.
func (v *Vocabulary) Suggest(s string) []string {
	words := FoldWords(s)
	if len(words) == 0 {
		return nil
	}
	in := strings.Join(words, " ")
	compact := strings.Join(words, "")
	type hit struct {
		i, score int
	}
	var hits []hit
	hinted := v.hints[in]
	for i, t := range v.terms {
		best := -1
		better := func(score int) {
			if best < 0 || score < best {
				best = score
			}
		}
		if slices.Contains(hinted, t.Value) {
			better(0)
		}
		for _, name := range v.names[i] {
			nc := strings.Join(name, "")
			switch {
			case nc == compact:
				better(0)
			case hasAllWords(name, words):
				better(1)
			case len(compact) >= 2 && isInitials(compact, name):
				better(1)
			}
			if d, ok := near(compact, nc); ok {
				better(1 + d)
			}
			if len(compact) >= 6 && strings.HasPrefix(nc, compact[:len(compact)-1]) {
				better(2) // "prototype" for prototyping
			}
			if len(words) == 1 && len(compact) >= 4 {
				for _, w := range name {
					if d, ok := near(compact, w); ok {
						better(2 + d)
					}
				}
			}
		}
		if best >= 0 {
			hits = append(hits, hit{i, best})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(a.score, b.score) })
	var out []string
	for _, h := range hits {
		if len(out) == maxSuggestions {
			break
		}
		// Keep only the best kind of match: an exact hint does not come with typos.
		if len(out) > 0 && h.score > hits[0].score+1 {
			break
		}
		out = append(out, v.terms[h.i].Value)
	}
	return out
}

// hasAllWords reports whether every word of words is a word of name, or begins one
// with at least three letters.
func hasAllWords(name, words []string) bool {
	for _, w := range words {
		if !slices.ContainsFunc(name, func(n string) bool { return n == w || (len(w) >= 3 && strings.HasPrefix(n, w)) }) {
			return false
		}
	}
	return true
}

// isInitials reports whether s is the initials of the first words of name, with
// small words ("of", "and") counted or skipped: "iot" and "ai" for "internet of
// things" and "artificial intelligence decision support".
func isInitials(s string, name []string) bool {
	if len(name) < 2 {
		return false
	}
	var with, without strings.Builder
	for _, w := range name {
		with.WriteByte(w[0])
		if !smallWords[w] {
			without.WriteByte(w[0])
		}
		if with.String() == s || without.String() == s {
			return true
		}
	}
	return false
}

// smallWords are the words initials may skip.
var smallWords = map[string]bool{"of": true, "and": true, "for": true, "the": true, "to": true}

// near returns the edit distance of a, what was typed, and b (insertions, deletions,
// substitutions and swaps of neighbours) when it is small for a's length: 1 up to 6
// letters, 2 up to 10, 3 beyond.
func near(a, b string) (int, bool) {
	limit := 1
	switch n := len(a); {
	case n < 3:
		return 0, false
	case n > 10:
		limit = 3
	case n > 6:
		limit = 2
	}
	if d := len(a) - len(b); d > limit || -d > limit {
		return 0, false
	}
	d := EditDistance(a, b)
	return d, d > 0 && d <= limit
}

// EditDistance is the optimal string alignment distance of a and b, in bytes: the
// insertions, deletions, substitutions and swaps of neighbours that make one the
// other.
func EditDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Rule is the rule s breaks, for a FieldError: that it is not in the vocabulary, and
// what it may have meant or, when nothing is near, examples of its values:
//
//	"iot" is not a technology slug; did you mean internet-of-things?
//	"xyz" is not a technology slug such as ai-decision-support or robotics
//
// Where the whole list is depends on the surface: the CLI adds 'hubnet vocab' and
// [Vocabulary.List] (see [VocabularyOfRule]).
func (v *Vocabulary) Rule(s string) string { return v.rule(s, true) }

// KeyRule is Rule for a field whose path holds s already, such as "regions.XX999" or
// "technologies.iot": it leaves out the value ("is not a NUTS 2021 region code such as
// FI1C1 or DE21").
func (v *Vocabulary) KeyRule(s string) string { return v.rule(s, false) }

func (v *Vocabulary) rule(s string, value bool) string {
	var b strings.Builder
	if value {
		fmt.Fprintf(&b, "%q ", s)
	}
	fmt.Fprintf(&b, "is not a %s", v.Name)
	sug := v.Suggest(s)
	if len(sug) > 0 {
		shown := slices.Clone(sug)
		if v.showLbl {
			for i, value := range sug {
				if t, ok := v.term(value); ok && t.Label != "" {
					shown[i] = value + " " + t.Label
				}
			}
		}
		b.WriteString("; did you mean " + orList(shown) + "?")
	} else if len(v.Examples) > 0 {
		b.WriteString(" such as " + orList(v.Examples))
	}
	return b.String()
}

// VocabularyOfRule returns the vocabulary whose Rule made rule, and the values it
// suggests; nil when rule is no vocabulary's.
func VocabularyOfRule(rule string) (*Vocabulary, []string) {
	for _, v := range Vocabularies {
		if !strings.HasPrefix(rule, "is not a "+v.Name) && !strings.Contains(rule, " is not a "+v.Name) {
			continue
		}
		_, after, ok := strings.Cut(rule, "; did you mean ")
		if !ok {
			return v, nil
		}
		after = strings.TrimSuffix(after, "?")
		var sug []string
		for part := range strings.SplitSeq(strings.ReplaceAll(after, " or ", ", "), ", ") {
			if value, _, _ := strings.Cut(part, " "); v.Has(value) {
				sug = append(sug, value)
			}
		}
		return v, sug
	}
	return nil, nil
}

func (v *Vocabulary) term(value string) (Term, bool) {
	i := slices.IndexFunc(v.terms, func(t Term) bool { return t.Value == value })
	if i < 0 {
		return Term{}, false
	}
	return v.terms[i], true
}

// orList joins "a", "b" and "c" as "a, b or c".
func orList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}
