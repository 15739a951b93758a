package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// SearchResult is the answer to a search: the best hubs, best first, and how many
// hubs passed the query's filters in all.
type SearchResult struct {
	Query protocol.Query `json:"query"`
	Total int            `json:"total"` // hubs that pass the filters; Hits holds the first Limit
	Hits  []Hit          `json:"hits"`
	Live  *LiveInfo      `json:"live,omitempty"` // set by a live query
}

// Hit is one hub in a search result, with why it ranks where it does and its capacity.
type Hit struct {
	Rank        int                                   `json:"rank"`
	ID          string                                `json:"id"`
	Name        string                                `json:"name"`
	Type        protocol.HubType                      `json:"type"`
	Country     string                                `json:"country"`
	Regions     []string                              `json:"regions,omitempty"`
	Languages   []string                              `json:"languages"`
	Score       float64                               `json:"score"`
	Explanation string                                `json:"explanation"`
	Reasons     []string                              `json:"reasons"`
	Proximity   string                                `json:"proximity,omitempty"`
	Free        *int                                  `json:"free,omitempty"` // free places in the family asked for, when published
	Capacity    map[protocol.Family]protocol.Capacity `json:"capacity,omitempty"`
	Revision    uint64                                `json:"revision"`
	Reachable   bool                                  `json:"reachable"`
	LastSeen    time.Time                             `json:"last_seen,omitzero"`

	// Guesses: values inferred about the hub, not declared by it, each with its source.
	// They rank the hub but never exclude it (docs/matching.md).
	InferredLanguages []protocol.Hint   `json:"inferred_languages,omitempty"` // set when the hub declared no languages: Languages repeats these
	InferredRegions   []protocol.Hint   `json:"inferred_regions,omitempty"`   // set when the hub declared no regions: search uses these
	InferredSectors   []protocol.Hint   `json:"inferred_sectors,omitempty"`   // NACE codes read from a catalogue label, with its level
	StaleCapacity     []protocol.Family `json:"stale_capacity,omitempty"`     // families whose capacity was updated more than protocol.StaleAfterDays ago

	// Set by a live query.
	Answered bool     `json:"answered,omitempty"`  // the hub answered in time; capacity is its own, now
	HubScore *float64 `json:"hub_score,omitempty"` // the hub's own evaluation, when it answered and matched

	// Why holds Reasons as data, for readers of other languages than English: the
	// console and the command line write it in theirs.
	Why []protocol.Reason `json:"why,omitempty"`
}

// LiveInfo says which hubs a live query reached.
type LiveInfo struct {
	TimeoutMS   int64    `json:"timeout_ms"`
	TookMS      float64  `json:"took_ms"`
	Asked       []string `json:"asked"`       // reachable hubs whose cached profile can match, asked
	Answered    []string `json:"answered"`    // answered in time
	Late        []string `json:"late"`        // asked, no answer before the deadline
	Failed      []string `json:"failed"`      // answered with an error
	Unreachable []string `json:"unreachable"` // can match but not reachable: not asked, or asked and gone
	NotAsked    []string `json:"not_asked"`   // reachable and can match, past the node's bound on hubs asked
}

// LiveQuery is the body of POST /v1/query: the query's fields, and how long to wait
// for the hubs' answers.
type LiveQuery struct {
	protocol.Query
	TimeoutMS int64 `json:"timeout_ms,omitempty"` // 0 for the node's default, 1.5 s; at most 10 s
}

// Search matches q against the node's cached directory: GET /v1/search. It answers
// at once, and while the network is split.
func (c *Client) Search(ctx context.Context, q protocol.Query) (SearchResult, error) {
	var res SearchResult
	return res, c.get(ctx, "/v1/search", SearchValues(q), false, &res)
}

// Query runs a live query: the node searches its directory and asks every reachable
// hub for its capacity now, waiting at most q.TimeoutMS: POST /v1/query.
func (c *Client) Query(ctx context.Context, q LiveQuery) (SearchResult, error) {
	var res SearchResult
	return res, c.send(ctx, http.MethodPost, "/v1/query", q, &res)
}

// SearchValues returns q as the parameters of GET /v1/search: each field set, lists
// comma-separated. The node reads no version from them: it fills in its own.
func SearchValues(q protocol.Query) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	types := make([]string, len(q.Types))
	for i, t := range q.Types {
		types[i] = string(t)
	}
	set("tech", strings.Join(q.Technologies, ","))
	set("service", strings.Join(q.Services, ","))
	set("family", string(q.Family))
	set("sector", q.Sector)
	set("country", q.Country)
	set("region", q.Region)
	set("reach", string(q.Reach))
	set("lang", strings.Join(q.Languages, ","))
	set("category", string(q.Category))
	set("type", strings.Join(types, ","))
	set("text", q.Text)
	if q.MinCapacity != 0 {
		v.Set("min_capacity", strconv.Itoa(q.MinCapacity))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// Guesses says in words which of the hit's values are guesses and which capacity is
// stale, for people: "probably works in de (German), its country's language, not
// declared", "region DEA2D Städteregion Aachen from the address, not declared",
// "capacity of test before invest stale: updated 2 Jan 2025". Empty when the hub
// declared everything search uses and its capacity is fresh.
func (h Hit) Guesses() []string {
	var out []string
	if len(h.InferredLanguages) > 0 {
		tags := make([]string, len(h.InferredLanguages))
		for i, l := range h.InferredLanguages {
			tags[i] = l.Value
			if n := protocol.LanguageName(l.Value); n != "" {
				tags[i] += " (" + n + ")"
			}
		}
		whose := "its country's language"
		if len(tags) > 1 {
			whose = "its country's languages"
		}
		out = append(out, "probably works in "+strings.Join(tags, ", ")+", "+whose+", not declared")
	}
	for _, r := range h.InferredRegions {
		name := r.Value
		if reg, ok := protocol.RegionByCode(r.Value); ok {
			name += " " + reg.Name
		}
		out = append(out, "region "+name+" from the address, not declared")
	}
	for _, fam := range h.StaleCapacity {
		label := string(fam)
		if f, ok := protocol.FamilyBySlug(string(fam)); ok {
			label = f.Label
		}
		s := "capacity of " + label + " stale"
		if c, ok := h.Capacity[fam]; ok && !c.Updated.IsZero() {
			s += ": updated " + c.Updated.UTC().Format("2 Jan 2006")
		}
		out = append(out, s)
	}
	return out
}
