package node

import (
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hubnet-eu/hubnet/api"
)

// Limits bounds what a client may ask of the node's HTTP API and console without the
// operator token, and how fast anybody may guess the token. Limits go by the client's
// IP address (an IPv6 address by its /64). The zero value means the defaults of
// DefaultLimits; a negative rate or count turns that limit off. docs/api.md#limits
// lists them with their answers.
type Limits struct {
	// LiveQueryRate is how many live queries one client address may start a second
	// without the token, on average: POST /v1/query, and the console's live search for
	// a visitor who is not signed in. Each makes every hub answer and sign. Default 1.
	LiveQueryRate float64
	// LiveQueryBurst is how many live queries a client may start at once. Default 10.
	LiveQueryBurst int
	// ReadRate is how many other requests to /v1/ one client address may make a
	// second without the token, on average. Default 50.
	ReadRate float64
	// ReadBurst is how many such requests a client may make at once. Default 200.
	ReadBurst int
	// AuthFreeFailures is how many wrong operator tokens, to the API or the console's
	// sign-in, one client address may send before it must wait between tries.
	// Default 5.
	AuthFreeFailures int
	// AuthBackoff is the first wait after the free failures; each further failure
	// doubles it, up to AuthBackoffMax. A client that sends no wrong token for
	// AuthBackoffMax starts afresh. Defaults 1s and 5 minutes.
	AuthBackoff, AuthBackoffMax time.Duration
	// Clients bounds the client addresses each limit remembers. Past it, addresses
	// not remembered share one limit, so many addresses buy an attacker nothing.
	// Default 10,000.
	Clients int
}

// DefaultLimits returns the limits a node applies when Config.Limits is zero.
func DefaultLimits() Limits {
	return Limits{
		LiveQueryRate: 1, LiveQueryBurst: 10,
		ReadRate: 50, ReadBurst: 200,
		AuthFreeFailures: 5, AuthBackoff: time.Second, AuthBackoffMax: 5 * time.Minute,
		Clients: 10000,
	}
}

// NoLimits returns limits that are all off, for benchmarks and load tests that drive
// one node hard from one address.
func NoLimits() Limits {
	return Limits{LiveQueryRate: -1, ReadRate: -1, AuthFreeFailures: -1}
}

// validate fills what is zero with the defaults and checks the rest.
func (l *Limits) validate() []error {
	def := DefaultLimits()
	if l.LiveQueryRate == 0 {
		l.LiveQueryRate = def.LiveQueryRate
	}
	if l.LiveQueryBurst <= 0 {
		l.LiveQueryBurst = def.LiveQueryBurst
	}
	if l.ReadRate == 0 {
		l.ReadRate = def.ReadRate
	}
	if l.ReadBurst <= 0 {
		l.ReadBurst = def.ReadBurst
	}
	if l.AuthFreeFailures == 0 {
		l.AuthFreeFailures = def.AuthFreeFailures
	}
	if l.AuthBackoff <= 0 {
		l.AuthBackoff = def.AuthBackoff
	}
	if l.AuthBackoffMax <= 0 {
		l.AuthBackoffMax = def.AuthBackoffMax
	}
	if l.Clients <= 0 {
		l.Clients = def.Clients
	}
	var errs []error
	for _, f := range []struct {
		name string
		v    float64
	}{{"Limits.LiveQueryRate", l.LiveQueryRate}, {"Limits.ReadRate", l.ReadRate}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			errs = append(errs, fmt.Errorf("%s: must be a number of requests a second, got %v", f.name, f.v))
		}
	}
	if l.AuthBackoffMax < l.AuthBackoff {
		errs = append(errs, fmt.Errorf("Limits.AuthBackoffMax: must not be below AuthBackoff (%v)", l.AuthBackoff))
	}
	return errs
}

// limiter holds the state of a node's Limits. It is safe for concurrent use.
type limiter struct {
	live, read *buckets // nil: no limit
	auth       *backoff // nil: no back-off
	persons    *backoff // wrong passwords by the e-mail address tried; nil: no back-off
	// Sign-in links asked for, by client address and by the e-mail address asked
	// for (people_mail.go); nil: no back-off.
	linkAddrs, linkPersons *backoff
	cop                    *http.CrossOriginProtection
}

