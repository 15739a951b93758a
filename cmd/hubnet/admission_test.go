package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// admitLine finds the admit command init printed and returns its arguments.
func admitLine(t *testing.T, out string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == "hubnet" && f[1] == "network" && f[2] == "admit" {
			return f[1:]
		}
	}
	t.Fatalf("no admit command in:\n%s", out)
	return nil
}

// The steward's workflow, as the operators type it: create the network, init a hub
// (which prints the admit command), admit it, install the certificate, run; a hub not
// admitted stays outside; revoke one, and the others drop it.
func TestCLI_admission(t *testing.T) {
	root := t.TempDir()
	netFile, keyFile := filepath.Join(root, "network.json"), filepath.Join(root, "admission.key")
	mustHubnet(t, "network", "create", "testnet", "-o", netFile, "--key", keyFile)
	netData, _ := os.ReadFile(netFile)
	if strings.Contains(string(netData), `"key"`) || !strings.Contains(string(netData), "admission_keys") {
		t.Fatalf("network.json:\n%s\nwant the admission public key and no private key", netData)
	}

	ids := []string{"hub-a", "hub-b", "hub-c", "hub-x"}
	dirs := map[string]string{}
	for i, id := range ids {
		dirs[id] = filepath.Join(root, id)
		prof := writeFile(t, root, id+".yaml", testProfile(id, "FI", []string{"FI1C", "FI19", "FI1B", "FI1D"}[i]))
		r := mustHubnet(t, "init", "-d", dirs[id], "--network", netFile, "--id", id, "--profile", prof)
		if id == "hub-x" {
			continue // never admitted
		}
		args := admitLine(t, r.stdout)
		// The command as printed, with the steward's key file and output where they are.
		for j, a := range args {
			switch {
			case a == "admission.key":
				args[j] = keyFile
			case a == id+".cert":
				args[j] = filepath.Join(root, id+".cert")
			}
		}
		r = mustHubnet(t, args...)
		if !strings.Contains(r.stdout, "install-cert") {
			t.Errorf("admit printed %q, want how to install it", r.stdout)
		}
		r = mustHubnet(t, "network", "install-cert", "-d", dirs[id], filepath.Join(root, id+".cert"))
		if !strings.Contains(r.stdout, "certificate of "+id+" installed") {
			t.Errorf("install-cert printed %q", r.stdout)
		}
	}
	// A certificate of another hub's keys is refused, and nothing changes.
	r := hubnet(t, nil, "network", "install-cert", "-d", dirs["hub-x"], filepath.Join(root, "hub-a.cert"))
	if r.code == 0 || !strings.Contains(r.stderr, "hub-a") {
		t.Errorf("installing hub-a's certificate at hub-x: %v, want a refusal naming hub-a", r)
	}
	checkOneLine(t, r)

	local := []string{"--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--gossip", "local"}
	nodeFiles := map[string]nodeFile{}
	start := func(id string, join ...string) {
		args := append([]string{"run", "-d", dirs[id]}, local...)
		if len(join) > 0 {
			args = append(args, "--join", join[0])
		}
		startHubnet(t, args...)
		nodetest.Eventually(t, 15*time.Second, func() error {
			nf, err := readNodeFile(dirs[id])
			nodeFiles[id] = nf
			return err
		})
	}
	start("hub-a")
	for _, id := range []string{"hub-b", "hub-c", "hub-x"} {
		start(id, nodeFiles["hub-a"].Gossip)
	}
	admitted := []string{"hub-a", "hub-b", "hub-c"}
	listed := func(id string) ([]string, error) {
		hubs, err := hubsOf(t, dirs[id])
		var got []string
		for _, h := range hubs {
			got = append(got, h.ID)
		}
		return got, err
	}
	for _, id := range admitted {
		nodetest.Eventually(t, 20*time.Second, func() error {
			got, err := listed(id)
			if err == nil && !slices.Equal(got, admitted) {
				err = fmt.Errorf("%s lists %v, want %v", id, got, admitted)
			}
			return err
		})
	}
	// hub-x runs, but alone: its own directory has only itself, and it says why.
	if got, err := listed("hub-x"); err != nil || !slices.Equal(got, []string{"hub-x"}) {
		t.Errorf("hub-x lists %v (%v), want only itself", got, err)
	}
	var self api.SelfInfo
	newAPIClient(t, dirs["hub-x"]).do("GET", "/v1/self", nil, &self, 200)
	if self.Cert.Valid || !strings.Contains(self.Cert.Problem, "no certificate") {
		t.Errorf("hub-x's certificate: %+v, want not valid: no certificate", self.Cert)
	}

	// The steward revokes hub-c and hands the revocation to hub-a; hub-b hears of it
	// through gossip.
	r = mustHubnet(t, "network", "revoke", "--key", keyFile, "--reason", "test", "-d", dirs["hub-a"], "hub-c")
	if !strings.Contains(r.stdout, "hub-c revoked") {
		t.Errorf("revoke printed %q", r.stdout)
	}
	for _, id := range []string{"hub-a", "hub-b"} {
		nodetest.Eventually(t, 15*time.Second, func() error {
			got, err := listed(id)
			if err == nil && slices.Contains(got, "hub-c") {
				err = fmt.Errorf("%s still lists hub-c: %v", id, got)
			}
			return err
		})
	}
	var revs []protocol.Revocation
	newAPIClient(t, dirs["hub-b"]).do("GET", "/v1/revocations", nil, &revs, 200)
	if len(revs) != 1 || revs[0].ID != "hub-c" || revs[0].Reason != "test" {
		t.Errorf("revocations at hub-b: %+v, want hub-c's", revs)
	}
	// The same revocation again changes nothing.
	out := filepath.Join(root, "hub-c.revocation")
	data, _ := json.Marshal(revs[0])
	os.WriteFile(out, data, 0o600)
	r = mustHubnet(t, "network", "revoke", "apply", "-d", dirs["hub-a"], out)
	if !strings.Contains(r.stdout, "revoked already") {
		t.Errorf("applying it again printed %q", r.stdout)
	}

	// The revocation rolled the gossip key of hub-a and hub-b with nothing more from
	// the steward: both hold one key, not network.json's, and hub-a prints it.
	netw, err := protocol.ParseNetwork(netData)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, func() error {
		out := strings.TrimSpace(mustHubnet(t, "network", "gossip-key", "current", "-d", dirs["hub-a"]).stdout)
		key, err := base64.StdEncoding.DecodeString(out)
		if err != nil || len(key) != 32 || bytes.Equal(key, netw.GossipKey) {
			return fmt.Errorf("hub-a's current gossip key %q (%v), want a new 32-byte key", out, err)
		}
		for _, id := range []string{"hub-a", "hub-b"} {
			list := mustHubnet(t, "network", "gossip-key", "list", "-d", dirs[id]).stdout
			if want := node.KeyFingerprint(key) + "  (in use)\n"; list != want {
				return fmt.Errorf("%s's gossip keys %q, want %q", id, list, want)
			}
		}
		return nil
	})
}

