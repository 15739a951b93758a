package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/internal/synth"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

var csrfValue = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// BenchmarkConsole_pages renders each console page on the server, with a directory
// of 457 hubs (the size of the EC's catalogue), through the node's handler: the
// server's work per page, without the network.
func BenchmarkConsole_pages(b *testing.B) {
	dir := b.TempDir()
	p := nodetest.Profile("advisor-hub")
	if _, err := node.InitDataDir(dir, nodetest.Network(b), p.ID, &p); err != nil { // standalone: no admission needed
		b.Fatal(err)
	}
	hubs := synth.Profiles(457, 11)
	if err := synth.FillDirectory(dir, hubs); err != nil {
		b.Fatal(err)
	}
	h := nodetest.StartConfig(b, nodetest.Config(dir))
	handler := h.Handler()
	cookies := consoleSession(b, handler, h)

	for _, page := range []struct{ name, path string }{
		{"search", "/search?tech=ai-decision-support&family=test-before-invest&region=FI1C1&reach=anywhere&limit=50"},
		{"search-empty-form", "/search"},
		{"hub", "/hubs/" + hubs[0].ID},
		{"refer-form", "/refer?to=" + hubs[0].ID},
		{"referrals", "/referrals"},
		{"me", "/me"},
		{"reports", "/reports"},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d\n%s", page.path, rec.Code, rec.Body)
				}
			}
		})
	}
}

// consoleSession signs in to the console through handler and returns the cookies.
func consoleSession(tb testing.TB, handler http.Handler, h *nodetest.Hub) []*http.Cookie {
	tb.Helper()
	token, err := node.ReadToken(h.Dir)
	if err != nil {
		tb.Fatal(err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	m := csrfValue.FindStringSubmatch(rec.Body.String())
	if m == nil {
		tb.Fatalf("no csrf field on the login page")
	}
	cookies := rec.Result().Cookies()
	form := url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/me"}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		tb.Fatalf("sign in: %d\n%s", rec.Code, rec.Body)
	}
	return append(cookies, rec.Result().Cookies()...)
}
