package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The fuzz targets of this file feed the inputs the HTTP API reads to the functions
// that decode and check them: request bodies (decodeBody and each endpoint's checks)
// and query strings. fuzz_api_test.go sends them through the handler of a running
// node; the web console's forms are fuzzed in package console.

// fuzzNow is the clock of the checks that read one; fuzzSelf is the hub that checks.
var fuzzNow = time.Date(2026, 11, 22, 16, 30, 0, 0, time.UTC)

const fuzzSelf = "hub-fuzz"

// decodeFuzz decodes body as the API decodes a request body.
func decodeFuzz(body []byte, v any) error {
	r := httptest.NewRequest(http.MethodPost, "/v1/fuzz", bytes.NewReader(body))
	return decodeBody(httptest.NewRecorder(), r, v)
}

// checkAPIError fails the test unless err is what the API answers bad input with: a
// 400 whose problems each name a field and a rule, or a 413, each with a code and a
// message.
func checkAPIError(t *testing.T, err error) {
	t.Helper()
	rec := httptest.NewRecorder()
	reply(rec, nil, err)
	if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("bad input answered %d: %s", rec.Code, rec.Body)
	}
	var e api.ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %s (%v), want a code and a message", rec.Body, err)
	}
	if rec.Code != http.StatusBadRequest {
		return
	}
	if len(e.Error.Problems) == 0 {
		t.Fatalf("400 without problems: %s", rec.Body)
	}
	for _, p := range e.Error.Problems {
		if p.Field == "" || p.Rule == "" {
			t.Fatalf("problem %+v without a field or a rule", p)
		}
	}
}

// checkBodyRoundTrip fails the test unless v, decoded from a request body, encodes to
// a body that decodes to a value that encodes the same: what a client reads from the
// API it can send back.
func checkBodyRoundTrip[T any](t *testing.T, v *T) *T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %+v, Marshal: %v", *v, err)
	}
	v2 := new(T)
	if err := decodeFuzz(b, v2); err != nil {
		t.Fatalf("decoded, re-encoded as %q, refused: %v", b, err)
	}
	if b2, _ := json.Marshal(v2); !bytes.Equal(b2, b) {
		t.Fatalf("decoded again: got %q, want %q", b2, b)
	}
	return v2
}

// fuzzBody runs the common part of each body target: decode into a new T, check the
// refusal or the round trip, and return the value and whether it decoded.
func fuzzBody[T any](t *testing.T, body []byte) (*T, bool) {
	t.Helper()
	v := new(T)
	if err := decodeFuzz(body, v); err != nil {
		checkAPIError(t, err)
		return nil, false
	}
	if !utf8.Valid(body) {
		t.Fatalf("decoded %q, which is not UTF-8", body)
	}
	checkBodyRoundTrip(t, v)
	return v, true
}

// addBodies adds each value, encoded as JSON, and each string to the seed corpus.
func addBodies(f *testing.F, values []any, raw ...string) {
	f.Helper()
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range raw {
		f.Add([]byte(s))
	}
}

// hostileBodies are seeds every body target gets: what a careless or hostile client
// sends.
var hostileBodies = []string{
	``, `null`, `[]`, `"x"`, `{}`, `{} {}`, `{"v":99}`, `{"name":5}`, `{"name":"\xff\xfe"}`,
	`{"name":"\ud800"}`, `{"a":` + strings.Repeat("[", 10001) + `}`, "\xef\xbb\xbf{}",
}

func fuzzProfile() protocol.Profile {
	return protocol.Profile{
		ID: fuzzSelf, Name: "Fuzz Hub", Type: protocol.HubEDIH, Country: "FI", Regions: []string{"FI1C", "FI193"},
		Website: "https://hub.example.fi", Languages: []string{"fi", "en"}, Categories: []protocol.Category{protocol.CategorySmall},
		Description: "Food robotics.", Contact: protocol.Contact{Role: "SME desk", Email: "desk@hub.example.fi", Phone: "+358 1"},
		Technologies: map[string]int{"ai-decision-support": 4, "robotics": 5}, Services: map[string]int{"field-trial": 3},
		Sectors:  map[string]int{"C": 4, "10": 3},
		Capacity: map[protocol.Family]protocol.Capacity{protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 5, Unit: "SMEs per month"}},
	}
}

// FuzzProfileBody feeds bodies of PUT /v1/self/profile to decodeBody and the profile's
// checks, as PutProfile makes them: a refusal is a 400 or 413 naming every problem; a
// profile that passes reads back the same.
func FuzzProfileBody(f *testing.F) {
	p := fuzzProfile()
	noID := p
	noID.ID = ""
	bad := p
	bad.Name, bad.Type, bad.Languages = "", "XYZ", []string{"english"}
	addBodies(f, []any{p, noID, bad}, hostileBodies...)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, ok := fuzzBody[protocol.Profile](t, body)
		if !ok {
			return
		}
		if p.ID == "" {
			p.ID = fuzzSelf
		}
		if err := p.Validate(); err != nil {
			checkAPIError(t, err)
			return
		}
		if p.ID != fuzzSelf && !protocol.ValidID(p.ID) {
			t.Fatalf("valid profile with ID %q", p.ID)
		}
	})
}

