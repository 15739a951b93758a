// Package contract holds the node's HTTP API to its OpenAPI document, api.OpenAPI, in
// tests. Wrap validates every request under /v1/, /healthz and /metrics that a test
// sends, and the node's answer to it, and fails the test on any the document does not
// describe; package nodetest wraps every node it starts this way. Main, called from a
// package's TestMain, says how many were checked.
//
// The rules, for each request:
//
//   - A request the document lists (path and method) must be valid by it, or be
//     refused: a request the document refuses (a parameter or body out of its schema,
//     no operator token where it needs one) must get a 4xx answer.
//   - Whatever the request, the answer's status must be one the document lists for
//     the operation, and its body must match that answer's schema.
//   - A request the document does not list must get the answer the document gives
//     for those: 404 with code not-found under /v1/, 405 elsewhere.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/hubnet-eu/hubnet/api"
)

// maxBody is the most of a request or answer body that is checked, in bytes: more than
// the node reads (1 MiB) and sends. A larger request body is passed on unchecked, and
// only the answer is checked.
const maxBody = 4 << 20

// EnvCounts names the environment variable that, when set, names a file Main appends
// the counts of its package to, one line each: "package requests responses refused".
// `make test` sums them.
const EnvCounts = "HUBNET_OPENAPI_COUNTS"

var (
	loadOnce sync.Once
	doc      *openapi3.T
	router   routers.Router
	loadErr  error

	requests  atomic.Int64 // requests checked
	responses atomic.Int64 // answers checked
	refused   atomic.Int64 // requests the document refuses, each answered 4xx
)

// Document returns the API's OpenAPI document, loaded and validated once.
func Document() (*openapi3.T, error) {
	loadOnce.Do(func() {
		loader := openapi3.NewLoader()
		d, err := loader.LoadFromData(api.OpenAPI())
		if err != nil {
			loadErr = fmt.Errorf("load api/openapi.json: %w", err)
			return
		}
		if err := d.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
			loadErr = fmt.Errorf("api/openapi.json is not a valid OpenAPI document: %w", err)
			return
		}
		// The document's server is the default address; a test's nodes listen on
		// other ports, and any host is matched.
		routed := *d
		routed.Servers = nil
		r, err := gorillamux.NewRouter(&routed)
		if err != nil {
			loadErr = fmt.Errorf("route api/openapi.json: %w", err)
			return
		}
		doc, router = d, r
	})
	return doc, loadErr
}

// Checked reports whether the API's document describes path: /v1/..., /healthz and
// /metrics. The web console's pages are not part of the API.
func Checked(path string) bool {
	return strings.HasPrefix(path, "/v1/") || path == "/healthz" || path == "/metrics"
}

// Wrap returns h with every request under the API's paths, and its answer, checked
// against the document; what breaks a rule fails t.
func Wrap(t testing.TB, h http.Handler) http.Handler {
	if _, err := Document(); err != nil {
		t.Fatal(err)
	}
	return Check(h, func(problem string) { t.Errorf("%s", problem) })
}

// Check is Wrap for callers without a testing.TB, such as a package's examples: it
// calls fail with each problem. It panics when the document does not load.
func Check(h http.Handler, fail func(problem string)) http.Handler {
	if _, err := Document(); err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Checked(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		for _, p := range check(h, w, r) {
			fail(fmt.Sprintf("OpenAPI contract (api/openapi.json): %s %s: %s", r.Method, r.URL.RequestURI(), p))
		}
	})
}

// Counts returns how many requests and answers Wrap checked, and how many of the
// requests the document refuses (each answered 4xx, as it must be).
func Counts() (req, resp, ref int64) {
	return requests.Load(), responses.Load(), refused.Load()
}

// Main runs m, then prints how many requests and answers were checked and, when
// EnvCounts names a file, appends them to it; it exits with m's code. Call it from
// TestMain.
func Main(m *testing.M, pkg string) {
	code := m.Run()
	Report(pkg)
	os.Exit(code)
}

// Report prints the counts of pkg's test run and appends them to the file EnvCounts
// names, if any.
func Report(pkg string) {
	req, resp, ref := Counts()
	fmt.Printf("OpenAPI contract: %d requests and %d answers checked against api/openapi.json (%d requests it refuses, each answered 4xx)\n", req, resp, ref)
	if name := os.Getenv(EnvCounts); name != "" && req+resp > 0 {
		f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "contract counts:", err)
			return
		}
		defer f.Close()
		fmt.Fprintf(f, "%s %d %d %d\n", pkg, req, resp, ref)
	}
}

