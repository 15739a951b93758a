package node_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console/consoletest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// hostile is a hub under attack, hub-a, and a hub of its network, hub-b, whose keys
// the test holds so that it can sign what hub-b would never send.
type hostile struct {
	t     *testing.T
	a, b  *nodetest.Hub
	bID   protocol.Identity
	aKey  ed25519.PublicKey
	token string
	url   string
	nc    *nats.Conn // a plain client of hub-a's loopback NATS listener
}

// startHostile starts hub-a and hub-b, joined, and connects a NATS client to hub-a.
func startHostile(t *testing.T) *hostile {
	t.Helper()
	net := nodetest.Network(t)
	pa := nodetest.Profile("hub-a")
	a := nodetest.Start(t, net, "hub-a", &pa)

	dir := t.TempDir()
	pb := nodetest.Profile("hub-b")
	nodetest.Init(t, dir, net, "hub-b", &pb)
	s, err := store.Open(filepath.Join(dir, node.StoreFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	bID, err := s.Identity()
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := nodetest.StartConfig(t, nodetest.Config(dir, a.GossipAddr()))
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{a, b}) })

	token, err := node.ReadToken(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	self, err := a.Self()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(a.Addrs().Client, nodetest.Token(a))
	if err != nil {
		t.Fatalf("connect to hub-a's NATS: %v", err)
	}
	t.Cleanup(nc.Close)
	rememberBox(t, a)
	return &hostile{t: t, a: a, b: b, bID: bID, aKey: self.SignKey, token: token, url: "http://" + a.HTTPAddr(), nc: nc}
}

// hubState is what bad input must not change at hub-a.
type hubState struct {
	revision  uint64
	profile   string
	referrals string // every referral's ID and state
	hubB      uint64 // the revision of hub-b in hub-a's directory
}

func (h *hostile) state() hubState {
	h.t.Helper()
	self, err := h.a.Self()
	if err != nil {
		h.t.Fatal(err)
	}
	p, _ := json.Marshal(self.Profile)
	list, err := h.a.Referrals(api.ReferralQuery{})
	if err != nil {
		h.t.Fatal(err)
	}
	var refs []string
	for _, r := range list {
		refs = append(refs, r.Referral.ID+"="+string(r.Referral.State))
	}
	b, err := h.a.Hub("hub-b")
	if err != nil {
		h.t.Fatal(err)
	}
	return hubState{revision: self.Revision, profile: string(p), referrals: strings.Join(refs, ","), hubB: b.Revision}
}

