package node

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Files in a data directory.
const (
	StoreFile = "hubnet.db" // the bbolt store
	TokenFile = "token"     // the operator's HTTP token, mode 0600
)

// Node is a running hub: its store, its gossip membership, its embedded NATS server
// and its HTTP API. Create one with New, then Start it; Leave announces a graceful
// departure and Shutdown stops everything. All methods are safe for concurrent use.
type Node struct {
	alive sync.Map // member ID -> aliveChecked: metadata that passed NotifyAlive's checks
	cfg   Config
	log   *slog.Logger
	store *store.Store
	id    protocol.Identity
	net   protocol.Network
	token string
	cert  atomic.Pointer[protocol.Certificate] // the hub's own; an empty one before it is admitted
	old   [][32]byte                           // earlier box keys, to open what was sealed to them

	trust    *trust
	keyring  *memberlist.Keyring
	keyRolls keyRolls // the gossip key rolls that follow revocations (keyroll.go)

	bus       *bus
	ml        *memberlist.Memberlist
	gossipTr  *gossipTransport // memberlist's network
	delegate  *delegate
	routeAddr string // host:port other hubs route to
	cluster   string // the hub's cluster of the region map, fixed at Start; "" without one
	// gatewayPort and boundRoutePort are the ports the NATS server binds in a network
	// with clusters, fixed before it starts; 0 without clusters. leafPort is the port
	// of the leaf node listener of a gateway hub, in a network with gateway hubs.
	gatewayPort, boundRoutePort, leafPort int
	// leafHub is set while the hub is a leaf hub of its cluster: decided at Start,
	// cleared when it becomes a gateway hub (repairLeaf).
	leafHub    atomic.Bool
	heldMu     sync.Mutex     // guards held
	held       []net.Listener // hold the ports until the server binds them
	gossipAddr string         // host:port other hubs join at
	httpLn     net.Listener
	http       *http.Server
	metrics    *metrics
	refusals   *refusals  // counts and logs, bounded, what the hub refuses
	limits     *limiter   // Config.Limits at work
	clock      *clockSkew // how far the clock is from the peers'
	dir        *directory
	index      *index                             // other hubs' profiles, ready for search
	selfCand   atomic.Pointer[protocol.Candidate] // the own profile, for live queries
	queries    *queries                           // live queries waiting for answers
	mail       *mailbox                           // the subscription of everything addressed to this hub
	referrals  *referrals                         // the referral engine
	access     *access                            // sessions and API tokens' last use
	notify     *notifier                          // e-mails and webhooks of events (notify.go)

	wakeCh chan struct{} // buffered 1: wakes the reconcile loop
	ready  chan struct{} // closed once the first join attempt and reconcile are done
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	selfMu sync.Mutex // serializes announcements of the node's own profile
	keyMu  sync.Mutex // serializes changes of the gossip keyring with their storing
	// metaMu serializes memberlist's UpdateNode; metaDirty is set while metadata newer
	// than the last sent waits for it (setMeta).
	metaMu    sync.Mutex
	metaDirty atomic.Bool

	gwMu           sync.Mutex      // guards gwChecked, gwMissingSince, gwRepairs and gwUp
	gwChecked      time.Time       // when repairGateways last looked
	gwMissingSince time.Time       // since when a cluster gossip shows has had no gateway; zero if none
	gwRepairs      int             // restarts for a missing gateway since none was missing
	gwUp           map[string]bool // remote clusters (NATS names) with an outbound gateway at the last look
	fewSince       time.Time       // since when a leaf hub has seen too few gateway hubs in its cluster

	closing atomic.Bool // set when stop begins: what fails from then on is the stop's doing
	onMesh  atomic.Bool // the NATS server listens: the gossiped metadata shows the cluster

	mu       sync.Mutex // guards started, shutdown and routes
	started  bool
	shutdown bool
	routes   []route // added by Handle before Start
}

// InitResult tells the operator what `hubnet init` made.
type InitResult struct {
	ID        string `json:"id"`
	SignKey   []byte `json:"sign_key"`
	BoxKey    []byte `json:"box_key"`
	TokenFile string `json:"token_file"`
	Revision  uint64 `json:"revision"` // of the profile applied, 0 if none
}

