package node_test

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
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Helpers of trust_test.go: hubs whose keys the test holds, processes that speak
// memberlist or NATS without admission, and checks of what a hub refused.

// startHub initialises and admits hub id with a test profile, reads its keys, and
// starts it joined to join: the test can then sign messages as this hub.
func startHub(t *testing.T, net protocol.Network, id string, join ...string) (*nodetest.Hub, protocol.Identity) {
	t.Helper()
	dir := t.TempDir()
	p := nodetest.Profile(id)
	nodetest.Init(t, dir, net, id, &p)
	ident := readIdentity(t, dir)
	h := nodetest.StartConfig(t, nodetest.Config(dir, join...))
	rememberBox(t, h)
	return h, ident
}

// boxKeys holds the box public key of each hub a test started with startHub or
// startHostile, by hub ID, so that signed can seal what it signs to its recipient.
var boxKeys sync.Map

// rememberBox notes the box public key of hub h for signed.
func rememberBox(t *testing.T, h *nodetest.Hub) {
	t.Helper()
	self, err := h.Self()
	if err != nil {
		t.Fatal(err)
	}
	var k [32]byte
	copy(k[:], self.BoxKey)
	boxKeys.Store(h.ID(), k)
	t.Cleanup(func() { boxKeys.CompareAndDelete(h.ID(), k) })
}

