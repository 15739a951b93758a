package protocol

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// boxIdentity is an identity with fresh signing and box keys.
func boxIdentity(t *testing.T, id string) Identity {
	t.Helper()
	i, err := NewIdentity(id, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// sealedEvent is an event from a to b, sealed to b and encoded.
func sealedEvent(t *testing.T, a, b Identity) (Envelope, ReferralEvent) {
	t.Helper()
	ev := ReferralEvent{V: Version, Referral: "0196cdb2-4b00-7abc-8def-0123456789ab", Event: EventDecline,
		At: fixedTime, Reason: "no-capacity", Note: "fully booked until autumn"}
	e, err := SignSealed(a, TypeReferralEvent, b.ID, b.BoxPub, ev, time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return e, ev
}

func TestSeal_roundTrip(t *testing.T) {
	a, b := boxIdentity(t, "hub-one"), boxIdentity(t, "hub-two")
	e, ev := sealedEvent(t, a, b)
	data := mustMarshal(t, e)
	for _, secret := range []string{ev.Note, ev.Reason, ev.Referral, `"event"`} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the sealed envelope shows %q: %s", secret, data)
		}
	}
	got, err := OpenEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.V != SealedVersion || got.Type != TypeReferralEvent || got.From != a.ID || got.To != b.ID || got.ID != e.ID {
		t.Errorf("routing fields %d %s %s %s %s, want them readable", got.V, got.Type, got.From, got.To, got.ID)
	}
	if err := got.CheckSealing(); err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(a.SignPublic()); err != nil {
		t.Fatalf("the sender's signature over the sealed body: %v", err)
	}
	if err := got.Unseal(b); err != nil {
		t.Fatal(err)
	}
	var back ReferralEvent
	if err := got.Decode(&back); err != nil || back.Note != ev.Note || back.Reason != ev.Reason {
		t.Errorf("got %+v (%v), want %+v", back, err, ev)
	}
}

// A recipient that has rolled its box key still opens what was sealed to the old one.
func TestSeal_earlierBoxKeyOpens(t *testing.T) {
	a, old := boxIdentity(t, "hub-one"), boxIdentity(t, "hub-two")
	e, _ := sealedEvent(t, a, old)
	now := boxIdentity(t, "hub-two")
	if err := e.Unseal(now); !errors.Is(err, ErrBadSeal) {
		t.Fatalf("with the new key alone: got %v, want %v", err, ErrBadSeal)
	}
	if err := e.Unseal(now, old.BoxKey); err != nil {
		t.Fatalf("with the earlier key: %v", err)
	}
}

func TestSeal_refused(t *testing.T) {
	a, b, m := boxIdentity(t, "hub-one"), boxIdentity(t, "hub-two"), boxIdentity(t, "hub-three")
	tests := []struct {
		name string
		make func() Envelope
		open Identity
	}{
		{"a third hub's key", func() Envelope { e, _ := sealedEvent(t, a, b); return e }, m},
		{"another hub's box signed as its own", func() Envelope {
			// M takes A's sealed body to B and sends it to B in its own name.
			e, _ := sealedEvent(t, a, b)
			e.From = m.ID
			e, err := Resign(m, e, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return e
		}, b},
		{"a body moved to a message of another ID", func() Envelope {
			e, _ := sealedEvent(t, a, b)
			other, _ := sealedEvent(t, a, b)
			e.Body = other.Body
			return e
		}, b},
		{"a body that is no box", func() Envelope {
			e, _ := sealedEvent(t, a, b)
			e.Body = json.RawMessage(`{"v":1}`)
			return e
		}, b},
		{"a box cut short", func() Envelope {
			e, _ := sealedEvent(t, a, b)
			var s Sealed
			json.Unmarshal(e.Body, &s)
			s.Box = s.Box[:len(s.Box)-1]
			e.Body, _ = json.Marshal(s)
			return e
		}, b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.make()
			if err := e.Unseal(tt.open); !errors.Is(err, ErrBadSeal) {
				t.Fatalf("got %v, want %v", err, ErrBadSeal)
			}
		})
	}
}

// A referral message or answer must come sealed, and nothing else may: a hub of the
// other version is told so, as of an unknown version.
func TestEnvelope_CheckSealing(t *testing.T) {
	a, b := boxIdentity(t, "hub-one"), boxIdentity(t, "hub-two")
	plain, err := Sign(a, TypeReferralAck, b.ID, ReferralAck{V: Version}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	err = plain.CheckSealing()
	if !errors.Is(err, ErrUnknownVersion) || !strings.Contains(err.Error(), "only sealed, in envelope version 2") {
		t.Errorf("plain ack: got %v, want %v saying it must be sealed", err, ErrUnknownVersion)
	}
	if we := WireError(err); we.Code != CodeUnknownVersion {
		t.Errorf("wire code %s, want %s", we.Code, CodeUnknownVersion)
	}
	hint, err := Sign(a, TypeProfileHint, "", ProfileHint{V: Version, ID: a.ID}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := hint.CheckSealing(); err != nil {
		t.Errorf("plain hint: %v", err)
	}
	hint.V = SealedVersion
	if err := hint.CheckSealing(); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("hint of version 2: got %v, want %v", err, ErrUnknownVersion)
	}
	if _, err := Seal(a, hint, b.BoxPub, time.Now(), rand.Reader); !errors.Is(err, ErrInvalid) {
		t.Errorf("sealing a hint: got %v, want %v", err, ErrInvalid)
	}
}

func FuzzUnseal(f *testing.F) {
	a, b := testBoxIdentity("hub-one", 1), testBoxIdentity("hub-two", 2)
	ev := ReferralEvent{V: Version, Referral: "0196cdb2-4b00-7abc-8def-0123456789ab", Event: EventAccept, At: fixedTime}
	e, err := SignSealed(a, TypeReferralEvent, b.ID, b.BoxPub, ev, fixedTime, bytes.NewReader(make([]byte, 64)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(e.Body))
	f.Add([]byte(`{"nonce":"","box":"","from":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := e
		c.Body = body
		if err := c.Unseal(b); err != nil && !errors.Is(err, ErrBadSeal) {
			t.Fatalf("got %v, want nil or %v", err, ErrBadSeal)
		}
	})
}

// testBoxIdentity is an identity whose keys come from seed, the same every run.
func testBoxIdentity(id string, seed byte) Identity {
	i, err := NewIdentity(id, bytes.NewReader(bytes.Repeat([]byte{seed}, 128)))
	if err != nil {
		panic(err)
	}
	return i
}

// A box sealed with a remembered shared key is the box nacl/box seals deriving the
// key anew, so a hub of an earlier version opens what this one seals and the other
// way round, with the current box key or an earlier one, also once the memory of
// shared keys has started over.
func TestSeal_sameBoxAsWithoutRememberedKey(t *testing.T) {
	a, b, bBefore := boxIdentity(t, "hub-one"), boxIdentity(t, "hub-two"), boxIdentity(t, "hub-two")
	plain := []byte(`{"reason":"no-capacity","note":"fully booked until autumn"}`)
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		t.Fatal(err)
	}
	for _, full := range []bool{false, true} {
		if full {
			// Keys from as many senders as the memory holds: it starts over.
			var pub [32]byte
			for range maxSharedKeys {
				rand.Read(pub[:])
				sharedKey(&b.BoxKey, &pub)
			}
			if n := len(sharedKeys.m); n > maxSharedKeys {
				t.Fatalf("%d shared keys remembered, want at most %d", n, maxSharedKeys)
			}
		}
		sealed := sealBox(plain, &nonce, &b.BoxPub, &a.BoxKey)
		if want := box.Seal(nil, plain, &nonce, &b.BoxPub, &a.BoxKey); !bytes.Equal(sealed, want) {
			t.Fatalf("full %v: sealed box differs from nacl/box's", full)
		}
		if got, ok := box.Open(nil, sealed, &nonce, &a.BoxPub, &b.BoxKey); !ok || !bytes.Equal(got, plain) {
			t.Fatalf("full %v: nacl/box opens %q, %v; want %q", full, got, ok, plain)
		}
		toEarlier := box.Seal(nil, plain, &nonce, &bBefore.BoxPub, &a.BoxKey)
		if got, ok := openBox(toEarlier, &nonce, &a.BoxPub, &b.BoxKey, [][32]byte{bBefore.BoxKey}); !ok || !bytes.Equal(got, plain) {
			t.Fatalf("full %v: a box sealed by nacl/box to the earlier key opens as %q, %v; want %q", full, got, ok, plain)
		}
		if _, ok := openBox(toEarlier, &nonce, &a.BoxPub, &b.BoxKey, nil); ok {
			t.Fatalf("full %v: a box sealed to the earlier key opened with the current key alone", full)
		}
	}
}
