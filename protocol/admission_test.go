package protocol

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

var admitTime = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// admitted returns fixedNetwork's certificate of the identity, valid for a year from
// admitTime.
func admitted(t *testing.T, id Identity) Certificate {
	t.Helper()
	c, err := Admit(fixedAdmission(), id.ID, id.SignPublic(), id.BoxPub[:], admitTime, 365*24*time.Hour)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	return c
}

func TestCertificate_verifies(t *testing.T) {
	id := testIdentity("hub-one")
	c := admitted(t, id)
	if err := c.Verify(fixedNetwork(), admitTime.Add(time.Hour)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// The gossiped form, rebuilt with the receiver's network and the member's name.
	g := c.Gossip()
	back := g.Certificate(fixedNetwork().Name, "hub-one")
	if err := back.Verify(fixedNetwork(), admitTime.Add(time.Hour)); err != nil {
		t.Errorf("rebuilt from gossip: %v", err)
	}
	// As a file, and back.
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseCertificate(data)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	if err := parsed.Verify(fixedNetwork(), admitTime); err != nil {
		t.Errorf("parsed: %v", err)
	}
}

func TestCertificate_refused(t *testing.T) {
	one, two := testIdentity("hub-one"), testIdentity("hub-two")
	c := admitted(t, one)
	other, otherKey, err := NewNetwork("nordic-hubs", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fromOther, err := Admit(otherKey, one.ID, one.SignPublic(), one.BoxPub[:], admitTime, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tampered := func(f func(c *Certificate)) Certificate {
		cp := c
		f(&cp)
		return cp
	}
	later := admitTime.Add(time.Hour)
	tests := []struct {
		name string
		cert Certificate
		net  Network
		now  time.Time
		want error
	}{
		{"no signature", tampered(func(c *Certificate) { c.Sig = nil }), fixedNetwork(), later, ErrNoCert},
		{"expired", c, fixedNetwork(), admitTime.Add(366 * 24 * time.Hour), ErrCertExpired},
		{"of another network's steward", fromOther, fixedNetwork(), later, ErrCertInvalid},
		{"shown to another network", c, other, later, ErrCertInvalid},
		{"under another hub's name", tampered(func(c *Certificate) { c.ID = "hub-two" }), fixedNetwork(), later, ErrCertInvalid},
		{"with another hub's keys", tampered(func(c *Certificate) { c.SignKey = two.SignPublic() }), fixedNetwork(), later, ErrCertInvalid},
		{"with its term stretched", tampered(func(c *Certificate) { c.NotAfter += 365 * 24 * 3600 }), fixedNetwork(), later, ErrCertInvalid},
		{"with the signature of another", tampered(func(c *Certificate) { c.Sig = admitted(t, two).Sig }), fixedNetwork(), later, ErrCertInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cert.Verify(tt.net, tt.now); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAdmit_refusesBadInput(t *testing.T) {
	id := testIdentity("hub-one")
	tests := []struct {
		name  string
		id    string
		sign  []byte
		valid time.Duration
		want  []string
	}{
		{"bad ID", "Hub One", id.SignPublic(), time.Hour, []string{"id"}},
		{"short key", "hub-one", id.SignPublic()[:31], time.Hour, []string{"sign_key"}},
		{"no term", "hub-one", id.SignPublic(), 0, []string{"valid", "not_after"}},
		{"ten years", "hub-one", id.SignPublic(), 10 * 366 * 24 * time.Hour, []string{"valid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Admit(fixedAdmission(), tt.id, tt.sign, id.BoxPub[:], admitTime, tt.valid)
			if got := problemFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseAdmissionKey(t *testing.T) {
	data, err := json.Marshal(fixedAdmission())
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseAdmissionKey(data)
	if err != nil {
		t.Fatalf("ParseAdmissionKey: %v", err)
	}
	if !k.Public().Equal(fixedAdmission().Public()) {
		t.Error("key changed on the way")
	}
	bad := fixedAdmission()
	bad.Key = slices.Clone(bad.Key)
	bad.Key[40] ^= 1 // the public half no longer matches the seed
	data, _ = json.Marshal(bad)
	if _, err := ParseAdmissionKey(data); !slices.Equal(problemFields(t, err), []string{"key"}) {
		t.Errorf("mismatched halves: got %v, want a problem with key", err)
	}
	if _, err := ParseAdmissionKey([]byte(`{"v":1}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty key: got %v, want ErrInvalid", err)
	}
}

func TestRevocation(t *testing.T) {
	id := testIdentity("hub-one")
	c := admitted(t, id)
	r, err := Revoke(fixedAdmission(), "hub-one", "keys stolen", admitTime.Add(24*time.Hour))
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	data, _ := json.Marshal(r)
	parsed, err := ParseRevocation(data, fixedNetwork())
	if err != nil {
		t.Fatalf("ParseRevocation: %v", err)
	}
	if !parsed.Covers(&c) {
		t.Error("a revocation after the certificate was issued does not cover it")
	}
	// The steward admits the hub again, with a certificate issued after the revocation.
	again, err := Admit(fixedAdmission(), id.ID, id.SignPublic(), id.BoxPub[:], admitTime.Add(48*time.Hour), 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Covers(&again) {
		t.Error("the revocation covers a certificate issued after it")
	}
	other := c
	other.ID = "hub-two"
	if parsed.Covers(&other) {
		t.Error("the revocation covers another hub")
	}

	forged := r
	forged.Reason = "changed"
	if err := forged.Verify(fixedNetwork()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed reason: got %v, want ErrBadSignature", err)
	}
	forged = r
	forged.At++
	if err := forged.Verify(fixedNetwork()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed time: got %v, want ErrBadSignature", err)
	}
	otherNet, otherKey, _ := NewNetwork("nordic-hubs", rand.Reader)
	if err := r.Verify(otherNet); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another network: got %v, want ErrBadSignature", err)
	}
	byOther, err := Revoke(otherKey, "hub-one", "", admitTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := byOther.Verify(fixedNetwork()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("by another steward: got %v, want ErrBadSignature", err)
	}
	if _, err := Revoke(fixedAdmission(), "hub-one", string(make([]byte, MaxRevocationReason+1)), admitTime); !slices.Equal(problemFields(t, err), []string{"reason"}) {
		t.Errorf("long reason: got %v", err)
	}
}

func TestResign_keepsIDAndFreshensTime(t *testing.T) {
	id := testIdentity("hub-one")
	e, err := Sign(id, TypeProfileHint, "hub-two", ProfileHint{V: Version, ID: "hub-one", Revision: 3}, admitTime)
	if err != nil {
		t.Fatal(err)
	}
	later := admitTime.Add(time.Hour)
	r, err := Resign(id, e, later)
	if err != nil {
		t.Fatalf("Resign: %v", err)
	}
	if r.ID != e.ID || r.To != e.To || string(r.Body) != string(e.Body) || !r.Time.Equal(later) {
		t.Errorf("got %+v, want the same message at %v", r, later)
	}
	if err := r.Verify(id.SignPublic()); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if _, err := Resign(testIdentity("hub-two"), e, later); !errors.Is(err, ErrInvalid) {
		t.Errorf("another hub resigning: got %v, want ErrInvalid", err)
	}
}

func TestEnvelope_CheckTime(t *testing.T) {
	e, err := Sign(testIdentity("hub-one"), TypeProfileHint, "", ProfileHint{V: Version, ID: "hub-one", Revision: 1}, admitTime)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		now time.Time
		ok  bool
	}{
		{admitTime, true},
		{admitTime.Add(MaxClockSkew), true},
		{admitTime.Add(-MaxClockSkew), true},
		{admitTime.Add(MaxClockSkew + time.Second), false},
		{admitTime.Add(-MaxClockSkew - time.Second), false},
	} {
		err := e.CheckTime(tt.now)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrOutsideWindow)) {
			t.Errorf("at %v: got %v, want ok=%v", tt.now.Sub(admitTime), err, tt.ok)
		}
	}
}

func FuzzParseCertificate(f *testing.F) {
	seed, _ := json.Marshal(Certificate{V: 1, Network: "nordic-hubs", ID: "hub-one", SignKey: make([]byte, 32),
		BoxKey: make([]byte, 32), Issued: 1, NotAfter: 2, Sig: make([]byte, 64)})
	f.Add(seed)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCertificate(data)
		if err != nil {
			checkValidationError(t, err)
			return
		}
		// A certificate nobody signed for this network never verifies.
		if err := c.Verify(fixedNetwork(), admitTime); err == nil {
			t.Fatalf("a fuzzed certificate verified: %+v", c)
		}
	})
}

func FuzzParseRevocation(f *testing.F) {
	r, _ := Revoke(fixedAdmission(), "hub-one", "stolen", admitTime)
	seed, _ := json.Marshal(r)
	f.Add(seed)
	f.Add([]byte(`{"v":1,"network":"nordic-hubs","id":"hub-one","at":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseRevocation(data, fixedNetwork())
		if err != nil {
			if !errors.Is(err, ErrBadSignature) {
				checkValidationError(t, err)
			}
			return
		}
		// Only the steward's own revocation verifies: the seed, or the seed reordered.
		if got.ID != r.ID || got.At != r.At || got.Reason != r.Reason {
			t.Fatalf("a changed revocation verified: %+v", got)
		}
	})
}
