package node_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// searchHubs starts six hubs: hub-1 is the advisor's; hub-2 to hub-6 differ in what
// they offer, so that the right answer to each query is plain.
func searchHubs(t *testing.T) []*nodetest.Hub {
	t.Helper()
	tbi := func(avail int) map[protocol.Family]protocol.Capacity {
		return map[protocol.Family]protocol.Capacity{
			protocol.FamilyTestBeforeInvest: {Available: avail, Maximum: 10, Unit: "SMEs per month"},
		}
	}
	profiles := map[string]func(p *protocol.Profile){
		"hub-1": func(p *protocol.Profile) {},
		"hub-2": func(p *protocol.Profile) { // robotics expert in the SME's region
			p.Technologies = map[string]int{"robotics": 5}
			p.Capacity = tbi(4)
		},
		"hub-3": func(p *protocol.Profile) { // robotics, same country
			p.Regions = []string{"FI1D"}
			p.Technologies = map[string]int{"robotics": 4}
			p.Capacity = tbi(2)
		},
		"hub-4": func(p *protocol.Profile) { // some robotics in Sweden, much room
			p.Country, p.Regions, p.Languages = "SE", []string{"SE11"}, []string{"sv", "en"}
			p.Technologies = map[string]int{"robotics": 3}
			p.Capacity = tbi(6)
		},
		"hub-5": func(p *protocol.Profile) { // robotics in Portugal, no capacity published
			p.Country, p.Regions, p.Languages = "PT", []string{"PT17"}, []string{"pt", "en"}
			p.Technologies = map[string]int{"robotics": 3}
			p.Capacity = nil
			p.Services = map[string]int{"prototyping": 3}
		},
		"hub-6": func(p *protocol.Profile) { // no robotics
			p.Technologies = map[string]int{"cybersecurity": 5}
		},
	}
	net := nodetest.Network(t)
	var hubs []*nodetest.Hub
	for i := range 6 {
		id := fmt.Sprintf("hub-%d", i+1)
		p := nodetest.Profile(id)
		profiles[id](&p)
		var join []string
		if i > 0 {
			join = []string{hubs[0].GossipAddr()}
		}
		hubs = append(hubs, nodetest.Start(t, net, id, &p, join...))
	}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return hubs
}

func ids(hits []api.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func robotics() protocol.Query {
	return protocol.Query{Technologies: []string{"robotics"}, Family: protocol.FamilyTestBeforeInvest, Region: "FI1C1"}
}

func TestSearch_localRanking(t *testing.T) {
	hubs := searchHubs(t)
	res, err := hubs[0].Search(robotics())
	if err != nil {
		t.Fatal(err)
	}
	// Same region first, then the same country, then the neighbour, then Portugal
	// (no capacity published); hub-6 has no robotics; the asking hub is left out.
	if want := []string{"hub-2", "hub-3", "hub-4", "hub-5"}; !slices.Equal(ids(res.Hits), want) {
		t.Fatalf("ranking = %v, want %v", ids(res.Hits), want)
	}
	if res.Total != 4 {
		t.Errorf("total = %d, want 4", res.Total)
	}
	top := res.Hits[0]
	want := "Robotics level 5 (wanted); offers test before invest, 4 of 10 free (SMEs per month); region FI1C, same region"
	if top.Explanation != want || !top.Reachable || top.Free == nil || *top.Free != 4 {
		t.Errorf("top hit = %+v\nexplanation %q\nwant        %q", top, top.Explanation, want)
	}
	if res.Hits[3].Free != nil || !strings.Contains(res.Hits[3].Explanation, "capacity not published") {
		t.Errorf("hub-5 = %+v, want no free places and the reason", res.Hits[3])
	}

	// Hard filters: reach and minimum capacity.
	q := robotics()
	q.Reach, q.MinCapacity = protocol.ReachCountry, 3
	res, err = hubs[0].Search(q)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"hub-2"}; !slices.Equal(ids(res.Hits), want) {
		t.Errorf("in Finland with 3 free places = %v, want %v", ids(res.Hits), want)
	}
}

