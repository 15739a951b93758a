package node

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/protocol"
)

// bus is the node's embedded NATS server and its in-process client connection. The
// server's cluster routes follow the membership: setRoutes is called with the route
// address of every live member of the hub's cluster and reloads the server when the
// set changed.
//
// Routes and gateways run over TLS 1.3 and both ends present a certificate made from
// the hub's Ed25519 signing key, carrying the hub's admission certificate. There is no
// certificate authority: a route or gateway connection is accepted, in either
// direction, only when the key on the other side is the certified signing key of a hub
// admitted to the network and not revoked (check). The admission certificate comes
// with the handshake so that a hub can accept a route from one it has not heard of by
// gossip yet: the hub that dials has often learnt of the other first.
// So a process without admission cannot attach to the mesh, and a revoked hub's routes
// are closed by a reload (recheck), its gateways by cutGateways.
//
// In a network with a region map the server is a gateway of its cluster, named by
// protocol.Network.NATSCluster. nats-server cannot reload gateway settings, so the
// remote gateways are those given at start; the others are discovered from inbound
// connections and from the cluster's routes. restart replaces the server by a new one
// on the same ports, with fresh remotes; the client connection follows it.
type bus struct {
	nc   *nats.Conn
	cur  *inProcess // the server the client connection dials, replaced by restart
	spec busSpec
	log  *slog.Logger
	gw   *gatewayConns // inbound gateway connections by peer key; nil without a gateway

	mu     sync.Mutex        // serializes reloads and restarts; guards srv, base and routes
	srv    *server.Server    // the running server
	base   *server.Options   // as started; cloned for every reload, never changed
	routes map[string]string // hub ID -> route host:port currently configured
}

// busSpec is what the bus is started with.
type busSpec struct {
	net   protocol.Network
	id    protocol.Identity
	token string
	// check decides whether the other end of a route or gateway is an admitted hub,
	// from the key of its TLS certificate (nil without one) and the admission
	// certificate it carries (nil without one).
	check func(ed25519.PublicKey, *protocol.Certificate) error
	// admission returns the hub's own admission certificate, carried in its TLS
	// certificate; one without a signature is not carried.
	admission func() protocol.Certificate
	// gone reports whether host:port is the route or gateway address of a hub that is
	// no longer a member: the server failing to dial it again is expected, not an
	// error.
	gone func(addr string) bool
	ref  *refusals // logs the server's refusals, bounded

	clientHost, routeHost string
	clientPort, routePort int    // 0 picks a free port
	routeAdvertise        string // host:port, or "" for the bound address

	// cluster is the hub's cluster of the region map, "" without one: then there is no
	// gateway, and the fields below are unused.
	cluster     string
	gatewayHost string
	gatewayPort int    // 0 picks a free port
	gatewayAdv  string // host:port the other clusters dial
	// remotes are the gateways to dial at start: cluster name -> host:port of some of
	// its hubs.
	remotes map[string][]string

	// In a network whose clusters have gateway hubs (protocol.Network.GatewayHubs), a
	// gateway hub listens for the leaf hubs of its cluster on leafHost:leafPort, and a
	// leaf hub (leaf) has neither routes nor a gateway: its server joins the cluster
	// as a leaf node of one of the gateway hubs at leafRemotes (host:port).
	leafHost    string
	leafPort    int
	leaf        bool
	leafRemotes []string
}

// gateway reports whether the server is a gateway of its cluster.
func (s *busSpec) gateway() bool { return s.cluster != "" && !s.leaf }

// leafUser is the user name a leaf hub's server gives the gateway hub it connects to,
// with the network's name as password. Neither is a secret: as on routes and
// gateways, the TLS handshake decides, accepting only an admitted hub's key.
const leafUser = "hubnet-leaf"

// inProcess hands the client connection the current server: after a restart it
// reconnects to the new one.
type inProcess struct{ srv atomic.Pointer[server.Server] }

func (p *inProcess) InProcessConn() (net.Conn, error) {
	s := p.srv.Load()
	if s == nil {
		return nil, errors.New("nats server not running")
	}
	return s.InProcessConn()
}

// startBus starts the embedded server and connects to it in-process. spec.check decides
// whether the other end of a route or gateway is an admitted hub; it is given a nil key
// for a connection that presents no certificate. The client listener, on loopback,
// takes the operator's token.
// inProcessTimeout bounds the handshake of a hub's connection to its own server.
const inProcessTimeout = 15 * time.Second

