package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// benchFederation is a running federation of benchmark hubs, each with its data
// directory under root.
type benchFederation struct {
	root    string
	hubs    []*node.Node
	servers []natsServer        // hubs[i]'s NATS server, for plain clients
	idents  []protocol.Identity // hubs[i]'s keys, to open what is sealed to it
}

// natsServer is where a plain NATS client reaches a hub's server: the loopback client
// URL and the operator token that port takes.
type natsServer struct {
	url, token string
}

// connect connects a plain NATS client named name, which does not reconnect.
func (s natsServer) connect(name string) (*nats.Conn, error) {
	nc, err := nats.Connect(s.url, nats.Token(s.token), nats.Name(name), nats.NoReconnect(), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect %s to %s: %w", name, s.url, err)
	}
	return nc, nil
}

// startFederation starts a hub per profile, each joined to the first, and waits until
// every directory is complete, up to wait (see directoryWait). On failure it stops the
// hubs it started and removes their data before it returns.
func startFederation(profiles []protocol.Profile, wait time.Duration) (_ *benchFederation, err error) {
	root, err := os.MkdirTemp("", "hubnet-bench-live-")
	if err != nil {
		return nil, err
	}
	f := &benchFederation{root: root}
	defer func() {
		if err != nil {
			f.stop()
		}
	}()
	netw, adm, err := protocol.NewNetwork("bench", rand.Reader)
	if err != nil {
		return nil, err
	}
	for i := range profiles {
		p := profiles[i]
		dir := filepath.Join(root, p.ID)
		if _, err := node.InitDataDir(dir, netw, p.ID, &p); err != nil {
			return nil, fmt.Errorf("init %s: %w", p.ID, err)
		}
		if _, err := node.Admit(dir, adm, 24*time.Hour); err != nil {
			return nil, fmt.Errorf("admit %s: %w", p.ID, err)
		}
		tok, err := node.ReadToken(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.ID, err)
		}
		ident, err := readIdentity(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.ID, err)
		}
		f.idents = append(f.idents, ident)
		cfg := node.DefaultLocalConfig()
		cfg.DataDir = dir
		cfg.HTTPAddr = ""
		if i > 0 {
			cfg.Join = []string{f.hubs[0].GossipAddr()}
		}
		h, err := node.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("new %s: %w", p.ID, err)
		}
		if err := h.Start(context.Background()); err != nil {
			h.Shutdown()
			return nil, fmt.Errorf("start %s: %w", p.ID, err)
		}
		f.hubs = append(f.hubs, h)
		f.servers = append(f.servers, natsServer{url: h.Addrs().Client, token: tok})
	}
	wait = directoryWait(wait, len(profiles))
	if err := waitFor(wait, func() bool { return complete(f.hubs) }); err != nil {
		return nil, fmt.Errorf("directories: %w; %s", err, missing(f.hubs))
	}
	return f, nil
}

// stop shuts every hub down and removes their data.
func (f *benchFederation) stop() {
	for _, h := range f.hubs {
		h.Shutdown()
	}
	os.RemoveAll(f.root)
}

// directoryWait returns how long to wait for the directories of n hubs to be
// complete: wait when it is set, else a minute and two seconds per hub, since a
// federation of 50 hubs on 2 cores takes more than a minute.
func directoryWait(wait time.Duration, n int) time.Duration {
	if wait > 0 {
		return wait
	}
	return time.Minute + time.Duration(n)*2*time.Second
}

// readIdentity reads the keys of the stopped hub in dir.
func readIdentity(dir string) (protocol.Identity, error) {
	s, err := store.Open(filepath.Join(dir, node.StoreFile), nil)
	if err != nil {
		return protocol.Identity{}, err
	}
	defer s.Close()
	return s.Identity()
}
