package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"maps"
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
		hubs      int
		keep      string
		basePort  int
		catalogue string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a network of demo hubs on this machine",
		Long: `Run N hubs (default 6, at most 12) in this process, all on 127.0.0.1, with the
profiles of real European Digital Innovation Hubs. Each joins the first; once every
hub's directory lists them all, the command prints their HTTP URLs and runs until
Ctrl-C. Without --keep the hubs live in a temporary directory removed at the end;
with --keep DIR they live in DIR and a rerun starts the same hubs again.

With --from-catalogue FILE.xlsx the hubs come from the EC's EDIH catalogue export
instead, imported as 'hubnet import edih-xlsx' does: N hubs that list technologies,
spread over countries (one from each country in order of country code, then a second
from each, and so on; each country's hubs in row order). The catalogue has no
capacity, so each gets illustrative figures in two or three service families, derived
from its ID: the same hub gets the same figures on every run.`,
		Example: "  hubnet demo\n  hubnet demo --hubs 12 --keep ./demo --base-port 7480\n  hubnet demo --from-catalogue edih-catalogue.xlsx --hubs 10",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if hubs < 1 || hubs > demoMaxHubs {
				return usagef("--hubs must be 1 to %d, got %d", demoMaxHubs, hubs)
			}
			if basePort < 0 || basePort+hubs-1 > 65535 {
				return usagef("--base-port must leave room for %d ports below 65536, got %d", hubs, basePort)
			}
			opts := demoOptions{Keep: keep, BasePort: basePort}
			if catalogue != "" {
				all, err := readCatalogueFile(catalogue)
				if err != nil {
					return err
				}
				if opts.Profiles, err = catalogueDemoProfiles(all, hubs); err != nil {
					return fail("demo", fmt.Errorf("%s: %w", catalogue, err), "")
				}
				opts.Intro = fmt.Sprintf("%d hubs from %s, spread over countries (%s).\n"+
					"Their capacity figures are illustrative, derived from each hub's ID.\n\n",
					hubs, filepath.Base(catalogue), catalogueAttribution)
			} else {
				profiles, err := demoProfiles()
				if err != nil {
					return fail("demo", err, "")
				}
				opts.Profiles = profiles[:hubs]
			}
			log := a.logger(cmd.ErrOrStderr(), slog.LevelWarn)
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), log, opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&hubs, "hubs", 6, "how many hubs to run, 1 to 12")
	f.StringVar(&keep, "keep", "", "keep the hubs' data in DIR, and reuse it on the next run")
	f.IntVar(&basePort, "base-port", 0, "HTTP port of the first hub, the others following (default: free ports)")
	f.StringVar(&catalogue, "from-catalogue", "", "run hubs imported from the EDIH catalogue's XLSX export `FILE` instead of the built-in ones")
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

// demoOptions say which hubs a demo runs and where.
type demoOptions struct {
	Profiles []protocol.Profile // the hubs, each joining the first
	Intro    string             // printed before the table of hubs: where they come from
	Keep     string             // the directory to keep the hubs' data in; "" for a temporary one
	BasePort int                // HTTP port of the first hub, the others following; 0 picks free ports
}

// runDemo runs the demo until ctx is cancelled.
func runDemo(ctx context.Context, stdout, stderr io.Writer, log *slog.Logger, opts demoOptions) (err error) {
	profiles, keep, basePort := opts.Profiles, opts.Keep, opts.BasePort
	hubs := len(profiles)

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

	fmt.Fprint(stdout, opts.Intro)
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
  %s --node %s search --tech ai-decision-support --family test-before-invest --region FI1C1
  %s --node %s search --tech robotics --live
  curl '%s/v1/search?tech=cybersecurity&country=FI&reach=neighbours'

Press Ctrl-C to stop.
`, hubs, self, url, self, url, nodes[len(nodes)-1].ID(), self, dirs[0], self, url, self, url, url)

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

// catalogueDemoProfiles picks n of the imported hubs that list technologies, spread
// over countries: the first of each country in order of country code, then the second
// of each, and so on, each country's hubs in row order. Each gets illustrative
// capacity. It fails when fewer than n hubs qualify.
func catalogueDemoProfiles(hubs []catalogueHub, n int) ([]protocol.Profile, error) {
	byCountry := map[string][]protocol.Profile{}
	for _, h := range hubs {
		if h.imported() && len(h.Profile.Technologies) > 0 {
			byCountry[h.Country] = append(byCountry[h.Country], *h.Profile)
		}
	}
	countries := slices.Sorted(maps.Keys(byCountry))
	var out []protocol.Profile
	for round := 0; len(out) < n; round++ {
		picked := false
		for _, c := range countries {
			if round < len(byCountry[c]) && len(out) < n {
				p := byCountry[c][round]
				p.Capacity = illustrativeCapacity(p)
				out = append(out, p)
				picked = true
			}
		}
		if !picked {
			return nil, fmt.Errorf("only %d imported hubs list technologies, fewer than the %d of --hubs", len(out), n)
		}
	}
	return out, nil
}

// illustrativeCapacity makes up capacity for a demo hub in two or three service
// families, those its services belong to first, from its ID alone: the same ID always
// gets the same figures. The numbers come from a linear congruential generator seeded
// with the FNV-1a hash of the ID, not from math/rand, whose sequences may change
// between Go releases.
func illustrativeCapacity(p protocol.Profile) map[protocol.Family]protocol.Capacity {
	h := fnv.New64a()
	h.Write([]byte(p.ID))
	state := h.Sum64()
	next := func(n int) int { // a number in [0, n)
		state = state*6364136223846793005 + 1442695040888963407
		return int((state >> 33) % uint64(n))
	}
	shuffle := func(f []protocol.Family) {
		for i := len(f) - 1; i > 0; i-- {
			j := next(i + 1)
			f[i], f[j] = f[j], f[i]
		}
	}
	offered := map[protocol.Family]bool{}
	for slug := range p.Services {
		if s, ok := protocol.ServiceBySlug(slug); ok {
			offered[s.Family] = true
		}
	}
	var first, rest []protocol.Family
	for _, f := range protocol.Families {
		if offered[f.Slug] {
			first = append(first, f.Slug)
		} else {
			rest = append(rest, f.Slug)
		}
	}
	shuffle(first)
	shuffle(rest)
	families := append(first, rest...)[:2+next(2)]
	capacity := map[protocol.Family]protocol.Capacity{}
	for _, f := range families {
		maximum := 4 + next(9) // 4 to 12
		capacity[f] = protocol.Capacity{Available: next(maximum + 1), Maximum: maximum, Unit: "SMEs per month"}
	}
	return capacity
}
