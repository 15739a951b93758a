package protocol

import "strings"

// technologyWords are, for the technologies most asked for, the words that name them
// in the catalogue's languages: a hub that lists no technologies is found by its
// description. Each entry is a folded word or a phrase of folded words; a word ending
// in '*' matches every word it begins.
var technologyWords = map[string][]string{
	"ai-decision-support":        {"artificial intelligence", "intelligence artificielle", "inteligencia artificial", "intelligenza artificiale", "kunstliche intelligenz", "sztuczna inteligencja", "tekoaly", "machine learning"},
	"blockchain-dlt":             {"blockchain*", "distributed ledger"},
	"cybersecurity":              {"cybersecurity", "cyber security", "cybersecurite", "ciberseguridad", "cybersicherheit", "cyberbezpieczenstwo", "kyberturvallisuus"},
	"robotics":                   {"robot*", "cobot*"},
	"internet-of-things":         {"iot", "internet of things"},
	"high-performance-computing": {"hpc", "high performance computing", "supercomput*", "supercalcolo"},
	"cloud-services":             {"cloud"},
	"big-data":                   {"big data"},
	"additive-manufacturing":     {"additive manufacturing", "3d printing", "fabrication additive", "impression 3d"},
	"digital-twins":              {"digital twin*"},
	"virtual-reality":            {"virtual reality", "augmented reality", "realite virtuelle", "realidad virtual"},
	"quantum-technologies":       {"quantum", "quanten*"},
	"photonics":                  {"photonic*"},
	"logistics":                  {"logistic*", "logistik"},
	"sensors-vision-processing":  {"sensor*"},
	"simulation-modelling":       {"simulation*"},
}

// describedTechnologies returns a bit per technology of technologyWords that the
// folded words, in their order, name.
func describedTechnologies(words []string) uint64 {
	var bits uint64
	for slug, phrases := range technologyWords {
		i := techIndex[slug]
		for _, ph := range phrases {
			if containsPhrase(words, strings.Fields(ph)) {
				bits |= 1 << i
				break
			}
		}
	}
	return bits
}

// containsPhrase reports whether words hold the phrase's words one after the other.
func containsPhrase(words, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(words); i++ {
		ok := true
		for j, p := range phrase {
			w := words[i+j]
			if pre, star := strings.CutSuffix(p, "*"); star {
				ok = strings.HasPrefix(w, pre)
			} else {
				ok = w == p
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
