package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console"
)

// nodeFileName is the file `hubnet run` writes into the data directory while the node
// runs, so other commands given -d DIR find its HTTP API.
const nodeFileName = "node.json"

// leaveTimeout bounds the graceful leave on SIGINT or SIGTERM.
const leaveTimeout = 3 * time.Second

// nodeFile is the content of node.json: where a running node listens. It holds no
// secret: the operator token stays in its own file.
type nodeFile struct {
	ID      string `json:"id"`
	HTTP    string `json:"http"`              // bound HTTP address, host:port
	Gossip  string `json:"gossip"`            // gossip address other hubs join
	Cluster string `json:"cluster"`           // NATS route address
	Gateway string `json:"gateway,omitempty"` // NATS gateway address, in a network with a region map
	URL     string `json:"url"`               // base URL of the HTTP API, "" with HTTP off
}

func newRunCmd(a *app) *cobra.Command {
	def, defConsole := node.DefaultConfig(), console.DefaultConfig()
	var (
		gossipAddr, clusterAddr, httpAddr string
		gossipAdv, clusterAdv, gossip     string
		gatewayAddr, leafAddr             string
		gatewayWait                       time.Duration
		join                              []string
		consolePublic                     bool
		liveRate, readRate                float64
		clockSkewWarn                     time.Duration
		retain                            = retention(def.RetainDetails)
		sessionIdle, sessionMax, linkTTL  time.Duration
		publicURL                         string
		notify                            notifyFlags // notify_flags.go
	)
	cmd := &cobra.Command{
		Use:   "run -d DIR",
		Short: a.T("Run this hub's node until interrupted"),
		Long: a.T(`Run the node of the hub initialised in DIR: gossip membership, the NATS mesh with
the other hubs, and the HTTP API. Once it is ready it writes DIR/node.json with its
addresses, so that 'hubnet -d DIR ...' finds it. SIGINT or SIGTERM makes it leave the
network gracefully (at most 3s), stop, and remove node.json.

Port 0 in an address picks a free port. Every flag can also come from the environment
(HUBNET_GOSSIP_ADDR, HUBNET_JOIN=a:7946,b:7946, ...) or the --config file.`),
		Example: `  hubnet run -d ./hub --join hub-a.example.eu:7946
  hubnet run -d ./hub --gossip-addr 127.0.0.1:0 --cluster-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --gossip local`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.needDataDir(cmd); err != nil {
				return err
			}
			cfg := node.DefaultConfig()
			cfg.DataDir = a.dataDir
			cfg.GossipAddr, cfg.ClusterAddr, cfg.HTTPAddr = gossipAddr, clusterAddr, httpAddr
			cfg.GossipAdvertise, cfg.ClusterAdvertise = gossipAdv, clusterAdv
			gw, err := listenBeside(gatewayAddr, clusterAddr, defaultGatewayPort)
			if err != nil {
				return err
			}
			cfg.GatewayAddr = gw
			if cfg.LeafAddr, err = listenBeside(leafAddr, clusterAddr, defaultLeafPort); err != nil {
				return err
			}
			cfg.GatewayWait = gatewayWait
			cfg.Join = join
			cfg.Gossip = gossip
			cfg.RetainDetails = time.Duration(retain)
			cfg.Token = a.token
			cfg.Limits.LiveQueryRate, cfg.Limits.ReadRate = liveRate, readRate
			cfg.ClockSkewWarn = clockSkewWarn
			cfg.SessionIdle, cfg.SessionMax, cfg.SignInLinkTTL = sessionIdle, sessionMax, linkTTL
			cfg.PublicURL = publicURL
			if err := notify.apply(&cfg); err != nil {
				return err
			}
			cfg.Logger = a.logger(cmd.ErrOrStderr(), slog.LevelInfo)
			cc := console.DefaultConfig()
			cc.Public = consolePublic
			return a.runNode(cmd.Context(), cfg, cc)
		},
	}
	f := cmd.Flags()
	f.StringVar(&gossipAddr, "gossip-addr", def.GossipAddr, a.T("host:port to gossip on, UDP and TCP"))
	f.StringVar(&clusterAddr, "cluster-addr", def.ClusterAddr, a.T("host:port of the NATS route listener other hubs connect to"))
	f.StringVar(&gatewayAddr, "gateway-addr", "", a.T("host:port of the NATS gateway listener the hubs of other clusters connect to, in a network with a region map\n(default: port 7222 at the host of --cluster-addr, a free port if its port is 0)"))
	f.StringVar(&leafAddr, "leaf-addr", "", a.T("host:port of the NATS leaf node listener the other hubs of its cluster connect to, on a gateway hub of a network with gateway hubs\n(default: port 7422 at the host of --cluster-addr, a free port if its port is 0)"))
	f.DurationVar(&gatewayWait, "gateway-wait", def.GatewayWait, a.T("how long a starting hub waits for gossip to show a hub of another cluster, or of its own, before its NATS server starts"))
	f.StringVar(&httpAddr, "http-addr", def.HTTPAddr, a.T(`host:port of the HTTP API and console; "" turns HTTP off`))
	f.StringSliceVar(&join, "join", nil, a.T("gossip address (host:port) of a hub to join; repeat or separate with commas"))
	f.StringVar(&gossipAdv, "gossip-advertise", "", a.T("host:port other hubs reach the gossip listener at (default: the bound address)"))
	f.StringVar(&clusterAdv, "cluster-advertise", "", a.T("host:port other hubs open NATS routes to (default: the bound address)"))
	f.StringVar(&gossip, "gossip", def.Gossip, a.T("gossip timers: lan, wan (hubs across regions) or local (one machine)"))
	f.BoolVar(&consolePublic, "console-public", defConsole.Public, a.T("let the web console show the directory and search without signing in"))
	lim := node.DefaultLimits()
	f.Float64Var(&liveRate, "live-query-rate", lim.LiveQueryRate, a.T("live queries a second one address may ask without the operator token; negative: no limit"))
	f.Float64Var(&readRate, "read-rate", lim.ReadRate, a.T("other API requests a second one address may make without the operator token; negative: no limit"))
	f.DurationVar(&clockSkewWarn, "clock-skew-warn", time.Minute, a.T("warn when this hub's clock is further than this from its peers'"))
	f.Var(&retain, "retain-details", a.T("how long after a referral ends to keep the SME's identity and contacts: days (90d) or hours (720h)"))
	f.DurationVar(&sessionIdle, "session-idle", def.SessionIdle, a.T("a person's session ends after this long unused"))
	f.DurationVar(&sessionMax, "session-max", def.SessionMax, a.T("a person's session ends this long after sign-in, used or not"))
	f.DurationVar(&linkTTL, "sign-in-link-ttl", def.SignInLinkTTL, a.T("how long a one-time sign-in link of 'hubnet users add' and 'reset' works"))
	f.StringVar(&publicURL, "public-url", "", a.T("the console's address as people reach it, such as https://hub.example.eu, for sign-in links (default: http:// and --http-addr)"))
	notify.register(a, f)
	return cmd
}

