package node_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// One test per attack on admission and trust, each with real hubs on loopback. Each
// checks that the attack fails, that nothing of it is stored at the honest hubs, that
// the reason is counted in hubnet_dropped_messages_total, and that the honest hubs
// still work together afterwards.

const year = 365 * 24 * time.Hour

// aiQuery is a search every test hub's profile matches.
var aiQuery = protocol.Query{Technologies: []string{"ai-decision-support"}, Family: protocol.FamilyTestBeforeInvest}

// A hub initialised but never admitted starts and joins an honest hub. The honest hubs
// refuse it as a member, refuse the routes it opens and the messages it signs, and go
// on working.
func TestTrust_nodeWithoutCertificateRefused(t *testing.T) {
	net := nodetest.Network(t)
	hubs, _ := startHubs(t, net, "hub-1", "hub-2")
	a, b := hubs[0], hubs[1]
	noCertA, noCertB, routes := a.Dropped("no-cert"), b.Dropped("no-cert"), a.Dropped("route-refused")

	dir := t.TempDir()
	p := nodetest.Profile("hub-0")
	if _, err := node.InitDataDir(dir, net, "hub-0", &p); err != nil {
		t.Fatal(err)
	}
	x0 := readIdentity(t, dir)
	x := nodetest.StartConfig(t, nodetest.Config(dir, a.GossipAddr()))

	counted(t, a, "no-cert", noCertA)
	counted(t, b, "no-cert", noCertB)
	// hub-0 sorts first, so it opens the routes to the members it sees: refused.
	counted(t, a, "route-refused", routes)
	holds(t, time.Second, notMember("hub-0", a, b))

	// It cannot reach the mesh from its own NATS server.
	if _, err := natsClient(t, x).Request(protocol.ProfileSubject(a.ID()), []byte(`{"v":1}`), 2*time.Second); !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
		t.Errorf("hub-0's request to hub-1: %v, want no answer", err)
	}
	// A message it signs, relayed to hub-1 by a process on hub-1's machine, is refused:
	// the answer is a wire error, and nothing is stored.
	unknown := a.Dropped("unknown-sender")
	reply, err := natsClient(t, a).Request(protocol.ReferralSubject(a.ID()),
		signed(t, x0, protocol.TypeReferralEvent, a.ID(), event(uuid.NewString(), protocol.EventAccept), time.Now()), 2*time.Second)
	if err != nil {
		t.Fatalf("relayed message: %v, want a wire error", err)
	}
	if env, err := protocol.OpenEnvelope(reply.Data); err != nil || env.Type != protocol.TypeError {
		t.Errorf("answer to hub-0's message: %s (%v), want a wire error", reply.Data, err)
	}
	counted(t, a, "unknown-sender", unknown)

	if got := directoryIDs(t, a); !slices.Equal(got, []string{"hub-1", "hub-2"}) {
		t.Errorf("hub-1's directory: %v, want hub-1 and hub-2", got)
	}
	stillWorking(t, a, b)
}

