package contract_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/contract"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// oneHub starts hub robocoast alone.
func oneHub(t *testing.T) (protocol.Network, *nodetest.Hub) {
	t.Helper()
	netw := nodetest.Network(t)
	p := nodetest.Profile("robocoast")
	return netw, nodetest.Start(t, netw, "robocoast", &p)
}

// muxPatterns returns the patterns package node registers on its ServeMux: the
// string constants given to HandleFunc or Handle on a value named mux.
func muxPatterns(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../node/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("node sources: %v (%d files)", err, len(files))
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "mux" {
				return true
			}
			if sel, ok := call.Args[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "pattern" {
				return true // the routes Node.Handle adds beside the API, such as the console's
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a pattern that is not a string constant: the test cannot read it", fset.Position(call.Pos()))
				return true
			}
			p, _ := strconv.Unquote(lit.Value)
			out = append(out, p)
			return true
		})
	}
	return out
}

// documented returns the operations of the document as ServeMux patterns: "GET
// /v1/hubs/{id}".
func documented(t *testing.T) []string {
	t.Helper()
	var out []string
	for path, item := range obj(document(t)["paths"]) {
		for method := range obj(item) {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(out)
	return out
}

var param = regexp.MustCompile(`\{[^}]*\}`)

// TestRoutes_matchDocument fails when the node serves a route the document lacks, or
// the document lists one the node does not serve. The node's routes are the patterns
// its source registers, each checked on a running node to be served: a request to it,
// with the token and no body, is not answered by the catch-all of /v1/ ("no such
// endpoint").
func TestRoutes_matchDocument(t *testing.T) {
	_, h := oneHub(t)
	tok, err := node.ReadToken(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	handler := h.Handler()
	reached := func(method, path string) bool {
		req := httptest.NewRequest(method, param.ReplaceAllString(path, "x"), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		var e api.ErrorResponse
		json.Unmarshal(rec.Body.Bytes(), &e)
		return rec.Code != http.StatusNotFound || !strings.HasPrefix(e.Error.Message, "no such endpoint")
	}
	if reached(http.MethodGet, "/v1/no-such-endpoint") {
		t.Fatal("GET /v1/no-such-endpoint is not answered by the catch-all: the test cannot tell a route from none")
	}
	var served []string
	for _, p := range muxPatterns(t) {
		method, path, ok := strings.Cut(p, " ")
		if !ok || !contract.Checked(path) || path == "/v1/" {
			continue // the console's; or the catch-all, the answer to every path the document lacks
		}
		served = append(served, p)
		if strings.HasPrefix(path, "/v1/") && !reached(method, path) {
			t.Errorf("%s is in node's source, but a request to it reaches no route", p)
		}
	}
	slices.Sort(served)
	doc := documented(t)
	for _, p := range served {
		if !slices.Contains(doc, p) {
			t.Errorf("the node serves %s, which api/openapi.json lacks", p)
		}
	}
	for _, p := range doc {
		if !slices.Contains(served, p) {
			t.Errorf("api/openapi.json lists %s, which the node does not serve", p)
		}
	}
	if len(served) < 20 {
		t.Errorf("found %d routes of the API in node's source: %v; is the test reading it?", len(served), served)
	}
}
