package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// testTime is a fixed instant the directory tests count from.
var testTime = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// mustSignedHub returns the directory entry of ident's test profile at revision rev,
// signed by ident and seen alive at testTime.
func mustSignedHub(t testing.TB, ident protocol.Identity, rev uint64) Hub {
	t.Helper()
	return mustSignProfile(t, ident, withRevision(testProfile(ident.ID), rev))
}

func withRevision(p protocol.Profile, rev uint64) protocol.Profile {
	p.Revision = rev
	p.Updated = testTime
	return p
}

// mustSignProfile signs p as ident and returns it as a Hub, its Profile decoded from
// the envelope as a receiving node would.
func mustSignProfile(t testing.TB, ident protocol.Identity, p protocol.Profile) Hub {
	t.Helper()
	env, err := protocol.SignProfile(ident, p, testTime)
	if err != nil {
		t.Fatalf("SignProfile: %v", err)
	}
	got, err := protocol.OpenProfile(env, ident.SignPublic())
	if err != nil {
		t.Fatalf("OpenProfile: %v", err)
	}
	return Hub{Profile: got, Envelope: env, Reachable: true, LastSeen: testTime}
}

func TestEnvelopeHeader_mirrorsEnvelope(t *testing.T) {
	// Every field of protocol.Envelope but Body, which is stored apart, must be stored.
	et, ht := reflect.TypeOf(protocol.Envelope{}), reflect.TypeOf(envelopeHeader{})
	for i := range et.NumField() {
		ef := et.Field(i)
		if ef.Name == "Body" {
			continue
		}
		hf, ok := ht.FieldByName(ef.Name)
		if !ok || hf.Type != ef.Type || hf.Tag != ef.Tag {
			t.Errorf("protocol.Envelope.%s %s %s is not in envelopeHeader: keep them in step", ef.Name, ef.Type, ef.Tag)
		}
	}
	if et.NumField() != ht.NumField()+1 {
		t.Errorf("protocol.Envelope has %d fields, envelopeHeader %d (+ Body)", et.NumField(), ht.NumField())
	}
}

func TestStore_PutHub(t *testing.T) {
	clock := newTestClock()
	s := mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), &Options{Now: clock.Now})
	ident := mustIdentity(t, "hub-two")
	in := mustSignedHub(t, ident, 1)
	if err := s.PutHub(in); err != nil {
		t.Fatalf("PutHub: %v", err)
	}
	got, err := s.Hub("hub-two")
	if err != nil {
		t.Fatalf("Hub: %v", err)
	}
	want := in
	want.Fetched = clock.Now()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Hub() = %+v\nwant %+v", got, want)
	}
	if _, err := protocol.OpenProfile(got.Envelope, ident.SignPublic()); err != nil {
		t.Errorf("cached envelope no longer verifies: %v", err)
	}
}

func TestStore_PutHub_keepsBodyBytes(t *testing.T) {
	s := mustOpen(t)
	h := mustSignedHub(t, mustIdentity(t, "hub-two"), 1)
	// A body as another implementation might sign it: indented, with characters
	// encoding/json would escape. The store must not re-encode it.
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	h.Profile.Name = "R&D <Hub>"
	if err := enc.Encode(h.Profile); err != nil {
		t.Fatal(err)
	}
	h.Envelope.Body = json.RawMessage(buf.String())
	if err := s.PutHub(h); err != nil {
		t.Fatalf("PutHub: %v", err)
	}
	got, err := s.Hub("hub-two")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Envelope.Body) != buf.String() {
		t.Errorf("body changed in the store:\n got %s\nwant %s", got.Envelope.Body, buf.String())
	}
	if got.Profile.Name != "R&D <Hub>" {
		t.Errorf("Profile.Name = %q, want decoded from the body", got.Profile.Name)
	}
}

