package node_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// limitedHub starts one hub with limits l.
func limitedHub(t *testing.T, l node.Limits) (*nodetest.Hub, string) {
	t.Helper()
	dir := t.TempDir()
	nodetest.Init(t, dir, nodetest.Network(t), "hub-limits", nil)
	cfg := nodetest.Config(dir)
	cfg.Limits = l
	h := nodetest.StartConfig(t, cfg)
	tok, err := node.ReadToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h, tok
}

// call makes one request to h and returns the status, the Retry-After header and
// the error code of the answer, if any.
func call(t *testing.T, h *nodetest.Hub, method, path, body string, header map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+h.HTTPAddr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e api.ErrorResponse
	json.Unmarshal(data, &e)
	return resp.StatusCode, resp.Header.Get("Retry-After"), e.Error.Code
}

var jsonType = map[string]string{"Content-Type": "application/json"}

const liveQuery = `{"technologies":["robotics"],"timeout_ms":100}`

// Live queries without the token are limited per address: past the burst, 429 with
// Retry-After and the code rate-limited; the operator's token is not limited.
func TestLimits_liveQueryRateLimited(t *testing.T) {
	h, tok := limitedHub(t, node.Limits{LiveQueryRate: 0.01, LiveQueryBurst: 3})
	for i := range 3 {
		if st, _, code := call(t, h, "POST", "/v1/query", liveQuery, jsonType); st != http.StatusOK {
			t.Fatalf("live query %d of the burst: %d %s, want 200", i+1, st, code)
		}
	}
	st, retry, code := call(t, h, "POST", "/v1/query", liveQuery, jsonType)
	if st != http.StatusTooManyRequests || code != api.CodeRateLimited {
		t.Fatalf("live query past the burst: %d %q, want 429 %s", st, code, api.CodeRateLimited)
	}
	if s, err := strconv.Atoi(retry); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds", retry)
	}
	if st, _, code := call(t, h, "POST", "/v1/query", liveQuery, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}); st != http.StatusOK {
		t.Errorf("live query with the token: %d %s, want 200", st, code)
	}
	// The console's live search for a visitor draws on the same bucket.
	if st, retry, _ := call(t, h, "GET", "/search?live=1&tech=robotics", "", nil); st != http.StatusTooManyRequests || retry == "" {
		t.Errorf("console live search past the burst: %d, Retry-After %q; want 429 with Retry-After", st, retry)
	}
	if st, _, _ := call(t, h, "GET", "/search?tech=robotics", "", nil); st != http.StatusOK {
		t.Errorf("console search of the directory: %d, want 200", st)
	}
	// Reads have their own bucket.
	if st, _, _ := call(t, h, "GET", "/v1/hubs", "", nil); st != http.StatusOK {
		t.Errorf("GET /v1/hubs after the live queries: %d, want 200", st)
	}
	if n := h.Refused(node.RefusedHTTP, "live-query-rate"); n != 2 {
		t.Errorf("refusals counted: %v, want 2", n)
	}
}

// Other requests without the token have a bucket of their own per address.
func TestLimits_readsRateLimited(t *testing.T) {
	h, _ := limitedHub(t, node.Limits{ReadRate: 0.01, ReadBurst: 5})
	for i := range 5 {
		if st, _, _ := call(t, h, "GET", "/v1/search?tech=robotics", "", nil); st != http.StatusOK {
			t.Fatalf("search %d of the burst: %d, want 200", i+1, st)
		}
	}
	st, retry, code := call(t, h, "GET", "/v1/hubs", "", nil)
	if st != http.StatusTooManyRequests || code != api.CodeRateLimited || retry == "" {
		t.Fatalf("read past the burst: %d %q Retry-After %q, want 429 %s with Retry-After", st, code, retry, api.CodeRateLimited)
	}
	// The console and the health check are not the API's to limit.
	if st, _, _ := call(t, h, "GET", "/healthz", "", nil); st != http.StatusOK {
		t.Errorf("GET /healthz: %d, want 200", st)
	}
}

// A body that says it is not JSON is refused with 415 before it is read, token or
// not: a web page can post text/plain across sites without asking.
func TestLimits_bodyMustBeJSON(t *testing.T) {
	h, tok := limitedHub(t, node.Limits{})
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		for _, auth := range []string{"", "Bearer " + tok} {
			hdr := map[string]string{"Content-Type": ct}
			if auth != "" {
				hdr["Authorization"] = auth
			}
			st, _, code := call(t, h, "POST", "/v1/query", liveQuery, hdr)
			if st != http.StatusUnsupportedMediaType || code != api.CodeUnsupportedMediaType {
				t.Errorf("POST /v1/query as %s (token %v): %d %q, want 415 %s", ct, auth != "", st, code, api.CodeUnsupportedMediaType)
			}
		}
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", ""} {
		if st, _, code := call(t, h, "POST", "/v1/query", liveQuery, map[string]string{"Content-Type": ct}); st != http.StatusOK {
			t.Errorf("POST /v1/query as %q: %d %s, want 200", ct, st, code)
		}
	}
	st, _, code := call(t, h, "PUT", "/v1/self/capacity/test-before-invest", `{"available":1}`,
		map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer " + tok})
	if st != http.StatusUnsupportedMediaType || code != api.CodeUnsupportedMediaType {
		t.Errorf("PUT capacity as text/plain: %d %q, want 415", st, code)
	}
}