// dropped reads hubnet_dropped_messages_total from hub-a's /metrics, every reason
// summed, as a monitoring system would.
func (h *hostile) dropped() float64 {
	h.t.Helper()
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "hubnet_dropped_messages_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			h.t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// answersGood checks that hub-a answers good requests on HTTP and NATS.
func (h *hostile) answersGood() {
	h.t.Helper()
	resp, err := http.Get(h.url + "/v1/self")
	if err != nil {
		h.t.Fatalf("GET /v1/self after bad input: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET /v1/self after bad input: %d", resp.StatusCode)
	}
	m, err := h.nc.Request(protocol.ProfileSubject("hub-a"), []byte(`{"v":1}`), 2*time.Second)
	if err != nil {
		h.t.Fatalf("profile request after bad input: %v", err)
	}
	env, err := protocol.OpenEnvelope(m.Data)
	if err == nil {
		_, err = protocol.OpenProfile(env, h.aKey)
	}
	if err != nil {
		h.t.Fatalf("profile request after bad input: %v", err)
	}
}

// send makes an HTTP request to hub-a, with the operator token when auth is set.
func (h *hostile) send(method, path, contentType string, body []byte, auth bool) (int, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, got
}

// nest is s inside n JSON arrays.
func nest(n int, s string) string { return strings.Repeat("[", n) + s + strings.Repeat("]", n) }

// over is a JSON body of field holding a string that makes the body n bytes.
func over(field string, n int) string {
	head := `{"` + field + `":"`
	return head + strings.Repeat("x", n-len(head)-2) + `"}`
}

func TestHostile_HTTP(t *testing.T) {
	h := startHostile(t)
	sent, err := h.a.Refer(referralTo("hub-b"))
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, h.a, sent.Referral.ID, protocol.StateReceived)
	act := "/v1/referrals/" + sent.Referral.ID + "/cancel"
	huge := node.MaxBodySize + 1

	type endpoint struct {
		method, path string
		wrongType    string // a body with a value of the wrong type
		field        string // the field of wrongType
	}
	endpoints := []endpoint{
		{"PUT", "/v1/self/profile", `{"name":5}`, "name"},
		{"PUT", "/v1/self/capacity/test-before-invest", `{"available":"three"}`, "available"},
		{"POST", "/v1/query", `{"limit":"ten"}`, "limit"},
		{"POST", "/v1/referrals", `{"to":["hub-b"]}`, "to"},
		{"POST", act, `{"reason":7}`, "reason"},
	}
	type tc struct {
		name, method, path string
		body               string
		status             int
		want               []string // in the error's message: the field or the rule
	}
	var cases []tc
	for _, e := range endpoints {
		add := func(name, body string, status int, want ...string) {
			cases = append(cases, tc{e.path + " " + name, e.method, e.path, body, status, want})
		}
		add("malformed JSON", `{"name":`, 400, "(json)", "unexpected EOF")
		add("wrong type", e.wrongType, 400, "(json)", e.field)
		add("over 1 MiB", over("name", huge), 413, "1048576")
		add("deep nesting", `{"name":`+nest(10001, "1")+`}`, 400, "(json)", "exceeded max depth")
		add("invalid UTF-8", "{\"name\":\"Hub \xff\xfe\"}", 400, "(json)", "must be UTF-8; byte 13 is not")
		add("two values", `{} {}`, 400, "(json)", "one JSON value")
		add("array", `[]`, 400, "(json)", "cannot unmarshal array")
		if e.path == "/v1/query" {
			add("version 99", `{"v":99}`, 400, "v: must be 1")
		} else {
			add("version 99", `{"v":99}`, 400, "(json)", `unknown field "v"`)
		}
	}
	cases = append(cases,
		tc{"profile with every field wrong", "PUT", "/v1/self/profile",
			`{"name":"","type":"XYZ","country":"FI","regions":["SE22"],"languages":["english"],"technologies":{"robotics":9}}`,
			400, []string{"name: is required", "type:", "regions.SE22:", "languages.0:", "technologies.robotics:"}},
		tc{"capacity of no family", "PUT", "/v1/self/capacity/teleport", `{"available":1}`, 400, []string{"family:"}},
		tc{"capacity without available", "PUT", "/v1/self/capacity/test-before-invest", `{"maximum":3}`, 400, []string{"available: is required"}},
		tc{"capacity over maximum", "PUT", "/v1/self/capacity/test-before-invest", `{"available":9,"maximum":3}`, 400,
			[]string{"capacity.test-before-invest.available:"}},
		tc{"live query timeout", "POST", "/v1/query", `{"timeout_ms":600000}`, 400, []string{"timeout_ms:"}},
		tc{"live query list of unknown technologies", "POST", "/v1/query", `{"technologies":["teleport","x"]}`, 400,
			[]string{"technologies.0:", "technologies.1:"}},
		tc{"referral to itself", "POST", "/v1/referrals", `{"to":"hub-a"}`, 400, []string{"to:", "need.sector:", "consent.until:"}},
		tc{"referral to nobody known", "POST", "/v1/referrals", mustJSON(t, referralTo("hub-zzz")), 404, []string{"hub-zzz"}},
		tc{"action unknown", "POST", "/v1/referrals/" + sent.Referral.ID + "/fly", `{}`, 400, []string{"action:"}},
		tc{"action not allowed", "POST", "/v1/referrals/" + sent.Referral.ID + "/accept", `{}`, 409, []string{"accept by the sender"}},
		tc{"action on no referral", "POST", "/v1/referrals/0196cdb2-4b00-7abc-8def-0123456789ab/cancel",
			`{"reason":"consent-withdrawn"}`, 404, nil},
		tc{"cancel without reason", "POST", act, `{}`, 400, []string{"reason: is required"}},
		tc{"search, bad number and unknown parameter", "GET", "/v1/search?limit=ten&colour=red&=x", "", 400,
			[]string{"limit:", "colour:", "(unnamed):"}},
		tc{"search, invalid UTF-8 and long text", "GET", "/v1/search?tech=%ff%fe&text=" + strings.Repeat("a", 201), "", 400,
			[]string{"technologies.0:", "text:"}},
		tc{"search, region outside the country", "GET", "/v1/search?region=FI193&country=SE&reach=somewhere", "", 400,
			[]string{"region:", "reach:"}},
		tc{"referral list, bad filters", "GET", "/v1/referrals?direction=sideways", "", 400, []string{"direction:"}},
		tc{"referral list, bad dates", "GET", "/v1/referrals?from=yesterday&to=2026-13-01", "", 400, []string{"from:", "to:"}},
		tc{"referral list, bad state", "GET", "/v1/referrals?state=lost", "", 400, []string{"state:"}},
		tc{"report, backwards period", "GET", "/v1/report?from=2027-01-01&to=2026-01-01", "", 400, []string{"to: must be after from"}},
		tc{"report, no dates", "GET", "/v1/report?format=csv", "", 400, []string{"from:", "to:"}},
		tc{"live query with 20,000 unknown languages", "POST", "/v1/query", `{"languages":[` + strings.Repeat(`"x",`, 20000) + `"x"]}`,
			400, []string{"languages.99:", "(more): 19901 more problems not listed"}},
		tc{"search with 50,000 unknown technologies", "GET", "/v1/search?tech=" + strings.Repeat("x,", 50000), "", 400,
			[]string{"technologies.0:", "(more): 49900 more problems not listed"}},
		tc{"search with 5,000 unknown parameters", "GET", "/v1/search?tech=robotics" + manyParams(5000), "", 400,
			[]string{"p0:", "(more): 4900 more problems not listed"}},
		tc{"search with 20,000 parameters", "GET", "/v1/search?tech=robotics" + manyParams(20000), "", 400,
			[]string{"(query): number of URL query parameters exceeded limit"}},
		tc{"search with a bad %-escape", "GET", "/v1/search?tech=robotics&region=FI%1", "", 400,
			[]string{`(query): invalid URL escape "%1"`}},
		tc{"referral list with a bad %-escape", "GET", "/v1/referrals?state=%zz", "", 400, []string{"(query): invalid URL escape"}},
		tc{"report with a bad %-escape", "GET", "/v1/report?from=2026-01-01&to=%", "", 400, []string{"(query): invalid URL escape"}},
		tc{"profile with 20,000 unknown technologies", "PUT", "/v1/self/profile", `{"name":"x","technologies":{` + manyKeys(20000) + `}}`,
			400, []string{"technologies.k0:", "(more):"}},
		tc{"search, URL over 1 MiB", "GET", "/v1/search?text=" + strings.Repeat("a", 2<<20), "", 431, nil},
	)

	before := h.state()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := h.send(c.method, c.path, "application/json", []byte(c.body), true)
			if status != c.status {
				t.Fatalf("status %d, want %d: %.300s", status, c.status, body)
			}
			if len(body) > 64<<10 {
				t.Errorf("answer of %d bytes to bad input of %d: bad input must not make big answers", len(body), len(c.body)+len(c.path))
			}
			if status == http.StatusRequestHeaderFieldsTooLarge {
				return // net/http answers it, in plain text, before the API sees the request
			}
			var e api.ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("error body %.300s (%v), want a code and a message", body, err)
			}
			for _, w := range c.want {
				if !strings.Contains(e.Error.Message, w) {
					t.Errorf("message %q, want it to name %q", e.Error.Message, w)
				}
			}
			if status == http.StatusBadRequest && len(e.Error.Problems) == 0 {
				t.Errorf("400 without problems: %s", body)
			}
			if status == http.StatusRequestEntityTooLarge && e.Error.Code != protocol.CodeTooLarge {
				t.Errorf("413 with code %q", e.Error.Code)
			}
			if after := h.state(); after != before {
				t.Fatalf("stored something:\nbefore %+v\nafter  %+v", before, after)
			}
			h.answersGood()
		})
	}

	// Every endpoint still does its job.
	p := nodetest.Profile("hub-a")
	p.Name = "Hub A, after all that"
	good := []struct {
		method, path, body string
		status             int
	}{
		{"PUT", "/v1/self/profile", mustJSON(t, p), 200},
		{"PUT", "/v1/self/capacity/test-before-invest", `{"available":2}`, 200},
		{"POST", "/v1/query", `{"technologies":["ai-decision-support"],"timeout_ms":2000}`, 200},
		{"POST", "/v1/referrals", mustJSON(t, referralTo("hub-b")), 201},
		{"POST", act, `{"reason":"consent-withdrawn"}`, 200},
	}
	for _, g := range good {
		if status, body := h.send(g.method, g.path, "application/json", []byte(g.body), true); status != g.status {
			t.Errorf("good %s %s after bad ones: %d, want %d: %.300s", g.method, g.path, status, g.status, body)
		}
	}
	if self, _ := h.a.Self(); self.Revision != before.revision+2 || self.Profile.Name != p.Name {
		t.Errorf("after the good changes: revision %d name %q, want %d %q", self.Revision, self.Profile.Name, before.revision+2, p.Name)
	}
}

