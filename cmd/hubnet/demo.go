package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// demoData holds the profiles of real hubs from the EC's EDIH catalogue, with
// illustrative capacity figures.
//
//go:embed demodata/*.yaml
var demoData embed.FS

// demoFirst are the hubs a demo starts first, in this order; the others follow
// alphabetically.
var demoFirst = []string{"digit-hub-sweden", "robocoast", "dih-slovenia", "digihall"}

const (
	demoMaxHubs      = 12
	demoReadyTimeout = 10 * time.Second
	demoSyncTimeout  = 20 * time.Second
)

func newDemoCmd(a *app) *cobra.Command {
	var (
		hubs     int
		keep     string
		basePort int
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a network of demo hubs on this machine",
		Long: `Run N hubs (default 6, at most 12) in this process, all on 127.0.0.1, with the
profiles of real European Digital Innovation Hubs. Each joins the first; once every
hub's directory lists them all, the command prints their HTTP URLs and runs until
Ctrl-C. Without --keep the hubs live in a temporary directory removed at the end;
with --keep DIR they live in DIR and a rerun starts the same hubs again.`,
		Example: "  hubnet demo\n  hubnet demo --hubs 12 --keep ./demo --base-port 7480",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if hubs < 1 || hubs > demoMaxHubs {
				return usagef("--hubs must be 1 to %d, got %d", demoMaxHubs, hubs)
			}
			if basePort < 0 || basePort+hubs-1 > 65535 {
				return usagef("--base-port must leave room for %d ports below 65536, got %d", hubs, basePort)
			}
			log := a.logger(cmd.ErrOrStderr(), slog.LevelWarn)
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), log, hubs, keep, basePort)
		},
	}
	f := cmd.Flags()
	f.IntVar(&hubs, "hubs", 6, "how many hubs to run, 1 to 12")
	f.StringVar(&keep, "keep", "", "keep the hubs' data in DIR, and reuse it on the next run")
	f.IntVar(&basePort, "base-port", 0, "HTTP port of the first hub, the others following (default: free ports)")
	return cmd
}

// demoProfiles returns the embedded demo profiles, the hubs of demoFirst first.
func demoProfiles() ([]protocol.Profile, error) {
	names, err := fs.Glob(demoData, "demodata/*.yaml")
	if err != nil {
		return nil, err
	}
	byID := map[string]protocol.Profile{}
	var rest []string
	for _, name := range names {
		data, err := demoData.ReadFile(name)
		if err != nil {
			return nil, err
		}
		p, err := decodeProfile(data)
		if err != nil {
			return nil, fmt.Errorf("demo profile %s: %w", name, err)
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); p.ID != want {
			return nil, fmt.Errorf("demo profile %s: id %q, want %q", name, p.ID, want)
		}
		byID[p.ID] = p
		if !slices.Contains(demoFirst, p.ID) {
			rest = append(rest, p.ID)
		}
	}
	slices.Sort(rest)
	out := make([]protocol.Profile, 0, len(byID))
	for _, id := range append(slices.Clone(demoFirst), rest...) {
		p, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("demo profile %s.yaml is missing", id)
		}
		out = append(out, p)
	}
	return out, nil
}

