// The referral benchmark: how long a referral takes from the referring hub's API until
// that hub has recorded the receiving hub's acknowledgement, how many referrals two hubs
// move per second, and, in the same run, the same offer published to a JetStream file
// stream that fsyncs every write.
//
//	go run ./cmd/hubnet-bench -out docs/benchmarks.md -rounds 3 referrals
//
// Every wait has a deadline; the hubs and the JetStream server of a round are stopped
// and their directories removed before the next round starts.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/synth"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// Bounds of the referral benchmark.
const (
	referralWarmup  = 20               // referrals, and JetStream publishes, sent untimed first
	referralWait    = 10 * time.Second // for one referral to be acknowledged and recorded
	referralRunWait = 3 * time.Minute  // for a throughput run, from its first Refer
	jsWindow        = 256              // JetStream asynchronous publishes awaiting their ack
)

// The subject and stream the JetStream baseline publishes to.
const (
	jsSubject = "bench.referral"
	jsStream  = "REFERRALS"
)

// referralResult holds the measurements of every round.
type referralResult struct {
	rounds, n, m, callers int
	offerBytes            int
	// Per timed referral, from the call to Refer: until Refer returned (the sender's
	// commit), until the receiver's acknowledgement left its server (the receiver's
	// commit) and until the sender had recorded it (end to end).
	commit, receiver, total latencies
	js                      latencies // one synchronous JetStream publish, until its ack
	rate, apiRate, jsRate   []float64 // per round: delivered/s, Refer calls/s, JetStream msgs/s
}

// referralBench runs rounds of the referral benchmark: in each, two fresh hubs time n
// referrals one at a time and m from callers goroutines, then a fresh JetStream server
// takes the same offer as often. With cpuProfile set, it writes a CPU profile of the
// first round's hubnet throughput run.
func referralBench(rounds, n, m, callers int, cpuProfile string, wait time.Duration) (string, error) {
	r := referralResult{rounds: rounds, n: n, m: m, callers: callers}
	for round := range rounds {
		prof := ""
		if round == 0 {
			prof = cpuProfile
		}
		h, err := hubnetReferrals(n, m, callers, prof, wait)
		if err != nil {
			return "", fmt.Errorf("round %d: hubnet: %w", round+1, err)
		}
		js, jsRate, err := jetStreamPublish(h.offer, n, m, callers)
		if err != nil {
			return "", fmt.Errorf("round %d: JetStream: %w", round+1, err)
		}
		r.offerBytes = len(h.offer)
		r.commit = append(r.commit, h.commit...)
		r.receiver = append(r.receiver, h.receiver...)
		r.total = append(r.total, h.total...)
		r.js = append(r.js, js...)
		r.rate = append(r.rate, h.rate)
		r.apiRate = append(r.apiRate, h.apiRate)
		r.jsRate = append(r.jsRate, jsRate)
		fmt.Fprintf(os.Stderr, "referrals round %d: hubnet median %s, %.0f/s (Refer %.0f/s); JetStream median %s, %.0f/s\n",
			round+1, fine(h.total.quantile(0.5)), h.rate, h.apiRate, fine(js.quantile(0.5)), jsRate)
	}
	return renderReferrals(r), nil
}

// hubnetRound is what one round of two hubs measured.
type hubnetRound struct {
	commit, receiver, total latencies
	rate, apiRate           float64
	offer                   []byte // one offer envelope as sent, for the JetStream baseline
}

