package main

import (
	"cmp"
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
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/catalogue"
	"github.com/hubnet-eu/hubnet/internal/spread"
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
	// demoWaitPerHub is added to both timeouts for each hub: the whole catalogue
	// takes minutes to start on a small machine (its 300 hubs that list
	// technologies, settled one by one, 7 on two cores).
	demoWaitPerHub = 3 * time.Second
	// demoSettleFrom is the number of hubs from which each process of the demo
	// starts each hub once the one before it has settled (spread.Settle): several
	// hundred started back to back on a small machine bury it in work.
	demoSettleFrom = 100
	// demoLeavePerHub is added to leaveTimeout for each hub at the demo's stop: the
	// hubs leave one after the other, each in about 200 ms on a small machine, and
	// more when it is busy.
	demoLeavePerHub = 500 * time.Millisecond
)

func newDemoCmd(a *app) *cobra.Command {
	var (
		hubsFlag      string
		countries     string
		keep          string
		basePort      int
		fromCatalogue string
		processes     int
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: a.T("Run a network of demo hubs on this machine"),
		Long: a.T(`Run N hubs (default 6, at most 12), all on 127.0.0.1, with the profiles of real
European Digital Innovation Hubs. Each joins the first; once every
hub's directory lists them all, the command prints their HTTP URLs and runs until
Ctrl-C. Without --keep the hubs live in a temporary directory removed at the end;
with --keep DIR they live in DIR and a rerun starts the same hubs again.

With two hubs or more, the first hub starts with five referrals of fictional SMEs
to and from the next two, one in each of these states: completed, in progress,
received and awaiting its decision, declined (no capacity) and cancelled (the SME
withdrew consent). Hubs kept from an earlier run that have referrals get no more.

With --from-catalogue FILE.xlsx the hubs come from the EC's EDIH catalogue export
instead, imported as 'hubnet import edih-xlsx' does: N hubs that list technologies,
spread over countries (one from each country in order of country code, then a second
from each, and so on; each country's hubs in row order). The catalogue has no
capacity, so each gets illustrative figures in two or three service families, derived
from its ID: the same hub gets the same figures on every run. --hubs all runs every
hub of the catalogue that lists technologies, and --country IT,FI only those of the
countries given (all of them unless --hubs says how many). Hubs from the catalogue
form the network's regional clusters: the default region map for the catalogue's
hubs per country (a cluster for each country with 4 hubs or more, the others grouped
by region), NATS routes inside each cluster and gateways between them.

The hubs run in this process, or, when they need more open files than one process
may have (every connection between two hubs of one process costs two), in as many
processes as they need: this one runs the first hubs, copies of it the others.
--processes N sets the number.`),
		Example: "  hubnet demo\n  hubnet demo --hubs 12 --keep ./demo --base-port 7480\n" +
			"  hubnet demo --from-catalogue edih-catalogue.xlsx --hubs 10\n" +
			"  hubnet demo --from-catalogue edih-catalogue.xlsx --country IT,FI\n" +
			"  hubnet demo --from-catalogue edih-catalogue.xlsx --hubs all",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hubs, err := parseDemoHubs(hubsFlag, fromCatalogue != "", countries != "" && !cmd.Flags().Changed("hubs"))
			if err != nil {
				return err
			}
			codes, err := parseDemoCountries(countries)
			if err != nil {
				return err
			}
			if len(codes) > 0 && fromCatalogue == "" {
				return usagef("--country needs --from-catalogue: the built-in hubs are a fixed set")
			}
			opts := demoOptions{Keep: keep, BasePort: basePort}
			if fromCatalogue != "" {
				all, err := a.readCatalogueFile(fromCatalogue)
				if err != nil {
					return err
				}
				if opts.Profiles, err = catalogueDemoProfiles(all, hubs, codes); err != nil {
					return fail("demo", fmt.Errorf("%s: %w", fromCatalogue, err), "")
				}
				opts.Clusters = protocol.DefaultClusters(catalogue.CountHubs(all))
				where := "spread over countries"
				if len(codes) > 0 {
					where = "in " + strings.Join(codes, ", ")
				}
				clusters := fmt.Sprintf("%d regional clusters", demoClusterCount(opts.Clusters, opts.Profiles))
				if clusters == "1 regional clusters" {
					clusters = "one regional cluster"
				}
				opts.Intro = fmt.Sprintf("%d hubs from %s, %s, in %s (%s).\n"+
					"Their capacity figures are illustrative, derived from each hub's ID.\n\n",
					len(opts.Profiles), filepath.Base(fromCatalogue), where, clusters, catalogue.Attribution)
			} else {
				profiles, err := demoProfiles()
				if err != nil {
					return fail("demo", err, "")
				}
				opts.Profiles = profiles[:hubs]
			}
			if n := len(opts.Profiles); basePort < 0 || basePort+n-1 > 65535 {
				return usagef("--base-port must leave room for %d ports below 65536, got %d", n, basePort)
			}
			opts.Processes = processes
			opts.LogLevel, opts.LogFormat = a.logLevelOr(slog.LevelWarn), a.logFormat
			log := a.logger(cmd.ErrOrStderr(), slog.LevelWarn)
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), log, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&hubsFlag, "hubs", "6", a.T("how many hubs to run: 1 to 12 built-in ones, or with --from-catalogue any number or 'all'"))
	f.StringVar(&countries, "country", "", a.T("with --from-catalogue, run only the hubs of these countries (Eurostat codes, e.g. IT,FI)"))
	f.StringVar(&keep, "keep", "", a.T("keep the hubs' data in DIR, and reuse it on the next run"))
	f.IntVar(&basePort, "base-port", 0, a.T("HTTP port of the first hub, the others following (default: free ports)"))
	f.IntVar(&processes, "processes", 0, a.T("run the hubs in this many processes (default: as many as their open files need)"))
	f.StringVar(&fromCatalogue, "from-catalogue", "", a.T("run hubs imported from the EDIH catalogue's XLSX export `FILE` instead of the built-in ones"))
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
	Clusters []protocol.Cluster // the region map of a new network; none for one full mesh
	Intro    string             // printed before the table of hubs: where they come from
	Keep     string             // the directory to keep the hubs' data in; "" for a temporary one
	BasePort int                // HTTP port of the first hub, the others following; 0 picks free ports
	// Processes is how many processes run the hubs: this one the first share, helper
	// processes the others (demoworker.go). 0 means as many as their open files need.
	Processes int
	LogLevel  slog.Level // of the helper processes' logs
	LogFormat string
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
	netw, adm, err := demoNetwork(root, opts.Clusters)
	if err != nil {
		return fail("demo", err, "remove "+root+" to start afresh")
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
		if _, err := node.Admit(dirs[i], adm, 365*24*time.Hour); err != nil {
			return fail("demo: admit "+p.ID, err, "")
		}
	}

	shares := spread.Ranges(hubs, demoProcesses(netw, profiles, opts.Processes))
	if hubs > demoMaxHubs {
		spread.PaceCollector(len(shares))
	}
	if len(shares) > 1 {
		fmt.Fprintf(stderr, "starting %d hubs in %s, in %d processes ...\n", hubs, root, len(shares))
	} else {
		fmt.Fprintf(stderr, "starting %d hubs in %s ...\n", hubs, root)
	}
	var (
		nodes   []*node.Node
		helpers []*demoHelper
	)
	defer func() {
		// The helpers' hubs started last leave first.
		for i := len(helpers) - 1; i >= 0; i-- {
			helpers[i].stop()
		}
		stopDemo(nodes, dirs, log)
	}()
	wait := demoReadyTimeout + time.Duration(hubs)*demoWaitPerHub
	// The first hub, then the helper processes, which start their hubs while this
	// process starts the rest of its own, each process one hub after another.
	gossip := demoGossip(netw.Clusters)
	ids := make([]string, hubs) // every hub of the demo, which each directory must list
	for i, p := range profiles {
		ids[i] = p.ID
	}
	first, err := startDemoHub(ctx, dirs[0], "", gossip, basePort, 0, log)
	if err != nil {
		return err
	}
	nodes = append(nodes, first)
	for _, sh := range shares[1:] {
		a := demoWorkerArgs{Dirs: dirs[sh[0]:sh[1]], IDs: ids, Join: first.GossipAddr(), Gossip: gossip,
			LogLevel: opts.LogLevel, LogFormat: opts.LogFormat, Procs: len(shares)}
		if basePort > 0 {
			a.BasePort = basePort + sh[0]
		}
		h, err := startDemoHelper(a, stderr)
		if err != nil {
			return fail("demo", err, "")
		}
		helpers = append(helpers, h)
	}
	for i := 1; i < shares[0][1]; i++ {
		n, err := startDemoHub(ctx, dirs[i], first.GossipAddr(), gossip, basePort, i, log)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		if hubs >= demoSettleFrom {
			spread.Settle(n, first, i+1, ctx.Done())
		}
	}
	// The helpers start their hubs at once, each one after another.
	for _, h := range helpers {
		if err := h.started(ctx, wait); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fail("demo", err, "")
		}
	}
	for _, n := range nodes {
		select {
		case <-n.Ready():
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
			return fail("demo", fmt.Errorf("hub %s not ready after %v", n.ID(), wait), "")
		}
	}
	if err := waitDirectories(ctx, nodes, helpers, ids); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fail("demo", err, "run it again with --log-level debug to see why")
	}
	referrals, err := seedReferrals(ctx, nodes)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fail("demo", err, "run it again with --log-level debug to see why")
	}

	fmt.Fprint(stdout, opts.Intro)
	t := newTable(stdout, "HUB", "NAME", "COUNTRY", "URL")
	var url string
	for i, p := range profiles {
		var nf nodeFile
		if i < len(nodes) {
			nf = nodeFileOf(nodes[i])
			err = writeNodeFile(dirs[i], nf)
		} else { // a helper process's hub, which wrote its node.json
			nf, err = readNodeFile(dirs[i])
		}
		if err != nil {
			return fail("demo", err, "")
		}
		t.row(p.ID, p.Name, p.Country, nf.URL)
		url = cmp.Or(url, nf.URL)
	}
	if err := t.flush(); err != nil {
		return err
	}
	self := selfCommand()
	ex := demoExample(profiles)
	fmt.Fprintf(stdout, `
%d hubs are running and every one lists all of them. Try:
  %s --node %s hubs
  %s --node %s hubs %s
  %s -d %s peers
  %s --node %s search --tech %s --country %s
  %s --node %s search --tech %s --live
  curl '%s/v1/search?tech=%s&country=%s&reach=neighbours'
`, hubs, self, url, self, url, profiles[ex].ID, self, dirs[0],
		self, url, demoTech(profiles[ex]), profiles[ex].Country,
		self, url, demoTech(profiles[ex]),
		url, demoTech(profiles[ex]), profiles[ex].Country)
	if referrals > 0 {
		printDemoReferrals(stdout, nodes[0], referrals, self+" -d "+dirs[0])
	}
	fmt.Fprintf(stdout, "\nThe web console of %s: %s/ (to sign in, use the token in %s)\n",
		nodes[0].ID(), url, filepath.Join(dirs[0], node.TokenFile))
	fmt.Fprint(stdout, "\nPress Ctrl-C to stop.\n")

	<-ctx.Done()
	fmt.Fprintln(stderr, "stopping the demo hubs ...")
	return nil
}