func newLimiter(l Limits) *limiter {
	lm := &limiter{cop: http.NewCrossOriginProtection()}
	if l.LiveQueryRate > 0 {
		lm.live = newBuckets(l.LiveQueryRate, l.LiveQueryBurst, l.Clients)
	}
	if l.ReadRate > 0 {
		lm.read = newBuckets(l.ReadRate, l.ReadBurst, l.Clients)
	}
	if l.AuthFreeFailures > 0 {
		lm.auth = &backoff{free: l.AuthFreeFailures, first: l.AuthBackoff, max: l.AuthBackoffMax, clients: l.Clients, m: map[string]*failures{}}
		lm.persons = &backoff{free: l.AuthFreeFailures, first: l.AuthBackoff, max: l.AuthBackoffMax, clients: l.Clients, m: map[string]*failures{}}
		lm.linkAddrs = &backoff{free: l.AuthFreeFailures, first: l.AuthBackoff, max: l.AuthBackoffMax, clients: l.Clients, m: map[string]*failures{}}
		lm.linkPersons = &backoff{free: linkMailsFree - 1, first: linkMailsWait, max: linkMailsWaitMax, clients: l.Clients, m: map[string]*failures{}}
	}
	return lm
}

// othersKey is the one key that addresses past a limit's Clients share.
const othersKey = "(others)"