// A process that knows the gossip key gossips hubnet metadata with a certificate that
// is missing, expired, signed by another network's steward or issued for another hub,
// or metadata for a name other than its own. The honest hubs never list it and count
// why. The same process with a valid certificate is listed, so each refusal is the
// certificate's.
func TestTrust_gossipedCertificateRefused(t *testing.T) {
	net, adm := nodetest.NetworkKey(t)
	_, otherAdm := nodetest.NetworkKey(t) // another network, also named testnet
	hubs, _ := startHubs(t, net, "hub-1", "hub-2")
	a, b := hubs[0], hubs[1]
	now := time.Now()

	cases := []struct {
		name, id, reason string
		meta             func(id string, k protocol.Identity) []byte
	}{
		{"no certificate", "rogue-nocert", "no-cert", func(id string, k protocol.Identity) []byte {
			return rogueMeta(t, id, protocol.Cert{SignKey: k.SignPublic(), BoxKey: k.BoxPub[:]})
		}},
		{"expired", "rogue-expired", "cert-expired", func(id string, k protocol.Identity) []byte {
			return rogueMeta(t, id, admit(t, adm, id, k, now.Add(-2*year), year))
		}},
		{"another network", "rogue-othernet", "bad-cert", func(id string, k protocol.Identity) []byte {
			return rogueMeta(t, id, admit(t, otherAdm, id, k, now, year))
		}},
		{"another hub ID", "rogue-otherid", "bad-cert", func(id string, k protocol.Identity) []byte {
			return rogueMeta(t, id, admit(t, adm, "hub-7", k, now, year))
		}},
		{"metadata of another name", "rogue-othername", "bad-meta", func(id string, k protocol.Identity) []byte {
			return rogueMeta(t, "hub-7", admit(t, adm, "hub-7", k, now, year))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			beforeA, beforeB := a.Dropped(tc.reason), b.Dropped(tc.reason)
			ml := startRogue(t, tc.id, net.GossipKey, net.GossipLabel(), tc.meta(tc.id, freshKeys(t, tc.id)))
			ml.Join([]string{a.GossipAddr()}) // the push/pull goes through; membership does not
			counted(t, a, tc.reason, beforeA)
			counted(t, b, tc.reason, beforeB) // it learnt of hub-2 from hub-1 and tried there too
			holds(t, 300*time.Millisecond, notMember(tc.id, a, b))
		})
	}
	if got := directoryIDs(t, a); !slices.Equal(got, []string{"hub-1", "hub-2"}) {
		t.Errorf("hub-1's directory: %v, want hub-1 and hub-2", got)
	}
	stillWorking(t, a, b)

	// Control: a certificate of this network's steward for the rogue's name and keys
	// lets the same kind of process in.
	k := freshKeys(t, "rogue-admitted")
	ml := startRogue(t, k.ID, net.GossipKey, net.GossipLabel(), rogueMeta(t, k.ID, admit(t, adm, k.ID, k, now, year)))
	if _, err := ml.Join([]string{a.GossipAddr()}); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 5*time.Second, func() error {
		if notMember(k.ID, a)() == nil {
			return fmt.Errorf("hub-1 does not list an admitted process: the refusals above prove nothing")
		}
		return nil
	})
}

// Processes that gossip without the network's key, with another key, or with another
// label or none, even holding a valid certificate, are refused at the gossip layer:
// their join fails, a packet they send is not read, and the honest hub counts
// gossip-key or gossip-label.
func TestTrust_gossipWithoutKeyOrLabelRefused(t *testing.T) {
	net, adm := nodetest.NetworkKey(t)
	hubs, _ := startHubs(t, net, "hub-1", "hub-2")
	a, b := hubs[0], hubs[1]
	otherKey := make([]byte, 32)
	rand.Read(otherKey)
	target := gossipNode(t, a)

	cases := []struct {
		name, id string
		key      []byte
		label    string
		reason   string
	}{
		{"no key", "rogue-nokey", nil, net.GossipLabel(), "gossip-key"},
		{"another key", "rogue-otherkey", otherKey, net.GossipLabel(), "gossip-key"},
		{"another label", "rogue-otherlabel", net.GossipKey, "hubnet/v1/othernet", "gossip-label"},
		{"no label", "rogue-nolabel", net.GossipKey, "", "gossip-label"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := freshKeys(t, tc.id)
			ml := startRogue(t, tc.id, tc.key, tc.label, rogueMeta(t, tc.id, admit(t, adm, tc.id, k, time.Now(), year)))
			before, malformed := a.Dropped(tc.reason), a.Dropped("malformed")
			if n, err := ml.Join([]string{a.GossipAddr()}); err == nil || n != 0 {
				t.Errorf("join: %d contacted, %v; want a failed join", n, err)
			}
			if counted(t, a, tc.reason, before) {
				// A gossip packet is refused too: a user message that would be counted
				// malformed had it reached hub-1's delegate.
				before = a.Dropped(tc.reason)
				if err := ml.SendBestEffort(target, []byte("not a hubnet message")); err != nil {
					t.Fatal(err)
				}
				counted(t, a, tc.reason, before)
			}
			if got := a.Dropped("malformed"); got != malformed {
				t.Errorf("the packet reached hub-1's delegate: malformed %v, was %v", got, malformed)
			}
			holds(t, 500*time.Millisecond, notMember(tc.id, a, b))
		})
	}
	stillWorking(t, a, b)
}

