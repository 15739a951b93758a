package node_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/internal/faultfs"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// An empty token file, as a crash or a disk error soon after `hubnet init` can leave
// (see TestInitDataDir_tokenSurvivesDiskError), lets nobody in: not the console with
// an empty token, not the API with an empty bearer.
func TestConsole_emptyTokenFileLetsNobodyIn(t *testing.T) {
	dir := t.TempDir()
	p := nodetest.Profile("hub-empty")
	if _, err := node.InitDataDir(dir, nodetest.Network(t), "hub-empty", &p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, node.TokenFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h := nodetest.StartConfig(t, nodetest.Config(dir))

	br := newBrowser(t, h)
	login := br.get("/login")
	if p := br.post("/login", url.Values{"csrf": {login.csrf(t)}, "token": {""}, "next": {"/me"}}); p.status != http.StatusUnauthorized {
		t.Errorf("console sign-in with an empty token: %d, want 401", p.status)
	}
	wantRedirect(t, "after an empty token", br.get("/me"), "/login?next=%2Fme")

	for _, auth := range []string{"Bearer ", "Bearer", ""} {
		req, _ := http.NewRequest("PUT", "http://"+h.HTTPAddr()+"/v1/self/capacity/test-before-invest", strings.NewReader(`{"available":0}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API write with Authorization %q: %d, want 401", auth, resp.StatusCode)
		}
	}
}

// A node refuses to start with an empty token file, saying so, rather than run with a
// token nobody can give.
func TestNew_emptyTokenFileRefused(t *testing.T) {
	t.Skip("node.New accepts an empty token file (node/node.go newNode/ReadToken); it should refuse it and say how to make a new token")
	dir := t.TempDir()
	if _, err := node.InitDataDir(dir, nodetest.Network(t), "hub-empty", nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, node.TokenFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(nodetest.Config(dir))
	if err == nil {
		n.Shutdown()
		t.Fatal("node started with an empty token file")
	}
	if !strings.Contains(err.Error(), "token") {
		t.Errorf("error %q does not name the token file", err)
	}
}

// `hubnet init` makes its files durable before it returns: a disk error a moment
// later, which loses what is only in the page cache, leaves the token and the store.
func TestInitDataDir_tokenSurvivesDiskError(t *testing.T) {
	t.Skip("InitDataDir writes the token without fsync and never syncs the data directory (node/node.go writeToken): a disk error or power cut within seconds of init loses the token, or leaves it empty")
	faultfs.Run(t, func(t *testing.T) {
		vol := faultfs.FailingExt4(t, 32<<20)
		dir := filepath.Join(vol.Dir, "hub")
		if _, err := node.InitDataDir(dir, nodetest.Network(t), "hub-durable", nil); err != nil {
			t.Fatal(err)
		}
		want, err := node.ReadToken(dir)
		if err != nil || want == "" {
			t.Fatalf("token %q, %v", want, err)
		}
		vol.Fail(t)
		vol.Repair(t)
		if got, err := node.ReadToken(dir); err != nil || got != want {
			t.Errorf("token after a disk error: %q, %v; want the one init wrote", got, err)
		}
		if _, err := os.Stat(filepath.Join(dir, node.StoreFile)); err != nil {
			t.Errorf("store after a disk error: %v", err)
		}
	})
}
