package protocol

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// MaxMetaSize is memberlist's limit on node metadata; it panics past it, so every Meta
// this package encodes is checked against it.
const MaxMetaSize = 512

// MaxRouteLen bounds the route address in Meta so the largest valid Meta fits.
const MaxRouteLen = 128

// Meta is what a hub gossips about itself with its membership: enough to reach it over
// NATS and to tell whether its cached profile is current. Field names are short on
// purpose: memberlist allows 512 bytes.
type Meta struct {
	V        int    `json:"v"`
	ID       string `json:"id"`
	Route    string `json:"r"`   // host:port of the hub's NATS cluster listener
	Revision uint64 `json:"rev"` // the hub's current profile revision
	Cert     Cert   `json:"c"`
	// Cluster is the hub's cluster of the network's region map; "" in a network
	// without one.
	Cluster string `json:"-"`
	// Gateway is the port of the hub's NATS gateway listener, at the host of Route;
	// 0 when the hub has no gateway: it is a leaf hub of its cluster, or not yet
	// listening.
	Gateway int `json:"-"`
	// Leaf is the port of the hub's NATS leaf node listener, at the host of Route,
	// where the leaf hubs of its cluster connect; 0 when it has none. Only a hub with
	// a gateway has one.
	Leaf int `json:"-"`
}

// metaWire is Meta as it travels. Cluster, Gateway and Leaf share one field, "g":
// "fi:7222:7422", "fi:7222" without a leaf listener, or "fi" without a gateway, left
// out without a cluster. More fields would not leave the largest metadata under
// memberlist's limit.
type metaWire struct {
	V        int    `json:"v"`
	ID       string `json:"id"`
	Route    string `json:"r"`
	Revision uint64 `json:"rev"`
	Cert     Cert   `json:"c"`
	Gateway  string `json:"g,omitempty"`
}

// MarshalJSON encodes m in its wire form.
func (m Meta) MarshalJSON() ([]byte, error) {
	w := metaWire{V: m.V, ID: m.ID, Route: m.Route, Revision: m.Revision, Cert: m.Cert, Gateway: m.Cluster}
	if m.Gateway != 0 {
		w.Gateway += ":" + strconv.Itoa(m.Gateway)
		if m.Leaf != 0 {
			w.Gateway += ":" + strconv.Itoa(m.Leaf)
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes the wire form. A "g" that is not cluster[:port[:port]] is an
// error.
func (m *Meta) UnmarshalJSON(data []byte) error {
	var w metaWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = Meta{V: w.V, ID: w.ID, Route: w.Route, Revision: w.Revision, Cert: w.Cert, Cluster: w.Gateway}
	parts := strings.Split(w.Gateway, ":")
	if len(parts) > 3 {
		return fmt.Errorf("meta field g %q: want cluster, cluster:port or cluster:port:port", w.Gateway)
	}
	m.Cluster = parts[0]
	ports := []*int{&m.Gateway, &m.Leaf}
	for i, port := range parts[1:] {
		n, err := strconv.Atoi(port)
		if err != nil || port == "" || port[0] < '0' || port[0] > '9' {
			return fmt.Errorf("meta field g %q: want cluster, cluster:port or cluster:port:port", w.Gateway)
		}
		*ports[i] = n
	}
	return nil
}

// LeafAddr returns the host:port of the hub's NATS leaf node listener, or "".
func (m *Meta) LeafAddr() string {
	host, _, err := net.SplitHostPort(m.Route)
	if m.Leaf == 0 || err != nil {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(m.Leaf))
}

// GatewayAddr returns the host:port of the hub's NATS gateway listener, or "".
func (m *Meta) GatewayAddr() string {
	host, _, err := net.SplitHostPort(m.Route)
	if m.Gateway == 0 || err != nil {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(m.Gateway))
}

// Cert is a hub's node certificate in its compact gossip form (see Certificate): the
// hub ID and network are not repeated on the wire, they are Meta's ID and the
// receiver's own network.
type Cert struct {
	SignKey  []byte `json:"sk"`
	BoxKey   []byte `json:"bk"`
	Issued   int64  `json:"ia,omitempty"` // Unix seconds
	NotAfter int64  `json:"na,omitempty"`
	Sig      []byte `json:"s,omitempty"`
}

// Encode validates m and encodes it, guaranteeing the result fits in MaxMetaSize.
func (m *Meta) Encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode meta: %w", err)
	}
	if len(b) > MaxMetaSize {
		return nil, fmt.Errorf("meta of %d bytes, limit %d: %w", len(b), MaxMetaSize, ErrTooLarge)
	}
	return b, nil
}

// DecodeMeta decodes and validates gossiped metadata.
func DecodeMeta(data []byte) (Meta, error) {
	if len(data) > MaxMetaSize {
		return Meta{}, fmt.Errorf("meta of %d bytes, limit %d: %w", len(data), MaxMetaSize, ErrTooLarge)
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return Meta{}, &ValidationError{What: "meta", Problems: []FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	if m.V != Version {
		return Meta{}, fmt.Errorf("meta version %d: %w", m.V, ErrUnknownVersion)
	}
	return m, m.Validate()
}

// hostPattern is a DNS name or IPv4 address: letters, digits, '.' and '-'.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

// validHost reports whether host is a DNS name or an IP address. Only such characters
// are allowed so that the route never grows when JSON-escaped.
func validHost(host string) bool {
	return hostPattern.MatchString(host) || net.ParseIP(host) != nil
}

// Validate checks every field of the metadata.
func (m *Meta) Validate() error {
	p := problems{what: "meta"}
	if m.V != Version {
		p.add("v", "must be %d", Version)
	}
	if !ValidID(m.ID) {
		p.add("id", idRule)
	}
	if len(m.Route) > MaxRouteLen {
		p.add("r", "must be at most %d bytes", MaxRouteLen)
	} else if host, port, err := net.SplitHostPort(m.Route); err != nil || !validHost(host) {
		p.add("r", "must be host:port with a DNS name or IP address")
	} else if n, err := strconv.Atoi(port); err != nil || port[0] == '+' || n < 1 || n > 65535 {
		p.add("r", "port must be 1-65535")
	}
	if m.Cluster != "" && !ValidClusterName(m.Cluster) {
		p.add("g", "cluster "+clusterRule)
	}
	if m.Gateway < 0 || m.Gateway > 65535 {
		p.add("g", "gateway port must be 1-65535, or none")
	} else if m.Gateway != 0 && m.Cluster == "" {
		p.add("g", "must name the cluster of the gateway")
	}
	if m.Leaf < 0 || m.Leaf > 65535 {
		p.add("g", "leaf node port must be 1-65535, or none")
	} else if m.Leaf != 0 && m.Gateway == 0 {
		p.add("g", "a leaf node port comes only with a gateway port")
	}
	if len(m.Cert.SignKey) != ed25519.PublicKeySize {
		p.add("c.sk", "must be a 32-byte Ed25519 public key")
	}
	if len(m.Cert.BoxKey) != 32 {
		p.add("c.bk", "must be a 32-byte X25519 public key")
	}
	if n := len(m.Cert.Sig); n != 0 && n != ed25519.SignatureSize {
		p.add("c.s", "must be empty or a 64-byte signature")
	}
	if m.Cert.NotAfter < 0 || m.Cert.NotAfter > MaxUnixTime {
		p.add("c.na", "must be 0-%d (the end of year 9999)", MaxUnixTime)
	}
	if m.Cert.Issued < 0 || m.Cert.Issued > MaxUnixTime {
		p.add("c.ia", "must be 0-%d (the end of year 9999)", MaxUnixTime)
	}
	return p.err()
}