// The steward revokes hub M at hub A. B learns it by gossip, and both drop M: not
// reachable, no profile in the directory or search, its routes closed, its messages
// refused. They still refuse M after both restart, and a hub C that joins later learns
// the revocation by push/pull and refuses M too.
//
// M is hub-2: hub-1 opens the route to M, and M opens the route to hub-3, so both a
// route the honest hub dialled and one it accepted must close.
func TestTrust_revokedHubRefused(t *testing.T) {
	net, adm := nodetest.NetworkKey(t)
	hubs, idents := startHubs(t, net, "hub-1", "hub-2", "hub-3")
	a, m, b := hubs[0], hubs[1], hubs[2]
	mid := idents[1]
	mc := natsClient(t, m)
	nodetest.Eventually(t, 10*time.Second, func() error {
		for _, h := range []*nodetest.Hub{a, b} {
			if _, err := mc.Request(protocol.ProfileSubject(h.ID()), []byte(`{"v":1}`), time.Second); err != nil {
				return fmt.Errorf("before the revocation, M's request to %s: %w", h.ID(), err)
			}
		}
		return nil
	})
	routeRevoked := b.Dropped("route-revoked")

	r, err := protocol.Revoke(adm, m.ID(), "signing key stolen", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	postRevocation(t, a, r)
	nodetest.Eventually(t, 10*time.Second, func() error {
		if !revoked(b, m.ID()) {
			return fmt.Errorf("hub-3 has not heard of the revocation")
		}
		return nil
	})
	refusesRevoked(t, a, m, mc, mid)
	refusesRevoked(t, b, m, mc, mid)
	// M dials hub-3 again and again; hub-3 refuses the route of a revoked hub.
	counted(t, b, "route-revoked", routeRevoked)
	res, err := m.Query(t.Context(), aiQuery, 500*time.Millisecond)
	if err != nil || len(res.Live.Answered) != 0 {
		t.Errorf("M's live query: answered by %v (%v), want nobody", res.Live.Answered, err)
	}
	stillWorking(t, a, b)

	// The revocation rolled the gossip key of hub-1 and hub-3 (keyroll.go): M holds
	// only the old one.
	nodetest.Eventually(t, 30*time.Second, func() error {
		for _, h := range []*nodetest.Hub{a, b} {
			if k := h.GossipKeys(); len(k.Keys) != 1 || k.Primary == node.KeyFingerprint(net.GossipKey) {
				return fmt.Errorf("%s's gossip keyring %+v, want the new key alone", h.ID(), k)
			}
		}
		return nil
	})
	key := a.CurrentGossipKey().Key

	// Both honest hubs restart; M's gossip sees them go first, so they come back as
	// new incarnations. hub-1 tries to rejoin through M itself, which cannot read it.
	a.Kill()
	b.Kill()
	nodetest.Eventually(t, 10*time.Second, func() error {
		for _, p := range m.Peers() {
			if !p.Self && p.Reachable {
				return fmt.Errorf("M still sees %s", p.ID)
			}
		}
		return nil
	})
	a = a.Restart(m.GossipAddr())
	b = b.Restart(a.GossipAddr())
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{a, b}) })
	// M's gossip, under the old key, is refused before it is read.
	counted(t, a, "gossip-key", 0)
	refusesRevoked(t, a, m, mc, mid)
	refusesRevoked(t, b, m, mc, mid)

	// A hub that joins after the revocation, given the current gossip key, learns the
	// revocation from hub-1.
	dir := t.TempDir()
	p4 := nodetest.Profile("hub-4")
	nodetest.Init(t, dir, net, "hub-4", &p4)
	setGossipKeys(t, dir, key)
	c := nodetest.StartConfig(t, nodetest.Config(dir, a.GossipAddr()))
	rememberBox(t, c)
	refusesRevoked(t, c, m, mc, mid)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged([]*nodetest.Hub{a, b, c}) })
	stillWorking(t, c, a)
}

