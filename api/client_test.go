package api_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// clientOf returns a client of hub h with its operator token.
func clientOf(t *testing.T, h *nodetest.Hub) *api.Client {
	t.Helper()
	tok, err := node.ReadToken(h.Dir)
	if err != nil {
		t.Fatalf("read token of %s: %v", h.ID(), err)
	}
	return clientWith(t, h, tok)
}

// clientWith returns a client of hub h that sends token.
func clientWith(t *testing.T, h *nodetest.Hub, token string) *api.Client {
	t.Helper()
	c, err := api.NewClient("http://"+h.HTTPAddr()+"/", token)
	if err != nil {
		t.Fatalf("new client of %s: %v", h.ID(), err)
	}
	return c
}

// twoHubs starts hub-1 and hub-2 in one network and waits until each has the other in
// its directory.
func twoHubs(t *testing.T) (a, b *nodetest.Hub) {
	t.Helper()
	hubs := nodetest.StartN(t, nodetest.Network(t), 2)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return hubs[0], hubs[1]
}

// oneHub starts hub-1 alone.
func oneHub(t *testing.T) (protocol.Network, *nodetest.Hub) {
	t.Helper()
	netw := nodetest.Network(t)
	p := nodetest.Profile("hub-1")
	return netw, nodetest.Start(t, netw, "hub-1", &p)
}

// referralTo is a valid referral of a small food company in Keski-Suomi to hub to.
func referralTo(to string) api.ReferralRequest {
	now := time.Now()
	return api.ReferralRequest{
		To: to,
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall,
			Family: protocol.FamilyTestBeforeInvest, Technologies: []string{"ai-decision-support"},
			Description: "Wants to test machine vision for quality control on a bakery line."},
		SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: to,
			Purpose: "referral for AI test-before-invest services", Until: now.Add(90 * 24 * time.Hour)},
	}
}

// wantAPIError fails the test unless err is an *api.Error with status and code, and
// returns it.
func wantAPIError(t *testing.T, err error, status int, code string) *api.Error {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want an *api.Error", err, err)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("got %d %q (%s), want %d %q", e.Status, e.Code, e.Message, status, code)
	}
	if e.Message == "" || e.Error() != e.Message {
		t.Errorf("message %q, Error() %q: want the node's message", e.Message, e.Error())
	}
	return e
}

func TestClient_Health(t *testing.T) {
	_, h := oneHub(t)
	got, err := clientOf(t, h).Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != (api.Health{ID: "hub-1", Peers: 0, Status: "ok"}) {
		t.Errorf("got %+v, want hub-1 ok with 0 peers", got)
	}
}

func TestClient_Self(t *testing.T) {
	_, h := oneHub(t)
	s, err := clientOf(t, h).Self(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "hub-1" || s.Network != "testnet" || s.Profile == nil || s.Profile.Name != "Hub hub-1" || s.Revision == 0 {
		t.Errorf("got %+v, want hub-1 of testnet with its profile", s)
	}
	if s.Addrs.HTTP != h.HTTPAddr() || !s.Cert.Valid {
		t.Errorf("got addresses %+v and certificate %+v, want %s and a valid certificate", s.Addrs, s.Cert, h.HTTPAddr())
	}
}

func TestClient_Hubs(t *testing.T) {
	a, _ := twoHubs(t)
	c := clientOf(t, a)
	ctx := context.Background()
	hubs, err := c.Hubs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hubs) != 2 || hubs[0].ID != "hub-1" || !hubs[0].Self || hubs[1].ID != "hub-2" || !hubs[1].Reachable {
		t.Fatalf("got %+v, want hub-1 (self) and hub-2, reachable", hubs)
	}
	h, err := c.Hub(ctx, "hub-2")
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != "hub-2" || h.Profile.Name != "Hub hub-2" {
		t.Errorf("got %+v, want hub-2 with its profile", h)
	}
	peers, err := c.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 2 || peers[0].ID != "hub-1" || peers[1].ID != "hub-2" || peers[1].State != "alive" {
		t.Errorf("got peers %+v, want hub-1 and hub-2 alive", peers)
	}
}

