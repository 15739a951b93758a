package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/protocol"
)

// bus is the node's embedded NATS server and its in-process client connection. The
// server's cluster routes follow the membership: setRoutes is called with the route
// address of every live member and reloads the server when the set changed.
//
// Routes run over TLS 1.3 and both ends present a certificate made from the hub's
// Ed25519 signing key. There is no certificate authority: a route is accepted, in
// either direction, only when the key on the other side is the certified signing key
// of a hub admitted to the network and not revoked (routeCheck). So a process without
// admission cannot attach to the mesh, and a revoked hub's routes are closed.
type bus struct {
	srv  *server.Server
	nc   *nats.Conn
	base *server.Options // as started; cloned for every reload, never changed
	log  *slog.Logger

	mu     sync.Mutex        // serializes reloads; guards routes
	routes map[string]string // hub ID -> route host:port currently configured
}

// startBus starts the embedded server and connects to it in-process. check decides
// whether the key on the other end of a route belongs to an admitted hub; it is given
// nil for a route that presents no certificate. The client
// listener, on loopback, takes the operator's token.
func startBus(cfg *Config, net protocol.Network, id protocol.Identity, token string, check func(ed25519.PublicKey) error, log *slog.Logger, ref *refusals) (*bus, error) {
	chost, cport, _ := splitHostPort(cfg.ClientAddr)
	rhost, rport, _ := splitHostPort(cfg.ClusterAddr)
	tlsConf, err := routeTLS(id, check)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName:    id.ID,
		Host:          chost,
		Port:          randomIfZero(cport),
		NoSigs:        true,
		Authorization: token,
		Cluster: server.ClusterOpts{
			Name:           net.ClusterName(),
			Host:           rhost,
			Port:           randomIfZero(rport),
			Advertise:      cfg.ClusterAdvertise,
			TLSConfig:      tlsConf,
			TLSTimeout:     2,
			PoolSize:       -1, // one route per pair of hubs; no pinned accounts
			ConnectRetries: 5,
		},
		CustomRouterAuthentication: &routeAuth{check}, // a pointer: reloads compare it
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	srv.SetLoggerV2(natsLogger{log.With("part", "nats"), ref}, false, false, false) // ref: refusals, logged bounded
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats server on %s and %s: not ready in 10s", cfg.ClientAddr, cfg.ClusterAddr)
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name(id.ID), nats.Token(token), nats.MaxReconnects(-1))
	if err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("nats in-process connection: %w", err)
	}
	return &bus{srv: srv, nc: nc, base: opts, log: log, routes: map[string]string{}}, nil
}

// routeTLS is the TLS configuration of the routes, for both ends: the hub's own
// certificate, self-signed with its signing key, and a check of the other end's key
// in place of a chain of authorities.
func routeTLS(id protocol.Identity, check func(ed25519.PublicKey) error) (*tls.Config, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: id.ID},
		DNSNames:     []string{id.ID},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(100 * 365 * 24 * time.Hour), // the admission certificate sets the real term
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, id.SignPublic(), id.SignKey)
	if err != nil {
		return nil, fmt.Errorf("route certificate: %w", err)
	}
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return check(nil)
		}
		key, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("route certificate with a %T key, want Ed25519: %w", cs.PeerCertificates[0].PublicKey, protocol.ErrCertInvalid)
		}
		return check(key)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: id.SignKey}},
		// Membership, not a certificate authority, vouches for the other end: the
		// chain is not verified, VerifyConnection checks the key.
		InsecureSkipVerify: true,
		ClientAuth:         tls.RequestClientCert,
		VerifyConnection:   verify,
	}, nil
}

// errRouteNoCert is the error for a route opened without a certificate.
var errRouteNoCert = fmt.Errorf("route without a certificate: %w", protocol.ErrNoCert)

// routeAuth admits an accepted route whose TLS key is an admitted hub's. The server
// asks again on every reload, so setRoutes after a revocation closes the revoked
// hub's routes.
type routeAuth struct{ check func(ed25519.PublicKey) error }

func (r *routeAuth) Check(c server.ClientAuthentication) bool {
	cs := c.GetTLSConnectionState()
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return r.check(nil) == nil
	}
	key, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
	return ok && r.check(key) == nil
}

func randomIfZero(port int) int {
	if port == 0 {
		return server.RANDOM_PORT
	}
	return port
}

// clusterAddr returns the address the route listener is bound to.
func (b *bus) clusterAddr() *net.TCPAddr { return b.srv.ClusterAddr() }

// clientURL returns the nats:// URL of the loopback client listener.
func (b *bus) clientURL() string { return b.srv.ClientURL() }

// recheck reloads the server with the same routes, which makes it check every route
// it accepted again, closing those of hubs no longer admitted.
func (b *bus) recheck() error {
	b.mu.Lock()
	defer b.mu.Unlock()
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
	if maps.Equal(want, b.routes) {
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
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

// hostPort joins a host and port.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