// refusesRevoked checks that hub h has dropped the revoked hub m: h knows the
// revocation, m is no reachable peer and is in neither h's directory nor its search,
// m's requests across the mesh find no responder at h, and messages m signs, relayed
// into h's NATS server by a process on h's machine, are dropped without an answer.
func refusesRevoked(t *testing.T, h, m *nodetest.Hub, mc *nats.Conn, mid protocol.Identity) {
	t.Helper()
	nodetest.Eventually(t, 10*time.Second, func() error {
		if !revoked(h, m.ID()) {
			return fmt.Errorf("%s does not know the revocation of %s", h.ID(), m.ID())
		}
		for _, p := range h.Peers() {
			if p.ID == m.ID() && p.Reachable {
				return fmt.Errorf("%s lists %s reachable", h.ID(), m.ID())
			}
		}
		if _, err := h.Hub(m.ID()); err == nil {
			return fmt.Errorf("%s still holds %s's profile", h.ID(), m.ID())
		}
		if res, err := h.Search(aiQuery); err != nil || slices.Contains(ids(res.Hits), m.ID()) {
			return fmt.Errorf("%s's search: %v, %v", h.ID(), ids(res.Hits), err)
		}
		return nil
	})
	nodetest.Eventually(t, 10*time.Second, func() error {
		_, err := mc.Request(protocol.ProfileSubject(h.ID()), []byte(`{"v":1}`), time.Second)
		if !errors.Is(err, nats.ErrNoResponders) {
			return fmt.Errorf("%s's request to %s: %v, want no responders: a route, gateway or leaf node connection is open", m.ID(), h.ID(), err)
		}
		return nil
	})

	hc := natsClient(t, h)
	before := h.Dropped("revoked")
	unanswered(t, hc, protocol.ReferralSubject(h.ID()),
		signed(t, mid, protocol.TypeReferralEvent, h.ID(), event(uuid.NewString(), protocol.EventAccept), time.Now()))
	inbox := nats.NewInbox()
	sub, err := hc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := hc.PublishRequest(protocol.SubjectQuery, inbox, signed(t, mid, protocol.TypeQuery, "", aiQuery, time.Now())); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := sub.NextMsg(300 * time.Millisecond)
		if err != nil {
			break
		}
		if env, _ := protocol.OpenEnvelope(msg.Data); env.From == h.ID() {
			t.Errorf("%s answered M's live query: %s", h.ID(), msg.Data)
		}
	}
	// Both are counted (the query perhaps a moment later: it is handled on its own).
	counted(t, h, "revoked", before+1)
}

// A process without admission opens a NATS route to a hub's cluster port, with the
// network's cluster name, over TLS with a self-signed certificate of its own key, or
// with none. The route never comes up, nothing of the mesh reaches it while two hubs
// exchange a referral, and the hub counts the refusal.
func TestTrust_routeWithoutAdmissionRefused(t *testing.T) {
	net := nodetest.Network(t)
	hubs, _ := startHubs(t, net, "hub-1", "hub-2")
	a, b := hubs[0], hubs[1]
	cases := []struct {
		name     string
		withCert bool
		reason   string
	}{
		{"self-signed key of no hub", true, "route-refused"},
		{"no certificate", false, "route-no-cert"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.Dropped(tc.reason)
			srv := startIntruder(t, net, a.Addrs().Cluster, tc.withCert)
			nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Timeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			var mu sync.Mutex
			var got []string
			if _, err := nc.Subscribe(">", func(m *nats.Msg) {
				mu.Lock()
				got = append(got, m.Subject)
				mu.Unlock()
			}); err != nil {
				t.Fatal(err)
			}
			nc.Flush()

			counted(t, a, tc.reason, before)
			noRoute := func() error {
				if n := srv.NumRoutes(); n != 0 {
					return fmt.Errorf("the intruder has %d routes", n)
				}
				return nil
			}
			holds(t, 2*time.Second, noRoute) // the intruder retries every second
			stillWorking(t, a, b)
			if err := noRoute(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 0 {
				t.Errorf("the intruder received %d messages of the mesh: %v", len(got), got)
			}
		})
	}
}