// check serves r with h through w and returns what breaks the rules.
func check(h http.Handler, w http.ResponseWriter, r *http.Request) []string {
	ctx := context.Background()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		// The client went away; the node sees the same error.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		h.ServeHTTP(w, r)
		return nil
	}
	bodyChecked := len(body) <= maxBody
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))

	route, params, routeErr := router.FindRoute(r)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	var (
		in     *openapi3filter.RequestValidationInput
		reqErr error
	)
	if routeErr == nil {
		opts := &openapi3filter.Options{
			MultiError:         true,
			ExcludeRequestBody: !bodyChecked,
			AuthenticationFunc: bearer,
		}
		vr := r.Clone(ctx)
		vr.Body = io.NopCloser(bytes.NewReader(body))
		if ct := vr.Header.Get("Content-Type"); len(body) > 0 && (ct == "" || isJSON(ct)) {
			// The node reads a body without a Content-Type as JSON, and any JSON
			// type (+json) as application/json, as the document says.
			vr.Header.Set("Content-Type", "application/json")
			// And it reads a member set to null as left out, as encoding/json does.
			vr.Body = io.NopCloser(bytes.NewReader(withoutNulls(body)))
		}
		in = &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: opts}
		reqErr = openapi3filter.ValidateRequest(ctx, in)
	}
	h.ServeHTTP(rec, r)
	requests.Add(1)
	responses.Add(1)

	if routeErr != nil {
		return unlisted(r, rec, routeErr)
	}
	var problems []string
	if reqErr != nil {
		if rec.status < 400 || rec.status >= 500 {
			problems = append(problems, fmt.Sprintf("the document refuses this request (%s), but the node answered %d", oneLine(reqErr), rec.status))
		} else {
			refused.Add(1)
		}
	}
	ropts := &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true}
	if rec.over {
		ropts.ExcludeResponseBody = true
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.status,
		Header:                 rec.header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options:                ropts,
	})
	if err != nil {
		problems = append(problems, fmt.Sprintf("answer %d is not the document's: %s\nbody: %s", rec.status, oneLine(err), clip(rec.body.Bytes())))
	}
	return problems
}

// unlisted checks the answer to a request the document does not list.
func unlisted(r *http.Request, rec *recorder, routeErr error) []string {
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		if rec.status == http.StatusMethodNotAllowed {
			return nil
		}
		return []string{fmt.Sprintf("not in the document (%v), and answered %d rather than 405", routeErr, rec.status)}
	}
	var e api.ErrorResponse
	if rec.status != http.StatusNotFound || json.Unmarshal(rec.body.Bytes(), &e) != nil || e.Error.Code != "not-found" || e.Error.Message == "" {
		return []string{fmt.Sprintf("not in the document (%v), and answered %d %s rather than 404 with code not-found", routeErr, rec.status, clip(rec.body.Bytes()))}
	}
	return nil
}

// bearer accepts a request that sends a token as the bearerToken scheme asks; the
// node itself checks the token and its scope.
func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearerToken" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	tok, ok := strings.CutPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return errors.New("no operator token: Authorization: Bearer TOKEN")
	}
	return nil
}

// recorder passes an answer on and keeps its status, its header as sent (net/http
// sends the header as it is at WriteHeader, or at the first Write) and the first
// maxBody bytes of its body.
type recorder struct {
	http.ResponseWriter
	status int
	sent   http.Header // nil until the header is sent
	body   bytes.Buffer
	over   bool
}

func (r *recorder) WriteHeader(status int) {
	if r.sent == nil {
		r.status, r.sent = status, r.Header().Clone()
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.sent == nil {
		r.sent = r.Header().Clone()
	}
	if r.sent.Get("Content-Type") == "" && r.body.Len() == 0 && len(b) > 0 {
		// What net/http sends when the handler set none.
		r.sent.Set("Content-Type", http.DetectContentType(b))
	}
	if r.body.Len()+len(b) > maxBody {
		r.over = true
	} else {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// header returns the header as sent.
func (r *recorder) header() http.Header {
	if r.sent == nil {
		return r.Header()
	}
	return r.sent
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func clip(b []byte) string {
	const n = 400
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// withoutNulls returns a JSON body with every object member whose value is null left
// out, or the body as it is when it is not JSON.
func withoutNulls(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return body
	}
	if _, err := dec.Token(); err != io.EOF {
		return body
	}
	out, err := json.Marshal(dropNulls(v))
	if err != nil {
		return body
	}
	return out
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
			} else {
				x[k] = dropNulls(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}

// isJSON reports whether the media type ct is JSON: application/json or a type ending
// in +json, with any parameters.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