// runDemo runs the demo until ctx is cancelled.
func runDemo(ctx context.Context, stdout, stderr io.Writer, log *slog.Logger, hubs int, keep string, basePort int) (err error) {
	profiles, err := demoProfiles()
	if err != nil {
		return fail("demo", err, "")
	}
	profiles = profiles[:hubs]

	root := keep
	if root == "" {
		if root, err = os.MkdirTemp("", "hubnet-demo-"); err != nil {
			return fail("demo", err, "")
		}
		defer os.RemoveAll(root)
	} else if err := os.MkdirAll(root, 0o700); err != nil {
		return fail("demo", err, "")
	}
	netw, err := demoNetwork(root)
	if err != nil {
		return fail("demo", err, "remove "+filepath.Join(root, "network.json")+" to start afresh")
	}
	dirs := make([]string, hubs)
	for i, p := range profiles {
		dirs[i] = filepath.Join(root, p.ID)
		if initialised(dirs[i]) {
			continue // a kept hub from an earlier run
		}
		if _, err := node.InitDataDir(dirs[i], netw, p.ID, &p); err != nil {
			return fail("demo: init "+p.ID, err, "")
		}
	}

	fmt.Fprintf(stderr, "starting %d hubs in %s ...\n", hubs, root)
	var nodes []*node.Node
	defer func() { stopDemo(nodes, dirs, log) }()
	for i := range profiles {
		cfg := node.DefaultLocalConfig()
		cfg.DataDir = dirs[i]
		cfg.Logger = log
		if basePort > 0 {
			cfg.HTTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(basePort+i))
		}
		if i > 0 {
			cfg.Join = []string{nodes[0].GossipAddr()}
		}
		n, err := node.New(cfg)
		if err != nil {
			return fail("demo: open "+profiles[i].ID, err, "")
		}
		if err := n.Start(ctx); err != nil {
			return fail("demo: start "+profiles[i].ID, err, "choose free ports with --base-port, or leave it out")
		}
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		select {
		case <-n.Ready():
		case <-ctx.Done():
			return nil
		case <-time.After(demoReadyTimeout):
			return fail("demo", fmt.Errorf("hub %s not ready after %v", n.ID(), demoReadyTimeout), "")
		}
	}
	if err := waitDirectories(ctx, nodes, profiles); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fail("demo", err, "run it again with --log-level debug to see why")
	}

	t := newTable(stdout, "HUB", "NAME", "COUNTRY", "URL")
	for i, n := range nodes {
		nf := nodeFileOf(n)
		if err := writeNodeFile(dirs[i], nf); err != nil {
			return fail("demo", err, "")
		}
		t.row(n.ID(), profiles[i].Name, profiles[i].Country, nf.URL)
	}
	if err := t.flush(); err != nil {
		return err
	}
	url := nodeFileOf(nodes[0]).URL
	self := selfCommand()
	fmt.Fprintf(stdout, `
%d hubs are running and every one lists all of them. Try:
  %s --node %s hubs
  %s --node %s hubs %s
  %s -d %s peers
  curl %s/v1/hubs

Press Ctrl-C to stop.
`, hubs, self, url, self, url, nodes[len(nodes)-1].ID(), self, dirs[0], url)

	<-ctx.Done()
	fmt.Fprintln(stderr, "stopping the demo hubs ...")
	return nil
}

// demoNetwork reads root/network.json, or creates it.
func demoNetwork(root string) (protocol.Network, error) {
	file := filepath.Join(root, "network.json")
	data, err := os.ReadFile(file)
	if err == nil {
		return protocol.ParseNetwork(data)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return protocol.Network{}, err
	}
	n, err := protocol.NewNetwork("demo", rand.Reader)
	if err != nil {
		return protocol.Network{}, err
	}
	if data, err = json.MarshalIndent(n, "", "  "); err != nil {
		return protocol.Network{}, err
	}
	return n, writeSecretFile(file, append(data, '\n'), false)
}

// waitDirectories polls until every node's directory lists every demo hub.
func waitDirectories(ctx context.Context, nodes []*node.Node, profiles []protocol.Profile) error {
	deadline := time.Now().Add(demoSyncTimeout)
	for {
		missing := ""
		for _, n := range nodes {
			if m := missingHubs(n, profiles); m != "" {
				missing = n.ID() + " lacks " + m
				break
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hubs did not find each other in %v: %s", demoSyncTimeout, missing)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// missingHubs lists the demo hubs not in n's directory, "" when none is missing.
func missingHubs(n *node.Node, profiles []protocol.Profile) string {
	hubs, err := n.Hubs()
	if err != nil {
		return "its directory (" + err.Error() + ")"
	}
	have := map[string]bool{}
	for _, h := range hubs {
		have[h.ID] = true
	}
	var missing []string
	for _, p := range profiles {
		if !have[p.ID] {
			missing = append(missing, p.ID)
		}
	}
	return strings.Join(missing, ", ")
}

// stopDemo makes the nodes leave one by one, the last started first, then stops them
// and removes their node.json files. Leaving one at a time lets each leave broadcast
// reach hubs still running; when all leave at once, memberlist's Leave waits in vain.
func stopDemo(nodes []*node.Node, dirs []string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		if ctx.Err() == nil {
			if err := n.Leave(ctx); err != nil {
				log.Warn("leave failed", "hub", n.ID(), "err", err)
			}
		}
		if err := n.Shutdown(); err != nil {
			log.Warn("stop failed", "hub", n.ID(), "err", err)
		}
		removeNodeFile(dirs[i], log)
	}
}

// selfCommand is how the user runs this program again: "hubnet", or "go run
// ./cmd/hubnet" when it was started by go run (make demo), whose binary is temporary.
func selfCommand() string {
	exe, err := os.Executable()
	if err == nil && strings.Contains(exe, "go-build") {
		return "go run ./cmd/hubnet"
	}
	return "hubnet"
}