// A hub's route certificate carries its admission certificate, so a hub accepts a
// route from one it has not heard of by gossip yet, as happens to a hub that joined
// through another: the joiner knows every hub at once and dials, while they learn of
// it over the next gossip rounds. Only a certificate the steward signed for the key of
// the handshake, not revoked, lets the route up; any other is refused and counted.
func TestTrust_routeCarriesAdmission(t *testing.T) {
	net, adm := nodetest.NetworkKey(t)
	hubs, _ := startHubs(t, net, "hub-1", "hub-2")
	a := hubs[0]
	newKey := func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	certFor := func(adm protocol.AdmissionKey, id string, k ed25519.PrivateKey) *protocol.Certificate {
		box := freshKeys(t, id).BoxPub
		c, err := protocol.Admit(adm, id, k.Public().(ed25519.PublicKey), box[:], time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return &c
	}
	_, foreign, err := protocol.NewNetwork(net.Name, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	newcomer, other, outsider, gone := newKey(), newKey(), newKey(), newKey()
	goneCert := certFor(adm, "hub-gone", gone)
	r, err := protocol.Revoke(adm, "hub-gone", "left the network", time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	postRevocation(t, a, r)

	cases := []struct {
		name    string
		key     ed25519.PrivateKey
		carried *protocol.Certificate
		reason  string // the refusal counted; "" when the route comes up
	}{
		{"admitted, not heard of yet", newcomer, certFor(adm, "hub-new", newcomer), ""},
		{"another hub's certificate", other, certFor(adm, "hub-new", newcomer), "route-refused"},
		{"signed by another network's key", outsider, certFor(foreign, "hub-out", outsider), "route-refused"},
		{"revoked", gone, goneCert, "route-revoked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.Dropped(tc.reason)
			srv := startRouter(t, net, a.Addrs().Cluster, tc.carried.ID+"-router", tc.key, tc.carried)
			if tc.reason == "" {
				nodetest.Eventually(t, 10*time.Second, func() error {
					// hub-1 tells hub-2 of the route, and the router is
					// routed to both.
					if n := srv.NumRoutes(); n != 2 {
						return fmt.Errorf("%d routes, want 2", n)
					}
					return nil
				})
				return
			}
			counted(t, a, tc.reason, before)
			holds(t, 2*time.Second, func() error { // the router retries every second
				if n := srv.NumRoutes(); n != 0 {
					return fmt.Errorf("%d routes, want none", n)
				}
				return nil
			})
		})
	}
}

// Member M forges hub B's profile: a profile hint in B's name signed with M's key,
// and answers to requests for B's profile, either in B's name and signed by M, or
// signed by M as itself. Hub A drops each, counts why, and keeps B's real profile.
func TestTrust_forgedProfileRefused(t *testing.T) {
	net := nodetest.Network(t)
	hubs, idents := startHubs(t, net, "hub-1", "hub-2", "hub-3")
	a, b, m := hubs[0], hubs[1], hubs[2]
	mid := idents[2]
	mc := natsClient(t, m)

	forged := nodetest.Profile(b.ID())
	forged.Name, forged.Revision = "Forged name", 1000
	cases := []struct {
		name, reason string
		hint         []byte // published once on the profile event subject, or
		answer       []byte // given to every request for B's profile
	}{
		{name: "hint in B's name", reason: "bad-signature",
			hint: signed(t, posing(b.ID(), mid), protocol.TypeProfileHint, "", protocol.ProfileHint{V: 1, ID: b.ID(), Revision: 1000}, time.Now())},
		{name: "profile in B's name", reason: "bad-signature",
			answer: signed(t, posing(b.ID(), mid), protocol.TypeProfile, "", forged, time.Now())},
		{name: "B's profile signed by M", reason: "wrong-sender",
			answer: signed(t, mid, protocol.TypeProfile, "", forged, time.Now())},
	}
	notForged := func() error {
		got, err := a.Hub(b.ID())
		if err != nil {
			return err
		}
		if got.Profile.Name == forged.Name || got.Revision >= forged.Revision {
			t.Fatalf("hub-1 stored the forged profile of hub-2: %q revision %d", got.Profile.Name, got.Revision)
		}
		return nil
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.Dropped(tc.reason)
			if tc.hint != nil {
				if err := mc.Publish(protocol.SubjectProfileEvent, tc.hint); err != nil {
					t.Fatal(err)
				}
				mc.Flush()
				counted(t, a, tc.reason, before)
				holds(t, 300*time.Millisecond, notForged)
				return
			}
			// Each change of B's profile makes A fetch it, and B or M answers first. M
			// answers from a few connections, to win more often.
			for range 3 {
				nc := natsClient(t, m)
				sub, err := nc.Subscribe(protocol.ProfileSubject(b.ID()), func(msg *nats.Msg) { msg.Respond(tc.answer) })
				if err != nil {
					t.Fatal(err)
				}
				defer sub.Unsubscribe()
				nc.Flush()
			}
			end := time.Now().Add(10 * time.Second)
			for j := 0; time.Now().Before(end) && a.Dropped(tc.reason) == before; j++ {
				p := nodetest.Profile(b.ID())
				p.Name = fmt.Sprintf("Hub two, change %d.%d", i, j)
				saved, err := b.PutProfile(p)
				if err != nil {
					t.Fatal(err)
				}
				nodetest.Eventually(t, 5*time.Second, func() error {
					if err := notForged(); err != nil {
						return err
					}
					if got, _ := a.Hub(b.ID()); got.Revision < saved.Revision && a.Dropped(tc.reason) == before {
						return fmt.Errorf("hub-1 neither refused a forgery nor fetched revision %d", saved.Revision)
					}
					return nil
				})
			}
			if a.Dropped(tc.reason) == before {
				t.Errorf("hub-1 counted no %s in 10s of fetches with the forger answering", tc.reason)
			}
		})
	}
	// With the forger gone, A keeps up with B's real profile.
	nodetest.Eventually(t, 10*time.Second, func() error {
		want, err := b.Self()
		if err != nil {
			return err
		}
		got, err := a.Hub(b.ID())
		if err != nil || got.Revision != want.Revision || got.Profile.Name != want.Profile.Name {
			return fmt.Errorf("hub-1 has hub-2 as %q revision %d (%v), want %q revision %d", got.Profile.Name, got.Revision, err, want.Profile.Name, want.Revision)
		}
		return nil
	})
	stillWorking(t, a, b)
}

