package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// testProfile is a small valid profile in YAML for hub id.
func testProfile(id, country, region string) string {
	return fmt.Sprintf(`id: %s
name: Test hub %s
type: EDIH
country: %s
regions: [%s]
languages: [en]
contact:
  role: SME desk
technologies:
  robotics: 4
services:
  field-trial: 3
capacity:
  test-before-invest:
    available: 3
    maximum: 5
    unit: SMEs per month
`, id, id, country, region)
}

// hubsOf runs `hubnet -d dir hubs --json`.
func hubsOf(t *testing.T, dir string) ([]api.HubInfo, error) {
	t.Helper()
	r := hubnet(t, nil, "-d", dir, "hubs", "--json")
	if r.code != 0 {
		return nil, fmt.Errorf("hubs: %v", r)
	}
	var hubs []api.HubInfo
	if err := json.Unmarshal([]byte(r.stdout), &hubs); err != nil {
		return nil, fmt.Errorf("decode %q: %w", r.stdout, err)
	}
	return hubs, nil
}

// hubOf runs `hubnet -d dir hubs id --json`.
func hubOf(t *testing.T, dir, id string) api.HubInfo {
	t.Helper()
	r := mustHubnet(t, "-d", dir, "hubs", id, "--json")
	var h api.HubInfo
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	return h
}

func TestCLI_threeHubs(t *testing.T) {
	root := t.TempDir()
	netFile := filepath.Join(root, "network.json")
	mustHubnet(t, "network", "create", "testnet", "-o", netFile, "--key", filepath.Join(filepath.Dir(netFile), "admission.key"))

	ids := []string{"hub-a", "hub-b", "hub-c"}
	places := [][2]string{{"FI", "FI1C"}, {"SE", "SE11"}, {"SI", "SI04"}}
	dirs := map[string]string{}
	for i, id := range ids {
		dirs[id] = filepath.Join(root, id)
		prof := writeFile(t, root, id+".yaml", testProfile(id, places[i][0], places[i][1]))
		r := mustHubnet(t, "init", "-d", dirs[id], "--network", netFile, "--admission-key", filepath.Join(filepath.Dir(netFile), "admission.key"), "--id", id, "--profile", prof)
		for _, want := range []string{"hub:        " + id, "sign key:", "box key:", "token file: " + filepath.Join(dirs[id], "token"), "revision 1"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("init %s printed %q, want it to contain %q", id, r.stdout, want)
			}
		}
	}

	local := []string{"--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--gossip", "local"}
	procs := map[string]*proc{}
	nodeFiles := map[string]nodeFile{}
	waitNodeFile := func(id string) {
		t.Helper()
		nodetest.Eventually(t, 15*time.Second, func() error {
			nf, err := readNodeFile(dirs[id])
			nodeFiles[id] = nf
			return err
		})
		if nf := nodeFiles[id]; nf.ID != id || !strings.HasPrefix(nf.URL, "http://127.0.0.1:") || nf.Gossip == "" || nf.Cluster == "" || nf.Gateway == "" {
			t.Fatalf("node.json of %s: %+v", id, nf)
		}
	}
	procs["hub-a"] = startHubnet(t, append([]string{"run", "-d", dirs["hub-a"]}, local...)...)
	waitNodeFile("hub-a")
	for _, id := range ids[1:] {
		procs[id] = startHubnet(t, append([]string{"run", "-d", dirs[id], "--join", nodeFiles["hub-a"].Gossip}, local...)...)
	}
	for _, id := range ids[1:] {
		waitNodeFile(id)
	}

	// Every hub's directory comes to list all three.
	for _, id := range ids {
		nodetest.Eventually(t, 20*time.Second, func() error {
			hubs, err := hubsOf(t, dirs[id])
			if err != nil {
				return err
			}
			var got []string
			for _, h := range hubs {
				got = append(got, h.ID)
			}
			if !slices.Equal(got, ids) {
				return fmt.Errorf("%s lists %v, want %v", id, got, ids)
			}
			return nil
		})
	}
	r := mustHubnet(t, "-d", dirs["hub-b"], "hubs")
	for _, want := range []string{"ID", "NAME", "REACHABLE", "Test hub hub-a", "Test hub hub-c", "self"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("hubs table:\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
	// The default region map puts the three countries into three clusters, joined by
	// gateways across the three processes.
	r = mustHubnet(t, "--node", nodeFiles["hub-c"].URL, "peers")
	if strings.Count(r.stdout, "alive") != 3 || !strings.Contains(r.stdout, "CLUSTER") {
		t.Errorf("peers of hub-c:\n%s\nwant three alive, with their clusters", r.stdout)
	}
	for _, line := range strings.Split(r.stdout, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 2 && map[string]string{"hub-a": "fi", "hub-b": "se", "hub-c": "si"}[f[0]] != f[2] {
			t.Errorf("peers of hub-c: %q, want hub-a in fi, hub-b in se, hub-c in si", line)
		}
	}

	// A capacity change on hub-a reaches hub-b.
	r = mustHubnet(t, "profile", "capacity", "set", "test-before-invest", "0", "-d", dirs["hub-a"])
	if want := "hub-a test-before-invest: 0 of 5 SMEs per month available (revision 2)"; strings.TrimSpace(r.stdout) != want {
		t.Errorf("capacity set printed %q, want %q", r.stdout, want)
	}
	nodetest.Eventually(t, 20*time.Second, func() error {
		h := hubOf(t, dirs["hub-b"], "hub-a")
		if got := h.Profile.Capacity[protocol.FamilyTestBeforeInvest].Available; got != 0 || h.Revision != 2 {
			return fmt.Errorf("hub-b sees hub-a at revision %d with %d available, want revision 2 with 0", h.Revision, got)
		}
		return nil
	})

	// An invalid profile is refused field by field and changes nothing.
	before := hubOf(t, dirs["hub-a"], "hub-a").Revision
	bad := writeFile(t, root, "bad.yaml", strings.NewReplacer("country: FI", "country: XX", "robotics: 4", "robotics: 9").
		Replace(testProfile("hub-a", "FI", "FI1C")))
	r = hubnet(t, nil, "-d", dirs["hub-a"], "profile", "apply", "-f", bad)
	if r.code != exitInvalid {
		t.Errorf("apply invalid profile: %v\nwant exit %d", r, exitInvalid)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if !strings.HasPrefix(lines[0], "hubnet: apply profile: invalid profile, ") {
		t.Errorf("first line %q, want a one-line summary", lines[0])
	}
	for _, want := range []string{"  country: ", "  technologies.robotics: level must be 1 to 5, got 9"} {
		if !slices.ContainsFunc(lines[1:], func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("stderr:\n%s\nwant a line starting %q", r.stderr, want)
		}
	}
	if after := hubOf(t, dirs["hub-a"], "hub-a").Revision; after != before {
		t.Errorf("revision after a refused profile: got %d, want %d", after, before)
	}

	// SIGTERM: each node leaves, exits 0 and removes its node.json.
	for _, id := range ids {
		procs[id].stop(t, 10*time.Second)
		if _, err := os.Stat(filepath.Join(dirs[id], nodeFileName)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("node.json of %s after exit: %v, want it removed", id, err)
		}
	}
}
