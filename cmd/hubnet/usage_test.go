package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node/nodetest"
)

// checkOneLine fails unless stderr is one line in hubnet's error format.
func checkOneLine(t *testing.T, r result) {
	t.Helper()
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "hubnet: ") || !strings.HasSuffix(r.stderr, ")\n") {
		t.Errorf("stderr %q, want one line \"hubnet: <what failed>: <why> (<what to do>)\"", r.stderr)
	}
}

func TestCLI_usageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown command", []string{"peer"}, "did you mean 'hubnet peers'?"},
		{"unknown subcommand", []string{"network", "delete"}, `unknown command "delete" for "hubnet network"`},
		{"unknown flag", []string{"peers", "--bogus"}, "unknown flag: --bogus"},
		{"too many hub IDs", []string{"hubs", "hub-a", "hub-b"}, "takes at most 1 argument"},
		{"network without name", []string{"network", "create"}, "takes 1 arguments"},
		{"demo with 0 hubs", []string{"demo", "--hubs", "0"}, `--hubs must be 1 to 12 (more with --from-catalogue), got "0"`},
		{"demo with 13 hubs", []string{"demo", "--hubs", "13"}, `--hubs must be 1 to 12 (more with --from-catalogue), got "13"`},
		{"demo hubs not a number", []string{"demo", "--hubs", "many"}, `--hubs must be 1 to 12 (more with --from-catalogue), got "many"`},
		{"capacity not a number", []string{"profile", "capacity", "set", "test-before-invest", "lots"}, `N must be a whole number, got "lots"`},
		{"run without data dir", []string{"run"}, "give -d DIR"},
		{"init without id", []string{"init", "-d", dir}, "--id"},
		{"apply without file", []string{"profile", "apply"}, "-f FILE"},
		{"bad log format", []string{"version", "--log-format", "xml"}, "--log-format must be text or json"},
		{"bad node URL", []string{"peers", "--node", "127.0.0.1:7480"}, "must be an http:// or https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hubnet(t, nil, tt.args...)
			if r.code != exitUsage {
				t.Errorf("hubnet %s: got %v, want exit %d", strings.Join(tt.args, " "), r, exitUsage)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.want)
			}
			checkOneLine(t, r)
		})
	}
}

func TestCLI_help(t *testing.T) {
	r := mustHubnet(t, "--help")
	for _, want := range []string{"Exit codes:", "3  node unreachable", "4  invalid input", "HUBNET_NODE"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("hubnet --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestCLI_nodeUnreachable(t *testing.T) {
	r := hubnet(t, nil, "--node", "http://127.0.0.1:1", "peers")
	if r.code != exitUnreachable {
		t.Errorf("got %v, want exit %d", r, exitUnreachable)
	}
	if want := "is `hubnet run` running? give --node or -d"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want the hint %q", r.stderr, want)
	}
	checkOneLine(t, r)

	// A data directory with no node.json: no node runs there.
	r = hubnet(t, nil, "-d", t.TempDir(), "hubs")
	if r.code != exitUnreachable || !strings.Contains(r.stderr, "has no node.json") {
		t.Errorf("hubs with an idle data directory: got %v, want exit %d naming node.json", r, exitUnreachable)
	}
}

// TestCLI_settingsPrecedence checks flags beat HUBNET_ variables, which beat the
// config file, by the node URL each failing command names.
func TestCLI_settingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "hubnet.yaml", "node: http://127.0.0.1:4\ngossip-addr: 127.0.0.1:0\njoin: [127.0.0.1:1, 127.0.0.1:2]\n")
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"config file", nil, []string{"--config", conf}, "http://127.0.0.1:4"},
		{"config file from the environment", []string{"HUBNET_CONFIG=" + conf}, nil, "http://127.0.0.1:4"},
		{"environment over config file", []string{"HUBNET_NODE=http://127.0.0.1:2"}, []string{"--config", conf}, "http://127.0.0.1:2"},
		{"flag over environment", []string{"HUBNET_NODE=http://127.0.0.1:2"}, []string{"--config", conf, "--node", "http://127.0.0.1:3"}, "http://127.0.0.1:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hubnet(t, tt.env, append(tt.args, "peers")...)
			if r.code != exitUnreachable || !strings.Contains(r.stderr, "node at "+tt.want+" ") {
				t.Errorf("got %v, want exit %d naming %s", r, exitUnreachable, tt.want)
			}
		})
	}

	bad := writeFile(t, dir, "bad.yaml", "node: http://127.0.0.1:4\ngosip: lan\n")
	r := hubnet(t, nil, "--config", bad, "peers")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "\n  gosip: is not a setting") {
		t.Errorf("config file with a misspelt key: got %v, want exit %d naming gosip", r, exitInvalid)
	}
}