// InitDataDir prepares dir for a hub called id in network net: a store with fresh keys,
// an operator token and, when p is not nil, the hub's first profile (its ID is set to id
// when empty). An invalid profile is refused before anything is written.
func InitDataDir(dir string, net protocol.Network, id string, p *protocol.Profile) (InitResult, error) {
	if err := net.Validate(); err != nil {
		return InitResult{}, err
	}
	ident, err := protocol.NewIdentity(id, rand.Reader)
	if err != nil {
		return InitResult{}, err
	}
	if p != nil {
		if p.ID == "" {
			p.ID = id
		}
		p.Normalize()
		if p.ID != id {
			return InitResult{}, &protocol.ValidationError{What: "profile", Problems: []protocol.FieldError{{Field: "id", Rule: "must be the hub's ID " + id}}}
		}
		if err := p.Validate(); err != nil {
			return InitResult{}, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return InitResult{}, fmt.Errorf("create data directory: %w", err)
	}
	dbPath, tokenPath := filepath.Join(dir, StoreFile), filepath.Join(dir, TokenFile)
	for _, f := range []string{dbPath, tokenPath} {
		if _, err := os.Stat(f); err == nil {
			return InitResult{}, fmt.Errorf("init %s: %s exists: %w", dir, filepath.Base(f), ErrInitialised)
		}
	}
	res, err := initFiles(dbPath, tokenPath, ident, net, p)
	if err != nil {
		// Leave nothing half-made behind: the directory can be initialised again.
		os.Remove(dbPath)
		os.Remove(tokenPath)
		return InitResult{}, err
	}
	return res, nil
}

func initFiles(dbPath, tokenPath string, ident protocol.Identity, net protocol.Network, p *protocol.Profile) (InitResult, error) {
	s, err := store.Open(dbPath, nil)
	if err != nil {
		return InitResult{}, err
	}
	defer s.Close()
	if err := s.CreateIdentity(ident, net); err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	if err := writeToken(tokenPath); err != nil {
		return InitResult{}, err
	}
	res := InitResult{ID: ident.ID, SignKey: ident.SignPublic(), BoxKey: ident.BoxPub[:], TokenFile: tokenPath}
	if p != nil {
		saved, err := s.PutSelf(*p)
		if err != nil {
			return InitResult{}, err
		}
		res.Revision = saved.Revision
	}
	return res, nil
}

func writeToken(path string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("generate token: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(b) + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write token: %w", err)
	}
	// On disk before init says it is done, and its name in the directory too.
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write token: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes the entries of dir durable: files just created in it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ReadToken reads the operator token from a data directory. An empty token file is an
// error: it would let nobody in, or, compared carelessly, anybody.
func ReadToken(dir string) (string, error) {
	path := filepath.Join(dir, TokenFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read operator token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("operator token %s is empty: write a new one, such as the output of 'openssl rand -hex 32', into it (mode 0600)", path)
	}
	return tok, nil
}

// New opens the node's data directory and checks its configuration. It binds nothing:
// Start does. A data directory in use by another process fails with store.ErrInUse.
func New(cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	s, err := store.Open(filepath.Join(cfg.DataDir, StoreFile), &store.Options{Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	n, err := newNode(cfg, s)
	if err != nil {
		s.Close()
		return nil, err
	}
	return n, nil
}

func newNode(cfg Config, s *store.Store) (*Node, error) {
	ident, err := s.Identity()
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	netw, err := s.Network()
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	// A data directory made before admission has a network without admission keys:
	// the node runs, for its operator, but admits nobody and is admitted by nobody
	// until it is given the steward's network.json (see certInfo).
	probe := netw
	if len(probe.AdmissionKeys) == 0 {
		probe.AdmissionKeys = [][]byte{make([]byte, 32)}
	}
	if err := probe.Validate(); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	token := cfg.Token
	if token == "" {
		if token, err = ReadToken(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	cert, err := s.Certificate()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	old, err := s.OldBoxKeys()
	if err != nil {
		return nil, err
	}
	gk, err := s.GossipKeys()
	if err != nil {
		return nil, err
	}
	keyring, err := memberlist.NewKeyring(gk.Keys, gk.Primary)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: gossip keyring: %w", cfg.DataDir, err)
	}
	n := &Node{
		cfg:     cfg,
		log:     cfg.Logger.With("hub", ident.ID),
		store:   s,
		id:      ident,
		net:     netw,
		token:   token,
		old:     old,
		keyring: keyring,
		wakeCh:  make(chan struct{}, 1),
		ready:   make(chan struct{}),
	}
	n.cert.Store(&cert)
	n.trust = newTrust(n, netw)
	n.delegate = &delegate{trust: n.trust}
	n.refusals = newRefusals(n.log)
	n.limits = newLimiter(cfg.Limits)
	n.clock = newClockSkew()
	n.metrics = newMetrics(n)
	n.dir = newDirectory(n)
	n.index = newIndex()
	n.queries = newQueries()
	n.referrals = newReferrals(n)
	n.mail = newMailbox(ident.ID, map[string]nats.MsgHandler{
		protocol.KindProfile:   n.dir.serveProfile,
		protocol.KindReferral:  n.referrals.onDelivery,
		protocol.KindQuery:     n.onQuery,
		protocol.KindGossipKey: n.onKeyStep,
	}, n.onAnswer, func(reason string, err error) { n.drop("", reason, err) })
	n.access = newAccess(n)
	n.notify = newNotifier(n)
	return n, nil
}

// ID returns the hub's ID.
func (n *Node) ID() string { return n.id.ID }

// Now returns the time on the node's clock, Config.Now.
func (n *Node) Now() time.Time { return n.cfg.Now() }

// Logger returns the node's logger, Config.Logger; never nil.
func (n *Node) Logger() *slog.Logger { return n.log }

// CheckToken reports whether token is the operator token, comparing in constant
// time. An empty token matches nothing, not even a token file left empty by a crash.
func (n *Node) CheckToken(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(n.token)) == 1
}

// Start binds the node's listeners, starts its NATS server, joins the network and
// serves HTTP. It does not wait for peers: Ready tells when the first join attempt is
// done. A node that reaches no peer keeps retrying in the background.
func (n *Node) Start(ctx context.Context) (err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started || n.shutdown {
		return errors.New("node: already started")
	}
	n.started = true
	n.ctx, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.shutdown = true
			n.stop()
		}
	}()

	n.checkOwnCert()
	if err := n.trust.load(); err != nil {
		return err
	}
	n.cluster = n.net.ClusterOf(n.ownCountry())
	if n.cluster == "" {
		// One full mesh: the NATS server starts first, then gossip shows its route.
		if err := n.startBus(nil); err != nil {
			return err
		}
		n.onMesh.Store(true)
		if err := n.dir.load(); err != nil {
			return err
		}
		if err := n.subscribe(); err != nil {
			return err
		}
		if n.ml, err = n.createMemberlist(); err != nil {
			return fmt.Errorf("gossip on %s: %w", n.cfg.GossipAddr, err)
		}
	} else {
		// Clusters: gossip first, so that the NATS server starts with gateways to
		// dial, which nats-server cannot add later. Until the server listens the hub
		// gossips no cluster, so no hub dials its route or gateway yet; then it
		// gossips its cluster, and they do.
		if err := n.reserveAddrs(); err != nil {
			return err
		}
		if err := n.dir.load(); err != nil {
			return err
		}
		if n.ml, err = n.createMemberlist(); err != nil {
			return fmt.Errorf("gossip on %s: %w", n.cfg.GossipAddr, err)
		}
		n.awaitGatewayPeers(ctx)
		n.chooseRole()
		if err := n.startBus(n.gatewayRemotes()); err != nil {
			return err
		}
		if err := n.subscribe(); err != nil {
			return err
		}
		n.onMesh.Store(true)
		n.selfMu.Lock()
		_, err := n.publishSelf()
		n.selfMu.Unlock()
		if err != nil {
			return err
		}
	}
	if n.cfg.HTTPAddr != "" {
		if n.httpLn, err = net.Listen("tcp", n.cfg.HTTPAddr); err != nil {
			return fmt.Errorf("http on %s: %w", n.cfg.HTTPAddr, err)
		}
		// A request, body included, is read within 30 s: a slow sender cannot hold a
		// connection open for ever.
		h := n.handler(n.routes)
		if n.cfg.WrapHTTP != nil {
			h = n.cfg.WrapHTTP(h)
		}
		n.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
		n.wg.Go(func() {
			if err := n.http.Serve(n.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("http server stopped", "err", err)
			}
		})
	}
	n.wg.Go(n.dir.run)
	n.wg.Go(func() { n.index.run(n.ctx) })
	n.wg.Go(n.referrals.run)
	n.wg.Go(n.trust.runSeen)
	n.wg.Go(n.runAccess)
	n.wg.Go(n.notify.run)
	n.wg.Go(n.notify.runLinks)
	n.log.Info("node started", "gossip", n.GossipAddr(), "route", n.routeAddr, "cluster", n.cluster, "gateway", n.gatewayAddr(), "http", n.HTTPAddr())
	return nil
}

// ownCountry returns the country of the hub's stored profile, "" without one.
func (n *Node) ownCountry() string {
	p, _, err := n.store.Self()
	if err != nil {
		return ""
	}
	return p.Country
}

// subscribe subscribes the node's handlers on the bus.
func (n *Node) subscribe() error {
	if err := n.mail.subscribe(n.bus.nc); err != nil {
		return err
	}
	if err := n.subscribeQueries(); err != nil {
		return err
	}
	return n.dir.subscribe()
}

// busSpec returns the bus's settings from the configuration.
func (n *Node) busSpec(remotes map[string][]string) busSpec {
	chost, cport, _ := splitHostPort(n.cfg.ClientAddr)
	rhost, rport, _ := splitHostPort(n.cfg.ClusterAddr)
	ghost, gport, _ := splitHostPort(n.cfg.GatewayAddr)
	lhost, _, _ := splitHostPort(n.cfg.LeafAddr)
	return busSpec{net: n.net, id: n.id, token: n.token, check: n.routeCheck, ref: n.refusals,
		admission: func() protocol.Certificate { return *n.cert.Load() }, gone: n.dir.linkGone,
		clientHost: chost, clientPort: cport, routeHost: rhost, routePort: rport, routeAdvertise: n.cfg.ClusterAdvertise,
		cluster: n.cluster, gatewayHost: ghost, gatewayPort: gport, remotes: remotes, leafHost: lhost}
}

// startBus starts the NATS server, with remotes as its gateways to dial in a network
// with clusters. Without clusters it sets the route address from the bound port; with
// them reserveAddrs has set it, and the gateway's, already.
func (n *Node) startBus(remotes map[string][]string) error {
	spec := n.busSpec(remotes)
	if n.cluster != "" {
		spec.routePort, spec.gatewayPort = n.boundRoutePort, n.gatewayPort
		spec.gatewayAdv = n.gatewayAddr()
		if n.net.GatewayHubs > 0 {
			spec.leafPort = n.leafPort
		}
		if n.leafHub.Load() {
			// A leaf hub binds none of its ports but the client's: it holds the
			// gateway and leaf ports for the day it becomes a gateway hub.
			spec.leaf, spec.leafRemotes = true, n.leafRemotes("")
		} else {
			n.release()
		}
	}
	var err error
	if n.bus, err = startBus(spec, n.log); err != nil {
		return err
	}
	if n.cluster == "" {
		n.routeAddr = n.advertisedRoute(n.bus.clusterAddr())
	}
	return nil
}

// reserveAddrs fixes the route and gateway ports before the NATS server binds them,
// picking free ones for port 0, and sets the addresses the hub gossips.
func (n *Node) reserveAddrs() error {
	rhost, rport, _ := splitHostPort(n.cfg.ClusterAddr)
	ghost, gport, _ := splitHostPort(n.cfg.GatewayAddr)
	var err error
	var held net.Listener
	if n.boundRoutePort, held, err = reservePort(rhost, rport); err != nil {
		return fmt.Errorf("route listener: %w", err)
	}
	if held != nil {
		n.held = append(n.held, held)
	}
	if n.gatewayPort, held, err = reservePort(ghost, gport); err != nil {
		return fmt.Errorf("gateway listener: %w", err)
	}
	if held != nil {
		n.held = append(n.held, held)
	}
	if n.net.GatewayHubs > 0 {
		lhost, lport, _ := splitHostPort(n.cfg.LeafAddr)
		if n.leafPort, held, err = reservePort(lhost, lport); err != nil {
			return fmt.Errorf("leaf node listener: %w", err)
		}
		if held != nil {
			n.held = append(n.held, held)
		}
	}
	ip := net.ParseIP(rhost)
	if rhost == "" {
		ip = net.IPv4zero
	}
	n.routeAddr = n.advertisedRoute(&net.TCPAddr{IP: ip, Port: n.boundRoutePort})
	return nil
}

// gatewayAddr returns the host:port other clusters dial this hub's gateway at, "" when
// it has none: the host of the advertised route, the gateway's port.
func (n *Node) gatewayAddr() string {
	if n.cluster == "" || n.gatewayPort == 0 || n.leafHub.Load() {
		return ""
	}
	host, _, err := net.SplitHostPort(n.routeAddr)
	if err != nil {
		return ""
	}
	return hostPort(host, n.gatewayPort)
}

// advertisedRoute is the host:port other hubs open NATS routes to, for a route
// listener bound to a.
func (n *Node) advertisedRoute(a *net.TCPAddr) string {
	if n.cfg.ClusterAdvertise != "" {
		return n.cfg.ClusterAdvertise
	}
	if a.IP == nil || a.IP.IsUnspecified() {
		host := "127.0.0.1"
		if h, _, err := splitHostPort(n.cfg.GossipAdvertise); err == nil && h != "" {
			host = h
		} else if ip := outboundIP(); ip != nil {
			host = ip.String()
		}
		return hostPort(host, a.Port)
	}
	return hostPort(a.IP.String(), a.Port)
}

// outboundIP returns the first non-loopback unicast address of the host, or nil.
func outboundIP() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() {
			return ipn.IP
		}
	}
	return nil
}