func startBus(spec busSpec, log *slog.Logger) (*bus, error) {
	b := &bus{spec: spec, log: log, cur: &inProcess{}, routes: map[string]string{}}
	if spec.cluster != "" {
		b.gw = newGatewayConns()
	}
	if err := b.startServer(); err != nil {
		return nil, err
	}
	// The handshake with its own server may wait for the CPU: with hundreds of hubs
	// starting on two cores, nats.go's default of 2 s failed a hub's start (hub 32 of
	// the 457 of hubnet-bench scale).
	nc, err := nats.Connect("", nats.InProcessServer(b.cur), nats.Name(spec.id.ID), nats.Token(spec.token),
		nats.Timeout(inProcessTimeout),
		nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.ReconnectJitter(50*time.Millisecond, 0))
	if err != nil {
		b.srv.Shutdown()
		return nil, fmt.Errorf("nats in-process connection: %w", err)
	}
	b.nc = nc
	return b, nil
}

// startServer starts a server from spec and makes it current. The ports it binds are
// written back into spec, so a restart binds the same. Callers hold mu, or own b.
func (b *bus) startServer() error {
	spec := b.spec
	routeTLS, err := peerTLS(spec.id, spec.admission, spec.check, nil)
	if err != nil {
		return err
	}
	if spec.leaf {
		return b.startLeafServer(routeTLS)
	}
	name := spec.net.NATSCluster(spec.cluster)
	opts := spec.clientOptions()
	opts.Cluster = server.ClusterOpts{
		Name:      name,
		Host:      spec.routeHost,
		Port:      randomIfZero(spec.routePort),
		Advertise: spec.routeAdvertise,
		TLSConfig: routeTLS,
		// A handshake across Europe takes a few round trips of under 100 ms;
		// on a machine starting hundreds of hubs, 2 s timed out by the thousand.
		TLSTimeout:     5,
		PoolSize:       -1, // one route per pair of hubs; no pinned accounts
		ConnectRetries: 5,
	}
	opts.CustomRouterAuthentication = &routeAuth{spec.check} // a pointer: reloads compare it
	opts.Routes = b.urls(b.routes)
	if spec.cluster != "" {
		gwTLS, err := peerTLS(spec.id, spec.admission, spec.check, b.gw)
		if err != nil {
			return err
		}
		opts.Gateway = server.GatewayOpts{
			Name:      name,
			Host:      spec.gatewayHost,
			Port:      randomIfZero(spec.gatewayPort),
			Advertise: spec.gatewayAdv,
			TLSConfig: gwTLS,
			// Handshakes of a few hundred gateways at once take longer than routes'.
			TLSTimeout: 10,
			// An implicit gateway is dropped after three failed rounds; one named at
			// start is tried for ever, backing off.
			ConnectRetries: 3,
			ConnectBackoff: true,
		}
		for _, c := range slices.Sorted(maps.Keys(spec.remotes)) {
			if c == spec.cluster {
				continue
			}
			r := &server.RemoteGatewayOpts{Name: spec.net.NATSCluster(c)}
			for _, a := range spec.remotes[c] {
				r.URLs = append(r.URLs, &url.URL{Scheme: "nats", Host: a})
			}
			opts.Gateway.Gateways = append(opts.Gateway.Gateways, r)
		}
		if spec.leafPort != 0 {
			leafTLS, err := peerTLS(spec.id, spec.admission, spec.check, b.gw)
			if err != nil {
				return err
			}
			opts.LeafNode = server.LeafNodeOpts{
				Host:       spec.leafHost,
				Port:       spec.leafPort,
				Username:   leafUser,
				Password:   spec.net.Name,
				TLSConfig:  leafTLS,
				TLSTimeout: 10,
				// Not compressed, as routes and gateways are not: what hubs send
				// each other is small, and compression was 8% of the CPU of 250
				// hubs starting on two cores (nats-server's default is s2_auto).
				Compression: server.CompressionOpts{Mode: server.CompressionOff},
			}
			// nats-server wants a system account where leaf nodes and gateways
			// meet; only the gateway hubs, a few per cluster, have one. Named by
			// the cluster, so that the servers' statistics, sent every 10 s, stay
			// in the cluster: no other cluster has the account, so no gateway
			// carries them (across all gateway hubs they were 9% of the idle CPU of
			// 250 hubs).
			sys := systemAccount + spec.cluster
			opts.NoSystemAccount = false
			opts.Accounts = []*server.Account{server.NewAccount(sys)}
			opts.SystemAccount = sys
		}
	}
	srv, err := b.run(opts)
	if err != nil {
		return err
	}
	b.spec.routePort = srv.ClusterAddr().Port
	if spec.cluster != "" {
		b.spec.gatewayPort = srv.GatewayAddr().Port
	}
	return nil
}

