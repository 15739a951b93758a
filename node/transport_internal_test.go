package node

import (
	"bytes"
	"io"
	"log"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// mustGossipTransport starts a transport on 127.0.0.1 with port 0, shut down when the
// test ends.
func mustGossipTransport(t *testing.T) *gossipTransport {
	t.Helper()
	tr, err := newGossipTransport("127.0.0.1", 0, nil)
	if err != nil {
		t.Fatalf("newGossipTransport: %v", err)
	}
	t.Cleanup(func() { tr.Shutdown() })
	return tr
}

func gossipAddrOf(tr *gossipTransport) string { return hostPort("127.0.0.1", tr.Port()) }

// mustPacket returns the next packet tr receives, failing the test after 5 s.
func mustPacket(t *testing.T, tr *gossipTransport) *memberlist.Packet {
	t.Helper()
	select {
	case p := <-tr.PacketCh():
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet within 5s")
		return nil
	}
}

func mustWrite(t *testing.T, from, to *gossipTransport, b []byte) {
	t.Helper()
	if _, err := from.WriteTo(b, gossipAddrOf(to)); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
}

func TestGossipTransport_WriteTo(t *testing.T) {
	a, b := mustGossipTransport(t), mustGossipTransport(t)
	mustWrite(t, a, b, []byte("ping"))
	p := mustPacket(t, b)
	if got, want := string(p.Buf), "ping"; got != want {
		t.Errorf("packet: got %q, want %q", got, want)
	}
	if got, want := p.From.String(), gossipAddrOf(a); got != want {
		t.Errorf("From: got %s, want %s", got, want)
	}
	if p.Timestamp.IsZero() {
		t.Error("Timestamp: got zero, want the time of the read")
	}
}

func TestGossipTransport_PacketCh_ownBytes(t *testing.T) {
	a, b := mustGossipTransport(t), mustGossipTransport(t)
	first := bytes.Repeat([]byte{'a'}, 1000)
	second := bytes.Repeat([]byte{'b'}, 300)
	mustWrite(t, a, b, first)
	p1 := mustPacket(t, b)
	mustWrite(t, a, b, second)
	p2 := mustPacket(t, b)
	if !bytes.Equal(p1.Buf, first) {
		t.Errorf("first packet after the second was read: got %q…, want 1000 × a", p1.Buf[:min(len(p1.Buf), 8)])
	}
	if !bytes.Equal(p2.Buf, second) {
		t.Errorf("second packet: got %q…, want 300 × b", p2.Buf[:min(len(p2.Buf), 8)])
	}
	// What the transport is for: memberlist queues the packet, and with it Buf's
	// backing array, which must not be the 64 KiB read buffer.
	for _, p := range []*memberlist.Packet{p1, p2} {
		if c := cap(p.Buf); c > len(p.Buf)+len(p.Buf)/4+64 {
			t.Errorf("cap(Buf) of a %d-byte packet: got %d, want about %d", len(p.Buf), c, len(p.Buf))
		}
	}
}

func TestGossipTransport_PacketCh_emptyDropped(t *testing.T) {
	a, b := mustGossipTransport(t), mustGossipTransport(t)
	mustWrite(t, a, b, nil)
	mustWrite(t, a, b, []byte("after"))
	if got, want := string(mustPacket(t, b).Buf), "after"; got != want {
		t.Errorf("first packet handed on: got %q, want %q", got, want)
	}
}

func TestGossipTransport_DialTimeout(t *testing.T) {
	a, b := mustGossipTransport(t), mustGossipTransport(t)
	out, err := a.DialTimeout(gossipAddrOf(b), 5*time.Second)
	if err != nil {
		t.Fatalf("DialTimeout: %v", err)
	}
	defer out.Close()
	// A stream is handed on once its first byte has come.
	out.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := out.Write([]byte("push")); err != nil {
		t.Fatalf("write: %v", err)
	}
	var in net.Conn
	select {
	case in = <-b.StreamCh():
	case <-time.After(5 * time.Second):
		t.Fatal("no stream within 5s")
	}
	defer in.Close()
	if got, want := in.RemoteAddr().String(), out.LocalAddr().String(); got != want {
		t.Errorf("stream from: got %s, want %s", got, want)
	}
	in.SetDeadline(time.Now().Add(5 * time.Second))
	for _, dir := range []struct {
		name     string
		from, to net.Conn
		msg      string
	}{
		{"dialler to listener", nil, in, "push"}, // written above
		{"listener to dialler", in, out, "pull"},
	} {
		if dir.from != nil {
			if _, err := dir.from.Write([]byte(dir.msg)); err != nil {
				t.Fatalf("%s: write: %v", dir.name, err)
			}
		}
		buf := make([]byte, len(dir.msg))
		if _, err := io.ReadFull(dir.to, buf); err != nil {
			t.Fatalf("%s: read: %v", dir.name, err)
		}
		if got := string(buf); got != dir.msg {
			t.Errorf("%s: got %q, want %q", dir.name, got, dir.msg)
		}
	}
}

// A stream closed before its first byte, as a probe whose deadline passed leaves, is
// not handed on; one that sends comes next, whole.
func TestGossipTransport_StreamCh_emptyDropped(t *testing.T) {
	a, b := mustGossipTransport(t), mustGossipTransport(t)
	for range 3 {
		c, err := a.DialTimeout(gossipAddrOf(b), 5*time.Second)
		if err != nil {
			t.Fatalf("DialTimeout: %v", err)
		}
		c.Close()
	}
	c, err := a.DialTimeout(gossipAddrOf(b), 5*time.Second)
	if err != nil {
		t.Fatalf("DialTimeout: %v", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case in := <-b.StreamCh():
		defer in.Close()
		in.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1)
		if _, err := io.ReadFull(in, buf); err != nil || string(buf) != "x" {
			t.Errorf("the stream handed on reads %q, %v; want the byte sent", buf, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no stream within 5s")
	}
	select {
	case in := <-b.StreamCh():
		in.Close()
		t.Error("an empty stream was handed on")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestGossipTransport_Shutdown(t *testing.T) {
	a, b := mustGossipTransport(t), mustGossipTransport(t)
	// A packet and a stream no one receives hold b's listeners up; Shutdown still
	// returns.
	mustWrite(t, a, b, []byte("unread"))
	conn, err := a.DialTimeout(gossipAddrOf(b), 5*time.Second)
	if err != nil {
		t.Fatalf("DialTimeout: %v", err)
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() {
		b.Shutdown()
		b.Shutdown()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return within 5s")
	}
	if _, err := net.DialTimeout("tcp", gossipAddrOf(b), time.Second); err == nil {
		t.Error("dial after Shutdown: got a connection, want the listener closed")
	}
}

func TestNewGossipTransport_portZero(t *testing.T) {
	tr := mustGossipTransport(t)
	tcpPort := tr.tcp.Addr().(*net.TCPAddr).Port
	udpPort := tr.udp.LocalAddr().(*net.UDPAddr).Port
	if tcpPort == 0 || tcpPort != udpPort {
		t.Errorf("ports: got TCP %d and UDP %d, want one non-zero port", tcpPort, udpPort)
	}
	// memberlist's presets advertise port 7946, which without an address means
	// nothing: the bound port is advertised.
	for _, p := range []int{0, 7946} {
		ip, port, err := tr.FinalAdvertiseAddr("", p)
		if err != nil {
			t.Fatalf("FinalAdvertiseAddr: %v", err)
		}
		if got, want := hostPort(ip.String(), port), "127.0.0.1:"+strconv.Itoa(tcpPort); got != want {
			t.Errorf("FinalAdvertiseAddr(\"\", %d): got %s, want %s", p, got, want)
		}
	}
	ip, port, err := tr.FinalAdvertiseAddr("192.0.2.7", 0)
	if err != nil {
		t.Fatalf("FinalAdvertiseAddr: %v", err)
	}
	if got, want := hostPort(ip.String(), port), "192.0.2.7:"+strconv.Itoa(tcpPort); got != want {
		t.Errorf("FinalAdvertiseAddr with a host: got %s, want %s", got, want)
	}
}

func TestNewGossipTransport_portTaken(t *testing.T) {
	tr := mustGossipTransport(t)
	if _, err := newGossipTransport("127.0.0.1", tr.Port(), nil); err == nil {
		t.Error("second transport on the same port: got no error, want address in use")
	}
}

// BenchmarkTransport_packet sends 200-byte packets from one transport to another, over
// this package's transport and memberlist's own; B/op shows what each keeps a packet.
func BenchmarkTransport_packet(b *testing.B) {
	for _, tc := range []struct {
		name string
		new  func(b *testing.B) memberlist.NodeAwareTransport
	}{
		{"gossipTransport", func(b *testing.B) memberlist.NodeAwareTransport {
			tr, err := newGossipTransport("127.0.0.1", 0, nil)
			if err != nil {
				b.Fatalf("newGossipTransport: %v", err)
			}
			return tr
		}},
		{"NetTransport", func(b *testing.B) memberlist.NodeAwareTransport {
			tr, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
				BindAddrs: []string{"127.0.0.1"}, Logger: log.New(io.Discard, "", 0),
			})
			if err != nil {
				b.Fatalf("NewNetTransport: %v", err)
			}
			return tr
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			from, to := tc.new(b), tc.new(b)
			defer from.Shutdown()
			defer to.Shutdown()
			ip, port, err := to.FinalAdvertiseAddr("", 0)
			if err != nil {
				b.Fatalf("FinalAdvertiseAddr: %v", err)
			}
			addr := hostPort(ip.String(), port)
			msg := bytes.Repeat([]byte{'x'}, 200)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := from.WriteTo(msg, addr); err != nil {
					b.Fatalf("WriteTo: %v", err)
				}
				select {
				case <-to.PacketCh():
				case <-time.After(5 * time.Second):
					b.Fatal("no packet within 5s")
				}
			}
		})
	}
}