// FuzzCapacityBody feeds bodies of PUT /v1/self/capacity/{family} to decodeBody and
// to SetCapacity's change of a valid profile: the result is a valid profile or a
// refusal that names its fields.
func FuzzCapacityBody(f *testing.F) {
	two, six := 2, 6
	addBodies(f, []any{api.CapacityChange{Available: &two, Maximum: &six, Unit: "SMEs per month"}, api.CapacityChange{Available: &six}},
		append([]string{`{"available":-1}`, `{"available":"three"}`, `{"available":9223372036854775807,"maximum":1e3}`,
			`{"available":1,"unit":"` + strings.Repeat("é", 41) + `"}`}, hostileBodies...)...)
	f.Fuzz(func(t *testing.T, body []byte) {
		c, ok := fuzzBody[api.CapacityChange](t, body)
		if !ok {
			return
		}
		if c.Available == nil {
			return // SetCapacity refuses it: "available: is required"
		}
		p := fuzzProfile()
		fam := protocol.FamilyTestBeforeInvest
		applyCapacity(&p, fam, *c)
		if err := p.Validate(); err != nil {
			checkAPIError(t, err)
			var ve *protocol.ValidationError
			errors.As(err, &ve)
			for _, pr := range ve.Problems {
				if !strings.HasPrefix(pr.Field, "capacity."+string(fam)+".") {
					t.Fatalf("a capacity change broke %s: %s", pr.Field, pr.Rule)
				}
			}
			return
		}
		if got := p.Capacity[fam]; got.Available != *c.Available || got.Maximum < got.Available {
			t.Fatalf("capacity %+v after %+v", got, *c)
		}
	})
}

// FuzzLiveQueryBody feeds bodies of POST /v1/query to decodeBody and the checks of
// handleQuery and Query: a refusal names its fields; a query that passes can be
// ranked.
func FuzzLiveQueryBody(f *testing.F) {
	addBodies(f, []any{
		api.LiveQuery{Query: protocol.Query{Technologies: []string{"robotics"}, Family: protocol.FamilyTestBeforeInvest, MinCapacity: 1}, TimeoutMS: 800},
		api.LiveQuery{Query: protocol.Query{V: 1, Region: "FI193", Reach: protocol.ReachNeighbours, Languages: []string{"fi", "en"},
			Types: []protocol.HubType{protocol.HubEDIH}, Text: "food robot", Limit: 5}},
	}, append([]string{`{"timeout_ms":-1}`, `{"timeout_ms":10001}`, `{"technologies":"robotics"}`, `{"limit":1e400}`},
		hostileBodies...)...)
	cand := protocol.NewCandidate(func() *protocol.Profile { p := fuzzProfile(); return &p }())
	f.Fuzz(func(t *testing.T, body []byte) {
		lq, ok := fuzzBody[api.LiveQuery](t, body)
		if !ok {
			return
		}
		if lq.TimeoutMS < 0 || lq.TimeoutMS > MaxQueryTimeout.Milliseconds() {
			return // handleQuery refuses it, naming timeout_ms
		}
		m, err := protocol.NewMatcher(lq.Query)
		if err != nil {
			checkAPIError(t, err)
			return
		}
		if s, _ := m.Score(cand); s < 0 || s > 100 {
			t.Fatalf("score %v", s)
		}
	})
}

// FuzzReferralBody feeds bodies of POST /v1/referrals to decodeBody and the checks of
// Refer: a refusal names every field, each under need., sme., consent. or to.
func FuzzReferralBody(f *testing.F) {
	req := api.ReferralRequest{
		To: "hub-two",
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall, Family: protocol.FamilyTestBeforeInvest,
			Technologies: []string{"ai-decision-support"}, Description: "Wants to test machine vision on a bakery line.",
			Maturity: &protocol.Maturity{Strategy: 40, Readiness: 35, Human: 50, Data: 20, Automation: 15, Green: 30}},
		SME: protocol.SME{Name: "Example Bakery Oy", Website: "https://bakery.example", ContactName: "Aino Example",
			ContactEmail: "aino@bakery.example", ContactPhone: "+358 40 000 0000"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: fuzzNow.Add(-time.Hour), Recipient: "hub-two",
			Purpose: "referral for AI test-before-invest services", Until: fuzzNow.AddDate(0, 3, 0)},
	}
	bad := req
	bad.To, bad.Need.Region, bad.SME.ContactEmail, bad.Consent.Until = fuzzSelf, "FI1", "aino at bakery", fuzzNow
	addBodies(f, []any{req, bad}, append([]string{`{"to":["x"]}`, `{"need":{"maturity":{"green":101}}}`},
		hostileBodies...)...)
	prefixes := []string{"to", "need.", "sme.", "consent."}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ok := fuzzBody[api.ReferralRequest](t, body)
		if !ok {
			return
		}
		err := req.Validate(fuzzSelf, fuzzNow)
		if err == nil {
			if req.To == fuzzSelf || req.Consent.Recipient != req.To {
				t.Fatalf("referral to %q for %q passes", req.To, req.Consent.Recipient)
			}
			return
		}
		checkAPIError(t, err)
		for _, p := range err.(*protocol.ValidationError).Problems {
			if !slices.ContainsFunc(prefixes, func(s string) bool { return strings.HasPrefix(p.Field, s) }) {
				t.Fatalf("problem of field %q", p.Field)
			}
		}
	})
}