// A refers an SME to B. Member M sends A an acceptance in B's name signed with its own
// key, then one in its own name. A drops the first as bad-signature and refuses the
// second (M is no party to the referral); its record stays as it was, and B's real
// acceptance then goes through.
func TestTrust_forgedReferralDecisionRefused(t *testing.T) {
	net := nodetest.Network(t)
	hubs, idents := startHubs(t, net, "hub-1", "hub-2", "hub-3")
	a, b, m := hubs[0], hubs[1], hubs[2]
	mid := idents[2]
	id := receivedReferral(t, a, b, referralTo(b.ID()))
	before := nodetest.WaitState(t, a, id, protocol.StateReceived)
	mc := natsClient(t, m)

	bad := a.Dropped("bad-signature")
	unanswered(t, mc, protocol.ReferralSubject(a.ID()),
		signed(t, posing(b.ID(), mid), protocol.TypeReferralEvent, a.ID(), event(id, protocol.EventAccept), time.Now()))
	counted(t, a, "bad-signature", bad)

	drops := droppedTotal(t, a)
	reply, err := mc.Request(protocol.ReferralSubject(a.ID()),
		signed(t, mid, protocol.TypeReferralEvent, a.ID(), event(id, protocol.EventAccept), time.Now()), 2*time.Second)
	if err != nil {
		t.Fatalf("M's acceptance in its own name: %v, want a refusal", err)
	}
	// The refusal is answered once the message is handled: it is counted by then.
	if got := droppedTotal(t, a); got == drops {
		t.Errorf("hub-1 refused M's acceptance but counted no drop under any reason (total %v)", got)
	}
	self, err := a.Self()
	if err != nil {
		t.Fatal(err)
	}
	env, err := protocol.OpenEnvelope(reply.Data)
	if err != nil || env.Verify(self.SignKey) != nil || env.Type != protocol.TypeReferralAck {
		t.Fatalf("answer %s (%v), want an acknowledgement signed by hub-1", reply.Data, err)
	}
	if err := env.Unseal(mid); err != nil {
		t.Fatalf("acknowledgement to M: %v", err)
	}
	var ack protocol.ReferralAck
	if err := env.Decode(&ack); err != nil || ack.Result != protocol.AckRefused {
		t.Errorf("acknowledgement %+v (%v), want refused", ack, err)
	}

	for _, h := range []*nodetest.Hub{a, b} {
		info, err := h.Referral(id)
		if err != nil || info.Referral.State != protocol.StateReceived || len(info.Referral.History) != len(before.Referral.History) {
			t.Errorf("%s's referral after the forgeries: %s with %d changes (%v), want received with %d",
				h.ID(), info.Referral.State, len(info.Referral.History), err, len(before.Referral.History))
		}
	}
	if _, err := m.Referral(id); err == nil {
		t.Error("M holds the referral")
	}

	if _, err := b.Act(id, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	// The acceptance is recorded; the SME's details then go to B on their own time.
	nodetest.Eventually(t, 15*time.Second, func() error {
		got, err := a.Referral(id)
		if err != nil || got.Referral.State != protocol.StateAccepted {
			return fmt.Errorf("hub-1 holds the referral as %s (%v), want accepted", got.Referral.State, err)
		}
		if last := got.Referral.History[len(got.Referral.History)-1]; last.By != b.ID() {
			t.Fatalf("acceptance recorded by %s, want hub-2", last.By)
		}
		return nil
	})
}

// A message from B to A, captured on A's NATS server, is sent again as it was; M
// signs a message with a new ID and a time 11 minutes off; the captured message is
// delivered to M, addressed to A as it is or with its recipient changed to M. Each is
// dropped without an answer and counted, and nothing changes.
func TestTrust_replayedAndReaddressedMessagesRefused(t *testing.T) {
	net := nodetest.Network(t)
	hubs, idents := startHubs(t, net, "hub-1", "hub-2", "hub-3")
	a, b, m := hubs[0], hubs[1], hubs[2]
	mid := idents[2]
	id := acceptedReferral(t, a, b, referralTo(b.ID()))
	nodetest.WaitState(t, a, id, protocol.StateAccepted)

	ac := natsClient(t, a)
	captured := captureStart(t, ac, a, b, id)
	before := nodetest.WaitState(t, a, id, protocol.StateInProgress)

	env, err := protocol.OpenEnvelope(captured)
	if err != nil {
		t.Fatal(err)
	}
	env.To = m.ID()
	readdressed, _ := env.Marshal()

	cases := []struct {
		name   string
		to     *nodetest.Hub
		data   []byte
		reason string
	}{
		{"same message again", a, captured, "replay"},
		{"new ID, 11 minutes old", a, signed(t, mid, protocol.TypeReferralEvent, a.ID(), event(id, protocol.EventStart), time.Now().Add(-11*time.Minute)), "outside-window"},
		{"new ID, 11 minutes ahead", a, signed(t, mid, protocol.TypeReferralEvent, a.ID(), event(id, protocol.EventStart), time.Now().Add(11*time.Minute)), "outside-window"},
		{"for hub-1, sent to M", m, captured, "wrong-recipient"},
		{"recipient changed to M", m, readdressed, "bad-signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			drops := tc.to.Dropped(tc.reason)
			unanswered(t, ac, protocol.ReferralSubject(tc.to.ID()), tc.data)
			counted(t, tc.to, tc.reason, drops)
			if got := tc.to.Dropped(tc.reason) - drops; got != 1 {
				t.Errorf("%s counted %v drops for %s, want 1", tc.to.ID(), got, tc.reason)
			}
		})
	}

	after, err := a.Referral(id)
	if err != nil || after.Referral.State != protocol.StateInProgress || len(after.Referral.History) != len(before.Referral.History) {
		t.Errorf("hub-1's referral: %s with %d changes (%v), want in-progress with %d", after.Referral.State, len(after.Referral.History), err, len(before.Referral.History))
	}
	if _, err := m.Referral(id); err == nil {
		t.Error("M holds the referral")
	}
	if _, err := b.Act(id, protocol.EventComplete, api.ReferralAction{Outcome: "service-delivered"}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, id, protocol.StateCompleted)
}