func TestStore_results_outliveClose(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hubnet.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ident := mustInit(t, s, "hub-one")
	// Profiles over a quarter page, so that their buckets are not inline: bbolt copies
	// values of inline buckets that are not aligned, which would hide the fault.
	long := strings.Repeat("Robotics test beds for manufacturing SMEs. ", 50)
	self := testProfile("hub-one")
	self.Description = long
	if _, err := s.PutSelf(self); err != nil {
		t.Fatal(err)
	}
	other := withRevision(testProfile("hub-two"), 1)
	other.Description = long
	if err := s.PutHub(mustSignProfile(t, mustIdentity(t, "hub-two"), other)); err != nil {
		t.Fatal(err)
	}
	h, err := s.Hub("hub-two")
	if err != nil {
		t.Fatal(err)
	}
	hubs, err := s.Hubs()
	if err != nil {
		t.Fatal(err)
	}
	_, selfEnv, err := s.Self()
	if err != nil {
		t.Fatal(err)
	}
	gotIdent, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	// Close unmaps the file: anything returned that still pointed into bbolt's memory
	// would now fault or read garbage.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, env := range []protocol.Envelope{h.Envelope, hubs[0].Envelope} {
		if _, err := profileOf(env); err != nil {
			t.Errorf("envelope body after Close: %v", err)
		}
	}
	if err := selfEnv.Verify(ident.SignPublic()); err != nil {
		t.Errorf("own envelope after Close: %v", err)
	}
	if !identityEqual(gotIdent, ident) {
		t.Errorf("identity changed after Close")
	}
}

func TestStore_PutHub_stale(t *testing.T) {
	s := mustOpen(t)
	ident := mustIdentity(t, "hub-two")
	five := mustSignedHub(t, ident, 5)
	if err := s.PutHub(five); err != nil {
		t.Fatal(err)
	}
	for _, rev := range []uint64{3, 5} {
		err := s.PutHub(mustSignedHub(t, ident, rev))
		if !errors.Is(err, ErrStale) {
			t.Fatalf("PutHub revision %d over 5: %v, want ErrStale", rev, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "hub-two") || !strings.Contains(msg, fmt.Sprintf("revision %d, cached revision 5", rev)) {
			t.Errorf("error %q should name the hub and both revisions", msg)
		}
	}
	got, err := s.Hub("hub-two")
	if err != nil || got.Profile.Revision != 5 || got.Envelope.ID != five.Envelope.ID {
		t.Errorf("after stale puts: revision %d envelope %s, %v; want 5 %s", got.Profile.Revision, got.Envelope.ID, err, five.Envelope.ID)
	}

	six := mustSignedHub(t, ident, 6)
	if err := s.PutHub(six); err != nil {
		t.Fatalf("PutHub revision 6: %v", err)
	}
	if got, _ := s.Hub("hub-two"); got.Envelope.ID != six.Envelope.ID {
		t.Errorf("revision 6 did not replace revision 5")
	}
}

func TestStore_PutHub_keepsNewerLastSeen(t *testing.T) {
	s := mustOpen(t)
	ident := mustIdentity(t, "hub-two")
	first := mustSignedHub(t, ident, 1)
	first.LastSeen = testTime.Add(time.Hour)
	if err := s.PutHub(first); err != nil {
		t.Fatal(err)
	}

	// Fetched from a peer's hint while the hub itself is out of sight: older news about
	// its liveness must not overwrite newer.
	second := mustSignedHub(t, ident, 2)
	second.Reachable = false
	second.LastSeen = testTime
	if err := s.PutHub(second); err != nil {
		t.Fatal(err)
	}
	got, err := s.Hub("hub-two")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Reachable || !got.LastSeen.Equal(first.LastSeen) || got.Profile.Revision != 2 {
		t.Errorf("got reachable %t last seen %v revision %d, want true %v 2", got.Reachable, got.LastSeen, got.Profile.Revision, first.LastSeen)
	}

	third := mustSignedHub(t, ident, 3)
	third.Reachable = false
	third.LastSeen = testTime.Add(2 * time.Hour)
	if err := s.PutHub(third); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Hub("hub-two")
	if got.Reachable || !got.LastSeen.Equal(third.LastSeen) {
		t.Errorf("got reachable %t last seen %v, want false %v", got.Reachable, got.LastSeen, third.LastSeen)
	}
}

func TestStore_PutHub_mismatch(t *testing.T) {
	ident := mustIdentity(t, "hub-two")
	tests := []struct {
		name  string
		edit  func(h *Hub)
		field string
	}{
		{"profile of another hub", func(h *Hub) { h.Profile.ID = "hub-three" }, "profile.id"},
		{"revision not the body's", func(h *Hub) { h.Profile.Revision = 9 }, "envelope.body"},
		{"not a profile message", func(h *Hub) { h.Envelope.Type = protocol.TypeProfileHint }, "envelope.type"},
		{"body not a profile", func(h *Hub) { h.Envelope.Body = json.RawMessage(`[1,2]`) }, "envelope.body"},
		{"no id", func(h *Hub) { h.Profile.ID, h.Envelope.From = "", "" }, "profile.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			h := mustSignedHub(t, ident, 1)
			tt.edit(&h)
			err := s.PutHub(h)
			var ve *protocol.ValidationError
			if !errors.As(err, &ve) || !hasField(ve, tt.field) {
				t.Fatalf("PutHub: %v, want a validation error on %s", err, tt.field)
			}
			if hubs, _ := s.Hubs(); len(hubs) != 0 {
				t.Errorf("refused hub was stored")
			}
		})
	}
}