// defaultGatewayPort and defaultLeafPort are the gateway and leaf node ports beside
// the default route port 6222.
const (
	defaultGatewayPort = "7222"
	defaultLeafPort    = "7422"
)

// listenBeside returns the address of a gateway or leaf node listener: addr when
// given, else the host of the route listener clusterAddr with port def, or a free
// port when the route listener has port 0.
func listenBeside(addr, clusterAddr, def string) (string, error) {
	if addr != "" {
		return addr, nil
	}
	host, port, err := net.SplitHostPort(clusterAddr)
	if err != nil {
		return "", usagef("--cluster-addr %q: give host:port", clusterAddr)
	}
	if port == "0" {
		return net.JoinHostPort(host, "0"), nil
	}
	return net.JoinHostPort(host, def), nil
}

// retention is the value of --retain-details: a time of more than 0, in days (90d) or
// as a Go duration (720h).
type retention time.Duration

func (r *retention) String() string {
	d := time.Duration(*r)
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

func (r *retention) Set(s string) error {
	d, err := parseDays(s)
	if err != nil {
		return err
	}
	*r = retention(d)
	return nil
}

func (r *retention) Type() string { return "duration" }

// parseDays reads a time of more than 0 such as 90d, 36h or 90m.
func parseDays(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			d = time.Duration(n) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("give days such as 90d, or hours such as 720h")
	case d <= 0:
		return 0, fmt.Errorf("must be more than 0, such as 90d: the SME's details cannot be kept for no time")
	}
	return d, nil
}

