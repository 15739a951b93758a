package node_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/contract"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// apiState is what a write to the API may change: the hub's profile and how many
// referrals it holds.
type apiState struct {
	profile   string
	referrals int
}

func stateOf(t *testing.T, h *nodetest.Hub) apiState {
	t.Helper()
	self, err := h.Self()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(self.Profile)
	list, err := h.Referrals(api.ReferralQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return apiState{profile: string(b), referrals: len(list)}
}

// FuzzAPI sends request bodies to every write endpoint of a running hub's HTTP API,
// through its handler, with the operator's token: whatever the body, the answer is
// never a 5xx; an error is JSON with a code and a message, a 400 names every problem
// with its field, and nothing is stored; a success answers JSON.
func FuzzAPI(f *testing.F) {
	hubs := nodetest.StartN(f, nodetest.Network(f), 2)
	nodetest.Eventually(f, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	a := hubs[0]
	token, err := node.ReadToken(a.Dir)
	if err != nil {
		f.Fatal(err)
	}
	handler := a.Handler()
	sent, err := a.Refer(referralTo("hub-2"))
	if err != nil {
		f.Fatal(err)
	}
	endpoints := []string{"PUT /v1/self/profile", "PUT /v1/self/capacity/test-before-invest", "PUT /v1/self/capacity/teleport",
		"POST /v1/query", "POST /v1/referrals"}
	for _, action := range []string{"accept", "decline", "hold", "answer", "start", "complete", "fail", "cancel", "fly"} {
		endpoints = append(endpoints, "POST /v1/referrals/"+sent.Referral.ID+"/"+action)
	}

	// Seeds: a good body for each endpoint, then bad ones.
	p := nodetest.Profile("hub-1")
	p.Name = "Hub one, renamed"
	good := map[int]any{
		0: p,
		1: map[string]any{"available": 2, "maximum": 6},
		3: api.LiveQuery{Query: protocol.Query{Technologies: []string{"ai-decision-support"}}, TimeoutMS: 200},
		4: referralTo("hub-2"),
	}
	for i := range endpoints {
		if v, ok := good[i]; ok {
			b, _ := json.Marshal(v)
			f.Add(uint8(i), b)
		}
		for _, s := range []string{``, `{}`, `{"v":99}`, `{"name":`, `{"available":"x"}`, `{"reason":"no-capacity"}`,
			`{"a":` + strings.Repeat("[", 10001), `{"name":"\xff"}`} {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		method, path, _ := strings.Cut(endpoints[int(which)%len(endpoints)], " ")
		before := stateOf(t, a)
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		contract.Wrap(t, handler).ServeHTTP(rec, req) // and the answer is the OpenAPI document's
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s %q: %d with Content-Type %q", method, path, body, rec.Code, ct)
		}
		if rec.Code < 300 {
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %s %q: %d with %q", method, path, body, rec.Code, rec.Body)
			}
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		var e api.ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s %s %q: %d with %q, want an error with a code and a message", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusBadRequest {
			if len(e.Error.Problems) == 0 {
				t.Fatalf("%s %s %q: 400 without problems: %s", method, path, body, rec.Body)
			}
			for _, p := range e.Error.Problems {
				if p.Field == "" || p.Rule == "" || !strings.Contains(e.Error.Message, p.Field) {
					t.Fatalf("%s %s %q: problem %+v, message %q", method, path, body, p, e.Error.Message)
				}
			}
		}
		if after := stateOf(t, a); after != before {
			t.Fatalf("%s %s %q answered %d and changed the hub:\nbefore %+v\nafter  %+v", method, path, body, rec.Code, before, after)
		}
	})
}
