package node

import (
	"fmt"
	"log/slog"
	"maps"
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
type bus struct {
	srv  *server.Server
	nc   *nats.Conn
	base *server.Options // as started; cloned for every reload, never changed
	user string          // route credentials derived from the network
	pass string
	log  *slog.Logger

	mu     sync.Mutex        // serializes reloads; guards routes
	routes map[string]string // hub ID -> route host:port currently configured
}

// startBus starts the embedded server and connects to it in-process.
func startBus(cfg *Config, net protocol.Network, id string, log *slog.Logger) (*bus, error) {
	chost, cport, _ := splitHostPort(cfg.ClientAddr)
	rhost, rport, _ := splitHostPort(cfg.ClusterAddr)
	user, pass := net.RouteCredentials()
	opts := &server.Options{
		ServerName: id,
		Host:       chost,
		Port:       randomIfZero(cport),
		NoSigs:     true,
		Cluster: server.ClusterOpts{
			Name:           net.ClusterName(),
			Host:           rhost,
			Port:           randomIfZero(rport),
			Advertise:      cfg.ClusterAdvertise,
			Username:       user,
			Password:       pass,
			PoolSize:       -1, // one route per pair of hubs; no pinned accounts
			ConnectRetries: 5,
		},
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	srv.SetLoggerV2(natsLogger{log.With("part", "nats")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats server on %s and %s: not ready in 10s", cfg.ClientAddr, cfg.ClusterAddr)
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name(id), nats.MaxReconnects(-1))
	if err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("nats in-process connection: %w", err)
	}
	return &bus{srv: srv, nc: nc, base: opts, user: user, pass: pass, log: log, routes: map[string]string{}}, nil
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

// setRoutes makes the server's routes exactly want (hub ID -> host:port), reloading
// only when the set changed. Safe for concurrent use; reloads are serialized.
func (b *bus) setRoutes(want map[string]string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if maps.Equal(want, b.routes) {
		return nil
	}
	ids := slices.Sorted(maps.Keys(want))
	routes := make([]*url.URL, 0, len(ids))
	for _, id := range ids {
		routes = append(routes, &url.URL{Scheme: "nats-route", User: url.UserPassword(b.user, b.pass), Host: want[id]})
	}
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