func TestClient_Hub_notFound(t *testing.T) {
	_, h := oneHub(t)
	_, err := clientOf(t, h).Hub(context.Background(), "no/such hub")
	e := wantAPIError(t, err, http.StatusNotFound, protocol.CodeNotFound)
	if !errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("errors.Is(%v, protocol.ErrNotFound) = false, want true", err)
	}
	if e.Method != http.MethodGet || e.Path != "/v1/hubs/no%2Fsuch%20hub" {
		t.Errorf("got request %s %s, want GET /v1/hubs/no%%2Fsuch%%20hub", e.Method, e.Path)
	}
}

func TestClient_PutProfile(t *testing.T) {
	_, h := oneHub(t)
	c := clientOf(t, h)
	ctx := context.Background()
	p := nodetest.Profile("")
	p.Name = "Renamed hub"
	saved, err := c.PutProfile(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if saved.ID != "hub-1" || saved.Name != "Renamed hub" || saved.Revision != 2 {
		t.Errorf("got %s %q revision %d, want hub-1 \"Renamed hub\" revision 2", saved.ID, saved.Name, saved.Revision)
	}

	p.Country = "XX"
	_, err = c.PutProfile(ctx, p)
	e := wantAPIError(t, err, http.StatusBadRequest, protocol.CodeBadRequest)
	if !slices.ContainsFunc(e.Problems, func(p protocol.FieldError) bool { return p.Field == "country" }) {
		t.Errorf("got problems %+v, want one of country", e.Problems)
	}
}

func TestClient_SetCapacity(t *testing.T) {
	_, h := oneHub(t)
	n, maximum := 1, 7
	saved, err := clientOf(t, h).SetCapacity(context.Background(), protocol.FamilySkills, api.CapacityChange{Available: &n, Maximum: &maximum})
	if err != nil {
		t.Fatal(err)
	}
	got := saved.Capacity[protocol.FamilySkills]
	if got.Available != 1 || got.Maximum != 7 || got.Unit != "SMEs per month" {
		t.Errorf("got %+v, want 1 of 7 SMEs per month", got)
	}
}

// TestClient_SetCapacity_invalid checks the error of a 400 with field problems.
func TestClient_SetCapacity_invalid(t *testing.T) {
	_, h := oneHub(t)
	_, err := clientOf(t, h).SetCapacity(context.Background(), "no-such-family", api.CapacityChange{})
	e := wantAPIError(t, err, http.StatusBadRequest, protocol.CodeBadRequest)
	want := []protocol.FieldError{{Field: "family", Rule: `"no-such-family" is not a service family such as test-before-invest or skills-and-training`}}
	if !slices.Equal(e.Problems, want) {
		t.Errorf("got problems %+v, want %+v", e.Problems, want)
	}
	if !errors.Is(err, protocol.ErrInvalid) || errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("errors.Is(%v, ErrInvalid / ErrNotFound): want true / false", err)
	}
	if e.Method != http.MethodPut || e.Path != "/v1/self/capacity/no-such-family" {
		t.Errorf("got request %s %s, want PUT /v1/self/capacity/no-such-family", e.Method, e.Path)
	}
}

func TestClient_Search(t *testing.T) {
	a, _ := twoHubs(t)
	q := protocol.Query{Technologies: []string{"ai-decision-support"}, Family: protocol.FamilyTestBeforeInvest,
		Languages: []string{"fi", "en"}, Types: []protocol.HubType{protocol.HubEDIH, protocol.HubDIH}, MinCapacity: 1, Limit: 5}
	res, err := clientOf(t, a).Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || len(res.Hits) != 1 || res.Hits[0].ID != "hub-2" || res.Live != nil {
		t.Fatalf("got %+v, want hub-2 alone, not live", res)
	}
	if got := res.Query; !slices.Equal(got.Technologies, q.Technologies) || !slices.Equal(got.Languages, q.Languages) ||
		!slices.Equal(got.Types, q.Types) || got.MinCapacity != 1 || got.Limit != 5 || got.Family != q.Family {
		t.Errorf("the node read the query as %+v, want %+v", got, q)
	}

	_, err = clientOf(t, a).Search(context.Background(), protocol.Query{Technologies: []string{"no-such-technology"}})
	wantAPIError(t, err, http.StatusBadRequest, protocol.CodeBadRequest)
}

