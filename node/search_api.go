package node

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// searchParams are the parameters of GET /v1/search; a list may be given as repeated
// parameters or comma-separated.
var searchParams = []string{"tech", "service", "family", "sector", "country", "region", "reach", "lang",
	"category", "min_capacity", "type", "text", "limit"}

// ParseSearch reads a query from URL parameters. It reports unknown parameters and
// numbers that are not numbers; Search checks the rest.
func ParseSearch(v url.Values) (protocol.Query, error) {
	var (
		q    protocol.Query
		errs []protocol.FieldError
	)
	for _, k := range slices.Sorted(maps.Keys(v)) {
		switch {
		case k == "":
			// "?=x" or "?a&=": a value without a name, which names no field.
			errs = append(errs, protocol.FieldError{Field: "(unnamed)", Rule: "a parameter needs a name; use " + strings.Join(searchParams, ", ")})
		case !slices.Contains(searchParams, k):
			errs = append(errs, protocol.FieldError{Field: k, Rule: "is not a search parameter; use " + strings.Join(searchParams, ", ")})
		}
	}
	list := func(k string) []string {
		var out []string
		for _, s := range v[k] {
			for part := range strings.SplitSeq(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
		return out
	}
	number := func(k, field string) int {
		s := v.Get(k)
		if s == "" {
			return 0
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, protocol.FieldError{Field: field, Rule: "must be a whole number, got " + strconv.Quote(s)})
		}
		return i
	}
	q.Technologies = list("tech")
	q.Services = list("service")
	q.Family = protocol.Family(v.Get("family"))
	q.Sector = v.Get("sector")
	q.Country = v.Get("country")
	q.Region = v.Get("region")
	q.Reach = protocol.Reach(v.Get("reach"))
	q.Languages = list("lang")
	q.Category = protocol.Category(v.Get("category"))
	q.MinCapacity = number("min_capacity", "min_capacity")
	for _, t := range list("type") {
		q.Types = append(q.Types, protocol.HubType(t))
	}
	q.Text = v.Get("text")
	q.Limit = number("limit", "limit")
	if len(errs) > protocol.MaxProblems {
		// Thousands of unknown parameters: the answer names the first ones.
		more := len(errs) - protocol.MaxProblems
		errs = append(errs[:protocol.MaxProblems], protocol.FieldError{Field: protocol.MoreProblems,
			Rule: strconv.Itoa(more) + " more problems not listed"})
	}
	if len(errs) > 0 {
		return q, &protocol.ValidationError{What: "search", Problems: errs}
	}
	return q, nil
}

func (n *Node) handleSearch(w http.ResponseWriter, r *http.Request) {
	v, err := queryOf(r)
	if err != nil {
		reply(w, nil, err)
		return
	}
	q, err := ParseSearch(v)
	if err != nil {
		reply(w, nil, err)
		return
	}
	res, err := n.Search(q)
	reply(w, res, err)
}

func (n *Node) handleQuery(w http.ResponseWriter, r *http.Request) {
	var lq api.LiveQuery
	if err := decodeBody(w, r, &lq); err != nil {
		reply(w, nil, err)
		return
	}
	if lq.TimeoutMS < 0 || lq.TimeoutMS > MaxQueryTimeout.Milliseconds() {
		reply(w, nil, &protocol.ValidationError{What: "live query", Problems: []protocol.FieldError{
			{Field: "timeout_ms", Rule: "must be 0 (for the default) to " + strconv.FormatInt(MaxQueryTimeout.Milliseconds(), 10)}}})
		return
	}
	res, err := n.Query(r.Context(), lq.Query, time.Duration(lq.TimeoutMS)*time.Millisecond)
	reply(w, res, err)
}