// hubnetReferrals starts a referring and a receiving hub, waiting up to wait for their
// directories (see directoryWait), and measures them.
func hubnetReferrals(n, m, callers int, cpuProfile string, wait time.Duration) (hubnetRound, error) {
	var res hubnetRound
	t0 := time.Now()
	f, err := startFederation([]protocol.Profile{synth.Profile("bench-sender"), synth.Profile("bench-receiver")}, wait)
	if err != nil {
		return res, err
	}
	defer f.stop()
	a, b := f.hubs[0], f.hubs[1]
	w, err := watchAcks(b, f.servers[1], f.idents[0])
	if err != nil {
		return res, err
	}
	defer w.close()
	fmt.Fprintf(os.Stderr, "  2 hubs started, directories complete in %v\n", time.Since(t0).Round(time.Millisecond))

	// Warm-up: the first offer also waits until the route between the hubs is up.
	for i := range referralWarmup {
		if _, _, _, err := referOne(a, w, b.ID(), 30*time.Second); err != nil {
			return res, fmt.Errorf("warm-up referral %d: %w", i+1, err)
		}
	}
	for i := range n {
		commit, recv, total, err := referOne(a, w, b.ID(), referralWait)
		if err != nil {
			return res, fmt.Errorf("referral %d: %w", i+1, err)
		}
		res.commit = append(res.commit, commit)
		res.receiver = append(res.receiver, recv)
		res.total = append(res.total, total)
	}
	if res.offer = w.firstOffer(); res.offer == nil {
		return res, errors.New("no offer seen on the receiving hub's server")
	}

	stopProfile := func() {}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		stopProfile = pprof.StopCPUProfile
	}
	res.rate, res.apiRate, err = referMany(a, w, b.ID(), m, callers)
	stopProfile()
	if err != nil {
		return res, err
	}
	// Every referral of the round is at the receiving hub, received.
	in, err := b.Referrals(api.ReferralQuery{Direction: "in", State: protocol.StateReceived})
	if err != nil {
		return res, err
	}
	if want := referralWarmup + n + m; len(in) != want {
		return res, fmt.Errorf("receiving hub holds %d received referrals, want %d", len(in), want)
	}
	return res, nil
}

// referOne sends one referral from a to hub `to` and times it from the call to Refer:
// until Refer returned, until the receiving hub's acknowledgement left its server and
// until a had recorded it (received, nothing pending). It polls a only once the
// acknowledgement is out, so that the polling does not slow what it measures.
func referOne(a *node.Node, w *ackWatch, to string, wait time.Duration) (commit, receiver, total time.Duration, err error) {
	w.drain()
	start := time.Now()
	deadline := start.Add(wait)
	info, err := a.Refer(referralRequest(to, 0))
	commit = time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("refer: %w", err)
	}
	id := info.Referral.ID
	at, err := w.await(id, deadline)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("referral %s: %w", id, err)
	}
	receiver = at.Sub(start)
	for {
		ri, err := a.Referral(id)
		if err != nil {
			return 0, 0, 0, err
		}
		if ri.Referral.State == protocol.StateReceived && ri.Pending == 0 {
			return commit, receiver, time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("referral %s is %s at the sender with %d pending after %v", id, ri.Referral.State, ri.Pending, wait)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// referMany sends m referrals from a to hub `to` from callers goroutines, as fast as
// Refer returns, and returns the referrals delivered per second, from the first call to
// Refer until a holds every one as received with nothing pending, and the Refer calls
// per second. It lists a's referrals only once every acknowledgement has left the
// receiving hub: listing thousands of referrals while they flow would slow the hub.
func referMany(a *node.Node, w *ackWatch, to string, m, callers int) (rate, apiRate float64, err error) {
	reqs := make([]api.ReferralRequest, m)
	for i := range reqs {
		reqs[i] = referralRequest(to, i)
	}
	acked := w.count()
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex // guards errs
		errs  []error
		start = time.Now()
	)
	for range callers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= m {
					return
				}
				if _, err := a.Refer(reqs[i]); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("refer %d: %w", i+1, err))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	viaAPI := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	deadline := start.Add(referralRunWait)
	for w.count() < acked+m {
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%d of %d referrals acknowledged after %v", w.count()-acked, m, referralRunWait)
		}
		time.Sleep(time.Millisecond)
	}
	lastAck := time.Since(start)
	// One listing finds the referrals the sender has yet to record; then only those
	// are polled, each a cheap read, so the end is timed to a poll rather than to a
	// listing of thousands.
	t := time.Now()
	list, err := a.Referrals(api.ReferralQuery{Direction: "out", From: start})
	if err != nil {
		return 0, 0, err
	}
	listed := time.Since(t)
	if len(list) != m {
		return 0, 0, fmt.Errorf("the sender lists %d referrals of the run, want %d", len(list), m)
	}
	var left []string
	for _, ri := range list {
		if ri.Referral.State != protocol.StateReceived || ri.Pending != 0 {
			left = append(left, ri.Referral.ID)
		}
	}
	waited := len(left)
	for len(left) > 0 {
		ri, err := a.Referral(left[0])
		if err != nil {
			return 0, 0, err
		}
		if ri.Referral.State == protocol.StateReceived && ri.Pending == 0 {
			left = left[1:]
			continue
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%d of %d referrals not recorded as received at the sender after %v", len(left), m, referralRunWait)
		}
		time.Sleep(200 * time.Microsecond)
	}
	took := time.Since(start)
	fmt.Fprintf(os.Stderr, "  %d referrals: Refer returned after %v, last acknowledgement left after %v, all recorded after %v (listing took %v and left %d to poll)\n",
		m, viaAPI.Round(time.Millisecond), lastAck.Round(time.Millisecond), took.Round(time.Millisecond), listed.Round(time.Millisecond), waited)
	return float64(m) / took.Seconds(), float64(m) / viaAPI.Seconds(), nil
}

