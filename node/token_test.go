package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/internal/faultfs"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// A node refuses to start with an empty token file, saying so, rather than run with a
// token nobody can give.
func TestNew_emptyTokenFileRefused(t *testing.T) {
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