// demoNetwork reads the demo network and its admission key from root, or makes them:
// the demo's hubs are admitted by the demo itself, as the network's steward.
func demoNetwork(root string, clusters []protocol.Cluster) (protocol.Network, protocol.AdmissionKey, error) {
	file, keyFile := filepath.Join(root, "network.json"), filepath.Join(root, "admission.key")
	data, err := os.ReadFile(file)
	if err == nil {
		n, err := protocol.ParseNetwork(data)
		if err != nil {
			return protocol.Network{}, protocol.AdmissionKey{}, err
		}
		adm, err := readAdmissionKey(keyFile)
		return n, adm, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return protocol.Network{}, protocol.AdmissionKey{}, err
	}
	n, adm, err := protocol.NewNetwork("demo", rand.Reader)
	if err != nil {
		return protocol.Network{}, protocol.AdmissionKey{}, err
	}
	n.Clusters = clusters
	if len(clusters) > 0 {
		n.GatewayHubs = protocol.DefaultGatewayHubs
	}
	if err := n.Validate(); err != nil {
		return protocol.Network{}, protocol.AdmissionKey{}, err
	}
	for _, f := range []struct {
		path string
		v    any
	}{{keyFile, adm}, {file, n}} {
		data, err := json.MarshalIndent(f.v, "", "  ")
		if err != nil {
			return protocol.Network{}, protocol.AdmissionKey{}, err
		}
		if err := writeSecretFile(f.path, append(data, '\n'), false); err != nil {
			return protocol.Network{}, protocol.AdmissionKey{}, err
		}
	}
	return n, adm, nil
}

