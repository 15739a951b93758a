package node

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// reservePort returns port, or a port free now on host when port is 0: the hub
// gossips its route and gateway addresses before its NATS server binds them.
//
// The port is chosen below the system's range of ephemeral ports where there is
// one: between the choice and the bind, which waits for gossip, any outgoing
// connection of the machine may otherwise be given the same port as its local end,
// and the server then cannot listen. With a few hundred hubs on one machine, tens
// of thousands of connections are opened while they start, and this happened.
func reservePort(host string, port int) (int, error) {
	if port != 0 {
		return port, nil
	}
	if lo, hi, ok := outsideEphemeral(); ok {
		for range 64 {
			p := lo + rand.N(hi-lo)
			ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
			if err == nil {
				ln.Close()
				return p, nil
			}
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
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