// systemAccount is the prefix of the name of a gateway hub's system account, before
// its cluster's name (startServer).
const systemAccount = "SYS-"

// startLeafServer starts the server of a leaf hub: no routes and no gateway, one
// leaf node connection to a gateway hub of its cluster, over TLS with the hub's
// certificate and the same check of the other end as routes. nats-server moves to
// another of spec.leafRemotes, or of the gateway hubs the connected one tells it of,
// when the connection breaks.
func (b *bus) startLeafServer(conf *tls.Config) error {
	spec := b.spec
	// The dial waits 5 s, not nats-server's 1 s: on two cores busy with 457 hubs
	// starting, dials of live gateway hubs timed out by the hundred.
	remote := &server.RemoteLeafOpts{TLS: true, TLSConfig: conf, TLSTimeout: 10, DialTimeout: 5 * time.Second,
		Compression: server.CompressionOpts{Mode: server.CompressionOff}}
	for _, a := range spec.leafRemotes {
		remote.URLs = append(remote.URLs, &url.URL{Scheme: "nats-leaf", User: url.UserPassword(leafUser, spec.net.Name), Host: a})
	}
	opts := spec.clientOptions()
	opts.LeafNode = server.LeafNodeOpts{
		Remotes:           []*server.RemoteLeafOpts{remote},
		ReconnectInterval: time.Second,
	}
	_, err := b.run(opts)
	return err
}

// clientOptions returns what every hub's server has, gateway or leaf hub: its name,
// the loopback client listener with the operator's token, and no system account.
func (s *busSpec) clientOptions() *server.Options {
	return &server.Options{
		ServerName:    s.id.ID,
		Host:          s.clientHost,
		Port:          randomIfZero(s.clientPort),
		NoSigs:        true,
		Authorization: s.token,
		// A client, the hub's own in-process one among them, has this long to send
		// its CONNECT: with 457 hubs starting on two cores, the default of 2 s failed
		// a hub's start (hub 81 of hubnet-bench scale).
		AuthTimeout: inProcessTimeout.Seconds(),
		// Nothing of hubnet uses the system account, and its all-to-all statistics
		// are the largest cost of an idle supercluster of a few hundred servers.
		NoSystemAccount: true,
		// No cache of which subscriptions match a subject: a hub's server sees a few
		// messages a second, to subjects that match in a few steps, while the caches,
		// one per account and per gateway, held 11% of the memory of 250 hubs.
		NoSublistCache: true,
		// The list of closed connections kept for the monitoring endpoints, which
		// no hub serves: the default of 10,000 is an array allocated whole, 80 kB a
		// hub, 37 MB of the 457 hubs of the catalogue in one process.
		MaxClosedClients: 1,
	}
}

// run starts a server with opts and makes it current.
func (b *bus) run(opts *server.Options) (*server.Server, error) {
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	srv.SetLoggerV2(natsLogger{b.log.With("part", "nats"), b.spec.ref, b.spec.gone}, false, false, false) // ref: refusals, logged bounded
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats server on %s:%d: not ready in 10s", b.spec.clientHost, b.spec.clientPort)
	}
	b.spec.clientPort = srv.Addr().(*net.TCPAddr).Port
	b.srv, b.base = srv, opts
	b.cur.srv.Store(srv)
	return srv, nil
}

// restart replaces the server by a new one on the same ports, dialling remotes as its
// gateways, and with the routes of the old one. The client connection reconnects to
// it and subscribes again; requests in flight fail and are retried by their senders.
// It is how connections that cannot be closed one by one, outbound gateways, are
// closed, and how a hub that started without a gateway to dial gets one.
func (b *bus) restart(remotes map[string][]string) error {
	return b.restartAs(func(s *busSpec) { s.remotes = remotes })
}

