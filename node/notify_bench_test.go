package node_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/store"
)

// notifyPair is a referring and a receiving hub, and the feed position of the
// referring one.
type notifyPair struct {
	a, b   *nodetest.Hub
	cursor uint64
}

// startNotifyPair starts two hubs, joined, with change applied to each one's
// configuration and then setup to each hub.
func startNotifyPair(tb testing.TB, change func(c *node.Config), setup func(h *nodetest.Hub)) *notifyPair {
	tb.Helper()
	net := nodetest.Network(tb)
	var hubs []*nodetest.Hub
	for i, id := range []string{"hub-1", "hub-2"} {
		dir := tb.TempDir()
		p := nodetest.Profile(id)
		nodetest.Init(tb, dir, net, id, &p)
		cfg := nodetest.Config(dir)
		if i > 0 {
			cfg.Join = []string{hubs[0].GossipAddr()}
		}
		change(&cfg)
		h := nodetest.StartConfig(tb, cfg)
		setup(h)
		hubs = append(hubs, h)
	}
	nodetest.Eventually(tb, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return &notifyPair{a: hubs[0], b: hubs[1]}
}

// refer sends one referral from a to b and returns how long it took until a's
// change feed had b's acknowledgement: the referral received.
func (p *notifyPair) refer(tb testing.TB) time.Duration {
	tb.Helper()
	start := time.Now()
	sent, err := p.a.Refer(referralTo(p.b.ID()))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		evs, err := p.a.Events(ctx, p.cursor, 100, 5*time.Second)
		if err != nil {
			tb.Fatalf("referral %s not acknowledged: %v", sent.Referral.ID, err)
		}
		for _, e := range evs.Events {
			p.cursor = e.Seq
			if e.Referral != nil && e.Referral.ID == sent.Referral.ID && e.Referral.State == "received" {
				return time.Since(start)
			}
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkReferral_notifications times referrals end to end, from Refer at the
// referring hub until that hub records the receiver's acknowledgement, between two
// pairs of hubs in the same run: one with notifications on, where every event at
// either hub makes one webhook call and one e-mail (through a real SMTP server with
// STARTTLS and AUTH), and one with none. Referrals alternate between the pairs, so
// that the machine's load weighs on both alike. It reports each pair's median and
// their ratio, which should stay within 1.10: notifications are sent after the
// change, from the outbox, and never hold a referral up.
func BenchmarkReferral_notifications(b *testing.B) {
	off := startNotifyPair(b, func(*node.Config) {}, func(*nodetest.Hub) {})
	ms := startMailServer(b, false, "PLAIN")
	hooks := []*hookReceiver{startHookReceiver(b), startHookReceiver(b)}
	on := startNotifyPair(b, func(c *node.Config) {
		c.Notify.SMTP = smtpConfig(ms, "starttls")
		c.Notify.AllowHTTPWebhooks = true
		c.Notify.Delay = node.DefaultNotifyConfig().Delay // as a hub runs
	}, func(h *nodetest.Hub) {
		hooks[0].register(b, h, "crm")
		hooks = hooks[1:]
		l, err := h.AddPerson(api.PersonRequest{Name: "Eve Example", Email: "eve@" + h.ID() + ".example.eu", Role: api.RoleAdvisor})
		if err != nil {
			b.Fatal(err)
		}
		// Every change of state: one e-mail for each event of a referral.
		if _, err := h.SetPersonTopics(l.Person.ID, []string{store.TopicChange}); err != nil {
			b.Fatal(err)
		}
	})
	for range 5 { // warm-up: routes, connections, first writes
		off.refer(b)
		on.refer(b)
	}
	var tOff, tOn []time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			tOff = append(tOff, off.refer(b))
			tOn = append(tOn, on.refer(b))
		} else {
			tOn = append(tOn, on.refer(b))
			tOff = append(tOff, off.refer(b))
		}
	}
	b.StopTimer()
	// The notifications went out: one e-mail per event at least for the warm-up.
	nodetest.Eventually(b, 30*time.Second, func() error {
		if n := len(ms.Mails()); n < 3*(5+b.N) {
			return fmt.Errorf("%d e-mails for %d referrals, want 3 each", n, 5+b.N)
		}
		return nil
	})
	mOff, mOn := median(tOff), median(tOn)
	b.ReportMetric(float64(mOff.Microseconds())/1000, "ms-median-off")
	b.ReportMetric(float64(mOn.Microseconds())/1000, "ms-median-on")
	b.ReportMetric(float64(mOn)/float64(mOff), "on/off")
}
