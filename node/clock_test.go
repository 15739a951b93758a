package node_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// A hub whose clock is 15 minutes ahead has all its peers' messages refused; it
// learns why from the times they signed: it warns once in its log, says so in
// GET /v1/self, on its console's page and in a metric, while its peers, whose clocks
// agree with each other, see nothing wrong with theirs.
func TestClockSkew_hubWithWrongClockWarns(t *testing.T) {
	netw := nodetest.Network(t)
	const skew = 15 * time.Minute
	lines := &logLines{}
	dir := t.TempDir()
	nodetest.Init(t, dir, netw, "hub-fast", ptr(nodetest.Profile("hub-fast")))
	cfg := nodetest.Config(dir)
	cfg.Now = func() time.Time { return time.Now().Add(skew) }
	cfg.Logger = slog.New(slog.NewTextHandler(lines, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fast := nodetest.StartConfig(t, cfg)
	b := nodetest.Start(t, netw, "hub-b", ptr(nodetest.Profile("hub-b")), fast.GossipAddr())
	c := nodetest.Start(t, netw, "hub-c", ptr(nodetest.Profile("hub-c")), fast.GossipAddr())
	hubs := []*nodetest.Hub{fast, b, c}
	nodetest.Eventually(t, 15*time.Second, func() error { return nodetest.Converged(hubs) })

	// Every change of capacity is announced to every hub in a signed hint.
	announce := func(h *nodetest.Hub, i int) {
		t.Helper()
		avail := i
		if _, err := h.SetCapacity(protocol.FamilyTestBeforeInvest, api.CapacityChange{Available: &avail, Maximum: &avail}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		announce(b, i+1)
		announce(c, i+1)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		s, err := fast.Self()
		if err != nil {
			return err
		}
		if s.ClockSkew == nil || s.ClockSkew.Peers != 2 {
			return fmt.Errorf("clock skew %+v, want an estimate from 2 peers", s.ClockSkew)
		}
		return nil
	})
	s, _ := fast.Self()
	if off := time.Duration(s.ClockSkew.OffsetMS) * time.Millisecond; (off-skew).Abs() > 5*time.Second || !s.ClockSkew.Skewed {
		t.Errorf("clock skew of hub-fast %+v, want about %v ahead, skewed", s.ClockSkew, skew)
	}
	if !strings.Contains(s.ClockSkew.Message, "15m0s ahead of its peers'") || !strings.Contains(s.ClockSkew.Message, "NTP") {
		t.Errorf("message %q, want it to say how far ahead and what to do", s.ClockSkew.Message)
	}
	if fast.Dropped("outside-window") == 0 {
		t.Error("hub-fast refused nothing as outside the window")
	}

	// Its peers hear it too, and each other: the median says their clocks are right.
	announce(fast, 1)
	nodetest.Eventually(t, 10*time.Second, func() error {
		if n := b.Dropped("outside-window"); n == 0 {
			return fmt.Errorf("hub-b has not refused hub-fast's hint yet")
		}
		return nil
	})
	announce(c, 9)
	nodetest.Eventually(t, 10*time.Second, func() error {
		sb, err := b.Self()
		if err != nil {
			return err
		}
		if sb.ClockSkew == nil || sb.ClockSkew.Peers != 2 {
			return fmt.Errorf("hub-b clock skew %+v, want an estimate from 2 peers", sb.ClockSkew)
		}
		if sb.ClockSkew.Skewed || time.Duration(sb.ClockSkew.OffsetMS).Abs() > 5*time.Second {
			return fmt.Errorf("hub-b clock skew %+v, want about 0", sb.ClockSkew)
		}
		return nil
	})

	// The log says it once, however many messages came.
	for i := range 5 {
		announce(b, 10+i)
	}
	nodetest.Eventually(t, 10*time.Second, func() error {
		if n := fast.Dropped("outside-window"); n < 10 {
			return fmt.Errorf("hub-fast refused %v messages, want the 11 hints", n)
		}
		return nil
	})
	warned := 0
	for _, l := range lines.since(0) {
		if strings.Contains(l, "clock disagrees with peers") {
			warned++
			if !strings.Contains(l, "offset=15m0s") {
				t.Errorf("warning %q, want the offset", l)
			}
		}
	}
	if warned != 1 {
		t.Errorf("%d warnings in the log, want 1", warned)
	}

	// The metric.
	metrics := httpGet(t, http.DefaultClient, "http://"+fast.HTTPAddr()+"/metrics")
	if !strings.Contains(metrics, "hubnet_clock_offset_seconds 900") || !strings.Contains(metrics, "hubnet_clock_offset_peers 2") {
		t.Errorf("metrics without the offset:\n%s", grepLines(metrics, "hubnet_clock"))
	}

	// The console's page of the hub, for its signed-in operator.
	page := consolePage(t, fast, "/me")
	if !strings.Contains(page, `id="clock-skew"`) || !strings.Contains(page, "15m0s ahead of its peers") {
		t.Errorf("console's My hub page does not warn of the clock:\n%s", page)
	}
	if page := consolePage(t, b, "/me"); strings.Contains(page, `id="clock-skew"`) {
		t.Error("hub-b's page warns of its clock, which is right")
	}
}

func ptr[T any](v T) *T { return &v }

func httpGet(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// consolePage signs in to h's console with its token and returns the page at path.
func consolePage(t *testing.T, h *nodetest.Hub, path string) string {
	t.Helper()
	tok, err := node.ReadToken(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	base := "http://" + h.HTTPAddr()
	u, _ := url.Parse(base + "/login")
	jar.SetCookies(u, []*http.Cookie{{Name: "hubnet_login_" + h.ID(), Value: "x", Path: "/login"}})
	resp, err := c.PostForm(base+"/login", url.Values{"csrf": {"x"}, "token": {tok}, "next": {path}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != path {
		t.Fatalf("sign in to %s: %d at %s", h.ID(), resp.StatusCode, resp.Request.URL)
	}
	return string(b)
}
