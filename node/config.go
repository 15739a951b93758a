package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Config configures a Node. Build one with DefaultConfig or DefaultLocalConfig and
// change what you need; New validates it. Only cmd reads flags, environment and files.
type Config struct {
	// DataDir holds the store (hubnet.db) and the operator token. Required; `hubnet
	// init` (InitDataDir) must have prepared it.
	DataDir string

	// GossipAddr is the host:port memberlist binds, UDP and TCP. Port 0 picks a free
	// port. Default "0.0.0.0:7946".
	GossipAddr string
	// GossipAdvertise is the host:port other hubs reach the gossip listener at. Empty
	// means the bound address (memberlist picks a private IP for 0.0.0.0).
	GossipAdvertise string
	// ClusterAddr is the host:port of the embedded NATS server's route listener, which
	// other hubs connect to. Port 0 picks a free port. Default "0.0.0.0:6222".
	ClusterAddr string
	// ClusterAdvertise is the host:port other hubs open routes to. Empty means the
	// bound address, or the gossip advertise host with the bound port when bound to
	// every interface.
	ClusterAdvertise string
	// GatewayAddr is the host:port of the embedded NATS server's gateway listener, which
	// the hubs of other clusters connect to; only in a network with a region map. Other
	// hubs reach it at the host of ClusterAdvertise (or of the route) with the bound
	// port. Port 0 picks a free port. Default "0.0.0.0:7222"; empty means the host of
	// ClusterAddr and a free port.
	GatewayAddr string
	// LeafAddr is the host:port of the embedded NATS server's leaf node listener, which
	// the leaf hubs of its cluster connect to; only on a gateway hub of a network with
	// gateway hubs (protocol.Network.GatewayHubs). Other hubs reach it at the host of
	// ClusterAdvertise (or of the route) with the bound port. Port 0 picks a free port.
	// Default "0.0.0.0:7422"; empty means the host of ClusterAddr and a free port.
	LeafAddr string
	// GatewayWait is how long a starting hub of a network with a region map waits for
	// gossip to show a hub it reaches the other clusters through, one of another
	// cluster or of its own, before it starts its NATS server without. Default 5s.
	GatewayWait time.Duration
	// GatewayRepair is how long a hub lets a cluster that gossip shows stay without a
	// gateway connection before it restarts its NATS server to dial it. Default 30s.
	GatewayRepair time.Duration
	// ClientAddr is the embedded NATS server's client listener. It binds loopback only;
	// the node itself connects in-process. Default "127.0.0.1:0".
	ClientAddr string
	// HTTPAddr is the listener of the HTTP API and of what Node.Handle adds, such as
	// the web console. Default "127.0.0.1:7480"; port 0 picks a free port; empty
	// disables HTTP.
	HTTPAddr string

	// Join lists gossip addresses (host:port) of hubs to join at start. A node that
	// reaches none of them keeps running and retries every RejoinInterval.
	Join []string
	// RejoinInterval is how often a node with no peers retries Join. Default 5s.
	RejoinInterval time.Duration

	// Gossip selects memberlist's timers: "lan" (default) or "wan" for hubs spread
	// across regions, or "local" for tests on one machine (fast timers).
	Gossip string
	// DeadReclaim is how soon a hub declared dead may come back at another address
	// (a restart with new ports). Default 1s.
	DeadReclaim time.Duration

	// SyncInterval is how often the node compares gossiped profile revisions with its
	// directory and retries failed fetches. Default 5s.
	SyncInterval time.Duration
	// FetchTimeout bounds one profile fetch over NATS, retries included. Default 2s.
	FetchTimeout time.Duration
	// FetchConcurrency bounds the profile fetches in flight at once. Default 4.
	FetchConcurrency int
	// FetchJitter is the longest a fetch waits, at least half of it, before it asks:
	// hubs that hear of a change together spread their fetches, and the first of a
	// cluster to hold the profile serves the others. Default 500ms; zero takes the
	// default, a negative value waits not at all.
	FetchJitter time.Duration
	// LiveQueryHubs bounds the hubs a live query asks: those whose cached profile can
	// match, at most this many. Default 50.
	LiveQueryHubs int

	// ReceiveWithin is how long a sent referral may wait to be stored by the receiving
	// hub before it expires. Default 72h: a hub may be down over a weekend.
	ReceiveWithin time.Duration
	// DecideWithin is how long the receiving hub has to accept or decline a referral
	// once it has it. Default 10 days.
	DecideWithin time.Duration
	// DecisionGrace is how long after a deadline the referring hub still waits for a
	// decision made in time before it expires the referral. Default 1 minute.
	DecisionGrace time.Duration
	// DeliveryTimeout bounds one attempt to deliver a referral message. Default 5s.
	DeliveryTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between delivery attempts. Defaults 1s
	// and 5 minutes.
	RetryMin, RetryMax time.Duration
	// KeyRollWait is how long a hub that rolls the gossip key after a revocation
	// waits for every other member to take each step of the roll before it goes on
	// without those that have not. Default 1 minute.
	KeyRollWait time.Duration
	// RetainDetails is how long after a referral ends this hub keeps the SME's
	// identity and contacts; then it purges them. Default 90 days: the advisor can
	// still refer the SME elsewhere after a decline or an expiry, and answer for the
	// referral in the quarter's KPI report. The SME's consent ending purges them
	// earlier. It must be more than 0: zero or less is refused, not taken as the
	// default, since it could mean "purge at once".
	RetainDetails time.Duration

	// Limits bounds what clients may ask of the HTTP API and console without the
	// operator token, and how fast the token may be guessed. Zero fields take the
	// defaults of DefaultLimits; NoLimits turns them all off.
	Limits Limits
	// ClockSkewWarn is how far this hub's clock may be from its peers' (the median
	// over the peers it heard from lately) before it warns in the log, in
	// GET /v1/self and in the console. Default 1 minute; other hubs refuse its
	// messages past 10 minutes.
	ClockSkewWarn time.Duration

	// Token is the operator's secret for HTTP writes. Empty means the token file in
	// DataDir.
	Token string

	// SessionIdle is how long a person's session lasts unused: the console's and the
	// API's alike. Default 1 hour.
	SessionIdle time.Duration
	// SessionMax is how long a session lasts after sign-in, used or not. Default 12
	// hours.
	SessionMax time.Duration
	// SignInLinkTTL is how long a one-time sign-in link works (hubnet users add and
	// reset). Default 72 hours.
	SignInLinkTTL time.Duration
	// PublicURL is the console's address as people reach it, such as
	// https://hub.example.eu, which sign-in links start with. Empty means
	// http://HTTPAddr.
	PublicURL string

	// Notify says how e-mails and webhooks are sent (notify_config.go).
	Notify NotifyConfig

	// WrapHTTP, when not nil, wraps the handler the HTTP server serves: package
	// nodetest checks every request and answer against the API's OpenAPI document
	// this way.
	WrapHTTP func(http.Handler) http.Handler

	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultRetainDetails is the default of Config.RetainDetails: 90 days.
const DefaultRetainDetails = 90 * 24 * time.Hour

// DefaultConfig returns the configuration for a hub on a real network.
func DefaultConfig() Config {
	return Config{
		GossipAddr:     "0.0.0.0:7946",
		ClusterAddr:    "0.0.0.0:6222",
		GatewayAddr:    "0.0.0.0:7222",
		LeafAddr:       "0.0.0.0:7422",
		GatewayWait:    5 * time.Second,
		GatewayRepair:  30 * time.Second,
		ClientAddr:     "127.0.0.1:0",
		HTTPAddr:       "127.0.0.1:7480",
		RejoinInterval: 5 * time.Second,
		Gossip:         "lan",
		DeadReclaim:    time.Second,
		SyncInterval:   5 * time.Second,
		FetchTimeout:   2 * time.Second,

		FetchConcurrency: 4,
		FetchJitter:      500 * time.Millisecond,
		LiveQueryHubs:    50,

		ReceiveWithin:   72 * time.Hour,
		DecideWithin:    10 * 24 * time.Hour,
		DecisionGrace:   time.Minute,
		DeliveryTimeout: 5 * time.Second,
		RetryMin:        time.Second,
		RetryMax:        5 * time.Minute,
		KeyRollWait:     time.Minute,
		RetainDetails:   DefaultRetainDetails,

		SessionIdle:   time.Hour,
		SessionMax:    12 * time.Hour,
		SignInLinkTTL: 72 * time.Hour,

		Notify: DefaultNotifyConfig(),
	}
}

// DefaultLocalConfig returns a configuration for tests and demos on one machine:
// everything on 127.0.0.1 with free ports and fast timers.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.GossipAddr = "127.0.0.1:0"
	c.ClusterAddr = "127.0.0.1:0"
	c.GatewayAddr = "127.0.0.1:0"
	c.LeafAddr = "127.0.0.1:0"
	c.GatewayWait = time.Second
	c.GatewayRepair = 10 * time.Second
	c.HTTPAddr = "127.0.0.1:0"
	c.Gossip = "local"
	c.RejoinInterval = 500 * time.Millisecond
	c.SyncInterval = 500 * time.Millisecond
	c.Notify.RetryMin, c.Notify.RetryMax, c.Notify.CheckEvery = 50*time.Millisecond, time.Second, 200*time.Millisecond
	c.Notify.Delay = 20 * time.Millisecond
	c.FetchJitter = 50 * time.Millisecond
	return c
}