// A change sent by a browser from a page of another site is refused with 403; the
// same request from a program, or from the node's own pages, goes through.
func TestLimits_crossSiteRefused(t *testing.T) {
	h, tok := limitedHub(t, node.Limits{})
	for name, hdr := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": "same-site"},
		"Origin of another site":    {"Origin": "https://attacker.example"},
	} {
		hdr["Content-Type"] = "application/json"
		st, _, code := call(t, h, "POST", "/v1/query", liveQuery, hdr)
		if st != http.StatusForbidden || code != api.CodeCrossOrigin {
			t.Errorf("%s: %d %q, want 403 %s", name, st, code, api.CodeCrossOrigin)
		}
		hdr["Authorization"] = "Bearer " + tok
		st, _, code = call(t, h, "PUT", "/v1/self/capacity/test-before-invest", `{"available":1}`, hdr)
		if st != http.StatusForbidden || code != api.CodeCrossOrigin {
			t.Errorf("%s with the token: %d %q, want 403 %s", name, st, code, api.CodeCrossOrigin)
		}
	}
	for name, hdr := range map[string]map[string]string{
		"Sec-Fetch-Site same-origin": {"Sec-Fetch-Site": "same-origin"},
		"Origin of the node":         {"Origin": "http://" + h.HTTPAddr()},
		"a program":                  {},
	} {
		hdr["Content-Type"] = "application/json"
		if st, _, code := call(t, h, "POST", "/v1/query", liveQuery, hdr); st != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", name, st, code)
		}
	}
	// Reading across sites is harmless: the browser does not show the answer to the page.
	if st, _, _ := call(t, h, "GET", "/v1/hubs", "", map[string]string{"Sec-Fetch-Site": "cross-site"}); st != http.StatusOK {
		t.Errorf("cross-site GET: %d, want 200", st)
	}
}

// Wrong tokens from one address are free a few times, then each makes the next try
// wait twice as long, up to a bound; tries while waiting get 429 and are not checked,
// so not even the right token gets through; another address is not affected.
func TestLimits_wrongTokensBackOff(t *testing.T) {
	h, tok := limitedHub(t, node.Limits{AuthFreeFailures: 2, AuthBackoff: time.Second, AuthBackoffMax: 8 * time.Second})
	var waits []time.Duration
	for range 7 {
		waits = append(waits, h.AuthFailed(node.RefusedToken, "192.0.2.7:4000"))
	}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("wait after wrong token %d: %v, want %v (all %v)", i+1, waits[i], want[i], waits)
		}
	}
	if d := h.AuthWait(node.RefusedToken, "192.0.2.7:4001"); d <= 7*time.Second {
		t.Errorf("wait of the address: %v, want about 8s", d)
	}
	if d := h.AuthWait(node.RefusedToken, "192.0.2.8:4000"); d != 0 {
		t.Errorf("wait of another address: %v, want 0", d)
	}

	write := func(token string) (int, string, string) {
		return call(t, h, "PUT", "/v1/self/capacity/test-before-invest", `{"available":1}`,
			map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token})
	}
	for i := range 2 {
		if st, _, code := write("guess"); st != http.StatusUnauthorized || code != api.CodeUnauthorized {
			t.Fatalf("wrong token %d: %d %q, want 401", i+1, st, code)
		}
	}
	if st, _, _ := write("guess"); st != http.StatusUnauthorized {
		t.Fatalf("third wrong token: %d, want 401 (and a wait)", st)
	}
	st, retry, code := write(tok)
	if st != http.StatusTooManyRequests || code != api.CodeRateLimited || retry != "1" {
		t.Fatalf("right token while waiting: %d %q Retry-After %q, want 429 %s, 1", st, code, retry, api.CodeRateLimited)
	}
	// Wait it out, then the right token works and the address starts afresh.
	nodetest.Eventually(t, 5*time.Second, func() error {
		if st, _, code := write(tok); st != http.StatusNoContent && st != http.StatusConflict && st != http.StatusOK {
			return &api.Error{Status: st, Code: code}
		}
		return nil
	})
	if st, _, _ := write("guess"); st != http.StatusUnauthorized {
		t.Errorf("wrong token after the right one: %d, want 401 (a free try again)", st)
	}
	// A public read with a wrong token is a guess like any other.
	if st, _, _ := call(t, h, "GET", "/v1/hubs", "", map[string]string{"Authorization": "Bearer guess"}); st != http.StatusUnauthorized {
		t.Errorf("read with a wrong token: %d, want 401", st)
	}
}

// The defaults do not get in the way of an operator's tools: the limits are on, yet
// many requests with the token go through.
func TestLimits_defaultsLeaveTheOperatorAlone(t *testing.T) {
	h, tok := limitedHub(t, node.Limits{})
	for i := range 300 {
		st, _, code := call(t, h, "GET", "/v1/hubs", "", map[string]string{"Authorization": "Bearer " + tok})
		if st != http.StatusOK {
			t.Fatalf("read %d with the token: %d %s", i+1, st, code)
		}
	}
	for i := range 20 {
		st, _, code := call(t, h, "POST", "/v1/query", liveQuery, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok})
		if st != http.StatusOK {
			t.Fatalf("live query %d with the token: %d %s", i+1, st, code)
		}
	}
}
