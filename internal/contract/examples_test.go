package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// referralID is the referral ID the examples use. The test sends a referral before
// each request to it, and puts the new referral's ID in its place: a referral's ID is
// chosen by the hub that sends it.
const referralID = "019a8b5c-2c4e-7d1a-9f3e-5b6c7d8e9f01"

// federation is where the examples are sent: hub robocoast, which gets every request,
// and hub digihall, which it refers SMEs to.
type federation struct {
	robocoast, digihall *nodetest.Hub
	token               string
	client              *api.Client
	referral            api.ReferralRequest // the document's example referral, to send
}

func startFederation(t *testing.T) *federation {
	t.Helper()
	netw := nodetest.Network(t)
	pr, pd := nodetest.Profile("robocoast"), nodetest.Profile("digihall")
	pd.Name = "DigiHall"
	r := nodetest.Start(t, netw, "robocoast", &pr)
	d := nodetest.Start(t, netw, "digihall", &pd, r.GossipAddr())
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{r, d}) })
	tok, err := node.ReadToken(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.NewClient("http://"+r.HTTPAddr(), tok)
	if err != nil {
		t.Fatal(err)
	}
	f := &federation{robocoast: r, digihall: d, token: tok, client: c}
	ex := document(t).pointer("#/paths/~1v1~1referrals/post/requestBody/content/application~1json/examples/bakery")
	b, _ := json.Marshal(ex["value"])
	if err := json.Unmarshal(b, &f.referral); err != nil {
		t.Fatalf("the document's example referral: %v", err)
	}
	return f
}

// exchange is a request of an example and the answer the example says it gets.
type exchange struct {
	name      string
	method    string
	target    string // path and query
	token     bool   // sends the operator token
	body      []byte // nil for none
	status    int
	code      string // the error's code, for an error answer
	mediaType string // of the answer; "" for any
	firstLine string // of a CSV answer, when the example shows it
	form      bool   // sends its body as a form, as curl -d does
	// wrongToken sends a wrong token: one example only, as the node makes an address
	// wait after a few.
	wrongToken bool
}

