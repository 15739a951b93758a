package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixedMeta returns hub-one's metadata, the same in every run: the golden file
// encodes it.
func fixedMeta() Meta {
	steward := testIdentity("steward")
	return Meta{
		V:        Version,
		ID:       "hub-one",
		Route:    "10.0.0.1:4248",
		Revision: 7,
		Cert: Cert{
			SignKey:  testIdentity("hub-one").SignPublic(),
			BoxKey:   bytes.Repeat([]byte{0x42}, 32),
			NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
			Sig:      ed25519.Sign(steward.SignKey, []byte("admission of hub-one")),
		},
	}
}

// largestMeta returns the largest Meta that Validate accepts with a hostname route,
// the cert valid until notAfter.
func largestMeta(notAfter int64) Meta {
	host := strings.Repeat("a", 61) + "." + strings.Repeat("b", 60) // 122 bytes, labels under 64
	return Meta{
		V:        Version,
		ID:       "h" + strings.Repeat("0", 46) + "z",
		Route:    host + ":65535",
		Revision: math.MaxUint64,
		Cert: Cert{
			SignKey:  bytes.Repeat([]byte{0xff}, ed25519.PublicKeySize),
			BoxKey:   bytes.Repeat([]byte{0xff}, 32),
			Issued:   notAfter,
			NotAfter: notAfter,
			Sig:      bytes.Repeat([]byte{0xff}, ed25519.SignatureSize),
		},
		Cluster: strings.Repeat("c", MaxClusterName),
		Gateway: 65535,
		Leaf:    65535,
	}
}

// sameMeta reports whether a and b are equal, a nil and an empty slice alike.
func sameMeta(a, b Meta) bool {
	return a.V == b.V && a.ID == b.ID && a.Route == b.Route && a.Revision == b.Revision &&
		a.Cluster == b.Cluster && a.Gateway == b.Gateway && a.Leaf == b.Leaf &&
		bytes.Equal(a.Cert.SignKey, b.Cert.SignKey) && bytes.Equal(a.Cert.BoxKey, b.Cert.BoxKey) &&
		a.Cert.NotAfter == b.Cert.NotAfter && a.Cert.Issued == b.Cert.Issued && bytes.Equal(a.Cert.Sig, b.Cert.Sig)
}

func TestMeta_Encode_largest(t *testing.T) {
	tests := []struct {
		name     string
		notAfter int64
	}{
		{"valid until the end of year 9999", MaxUnixTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := largestMeta(tt.notAfter)
			if len(m.ID) != 48 || len(m.Route) != MaxRouteLen {
				t.Fatalf("fixture: id of %d, route of %d bytes, want 48 and %d", len(m.ID), len(m.Route), MaxRouteLen)
			}
			b, err := m.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			t.Logf("largest meta, %s: %d bytes of %d", tt.name, len(b), MaxMetaSize)
			if len(b) > MaxMetaSize {
				t.Errorf("got %d bytes, want at most %d", len(b), MaxMetaSize)
			}
			got, err := DecodeMeta(b)
			if err != nil {
				t.Fatalf("DecodeMeta: %v", err)
			}
			if !sameMeta(got, m) {
				t.Errorf("got %+v, want %+v", got, m)
			}
		})
	}
}

func TestMeta_Encode_roundTrip(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Meta)
	}{
		{"full", func(m *Meta) {}},
		{"no admission", func(m *Meta) { m.Cert.NotAfter, m.Cert.Sig = 0, nil }},
		{"IPv6 route", func(m *Meta) { m.Route = "[2001:db8::1]:4248" }},
		{"hostname route", func(m *Meta) { m.Route = "hub-one.example.eu:6222" }},
		{"port 1", func(m *Meta) { m.Route = "10.0.0.1:1" }},
		{"cluster and gateway", func(m *Meta) { m.Cluster, m.Gateway = "fi", 7222 }},
		{"gateway and leaf listener", func(m *Meta) { m.Cluster, m.Gateway, m.Leaf = "fi", 7222, 7422 }},
		{"cluster without gateway", func(m *Meta) { m.Cluster = "south-east" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixedMeta()
			tt.edit(&m)
			b, err := m.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := DecodeMeta(b)
			if err != nil {
				t.Fatalf("DecodeMeta: %v", err)
			}
			if !sameMeta(got, m) {
				t.Errorf("got %+v, want %+v", got, m)
			}
		})
	}
}

