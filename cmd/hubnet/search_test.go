package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

func TestCLI_search(t *testing.T) {
	net := nodetest.Network(t)
	advisor := nodetest.Profile("advisor")
	near := nodetest.Profile("near-hub")
	near.Technologies = map[string]int{"robotics": 5}
	far := nodetest.Profile("far-hub")
	far.Country, far.Regions, far.Languages = "PT", []string{"PT17"}, []string{"pt", "en"}
	far.Technologies = map[string]int{"robotics": 4}
	other := nodetest.Profile("other-hub")
	other.Technologies = map[string]int{"cybersecurity": 5}

	a := nodetest.Start(t, net, advisor.ID, &advisor)
	for _, p := range []protocol.Profile{near, far, other} {
		nodetest.Start(t, net, p.ID, &p, a.GossipAddr())
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		_, err := a.Hub("other-hub")
		if err == nil {
			_, err = a.Hub("far-hub")
		}
		if err == nil {
			_, err = a.Hub("near-hub")
		}
		return err
	})
	url := "http://" + a.HTTPAddr()

	r := mustHubnet(t, "--node", url, "search", "--tech", "robotics", "--family", "test-before-invest", "--region", "FI1C1")
	lines := strings.Split(r.stdout, "\n")
	if !strings.HasPrefix(lines[0], "2 hubs match") {
		t.Fatalf("search printed:\n%s", r.stdout)
	}
	var order []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 1 && (f[0] == "1" || f[0] == "2") {
			order = append(order, f[1])
		}
	}
	if want := []string{"near-hub", "far-hub"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v:\n%s", order, want, r.stdout)
	}
	for _, want := range []string{
		"Robotics level 5 (wanted); offers test before invest, 3 of 5 free (SMEs per month); region FI1C, same region",
		"region PT17, another country",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("search output lacks %q:\n%s", want, r.stdout)
		}
	}

	// Live, as JSON: every other hub with robotics was asked and answered; other-hub,
	// without, was not asked.
	r = mustHubnet(t, "--node", url, "search", "--tech", "robotics", "--live", "--timeout", "2s", "--json")
	var res api.SearchResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	if res.Live == nil || !slices.Equal(res.Live.Answered, []string{"far-hub", "near-hub"}) || len(res.Hits) != 2 {
		t.Errorf("live result: %+v", res)
	}
	r = mustHubnet(t, "--node", url, "search", "--tech", "robotics", "--live")
	if !strings.Contains(r.stdout, "Live: asked 2 hubs, 2 answered in") {
		t.Errorf("live footer missing:\n%s", r.stdout)
	}

	// Bad input: exit code 4, each problem named by its flag, on stderr.
	r = hubnet(t, nil, "--node", url, "search", "--tech", "robots", "--min-capacity", "2")
	if r.code != exitInvalid || !strings.Contains(r.stderr, `--tech: "robots" is not a technology slug; did you mean robotics? (see 'hubnet vocab technologies')`) ||
		!strings.Contains(r.stderr, "--min-capacity: needs a service family") {
		t.Errorf("bad search: %v", r)
	}
	r = hubnet(t, nil, "--node", url, "search", "--live", "--timeout", "1m")
	if r.code != exitUsage {
		t.Errorf("--timeout 1m: %v", r)
	}
	r = mustHubnet(t, "--node", url, "search", "--tech", "quantum-technologies")
	if !strings.Contains(r.stdout, "No hub matches.") {
		t.Errorf("no match printed:\n%s", r.stdout)
	}
}

func TestCLI_vocab(t *testing.T) {
	r := mustHubnet(t, "vocab", "technologies")
	if !strings.Contains(r.stdout, "ai-decision-support") || strings.Count(r.stdout, "\n") != 35 {
		t.Errorf("vocab technologies:\n%s", r.stdout)
	}
	r = mustHubnet(t, "vocab", "regions", "FI", "--json")
	var list []struct{ Value, Meaning string }
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) < 20 || list[0].Value != "FI1" {
		t.Errorf("vocab regions FI: %v %q", err, r.stdout)
	}
	if r := hubnet(t, nil, "vocab", "planets"); r.code != exitUsage {
		t.Errorf("vocab planets: %v", r)
	}
}

// TestCLI_search_guesses: a hub imported from the catalogue is found by a search in a
// language it was not guessed to speak, and the output says which of its values are
// guesses and that its capacity is stale.
func TestCLI_search_guesses(t *testing.T) {
	net := nodetest.Network(t)
	advisor := nodetest.Profile("advisor")
	a := nodetest.Start(t, net, advisor.ID, &advisor)
	imported := nodetest.Profile("imported-hub")
	imported.Country, imported.Regions, imported.Languages = "DE", nil, []string{"de"}
	imported.Technologies = map[string]int{"robotics": 4}
	updated := time.Date(2025, 1, 2, 9, 0, 0, 0, time.UTC)
	imported.Capacity = map[protocol.Family]protocol.Capacity{
		protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 5, Unit: "SMEs per month", Updated: updated},
	}
	imported.Inferred = &protocol.Inferred{
		Regions:   []protocol.Hint{{Value: "DEA2D", Source: `Contact Location: town "52062 Aachen"`}},
		Languages: []protocol.Hint{{Value: "de", Source: "official language of DE"}},
	}
	nodetest.Start(t, net, imported.ID, &imported, a.GossipAddr())
	nodetest.Eventually(t, 10*time.Second, func() error {
		_, err := a.Hub("imported-hub")
		return err
	})

	r := mustHubnet(t, "--node", "http://"+a.HTTPAddr(), "search", "--tech", "robotics", "--family", "test-before-invest", "--languages", "sv")
	for _, want := range []string{
		"1 hub matches, best first:",
		"  3, stale\n",
		"offers test before invest, 3 of 5 free (SMEs per month), stale: updated 2025-01-02",
		"languages not declared; sv not among those of its country",
		"     guessed: probably works in de (German), its country's language, not declared; " +
			"region DEA2D Städteregion Aachen from the address, not declared; " +
			"capacity of test before invest stale: updated 2 Jan 2025\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("search output lacks %q:\n%s", want, r.stdout)
		}
	}

	// The guesses in German: the language's name, the family's label and the date the
	// German way.
	r = mustHubnet(t, "--lang", "de", "--node", "http://"+a.HTTPAddr(), "search", "--tech", "robotics", "--family", "test-before-invest", "--languages", "sv")
	if want := "     vermutet: arbeitet wohl in de (Deutsch), der Sprache seines Landes, nicht angegeben; " +
		"Region DEA2D Städteregion Aachen aus der Adresse, nicht angegeben; " +
		"Kapazität von Testen vor Investieren veraltet: aktualisiert 2.1.2025\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("search output in German lacks %q:\n%s", want, r.stdout)
	}
}
