package node

import (
	"net"
	"strconv"
	"testing"
)

// A port reserved for a route or gateway is one no outgoing connection can be given
// meanwhile, below the ephemeral range, and one no other hub can reserve until it is
// released.
func TestReservePort_belowEphemeral(t *testing.T) {
	lo, hi, ok := outsideEphemeral()
	if !ok {
		t.Skip("no ephemeral port range known on this system")
	}
	seen := map[int]bool{}
	for range 20 {
		p, held, err := reservePort("127.0.0.1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if p < lo || p >= hi {
			t.Fatalf("port %d not in [%d, %d): an outgoing connection could take it", p, lo, hi)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			t.Fatalf("port %d reserved, but another could bind it meanwhile", p)
		}
		held.Close()
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("port %d released, but cannot be bound: %v", p, err)
		}
		ln.Close()
		seen[p] = true
	}
	if len(seen) < 15 {
		t.Errorf("20 reservations gave only %d different ports", len(seen))
	}
	if p, held, err := reservePort("127.0.0.1", 4222); err != nil || p != 4222 || held != nil {
		t.Errorf("a configured port: got %d, %v, %v; want 4222 as configured, nothing held", p, held, err)
	}
}