// Ready is closed when the node has made its first attempt to join and has reconciled
// its routes and directory with what it found.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Addrs returns the bound addresses; empty before Start.
func (n *Node) Addrs() api.Addrs {
	a := api.Addrs{HTTP: n.HTTPAddr(), Gossip: n.GossipAddr(), Cluster: n.routeAddr, Gateway: n.gatewayAddr()}
	if n.bus != nil {
		a.Client = n.bus.clientURL()
	}
	return a
}

// HTTPAddr returns the bound HTTP address, "" when HTTP is off or not started.
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return ""
	}
	return n.httpLn.Addr().String()
}

// GossipAddr returns the address other hubs join this one at; "" before Start.
func (n *Node) GossipAddr() string { return n.gossipAddr }

// Leave tells the other hubs this one is going, so they mark it unreachable at once
// rather than after the failure detector's timeout. Shutdown must still be called.
func (n *Node) Leave(ctx context.Context) error {
	if n.ml == nil {
		return nil
	}
	timeout := 2 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if err := n.ml.Leave(timeout); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	return nil
}

// Shutdown stops the node without telling the others, as a crash would, and closes
// its store. It is safe to call more than once.
func (n *Node) Shutdown() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.shutdown {
		return nil
	}
	n.shutdown = true
	return n.stop()
}

// stop releases everything Start acquired, in reverse order.
func (n *Node) stop() error {
	n.closing.Store(true)
	n.release()
	if n.cancel != nil {
		n.cancel()
	}
	if n.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		n.http.Shutdown(ctx)
		cancel()
	}
	if n.ml != nil {
		n.ml.Shutdown()
	}
	n.referrals.close()
	n.mail.close()
	n.wg.Wait()
	defer n.refusals.close()
	if n.bus != nil {
		n.bus.close()
	}
	return n.store.Close()
}

// wake asks the reconcile loop to run soon. It never blocks.
func (n *Node) wake() {
	select {
	case n.wakeCh <- struct{}{}:
	default:
	}
}