// referralRequest is a valid referral of a small food company to hub to; i varies the
// need's words.
func referralRequest(to string, i int) api.ReferralRequest {
	now := time.Now()
	return api.ReferralRequest{
		To: to,
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall,
			Family: protocol.FamilyTestBeforeInvest, Technologies: []string{"ai-decision-support"},
			Description: fmt.Sprintf("Wants to test machine vision for quality control on bakery line %d.", i+1),
			Maturity:    &protocol.Maturity{Strategy: 40, Readiness: 35, Human: 50, Data: 20, Automation: 15, Green: 30}},
		SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: to,
			Purpose: "referral for AI test-before-invest services", Until: now.Add(90 * 24 * time.Hour)},
	}
}

// ackWatch is a plain NATS client on the receiving hub's server that sees each
// referral acknowledgement as the hub sends it, and the first offer the hub receives.
// It only listens: the hub's own subscription still gets every message.
type ackWatch struct {
	nc   *nats.Conn
	acks chan ackSeen // as they leave; dropped when full, which only referMany lets happen

	mu    sync.Mutex // guards acked and offer
	acked map[string]bool
	offer []byte
}

// ackSeen is a referral whose acknowledgement left the receiving hub at at.
type ackSeen struct {
	referral string
	at       time.Time
}

// ackType is how the type of a referral acknowledgement reads in its envelope's JSON.
var ackType = []byte(`"type":"` + protocol.TypeReferralAck + `"`)

// watchAcks connects an ackWatch to hub b's server srv. The acknowledgements are
// sealed to the referring hub, whose keys are a.
func watchAcks(b *node.Node, srv natsServer, a protocol.Identity) (*ackWatch, error) {
	nc, err := srv.connect("bench-ack-watch")
	if err != nil {
		return nil, fmt.Errorf("%s's server: %w", b.ID(), err)
	}
	w := &ackWatch{nc: nc, acks: make(chan ackSeen, 1024), acked: map[string]bool{}}
	// A hub's requests take their replies in its mailbox, on its reply subjects.
	_, err = nc.Subscribe(protocol.HubPrefix(a.ID)+protocol.KindReply+".>", func(m *nats.Msg) {
		at := time.Now()
		if !bytes.Contains(m.Data, ackType) {
			return
		}
		env, err := protocol.OpenEnvelope(m.Data)
		if err != nil || env.Type != protocol.TypeReferralAck || env.Unseal(a) != nil {
			return
		}
		var ack protocol.ReferralAck
		if env.Decode(&ack) != nil || ack.Result == protocol.AckRefused {
			return
		}
		w.mu.Lock()
		w.acked[ack.Referral] = true
		w.mu.Unlock()
		select {
		case w.acks <- ackSeen{ack.Referral, at}:
		default:
		}
	})
	if err == nil {
		_, err = nc.Subscribe(protocol.ReferralSubject(b.ID()), func(m *nats.Msg) {
			w.mu.Lock()
			if w.offer == nil && bytes.Contains(m.Data, []byte(`"type":"`+protocol.TypeReferralOffer+`"`)) {
				w.offer = bytes.Clone(m.Data)
			}
			w.mu.Unlock()
		})
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("watch acknowledgements: %w", err)
	}
	return w, nil
}

// drain forgets the acknowledgements seen so far.
func (w *ackWatch) drain() {
	for {
		select {
		case <-w.acks:
		default:
			return
		}
	}
}

// await returns when referral id's acknowledgement left the receiving hub.
func (w *ackWatch) await(id string, deadline time.Time) (time.Time, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case a := <-w.acks:
			if a.referral == id {
				return a.at, nil
			}
		case <-timer.C:
			return time.Time{}, errors.New("no acknowledgement from the receiving hub in time")
		}
	}
}

// count returns how many referrals have been acknowledged.
func (w *ackWatch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func (w *ackWatch) firstOffer() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.offer
}

func (w *ackWatch) close() { w.nc.Close() }

