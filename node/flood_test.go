package node_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// logLines is a log destination that counts the lines a node writes, by level.
type logLines struct {
	mu    sync.Mutex // guards the fields below
	buf   bytes.Buffer
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.Reset()
			l.buf.WriteString(line)
			break
		}
		l.lines = append(l.lines, strings.TrimSpace(line))
	}
	return len(p), nil
}

// since returns the lines written after the first from, at level INFO or above.
func (l *logLines) since(from int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[from:]...)
}

func (l *logLines) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// floodHub starts one hub whose log, at INFO as `hubnet run` writes it, goes to the
// returned logLines.
func floodHub(t *testing.T) (*nodetest.Hub, *logLines) {
	t.Helper()
	lines := &logLines{}
	dir := t.TempDir()
	nodetest.Init(t, dir, nodetest.Network(t), "hub-flood", nil)
	cfg := nodetest.Config(dir)
	cfg.Logger = slog.New(slog.NewTextHandler(lines, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return nodetest.StartConfig(t, cfg), lines
}

// levels counts lines by their level= attribute.
func levels(lines []string) map[string]int {
	out := map[string]int{}
	for _, l := range lines {
		_, rest, _ := strings.Cut(l, "level=")
		lv, _, _ := strings.Cut(rest, " ")
		out[lv]++
	}
	return out
}

// floodRoutes opens n TCP connections to the route port, each sending a line of
// garbage and closing.
func floodRoutes(t *testing.T, addr string, n int) {
	t.Helper()
	for range n {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial route port: %v", err)
		}
		c.Write([]byte("CONNECT {}\r\n"))
		c.Close()
	}
}

// floodGossip sends n UDP packets of garbage to the gossip port.
func floodGossip(t *testing.T, addr string, n int) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range n {
		c.Write([]byte(fmt.Sprintf("garbage packet %d, not a gossip message at all", i)))
		if i%100 == 99 {
			time.Sleep(time.Millisecond) // let the receiver keep up: a lost packet writes no line
		}
	}
}

