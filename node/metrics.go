package node

import (
	"log/slog"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metrics are the node's Prometheus metrics, in a registry of its own so that many
// nodes can run in one process.
type metrics struct {
	reg     *prometheus.Registry
	dropped *prometheus.CounterVec // messages refused, by reason
	fetches *prometheus.CounterVec // profile fetches, by source and result
	// searches counts searches by kind (local, live); answers counts the answers to
	// live queries, by what became of them.
	searches *prometheus.CounterVec
	answers  *prometheus.CounterVec
	liveTime prometheus.Histogram
	// referralMsgs counts referral messages received (applied or refused), received
	// again (duplicate), referrals expired, and referrals cancelled because the other
	// hub was revoked (partner-revoked) or the SME's consent ended (consent-expired).
	referralMsgs *prometheus.CounterVec
	// purges counts the SME identities this hub deleted, by reason.
	purges *prometheus.CounterVec
	// gatewayRestarts counts restarts of the NATS server for its gateways: to close
	// one through a revoked hub, or to dial a cluster it had no gateway to.
	gatewayRestarts prometheus.Counter
}

func newMetrics(n *Node) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubnet_dropped_messages_total",
			Help: "Messages from the network refused by this hub, by reason.",
		}, []string{"reason"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubnet_profile_fetches_total",
			Help: "Profile fetches from other hubs, by source (owner; peer: a hub of the cluster holding a copy; batch: a profile among all another hub holds, asked for at once) and result (ok, failed, refused: a copy that failed its owner's signature).",
		}, []string{"source", "result"}),
		searches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubnet_searches_total",
			Help: "Searches answered, by kind: local (the directory cache) or live (asking the hubs).",
		}, []string{"kind"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubnet_query_answers_total",
			Help: "Live queries: answers sent to other hubs (sent) and answers received (received, late).",
		}, []string{"result"}),
		liveTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hubnet_live_query_seconds",
			Help:    "Time from sending a live query to its result.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 1.5, 2.5, 5},
		}),
		referralMsgs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubnet_referral_messages_total",
			Help: "Referral messages received (received, duplicate), referrals expired (expired) and referrals cancelled because the other hub was revoked (partner-revoked) or the SME's consent ended (consent-expired).",
		}, []string{"result"}),
		purges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubnet_sme_purges_total",
			Help: "SME identities this hub deleted, by reason: consent-expired, retention, partner-revoked, cancelled.",
		}, []string{"reason"}),
		gatewayRestarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubnet_gateway_restarts_total",
			Help: "Restarts of the embedded NATS server for its gateways: to close one through a revoked hub, or to dial a cluster it had none to.",
		}),
	}
	peers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hubnet_peers_reachable",
		Help: "Other hubs currently reachable.",
	}, func() float64 {
		c := 0
		for _, p := range n.dir.snapshot() {
			if p.Reachable {
				c++
			}
		}
		return float64(c)
	})
	// Gateway connections, counted from the connections themselves: nats-server's list
	// of known gateways drifts from its sockets.
	gatewayGauge := func(name, help string, count func(gatewayState) int) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			if n.bus == nil {
				return 0
			}
			st, err := n.bus.gateways()
			if err != nil {
				return 0
			}
			return float64(count(st))
		})
	}
	gateways := gatewayGauge("hubnet_gateway_connections",
		"NATS gateway connections to other clusters: outbound (one per cluster reached) plus inbound.",
		func(st gatewayState) int { return len(st.outbound) + len(st.inbound) })
	clusters := gatewayGauge("hubnet_gateway_clusters_reached",
		"Other clusters this hub has an outbound NATS gateway connection to.",
		func(st gatewayState) int { return len(st.outbound) })
	// What the running NATS server says of itself.
	serverGauge := func(name, help string, count func(*server.Server) int) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			if n.bus == nil {
				return 0
			}
			return float64(count(n.bus.server()))
		})
	}
	leafs := serverGauge("hubnet_leaf_connections",
		"NATS leaf node connections: on a gateway hub, those of the leaf hubs of its cluster; on a leaf hub, 1 while it is joined to a gateway hub.",
		(*server.Server).NumLeafNodes)
	subs := serverGauge("hubnet_nats_subscriptions",
		"Subscriptions this hub's NATS server holds: its own and the interest other servers sent it; grows with the hubs of the network, by one or two each.",
		func(s *server.Server) int { return int(s.NumSubscriptions()) })
	clock := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hubnet_clock_offset_seconds",
		Help: "How far this hub's clock is ahead of its peers' (negative: behind), the median over the peers heard from in the last hour.",
	}, func() float64 {
		s, _ := n.ClockSkew()
		return float64(s.OffsetMS) / 1000
	})
	clockPeers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hubnet_clock_offset_peers",
		Help: "How many peers hubnet_clock_offset_seconds is estimated from.",
	}, func() float64 {
		s, _ := n.ClockSkew()
		return float64(s.Peers)
	})
	inFlightPeak := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hubnet_profile_fetches_in_flight_peak",
		Help: "The most profile fetches this hub has had in flight at once since it started.",
	}, func() float64 { return float64(n.dir.fetchPeak()) })
	for _, source := range []string{"owner", "peer", "batch"} {
		for _, result := range []string{"ok", "failed", "refused"} {
			m.fetches.WithLabelValues(source, result) // shown at 0 before the first
		}
	}
	m.reg.MustRegister(inFlightPeak, clock, clockPeers, m.dropped, m.fetches, m.searches, m.answers, m.liveTime, m.referralMsgs, m.purges, peers, n.refusals.total,
		m.gatewayRestarts, gateways, clusters, leafs, subs,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// drop counts a refused message, in hubnet_dropped_messages_total and in
// hubnet_refusals_total, and logs it through the refusal limiter: at most once a
// second per sender (refusals.go).
func (n *Node) drop(sender, reason string, err error) {
	n.metrics.dropped.WithLabelValues(reason).Inc()
	kind := RefusedMessage
	if strings.HasPrefix(reason, "route-") {
		kind = RefusedRoute
	}
	if sender == "" {
		sender = "(unknown)"
	}
	n.refusals.refuse(kind, reason, sender, slog.LevelWarn, "message dropped", "err", err)
}

// Purges returns how many SME identities the node deleted for reason.
func (n *Node) Purges(reason string) float64 {
	var m dto.Metric
	if err := n.metrics.purges.WithLabelValues(reason).Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// Dropped returns how many messages the node refused for reason.
func (n *Node) Dropped(reason string) float64 {
	var m dto.Metric
	if err := n.metrics.dropped.WithLabelValues(reason).Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