func TestClient_Query(t *testing.T) {
	a, _ := twoHubs(t)
	res, err := clientOf(t, a).Query(context.Background(), api.LiveQuery{
		Query: protocol.Query{Family: protocol.FamilyTestBeforeInvest}, TimeoutMS: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Live == nil || !slices.Equal(res.Live.Answered, []string{"hub-2"}) || len(res.Hits) != 1 || !res.Hits[0].Answered {
		t.Errorf("got %+v, live %+v, want hub-2 answering", res, res.Live)
	}
}

// TestClient_Refer follows a referral through the client: sent, listed, accepted,
// completed and counted in the report.
func TestClient_Refer(t *testing.T) {
	a, b := twoHubs(t)
	ca, cb := clientOf(t, a), clientOf(t, b)
	ctx := context.Background()
	sent, err := ca.Refer(ctx, referralTo("hub-2"))
	if err != nil {
		t.Fatal(err)
	}
	id := sent.Referral.ID
	if sent.Role != protocol.RoleSender || sent.Partner != "hub-2" || sent.Referral.State != protocol.StateRequested {
		t.Fatalf("got %+v, want a referral requested of hub-2", sent)
	}
	got, err := ca.Referral(ctx, id)
	if err != nil || got.Referral.ID != id {
		t.Fatalf("referral %s: got %+v, %v", id, got.Referral.ID, err)
	}

	nodetest.Eventually(t, 10*time.Second, func() error {
		info, err := cb.Referral(ctx, id)
		if err != nil {
			return err
		}
		if info.Referral.State != protocol.StateReceived {
			return fmt.Errorf("hub-2 holds it as %s", info.Referral.State)
		}
		return nil
	})
	// Days around today, so that a test run at midnight UTC passes too.
	yesterday := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	tomorrow := yesterday.AddDate(0, 0, 2)
	for _, tc := range []struct {
		name string
		q    api.ReferralQuery
		want int
	}{
		{"all", api.ReferralQuery{}, 1},
		{"received", api.ReferralQuery{Direction: "in", State: protocol.StateReceived, Partner: "hub-1"}, 1},
		{"sent", api.ReferralQuery{Direction: "out"}, 0},
		{"created in the last days", api.ReferralQuery{From: yesterday, To: tomorrow}, 1},
		{"created at an RFC 3339 time", api.ReferralQuery{From: time.Now().Add(-time.Hour).In(time.FixedZone("EET", 2*3600))}, 1},
		{"created after tomorrow", api.ReferralQuery{From: tomorrow}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := cb.Referrals(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != tc.want {
				t.Errorf("got %d referrals, want %d", len(list), tc.want)
			}
		})
	}

	for _, ev := range []protocol.Event{protocol.EventAccept, protocol.EventStart, protocol.EventComplete} {
		a := api.ReferralAction{Note: "done through the API client"}
		if ev == protocol.EventComplete {
			a.Outcome = "service-delivered"
		}
		info, err := cb.Act(ctx, id, ev, a)
		if err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		if info.Role != protocol.RoleReceiver {
			t.Errorf("%s: got role %s, want receiver", ev, info.Role)
		}
	}

	from, to := yesterday, tomorrow
	rep, err := cb.Report(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Hub != "hub-2" || rep.ServicesDelivered != 1 || rep.Collaborations != 1 || !rep.From.Equal(from) || !rep.To.Equal(to) {
		t.Errorf("got report %+v, want one service delivered and one collaboration of hub-2 in [%v, %v)", rep, from, to)
	}
	csv, err := cb.ReportCSV(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "kind,referral,") {
		t.Errorf("got CSV %q, want a header and two records", csv)
	}
	_, err = cb.Report(ctx, to, from)
	wantAPIError(t, err, http.StatusBadRequest, protocol.CodeBadRequest)
}

func TestClient_Refer_invalid(t *testing.T) {
	_, h := oneHub(t)
	req := referralTo("hub-1") // itself
	req.SME.ContactEmail = "not an address"
	_, err := clientOf(t, h).Refer(context.Background(), req)
	e := wantAPIError(t, err, http.StatusBadRequest, protocol.CodeBadRequest)
	for _, field := range []string{"to", "sme.contact_email"} {
		if !slices.ContainsFunc(e.Problems, func(p protocol.FieldError) bool { return p.Field == field }) {
			t.Errorf("got problems %+v, want one of %s", e.Problems, field)
		}
	}
	if !errors.Is(err, protocol.ErrInvalid) {
		t.Errorf("errors.Is(%v, protocol.ErrInvalid) = false, want true", err)
	}
}

func TestClient_Referral_notFound(t *testing.T) {
	_, h := oneHub(t)
	_, err := clientOf(t, h).Referral(context.Background(), "0190c6d4-0000-7000-8000-000000000000")
	wantAPIError(t, err, http.StatusNotFound, protocol.CodeNotFound)
	if !errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("errors.Is(%v, protocol.ErrNotFound) = false, want true", err)
	}
}

// TestClient_Act_notAllowed checks the error of an action the lifecycle refuses.
func TestClient_Act_notAllowed(t *testing.T) {
	a, _ := twoHubs(t)
	ca := clientOf(t, a)
	ctx := context.Background()
	sent, err := ca.Refer(ctx, referralTo("hub-2"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ca.Act(ctx, sent.Referral.ID, protocol.EventAccept, api.ReferralAction{})
	wantAPIError(t, err, http.StatusConflict, api.CodeNotAllowed)
	if !errors.Is(err, &api.Error{Code: api.CodeNotAllowed}) || errors.Is(err, &api.Error{Status: http.StatusNotFound}) {
		t.Errorf("errors.Is(%v, not-allowed / 404): want true / false", err)
	}
	if errors.Unwrap(err) != nil {
		t.Errorf("got %v unwrapping to %v, want no protocol sentinel for not-allowed", err, errors.Unwrap(err))
	}
}

// TestClient_unauthorized checks the error of a request without the operator token,
// or with a wrong one.
func TestClient_unauthorized(t *testing.T) {
	_, h := oneHub(t)
	ctx := context.Background()
	for _, token := range []string{"", "not-the-token"} {
		c := clientWith(t, h, token)
		calls := map[string]func() error{
			"Referrals":  func() error { _, err := c.Referrals(ctx, api.ReferralQuery{}); return err },
			"Report":     func() error { _, err := c.Report(ctx, time.Now().AddDate(0, 0, -1), time.Now()); return err },
			"GossipKeys": func() error { _, err := c.GossipKeys(ctx); return err },
			"PutProfile": func() error { _, err := c.PutProfile(ctx, nodetest.Profile("hub-1")); return err },
		}
		for name, call := range calls {
			t.Run(fmt.Sprintf("%s with %q", name, token), func(t *testing.T) {
				err := call()
				wantAPIError(t, err, http.StatusUnauthorized, api.CodeUnauthorized)
				if !errors.Is(err, &api.Error{Status: http.StatusUnauthorized}) {
					t.Errorf("errors.Is(%v, 401) = false, want true", err)
				}
			})
		}
		// Plain reads need no token.
		if _, err := c.Self(ctx); err != nil {
			t.Errorf("self with token %q: %v", token, err)
		}
	}
}

func TestClient_InstallCertificate(t *testing.T) {
	netw, h := oneHub(t)
	c := clientOf(t, h)
	ctx := context.Background()
	before, err := c.Certificate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !before.Installed || !before.Valid {
		t.Fatalf("got %+v, want a valid certificate installed", before)
	}
	s, err := c.Self(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := protocol.Admit(nodetest.Admission(t, netw), s.ID, s.SignKey, s.BoxKey, time.Now(), 2*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	after, err := c.InstallCertificate(ctx, cert)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Valid || !after.NotAfter.After(before.NotAfter) {
		t.Errorf("got %+v, want a valid certificate after %v", after, before.NotAfter)
	}

	other, _ := nodetest.NetworkKey(t)
	wrong, err := protocol.Admit(nodetest.Admission(t, other), s.ID, s.SignKey, s.BoxKey, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.InstallCertificate(ctx, wrong)
	wantAPIError(t, err, http.StatusBadRequest, api.CodeBadCertificate)
}

func TestClient_Revoke(t *testing.T) {
	netw, h := oneHub(t)
	c := clientOf(t, h)
	ctx := context.Background()
	r, err := protocol.Revoke(nodetest.Admission(t, netw), "hub-9", "signing key stolen", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{true, false} {
		res, err := c.Revoke(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if res != (api.RevokeResult{ID: "hub-9", New: want}) {
			t.Errorf("got %+v, want hub-9 new %v", res, want)
		}
	}
	revs, err := c.Revocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1 || revs[0].ID != "hub-9" {
		t.Errorf("got %+v, want the revocation of hub-9", revs)
	}
}

// TestClient_Revoke_badSignature checks a 400 whose problem names the signature.
func TestClient_Revoke_badSignature(t *testing.T) {
	_, h := oneHub(t)
	other, _ := nodetest.NetworkKey(t)
	r, err := protocol.Revoke(nodetest.Admission(t, other), "hub-9", "signing key stolen", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = clientOf(t, h).Revoke(context.Background(), r)
	e := wantAPIError(t, err, http.StatusBadRequest, protocol.CodeBadRequest)
	if len(e.Problems) != 1 || e.Problems[0].Field != "sig" {
		t.Errorf("got problems %+v, want one of sig", e.Problems)
	}
}

func TestClient_ChangeGossipKeys(t *testing.T) {
	_, h := oneHub(t)
	c := clientOf(t, h)
	ctx := context.Background()
	before, err := c.GossipKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	after, err := c.ChangeGossipKeys(ctx, api.GossipKeyChange{Op: "install", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if after.Primary != before.Primary || len(after.Keys) != len(before.Keys)+1 || !slices.Contains(after.Keys, node.KeyFingerprint(key)) {
		t.Errorf("got %+v, want %+v and %s", after, before, node.KeyFingerprint(key))
	}
	_, err = c.ChangeGossipKeys(ctx, api.GossipKeyChange{Op: "install", Key: key[:8]})
	e := wantAPIError(t, err, http.StatusBadRequest, protocol.CodeBadRequest)
	if len(e.Problems) != 1 || e.Problems[0].Field != "key" {
		t.Errorf("got problems %+v, want one of key", e.Problems)
	}
}

// TestClient_WithRawBody checks that the copy keeps the answer as the node sent it.
func TestClient_WithRawBody(t *testing.T) {
	_, h := oneHub(t)
	c := clientOf(t, h)
	var raw []byte
	s, err := c.WithRawBody(&raw).Self(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "{\n  \"id\": \"hub-1\",") || !strings.HasSuffix(string(raw), "}\n") || s.ID != "hub-1" {
		t.Errorf("got %q, want the node's indented JSON of hub-1", raw)
	}
	raw = nil
	if _, err := c.Self(context.Background()); err != nil || raw != nil {
		t.Errorf("the original client recorded %q (%v), want nothing", raw, err)
	}
}

func TestClient_unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := api.NewClient("http://"+addr, "token")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Hubs(context.Background())
	var ue *api.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("got %T %v, want an *api.UnreachableError", err, err)
	}
	var oe *net.OpError
	if ue.URL != "http://"+addr || ue.Method != http.MethodGet || ue.Path != "/v1/hubs" || !errors.As(err, &oe) || oe.Op != "dial" {
		t.Errorf("got %+v, want a failed dial of GET /v1/hubs at http://%s", ue, addr)
	}
	if want := "node at http://" + addr + " is unreachable: dial tcp " + addr + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want it to start %q", err, want)
	}
}

func TestNewClient_badURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:7480", "ftp://127.0.0.1", "http://", "http://[::1"} {
		if _, err := api.NewClient(u, ""); err == nil {
			t.Errorf("NewClient(%q): got no error, want one", u)
		}
	}
}

// TestClient_token checks which requests carry the operator token and what they
// send: plain reads never carry it, changes and private reads do.
func TestClient_token(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]string{} // "METHOD path?query" -> Authorization
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method+" "+r.URL.RequestURI()] = r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}")) // the answers of lists do not decode: this test ignores them
	}))
	defer srv.Close()
	c, err := api.NewClient(srv.URL, "secret")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Health(ctx)
	c.Self(ctx)
	c.Peers(ctx)
	c.Hubs(ctx)
	c.Hub(ctx, "a b")
	c.Search(ctx, protocol.Query{Technologies: []string{"robotics", "ai-decision-support"}, MinCapacity: 2})
	c.Certificate(ctx)
	c.Revocations(ctx)
	c.Query(ctx, api.LiveQuery{})
	c.Referrals(ctx, api.ReferralQuery{Direction: "in", From: day, To: day.Add(90 * time.Minute)})
	c.Referral(ctx, "r1")
	c.Report(ctx, day, day.AddDate(0, 1, 0))
	c.ReportCSV(ctx, day, day.AddDate(0, 1, 0))
	c.GossipKeys(ctx)
	c.PutProfile(ctx, protocol.Profile{})
	c.SetCapacity(ctx, protocol.FamilySkills, api.CapacityChange{})
	c.Refer(ctx, api.ReferralRequest{})
	c.Act(ctx, "r1", protocol.EventAccept, api.ReferralAction{})
	c.InstallCertificate(ctx, protocol.Certificate{})
	c.Revoke(ctx, protocol.Revocation{})
	c.ChangeGossipKeys(ctx, api.GossipKeyChange{})
	want := map[string]string{
		"GET /healthz":       "",
		"GET /v1/self":       "",
		"GET /v1/peers":      "",
		"GET /v1/hubs":       "",
		"GET /v1/hubs/a%20b": "",
		"GET /v1/search?min_capacity=2&tech=robotics%2Cai-decision-support": "",
		"GET /v1/certificate": "",
		"GET /v1/revocations": "",
		"POST /v1/query":      "Bearer secret",
		"GET /v1/referrals?direction=in&from=2026-01-01&to=2026-01-01T01%3A30%3A00Z": "Bearer secret",
		"GET /v1/referrals/r1":                                    "Bearer secret",
		"GET /v1/report?from=2026-01-01&to=2026-02-01":            "Bearer secret",
		"GET /v1/report?format=csv&from=2026-01-01&to=2026-02-01": "Bearer secret",
		"GET /v1/gossip-keys":                                     "Bearer secret",
		"PUT /v1/self/profile":                                    "Bearer secret",
		"PUT /v1/self/capacity/skills-and-training":               "Bearer secret",
		"POST /v1/referrals":                                      "Bearer secret",
		"POST /v1/referrals/r1/accept":                            "Bearer secret",
		"PUT /v1/certificate":                                     "Bearer secret",
		"POST /v1/revocations":                                    "Bearer secret",
		"POST /v1/gossip-keys":                                    "Bearer secret",
	}
	mu.Lock()
	defer mu.Unlock()
	for req, auth := range want {
		got, ok := seen[req]
		switch {
		case !ok:
			t.Errorf("%s: not sent; sent %v", req, seen)
		case got != auth:
			t.Errorf("%s: got Authorization %q, want %q", req, got, auth)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("got %d requests, want %d", len(seen), len(want))
	}
}

// TestClient_notAnErrorBody checks an error answer that is not the API's JSON.
func TestClient_notAnErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream down", http.StatusBadGateway)
	}))
	defer srv.Close()
	c, err := api.NewClient(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Self(context.Background())
	var e *api.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadGateway || e.Code != "" || e.Message != "" {
		t.Fatalf("got %#v, want a 502 without code or message", err)
	}
	if got, want := err.Error(), "node answered 502 Bad Gateway"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if errors.Unwrap(err) != nil {
		t.Errorf("got %v unwrapping to %v, want nothing", err, errors.Unwrap(err))
	}
}

func TestError_Unwrap(t *testing.T) {
	for code, want := range map[string]error{
		protocol.CodeBadRequest:     protocol.ErrInvalid,
		protocol.CodeNotFound:       protocol.ErrNotFound,
		protocol.CodeTooLarge:       protocol.ErrTooLarge,
		protocol.CodeInternal:       protocol.ErrInternal,
		protocol.CodeBadSignature:   protocol.ErrBadSignature,
		protocol.CodeUnknownVersion: protocol.ErrUnknownVersion,
		protocol.CodeWrongRecipient: protocol.ErrWrongRecipient,
		api.CodeUnauthorized:        nil,
		api.CodeNotAllowed:          nil,
		api.CodeStorageFull:         nil,
	} {
		err := fmt.Errorf("wrapped: %w", &api.Error{Status: 400, Code: code, Message: "m"})
		if got := errors.Unwrap(errors.Unwrap(err)); got != want {
			t.Errorf("%s: got %v, want %v", code, got, want)
		}
		if want != nil && !errors.Is(err, want) {
			t.Errorf("%s: errors.Is(err, %v) = false, want true", code, want)
		}
	}
}