func TestNetworkCreate_refusesOverwrite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "network.json")
	key := filepath.Join(filepath.Dir(file), "admission.key")
	mustHubnet(t, "network", "create", "testnet", "-o", file, "--key", key)
	first, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	r := hubnet(t, nil, "network", "create", "othernet", "-o", file, "--key", key)
	if r.code != exitError || !strings.Contains(r.stderr, "exists") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("second create: got %v, want exit %d saying the file exists and naming --force", r, exitError)
	}
	checkOneLine(t, r)
	if again, _ := os.ReadFile(file); string(again) != string(first) {
		t.Errorf("network.json changed without --force:\n%s\nwas:\n%s", again, first)
	}

	mustHubnet(t, "network", "create", "othernet", "-o", file, "--key", key, "--force")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"name": "othernet"`) {
		t.Errorf("after --force: %s, want the new network", data)
	}
	for _, f := range []string{file, key} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode of %s: %v %v, want 0600", filepath.Base(f), fi.Mode().Perm(), err)
		}
	}
	if data, _ := os.ReadFile(file); strings.Contains(string(data), `"key"`) {
		t.Errorf("network.json holds a private key:\n%s", data)
	}

	other := t.TempDir()
	r = hubnet(t, nil, "network", "create", "Bad_Name", "-o", filepath.Join(other, "n.json"), "--key", filepath.Join(other, "a.key"))
	if r.code != exitInvalid || !strings.Contains(r.stderr, "\n  name: ") {
		t.Errorf("invalid name: got %v, want exit %d naming the field", r, exitInvalid)
	}
}

func TestInit_unknownField(t *testing.T) {
	root := t.TempDir()
	netFile := filepath.Join(root, "network.json")
	mustHubnet(t, "network", "create", "testnet", "-o", netFile, "--key", filepath.Join(root, "admission.key"))
	prof := writeFile(t, root, "p.yaml", strings.Replace(testProfile("hub-a", "FI", "FI1C"), "name:", "colour: blue\nname:", 1))
	dir := filepath.Join(root, "hub-a")

	r := hubnet(t, nil, "init", "-d", dir, "--network", netFile, "--id", "hub-a", "--profile", prof)
	if r.code != exitInvalid {
		t.Errorf("got %v, want exit %d", r, exitInvalid)
	}
	if want := "\n  colour: is not a field (line 2)"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want it to contain %q", r.stderr, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("data directory after a refused init: %v, want none", err)
	}
}

// TestCLI_retainDetails checks --retain-details comes from the flag, HUBNET_RETAIN_DETAILS
// or the config file like every setting of run, and that a time of 0 or less is
// refused naming where it came from.
func TestCLI_retainDetails(t *testing.T) {
	dir := t.TempDir()
	zero := writeFile(t, dir, "zero.yaml", "retain-details: 0\n")
	words := writeFile(t, dir, "words.yaml", "retain-details: 90 days\n")
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"flag", nil, []string{"--retain-details", "0"}, `invalid argument "0" for "--retain-details" flag: must be more than 0`},
		{"environment", []string{"HUBNET_RETAIN_DETAILS=-1h"}, nil, `HUBNET_RETAIN_DETAILS="-1h": invalid argument "-1h" for "--retain-details" flag: must be more than 0`},
		{"config file", nil, []string{"--config", zero}, "retain-details: invalid argument \"0\" for \"--retain-details\" flag: must be more than 0"},
		{"config file, not a time", nil, []string{"--config", words}, "give days such as 90d, or hours such as 720h"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := hubnet(t, tt.env, append([]string{"run", "-d", dir}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("got %v, want a failure that says %q", r, tt.want)
			}
			checkOneLine(t, r)
		})
	}

	// A valid setting reaches the node, which says so when it is ready: the
	// environment beats the config file.
	net := nodetest.Network(t)
	p := nodetest.Profile("hub-a")
	hub := filepath.Join(dir, "hub-a")
	nodetest.Init(t, hub, net, "hub-a", &p)
	conf := writeFile(t, dir, "hubnet.yaml", "retain-details: 30d\ngossip-addr: 127.0.0.1:0\ncluster-addr: 127.0.0.1:0\nhttp-addr: 127.0.0.1:0\ngossip: local\n")
	for _, tt := range []struct {
		name string
		env  []string
		want string
	}{
		{"config file", nil, "retain_details=720h0m0s"},
		{"environment over config file", []string{"HUBNET_RETAIN_DETAILS=36h"}, "retain_details=36h0m0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proc := startHubnetEnv(t, tt.env, "run", "-d", hub, "--config", conf)
			nodetest.Eventually(t, 15*time.Second, func() error {
				if !strings.Contains(proc.stderr.String(), "hub ready") {
					return fmt.Errorf("not ready yet:\n%s", proc.stderr)
				}
				return nil
			})
			if log := proc.stderr.String(); !strings.Contains(log, tt.want) {
				t.Errorf("log of hubnet run:\n%s\nwant it to say %s", log, tt.want)
			}
			proc.stop(t, 10*time.Second)
		})
	}
}