// restartAs is restart with the spec changed by edit first: new remotes, new gateway
// hubs to join as a leaf, or a leaf hub made a gateway hub.
func (b *bus) restartAs(edit func(*busSpec)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.srv
	b.cur.srv.Store(nil)
	old.Shutdown()
	old.WaitForShutdown()
	edit(&b.spec)
	var err error
	// The ports were just freed; a moment may pass before they can be bound again.
	for try := range 10 {
		if err = b.startServer(); err == nil {
			break
		}
		time.Sleep(time.Duration(try+1) * 50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("restart nats server: %w", err)
	}
	// The node's subscriptions are back once the client has reconnected and the new
	// server has answered a ping after them.
	deadline := time.Now().Add(5 * time.Second)
	for !b.nc.IsConnected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := b.nc.FlushTimeout(time.Until(deadline)); err != nil {
		b.log.Warn("nats client not back after the restart", "err", err)
	}
	b.log.Info("nats server restarted", "gateways", len(b.spec.remotes), "leaf", b.spec.leaf)
	return nil
}

// peerTLS is the TLS configuration of routes and gateways, for both ends: the hub's own
// certificate, self-signed with its signing key and carrying its admission
// certificate, and a check of the other end's key in place of a chain of authorities.
// With gw not nil, every connection accepted is recorded there with the key of its
// peer, so cutGateways can close it.
func peerTLS(id protocol.Identity, admission func() protocol.Certificate, check func(ed25519.PublicKey, *protocol.Certificate) error, gw *gatewayConns) (*tls.Config, error) {
	own := &peerCert{id: id, admission: admission}
	if _, err := own.get(); err != nil {
		return nil, err
	}
	peerKey := func(cs tls.ConnectionState) (ed25519.PublicKey, error) {
		if len(cs.PeerCertificates) == 0 {
			return nil, check(nil, nil)
		}
		leaf := cs.PeerCertificates[0]
		key, ok := leaf.PublicKey.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("peer certificate with a %T key, want Ed25519: %w", leaf.PublicKey, protocol.ErrCertInvalid)
		}
		return key, check(key, carriedAdmission(leaf))
	}
	verify := func(cs tls.ConnectionState) error {
		_, err := peerKey(cs)
		return err
	}
	conf := &tls.Config{
		MinVersion: tls.VersionTLS13,
		// X25519 alone, not Go's default hybrid with ML-KEM-768: a hub makes a
		// handshake with every hub of its cluster and a gateway with each other
		// cluster, and at 250 hubs on two cores the hybrid exchange was a quarter of
		// the handshakes' CPU. What a route carries is signed by its hubs, and a
		// referral's personal data is sealed to its receiver besides.
		CurvePreferences: []tls.CurveID{tls.X25519},
		// Made at each handshake from the admission certificate of the moment: a
		// renewal installed while the hub runs is carried from then on.
		GetCertificate:       func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return own.get() },
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return own.get() },
		// Membership, not a certificate authority, vouches for the other end: the
		// chain is not verified, VerifyConnection checks the key.
		InsecureSkipVerify: true,
		ClientAuth:         tls.RequestClientCert,
		VerifyConnection:   verify,
	}
	if gw != nil {
		// On the accepting side the configuration is made per connection, to learn
		// which connection the verified key came over.
		conf.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c := conf.Clone()
			c.GetConfigForClient = nil
			c.VerifyConnection = func(cs tls.ConnectionState) error {
				key, err := peerKey(cs)
				if err == nil {
					gw.add(key, hello.Conn)
				}
				return err
			}
			return c, nil
		}
	}
	return conf, nil
}

// admissionScheme is the scheme of the URI, among the subject alternative names of a
// route or gateway certificate, that carries the hub's admission certificate:
// "hubnet-cert:" and the certificate's JSON in unpadded base64url.
const admissionScheme = "hubnet-cert"

// peerCert makes the hub's route and gateway certificate, again only when its
// admission certificate changed.
type peerCert struct {
	id        protocol.Identity
	admission func() protocol.Certificate // nil: none is carried

	mu  sync.Mutex       // guards sig and cur
	sig []byte           // signature of the admission certificate cur carries
	cur *tls.Certificate // nil until the first get
}