// Member M listens to every subject on its own NATS server while A refers an SME to B
// and B accepts. M sees the referral's messages, the sealed details among them, and
// reads none of the SME's identity; B opens the details.
func TestTrust_eavesdropperReadsOnlyCiphertext(t *testing.T) {
	net := nodetest.Network(t)
	hubs, idents := startHubs(t, net, "hub-1", "hub-2", "hub-3")
	a, b, m := hubs[0], hubs[1], hubs[2]
	mid := idents[2]

	var mu sync.Mutex
	var seen [][]byte
	mc := natsClient(t, m)
	if _, err := mc.Subscribe(">", func(msg *nats.Msg) {
		mu.Lock()
		seen = append(seen, msg.Data)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	mc.Flush()

	req := referralTo(b.ID())
	req.SME.ContactPhone = "+358 40 123 4567"
	id := acceptedReferral(t, a, b, req)

	var details []protocol.Envelope
	nodetest.Eventually(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		details = details[:0]
		for _, data := range seen {
			if env, err := protocol.OpenEnvelope(data); err == nil && env.Type == protocol.TypeReferralDetails {
				details = append(details, env)
			}
		}
		if len(details) == 0 {
			return fmt.Errorf("M saw no referral-details message among %d", len(seen))
		}
		return nil
	})
	mu.Lock()
	for _, data := range seen {
		for _, secret := range []string{req.SME.Name, req.SME.ContactName, req.SME.ContactEmail, req.SME.ContactPhone, "Leipomo", "aino@"} {
			if strings.Contains(string(data), secret) {
				t.Errorf("M read %q in %s", secret, data)
			}
		}
	}
	mu.Unlock()

	// The whole message is sealed to hub-2, and M's box key does not open it.
	for _, env := range details {
		if env.V != protocol.SealedVersion || env.To != b.ID() {
			t.Errorf("details of version %d to %s, want version %d to %s", env.V, env.To, protocol.SealedVersion, b.ID())
		}
		if err := env.Unseal(mid); !errors.Is(err, protocol.ErrBadSeal) {
			t.Errorf("M opened the sealed details: got %v, want %v", err, protocol.ErrBadSeal)
		}
	}
	info, err := b.Referral(id)
	if err != nil || info.SME == nil || info.SME.Name != req.SME.Name || info.SME.ContactPhone != req.SME.ContactPhone {
		t.Errorf("hub-2's SME: %+v (%v), want %+v", info.SME, err, req.SME)
	}
	if _, err := m.Referral(id); err == nil {
		t.Error("M holds the referral")
	}
}