func TestSearch_liveQuery(t *testing.T) {
	hubs := searchHubs(t)
	ctx := context.Background()

	res, err := hubs[0].Query(ctx, robotics(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"hub-2", "hub-3", "hub-4", "hub-5"}; !slices.Equal(ids(res.Hits), want) {
		t.Fatalf("ranking = %v, want %v", ids(res.Hits), want)
	}
	live := res.Live
	// hub-6 has no robotics: it cannot match, and is not asked.
	if want := []string{"hub-2", "hub-3", "hub-4", "hub-5"}; !slices.Equal(live.Asked, want) || !slices.Equal(live.Answered, want) || len(live.Late) != 0 {
		t.Fatalf("asked %v, answered %v, late %v; want every hub with robotics asked and answering", live.Asked, live.Answered, live.Late)
	}
	// Every hub answered well before the deadline: the query finished early.
	if live.TookMS >= float64(node.DefaultQueryTimeout.Milliseconds()) {
		t.Errorf("live query took %v ms, the whole deadline", live.TookMS)
	}
	for _, h := range res.Hits {
		if !h.Answered || h.HubScore == nil || *h.HubScore != h.Score {
			t.Errorf("%s: answered %v, own score %v, score %v", h.ID, h.Answered, h.HubScore, h.Score)
		}
	}

	// hub-3's capacity drops to 0. A live query sees it at once, whatever the cache
	// holds, and with a minimum of one free place hub-3 is gone.
	zero := 0
	if _, err := hubs[2].SetCapacity(protocol.FamilyTestBeforeInvest, api.CapacityChange{Available: &zero}); err != nil {
		t.Fatal(err)
	}
	q := robotics()
	q.MinCapacity = 1
	res, err = hubs[0].Query(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"hub-2", "hub-4"}; !slices.Equal(ids(res.Hits), want) {
		t.Errorf("with one free place = %v, want %v", ids(res.Hits), want)
	}
	for _, h := range res.Hits {
		if f := h.Capacity[protocol.FamilyTestBeforeInvest]; h.ID == "hub-2" && f.Available != 4 {
			t.Errorf("hub-2 capacity %+v, want 4 available", f)
		}
	}

	// hub-4 stops without a word. Until the failure detector notices, it is asked and
	// does not answer: the query returns at its deadline and names it.
	hubs[3].Kill()
	const timeout = 400 * time.Millisecond
	start := time.Now()
	res, err = hubs[0].Query(ctx, robotics(), timeout)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if took > timeout+300*time.Millisecond {
		t.Errorf("query with a %v deadline took %v", timeout, took)
	}
	switch {
	case slices.Contains(res.Live.Late, "hub-4"):
		if took < timeout {
			t.Errorf("hub-4 late after only %v", took)
		}
	case slices.Contains(res.Live.Unreachable, "hub-4"):
		// The failure detector was quicker than this query.
	default:
		t.Errorf("hub-4 is neither late nor unreachable: %+v", res.Live)
	}
	if slices.Contains(res.Live.Answered, "hub-4") {
		t.Errorf("stopped hub-4 answered: %+v", res.Live)
	}
	// It stays in the results, ranked from the cache and not marked as answering.
	for _, h := range res.Hits {
		if h.ID == "hub-4" && h.Answered {
			t.Errorf("hub-4 hit marked answered")
		}
	}
	if !slices.Contains(ids(res.Hits), "hub-4") {
		t.Errorf("hub-4 dropped from results: %v", ids(res.Hits))
	}

	// Once it is known to be gone, it is listed unreachable and not asked: the query
	// finishes early again.
	nodetest.Eventually(t, 10*time.Second, func() error {
		res, err = hubs[0].Query(ctx, robotics(), timeout)
		if err != nil {
			return err
		}
		if !slices.Contains(res.Live.Unreachable, "hub-4") || slices.Contains(res.Live.Asked, "hub-4") {
			return fmt.Errorf("live info %+v", res.Live)
		}
		return nil
	})
	if res.Live.TookMS >= float64(timeout.Milliseconds()) || len(res.Live.Late) != 0 {
		t.Errorf("with hub-4 known unreachable: %+v", res.Live)
	}
}

func TestSearch_API(t *testing.T) {
	hubs := searchHubs(t)
	base := "http://" + hubs[0].HTTPAddr()

	var res api.SearchResult
	code, body := fetchJSON(t, base+"/v1/search?tech=robotics&family=test-before-invest&region=FI1C1&reach=neighbours", &res)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/search: %d %s", code, body)
	}
	if want := []string{"hub-2", "hub-3", "hub-4"}; !slices.Equal(ids(res.Hits), want) {
		t.Errorf("ranking = %v, want %v", ids(res.Hits), want)
	}

	for _, c := range []struct{ url, field string }{
		{"/v1/search?tech=robots", "technologies.0"},
		{"/v1/search?min_capacity=two&family=skills-and-training", "min_capacity"},
		{"/v1/search?colour=blue", "colour"},
		{"/v1/search?reach=region&country=FI", "reach"},
	} {
		var e api.ErrorResponse
		code, body := fetchJSON(t, base+c.url, &e)
		if code != http.StatusBadRequest || len(e.Error.Problems) == 0 || e.Error.Problems[0].Field != c.field {
			t.Errorf("GET %s: %d %s; want 400 naming %s", c.url, code, body, c.field)
		}
	}

	// The live query over HTTP, and its bad input.
	code, body = postJSON(t, base+"/v1/query", `{"technologies":["robotics"],"family":"test-before-invest","min_capacity":3,"timeout_ms":1000}`, &res)
	if code != http.StatusOK || res.Live == nil || len(res.Live.Answered) != 4 { // every hub with robotics, whatever its cached capacity
		t.Fatalf("POST /v1/query: %d %s", code, body)
	}
	if want := []string{"hub-2", "hub-4"}; !slices.Equal(ids(res.Hits), want) {
		t.Errorf("live ranking = %v, want %v", ids(res.Hits), want)
	}
	for _, c := range []struct{ body, field string }{
		{`{"timeout_ms":60000}`, "timeout_ms"},
		{`{"technologies":"robotics"}`, "(json)"},
		{`{"tech":["robotics"]}`, "(json)"},
		{`{"family":"skills-and-training","min_capacity":-1}`, "min_capacity"},
	} {
		var e api.ErrorResponse
		code, got := postJSON(t, base+"/v1/query", c.body, &e)
		if code != http.StatusBadRequest || len(e.Error.Problems) == 0 || e.Error.Problems[0].Field != c.field {
			t.Errorf("POST %s: %d %s; want 400 naming %s", c.body, code, got, c.field)
		}
	}
}

