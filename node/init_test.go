package node_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

func TestInitDataDir_invalidProfileWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hub")
	p := nodetest.Profile("hub-init")
	p.Country = "XX"
	_, err := node.InitDataDir(dir, nodetest.Network(t), "hub-init", &p)
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 { // country, and the region outside it
		t.Fatalf("got %v, want a validation error on country and regions", err)
	}
	for _, f := range []string{node.StoreFile, node.TokenFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s written for an invalid profile (%v)", f, err)
		}
	}
	// The same directory can then be initialised with a valid profile.
	p = nodetest.Profile("hub-init")
	res, err := node.InitDataDir(dir, nodetest.Network(t), "hub-init", &p)
	if err != nil || res.Revision != 1 || len(res.SignKey) != 32 {
		t.Fatalf("init after a refused one: %+v, %v", res, err)
	}
	if _, err := node.InitDataDir(dir, nodetest.Network(t), "hub-init", nil); !errors.Is(err, node.ErrInitialised) {
		t.Fatalf("second init: got %v, want ErrInitialised", err)
	}
	token, err := node.ReadToken(dir)
	if err != nil || len(token) != 64 {
		t.Fatalf("token %q, %v", token, err)
	}
}