// buckets is a token bucket per client address.
type buckets struct {
	rate    rate.Limit
	burst   int
	clients int
	idle    time.Duration // after which a bucket is full again, and forgotten

	mu     sync.Mutex // guards m and pruned
	m      map[string]*bucket
	pruned time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newBuckets(r float64, burst, clients int) *buckets {
	return &buckets{rate: rate.Limit(r), burst: burst, clients: clients, m: map[string]*bucket{},
		idle: time.Duration(float64(burst) / r * float64(time.Second))}
}

// take takes one request of client at now from its bucket. It returns 0 when the
// request may go ahead, else how long the client must wait; nothing is taken then.
func (b *buckets) take(client string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.m[client]
	if e == nil {
		if len(b.m) >= b.clients && now.Sub(b.pruned) >= time.Second {
			b.pruned = now
			for k, old := range b.m {
				if now.Sub(old.last) >= b.idle {
					delete(b.m, k)
				}
			}
		}
		if len(b.m) >= b.clients {
			client = othersKey
			e = b.m[client]
		}
		if e == nil {
			e = &bucket{lim: rate.NewLimiter(b.rate, b.burst)}
			b.m[client] = e
		}
	}
	e.last = now
	res := e.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// backoff makes a client that sent too many wrong tokens wait, longer after each.
type backoff struct {
	free       int
	first, max time.Duration
	clients    int

	mu sync.Mutex // guards m
	m  map[string]*failures
}

type failures struct {
	n     int       // wrong tokens since the client started afresh
	last  time.Time // of the last
	until time.Time // before which the client may not try
}

// key returns the key client's failures go by: its own, or othersKey when the map is
// full and does not hold it. Callers hold mu.
func (b *backoff) key(client string) string {
	if _, ok := b.m[client]; !ok && len(b.m) >= b.clients {
		return othersKey
	}
	return client
}

// stale reports whether f is old enough at now to be forgotten: its wait is over and
// no wrong token came for max.
func (b *backoff) stale(f *failures, now time.Time) bool {
	return now.Sub(f.last) >= b.max && !now.Before(f.until)
}

// wait returns how long client must still wait at now before its next try.
func (b *backoff) wait(client string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f := b.m[b.key(client)]; f != nil && now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

// fail records a wrong token from client at now and returns how long it must now
// wait before its next try.
func (b *backoff) fail(client string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[client]; !ok && len(b.m) >= b.clients {
		for k, old := range b.m {
			if b.stale(old, now) {
				delete(b.m, k)
			}
		}
	}
	k := b.key(client)
	f := b.m[k]
	if f == nil || b.stale(f, now) {
		f = &failures{}
		b.m[k] = f
	}
	f.n++
	f.last = now
	if over := f.n - b.free; over > 0 {
		d := b.max
		if over <= 30 {
			d = min(b.first<<(over-1), b.max)
		}
		f.until = now.Add(d)
		return d
	}
	return 0
}

// ok forgets the failures of client, who gave the right token.
func (b *backoff) ok(client string) {
	b.mu.Lock()
	delete(b.m, client)
	b.mu.Unlock()
}

// AuthWait returns how long the client at remote (a request's RemoteAddr) must wait
// before it may try the operator token again, after too many wrong ones; 0: it may
// try now. A try while it must wait is a refusal of kind (RefusedSignIn for the
// console), counted and logged, bounded; the token is not to be checked then.
func (n *Node) AuthWait(kind, remote string) time.Duration {
	if n.limits.auth == nil {
		return 0
	}
	ip := remoteIP(remote)
	d := n.limits.auth.wait(ip, time.Now())
	if d > 0 {
		n.refusals.refuse(kind, "backoff", ip, slog.LevelWarn, "operator token tried while waiting", "retry_after", retryAfter(d))
	}
	return d
}

// AuthFailed records a wrong operator token from the client at remote, a refusal of
// kind (RefusedSignIn for the console), counted and logged at most once a second per
// address. It returns how long the client must now wait before its next try.
func (n *Node) AuthFailed(kind, remote string) time.Duration {
	ip := remoteIP(remote)
	var wait time.Duration
	if n.limits.auth != nil {
		wait = n.limits.auth.fail(ip, time.Now())
	}
	n.refusals.refuse(kind, "wrong-token", ip, slog.LevelWarn, "wrong operator token", "wait", wait.Round(time.Millisecond).String())
	return wait
}

// AuthOK forgets the wrong tokens of the client at remote, which gave the right one.
func (n *Node) AuthOK(remote string) {
	if n.limits.auth != nil {
		n.limits.auth.ok(remoteIP(remote))
	}
}

// TakeLiveQuery takes one live query from the limit of the client at remote, for a
// live query asked without the operator token, such as the console's for a visitor.
// It returns 0 when the query may go ahead; else how long the client must wait, and
// the refusal is counted and logged, bounded.
func (n *Node) TakeLiveQuery(remote string) time.Duration {
	return n.take(n.limits.live, "live-query", remoteIP(remote))
}

// take takes one request of client from b, counting a refusal.
func (n *Node) take(b *buckets, what, client string) time.Duration {
	if b == nil {
		return 0
	}
	d := b.take(client, time.Now())
	if d > 0 {
		n.refusals.refuse(RefusedHTTP, what+"-rate", client, slog.LevelWarn, "request over the rate limit", "retry_after", retryAfter(d))
	}
	return d
}

// retryAfter is d in whole seconds, rounded up, at least 1: the Retry-After value.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// guard applies the limits to every request to the API (/v1/...), before its
// handler: a cross-site request that changes something is refused (403), as is a
// body that says it is not JSON (415); a request with a token is refused while its
// address must wait (429) and when the token is wrong (401), and otherwise goes
// ahead unlimited; one without a token is taken from its address's bucket, live
// queries from their own (429 when empty). Other paths, such as the console's, which
// checks its own forms, pass untouched.
func (n *Node) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		ip := remoteIP(r.RemoteAddr)
		if err := n.limits.cop.Check(r); err != nil {
			n.refusals.refuse(RefusedHTTP, "cross-origin", ip, slog.LevelWarn, "cross-site request refused",
				"method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
			writeError(w, http.StatusForbidden, api.ErrorBody{Code: api.CodeCrossOrigin,
				Message: "refused: a " + r.Method + " from a page of another site; the API takes changes only from programs and from its own console"})
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" && r.Method != http.MethodGet && r.Method != http.MethodHead && !isJSON(ct) {
			n.refusals.refuse(RefusedHTTP, "not-json", ip, slog.LevelInfo, "request body not JSON", "method", r.Method, "path", r.URL.Path)
			writeError(w, http.StatusUnsupportedMediaType, api.ErrorBody{Code: api.CodeUnsupportedMediaType,
				Message: fmt.Sprintf("request body of Content-Type %.100q: the API takes only application/json", ct)})
			return
		}
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			if d := n.AuthWait(RefusedToken, r.RemoteAddr); d > 0 {
				tooMany(w, d, "too many wrong operator tokens from your address: wait before trying again")
				return
			}
			a, err := n.TokenActor(token) // access.go: the operator token, a session, an API token
			if err != nil {
				n.AuthFailed(RefusedToken, r.RemoteAddr)
				writeError(w, http.StatusUnauthorized, api.ErrorBody{Code: api.CodeUnauthorized, Message: tokenRefusal(err)})
				return
			}
			n.AuthOK(r.RemoteAddr)
			h.ServeHTTP(w, r.WithContext(WithActor(r.Context(), a)))
			return
		}
		b, what := n.limits.read, "read"
		if r.Method == http.MethodPost && r.URL.Path == "/v1/query" {
			b, what = n.limits.live, "live-query"
		}
		if d := n.take(b, what, ip); d > 0 {
			tooMany(w, d, "too many "+strings.ReplaceAll(what, "-", " ")+" requests from your address without the operator token: wait before trying again")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// tooMany answers 429 with Retry-After.
func tooMany(w http.ResponseWriter, d time.Duration, msg string) {
	w.Header().Set("Retry-After", retryAfter(d))
	writeError(w, http.StatusTooManyRequests, api.ErrorBody{Code: api.CodeRateLimited, Message: msg + " (Retry-After " + retryAfter(d) + " s)"})
}

// isJSON reports whether the media type ct is JSON: application/json or a type
// ending in +json, with any parameters.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