// runNode starts a node, its web console mounted with cc, and runs it until ctx is
// cancelled, then leaves gracefully.
func (a *app) runNode(ctx context.Context, cfg node.Config, cc console.Config) (err error) {
	log := cfg.Logger
	n, err := node.New(cfg)
	if err != nil {
		hint := ""
		if errors.Is(err, node.ErrNotInitialised) {
			hint = a.T("initialise it first: %s", shellJoin("hubnet", "init", "-d", cfg.DataDir, "--network", "network.json", "--id", "ID"))
		}
		return fail(a.T("open hub in %s", cfg.DataDir), err, hint)
	}
	console.Mount(n, cc)
	if err := n.Start(ctx); err != nil {
		// Start releases what it acquired when it fails.
		return fail(a.T("start hub %s", n.ID()), err, "check that the addresses are free, or choose others with --gossip-addr, --cluster-addr and --http-addr")
	}
	log = log.With("hub", n.ID())
	defer func() {
		if serr := n.Shutdown(); serr != nil && err == nil {
			err = fail(a.T("stop hub %s", n.ID()), serr, "")
		}
	}()

	select {
	case <-n.Ready():
	case <-ctx.Done():
		return nil
	}
	nf := nodeFileOf(n)
	nodeFilePath := filepath.Join(cfg.DataDir, nodeFileName)
	if err := writeNodeFile(cfg.DataDir, nf); err != nil {
		// A full disk: the hub still serves reads and gossip, and takes writes once
		// the disk does. A node.json left by an earlier run would point the commands
		// at the wrong addresses.
		removeNodeFile(cfg.DataDir, log)
		log.Warn("no node file: 'hubnet -d DIR' commands will not find this hub; give them --node URL",
			"err", err, "url", nf.URL)
		nodeFilePath = ""
	} else {
		defer removeNodeFile(cfg.DataDir, log)
	}
	log.Info("hub ready", "url", nf.URL, "gossip", nf.Gossip, "cluster", nf.Cluster, "node_file", nodeFilePath,
		"retain_details", cfg.RetainDetails)

	<-ctx.Done()
	log.Info("leaving the network")
	lctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	if err := n.Leave(lctx); err != nil {
		log.Warn("leave failed; the others will notice the hub is gone", "err", err)
	}
	return nil
}

// nodeFileOf describes where a started node listens.
func nodeFileOf(n *node.Node) nodeFile {
	a := n.Addrs()
	nf := nodeFile{ID: n.ID(), HTTP: a.HTTP, Gossip: a.Gossip, Cluster: a.Cluster, Gateway: a.Gateway}
	if a.HTTP != "" {
		nf.URL = "http://" + dialable(a.HTTP)
	}
	return nf
}

// dialable replaces an unspecified host (0.0.0.0, ::) with loopback.
func dialable(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// writeNodeFile writes DIR/node.json atomically: a reader sees the old file, no file,
// or the whole new one.
func writeNodeFile(dir string, nf nodeFile) error {
	data, err := json.MarshalIndent(nf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", nodeFileName, err)
	}
	tmp, err := os.CreateTemp(dir, nodeFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", nodeFileName, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", nodeFileName, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", nodeFileName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", nodeFileName, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, nodeFileName)); err != nil {
		return fmt.Errorf("write %s: %w", nodeFileName, err)
	}
	return nil
}

// readNodeFile reads DIR/node.json.
func readNodeFile(dir string) (nodeFile, error) {
	var nf nodeFile
	data, err := os.ReadFile(filepath.Join(dir, nodeFileName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nf, fmt.Errorf("%s has no %s, so no 'hubnet run' is serving it", dir, nodeFileName)
		}
		return nf, err
	}
	if err := json.Unmarshal(data, &nf); err != nil {
		return nf, fmt.Errorf("%s: %w", filepath.Join(dir, nodeFileName), err)
	}
	return nf, nil
}

// removeNodeFile removes DIR/node.json when the node stops.
func removeNodeFile(dir string, log *slog.Logger) {
	if err := os.Remove(filepath.Join(dir, nodeFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("remove node file", "err", err)
	}
}