// manyParams is n URL parameters p0= ... no search knows.
func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "&p%d=", i)
	}
	return b.String()
}

// manyKeys is n JSON object members "k0":1 ... that name no technology.
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":1`, i)
	}
	return b.String()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHostile_console(t *testing.T) {
	h := startHostile(t)
	br := consoletest.NewBrowser(t, h.a)
	br.SignIn(h.a)
	csrf := br.Get("/me").CSRF(t)
	post := func(path, body string) consoletest.Page {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, br.Base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return br.Do(req)
	}
	big := "csrf=" + csrf + "&description=" + strings.Repeat("x", 64<<10)
	cases := []struct {
		name, path, body string
		status           int
		want             []string
	}{
		{"form over 64 KiB", "/me/profile", big, 413, []string{"request body too large"}},
		{"sign-in form over 64 KiB", "/login", big, 413, []string{"request body too large"}},
		{"bad %-escape", "/me/profile", "csrf=" + csrf + "&name=%zz", 400, []string{"invalid URL escape"}},
		{"invalid UTF-8 name", "/me/profile", "csrf=" + csrf + "&name=Hub+%ff&type=EDIH&country=FI&languages=fi", 400,
			[]string{"must be valid UTF-8"}},
		{"wrong type of level", "/me/profile", "csrf=" + csrf + "&name=Hub&type=EDIH&country=FI&languages=fi&technologies.robotics=five", 400,
			[]string{`level must be 1 to 5, got "five"`}},
		{"capacity not a number", "/me/capacity/test-before-invest", "csrf=" + csrf + "&available=three", 400,
			[]string{`must be a whole number, got "three"`}},
		{"capacity of no family", "/me/capacity/teleport", "csrf=" + csrf + "&available=1", 404, []string{"no service family teleport"}},
		{"referral with bad scores and dates", "/refer", "csrf=" + csrf + "&to=hub-b&need.maturity.green=x&consent.until=2026-13-01", 400,
			[]string{`must be a whole number, got "x"`, "must be a date such as 2026-11-22"}},
		{"no CSRF token", "/me/profile", "name=Hub", 403, []string{"security token"}},
	}
	before := h.state()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := post(c.path, c.body)
			if p.Status != c.status {
				t.Fatalf("status %d, want %d:\n%.500s", p.Status, c.status, p.Text())
			}
			for _, w := range c.want {
				if !strings.Contains(p.Text(), w) {
					t.Errorf("page does not say %q:\n%s", w, p.Text())
				}
			}
			if after := h.state(); after != before {
				t.Fatalf("stored something:\nbefore %+v\nafter  %+v", before, after)
			}
			h.answersGood()
		})
	}
	// A search whose query string does not decode is refused, not run without the
	// parameters that did not.
	if p := br.Get("/search?tech=robotics&region=FI%1"); p.Status != http.StatusBadRequest ||
		!strings.Contains(p.Text(), `invalid URL escape "%1"`) {
		t.Errorf("search with a bad %%-escape: %d\n%.500s", p.Status, p.Text())
	}
	// The session still works.
	if p := br.Get("/me"); p.Status != http.StatusOK {
		t.Fatalf("GET /me after bad forms: %d", p.Status)
	}
}

