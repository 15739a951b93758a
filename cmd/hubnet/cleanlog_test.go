package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// logLevel finds the level of a line of hubnet's log in its text format.
var logLevel = regexp.MustCompile(`^time=\S+ level=([A-Z]+)`)

// logProblems returns the lines of a hubnet log at level WARN or ERROR, and how many
// lines at INFO it holds, so a test can tell a clean log from one it failed to read.
func logProblems(log string) (problems []string, infos int) {
	for _, line := range strings.Split(log, "\n") {
		m := logLevel.FindStringSubmatch(line)
		switch {
		case m == nil:
		case m[1] == "INFO":
			infos++
		case m[1] != "DEBUG":
			problems = append(problems, line)
		}
	}
	return problems, infos
}

// checkCleanLog fails the test for every line of log, of the process called name, at
// level WARN or ERROR, and unless it says started times "node started".
func checkCleanLog(t *testing.T, name, log string, started int) {
	t.Helper()
	problems, _ := logProblems(log)
	for _, p := range problems {
		t.Errorf("%s logged: %s", name, p)
	}
	if got := strings.Count(log, `msg="node started"`); got != started {
		t.Errorf("%s logged %q %d times, want %d; its log:\n%s", name, "node started", got, started, log)
	}
}

func TestLogProblems(t *testing.T) {
	log := `starting 2 hubs in /tmp/x ...
time=2026-12-06T22:21:11.005Z level=INFO msg="node started" hub=a
time=2026-12-06T22:21:11.006Z level=DEBUG msg="routes set" hub=a routes=1
time=2026-12-06T22:21:11.007Z level=WARN msg=memberlist hub=a event="level=INFO in a message"
time=2026-12-06T22:21:11.008Z level=ERROR msg="nats server" hub=b event="Error trying to connect to route"
time=2026-12-06T22:21:11.009Z level=INFO msg="hub reachable" hub=b peer=a event="level=ERROR"
`
	problems, infos := logProblems(log)
	if len(problems) != 2 || !strings.Contains(problems[0], "level=WARN") || !strings.Contains(problems[1], "level=ERROR") {
		t.Errorf("problems: got %q, want the WARN and the ERROR line", problems)
	}
	if infos != 2 {
		t.Errorf("INFO lines: got %d, want 2", infos)
	}
}

// A healthy demo starts, runs and stops on Ctrl-C without a line at WARN or ERROR,
// even at INFO: the hubs' routes come up at once, and hubs leaving is no error.
func TestDemo_cleanStartStop(t *testing.T) {
	const hubs = 6
	p := startHubnet(t, "demo", "--hubs", fmt.Sprint(hubs), "--keep", t.TempDir(), "--log-level", "info")
	nodetest.Eventually(t, 30*time.Second, func() error {
		select {
		case <-p.done:
			t.Fatalf("demo exited: %v\n%s", p.err, p.stderr.String())
		default:
		}
		if !strings.Contains(p.stderr.String(), "Press Ctrl-C to stop.") {
			return fmt.Errorf("the demo has not printed its table")
		}
		return nil
	})
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT pid %d: %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("demo still running 20s after SIGINT; its log:\n%s", p.stderr.String())
	}
	if p.err != nil {
		t.Fatalf("demo after SIGINT: %v, want exit 0; its log:\n%s", p.err, p.stderr.String())
	}
	log := p.stderr.String()
	if !strings.Contains(log, "stopping the demo hubs") {
		t.Errorf("log:\n%s\nwant it to say the hubs stop", log)
	}
	checkCleanLog(t, "demo", log, hubs)
}

// Three hubs, each in its own data directory and process, set up as the operator
// docs say (create the network, init, admit, install the certificate, run and join),
// find each other and stop on SIGTERM without a line at WARN or ERROR. Two are in
// Finland and one in Sweden, so routes and gateways both come up.
func TestRun_cleanStartStop(t *testing.T) {
	root := t.TempDir()
	netFile, keyFile := filepath.Join(root, "network.json"), filepath.Join(root, "admission.key")
	mustHubnet(t, "network", "create", "testnet", "-o", netFile, "--key", keyFile)
	ids := []string{"hub-a", "hub-b", "hub-c"}
	places := [][2]string{{"FI", "FI1C"}, {"FI", "FI19"}, {"SE", "SE11"}}
	dirs := map[string]string{}
	for i, id := range ids {
		dirs[id] = filepath.Join(root, id)
		prof := writeFile(t, root, id+".yaml", testProfile(id, places[i][0], places[i][1]))
		r := mustHubnet(t, "init", "-d", dirs[id], "--network", netFile, "--id", id, "--profile", prof)
		args := admitLine(t, r.stdout)
		for j, a := range args {
			switch a {
			case "admission.key":
				args[j] = keyFile
			case id + ".cert":
				args[j] = filepath.Join(root, id+".cert")
			}
		}
		mustHubnet(t, args...)
		mustHubnet(t, "network", "install-cert", "-d", dirs[id], filepath.Join(root, id+".cert"))
	}

	local := []string{"--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--gossip", "local"}
	procs := map[string]*proc{}
	gossipOf := func(id string) string {
		t.Helper()
		var nf nodeFile
		nodetest.Eventually(t, 15*time.Second, func() error {
			var err error
			nf, err = readNodeFile(dirs[id])
			return err
		})
		return nf.Gossip
	}
	procs["hub-a"] = startHubnet(t, append([]string{"run", "-d", dirs["hub-a"]}, local...)...)
	join := gossipOf("hub-a")
	for _, id := range ids[1:] {
		procs[id] = startHubnet(t, append([]string{"run", "-d", dirs[id], "--join", join}, local...)...)
	}
	for _, id := range ids {
		gossipOf(id)
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
	// The hubs reach each other over NATS: a live search from hub-c, in Sweden, is
	// answered by both hubs in Finland, across the gateway and a route.
	nodetest.Eventually(t, 20*time.Second, func() error {
		r := hubnet(t, nil, "-d", dirs["hub-c"], "search", "--tech", "robotics", "--live", "--json")
		if r.code != 0 {
			return fmt.Errorf("search: %v", r)
		}
		for _, id := range ids[:2] {
			if !strings.Contains(r.stdout, `"`+id+`"`) {
				return fmt.Errorf("live search from hub-c: %s\nwant %s in it", r.stdout, id)
			}
		}
		return nil
	})

	for _, id := range slices.Backward(ids) {
		procs[id].stop(t, 10*time.Second)
	}
	for _, id := range ids {
		checkCleanLog(t, id, procs[id].stderr.String(), 1)
	}
}
