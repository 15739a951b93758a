package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/internal/faultfs"
	"github.com/hubnet-eu/hubnet/protocol"
)

// Data files at every schema version older than this build's, each holding the data of
// its version as that version stored it, opened by this build: they are migrated to
// SchemaVersion, pass bbolt's check, and their data reads back intact and takes new
// writes. A file of a newer build is refused and left as it was.

// A fixture is the data that one schema version added. write puts it into a file at
// that version or a later one, in the raw layout the version used (store/doc.go) and
// never through the Store's methods, which write the newest layout; check reads it
// back through this build's Store, then uses it.
//
// A new schema version that adds data adds a fixture. One that changes how older data
// is stored must make the older fixtures write the new form into files at its version,
// which write gets as file.
type fixture struct {
	version int
	write   func(t *testing.T, tx *bolt.Tx, file int, d *oldData)
	check   func(t *testing.T, s *Store, d *oldData)
}

var fixtures = []fixture{
	{version: 1, write: writeSchema1, check: checkSchema1},
	{version: 2, write: writeSchema2, check: checkSchema2},
	{version: 3, write: writeSchema3, check: checkSchema3},
	{version: 4, write: writeSchema4, check: checkSchema4},
	{version: 5, write: writeSchema5, check: checkSchema5},
}

// oldData is what the fixtures write: one hub's data, hub-one's, with its keys and
// those of the hub it works with, hub-two.
type oldData struct {
	ident, partner protocol.Identity
	netName        string
	gossipKey      []byte
	self           protocol.Envelope // hub-one's signed profile
	hubs           []Hub             // hub-two, reachable, and hub-three, gone

	sent      ReferralRecord // hub-one referred an SME to hub-two, which accepted
	received  ReferralRecord // hub-two referred one to hub-one, which completed it
	cancelled ReferralRecord // hub-two referred one and cancelled it: no SME any more
	out       Outgoing       // the sealed details of sent, not yet acknowledged
	inboxKey  string         // the offer of received, applied
	inboxAck  []byte         // and acknowledged with this
	inboxAt   time.Time
	kpis      []protocol.KPIRecord
}