// validate checks the configuration and fills what is left to defaults.
func (c *Config) validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("DataDir: is required"))
	}
	for _, a := range []struct{ name, v string }{
		{"GossipAddr", c.GossipAddr}, {"ClusterAddr", c.ClusterAddr}, {"ClientAddr", c.ClientAddr},
	} {
		if _, _, err := splitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.name, err))
		}
	}
	if h, _, err := splitHostPort(c.GossipAddr); err == nil && h != "" && net.ParseIP(h) == nil {
		errs = append(errs, fmt.Errorf("GossipAddr: host %q must be an IP address, or empty for every interface", h))
	}
	if c.GatewayAddr == "" {
		if h, _, err := splitHostPort(c.ClusterAddr); err == nil {
			c.GatewayAddr = net.JoinHostPort(h, "0")
		}
	}
	if _, _, err := splitHostPort(c.GatewayAddr); err != nil {
		errs = append(errs, fmt.Errorf("GatewayAddr: %w", err))
	}
	if c.LeafAddr == "" {
		if h, _, err := splitHostPort(c.ClusterAddr); err == nil {
			c.LeafAddr = net.JoinHostPort(h, "0")
		}
	}
	if _, _, err := splitHostPort(c.LeafAddr); err != nil {
		errs = append(errs, fmt.Errorf("LeafAddr: %w", err))
	}
	for _, a := range []struct{ name, v string }{
		{"HTTPAddr", c.HTTPAddr}, {"GossipAdvertise", c.GossipAdvertise}, {"ClusterAdvertise", c.ClusterAdvertise},
	} {
		if a.v == "" {
			continue
		}
		if _, _, err := splitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.name, err))
		}
	}
	for i, j := range c.Join {
		if _, _, err := splitHostPort(j); err != nil {
			errs = append(errs, fmt.Errorf("Join[%d]: %w", i, err))
		}
	}
	switch c.Gossip {
	case "":
		c.Gossip = "lan"
	case "lan", "wan", "local":
	default:
		errs = append(errs, fmt.Errorf("Gossip: must be lan, wan or local, got %q", c.Gossip))
	}
	def := DefaultConfig()
	if c.RejoinInterval <= 0 {
		c.RejoinInterval = def.RejoinInterval
	}
	if c.DeadReclaim <= 0 {
		c.DeadReclaim = def.DeadReclaim
	}
	if c.GatewayWait <= 0 {
		c.GatewayWait = def.GatewayWait
	}
	if c.GatewayRepair <= 0 {
		c.GatewayRepair = def.GatewayRepair
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = def.SyncInterval
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = def.FetchTimeout
	}
	if c.FetchConcurrency <= 0 {
		c.FetchConcurrency = def.FetchConcurrency
	}
	switch {
	case c.FetchJitter == 0:
		c.FetchJitter = def.FetchJitter
	case c.FetchJitter < 0:
		c.FetchJitter = 0
	}
	if c.LiveQueryHubs <= 0 {
		c.LiveQueryHubs = def.LiveQueryHubs
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.ReceiveWithin, def.ReceiveWithin}, {&c.DecideWithin, def.DecideWithin},
		{&c.DecisionGrace, def.DecisionGrace}, {&c.DeliveryTimeout, def.DeliveryTimeout},
		{&c.RetryMin, def.RetryMin}, {&c.RetryMax, def.RetryMax}, {&c.KeyRollWait, def.KeyRollWait},
		{&c.SessionIdle, def.SessionIdle}, {&c.SessionMax, def.SessionMax}, {&c.SignInLinkTTL, def.SignInLinkTTL},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	errs = append(errs, c.Limits.validate()...)
	errs = append(errs, c.Notify.validate()...)
	if c.ClockSkewWarn <= 0 {
		c.ClockSkewWarn = time.Minute
	}
	if c.RetainDetails <= 0 {
		errs = append(errs, fmt.Errorf("RetainDetails: must be more than 0, got %v (the default is %v, 90 days)", c.RetainDetails, DefaultRetainDetails))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("PublicURL: must be an http or https URL without a path, such as https://hub.example.eu, got %q", c.PublicURL))
		}
	}
	if c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("RetryMax: must not be below RetryMin (%v)", c.RetryMin))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return errors.Join(errs...)
}

// splitHostPort splits host:port and checks the port is a number 0-65535.
func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("must be host:port: %w", err)
	}
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", port, err)
	}
	return host, p, nil
}
