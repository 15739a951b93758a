package contract_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hubnet-eu/hubnet/internal/contract"
)

// failures is a testing.TB that records the failures Wrap reports instead of failing.
type failures struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (f *failures) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func (f *failures) Helper() {}

// TestWrap_catches checks that Wrap fails a test on each thing the document does not
// describe, and on nothing else: a check that cannot fail is worth nothing.
func TestWrap_catches(t *testing.T) {
	jsonAnswer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	const health = `{"status":"ok","id":"robocoast","peers":0}`
	for _, c := range []struct {
		name    string
		method  string
		target  string
		token   bool
		body    string
		handler http.Handler
		want    string // in the failure; "" for none
	}{
		{"a documented answer", "GET", "/healthz", false, "", jsonAnswer(200, health), ""},
		{"an undocumented field", "GET", "/healthz", false, "", jsonAnswer(200, `{"status":"ok","id":"a","peers":0,"mood":"good"}`), "mood"},
		{"a required field left out", "GET", "/healthz", false, "", jsonAnswer(200, `{"status":"ok","id":"a"}`), "peers"},
		{"an undocumented status", "GET", "/v1/hubs/robocoast", false, "", jsonAnswer(418, `{}`), "status is not supported"},
		{"an error code the status does not have", "GET", "/v1/hubs/x", false, "", jsonAnswer(404, `{"error":{"code":"internal","message":"m"}}`), "code"},
		{"a Content-Type set after the status", "POST", "/v1/referrals", true, "{}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(201)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{}`)
		}), "Content-Type"},
		{"a refused request answered 200", "PUT", "/v1/self/capacity/teleport", true, `{"available":1}`, jsonAnswer(200, `{}`), "the document refuses this request"},
		{"no token answered 200", "GET", "/v1/gossip-keys", false, "", jsonAnswer(200, `{"primary":"a","keys":[]}`), "the document refuses this request"},
		{"no token answered 401", "GET", "/v1/gossip-keys", false, "", jsonAnswer(401, `{"error":{"code":"unauthorized","message":"m"}}`), ""},
		{"an unknown field answered 400", "POST", "/v1/query", false, `{"colour":"blue"}`,
			jsonAnswer(400, `{"error":{"code":"bad-request","message":"m","problems":[{"field":"colour","rule":"r"}]}}`), ""},
		{"a null member, read as left out", "POST", "/v1/query", false, `{"text":null}`, jsonAnswer(200, `{"query":{"v":1},"total":0,"hits":[]}`), ""},
		{"a field name in another case answered 200", "POST", "/v1/query", false, `{"Text":"x"}`,
			jsonAnswer(200, `{"query":{"v":1},"total":0,"hits":[]}`), "the document refuses this request"},
		{"an unlisted path answered 200", "GET", "/v1/secrets", false, "", jsonAnswer(200, `{}`), "not in the document"},
		{"an unlisted path answered 404", "GET", "/v1/secrets", false, "", jsonAnswer(404, `{"error":{"code":"not-found","message":"m"}}`), ""},
		{"an unlisted method answered 404", "DELETE", "/v1/hubs/x", false, "", jsonAnswer(404, `{"error":{"code":"not-found","message":"m"}}`), ""},
		{"the console, not checked", "GET", "/search", false, "", jsonAnswer(200, `anything`), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &failures{TB: t}
			req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			if c.token {
				req.Header.Set("Authorization", "Bearer x")
			}
			contract.Wrap(f, c.handler).ServeHTTP(httptest.NewRecorder(), req)
			got := strings.Join(f.errs, "\n")
			switch {
			case c.want == "" && got != "":
				t.Errorf("got failure %s, want none", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("got failures %q, want one that says %q", got, c.want)
			}
		})
	}
}