// natsReply is what a hostile NATS message must get back.
type natsReply int

const (
	replyNone       natsReply = iota // dropped and counted, no answer
	replyError                       // a signed wire error from hub-a, and maybe a counted drop
	replyRefused                     // a signed referral-ack of hub-a that refuses the message
	replyProfile                     // hub-a's signed profile: the request's body is not read
	replyNoResponse                  // nobody listens on the subject
	refusedByClient                  // the client library refuses to send it
)

// signedNow signs body as typ from identity id to hub to, at now, sealed as signed
// seals it.
func signedNow(t *testing.T, id protocol.Identity, typ, to string, body any) []byte {
	t.Helper()
	return signed(t, id, typ, to, body, time.Now())
}

// offerFrom is an offer of a new referral from hub-b to hub-a.
func offerFrom(t *testing.T) protocol.ReferralOffer {
	t.Helper()
	now := time.Now().UTC()
	req := referralTo("hub-a")
	r := protocol.Referral{V: protocol.Version, ID: uuid.Must(uuid.NewV7()).String(), From: "hub-b", To: "hub-a", Created: now,
		State: protocol.StateDraft, Need: req.Need, Consent: req.Consent, AckBy: now.Add(time.Hour), DecideBy: now.Add(24 * time.Hour),
		History: []protocol.Change{}}
	if err := r.Apply(protocol.EventSend, protocol.RoleSender, "hub-b", now, ""); err != nil {
		t.Fatal(err)
	}
	return protocol.ReferralOffer{V: protocol.Version, Referral: r}
}