func TestStore_MarkSeen(t *testing.T) {
	s := mustOpen(t)
	if err := s.MarkSeen("hub-two", true, testTime); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSeen of an unknown hub: %v, want ErrNotFound", err)
	}
	if err := s.PutHub(mustSignedHub(t, mustIdentity(t, "hub-two"), 1)); err != nil {
		t.Fatal(err)
	}
	later := testTime.Add(time.Hour)
	steps := []struct {
		name      string
		reachable bool
		at        time.Time
		wantSeen  time.Time
	}{
		{"alive now", true, later, later},
		{"gone, last alive earlier than known", false, testTime, later},
		{"back", true, later.Add(time.Minute), later.Add(time.Minute)},
		{"gone, last alive later", false, later.Add(2 * time.Minute), later.Add(2 * time.Minute)},
	}
	for _, st := range steps {
		if err := s.MarkSeen("hub-two", st.reachable, st.at.In(time.FixedZone("CET", 3600))); err != nil {
			t.Fatalf("%s: MarkSeen: %v", st.name, err)
		}
		h, err := s.Hub("hub-two")
		if err != nil {
			t.Fatal(err)
		}
		if h.Reachable != st.reachable || !h.LastSeen.Equal(st.wantSeen) {
			t.Errorf("%s: reachable %t last seen %v, want %t %v", st.name, h.Reachable, h.LastSeen, st.reachable, st.wantSeen)
		}
		if h.LastSeen.Location() != time.UTC {
			t.Errorf("%s: LastSeen in %v, want UTC", st.name, h.LastSeen.Location())
		}
	}
}

func TestStore_Hubs_sorted(t *testing.T) {
	s := mustOpen(t)
	ids := []string{"zz-hub", "aa-hub", "digit-hub-sweden", "a-0-hub", "edih-9", "edih-10"}
	for _, id := range ids {
		if err := s.PutHub(mustSignedHub(t, mustIdentity(t, id), 1)); err != nil {
			t.Fatal(err)
		}
	}
	hubs, err := s.Hubs()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hubs {
		got = append(got, h.Profile.ID)
	}
	want := []string{"a-0-hub", "aa-hub", "digit-hub-sweden", "edih-10", "edih-9", "zz-hub"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Hubs() IDs = %v, want %v", got, want)
	}
}

func TestStore_DeleteHub(t *testing.T) {
	s := mustOpen(t)
	if err := s.PutHub(mustSignedHub(t, mustIdentity(t, "hub-two"), 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHub("hub-two"); err != nil {
		t.Fatalf("DeleteHub: %v", err)
	}
	if _, err := s.Hub("hub-two"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Hub after DeleteHub: %v, want ErrNotFound", err)
	}
	if err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBodies).Get([]byte("hub-two")) != nil {
			t.Errorf("DeleteHub left the profile body behind")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHub("hub-two"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteHub: %v, want ErrNotFound", err)
	}
}

func TestStore_concurrent(t *testing.T) {
	s := mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), &Options{NoSync: true})
	const writers, revisions = 4, 20
	hubs := make([][]Hub, writers)
	for w := range hubs {
		ident := mustIdentity(t, fmt.Sprintf("hub-%d", w))
		for rev := range uint64(revisions) {
			hubs[w] = append(hubs[w], mustSignedHub(t, ident, rev+1))
		}
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for _, h := range hubs[w] {
				if err := s.PutHub(h); err != nil {
					t.Errorf("PutHub: %v", err)
				}
				if err := s.MarkSeen(h.Profile.ID, true, testTime); err != nil {
					t.Errorf("MarkSeen: %v", err)
				}
			}
		})
		wg.Go(func() {
			for range revisions {
				if _, err := s.Hubs(); err != nil {
					t.Errorf("Hubs: %v", err)
				}
			}
		})
	}
	wg.Wait()
	all, err := s.Hubs()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers {
		t.Fatalf("%d hubs, want %d", len(all), writers)
	}
	for _, h := range all {
		if h.Profile.Revision != revisions {
			t.Errorf("%s at revision %d, want %d", h.Profile.ID, h.Profile.Revision, revisions)
		}
	}
}

