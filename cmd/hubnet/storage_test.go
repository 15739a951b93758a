package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/internal/faultfs"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// What an operator sees when the disk of the hub's data directory is full: `hubnet
// profile apply` exits 1 with one line that says what failed, why, that nothing was
// changed and that the input is not at fault; `hubnet run` restarted on the full disk
// runs without its node.json and logs its URL; once there is room, the same command
// succeeds. The node runs as `hubnet run`, its data directory on a tmpfs in a mount
// namespace of the test's own (internal/faultfs).
func TestCLI_fullDisk(t *testing.T) {
	faultfs.Run(t, func(t *testing.T) {
		disk := faultfs.FullDisk(t, 8<<20)
		if disk.Kind != faultfs.Tmpfs {
			t.Skip("RLIMIT_FSIZE would hold this process, not the hubnet run it starts: the test needs a tmpfs")
		}
		root := t.TempDir()
		netFile := filepath.Join(root, "network.json")
		mustHubnet(t, "network", "create", "testnet", "-o", netFile, "--key", filepath.Join(filepath.Dir(netFile), "admission.key"))
		dir := filepath.Join(disk.Dir, "hub")
		mustHubnet(t, "init", "-d", dir, "--network", netFile, "--id", "hub-full",
			"--profile", writeFile(t, root, "hub.yaml", testProfile("hub-full", "BG", "BG41")))
		p := startHubnet(t, "run", "-d", dir, "--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0",
			"--http-addr", "127.0.0.1:0", "--gossip", "local")
		nodetest.Eventually(t, 15*time.Second, func() error {
			_, err := readNodeFile(dir)
			return err
		})
		const line = "Тествай преди да инвестираш: роботика, изкуствен интелект и данни за МСП. "
		big := writeFile(t, root, "big.yaml", testProfile("hub-full", "BG", "BG41")+
			"description: \""+strings.TrimSpace(strings.Repeat(line, 130))+"\"\n")

		disk.Fill(t)
		r := hubnet(t, nil, "-d", dir, "profile", "apply", "-f", big)
		if r.code != exitError {
			t.Fatalf("profile apply on a full disk: %v; want exit %d", r, exitError)
		}
		msg := strings.TrimSpace(r.stderr)
		t.Logf("hubnet profile apply on a full disk: exit %d\n%s", r.code, msg)
		if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "hubnet: ") {
			t.Errorf("stderr is not one line starting hubnet: %q", r.stderr)
		}
		for _, want := range []string{"could not write the data file " + filepath.Join(dir, "hubnet.db"),
			"no space left on device", "nothing was changed", "free space", "not the input"} {
			if !strings.Contains(msg, want) {
				t.Errorf("stderr %q does not say %q", msg, want)
			}
		}

		// Restarted on the full disk, it runs without its node.json, and says where it
		// listens.
		p.stop(t, 10*time.Second)
		disk.Fill(t) // the node.json it removed gave a page back
		p = startHubnet(t, "run", "-d", dir, "--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0",
			"--http-addr", "127.0.0.1:0", "--gossip", "local")
		var url string
		nodetest.Eventually(t, 15*time.Second, func() error {
			m := readyURL.FindStringSubmatch(p.stderr.String())
			if m == nil {
				return fmt.Errorf("no hub ready in its log:\n%s", p.stderr.String())
			}
			url = m[1]
			return nil
		})
		if !strings.Contains(p.stderr.String(), "give them --node URL") {
			t.Errorf("the log does not say that the commands need --node:\n%s", p.stderr.String())
		}
		if _, err := readNodeFile(dir); err == nil {
			t.Error("a node.json on a full disk")
		}
		if r := hubnet(t, nil, "--node", url, "hubs"); r.code != 0 || !strings.Contains(r.stdout, "hub-full") {
			t.Errorf("hubs from a hub restarted on a full disk: %v", r)
		}

		disk.Free(t)
		r = mustHubnet(t, "-d", dir, "--node", url, "profile", "apply", "-f", big)
		if !strings.Contains(r.stdout, "revision 2") {
			t.Errorf("profile apply once there is room: %q, want revision 2", r.stdout)
		}
		p.stop(t, 10*time.Second)
	})
}

// readyURL finds the URL in the "hub ready" line of a node's log.
var readyURL = regexp.MustCompile(`msg="hub ready".* url=(http://\S+)`)