// rawEnvelope is an envelope written by hand, with fields as JSON text.
func rawEnvelope(v, from, to, body string) []byte {
	return []byte(`{"v":` + v + `,"id":"` + uuid.Must(uuid.NewV7()).String() + `","type":"referral-offer","from":"` + from +
		`","to":"` + to + `","time":"` + time.Now().UTC().Format(time.RFC3339Nano) + `","body":` + body + `,"sig":"AAAA"}`)
}

func TestHostile_NATS(t *testing.T) {
	h := startHostile(t)
	stranger, err := protocol.NewIdentity("hub-x", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	offer99 := offerFrom(t)
	offer99.V = 99
	badSig := func() []byte {
		env, err := protocol.OpenEnvelope(signedNow(t, h.bID, protocol.TypeReferralOffer, "hub-a", offerFrom(t)))
		if err != nil {
			t.Fatal(err)
		}
		env.Sig[0] ^= 0xff
		b, _ := env.Marshal()
		return b
	}()
	bigOffer := offerFrom(t)
	bigOffer.Referral.Need.Description = strings.Repeat("x", protocol.MaxEnvelopeSize)
	referral, query, hint := protocol.ReferralSubject("hub-a"), protocol.SubjectQuery, protocol.SubjectProfileEvent
	hint99 := protocol.ProfileHint{V: 1, ID: "hub-b", Revision: 1}

	cases := []struct {
		name, subject string
		data          []byte
		reply         natsReply
		want          string // in the wire error's message or the ack's error
	}{
		{"referral: malformed JSON", referral, []byte(`{"v":1,"id":`), replyNone, ""},
		{"referral: wrong types", referral, []byte(`{"v":"1","id":5,"from":["hub-b"]}`), replyNone, ""},
		{"referral: envelope version 99", referral, rawEnvelope("99", "hub-b", "hub-a", `{}`), replyNone, ""},
		{"referral: invalid UTF-8 in from", referral, rawEnvelope("1", "hub-\xff", "hub-a", `{}`), replyNone, ""},
		{"referral: deep nesting", referral, rawEnvelope("1", "hub-b", "hub-a", nest(10001, "1")), replyNone, ""},
		{"referral: over 256 KiB", referral, signedNow(t, h.bID, protocol.TypeReferralOffer, "hub-a", bigOffer), replyNone, ""},
		{"referral: over 1 MiB", referral, bytes.Repeat([]byte(" "), 1<<20+1), refusedByClient, ""},
		{"referral: bad signature", referral, badSig, replyNone, ""},
		{"referral: to another hub", referral, signedNow(t, h.bID, protocol.TypeReferralOffer, "hub-c", offerFrom(t)), replyNone, ""},
		{"referral: from a stranger", referral, signedNow(t, stranger, protocol.TypeReferralOffer, "hub-a", offerFrom(t)), replyError,
			"from hub-x, not an admitted member seen here"},
		{"referral: body of the wrong types", referral, signedNow(t, h.bID, protocol.TypeReferralOffer, "hub-a",
			json.RawMessage(`{"v":1,"referral":"0196cdb2-4b00-7abc-8def-0123456789ab"}`)), replyNone, ""},
		{"referral: offer version 99", referral, signedNow(t, h.bID, protocol.TypeReferralOffer, "hub-a", offer99), replyRefused,
			"v: must be 1"},
		{"referral: event of no referral", referral, signedNow(t, h.bID, protocol.TypeReferralEvent, "hub-a",
			protocol.ReferralEvent{V: 1, Referral: uuid.Must(uuid.NewV7()).String(), Event: protocol.EventCancel, At: time.Now(),
				Reason: "consent-withdrawn"}), replyRefused, "no referral"},
		{"referral: event with deep nesting in an unknown field", referral, signedNow(t, h.bID, protocol.TypeReferralEvent, "hub-a",
			json.RawMessage(`{"v":1,"x":`+nest(5000, "1")+`}`)), replyNone, ""},
		{"referral: a hint on the referral subject", referral, signedNow(t, h.bID, protocol.TypeProfileHint, "hub-a", hint99), replyNone, ""},
		{"query: malformed JSON", query, []byte(`{`), replyNone, ""},
		{"query: from a stranger", query, signedNow(t, stranger, protocol.TypeQuery, "", protocol.Query{}), replyNone, ""},
		{"query: version 99", query, signedNow(t, h.bID, protocol.TypeQuery, "", protocol.Query{V: 99}), replyError, "v: must be 1"},
		{"query: wrong types", query, signedNow(t, h.bID, protocol.TypeQuery, "", json.RawMessage(`{"technologies":"robotics"}`)),
			replyError, "cannot unmarshal string"},
		{"query: unknown values", query, signedNow(t, h.bID, protocol.TypeQuery, "",
			protocol.Query{Technologies: []string{"teleport"}, Limit: 9999}), replyError, "technologies.0"},
		{"query: an offer on the query subject", query, signedNow(t, h.bID, protocol.TypeReferralOffer, "", offerFrom(t)), replyNone, ""},
		{"hint: malformed JSON", hint, []byte(`{"v":1,`), replyNone, ""},
		{"hint: envelope version 99", hint, rawEnvelope("99", "hub-b", "", `{}`), replyNone, ""},
		{"hint: wrong types", hint, signedNow(t, h.bID, protocol.TypeProfileHint, "", json.RawMessage(`{"v":1,"id":"hub-b","revision":"new"}`)),
			replyNone, ""},
		{"hint: for another hub", hint, signedNow(t, h.bID, protocol.TypeProfileHint, "", protocol.ProfileHint{V: 1, ID: "hub-a", Revision: 99}),
			replyNone, ""},
		{"hint: bad signature", hint, func() []byte {
			b := signedNow(t, h.bID, protocol.TypeProfileHint, "", hint99)
			return bytes.Replace(b, []byte(`"revision":1`), []byte(`"revision":2`), 1)
		}(), replyNone, ""},
		{"profile request: malformed body", protocol.ProfileSubject("hub-a"), []byte(`{"v":`), replyError, "profile request"},
		{"profile request: version 99", protocol.ProfileSubject("hub-a"), []byte(`{"v":99}`), replyError, "version 99"},
		{"query: addressed to one hub on its own subject", protocol.QuerySubject("hub-a"), signedNow(t, h.bID, protocol.TypeQuery, "hub-a", protocol.Query{}),
			replyNone, ""},
	}
	before := h.state()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inbox := nats.NewInbox()
			sub, err := h.nc.SubscribeSync(inbox + ".>")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			dropped := h.dropped()
			// A live query's answers go to <inbox>.<query ID>, as an asking hub has them.
			msg := &nats.Msg{Subject: c.subject, Reply: inbox + ".1", Data: c.data}
			switch c.reply {
			case refusedByClient:
				if err := h.nc.PublishMsg(msg); !errors.Is(err, nats.ErrMaxPayload) {
					t.Fatalf("publish %d bytes: got %v, want %v", len(c.data), err, nats.ErrMaxPayload)
				}
				h.answersGood()
				return
			case replyNoResponse:
				if _, err := h.nc.Request(c.subject, c.data, 2*time.Second); !errors.Is(err, nats.ErrNoResponders) {
					t.Fatalf("request: got %v, want %v", err, nats.ErrNoResponders)
				}
				h.answersGood()
				return
			}
			if err := h.nc.PublishMsg(msg); err != nil {
				t.Fatal(err)
			}
			h.nc.Flush()
			if c.reply == replyNone {
				nodetest.Eventually(t, 5*time.Second, func() error {
					if got := h.dropped(); got <= dropped {
						return fmt.Errorf("hubnet_dropped_messages_total %v, want more than %v", got, dropped)
					}
					return nil
				})
			} else {
				env := h.replyFromA(t, sub)
				switch c.reply {
				case replyError:
					var we *protocol.Error
					if err := env.Decode(nil); !errors.As(err, &we) || !strings.Contains(we.Message, c.want) {
						t.Fatalf("reply %s %s, want a wire error saying %q", env.Type, env.Body, c.want)
					}
				case replyRefused:
					var ack protocol.ReferralAck
					if env.Type != protocol.TypeReferralAck || env.Decode(&ack) != nil || ack.Result != protocol.AckRefused ||
						!strings.Contains(ack.Error, c.want) {
						t.Fatalf("reply %s %s, want a refusal saying %q", env.Type, env.Body, c.want)
					}
				case replyProfile:
					if _, err := protocol.OpenProfile(env, h.aKey); err != nil {
						t.Fatalf("reply %s: %v", env.Type, err)
					}
				}
			}
			if after := h.state(); after != before {
				t.Fatalf("stored something:\nbefore %+v\nafter  %+v", before, after)
			}
			h.answersGood()
		})
	}

	// A genuine referral from hub-b still gets through.
	sent, err := h.b.Refer(referralTo("hub-a"))
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, h.a, sent.Referral.ID, protocol.StateReceived)
}

