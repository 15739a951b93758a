package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	sockaddr "github.com/hashicorp/go-sockaddr"
	"github.com/hashicorp/memberlist"
)

const (
	// maxPacket is the largest UDP payload: the size of each listener's read buffer.
	maxPacket = 64 << 10
	// udpReadBuffer is the socket receive buffer asked for, halved until the kernel
	// accepts it. Bursts of gossip wait there while a packet is handed on.
	udpReadBuffer = 2 << 20
	// bindAttempts is how many free ports are tried for port 0: the kernel picks one
	// free for TCP, which another process may hold for UDP.
	bindAttempts = 10
)

// gossipTransport is memberlist's network for a hub: packets over UDP, streams over
// TCP, both on one address and port, as memberlist's NetTransport does. It differs in
// one thing: the listener reads every packet into one buffer it reuses and hands
// memberlist a copy of the bytes read. NetTransport allocates 64 KiB a packet, which
// memberlist holds in its queue until it handles the packet: with 250 hubs in one
// process that was 18% of the live heap and much of the collector's work.
//
// Its methods are safe for concurrent use. A packet or stream that arrives while no
// one receives from PacketCh or StreamCh holds up its listener, until Shutdown.
type gossipTransport struct {
	log     *slog.Logger
	tcp     *net.TCPListener
	udp     *net.UDPConn
	packets chan *memberlist.Packet
	streams chan net.Conn
	done    chan struct{} // closed by Shutdown, before the sockets
	stop    sync.Once
	wg      sync.WaitGroup // the two listener goroutines, and handOn's

	mu      sync.Mutex            // guards waiting
	waiting map[net.Conn]struct{} // streams accepted whose first byte has not come

	deaf atomic.Bool // tests: what arrives is dropped, as a hub cut off from the others would lose it
}

var _ memberlist.NodeAwareTransport = (*gossipTransport)(nil)

// newGossipTransport listens on host:port, TCP and UDP; port 0 picks a port free for
// both. host is an IP address, or empty for every interface. A nil log discards.
func newGossipTransport(host string, port int, log *slog.Logger) (*gossipTransport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ip := net.ParseIP(host)
	if ip == nil && host != "" {
		return nil, fmt.Errorf("gossip host %q: not an IP address", host)
	}
	attempts := 1
	if port == 0 {
		attempts = bindAttempts
	}
	t := &gossipTransport{
		log:     log,
		packets: make(chan *memberlist.Packet),
		streams: make(chan net.Conn),
		waiting: map[net.Conn]struct{}{},
		done:    make(chan struct{}),
	}
	var err error
	for range attempts {
		if t.tcp, t.udp, err = listenGossip(ip, port); !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	t.wg.Go(t.acceptStreams)
	t.wg.Go(t.readPackets)
	return t, nil
}

// listenGossip opens the TCP listener and then the UDP socket on the port it got.
func listenGossip(ip net.IP, port int) (*net.TCPListener, *net.UDPConn, error) {
	tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: port})
	if err != nil {
		return nil, nil, fmt.Errorf("gossip stream listener: %w", err)
	}
	port = tcp.Addr().(*net.TCPAddr).Port
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
	if err != nil {
		tcp.Close()
		return nil, nil, fmt.Errorf("gossip packet listener: %w", err)
	}
	for size := udpReadBuffer; ; size /= 2 {
		if err = udp.SetReadBuffer(size); err == nil {
			break
		}
		if size == 1 {
			tcp.Close()
			udp.Close()
			return nil, nil, fmt.Errorf("gossip packet receive buffer: %w", err)
		}
	}
	return tcp, udp, nil
}

// Port returns the port the transport listens on, TCP and UDP.
func (t *gossipTransport) Port() int { return t.tcp.Addr().(*net.TCPAddr).Port }

// FinalAdvertiseAddr returns the address other hubs reach this one at: ip and port
// when ip is given (port 0 means the bound port). Without ip it is the bound address
// and port, whatever port says (memberlist's presets say 7946), or a private IP of this
// machine when bound to every interface.
func (t *gossipTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" {
		addr := net.ParseIP(ip)
		if addr == nil {
			return nil, 0, fmt.Errorf("gossip advertise address %q: not an IP address", ip)
		}
		if a4 := addr.To4(); a4 != nil {
			addr = a4
		}
		if port == 0 {
			port = t.Port()
		}
		return addr, port, nil
	}
	port = t.Port()
	bound := t.tcp.Addr().(*net.TCPAddr).IP
	if !bound.IsUnspecified() {
		if a4 := bound.To4(); a4 != nil {
			bound = a4
		}
		return bound, port, nil
	}
	private, err := sockaddr.GetPrivateIP()
	if err != nil {
		return nil, 0, fmt.Errorf("gossip advertise address: %w", err)
	}
	addr := net.ParseIP(private)
	if addr == nil {
		return nil, 0, errors.New("gossip advertise address: no private IP address, and none configured")
	}
	return addr, port, nil
}