// A revocation that is not the steward's is refused by the API with the field named.
func TestCLI_revokeWithAnotherKey(t *testing.T) {
	root := t.TempDir()
	netFile, keyFile := filepath.Join(root, "network.json"), filepath.Join(root, "admission.key")
	mustHubnet(t, "network", "create", "testnet", "-o", netFile, "--key", keyFile)
	otherKey := filepath.Join(root, "other.key")
	mustHubnet(t, "network", "create", "testnet", "-o", filepath.Join(root, "other.json"), "--key", otherKey)
	dir := filepath.Join(root, "hub-a")
	prof := writeFile(t, root, "hub-a.yaml", testProfile("hub-a", "FI", "FI1C"))
	mustHubnet(t, "init", "-d", dir, "--network", netFile, "--admission-key", keyFile, "--id", "hub-a", "--profile", prof)
	startHubnet(t, "run", "-d", dir, "--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--gossip", "local")
	nodetest.Eventually(t, 15*time.Second, func() error { _, err := readNodeFile(dir); return err })
	r := hubnet(t, nil, "network", "revoke", "--key", otherKey, "-d", dir, "hub-b")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "sig") {
		t.Errorf("revocation signed with another network's key: %v, want exit %d naming sig", r, exitInvalid)
	}
	var revs []protocol.Revocation
	newAPIClient(t, dir).do("GET", "/v1/revocations", nil, &revs, 200)
	if len(revs) != 0 {
		t.Errorf("revocations stored: %+v, want none", revs)
	}
}