// readIdentity reads the keys of the stopped hub in dir.
func readIdentity(t *testing.T, dir string) protocol.Identity {
	t.Helper()
	s, err := store.Open(filepath.Join(dir, node.StoreFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ident, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	return ident
}

// startHubs starts the hubs ids, each joining the first, and waits until their
// directories agree.
func startHubs(t *testing.T, net protocol.Network, ids ...string) ([]*nodetest.Hub, []protocol.Identity) {
	t.Helper()
	var hubs []*nodetest.Hub
	var idents []protocol.Identity
	for i, id := range ids {
		var join []string
		if i > 0 {
			join = []string{hubs[0].GossipAddr()}
		}
		h, ident := startHub(t, net, id, join...)
		hubs, idents = append(hubs, h), append(idents, ident)
	}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return hubs, idents
}

// natsClient connects to hub h's own NATS server with its operator token: what a
// process on that hub's machine can do. A connection that arrives while the server
// reloads its routes may be closed in its handshake, so it is tried again.
func natsClient(t *testing.T, h *nodetest.Hub) *nats.Conn {
	t.Helper()
	var nc *nats.Conn
	nodetest.Eventually(t, 5*time.Second, func() error {
		var err error
		nc, err = nats.Connect(h.Addrs().Client, nodetest.Token(h))
		if err != nil {
			return fmt.Errorf("connect to %s's NATS: %w", h.ID(), err)
		}
		return nil
	})
	t.Cleanup(nc.Close)
	return nc
}

// signed returns the encoded envelope of type typ from id to hub to, sent at at. A
// type that travels sealed, to one hub, is sealed to hub to's box key, as rememberBox noted it, or
// to a key nobody holds for a hub it did not note.
func signed(t *testing.T, id protocol.Identity, typ, to string, body any, at time.Time) []byte {
	t.Helper()
	env, err := protocol.Sign(id, typ, to, body, at)
	if err != nil {
		t.Fatal(err)
	}
	if protocol.SealedType(typ) && to != "" {
		var box [32]byte
		if k, ok := boxKeys.Load(to); ok {
			box = k.([32]byte)
		} else if _, err := rand.Read(box[:]); err != nil {
			t.Fatal(err)
		}
		if env, err = protocol.Seal(id, env, box, at, rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	b, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// posing is an identity with hub id's name and the signing key of thief: what a
// member holds when it wants to speak in another hub's name.
func posing(id string, thief protocol.Identity) protocol.Identity {
	thief.ID = id
	return thief
}

// event is a valid referral event of referral ref.
func event(ref string, ev protocol.Event) protocol.ReferralEvent {
	return protocol.ReferralEvent{V: protocol.Version, Referral: ref, Event: ev, At: time.Now().UTC()}
}

// unanswered sends data as a request on subject and fails the test if anything
// answers: a hub answers nothing to a message it dropped.
func unanswered(t *testing.T, nc *nats.Conn, subject string, data []byte) {
	t.Helper()
	reply, err := nc.Request(subject, data, 500*time.Millisecond)
	if !errors.Is(err, nats.ErrTimeout) {
		var body string
		if reply != nil {
			body = string(reply.Data)
		}
		t.Errorf("request on %s: answered %q, %v; want no answer", subject, body, err)
	}
}

// counted waits until hub h has dropped more than before messages for reason, and
// reports an error if it has not within 5s. It does not stop the test: the reason
// not counted is a finding of its own.
func counted(t *testing.T, h *nodetest.Hub, reason string, before float64) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Dropped(reason) <= before {
		if time.Now().After(deadline) {
			t.Errorf("%s counted no drop for %s (still %v)", h.ID(), reason, before)
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// droppedTotal reads hub h's /metrics and returns its dropped messages summed over
// every reason, those the test does not know of included.
func droppedTotal(t *testing.T, h *nodetest.Hub) float64 {
	t.Helper()
	resp, err := http.Get("http://" + h.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for line := range strings.Lines(string(body)) {
		if !strings.HasPrefix(line, "hubnet_dropped_messages_total{") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndexByte(line, ' ')+1:]), 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		total += v
	}
	return total
}

// holds checks cond every 20ms for d and fails the test at the first violation: for
// what must stay true, such as a refused process never becoming a peer.
func holds(t *testing.T, d time.Duration, cond func() error) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if err := cond(); err != nil {
			t.Fatal(err)
		}
	}
}

// notMember returns an error if any of hubs lists id as a peer, reachable or not,
// or holds a profile of it.
func notMember(id string, hubs ...*nodetest.Hub) func() error {
	return func() error {
		for _, h := range hubs {
			for _, p := range h.Peers() {
				if p.ID == id {
					return fmt.Errorf("%s lists %s as a peer (%s)", h.ID(), id, p.State)
				}
			}
			if _, err := h.Hub(id); err == nil {
				return fmt.Errorf("%s holds a profile of %s", h.ID(), id)
			}
		}
		return nil
	}
}

// directoryIDs returns the IDs in hub h's directory.
func directoryIDs(t *testing.T, h *nodetest.Hub) []string {
	t.Helper()
	hubs, err := h.Hubs()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range hubs {
		out = append(out, x.ID)
	}
	return out
}

// stillWorking checks that hubs a and b still work together: a finds b by search and
// by a live query, and b receives a referral from a.
func stillWorking(t *testing.T, a, b *nodetest.Hub) {
	t.Helper()
	q := aiQuery
	res, err := a.Search(q)
	if err != nil || !slices.Contains(ids(res.Hits), b.ID()) {
		t.Fatalf("%s's search: %v, %v; want %s in it", a.ID(), ids(res.Hits), err, b.ID())
	}
	nodetest.Eventually(t, 15*time.Second, func() error {
		res, err := a.Query(t.Context(), q, time.Second)
		if err != nil {
			return err
		}
		if !slices.Contains(res.Live.Answered, b.ID()) {
			return fmt.Errorf("%s's live query answered by %v, want %s", a.ID(), res.Live.Answered, b.ID())
		}
		return nil
	})
	receivedReferral(t, a, b, referralTo(b.ID()))
}

// gossipNode returns hub h as memberlist addresses it.
func gossipNode(t *testing.T, h *nodetest.Hub) *memberlist.Node {
	t.Helper()
	host, port, err := net.SplitHostPort(h.GossipAddr())
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return &memberlist.Node{Name: h.ID(), Addr: net.ParseIP(host), Port: uint16(n)}
}

// rogue is the delegate of a gossip process outside hubnet: memberlist alone, with
// the metadata a test crafts.
type rogue struct{ meta []byte }

func (r *rogue) NodeMeta(limit int) []byte                  { return r.meta }
func (r *rogue) NotifyMsg([]byte)                           {}
func (r *rogue) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (r *rogue) LocalState(join bool) []byte                { return nil }
func (r *rogue) MergeRemoteState(buf []byte, join bool)     {}

var _ memberlist.Delegate = (*rogue)(nil)

// startRogue starts memberlist as name on loopback, gossiping meta, encrypted with key
// (not at all when nil) and labelled label. It stops when the test ends.
func startRogue(t *testing.T, name string, key []byte, label string, meta []byte) *memberlist.Memberlist {
	t.Helper()
	c := memberlist.DefaultLANConfig()
	c.Name = name
	c.BindAddr, c.BindPort, c.AdvertisePort = "127.0.0.1", 0, 0
	c.ProbeInterval, c.ProbeTimeout, c.GossipInterval = 300*time.Millisecond, 250*time.Millisecond, 50*time.Millisecond
	c.PushPullInterval = time.Second
	c.Label = label
	if key != nil {
		kr, err := memberlist.NewKeyring(nil, key)
		if err != nil {
			t.Fatal(err)
		}
		c.Keyring = kr
	}
	c.Delegate = &rogue{meta: meta}
	c.Logger = log.New(io.Discard, "", 0)
	ml, err := memberlist.Create(c)
	if err != nil {
		t.Fatalf("rogue memberlist: %v", err)
	}
	t.Cleanup(func() { ml.Shutdown() })
	return ml
}

// rogueMeta encodes the gossip metadata of hub id with certificate c and a route
// address nobody listens at.
func rogueMeta(t *testing.T, id string, c protocol.Cert) []byte {
	t.Helper()
	m := protocol.Meta{V: protocol.Version, ID: id, Route: "127.0.0.1:9", Revision: 1, Cert: c}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// freshKeys returns a new identity's public keys, for a certificate.
func freshKeys(t *testing.T, id string) protocol.Identity {
	t.Helper()
	ident, err := protocol.NewIdentity(id, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return ident
}

// admit signs a certificate for hub id with ident's keys, issued at issued and
// valid for valid.
func admit(t *testing.T, adm protocol.AdmissionKey, id string, ident protocol.Identity, issued time.Time, valid time.Duration) protocol.Cert {
	t.Helper()
	c, err := protocol.Admit(adm, id, ident.SignPublic(), ident.BoxPub[:], issued, valid)
	if err != nil {
		t.Fatal(err)
	}
	return c.Gossip()
}

// startIntruder starts a NATS server outside the network that opens a route to the
// cluster address route, as a member of the network's cluster would: over TLS, with
// a certificate self-signed by a fresh Ed25519 key, or with no certificate when
// withCert is false. It stops when the test ends.
func startIntruder(t *testing.T, net protocol.Network, route string, withCert bool) *server.Server {
	t.Helper()
	var key ed25519.PrivateKey
	if withCert {
		var err error
		if _, key, err = ed25519.GenerateKey(rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	return startRouter(t, net, route, "intruder", key, nil)
}

// startRouter starts a NATS server called name that opens a route to route over TLS,
// as a member of the network's cluster would, but outside gossip: no hub has heard of
// it. Its certificate is self-signed by key, none when key is nil, and carries the
// admission certificate carried, when not nil, as a hub's does: the URI
// "hubnet-cert:" and the certificate's JSON in unpadded base64url. It stops when the
// test ends.
func startRouter(t *testing.T, net protocol.Network, route, name string, key ed25519.PrivateKey, carried *protocol.Certificate) *server.Server {
	t.Helper()
	tc := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	if key != nil {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
			DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
		if carried != nil {
			b, err := json.Marshal(carried)
			if err != nil {
				t.Fatal(err)
			}
			tmpl.URIs = []*url.URL{{Scheme: "hubnet-cert", Opaque: base64.RawURLEncoding.EncodeToString(b)}}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}
	}
	opts := &server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		NoSigs:     true,
		NoLog:      true,
		Cluster: server.ClusterOpts{
			Name: net.ClusterName(), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			TLSConfig: tc, TLSTimeout: 2, PoolSize: -1,
		},
		Routes: []*url.URL{{Scheme: "nats-route", Host: route}},
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("%s's nats server: %v", name, err)
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	if !srv.ReadyForConnections(5 * time.Second) {
		t.Fatalf("%s's nats server not ready", name)
	}
	return srv
}

// postRevocation hands the steward's revocation to hub h through its HTTP API.
func postRevocation(t *testing.T, h *nodetest.Hub, r protocol.Revocation) {
	t.Helper()
	token, err := node.ReadToken(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(r)
	req, _ := http.NewRequest("POST", "http://"+h.HTTPAddr()+"/v1/revocations", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var got struct {
		ID  string `json:"id"`
		New bool   `json:"new"`
	}
	if err := json.Unmarshal(out, &got); resp.StatusCode != http.StatusOK || err != nil || got.ID != r.ID || !got.New {
		t.Fatalf("POST /v1/revocations: %d %s", resp.StatusCode, out)
	}
}

// revoked reports whether hub h knows a revocation of hub id.
func revoked(h *nodetest.Hub, id string) bool {
	return slices.ContainsFunc(h.Revocations(), func(r protocol.Revocation) bool { return r.ID == id })
}

// captureStart has hub b start referral id and returns the message it sends hub a, as
// nc, a client of a's NATS server, sees it on the wire.
func captureStart(t *testing.T, nc *nats.Conn, a, b *nodetest.Hub, id string) []byte {
	t.Helper()
	seen := make(chan []byte, 4)
	sub, err := nc.Subscribe(protocol.ReferralSubject(a.ID()), func(m *nats.Msg) { seen <- m.Data })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	nc.Flush()
	if _, err := b.Act(id, protocol.EventStart, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-seen:
		return msg
	case <-time.After(5 * time.Second):
		t.Fatalf("no message from %s seen", b.ID())
		return nil
	}
}
