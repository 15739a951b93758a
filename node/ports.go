package node

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// reservePort returns port, or a port free now on host when port is 0, with a
// listener that holds it until the NATS server binds it: the hub gossips its route
// and gateway addresses before its server starts, and meanwhile another hub starting
// on the machine must not pick the same port. The listener is nil for a port given.
//
// The port is chosen below the system's range of ephemeral ports where there is
// one, so that no outgoing connection of the machine is given it as its local end in
// the moment between the listener's close and the server's bind.
func reservePort(host string, port int) (int, net.Listener, error) {
	if port != 0 {
		return port, nil, nil
	}
	if lo, hi, ok := outsideEphemeral(); ok {
		for range 64 {
			p := lo + rand.N(hi-lo)
			if ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p))); err == nil {
				return p, ln, nil
			}
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, nil, fmt.Errorf("find a free port on %s: %w", host, err)
	}
	return ln.Addr().(*net.TCPAddr).Port, ln, nil
}

// release closes the listeners that hold the route and gateway ports, right before
// the NATS server binds them, or when the start fails.
func (n *Node) release() {
	n.heldMu.Lock()
	defer n.heldMu.Unlock()
	for _, ln := range n.held {
		ln.Close()
	}
	n.held = nil
}

// lowestPort is the lowest port reservePort picks: above the ports that services
// are commonly configured on.
const lowestPort = 10000

// outsideEphemeral returns the ports from lowestPort up to, not including, the
// first ephemeral port, as Linux reports its range; ok is false where the range is
// not known or leaves fewer than a thousand ports below it.
func outsideEphemeral() (lo, hi int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, false
	}
	hi, err = strconv.Atoi(f[0])
	if err != nil || hi-lowestPort < 1000 {
		return 0, 0, false
	}
	return lowestPort, hi, true
}