func fetchJSON(t *testing.T, url string, out any) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	return decodeResp(t, resp, out)
}

func postJSON(t *testing.T, url, body string, out any) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return decodeResp(t, resp, out)
}

func decodeResp(t *testing.T, resp *http.Response, out any) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return resp.StatusCode, string(raw)
}

// A process on the mesh answers every live query in another hub's name, first and with
// a tempting capacity. The asker drops the forgeries, counts them, and ranks with the
// real hub's answer.
func TestSearch_liveQueryForgedAnswers(t *testing.T) {
	hubs := nodetest.StartN(t, nodetest.Network(t), 3)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	a := hubs[0]

	forger, err := protocol.NewIdentity("hub-2", rand.Reader) // hub-2's name, not its key
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(hubs[2].Addrs().Client, nodetest.Token(hubs[2]))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	self, err := a.Self()
	if err != nil {
		t.Fatal(err)
	}
	var asker [32]byte // answers are sealed to the asking hub
	copy(asker[:], self.BoxKey)
	forged := 0
	var mu sync.Mutex
	_, err = nc.Subscribe(protocol.QuerySubject("hub-2"), func(m *nats.Msg) {
		q, err := protocol.OpenEnvelope(m.Data)
		if err != nil {
			return
		}
		a := protocol.QueryAnswer{V: 1, Query: q.ID, Revision: 1, Match: true, Score: 100,
			Capacity: map[protocol.Family]protocol.Capacity{protocol.FamilyTestBeforeInvest: {Available: 99, Maximum: 99, Unit: "SMEs per month"}}}
		// A well-signed answer from a hub that was not asked, then one in hub-2's name.
		stranger, _ := protocol.NewIdentity("stranger", rand.Reader)
		env, _ := protocol.SignSealed(stranger, protocol.TypeQueryAnswer, q.From, asker, a, time.Now(), rand.Reader)
		b, _ := env.Marshal()
		m.Respond(b)
		env, _ = protocol.SignSealed(forger, protocol.TypeQueryAnswer, q.From, asker, a, time.Now(), rand.Reader)
		b, _ = env.Marshal()
		m.Respond(b)
		mu.Lock()
		forged++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	// A forgery that comes after both real answers finds the query over and is only
	// counted late; a few queries make sure both kinds are seen and dropped.
	q := protocol.Query{Technologies: []string{"ai-decision-support"}, Family: protocol.FamilyTestBeforeInvest}
	for i := 0; i < 20 && (i < 3 || a.Dropped("bad-signature") == 0 || a.Dropped("unknown-sender") == 0); i++ {
		res, err := a.Query(context.Background(), q, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Live.Answered, []string{"hub-2", "hub-3"}) {
			t.Errorf("answered %v, want hub-2 and hub-3", res.Live.Answered)
		}
		for _, h := range res.Hits {
			if f := h.Capacity[protocol.FamilyTestBeforeInvest]; f.Available != 3 {
				t.Errorf("%s ranked with %d free places, want its own 3", h.ID, f.Available)
			}
		}
	}
	mu.Lock()
	n := forged
	mu.Unlock()
	if n == 0 {
		t.Fatal("the forger saw no query")
	}
	if a.Dropped("bad-signature") == 0 || a.Dropped("unknown-sender") == 0 {
		t.Errorf("dropped: bad-signature %v, unknown-sender %v; want both", a.Dropped("bad-signature"), a.Dropped("unknown-sender"))
	}
}

// TestSearch_guessesInTheHit: a hub imported from the catalogue, whose region,
// languages and one sector are guessed and whose capacity is two months old, is
// found by a Swedish-speaking SME's search and the hit says which values are guesses,
// with their sources, and which capacity is stale.
func TestSearch_guessesInTheHit(t *testing.T) {
	net := nodetest.Network(t)
	advisor := nodetest.Profile("advisor")
	a := nodetest.Start(t, net, "advisor", &advisor)
	imported := nodetest.Profile("imported-hub")
	imported.Country, imported.Regions, imported.Languages = "DE", nil, []string{"de"}
	imported.Technologies = map[string]int{"robotics": 4}
	imported.Capacity = map[protocol.Family]protocol.Capacity{
		protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 5, Unit: "SMEs per month", Updated: time.Now().AddDate(0, -2, 0)},
	}
	imported.Inferred = &protocol.Inferred{
		Regions:   []protocol.Hint{{Value: "DEA2D", Source: `Contact Location: town "52062 Aachen"`}},
		Languages: []protocol.Hint{{Value: "de", Source: "official language of DE"}},
		Sectors:   []protocol.Hint{{Value: "O", Level: 3, Source: `catalogue sector "Defence" - 3`}},
	}
	b := nodetest.Start(t, net, "imported-hub", &imported, a.GossipAddr())
	hubs := []*nodetest.Hub{a, b}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })

	var res api.SearchResult
	code, body := fetchJSON(t, "http://"+a.HTTPAddr()+"/v1/search?tech=robotics&family=test-before-invest&lang=sv&region=DEA2D", &res)
	if code != http.StatusOK || len(res.Hits) != 1 {
		t.Fatalf("GET /v1/search: %d %s; want the imported hub, not excluded by its guessed language", code, body)
	}
	h := res.Hits[0]
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(body)); err != nil {
		t.Fatal(err)
	}
	body = compact.String()
	for _, want := range []string{
		`"inferred_languages":[{"value":"de","source":"official language of DE"}]`,
		`"inferred_regions":[{"value":"DEA2D","source":"Contact Location: town \"52062 Aachen\""}]`,
		`"inferred_sectors":[{"value":"O","level":3,"source":"catalogue sector \"Defence\" - 3"}]`,
		`"stale_capacity":["test-before-invest"]`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("hit JSON %s\nwant it to contain %s", body, want)
		}
	}
	if !slices.Equal(h.Languages, []string{"de"}) {
		t.Errorf("languages %v, want [de], repeated from the guesses", h.Languages)
	}
	wantGuesses := []string{
		"probably works in de (German), its country's language, not declared",
		"region DEA2D Städteregion Aachen from the address, not declared",
		"capacity of test before invest stale: updated " + imported.Capacity[protocol.FamilyTestBeforeInvest].Updated.UTC().Format("2 Jan 2006"),
	}
	if got := h.Guesses(); !slices.Equal(got, wantGuesses) {
		t.Errorf("guesses:\n got %q\nwant %q", got, wantGuesses)
	}
	for _, want := range []string{"stale: updated", "(from its address), same NUTS 3 region", "languages not declared; sv not among those of its country"} {
		if !strings.Contains(h.Explanation, want) {
			t.Errorf("explanation %q\nwant it to contain %q", h.Explanation, want)
		}
	}

	// A hub that declared everything has no guesses in its hit.
	res, err := b.Search(protocol.Query{})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].ID != "advisor" {
		t.Fatalf("search from imported-hub: %+v, %v", res.Hits, err)
	}
	if g := res.Hits[0]; g.InferredLanguages != nil || g.InferredRegions != nil || g.InferredSectors != nil || g.StaleCapacity != nil || g.Guesses() != nil {
		t.Errorf("declared hub's hit %+v has guesses %q", g, g.Guesses())
	}
}