// replyFromA waits for the reply of hub-a among those sub gets (other hubs answer a
// live query too) and checks it is signed by hub-a.
func (h *hostile) replyFromA(t *testing.T, sub *nats.Subscription) protocol.Envelope {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			t.Fatalf("no reply from hub-a: %v", err)
		}
		env, err := protocol.OpenEnvelope(m.Data)
		if err != nil {
			t.Fatalf("reply %q: %v", m.Data, err)
		}
		if env.From != "hub-a" {
			continue
		}
		if err := env.Verify(h.aKey); err != nil {
			t.Fatalf("reply not signed by hub-a: %v", err)
		}
		if err := env.Unseal(h.bID); err != nil {
			t.Fatalf("reply of hub-a to hub-b: %v", err)
		}
		return env
	}
}

// The tests below check rules that the node does not keep yet, in files this change
// does not touch; each is skipped with the bug it shows. Delete the Skip to run it.

// Unknown versions are refused with a wire error {code, message} (docs/protocol.md:
// "unknown versions are refused"). A profile request of version 99, or one that is not
// JSON, is answered with the profile.
func TestHostile_profileRequestVersionRefused(t *testing.T) {
	h := startHostile(t)
	for _, c := range []struct{ body, code string }{
		{`{"v":99}`, protocol.CodeUnknownVersion},
		{`{"v":`, protocol.CodeBadRequest},
	} {
		m, err := h.nc.Request(protocol.ProfileSubject("hub-a"), []byte(c.body), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		env, err := protocol.OpenEnvelope(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		var we *protocol.Error
		if err := env.Decode(nil); !errors.As(err, &we) || we.Code != c.code {
			t.Errorf("request %s: got a %s reply (%v), want a wire error %s", c.body, env.Type, err, c.code)
		}
	}
}

// Unknown versions are refused (docs/protocol.md). A profile hint of version 99 is
// taken as a hint: nothing counts it as dropped.
func TestHostile_profileHintVersionRefused(t *testing.T) {
	h := startHostile(t)
	dropped := h.dropped()
	self, _ := h.b.Self()
	body := protocol.ProfileHint{V: 99, ID: "hub-b", Revision: self.Revision}
	if err := h.nc.Publish(protocol.SubjectProfileEvent, signedNow(t, h.bID, protocol.TypeProfileHint, "", body)); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 5*time.Second, func() error {
		if got := h.dropped(); got <= dropped {
			return fmt.Errorf("hubnet_dropped_messages_total %v, want more than %v", got, dropped)
		}
		return nil
	})
}

// What is wrong is refused. An offer signed by a hub of the network whose need holds
// bytes that are not UTF-8 is stored, the bytes replaced by U+FFFD, though the need's
// check says "must be valid UTF-8".
func TestHostile_signedInvalidUTF8Refused(t *testing.T) {
	t.Skip("bug: protocol.Envelope.Decode (protocol/envelope.go) turns invalid UTF-8 in a body into U+FFFD instead of refusing it")
	h := startHostile(t)
	offer := offerFrom(t)
	offer.Referral.Need.Description = "MARK"
	body, err := json.Marshal(offer)
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.Replace(body, []byte("MARK"), []byte("Vision \xff\xfe line"), 1)
	m, err := h.nc.Request(protocol.ReferralSubject("hub-a"), signedNow(t, h.bID, protocol.TypeReferralOffer, "hub-a", json.RawMessage(body)), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	env, err := protocol.OpenEnvelope(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Unseal(h.bID); err != nil {
		t.Fatal(err)
	}
	var ack protocol.ReferralAck
	if err := env.Decode(&ack); err != nil || ack.Result != protocol.AckRefused || !strings.Contains(ack.Error, "need.description") {
		t.Errorf("got %+v (%v), want a refusal naming need.description", ack, err)
	}
	if _, err := h.a.Referral(offer.Referral.ID); err == nil {
		t.Errorf("hub-a stored the referral")
	}
}

// A hint of a revision the hub does not have (hub-b restored from an old backup, say)
// makes hub-a fetch hub-b's profile on every tick of its loop, for as long as it runs.
func TestHostile_hintAboveRevisionFetchesOnce(t *testing.T) {
	h := startHostile(t)
	fetches := func() float64 {
		resp, err := http.Get(h.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, `hubnet_profile_fetches_total{result="ok",source="owner"} `); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
		return 0
	}
	before := fetches()
	hint := protocol.ProfileHint{V: 1, ID: "hub-b", Revision: 1000}
	if err := h.nc.Publish(protocol.SubjectProfileEvent, signedNow(t, h.bID, protocol.TypeProfileHint, "", hint)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // a rate, measured over a window: the loop ticks every 250 ms in tests
	if got := fetches() - before; got > 3 {
		t.Errorf("%v profile fetches in 3 s after one hint, want at most a few", got)
	}
}

// Unknown versions are refused with a wire error {code, message}. A referral message
// in an envelope of version 99 is dropped without an answer, so its sender waits for
// its timeout and tries again, and again.
func TestHostile_unknownVersionAnswered(t *testing.T) {
	h := startHostile(t)
	m, err := h.nc.Request(protocol.ReferralSubject("hub-a"), rawEnvelope("99", "hub-b", "hub-a", `{}`), 2*time.Second)
	if err != nil {
		t.Fatalf("got %v, want a wire error unknown-version", err)
	}
	env, err := protocol.OpenEnvelope(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	var we *protocol.Error
	if err := env.Decode(nil); !errors.As(err, &we) || we.Code != protocol.CodeUnknownVersion {
		t.Errorf("got %v, want a wire error unknown-version", err)
	}
}