// FuzzActionBody feeds the optional body of POST /v1/referrals/{id}/{action} to
// decodeBody and the event Act makes of it, for each action.
func FuzzActionBody(f *testing.F) {
	for i, a := range []api.ReferralAction{{}, {Reason: "no-capacity", Note: "Full until May."}, {Outcome: "service-delivered"},
		{Reason: "consent-withdrawn"}, {Note: strings.Repeat("n", protocol.MaxNoteLen+1)}} {
		b, _ := json.Marshal(a)
		f.Add(uint8(i), b)
	}
	for i, s := range append([]string{`{"reason":{}}`, `{"outcome":["x"]}`}, hostileBodies...) {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		a, ok := fuzzBody[api.ReferralAction](t, body)
		if !ok {
			return
		}
		ev := actions[int(which)%len(actions)]
		e := protocol.ReferralEvent{V: protocol.Version, Referral: "0196cdb2-4b00-7abc-8def-0123456789ab", Event: ev,
			At: fuzzNow, Reason: a.Reason, Outcome: a.Outcome, Note: a.Note}
		if err := e.Validate(); err != nil {
			checkAPIError(t, err)
		}
	})
}

// FuzzParseSearch feeds query strings of GET /v1/search (and the console's search) to
// ParseSearch and the query's checks: a refusal names every parameter or field; a
// query that parses is the same when written back as parameters.
func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{
		"", "tech=ai-decision-support,robotics&family=test-before-invest&region=FI193&reach=neighbours&lang=fi,en",
		"tech=robotics&tech=big-data&type=EDIH,SoE&min_capacity=1&limit=50&text=food+robot",
		"limit=abc&min_capacity=1e3&colour=red", "tech=%ff%fe&text=%00", "tech=,,,&lang=+,+", "limit=-1&limit=2",
		"region=FI193&country=SE", "sector=C&category=small&service=prototyping", "a=%zz&tech=robotics",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // as r.URL.Query(): what does not decode is left out
		q, err := ParseSearch(v)
		if err != nil {
			checkAPIError(t, err)
			return
		}
		q2, err := ParseSearch(api.SearchValues(q))
		if err != nil {
			t.Fatalf("parsed %q as %+v; written back, refused: %v", raw, q, err)
		}
		if !reflect.DeepEqual(q2, q) {
			t.Fatalf("written back and parsed again: got %+v, want %+v", q2, q)
		}
		if _, err := protocol.NewMatcher(q); err != nil {
			checkAPIError(t, err)
		}
	})
}

// FuzzParseReferralQuery feeds query strings of GET /v1/referrals and /v1/report to
// their parsers: a bad date names from or to; a date that parses is the same instant
// written as RFC 3339 and parsed again.
func FuzzParseReferralQuery(f *testing.F) {
	for _, s := range []string{
		"", "direction=in&state=received&partner=hub-two", "from=2026-01-01&to=2027-01-01T00:00:00Z",
		"from=2026-11-22T09:30:00.123456789+02:00", "from=yesterday&to=2026-13-01", "to=2026-02-30", "from=%ff",
		"from=0000-01-01T00:00:00+01:00&to=9999-12-31T23:59:59.999999999-23:59",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		q, err := parseReferralQuery(v)
		if err != nil {
			checkAPIError(t, err)
			var ve *protocol.ValidationError
			errors.As(err, &ve)
			for _, p := range ve.Problems {
				if p.Field != "from" && p.Field != "to" {
					t.Fatalf("problem of field %q", p.Field)
				}
			}
			return
		}
		for _, tm := range []time.Time{q.From, q.To} {
			if tm.IsZero() {
				continue
			}
			s := tm.Format(time.RFC3339Nano)
			back, err := ParseDay(s, "from")
			if err != nil || !back.Equal(tm) {
				t.Fatalf("%v written as %q reads %v (%v)", tm, s, back, err)
			}
		}
	})
}