func (p *peerCert) get() (*tls.Certificate, error) {
	var adm protocol.Certificate
	if p.admission != nil {
		adm = p.admission()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil && bytes.Equal(p.sig, adm.Sig) {
		return p.cur, nil
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: p.id.ID},
		DNSNames:     []string{p.id.ID},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(100 * 365 * 24 * time.Hour), // the admission certificate sets the real term
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if adm.Sig != nil {
		b, err := json.Marshal(adm)
		if err != nil {
			return nil, fmt.Errorf("route certificate: %w", err)
		}
		tmpl.URIs = []*url.URL{{Scheme: admissionScheme, Opaque: base64.RawURLEncoding.EncodeToString(b)}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, p.id.SignPublic(), p.id.SignKey)
	if err != nil {
		return nil, fmt.Errorf("route certificate: %w", err)
	}
	p.cur = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: p.id.SignKey}
	p.sig = bytes.Clone(adm.Sig)
	return p.cur, nil
}

// carriedAdmission returns the admission certificate a route or gateway certificate
// carries, nil when it carries none that decodes. It is not verified here.
func carriedAdmission(leaf *x509.Certificate) *protocol.Certificate {
	for _, u := range leaf.URIs {
		if u.Scheme != admissionScheme {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(u.Opaque)
		if err != nil {
			return nil
		}
		var c protocol.Certificate
		if err := json.Unmarshal(b, &c); err != nil {
			return nil
		}
		return &c
	}
	return nil
}

// errRouteNoCert is the error for a route opened without a certificate.
var errRouteNoCert = fmt.Errorf("route without a certificate: %w", protocol.ErrNoCert)

// routeAuth admits an accepted route whose TLS key is an admitted hub's. The server
// asks again on every reload, so setRoutes after a revocation closes the revoked
// hub's routes.
type routeAuth struct {
	check func(ed25519.PublicKey, *protocol.Certificate) error
}

func (r *routeAuth) Check(c server.ClientAuthentication) bool {
	cs := c.GetTLSConnectionState()
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return r.check(nil, nil) == nil
	}
	leaf := cs.PeerCertificates[0]
	key, ok := leaf.PublicKey.(ed25519.PublicKey)
	return ok && r.check(key, carriedAdmission(leaf)) == nil
}

func randomIfZero(port int) int {
	if port == 0 {
		return server.RANDOM_PORT
	}
	return port
}

// clusterAddr returns the address the route listener is bound to.
func (b *bus) clusterAddr() *net.TCPAddr { return b.server().ClusterAddr() }

// clientURL returns the nats:// URL of the loopback client listener.
func (b *bus) clientURL() string { return b.server().ClientURL() }

// server returns the running server.
func (b *bus) server() *server.Server {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.srv
}

// recheck reloads the server with the same routes, which makes it check every route
// it accepted again, closing those of hubs no longer admitted.
func (b *bus) recheck() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spec.leaf {
		return nil // no routes
	}
	opts := b.base.Clone()
	opts.Routes = b.urls(b.routes)
	if err := b.srv.ReloadOptions(opts); err != nil {
		return fmt.Errorf("reload nats routes: %w", err)
	}
	return nil
}

func (b *bus) urls(routes map[string]string) []*url.URL {
	ids := slices.Sorted(maps.Keys(routes))
	out := make([]*url.URL, 0, len(ids))
	for _, id := range ids {
		out = append(out, &url.URL{Scheme: "nats-route", Host: routes[id]})
	}
	return out
}

// setRoutes makes the server's routes exactly want (hub ID -> host:port), reloading
// only when the set changed. Safe for concurrent use; reloads are serialized.
func (b *bus) setRoutes(want map[string]string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if maps.Equal(want, b.routes) || b.spec.leaf {
		return nil
	}
	routes := b.urls(want)
	opts := b.base.Clone()
	opts.Routes = routes
	if err := b.srv.ReloadOptions(opts); err != nil {
		return fmt.Errorf("reload nats routes: %w", err)
	}
	b.routes = maps.Clone(want)
	b.log.Debug("routes set", "routes", len(routes))
	return nil
}

// close drains nothing: in-flight requests fail, and senders retry.
func (b *bus) close() {
	b.nc.Close()
	srv := b.server()
	srv.Shutdown()
	srv.WaitForShutdown()
}

// hostPort joins a host and port.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
