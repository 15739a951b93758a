package node

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Refusals: everything the hub refuses from outside (a route, a gossip packet, a
// message, a console sign-in, an API token, a request over a rate limit) is counted in
// hubnet_refusals_total{kind, reason} and logged through one limiter, so that nothing
// an outsider sends can make the hub write more than a few lines a second:
//
//   - at most one line a second per source (the remote IP address, or the hub ID where
//     a signature vouches for it);
//   - at most refusalLinesPerSecond lines a second in all, whatever the number of
//     sources;
//   - what was not logged is summed up in one "refusals not logged" line a second
//     later, with the count by kind and reason and the number of sources.
//
// The limiter remembers at most maxRefusalSources sources; past that it forgets those
// it last logged more than a second ago, and refusals from a source it cannot remember
// go to the summary.

// Kinds of refusal, the kind label of hubnet_refusals_total.
const (
	RefusedRoute   = "route"   // a NATS route connection
	RefusedGateway = "gateway" // a NATS gateway connection
	RefusedClient  = "client"  // a connection to the NATS client listener
	RefusedGossip  = "gossip"  // a gossip packet or stream
	RefusedMessage = "message" // a message from another hub (the gate, inbound.go)
	RefusedSignIn  = "sign-in" // a console sign-in with a wrong token
	RefusedToken   = "token"   // an API request with a wrong operator token
	RefusedHTTP    = "http"    // an HTTP request over a limit, or cross-site, or not JSON
)

const (
	// refusalLinesPerSecond bounds the refusal lines, all sources together, in one
	// second; the summary line comes on top.
	refusalLinesPerSecond = 5
	// maxRefusalSources bounds the sources the limiter remembers.
	maxRefusalSources = 4096
	// maxSummarySources bounds the distinct sources a summary counts exactly.
	maxSummarySources = 10000
)

// refusals counts and logs refusals. It is safe for concurrent use.
type refusals struct {
	log   *slog.Logger
	total *prometheus.CounterVec // by kind and reason

	mu      sync.Mutex           // guards the fields below
	last    map[string]time.Time // source -> when a line was last logged for it
	second  time.Time            // start of the current second of the global bound
	lines   int                  // refusal lines logged in that second
	quiet   map[string]int       // "kind/reason" -> refusals not logged since the last summary
	sources map[string]struct{}  // sources of those, up to maxSummarySources
	from    time.Time            // first refusal not logged since the last summary
	timer   *time.Timer          // the next summary, when one is due
	closed  bool
}

func newRefusals(log *slog.Logger) *refusals {
	return &refusals{
		log: log,
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubnet_refusals_total",
			Help: "Everything this hub refused from outside, by kind (route, gossip, message, sign-in, token, http) and reason.",
		}, []string{"kind", "reason"}),
		last:    map[string]time.Time{},
		quiet:   map[string]int{},
		sources: map[string]struct{}{},
	}
}

// refuse counts a refusal of kind for reason from source and logs msg with attrs
// (key/value pairs) at level, unless the limiter holds it back for the summary.
func (r *refusals) refuse(kind, reason, source string, level slog.Level, msg string, attrs ...any) {
	r.total.WithLabelValues(kind, reason).Inc()
	if !r.allow(source, kind+"/"+reason, true) {
		return
	}
	r.log.Log(context.Background(), level, msg, append([]any{"kind", kind, "reason", reason, "source", source}, attrs...)...)
}

// follow logs a line that follows a refusal from source, such as the closing of the
// connection refused, under the same limiter; it counts nothing and, held back, is
// not summed up.
func (r *refusals) follow(source string, level slog.Level, msg string, attrs ...any) {
	if !r.allow(source, "", false) {
		return
	}
	r.log.Log(context.Background(), level, msg, append([]any{"source", source}, attrs...)...)
}

// allow reports whether a line from source may be logged now. When it may not and
// key is not empty, the refusal is added to the next summary.
func (r *refusals) allow(source, key string, summed bool) bool {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.second) >= time.Second {
		r.second, r.lines = now, 0
	}
	last, known := r.last[source]
	if !known && len(r.last) >= maxRefusalSources {
		for s, at := range r.last {
			if now.Sub(at) >= time.Second {
				delete(r.last, s)
			}
		}
	}
	remember := known || len(r.last) < maxRefusalSources
	if remember && (!known || now.Sub(last) >= time.Second) && r.lines < refusalLinesPerSecond {
		r.last[source] = now
		r.lines++
		return true
	}
	if !summed || r.closed {
		return false
	}
	if len(r.quiet) == 0 {
		r.from = now
	}
	r.quiet[key]++
	if len(r.sources) < maxSummarySources {
		r.sources[source] = struct{}{}
	}
	if r.timer == nil {
		r.timer = time.AfterFunc(time.Second, r.summarize)
	}
	return false
}

// summarize logs the refusals held back since the last summary in one line.
func (r *refusals) summarize() {
	r.mu.Lock()
	quiet, sources, from := r.quiet, len(r.sources), r.from
	r.quiet, r.sources, r.timer = map[string]int{}, map[string]struct{}{}, nil
	r.mu.Unlock()
	if len(quiet) == 0 {
		return
	}
	n := 0
	by := make([]string, 0, len(quiet))
	for _, k := range slices.Sorted(maps.Keys(quiet)) {
		n += quiet[k]
		by = append(by, fmt.Sprintf("%s=%d", k, quiet[k]))
	}
	more := ""
	if sources >= maxSummarySources {
		more = "+"
	}
	r.log.Warn("refusals not logged", "count", n, "by", strings.Join(by, " "),
		"sources", fmt.Sprint(sources)+more, "during", time.Since(from).Round(time.Millisecond).String())
}

// close logs what is held back at once and stops summaries.
func (r *refusals) close() {
	r.mu.Lock()
	r.closed = true
	t := r.timer
	r.mu.Unlock()
	if t != nil && t.Stop() {
		r.summarize()
	}
}

// Refused returns how many refusals of kind for reason the node counted in
// hubnet_refusals_total.
func (n *Node) Refused(kind, reason string) float64 {
	var m dto.Metric
	if err := n.refusals.total.WithLabelValues(kind, reason).Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// remoteIP returns the address a request came from without its port: the source the
// limits and the log limiter go by. An IPv6 address stands for its /64, which one
// host usually holds whole.
func remoteIP(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
