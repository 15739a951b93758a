package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

// fixedNetwork returns a network, the same in every run: the golden files encode it.
func fixedNetwork() Network {
	key := sha256.Sum256([]byte("hubnet test gossip key"))
	return Network{V: Version, Name: "nordic-hubs", GossipKey: key[:],
		AdmissionKeys: [][]byte{fixedAdmission().Public()}}
}

// fixedAdmission returns the admission key of fixedNetwork.
func fixedAdmission() AdmissionKey {
	seed := sha256.Sum256([]byte("hubnet test admission key"))
	return AdmissionKey{V: Version, Network: "nordic-hubs", Key: ed25519.NewKeyFromSeed(seed[:])}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"hub", true},
		{"hub-one", true},
		{"123", true},
		{"a-b", true},
		{"a--b", true},
		{strings.Repeat("a", 48), true},
		{"", false},
		{"ab", false},
		{strings.Repeat("a", 49), false},
		{"-hub", false},
		{"hub-", false},
		{"Hub", false},
		{"hub_one", false},
		{"hub one", false},
		{"hub.one", false},
		{"hüb", false},
		{"hub\n", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q): got %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestNewIdentity(t *testing.T) {
	id, err := NewIdentity("hub-one", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if id.ID != "hub-one" || len(id.SignKey) != ed25519.PrivateKeySize {
		t.Errorf("got id %q and a %d-byte signing key, want hub-one and %d bytes", id.ID, len(id.SignKey), ed25519.PrivateKeySize)
	}
	if !bytes.Equal(id.SignPublic(), id.SignKey[32:]) {
		t.Errorf("SignPublic: got %x, want %x", id.SignPublic(), id.SignKey[32:])
	}
	// The box keys are a pair: what is sealed to BoxPub opens with BoxKey.
	sealed, err := box.SealAnonymous(nil, []byte("personal data"), &id.BoxPub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := box.OpenAnonymous(nil, sealed, &id.BoxPub, &id.BoxKey); !ok || string(got) != "personal data" {
		t.Errorf("got %q, %v, want the sealed message back", got, ok)
	}
	other, err := NewIdentity("hub-one", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.SignKey, id.SignKey) || other.BoxKey == id.BoxKey {
		t.Error("two identities got the same keys")
	}
}

func TestNewIdentity_deterministic(t *testing.T) {
	// The keys follow from the randomness read, so a seeded reader gives the same hub.
	seed := bytes.Repeat([]byte{7}, 64)
	a, err := NewIdentity("hub-one", bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewIdentity("hub-one", bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.SignKey, b.SignKey) || a.BoxKey != b.BoxKey || a.BoxPub != b.BoxPub {
		t.Error("same randomness, different keys")
	}
}

func TestNewIdentity_refuses(t *testing.T) {
	_, err := NewIdentity("Hub One", rand.Reader)
	if got, want := problemFields(t, err), []string{"id"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, n := range []int{0, 32, 40} {
		_, err := NewIdentity("hub-one", io.LimitReader(rand.Reader, int64(n)))
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Errorf("%d bytes of randomness: got %v, want an EOF error", n, err)
		}
	}
}

func TestNewNetwork_ParseNetwork_roundTrip(t *testing.T) {
	n, _, err := NewNetwork("nordic-hubs", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if n.V != Version || n.Name != "nordic-hubs" || len(n.GossipKey) != 32 {
		t.Errorf("got %+v, want v %d, nordic-hubs and a 32-byte key", n, Version)
	}
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseNetwork(data)
	if err != nil {
		t.Fatalf("ParseNetwork: %v", err)
	}
	if got.V != n.V || got.Name != n.Name || !bytes.Equal(got.GossipKey, n.GossipKey) {
		t.Errorf("got %+v, want %+v", got, n)
	}
	other, _, err := NewNetwork("nordic-hubs", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.GossipKey, n.GossipKey) {
		t.Error("two networks got the same gossip key")
	}
}

func TestNewNetwork_refuses(t *testing.T) {
	_, _, err := NewNetwork("Nordic Hubs", rand.Reader)
	if got, want := problemFields(t, err), []string{"name"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, _, err := NewNetwork("nordic-hubs", io.LimitReader(rand.Reader, 16)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("16 bytes of randomness: got %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

func TestParseNetwork_refuses(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(fixedNetwork().GossipKey)
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	adm := `,"admission_keys":["` + base64.StdEncoding.EncodeToString(fixedNetwork().AdmissionKeys[0]) + `"]`
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"16-byte key", `{"v":1,"name":"nordic-hubs","gossip_key":"` + short + `"` + adm + `}`, []string{"gossip_key"}},
		{"no key", `{"v":1,"name":"nordic-hubs"` + adm + `}`, []string{"gossip_key"}},
		{"bad name", `{"v":1,"name":"Nordic Hubs","gossip_key":"` + key + `"` + adm + `}`, []string{"name"}},
		{"no name", `{"v":1,"gossip_key":"` + key + `"` + adm + `}`, []string{"name"}},
		{"version 2", `{"v":2,"name":"nordic-hubs","gossip_key":"` + key + `"` + adm + `}`, []string{"v"}},
		{"no admission key", `{"v":1,"name":"nordic-hubs","gossip_key":"` + key + `"}`, []string{"admission_keys"}},
		{"short admission key", `{"v":1,"name":"nordic-hubs","gossip_key":"` + key + `","admission_keys":["AAAA"]}`, []string{"admission_keys[0]"}},
		{"empty object", `{}`, []string{"v", "name", "gossip_key", "admission_keys"}},
		{"key not base64", `{"v":1,"name":"nordic-hubs","gossip_key":"not base64!"}`, []string{"(json)"}},
		{"not JSON", `name: nordic-hubs`, []string{"(json)"}},
		{"empty", ``, []string{"(json)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNetwork([]byte(tt.data))
			if got := problemFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			var ve *ValidationError
			if errors.As(err, &ve) && ve.What != "network" {
				t.Errorf("got What %q, want network", ve.What)
			}
		})
	}
}

func TestNetwork_names(t *testing.T) {
	n := fixedNetwork()
	if got, want := n.GossipLabel(), "hubnet/v1/nordic-hubs"; got != want {
		t.Errorf("GossipLabel: got %q, want %q", got, want)
	}
	if got, want := n.ClusterName(), "hubnet-nordic-hubs"; got != want {
		t.Errorf("ClusterName: got %q, want %q", got, want)
	}
}

func TestNetwork_golden(t *testing.T) {
	// As `hubnet network create` writes network.json.
	data, err := json.MarshalIndent(fixedNetwork(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "network", append(data, '\n'))
}