// send sends x to robocoast and fails t unless the answer is x's.
func (f *federation) send(t *testing.T, x exchange) {
	t.Helper()
	target := x.target
	if strings.Contains(target, referralID) {
		info, err := f.client.Refer(context.Background(), f.referral)
		if err != nil {
			t.Fatalf("send a referral for the example: %v", err)
		}
		target = strings.ReplaceAll(target, referralID, info.Referral.ID)
	}
	var rd io.Reader
	if x.body != nil {
		rd = bytes.NewReader(x.body)
	}
	req, err := http.NewRequest(x.method, "http://"+f.robocoast.HTTPAddr()+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if x.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if x.form {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	switch {
	case x.wrongToken:
		req.Header.Set("Authorization", "Bearer not-the-token")
	case x.token:
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != x.status {
		t.Fatalf("%s %s: got %d %s, want %d", x.method, target, resp.StatusCode, body, x.status)
	}
	if x.code != "" {
		var e api.ErrorResponse
		if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != x.code {
			t.Errorf("%s %s: got %s, want code %s", x.method, target, body, x.code)
		}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); x.mediaType != "" && mt != x.mediaType {
		t.Errorf("%s %s: got %s, want %s", x.method, target, mt, x.mediaType)
	}
	if x.firstLine != "" {
		if got, _, _ := strings.Cut(string(body), "\n"); got != x.firstLine {
			t.Errorf("%s %s: got first line %q, want %q", x.method, target, got, x.firstLine)
		}
	}
}

// errorCode returns the code of an error answer's example, or "".
func errorCode(v any) string {
	c, _ := obj(obj(v)["error"])["code"].(string)
	return c
}

// documentExchanges returns every example of the document as an exchange. Examples
// of one operation go together by name: the request of example N has the parameters
// and body of the examples named N (or the first example of a required parameter or
// body that has none of that name), and its answer is the answer example named N.
// Example no-token is sent without the operator token, wrong-token with a wrong one,
// and example form with the Content-Type of a form.
func documentExchanges(t *testing.T, d raw) []exchange {
	t.Helper()
	var out []exchange
	paths := obj(d["paths"])
	for _, path := range slices.Sorted(mapKeys(paths)) {
		item := obj(paths[path])
		for _, method := range slices.Sorted(mapKeys(item)) {
			if method == "parameters" {
				continue // of every operation of the path
			}
			op := obj(item[method])
			where := strings.ToUpper(method) + " " + path
			names := map[string]bool{}
			var params []map[string]any
			for _, p := range slices.Concat(asList(item["parameters"]), asList(op["parameters"])) {
				ps := d.resolve(p)
				if ps["example"] != nil {
					t.Errorf("%s: parameter %v has an unnamed example; name it under examples", where, ps["name"])
				}
				for n := range obj(ps["examples"]) {
					names[n] = true
				}
				params = append(params, ps)
			}
			body := obj(op["requestBody"])
			bodyJSON := obj(obj(body["content"])["application/json"])
			if bodyJSON["example"] != nil {
				t.Errorf("%s: the request body has an unnamed example; name it under examples", where)
			}
			bodies := obj(bodyJSON["examples"])
			for n := range bodies {
				names[n] = true
			}
			type answer struct {
				status    int
				mediaType string
				value     any
			}
			answers := map[string]answer{}
			for status, r := range obj(op["responses"]) {
				code, _ := strconv.Atoi(status)
				for mt, c := range obj(d.resolve(r)["content"]) {
					if obj(c)["example"] != nil {
						t.Errorf("%s: answer %s %s has an unnamed example; name it under examples", where, status, mt)
					}
					for n, ex := range obj(obj(c)["examples"]) {
						answers[n] = answer{code, mt, d.resolve(ex)["value"]}
						names[n] = true
					}
				}
			}
			secured := len(asList(op["security"])) > 0
			for _, name := range slices.Sorted(mapKeys(names)) {
				a, ok := answers[name]
				if !ok {
					t.Errorf("%s: example %s has no answer example of that name, to say what it gets", where, name)
					continue
				}
				x := exchange{name: where + " " + name, method: strings.ToUpper(method), token: secured && name != "no-token",
					status: a.status, code: errorCode(a.value), mediaType: a.mediaType, form: name == "form", wrongToken: name == "wrong-token"}
				if a.mediaType == "text/csv" {
					x.firstLine, _, _ = strings.Cut(fmt.Sprint(a.value), "\n")
				}
				target, query := path, url.Values{}
				for _, p := range params {
					exs := obj(p["examples"])
					ex, ok := exs[name]
					if !ok && p["required"] == true && len(exs) > 0 {
						ex, ok = exs[slices.Sorted(mapKeys(exs))[0]], true
					}
					if !ok {
						continue
					}
					v := d.resolve(ex)["value"]
					pname := p["name"].(string)
					switch p["in"] {
					case "path":
						target = strings.ReplaceAll(target, "{"+pname+"}", url.PathEscape(fmt.Sprint(v)))
					case "query":
						if list, ok := v.([]any); ok {
							for _, e := range list {
								query.Add(pname, fmt.Sprint(e))
							}
						} else {
							query.Set(pname, fmt.Sprint(v))
						}
					}
				}
				if len(query) > 0 {
					target += "?" + query.Encode()
				}
				x.target = target
				if strings.Contains(target, "{") {
					t.Errorf("%s: example %s leaves a path parameter out: %s", where, name, target)
					continue
				}
				ex, ok := bodies[name]
				if !ok && body["required"] == true && len(bodies) > 0 {
					ex, ok = bodies[slices.Sorted(mapKeys(bodies))[0]], true
				}
				if ok {
					x.body, _ = json.Marshal(d.resolve(ex)["value"])
				}
				out = append(out, x)
			}
		}
	}
	return out
}

var (
	requestLine  = regexp.MustCompile(`^(GET|PUT|POST|DELETE|PATCH) (/\S*)$`)
	statusLine   = regexp.MustCompile(`^HTTP/1\.1 (\d{3})( .*)?$`)
	searchSample = regexp.MustCompile("`([a-z_]+=[^`]*)`")
)

// fence is a fenced code block of a Markdown file.
type fence struct {
	info  string
	lines []string
	line  int // of the opening fence
}

func fences(text string) []fence {
	var out []fence
	var cur *fence
	for i, l := range strings.Split(text, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &fence{info: strings.TrimSpace(strings.TrimPrefix(l, "```")), line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	return out
}

// docsExchanges returns the request examples of docs/api.md: each http block that
// holds a request, with the http block after it that holds the answer; and each
// example of the table of GET /v1/search's parameters.
func docsExchanges(t *testing.T) []exchange {
	t.Helper()
	data, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []exchange
	fs := fences(string(data))
	for i, f := range fs {
		if f.info != "http" || len(f.lines) == 0 {
			continue
		}
		m := requestLine.FindStringSubmatch(f.lines[0])
		if m == nil {
			continue
		}
		x := exchange{name: fmt.Sprintf("docs/api.md:%d %s", f.line, f.lines[0]), method: m[1], target: m[2]}
		rest := f.lines[1:]
		for len(rest) > 0 && rest[0] != "" {
			k, v, _ := strings.Cut(rest[0], ":")
			switch {
			case strings.EqualFold(k, "Authorization") && strings.TrimSpace(v) == "Bearer TOKEN":
				x.token = true
			case strings.EqualFold(k, "Content-Type") && strings.TrimSpace(v) == "application/json":
			default:
				t.Errorf("%s: header %q: the test sends only Authorization: Bearer TOKEN and Content-Type: application/json", x.name, rest[0])
			}
			rest = rest[1:]
		}
		if b := strings.TrimSpace(strings.Join(rest, "\n")); b != "" {
			if !json.Valid([]byte(b)) {
				t.Errorf("%s: the body is not JSON: %s", x.name, b)
				continue
			}
			x.body = []byte(b)
		}
		var sm []string
		if i+1 < len(fs) && fs[i+1].info == "http" && len(fs[i+1].lines) > 0 {
			sm = statusLine.FindStringSubmatch(fs[i+1].lines[0])
		}
		if sm == nil {
			t.Errorf("%s: no http block with its answer (HTTP/1.1 NNN ...) after it", x.name)
			continue
		}
		x.status, _ = strconv.Atoi(sm[1])
		answer := fs[i+1].lines[1:]
		for len(answer) > 0 && answer[0] != "" {
			k, v, _ := strings.Cut(answer[0], ":")
			if strings.EqualFold(k, "Content-Type") {
				x.mediaType, _, _ = mime.ParseMediaType(strings.TrimSpace(v))
			}
			answer = answer[1:]
		}
		var v any
		if json.Unmarshal([]byte(strings.Join(answer, "\n")), &v) == nil {
			x.code = errorCode(v)
		}
		out = append(out, x)
	}
	// The examples column of the table of GET /v1/search's parameters.
	_, section, _ := strings.Cut(string(data), "### `GET /v1/search`")
	section, _, _ = strings.Cut(section, "\n### ")
	for _, l := range strings.Split(section, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		for _, m := range searchSample.FindAllStringSubmatch(cells[3], -1) {
			out = append(out, exchange{name: "docs/api.md search " + m[1], method: http.MethodGet, target: "/v1/search?" + m[1], status: http.StatusOK})
		}
	}
	return out
}

// TestExamples_real sends every example of the document and every request example
// of docs/api.md to a real node, and checks it gets the answer they say. Each
// request and answer is also checked against the document, as every test's are.
func TestExamples_real(t *testing.T) {
	f := startFederation(t)
	doc := documentExchanges(t, document(t))
	docs := docsExchanges(t)
	if len(doc) < 30 || len(docs) < 25 {
		t.Fatalf("found %d examples in the document and %d in docs/api.md; are they read?", len(doc), len(docs))
	}
	for _, x := range slices.Concat(doc, docs) {
		t.Run(x.name, func(t *testing.T) { f.send(t, x) })
	}
}