// WriteTo sends b to addr, host:port, in one UDP packet. The time is taken after the
// write.
func (t *gossipTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress sends b to a.Addr in one UDP packet.
func (t *gossipTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	to, err := net.ResolveUDPAddr("udp", a.Addr)
	if err != nil {
		return time.Time{}, fmt.Errorf("gossip packet to %s: %w", a.Addr, err)
	}
	_, err = t.udp.WriteTo(b, to)
	return time.Now(), err
}

// PacketCh returns the packets received. Each Packet's Buf is its own.
func (t *gossipTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// DialTimeout opens a TCP stream to addr, host:port.
func (t *gossipTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout opens a TCP stream to a.Addr.
func (t *gossipTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.Dial("tcp", a.Addr)
}

// StreamCh returns the TCP streams accepted; the receiver closes them.
func (t *gossipTransport) StreamCh() <-chan net.Conn { return t.streams }

// Shutdown closes the listeners and waits for their goroutines to end. It is safe to
// call more than once; memberlist's Shutdown calls it.
func (t *gossipTransport) Shutdown() error {
	t.stop.Do(func() {
		close(t.done)
		t.tcp.Close()
		t.udp.Close()
		t.mu.Lock()
		for c := range t.waiting {
			c.Close()
		}
		t.mu.Unlock()
	})
	t.wg.Wait()
	return nil
}

// stopped reports whether Shutdown was called: a listener's errors are then its
// closed socket.
func (t *gossipTransport) stopped() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// readPackets hands on each UDP packet, copied out of the one buffer it reads into.
func (t *gossipTransport) readPackets() {
	buf := make([]byte, maxPacket)
	for {
		n, from, err := t.udp.ReadFrom(buf)
		now := time.Now() // as close to the read as can be: memberlist times probes by it
		if err != nil {
			if t.stopped() {
				return
			}
			t.log.Warn("gossip packet read failed", "err", err)
			continue
		}
		if n == 0 {
			t.log.Debug("gossip packet empty", "from", from.String())
			continue
		}
		if t.deaf.Load() {
			continue
		}
		p := &memberlist.Packet{Buf: bytes.Clone(buf[:n]), From: from, Timestamp: now}
		select {
		case t.packets <- p:
		case <-t.done:
			return
		}
	}
}

// acceptStreams hands on each TCP connection. After a failed accept it waits, 5 ms at
// first and twice as long each time up to a second, so that a listener that keeps
// failing (out of file descriptors) does not spin.
func (t *gossipTransport) acceptStreams() {
	var wait time.Duration
	for {
		conn, err := t.tcp.AcceptTCP()
		if err != nil {
			if t.stopped() {
				return
			}
			wait = min(max(2*wait, 5*time.Millisecond), time.Second)
			t.log.Warn("gossip stream accept failed", "err", err, "retry_in", wait)
			select {
			case <-time.After(wait):
			case <-t.done:
				return
			}
			continue
		}
		wait = 0
		if t.deaf.Load() {
			conn.Close()
			continue
		}
		t.mu.Lock()
		if t.stopped() {
			t.mu.Unlock()
			conn.Close()
			return
		}
		t.waiting[conn] = struct{}{}
		t.wg.Add(1)
		t.mu.Unlock()
		go t.handOn(conn)
	}
}

// firstByteWait is how long an accepted stream may take to send its first byte;
// memberlist writes as soon as it has dialled.
const firstByteWait = 5 * time.Second

// handOn hands conn to memberlist once its first byte has come, and closes it
// unread if none comes. memberlist's own fallback probe over TCP, whose deadline
// passes before it writes, leaves an empty stream: handed on, memberlist reads an
// empty label in it and logs a stream from another network, a gossip-label refusal
// where nothing was wrong.
func (t *gossipTransport) handOn(conn *net.TCPConn) {
	defer t.wg.Done()
	var first [1]byte
	conn.SetReadDeadline(time.Now().Add(firstByteWait))
	_, err := io.ReadFull(conn, first[:])
	t.mu.Lock()
	delete(t.waiting, conn)
	t.mu.Unlock()
	if err != nil {
		conn.Close()
		if !t.stopped() && !errors.Is(err, io.EOF) {
			t.log.Debug("gossip stream closed before its first byte", "from", conn.RemoteAddr(), "err", err)
		}
		return
	}
	conn.SetReadDeadline(time.Time{})
	select {
	case t.streams <- &startedConn{Conn: conn, first: first[:]}:
	case <-t.done:
		conn.Close()
	}
}

// startedConn is a stream whose first bytes were read before memberlist had it.
type startedConn struct {
	net.Conn
	first []byte // read already, not yet returned by Read
}

func (c *startedConn) Read(b []byte) (int, error) {
	if len(c.first) > 0 {
		n := copy(b, c.first)
		c.first = c.first[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}