// waitDirectories polls until every node's directory, those of the helper processes'
// too, lists every hub of ids.
func waitDirectories(ctx context.Context, nodes []*node.Node, helpers []*demoHelper, ids []string) error {
	wait := demoSyncTimeout + time.Duration(len(ids))*demoWaitPerHub
	deadline := time.Now().Add(wait)
	for {
		missing := missingAmong(nodes, ids)
		for _, h := range helpers {
			if missing != "" {
				break
			}
			m, err := h.missing(ctx)
			if err != nil {
				return err
			}
			missing = m
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hubs did not find each other in %v: %s", wait, missing)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// missingHubs lists the hubs of ids not in n's directory, the first ten of them, ""
// when none is missing.
func missingHubs(n *node.Node, ids []string) string {
	hubs, err := n.Hubs()
	if err != nil {
		return "its directory (" + err.Error() + ")"
	}
	have := make(map[string]bool, len(hubs))
	for _, h := range hubs {
		have[h.ID] = true
	}
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 10 {
		return strings.Join(missing[:10], ", ") + fmt.Sprintf(" and %d more", len(missing)-10)
	}
	return strings.Join(missing, ", ")
}

// stopDemo makes the nodes leave one by one, the last started first, then stops them
// and removes their node.json files. Leaving one at a time lets each leave broadcast
// reach hubs still running; when all leave at once, memberlist's Leave waits in vain.
func stopDemo(nodes []*node.Node, dirs []string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout+time.Duration(len(nodes))*demoLeavePerHub)
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

// demoAllHubs is the number of hubs --hubs all asks for.
const demoAllHubs = -1

// parseDemoHubs reads --hubs: a number, 1 to demoMaxHubs for the built-in hubs and
// any positive number from the catalogue, or "all" from the catalogue. all says
// that --hubs was left out where the default is every hub (with --country).
func parseDemoHubs(v string, fromCatalogue, all bool) (int, error) {
	if all || (fromCatalogue && v == "all") {
		return demoAllHubs, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case fromCatalogue && (err != nil || n < 1):
		return 0, usagef("--hubs must be a number of 1 or more, or 'all', got %q", v)
	case !fromCatalogue && (err != nil || n < 1 || n > demoMaxHubs):
		return 0, usagef("--hubs must be 1 to %d (more with --from-catalogue), got %q", demoMaxHubs, v)
	}
	return n, nil
}

// parseDemoCountries reads --country: Eurostat country codes separated by commas,
// each known and given once. It returns them in upper case, in the order given.
func parseDemoCountries(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		code := strings.ToUpper(strings.TrimSpace(f))
		if _, ok := protocol.CountryByCode(code); !ok {
			return nil, usagef("--country: %q is not a known country code (Eurostat codes separated by commas, e.g. IT,FI)", f)
		}
		if slices.Contains(out, code) {
			return nil, usagef("--country: %s is given twice", code)
		}
		out = append(out, code)
	}
	return out, nil
}

// demoClusterCount returns how many clusters of the region map the profiles' hubs
// are in.
func demoClusterCount(clusters []protocol.Cluster, profiles []protocol.Profile) int {
	n := protocol.Network{Clusters: clusters}
	seen := map[string]bool{}
	for _, p := range profiles {
		seen[n.ClusterOf(p.Country)] = true
	}
	return len(seen)
}

// demoExample returns the index of the hub the demo's printed searches find: the
// last hub in another country than the first, else the last.
func demoExample(profiles []protocol.Profile) int {
	for i := len(profiles) - 1; i > 0; i-- {
		if profiles[i].Country != profiles[0].Country {
			return i
		}
	}
	return len(profiles) - 1
}

// demoTech returns a technology p lists, the first in order of slug: every demo hub
// lists one.
func demoTech(p protocol.Profile) string {
	techs := slices.Sorted(maps.Keys(p.Technologies))
	if len(techs) == 0 {
		return "robotics"
	}
	return techs[0]
}

// catalogueDemoProfiles picks n of the imported hubs that list technologies (all of
// them when n is demoAllHubs), in the countries given or in all, spread over
// countries: the first of each country in order of country code, then the second of
// each, and so on, each country's hubs in row order. Each gets illustrative
// capacity. It fails when fewer than n hubs qualify, or a country given has none.
func catalogueDemoProfiles(hubs []catalogue.Hub, n int, countries []string) ([]protocol.Profile, error) {
	byCountry := map[string][]protocol.Profile{}
	total := 0
	for _, h := range hubs {
		if h.Imported() && len(h.Profile.Technologies) > 0 && (len(countries) == 0 || slices.Contains(countries, h.Country)) {
			byCountry[h.Country] = append(byCountry[h.Country], *h.Profile)
			total++
		}
	}
	for _, c := range countries {
		if len(byCountry[c]) == 0 {
			return nil, fmt.Errorf("--country: %s has no imported hub that lists technologies", c)
		}
	}
	if n == demoAllHubs {
		n = total
	}
	countryCodes := slices.Sorted(maps.Keys(byCountry))
	var out []protocol.Profile
	for round := 0; len(out) < n; round++ {
		picked := false
		for _, c := range countryCodes {
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

// demoReferral is one referral the demo starts with: which hub refers the SME to which
// (indexes into the demo's hubs), what happens to it once both hubs hold it, and the
// state it ends in.
type demoReferral struct {
	from, to int
	req      api.ReferralRequest // To and the consent's recipient are filled in when sent
	steps    []demoStep
	want     protocol.State
}

// demoStep is one action on a demo referral, by the receiving hub or the referring one.
type demoStep struct {
	byReceiver bool
	ev         protocol.Event
	act        api.ReferralAction
}

// demoReferrals are five referrals between the first (up to) three demo hubs, in
// different states, so that a newcomer sees the loop: one completed, one in progress,
// one awaiting the first hub's decision, one declined, one cancelled. The first hub
// takes part in each, so that its list shows them all. The SMEs and people are
// fictional; the needs fit the built-in hubs (DigIT Hub Sweden, Robocoast, DIH
// Slovenia), and are merely valid for hubs from the catalogue.
func demoReferrals(hubs int, now time.Time) []demoReferral {
	a, b, c := 0, 1, min(2, hubs-1)
	consent := func(by, purpose string) protocol.Consent {
		return protocol.Consent{GivenBy: by, GivenAt: now.Add(-2 * time.Hour), Purpose: purpose, Until: now.AddDate(0, 6, 0)}
	}
	receiver := func(ev protocol.Event, act api.ReferralAction) demoStep {
		return demoStep{byReceiver: true, ev: ev, act: act}
	}
	return []demoReferral{
		{from: a, to: b, want: protocol.StateCompleted, req: api.ReferralRequest{
			Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall, Family: protocol.FamilyTestBeforeInvest,
				Technologies: []string{"ai-decision-support", "sensors-vision-processing"},
				Description:  "A bakery with two production lines wants to test machine vision for quality control before it invests: spotting misshapen and burnt products on the line.",
				Maturity:     &protocol.Maturity{Strategy: 40, Readiness: 35, Human: 50, Data: 20, Automation: 15, Green: 30}},
			SME:     protocol.SME{Name: "Example Bakery Oy", Website: "https://bakery.example", ContactName: "Aino Example", ContactEmail: "aino@bakery.example"},
			Consent: consent("managing director", "referral for an AI test-before-invest service"),
		}, steps: []demoStep{
			receiver(protocol.EventAccept, api.ReferralAction{Note: "Our vision lab is free next month; we call the SME this week."}),
			receiver(protocol.EventStart, api.ReferralAction{Note: "Trial on line 2 started."}),
			receiver(protocol.EventComplete, api.ReferralAction{Outcome: "service-delivered", Note: "Two-week vision trial done: 96% of faulty products spotted."}),
		}},
		{from: c, to: a, want: protocol.StateInProgress, req: api.ReferralRequest{
			Need: protocol.Need{Sector: "25", Region: "SE224", Category: protocol.CategorySmall, Family: protocol.FamilyTestBeforeInvest,
				Technologies: []string{"internet-of-things", "digital-twins"},
				Description:  "A machining workshop with 14 CNC machines wants to test IoT sensors and a digital twin for predictive maintenance."},
			SME:     protocol.SME{Name: "Exempel Verkstad AB", ContactName: "Erik Exempel", ContactEmail: "erik@verkstad.example", ContactPhone: "+46 40 000 00 00"},
			Consent: consent("CEO", "referral to a hub in Skåne for an IoT test-before-invest service"),
		}, steps: []demoStep{
			receiver(protocol.EventAccept, api.ReferralAction{Note: "Fits our IoT testbed."}),
			receiver(protocol.EventStart, api.ReferralAction{Note: "Kick-off at the workshop done; sensors go in next week."}),
		}},
		{from: b, to: a, want: protocol.StateReceived, req: api.ReferralRequest{
			Need: protocol.Need{Sector: "O", Region: "SE221", Category: protocol.CategoryPublic, Family: protocol.FamilySkills,
				Technologies: []string{"cybersecurity"},
				Description:  "The IT team of a small municipality, 12 people, wants cybersecurity training in Swedish for its staff and a plan for incident response."},
			SME:     protocol.SME{Name: "Example Municipality", ContactName: "Sara Example", ContactEmail: "it@municipality.example"},
			Consent: consent("head of IT", "referral for cybersecurity training"),
		}},
		{from: a, to: b, want: protocol.StateRejected, req: api.ReferralRequest{
			Need: protocol.Need{Sector: "28", Region: "FI197", Category: protocol.CategoryMedium, Family: protocol.FamilyInvestment,
				Technologies: []string{"robotics"},
				Description:  "A machinery maker looks for financing of a robotic welding cell and help with the application."},
			SME:     protocol.SME{Name: "Esimerkki Konepaja Oy", ContactName: "Mikko Esimerkki", ContactEmail: "mikko@konepaja.example"},
			Consent: consent("CFO", "referral for support to find investments"),
		}, steps: []demoStep{
			receiver(protocol.EventDecline, api.ReferralAction{Reason: "no-capacity", Note: "Our investment advisers are fully booked until spring; try us again in March."}),
		}},
		{from: a, to: c, want: protocol.StateCancelled, req: api.ReferralRequest{
			Need: protocol.Need{Sector: "16", Region: "SI042", Category: protocol.CategoryMicro, Family: protocol.FamilyMaturity,
				Description: "A joinery of 8 people wants a digital maturity assessment before it chooses production planning software."},
			SME:     protocol.SME{Name: "Primer Mizarstvo d.o.o.", ContactName: "Ana Primer", ContactEmail: "ana@mizarstvo.example"},
			Consent: consent("owner", "referral for a digital maturity assessment"),
		}, steps: []demoStep{
			{ev: protocol.EventCancel, act: api.ReferralAction{Reason: "consent-withdrawn", Note: "The owner withdrew consent by phone."}},
		}},
	}
}

// seedReferrals starts the demo with demoReferrals between its hubs and waits until
// both hubs of each hold it in the same state, with nothing left to deliver. It adds
// none when there is one hub, or when the hubs kept from an earlier run have
// referrals already. It returns how many referrals the first hub holds.
func seedReferrals(ctx context.Context, nodes []*node.Node) (int, error) {
	if len(nodes) < 2 {
		return 0, nil
	}
	for _, n := range nodes {
		have, err := n.Referrals(api.ReferralQuery{})
		if err != nil {
			return 0, fmt.Errorf("referrals of %s: %w", n.ID(), err)
		}
		if len(have) > 0 {
			first, err := nodes[0].Referrals(api.ReferralQuery{})
			return len(first), err
		}
	}
	deadline := time.Now().Add(demoSyncTimeout)
	refs := demoReferrals(len(nodes), time.Now())
	ids := make([]string, len(refs))
	for i, r := range refs {
		r.req.To = nodes[r.to].ID()
		r.req.Consent.Recipient = r.req.To
		info, err := nodes[r.from].Refer(r.req)
		if err != nil {
			return 0, fmt.Errorf("refer from %s to %s: %w", nodes[r.from].ID(), r.req.To, err)
		}
		ids[i] = info.Referral.ID
	}
	// Each step waits until both hubs agree on the last, as people would: the SME's
	// identity, sent when the acceptance arrives, reaches the receiver before it
	// moves on.
	want := make([]protocol.State, len(refs))
	for i := range want {
		want[i] = protocol.StateReceived
	}
	for step := 0; ; step++ {
		if err := waitReferrals(ctx, nodes, refs, ids, want, deadline); err != nil {
			return 0, err
		}
		acted := false
		for i, r := range refs {
			if step >= len(r.steps) {
				continue
			}
			s, by := r.steps[step], nodes[r.from]
			if s.byReceiver {
				by = nodes[r.to]
			}
			info, err := by.Act(ids[i], s.ev, s.act)
			if err != nil {
				return 0, fmt.Errorf("%s referral %s at %s: %w", s.ev, ids[i], by.ID(), err)
			}
			want[i], acted = info.Referral.State, true
		}
		if !acted {
			break
		}
	}
	for i, r := range refs {
		if want[i] != r.want {
			return 0, fmt.Errorf("demo referral %s ended %s, want %s", ids[i], want[i], r.want)
		}
	}
	return len(refs), nil
}

// waitReferrals polls until both hubs of each referral hold it in the state wanted,
// with no message between them left to deliver.
func waitReferrals(ctx context.Context, nodes []*node.Node, refs []demoReferral, ids []string, want []protocol.State, deadline time.Time) error {
	for {
		behind := ""
		for i, r := range refs {
			for _, n := range []*node.Node{nodes[r.from], nodes[r.to]} {
				info, err := n.Referral(ids[i])
				switch {
				case err != nil:
					behind = fmt.Sprintf("%s does not hold referral %s yet (%v)", n.ID(), ids[i], err)
				case info.Referral.State != want[i] || info.Pending > 0:
					behind = fmt.Sprintf("%s holds referral %s as %s with %d messages to deliver, want %s",
						n.ID(), ids[i], info.Referral.State, info.Pending, want[i])
				}
				if behind != "" {
					break
				}
			}
			if behind != "" {
				break
			}
		}
		if behind == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo referrals not delivered in %v: %s", demoSyncTimeout, behind)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// printDemoReferrals says how to see the demo's referrals at hub n, and how to decide
// on one that awaits its decision there. cli is the command line that reaches n with
// its token.
func printDemoReferrals(w io.Writer, n *node.Node, count int, cli string) {
	fmt.Fprintf(w, "\n%d referrals between the hubs, in different states: %s referrals\n", count, cli)
	waiting, err := n.Referrals(api.ReferralQuery{Direction: "in", State: protocol.StateReceived})
	if err != nil || len(waiting) == 0 {
		return
	}
	id := waiting[0].Referral.ID
	fmt.Fprintf(w, `One from %s awaits the decision of %s:
  %s referrals show %s
  %s referrals accept %s --note "We take it"
  %s report
`, waiting[0].Partner, n.ID(), cli, id, cli, id, cli)
}