// jetStreamPublish starts a JetStream server that fsyncs every write, in process, with
// a file stream, and publishes offer to it: n times one at a time, each timed until
// its ack, then m times from callers goroutines with asynchronous publishes, at most
// jsWindow awaiting their ack. It returns the latencies and the messages stored per
// second, from the first publish until the last ack.
func jetStreamPublish(offer []byte, n, m, callers int) (_ latencies, rate float64, err error) {
	dir, err := os.MkdirTemp("", "hubnet-bench-js-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{
		ServerName: "bench-js", DontListen: true, NoSigs: true, NoLog: true,
		JetStream: true, StoreDir: dir, SyncAlways: true,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("server: %w", err)
	}
	srv.Start()
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	if !srv.ReadyForConnections(10 * time.Second) {
		return nil, 0, errors.New("server not ready in 10s")
	}
	if c := srv.JetStreamConfig(); c == nil || !c.SyncAlways {
		return nil, 0, errors.New("server runs without JetStream's sync_always")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name("bench-js"))
	if err != nil {
		return nil, 0, fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(jsWindow),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), referralRunWait)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: jsStream, Subjects: []string{jsSubject}, Storage: jetstream.FileStorage, Replicas: 1,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("create stream: %w", err)
	}
	for range referralWarmup {
		if _, err := js.Publish(ctx, jsSubject, offer); err != nil {
			return nil, 0, fmt.Errorf("warm-up publish: %w", err)
		}
	}
	var lat latencies
	for range n {
		start := time.Now()
		if _, err := js.Publish(ctx, jsSubject, offer); err != nil {
			return nil, 0, fmt.Errorf("publish: %w", err)
		}
		lat = append(lat, time.Since(start))
	}

	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex // guards errs
		errs []error
	)
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for int(next.Add(1)) <= m {
				if _, err := js.PublishAsync(jsSubject, offer, jetstream.WithStallWait(referralWait)); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, fmt.Errorf("publish: %w", err)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return nil, 0, fmt.Errorf("asynchronous publishes: %d awaiting their ack after %v", js.PublishAsyncPending(), referralRunWait)
	}
	took := time.Since(start)
	if f := failed.Load(); f > 0 {
		return nil, 0, fmt.Errorf("%d of %d asynchronous publishes failed", f, m)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, 0, err
	}
	if want := uint64(referralWarmup + n + m); info.State.Msgs != want {
		return nil, 0, fmt.Errorf("stream holds %d messages, want %d", info.State.Msgs, want)
	}
	return lat, float64(m) / took.Seconds(), nil
}

func renderReferrals(r referralResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s. %d rounds, each with two fresh hubs (bbolt with fsync, embedded NATS, on 127.0.0.1 in one process) and then a fresh JetStream server (file storage, `sync_always`) in the same process; an offer envelope is %d bytes. Latencies are over all %d × %d referrals or publishes sent one at a time; throughput is the median of the rounds (min–max), %d messages from %d goroutines.\n\n",
		time.Now().UTC().Format("2006-01-02"), machine(), r.rounds, r.offerBytes, r.rounds, r.n, r.m, r.callers)
	b.WriteString("| | median | p99 | max | per second |\n|---|---:|---:|---:|---:|\n")
	row := func(name string, d latencies, rate string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, fine(d.quantile(0.5)), fine(d.quantile(0.99)), fine(d.max()), rate)
	}
	row("hubnet: `Refer` returns (sender's commit)", r.commit, fmt.Sprintf("%s `Refer` calls", spreadRate(r.apiRate)))
	row("hubnet: acknowledgement leaves the receiver (receiver's commit)", r.receiver, "")
	row("**hubnet: receipt recorded at the sender (end to end)**", r.total, "**"+spreadRate(r.rate)+" delivered**")
	row("JetStream: publish until its ack", r.js, spreadRate(r.jsRate)+" stored")
	hm, jm := r.total.quantile(0.5), r.js.quantile(0.5)
	fmt.Fprintf(&b, "\nhubnet ÷ JetStream: %.1f× the median latency, %.2f× the throughput.\n", ratio(hm, jm), medianF(r.rate)/medianF(r.jsRate))
	b.WriteString("\nTargets: end-to-end median under 10 ms; at least 1,000 referrals delivered per second; hubnet at least as fast as JetStream with the same durability.\n")
	return b.String()
}

// spreadRate formats per-round rates as their median and min–max.
func spreadRate(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", medianF(v), slices.Min(v), slices.Max(v))
}

func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