func newOldData(t *testing.T) *oldData {
	t.Helper()
	d := &oldData{ident: mustIdentity(t, "hub-one"), partner: mustIdentity(t, "hub-two"), netName: "testnet",
		gossipKey: make([]byte, 32)}
	rand.Read(d.gossipKey)
	at := testTime
	self := testProfile("hub-one")
	self.Revision, self.Updated = 4, at
	env, err := protocol.SignProfile(d.ident, self, at)
	if err != nil {
		t.Fatal(err)
	}
	d.self = env
	d.hubs = []Hub{mustSignedHub(t, d.partner, 7), mustSignedHub(t, mustIdentity(t, "hub-three"), 2)}
	d.hubs[0].Fetched = at.Add(time.Minute)
	d.hubs[1].Reachable, d.hubs[1].LastSeen, d.hubs[1].Fetched = false, at.Add(-48*time.Hour), at.Add(-50*time.Hour)

	// The referral hub-one sent: accepted by hub-two, the SME's details on their way.
	d.sent = ReferralRecord{Referral: oldReferral(t, "hub-one", "hub-two", at.Add(time.Hour)), Role: protocol.RoleSender,
		SME: testSME(), Updated: at.Add(3 * time.Hour)}
	applyEvent(t, &d.sent.Referral, at.Add(2*time.Hour), protocol.EventReceive, protocol.RoleSystem, "hub-two")
	applyEvent(t, &d.sent.Referral, at.Add(3*time.Hour), protocol.EventAccept, protocol.RoleReceiver, "hub-two")
	sealed, err := protocol.SealSME(*d.sent.SME, d.ident, d.partner.BoxPub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d.out = Outgoing{To: "hub-two", Referral: d.sent.Referral.ID, Attempts: 2,
		Due: at.Add(3*time.Hour + 4*time.Second), Created: at.Add(3 * time.Hour),
		Envelope: signedMessage(t, d.ident, protocol.TypeReferralDetails, "hub-two",
			protocol.ReferralDetails{V: protocol.Version, Referral: d.sent.Referral.ID, SME: sealed}, at.Add(3*time.Hour))}
	var env2 protocol.Envelope
	if err := json.Unmarshal(d.out.Envelope, &env2); err != nil {
		t.Fatal(err)
	}
	d.out.ID = env2.ID

	// The referral hub-one received and completed, with its KPI records.
	d.received = ReferralRecord{Referral: oldReferral(t, "hub-two", "hub-one", at.Add(5*time.Hour)), Role: protocol.RoleReceiver,
		SME:     &protocol.SME{Name: "Meijeri Esimerkki Oy", ContactName: "Eero Example", ContactEmail: "eero@meijeri.example"},
		Updated: at.Add(30 * 24 * time.Hour)}
	r := &d.received.Referral
	applyEvent(t, r, at.Add(5*time.Hour+time.Second), protocol.EventReceive, protocol.RoleSystem, "hub-one")
	applyEvent(t, r, at.Add(26*time.Hour), protocol.EventAccept, protocol.RoleReceiver, "hub-one")
	applyEvent(t, r, at.Add(7*24*time.Hour), protocol.EventStart, protocol.RoleReceiver, "hub-one")
	applyEvent(t, r, at.Add(30*24*time.Hour), protocol.EventComplete, protocol.RoleReceiver, "hub-one")
	r.Outcome = "service-delivered"
	for _, kind := range []protocol.KPIKind{protocol.KPICollaboration, protocol.KPIServiceDelivered} {
		d.kpis = append(d.kpis, protocol.KPIRecord{Kind: kind, Referral: r.ID, Hub: "hub-one", Partner: "hub-two",
			Role: protocol.RoleReceiver, At: at.Add(30 * 24 * time.Hour), Category: r.Need.Category, Sector: r.Need.Sector,
			Region: r.Need.Region, Family: r.Need.Family, Technologies: r.Need.Technologies, Outcome: r.Outcome})
	}
	offerID := "0190c2f8-8f5e-7c4e-9d3a-5b1e2f3a4b5c"
	d.inboxKey, d.inboxAt = "hub-two/"+offerID, at.Add(5*time.Hour+time.Second)
	d.inboxAck = signedMessage(t, d.ident, protocol.TypeReferralAck, "hub-two", protocol.ReferralAck{V: protocol.Version,
		Message: offerID, Referral: r.ID, Result: protocol.AckApplied, State: protocol.StateReceived}, d.inboxAt)

	// The referral hub-two cancelled after hub-one accepted it: the SME's identity is
	// purged.
	d.cancelled = ReferralRecord{Referral: oldReferral(t, "hub-two", "hub-one", at.Add(6*time.Hour)), Role: protocol.RoleReceiver,
		Updated: at.Add(9 * time.Hour)}
	r = &d.cancelled.Referral
	applyEvent(t, r, at.Add(6*time.Hour+time.Second), protocol.EventReceive, protocol.RoleSystem, "hub-one")
	applyEvent(t, r, at.Add(8*time.Hour), protocol.EventAccept, protocol.RoleReceiver, "hub-one")
	applyEvent(t, r, at.Add(9*time.Hour), protocol.EventCancel, protocol.RoleSender, "hub-two")
	r.Reason = protocol.CancelReasons[0]
	return d
}

// oldReferral is a referral from hub from to hub to, created and sent at created.
func oldReferral(t *testing.T, from, to string, created time.Time) protocol.Referral {
	t.Helper()
	r := testReferral(t, created)
	r.From, r.To, r.Consent.Recipient = from, to, to
	r.History = nil
	r.State = protocol.StateDraft
	applyEvent(t, &r, created, protocol.EventSend, protocol.RoleSender, from)
	return r
}

func applyEvent(t *testing.T, r *protocol.Referral, at time.Time, ev protocol.Event, by protocol.Role, hub string) {
	t.Helper()
	if err := r.Apply(ev, by, hub, at, ""); err != nil {
		t.Fatalf("%s %s: %v", ev, r.ID, err)
	}
}

func signedMessage(t *testing.T, id protocol.Identity, typ, to string, body any, at time.Time) []byte {
	t.Helper()
	env, err := protocol.Sign(id, typ, to, body, at)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawPut puts a key into a bucket of a file being written as an older version did.
func rawPut(t *testing.T, tx *bolt.Tx, bucket, key string, v []byte) {
	t.Helper()
	b := tx.Bucket([]byte(bucket))
	if b == nil {
		t.Fatalf("no bucket %s in the file", bucket)
	}
	if err := b.Put([]byte(key), v); err != nil {
		t.Fatal(err)
	}
}

// Schema 1: identity, own profile, directory cache.

// v1Header is a signed envelope without its body, as schema 1 stores it.
type v1Header struct {
	V    int       `json:"v"`
	ID   string    `json:"id"`
	Type string    `json:"type"`
	From string    `json:"from"`
	To   string    `json:"to,omitempty"`
	Time time.Time `json:"time"`
	Sig  []byte    `json:"sig"`
}

func v1HeaderOf(e protocol.Envelope) v1Header {
	return v1Header{V: e.V, ID: e.ID, Type: e.Type, From: e.From, To: e.To, Time: e.Time, Sig: e.Sig}
}

func writeSchema1(t *testing.T, tx *bolt.Tx, file int, d *oldData) {
	rawPut(t, tx, "identity", "id", []byte(d.ident.ID))
	rawPut(t, tx, "identity", "sign_key", d.ident.SignKey)
	rawPut(t, tx, "identity", "box_key", d.ident.BoxKey[:])
	rawPut(t, tx, "identity", "box_pub", d.ident.BoxPub[:])
	rawPut(t, tx, "identity", "network", mustJSONBytes(t, struct {
		V         int    `json:"v"`
		Name      string `json:"name"`
		GossipKey []byte `json:"gossip_key"`
	}{1, d.netName, d.gossipKey}))
	rawPut(t, tx, "self", "envelope", mustJSONBytes(t, v1HeaderOf(d.self)))
	rawPut(t, tx, "self", "body", d.self.Body)
	for _, h := range d.hubs {
		rawPut(t, tx, "hubs", h.Profile.ID, mustJSONBytes(t, struct {
			Envelope  v1Header  `json:"envelope"`
			Reachable bool      `json:"reachable"`
			LastSeen  time.Time `json:"last_seen"`
			Fetched   time.Time `json:"fetched"`
		}{v1HeaderOf(h.Envelope), h.Reachable, h.LastSeen, h.Fetched}))
		rawPut(t, tx, "hub_bodies", h.Profile.ID, h.Envelope.Body)
	}
}

func checkSchema1(t *testing.T, s *Store, d *oldData) {
	t.Helper()
	ident, err := s.Identity()
	if err != nil || !identityEqual(ident, d.ident) {
		t.Errorf("Identity = %s, %v; want the keys stored", ident.ID, err)
	}
	if net, err := s.Network(); err != nil || net.Name != d.netName || !bytes.Equal(net.GossipKey, d.gossipKey) {
		t.Errorf("Network = %q, %v; want %q with its gossip key", net.Name, err, d.netName)
	}
	p, env, err := s.Self()
	if err != nil {
		t.Fatalf("Self: %v", err)
	}
	if !bytes.Equal(env.Body, d.self.Body) || !bytes.Equal(env.Sig, d.self.Sig) {
		t.Errorf("own profile's signed body or signature changed")
	}
	if _, err := protocol.OpenProfile(env, d.ident.SignPublic()); err != nil || p.Revision != 4 || p.Name != "Test Hub hub-one" {
		t.Errorf("own profile: %q revision %d, signature %v; want revision 4, verified", p.Name, p.Revision, err)
	}
	hubs, err := s.Hubs()
	if err != nil || len(hubs) != len(d.hubs) {
		t.Fatalf("Hubs = %d hubs, %v; want %d", len(hubs), err, len(d.hubs))
	}
	for _, w := range d.hubs {
		h, err := s.Hub(w.Profile.ID)
		if err != nil {
			t.Fatalf("Hub(%s): %v", w.Profile.ID, err)
		}
		if h.Profile.ID != w.Profile.ID || h.Profile.Revision != w.Profile.Revision || h.Reachable != w.Reachable ||
			!h.LastSeen.Equal(w.LastSeen) || !h.Fetched.Equal(w.Fetched) || !bytes.Equal(h.Envelope.Body, w.Envelope.Body) {
			t.Errorf("hub = %s revision %d reachable %t seen %v fetched %v; want %s revision %d reachable %t seen %v fetched %v",
				h.Profile.ID, h.Profile.Revision, h.Reachable, h.LastSeen, h.Fetched,
				w.Profile.ID, w.Profile.Revision, w.Reachable, w.LastSeen, w.Fetched)
		}
	}
	if ids := []string{hubs[0].Profile.ID, hubs[1].Profile.ID}; !slices.IsSorted(ids) {
		t.Errorf("Hubs in the order %v, want sorted by ID", ids)
	}
	if h, _ := s.Hub("hub-two"); h.Envelope.Body == nil {
		t.Error("hub-two has no signed body")
	} else if _, err := protocol.OpenProfile(h.Envelope, d.partner.SignPublic()); err != nil {
		t.Errorf("hub-two's cached profile no longer verifies: %v", err)
	}

	// And it takes writes.
	p.Name = "Test Hub One, renamed"
	if saved, err := s.PutSelf(p); err != nil || saved.Revision != 5 {
		t.Errorf("PutSelf = revision %d, %v; want 5", saved.Revision, err)
	}
	next := mustSignedHub(t, d.partner, 8)
	if err := s.PutHub(next); err != nil {
		t.Errorf("PutHub of revision 8: %v", err)
	}
	if err := s.MarkSeen("hub-three", true, testTime.Add(time.Hour)); err != nil {
		t.Errorf("MarkSeen: %v", err)
	}
}

// Schema 2: referrals with their outbox, inbox and KPI records.

// v2TimeKey is a time as schema 2 writes it in keys and in the inbox.
func v2TimeKey(t time.Time) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
}

func writeSchema2(t *testing.T, tx *bolt.Tx, file int, d *oldData) {
	for _, rec := range []ReferralRecord{d.sent, d.received, d.cancelled} {
		id := rec.Referral.ID
		rawPut(t, tx, "referrals", id, mustJSONBytes(t, struct {
			Referral protocol.Referral `json:"referral"`
			Role     protocol.Role     `json:"role"`
			Updated  time.Time         `json:"updated"`
		}{rec.Referral, rec.Role, rec.Updated}))
		if rec.SME != nil {
			rawPut(t, tx, "referral_smes", id, mustJSONBytes(t, rec.SME))
		}
		rawPut(t, tx, "referrals_created", string(v2TimeKey(rec.Referral.Created))+id, nil)
	}
	o := d.out
	rawPut(t, tx, "outbox", o.ID, mustJSONBytes(t, struct {
		To       string    `json:"to"`
		Referral string    `json:"referral"`
		Attempts int       `json:"attempts"`
		Due      time.Time `json:"due"`
		Created  time.Time `json:"created"`
	}{o.To, o.Referral, o.Attempts, o.Due, o.Created}))
	rawPut(t, tx, "outbox_envelopes", o.ID, o.Envelope)
	rawPut(t, tx, "inbox", d.inboxKey, append(v2TimeKey(d.inboxAt), d.inboxAck...))
	for _, k := range d.kpis {
		rawPut(t, tx, "kpis", string(k.Kind)+"\x00"+k.Referral+"\x00"+k.Hub, mustJSONBytes(t, k))
	}
}

func checkSchema2(t *testing.T, s *Store, d *oldData) {
	t.Helper()
	for _, w := range []ReferralRecord{d.sent, d.received, d.cancelled} {
		got, err := s.Referral(w.Referral.ID)
		if err != nil {
			t.Fatalf("Referral(%s): %v", w.Referral.ID, err)
		}
		if a, b := mustJSON(t, got), mustJSON(t, w); a != b {
			t.Errorf("referral reads back as\n%s\nwant\n%s", a, b)
		}
	}
	// Newest first, by the index on Created.
	want := []string{d.cancelled.Referral.ID, d.received.Referral.ID, d.sent.Referral.ID}
	if got := ids(mustReferrals(t, s, ReferralFilter{})); !slices.Equal(got, want) {
		t.Errorf("Referrals = %v, want %v", got, want)
	}
	if got := ids(mustReferrals(t, s, ReferralFilter{Role: protocol.RoleReceiver, From: testTime.Add(6 * time.Hour)})); !slices.Equal(got, want[:1]) {
		t.Errorf("Referrals received from 6 h on = %v, want %v", got, want[:1])
	}
	out := mustOutbox(t, s)
	if len(out) != 1 || mustJSON(t, out[0]) != mustJSON(t, d.out) {
		t.Fatalf("Outbox = %s, want [%s]", mustJSON(t, out), mustJSON(t, d.out))
	}
	env, err := protocol.OpenEnvelope(out[0].Envelope)
	if err == nil {
		err = env.Verify(d.ident.SignPublic())
	}
	if err != nil {
		t.Errorf("outbox envelope no longer opens and verifies: %v", err)
	}
	if n, err := s.Pending(); err != nil || n[d.sent.Referral.ID] != 1 || len(n) != 1 {
		t.Errorf("Pending = %v, %v; want 1 for %s", n, err, d.sent.Referral.ID)
	}
	ack, dup, err := s.Receive(d.inboxKey, d.received.Referral.ID, func(ReferralRecord, bool) (Incoming, error) {
		t.Error("a message in the inbox was applied again")
		return Incoming{}, nil
	})
	if err != nil || !dup || !bytes.Equal(ack, d.inboxAck) {
		t.Errorf("Receive of an applied message = dup %t, %v; want its stored acknowledgement", dup, err)
	}
	if got := mustKPIs(t, s, time.Time{}, time.Time{}); mustJSON(t, got) != mustJSON(t, d.kpis) {
		t.Errorf("KPIs = %s, want %s", mustJSON(t, got), mustJSON(t, d.kpis))
	}

	// And it takes writes: hub-one cancels the referral it sent, hub-two acknowledges
	// the details, a new referral comes in, old inbox entries are forgotten.
	rec, err := s.UpdateReferral(d.sent.Referral.ID, func(rec *ReferralRecord) ([]Outgoing, []protocol.KPIRecord, error) {
		if err := rec.Referral.Apply(protocol.EventCancel, protocol.RoleSender, "hub-one", testTime.Add(4*time.Hour), ""); err != nil {
			return nil, nil, err
		}
		return []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", time.Time{})}, nil, nil
	})
	if err != nil || rec.Referral.State != protocol.StateCancelled {
		t.Errorf("UpdateReferral: %s, %v; want cancelled", rec.Referral.State, err)
	}
	if err := s.Acknowledged(d.out.ID, d.sent.Referral.ID, func(*ReferralRecord) (bool, []protocol.KPIRecord, error) { return false, nil, nil }); err != nil {
		t.Errorf("Acknowledged: %v", err)
	}
	if out := mustOutbox(t, s); len(out) != 1 || out[0].ID == d.out.ID {
		t.Errorf("outbox after the acknowledgement: %d entries, want the cancel alone", len(out))
	}
	offer := testReferral(t, testTime.Add(40*24*time.Hour))
	if _, _, err := s.Receive("hub-two/"+mustUUID(t), offer.ID, func(ReferralRecord, bool) (Incoming, error) {
		return Incoming{Record: &ReferralRecord{Referral: offer, Role: protocol.RoleReceiver}, Ack: []byte("ack")}, nil
	}); err != nil {
		t.Errorf("Receive of a new message: %v", err)
	}
	if n, err := s.PruneInbox(d.inboxAt.Add(time.Second)); err != nil || n != 1 {
		t.Errorf("PruneInbox = %d, %v; want the old entry gone", n, err)
	}
}

func mustJSONBytes(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeOldFile makes a data file at schema version v holding the data of every fixture
// up to v, as a build with v migrations left it.
func writeOldFile(t *testing.T, path string, v int, d *oldData) {
	t.Helper()
	s, err := open(path, nil, migrations[:v])
	if err != nil {
		t.Fatalf("open with %d migrations: %v", v, err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		for _, f := range fixtures {
			if f.version <= v {
				f.write(t, tx, v, d)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v > 0 {
		if got := readSchema(t, path); got != uint64(v) {
			t.Fatalf("file written at schema %d, want %d", got, v)
		}
	}
}

func TestFixtures_everyOlderVersion(t *testing.T) {
	for v := 1; v < SchemaVersion; v++ {
		if !slices.ContainsFunc(fixtures, func(f fixture) bool { return f.version == v }) {
			t.Errorf("no fixture for schema %d: add one with the data that version stores, as it stores it", v)
		}
	}
}

// Every version below SchemaVersion, and SchemaVersion itself, which shows that the
// fixtures write what this build reads.
func TestOpen_olderSchemas(t *testing.T) {
	for v := 0; v <= SchemaVersion; v++ {
		t.Run(fmt.Sprintf("schema%d", v), func(t *testing.T) {
			d := newOldData(t)
			path := filepath.Join(t.TempDir(), "hubnet.db")
			writeOldFile(t, path, v, d)

			s, err := Open(path, nil)
			if err != nil {
				t.Fatalf("Open of a schema %d file: %v", v, err)
			}
			defer s.Close()
			for _, f := range fixtures {
				if f.version <= v {
					f.check(t, s, d)
				}
			}
			if v == 0 {
				// Nothing was stored: the file is as new.
				if _, err := s.Identity(); !errors.Is(err, ErrNoIdentity) {
					t.Errorf("Identity of an empty file: %v, want ErrNoIdentity", err)
				}
				mustInit(t, s, "hub-one")
				if _, err := s.PutSelf(testProfile("hub-one")); err != nil {
					t.Errorf("PutSelf: %v", err)
				}
			}
			// Every version's data can be written now, not only the file's own.
			rec := testRecord(t, protocol.RoleSender, testTime.Add(50*24*time.Hour))
			mustSave(t, s, rec, []Outgoing{testOutgoing(t, rec.Referral.ID, "hub-two", time.Time{})}, nil)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := readSchema(t, path); got != SchemaVersion {
				t.Errorf("schema %d after Open, want %d", got, SchemaVersion)
			}
			faultfs.CheckBolt(t, path)
		})
	}
}

// A file written by a newer hubnet is refused, not migrated down or misread, and not
// one byte of it changes.
func TestOpen_newerSchemaLeftUntouched(t *testing.T) {
	d := newOldData(t)
	path := filepath.Join(t.TempDir(), "hubnet.db")
	writeOldFile(t, path, SchemaVersion, d)
	s, err := open(path, nil, withStep(migration{name: "a newer build's step", up: func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("from_a_newer_hubnet"))
		if err != nil {
			return err
		}
		return b.Put([]byte("key"), []byte("what this build does not know"))
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, path)

	_, err = Open(path, nil)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a schema %d file: %v, want ErrSchemaTooNew", SchemaVersion+1, err)
	}
	if after := fileHash(t, path); after != before {
		t.Errorf("the refused file changed")
	}
	if got := readSchema(t, path); got != SchemaVersion+1 {
		t.Errorf("schema %d after a refused Open, want %d", got, SchemaVersion+1)
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// Schema 3 added the revocations the hub knows (and the message IDs seen, which are
// only ever pruned).
var schema3Revocation = protocol.Revocation{V: 1, Network: "testnet", ID: "rogue-hub", At: 1741944413, Reason: "left the network", Sig: bytes.Repeat([]byte{7}, 64)}

func writeSchema3(t *testing.T, tx *bolt.Tx, file int, d *oldData) {
	rawPut(t, tx, "revocations", schema3Revocation.ID, mustJSONBytes(t, schema3Revocation))
}

func checkSchema3(t *testing.T, s *Store, d *oldData) {
	t.Helper()
	got, err := s.Revocations()
	if err != nil || len(got) != 1 || got[0].ID != "rogue-hub" || got[0].At != schema3Revocation.At || got[0].Reason != schema3Revocation.Reason {
		t.Fatalf("Revocations = %+v, %v; want the revocation of rogue-hub", got, err)
	}
	later := schema3Revocation
	later.At++
	if stored, err := s.PutRevocation(later); err != nil || !stored {
		t.Errorf("a later revocation: stored %v, %v", stored, err)
	}
}

// Schema 4 added people and API tokens.
func writeSchema4(t *testing.T, tx *bolt.Tx, file int, d *oldData) {
	rawPut(t, tx, "people", "p1", mustJSONBytes(t, Person{ID: "p1", Name: "Aino Virtanen", Email: "Aino@hub-one.example.eu",
		Role: RoleAdvisor, Password: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", Created: time.Unix(1741944413, 0).UTC()}))
	rawPut(t, tx, "people_emails", "aino@hub-one.example.eu", []byte("p1"))
	h := bytes.Repeat([]byte{9}, 32)
	rawPut(t, tx, "tokens", "t1", mustJSONBytes(t, Token{ID: "t1", Name: "crm", Scopes: []string{ScopeRead}, Hash: h,
		Created: time.Unix(1741944413, 0).UTC()}))
	rawPut(t, tx, "token_hashes", string(h), []byte("t1"))
}

func checkSchema4(t *testing.T, s *Store, d *oldData) {
	t.Helper()
	p, err := s.Person("AINO@hub-one.example.eu")
	if err != nil || p.ID != "p1" || p.Password == "" {
		t.Fatalf("Person = %+v, %v", p, err)
	}
	tok, err := s.TokenByHash(bytes.Repeat([]byte{9}, 32))
	if err != nil || tok.Name != "crm" {
		t.Fatalf("TokenByHash = %+v, %v", tok, err)
	}
	if _, err := s.RevokeToken("crm"); err != nil {
		t.Errorf("RevokeToken: %v", err)
	}
}