// benchProfile is a profile about the size of a real one: a few KB when signed.
func benchProfile(id string, r *rand.Rand) protocol.Profile {
	p := testProfile(id)
	p.Description = strings.Repeat("We help manufacturing SMEs test AI and robotics before they invest. ", 20)
	p.Regions = []string{"FI1B", "FI1C"}
	p.Technologies = map[string]int{}
	for _, i := range r.Perm(len(protocol.Technologies))[:10] {
		p.Technologies[protocol.Technologies[i].Slug] = 1 + r.IntN(5)
	}
	p.Services = map[string]int{}
	for _, i := range r.Perm(len(protocol.Services))[:6] {
		p.Services[protocol.Services[i].Slug] = 1 + r.IntN(5)
	}
	p.Sectors = map[string]int{"C": 5, "J": 3, "Q": 2}
	for _, f := range protocol.Families {
		p.Capacity[f.Slug] = protocol.Capacity{Available: r.IntN(5), Maximum: 5, Unit: "SMEs per month", Updated: testTime}
	}
	return p
}

// benchHubs returns n signed hubs with realistic profiles.
func benchHubs(b *testing.B, n int) []Hub {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	hubs := make([]Hub, n)
	for i := range hubs {
		ident := mustIdentity(b, fmt.Sprintf("edih-%03d", i))
		hubs[i] = mustSignProfile(b, ident, withRevision(benchProfile(ident.ID, r), 1))
	}
	return hubs
}

func BenchmarkStore_PutHub(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%t", noSync), func(b *testing.B) {
			s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), &Options{NoSync: noSync})
			hubs := benchHubs(b, 450)
			b.SetBytes(int64(len(hubs[0].Envelope.Body)))
			for i := 0; b.Loop(); i++ {
				// Each round over the 450 hubs raises every revision by one. The store does
				// not check signatures, so the body is re-encoded rather than re-signed.
				h := hubs[i%len(hubs)]
				h.Profile.Revision = uint64(i/len(hubs) + 1)
				body, err := json.Marshal(h.Profile)
				if err != nil {
					b.Fatal(err)
				}
				h.Envelope.Body = body
				if err := s.PutHub(h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStore_Hubs(b *testing.B) {
	s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), &Options{NoSync: true})
	for _, h := range benchHubs(b, 450) {
		if err := s.PutHub(h); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		hubs, err := s.Hubs()
		if err != nil {
			b.Fatal(err)
		}
		if len(hubs) != 450 {
			b.Fatalf("%d hubs, want 450", len(hubs))
		}
	}
}

// HubEnvelopes walks the cached profiles' envelopes in order of ID after a given ID,
// as signed, and stops when told.
func TestStore_HubEnvelopes(t *testing.T) {
	s := mustOpen(t)
	want := map[string]Hub{}
	keys := map[string]protocol.Identity{}
	for _, id := range []string{"hub-d", "hub-a", "hub-c", "hub-b"} {
		keys[id] = mustIdentity(t, id)
		h := mustSignedHub(t, keys[id], 1)
		if err := s.PutHub(h); err != nil {
			t.Fatal(err)
		}
		want[id] = h
	}
	walk := func(after string, stop int) []string {
		t.Helper()
		var got []string
		err := s.HubEnvelopes(after, func(id string, env protocol.Envelope) bool {
			if env.From != id || !bytes.Equal(env.Sig, want[id].Envelope.Sig) || !bytes.Equal(env.Body, want[id].Envelope.Body) {
				t.Errorf("%s: envelope from %s, not the one stored", id, env.From)
			}
			if err := env.Verify(keys[id].SignPublic()); err != nil {
				t.Errorf("%s: stored envelope does not verify: %v", id, err)
			}
			got = append(got, id)
			return len(got) < stop
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := walk("", 10); !slices.Equal(got, []string{"hub-a", "hub-b", "hub-c", "hub-d"}) {
		t.Errorf("from the start: got %v", got)
	}
	if got := walk("hub-b", 10); !slices.Equal(got, []string{"hub-c", "hub-d"}) {
		t.Errorf("after hub-b: got %v", got)
	}
	if got := walk("hub-bb", 10); !slices.Equal(got, []string{"hub-c", "hub-d"}) {
		t.Errorf("after hub-bb, no such hub: got %v", got)
	}
	if got := walk("", 2); !slices.Equal(got, []string{"hub-a", "hub-b"}) {
		t.Errorf("stopped after two: got %v", got)
	}
	if got := walk("hub-d", 10); len(got) != 0 {
		t.Errorf("after the last: got %v", got)
	}
}