// signInWrong posts a wrong token to the console's sign-in form and returns the
// status.
func signInWrong(t *testing.T, c *http.Client, base, hub string) (int, http.Header) {
	t.Helper()
	form := url.Values{"csrf": {"x"}, "token": {"not-the-token"}, "next": {"/"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "hubnet_login_" + hub, Value: "x"})
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// badToken sends a write with a wrong operator token and returns the status.
func badToken(t *testing.T, c *http.Client, base string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+"/v1/self/capacity/test-before-invest", strings.NewReader(`{"available":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer wrong-token-guess")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("bad token: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// refusalLines returns the lines of a flood: those the limiter let through and its
// summaries, after waiting for the summary of what it held back.
func refusalLines(t *testing.T, lines *logLines, from int) []string {
	t.Helper()
	nodetest.Eventually(t, 5*time.Second, func() error {
		for _, l := range lines.since(from) {
			if strings.Contains(l, "refusals not logged") {
				return nil
			}
		}
		return fmt.Errorf("no summary line yet")
	})
	return lines.since(from)
}

// boundFor is the most lines a flood that lasted d may write: five refusal lines a
// second in all, and one summary a second, counting the second it started in.
func boundFor(d time.Duration) int { return 6 * (int(d/time.Second) + 2) }

// Outsiders flooding a hub's public ports and its sign-in make it write a few lines a
// second, not one a refusal; every refusal is counted by kind and reason, and the
// summary says how many were not logged.
func TestRefusals_floodsWriteBoundedLines(t *testing.T) {
	h, lines := floodHub(t)
	base := "http://" + h.HTTPAddr()
	c := &http.Client{Timeout: 5 * time.Second}

	flood := func(name string, n int, fn func()) []string {
		t.Helper()
		from := lines.count()
		start := time.Now()
		fn()
		took := time.Since(start)
		got := refusalLines(t, lines, from)
		t.Logf("%s: %d lines in %v, by level %v", name, len(got), took.Round(time.Millisecond), levels(got))
		if len(got) > boundFor(took) {
			t.Errorf("%s: %d lines, want at most %d for a flood of %v:\n%s", name, len(got), boundFor(took), took, strings.Join(got, "\n"))
		}
		return got
	}

	t.Run("route port", func(t *testing.T) {
		got := flood("1,000 plain-TCP route connections", 1000, func() { floodRoutes(t, h.Addrs().Cluster, 1000) })
		nodetest.Eventually(t, 5*time.Second, func() error {
			if n := h.Refused(node.RefusedRoute, "plain-tcp"); n != 1000 {
				return fmt.Errorf("route refusals counted: %v, want 1000", n)
			}
			return nil
		})
		if !strings.Contains(strings.Join(got, "\n"), "route/plain-tcp=") {
			t.Errorf("no summary of the route refusals:\n%s", strings.Join(got, "\n"))
		}
	})
	t.Run("gossip port", func(t *testing.T) {
		flood("1,300 garbage gossip packets", 1300, func() { floodGossip(t, h.GossipAddr(), 1300) })
		// Loopback UDP drops what a starved receiver cannot read in time (under -race on
		// a busy machine, about half): every packet read is counted, none is made up.
		if n := h.Refused(node.RefusedGossip, "gossip-label"); n < 130 || n > 1300 {
			t.Errorf("gossip refusals counted: %v, want from 130 to 1300 of the 1300 sent", n)
		}
	})
	t.Run("console sign-in", func(t *testing.T) {
		statuses := map[int]int{}
		var retry string
		flood("2,000 wrong sign-ins", 2000, func() {
			for range 2000 {
				s, hdr := signInWrong(t, c, base, h.ID())
				statuses[s]++
				if s == http.StatusTooManyRequests && retry == "" {
					retry = hdr.Get("Retry-After")
				}
			}
		})
		// The 5 free tries, then one each time a wait ran out: the waits double, so
		// a handful, however slow the machine.
		if n := statuses[http.StatusUnauthorized]; n < 5 || n > 12 || statuses[http.StatusTooManyRequests] < 1988 {
			t.Errorf("statuses %v, want 5 to 12 of 401 (the free tries and one after each wait), then 429", statuses)
		}
		if retry == "" || retry == "0" {
			t.Errorf("429 with Retry-After %q, want a number of seconds", retry)
		}
		if n := h.Refused(node.RefusedSignIn, "wrong-token") + h.Refused(node.RefusedSignIn, "backoff"); n != 2000 {
			t.Errorf("sign-in refusals counted: %v, want 2000", n)
		}
	})
	t.Run("API token", func(t *testing.T) {
		statuses := map[int]int{}
		flood("2,000 wrong tokens", 2000, func() {
			for range 2000 {
				s, _ := badToken(t, c, base)
				statuses[s]++
			}
		})
		if statuses[http.StatusTooManyRequests] < 1988 {
			t.Errorf("statuses %v, want 429 after the first few", statuses)
		}
	})
}

// A route attempt with TLS but a key that is not Ed25519 is refused and counted by
// its reason.
func TestRefusals_routeWithOtherKeyCounted(t *testing.T) {
	h, lines := floodHub(t)
	defer func() {
		if t.Failed() {
			t.Log(strings.Join(lines.since(0), "\n"))
		}
	}()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		conn, err := net.DialTimeout("tcp", h.Addrs().Cluster, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// Routes speak TLS from the first byte.
		conn.SetDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 4096)
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13,
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
		tc.Handshake()
		tc.Read(buf) // the server's verdict comes after the client's Finished
		tc.Close()
	}
	nodetest.Eventually(t, 5*time.Second, func() error {
		if n := h.Refused(node.RefusedRoute, "key-type"); n != 3 {
			return fmt.Errorf("route refusals for the key type: %v, want 3", n)
		}
		return nil
	})
}

// A TCP stream to the gossip port that closes before it sends a byte, as a gossip
// probe over TCP does when its deadline passes before it writes, is no refusal:
// nothing counts gossip-label and nothing logs a stream of another network. A
// stream whose bytes are not this network's gossip still counts, once.
func TestRefusals_emptyGossipStreamNotCounted(t *testing.T) {
	h, lines := floodHub(t)
	before := h.Refused(node.RefusedGossip, "gossip-label")
	for range 20 {
		conn, err := net.DialTimeout("tcp", h.GossipAddr(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	conn, err := net.DialTimeout("tcp", h.GossipAddr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("not gossip at all"))
	conn.Close()
	want := before + 1
	nodetest.Eventually(t, 5*time.Second, func() error {
		if n := h.Refused(node.RefusedGossip, "gossip-label"); n != want {
			return fmt.Errorf("gossip-label refusals: %v, want %v", n, want)
		}
		return nil
	})
	holds(t, time.Second, func() error {
		if n := h.Refused(node.RefusedGossip, "gossip-label"); n != want {
			return fmt.Errorf("gossip-label refusals: %v, want %v: the 20 empty streams were counted", n, want)
		}
		return nil
	})
	if got := strings.Join(lines.since(0), "\n"); strings.Count(got, "unacceptable label") > 1 {
		t.Errorf("empty streams logged as another network's:\n%s", got)
	}
}

// A hub of a network with a region map is a NATS gateway as well: plain-TCP
// connections to its gateway port are refused, counted as gateway refusals and
// logged a few lines a second, like those to the route port.
func TestRefusals_gatewayFloodCounted(t *testing.T) {
	lines := &logLines{}
	dir := t.TempDir()
	p := nodetest.ProfileIn("hub-gw", "FI")
	nodetest.Init(t, dir, nodetest.ClusteredNetwork(t, protocol.Cluster{Name: "fi", Countries: []string{"FI"}}), "hub-gw", &p)
	cfg := nodetest.Config(dir)
	cfg.Logger = slog.New(slog.NewTextHandler(lines, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := nodetest.StartConfig(t, cfg)
	gw := h.Addrs().Gateway
	if gw == "" {
		t.Fatal("the hub of a clustered network has no gateway address")
	}

	from := lines.count()
	start := time.Now()
	const n = 300
	floodRoutes(t, gw, n)
	took := time.Since(start)
	got := refusalLines(t, lines, from)
	if len(got) > boundFor(took) {
		t.Errorf("%d lines for %d connections in %v, want at most %d:\n%s", len(got), n, took, boundFor(took), strings.Join(got, "\n"))
	}
	nodetest.Eventually(t, 5*time.Second, func() error {
		if c := h.Refused(node.RefusedGateway, "plain-tcp"); c != n {
			return fmt.Errorf("gateway refusals counted: %v, want %d", c, n)
		}
		return nil
	})
}
