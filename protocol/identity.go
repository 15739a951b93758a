package protocol

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"regexp"

	"golang.org/x/crypto/nacl/box"
)

// Version is the version of the wire protocol this package speaks. Every body on the
// wire carries it as "v"; a receiver refuses versions it does not know.
const Version = 1

// idPattern is the rule for hub IDs and network names: lower case, digits and '-',
// starting and ending with a letter or digit.
var idPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// ValidID reports whether id is a valid hub ID: lower case letters, digits and '-',
// 3 to 48 characters, starting and ending with a letter or digit.
func ValidID(id string) bool {
	return len(id) >= 3 && len(id) <= 48 && idPattern.MatchString(id)
}

// Identity is a hub's own keys: an Ed25519 key that signs every message it sends and an
// X25519 box key that others seal personal data to.
type Identity struct {
	ID      string
	SignKey ed25519.PrivateKey
	BoxKey  [32]byte // private
	BoxPub  [32]byte
}

// NewIdentity makes fresh keys for the hub id, reading randomness from rand.
func NewIdentity(id string, rand io.Reader) (Identity, error) {
	if !ValidID(id) {
		return Identity{}, &ValidationError{What: "identity", Problems: []FieldError{{Field: "id", Rule: idRule}}}
	}
	_, sk, err := ed25519.GenerateKey(rand)
	if err != nil {
		return Identity{}, fmt.Errorf("generate signing key: %w", err)
	}
	pub, priv, err := box.GenerateKey(rand)
	if err != nil {
		return Identity{}, fmt.Errorf("generate box key: %w", err)
	}
	return Identity{ID: id, SignKey: sk, BoxKey: *priv, BoxPub: *pub}, nil
}

// SignPublic returns the public half of the signing key.
func (i Identity) SignPublic() ed25519.PublicKey {
	return i.SignKey.Public().(ed25519.PublicKey)
}

const idRule = "must be 3-48 characters of a-z, 0-9 and '-', starting and ending with a letter or digit"

// Network is what every hub of one federation shares, as `hubnet network create`
// writes it to network.json: a name, the key that encrypts and authenticates gossip,
// the public admission keys of its steward, which sign node certificates and
// revocations, and the region map that puts hubs into clusters. A network without a
// region map is one full mesh of routes.
type Network struct {
	V             int       `json:"v"`
	Name          string    `json:"name"`
	GossipKey     []byte    `json:"gossip_key"`         // 32 bytes, base64 in JSON
	AdmissionKeys [][]byte  `json:"admission_keys"`     // Ed25519 public keys, base64 in JSON
	Clusters      []Cluster `json:"clusters,omitempty"` // the region map; none: one mesh
	// GatewayHubs is how many hubs of each cluster carry its NATS routes and
	// gateways; the cluster's other hubs join them as leaf nodes. 0: every hub does.
	// Only with a region map.
	GatewayHubs int `json:"gateway_hubs,omitempty"`
}

// MaxGatewayHubs bounds Network.GatewayHubs: the gateway hubs of a cluster are a full
// mesh of routes.
const MaxGatewayHubs = 50

// DefaultGatewayHubs is the gateway hubs per cluster of a network made from the EDIH
// catalogue: enough that the loss of one or two leaves the cluster connected.
const DefaultGatewayHubs = 3

// MaxAdmissionKeys bounds the admission keys of a network: a steward rolling its key
// lists the old and the new one for a while.
const MaxAdmissionKeys = 4

// Validate checks the network's fields and returns every problem at once.
func (n Network) Validate() error {
	p := problems{what: "network"}
	if n.V != Version {
		p.add("v", "must be %d", Version)
	}
	if !ValidID(n.Name) {
		p.add("name", idRule)
	}
	if len(n.GossipKey) != 32 {
		p.add("gossip_key", "must be 32 bytes (base64 in JSON), got %d", len(n.GossipKey))
	}
	if len(n.AdmissionKeys) == 0 || len(n.AdmissionKeys) > MaxAdmissionKeys {
		p.add("admission_keys", "must list 1-%d Ed25519 public keys of the steward (network.json of 'hubnet network create')", MaxAdmissionKeys)
	}
	for i, k := range n.AdmissionKeys {
		if len(k) != ed25519.PublicKeySize {
			p.add(fmt.Sprintf("admission_keys[%d]", i), "must be a 32-byte Ed25519 public key")
		}
	}
	validateClusters(n.Clusters, &p)
	switch {
	case n.GatewayHubs < 0 || n.GatewayHubs > MaxGatewayHubs:
		p.add("gateway_hubs", "must be 0 (every hub of a cluster) to %d", MaxGatewayHubs)
	case n.GatewayHubs > 0 && !n.Clustered():
		p.add("gateway_hubs", "needs a region map (clusters): without one every hub is in one mesh")
	}
	return p.err()
}

// ParseNetwork decodes and validates network.json.
func ParseNetwork(data []byte) (Network, error) {
	var n Network
	if err := json.Unmarshal(data, &n); err != nil {
		return Network{}, &ValidationError{What: "network", Problems: []FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	return n, n.Validate()
}

// GossipLabel is the memberlist label of the network: packets of another network, or of
// none, are refused before they are decrypted.
func (n Network) GossipLabel() string { return "hubnet/v1/" + n.Name }

// ClusterName is the NATS cluster name of the network's mesh. With a region map, each
// cluster is named by NATSCluster instead.
func (n Network) ClusterName() string { return "hubnet-" + n.Name }

// NATSCluster is the NATS cluster and gateway name of the network's cluster c, or the
// network's mesh when c is "".
func (n Network) NATSCluster(c string) string {
	if c == "" {
		return n.ClusterName()
	}
	return n.ClusterName() + "." + c
}