func TestMeta_Encode_invalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Meta)
		want []string
	}{
		{"version 0", func(m *Meta) { m.V = 0 }, []string{"v"}},
		{"version 2", func(m *Meta) { m.V = 2 }, []string{"v"}},
		{"id invalid", func(m *Meta) { m.ID = "Hub One" }, []string{"id"}},
		{"route missing", func(m *Meta) { m.Route = "" }, []string{"r"}},
		{"route without port", func(m *Meta) { m.Route = "10.0.0.1" }, []string{"r"}},
		{"route without host", func(m *Meta) { m.Route = ":4248" }, []string{"r"}},
		{"route with a URL", func(m *Meta) { m.Route = "nats://10.0.0.1:4248" }, []string{"r"}},
		{"route too long", func(m *Meta) { m.Route = strings.Repeat("a", MaxRouteLen-4) + ":4248" }, []string{"r"}},
		{"port 0", func(m *Meta) { m.Route = "10.0.0.1:0" }, []string{"r"}},
		{"port 65536", func(m *Meta) { m.Route = "10.0.0.1:65536" }, []string{"r"}},
		{"port by name", func(m *Meta) { m.Route = "10.0.0.1:nats" }, []string{"r"}},
		{"sign key short", func(m *Meta) { m.Cert.SignKey = m.Cert.SignKey[:31] }, []string{"c.sk"}},
		{"box key missing", func(m *Meta) { m.Cert.BoxKey = nil }, []string{"c.bk"}},
		{"signature short", func(m *Meta) { m.Cert.Sig = m.Cert.Sig[:10] }, []string{"c.s"}},
		{"not after negative", func(m *Meta) { m.Cert.NotAfter = -1 }, []string{"c.na"}},
		{"not after year 10000", func(m *Meta) { m.Cert.NotAfter = MaxUnixTime + 1 }, []string{"c.na"}},
		{"cluster upper case", func(m *Meta) { m.Cluster, m.Gateway = "FI", 7222 }, []string{"g"}},
		{"cluster too long", func(m *Meta) { m.Cluster = strings.Repeat("a", MaxClusterName+1) }, []string{"g"}},
		{"gateway without cluster", func(m *Meta) { m.Gateway = 7222 }, []string{"g"}},
		{"gateway port 65536", func(m *Meta) { m.Cluster, m.Gateway = "fi", 65536 }, []string{"g"}},
		{"gateway port negative", func(m *Meta) { m.Cluster, m.Gateway = "fi", -1 }, []string{"g"}},
		{"leaf port without gateway", func(m *Meta) { m.Cluster, m.Leaf = "fi", 7422 }, []string{"g"}},
		{"leaf port 65536", func(m *Meta) { m.Cluster, m.Gateway, m.Leaf = "fi", 7222, 65536 }, []string{"g"}},
		{"everything", func(m *Meta) { *m = Meta{Cert: Cert{NotAfter: -1, Sig: []byte{1}}} },
			[]string{"v", "id", "r", "c.sk", "c.bk", "c.s", "c.na"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixedMeta()
			tt.edit(&m)
			b, err := m.Encode()
			if b != nil {
				t.Errorf("got %d bytes, want none", len(b))
			}
			if got := problemFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeMeta_refuses(t *testing.T) {
	valid, err := json.Marshal(fixedMeta())
	if err != nil {
		t.Fatal(err)
	}
	// Valid JSON one byte over the limit: the padding is insignificant space.
	oversize := append(bytes.Repeat([]byte(" "), MaxMetaSize+1-len(valid)), valid...)

	tests := []struct {
		name       string
		data       []byte
		wantErr    error
		wantFields []string
	}{
		{"oversize", oversize, ErrTooLarge, nil},
		{"empty", nil, ErrInvalid, []string{"(json)"}},
		{"not JSON", []byte("hub-one 10.0.0.1:4248"), ErrInvalid, []string{"(json)"}},
		{"cut short", valid[:len(valid)-1], ErrInvalid, []string{"(json)"}},
		{"key not base64", bytes.Replace(valid, []byte(`"sk":"`), []byte(`"sk":"*`), 1), ErrInvalid, []string{"(json)"}},
		{"version 2", bytes.Replace(valid, []byte(`"v":1`), []byte(`"v":2`), 1), ErrUnknownVersion, nil},
		{"version missing", bytes.Replace(valid, []byte(`"v":1,`), nil, 1), ErrUnknownVersion, nil},
		{"null", []byte("null"), ErrUnknownVersion, nil},
		{"gateway without a port", bytes.Replace(valid, []byte(`"v":1,`), []byte(`"v":1,"g":"fi:",`), 1), ErrInvalid, []string{"(json)"}},
		{"gateway port signed", bytes.Replace(valid, []byte(`"v":1,`), []byte(`"v":1,"g":"fi:+7222",`), 1), ErrInvalid, []string{"(json)"}},
		{"gateway of three ports", bytes.Replace(valid, []byte(`"v":1,`), []byte(`"v":1,"g":"fi:1:2:3",`), 1), ErrInvalid, []string{"(json)"}},
		{"leaf port empty", bytes.Replace(valid, []byte(`"v":1,`), []byte(`"v":1,"g":"fi:1:",`), 1), ErrInvalid, []string{"(json)"}},
		{"gateway not a string", bytes.Replace(valid, []byte(`"v":1,`), []byte(`"v":1,"g":7222,`), 1), ErrInvalid, []string{"(json)"}},
		{"gateway port 0 given", bytes.Replace(valid, []byte(`"v":1,`), []byte(`"v":1,"g":":7222",`), 1), ErrInvalid, []string{"g"}},
		{"invalid fields", []byte(`{"v":1,"id":"x","r":"nowhere","c":{"sk":"AAAA"}}`), ErrInvalid, []string{"id", "r", "c.sk", "c.bk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.data) > MaxMetaSize && tt.wantErr != ErrTooLarge {
				t.Fatalf("fixture of %d bytes", len(tt.data))
			}
			_, err := DecodeMeta(tt.data)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != ErrInvalid {
				return
			}
			if got := problemFields(t, err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("got %v, want %v", got, tt.wantFields)
			}
		})
	}
	if _, err := DecodeMeta(oversize[1:]); err != nil {
		t.Errorf("the same at %d bytes: got %v, want nil", MaxMetaSize, err)
	}
}

func TestMeta_golden(t *testing.T) {
	m := fixedMeta()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "meta", b)
}
