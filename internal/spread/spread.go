// Package spread divides hubs run on one machine, by the demo and the scale
// benchmark, over as many processes as their open files need, and paces their start
// (Settle).
//
// Every hub holds a few files of its own (listeners, its store, gossip sockets, its
// own NATS clients) and one for each end of each connection to another hub: a route
// to every hub of its cluster, and a gateway to each other cluster, whose other end
// is some hub's inbound gateway; in a network with gateway hubs, only they hold
// routes and gateways, and every other hub one leaf node connection. When both ends are in one process, both count
// there, and a process may open only so many files (20,000 on some machines, a hard
// limit). The whole EDIH catalogue in the default region map needs about 45,000.
package spread

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/hubnet-eu/hubnet/protocol"
)

// perHub is the files a hub holds besides its connections to other hubs.
const perHub = 12

// Files estimates the open files hubs in the given countries need when they all run
// in one process, in network netw: one full mesh of routes when it has no region
// map.
func Files(netw protocol.Network, countries []string) int {
	perCluster := map[string]int{}
	for _, c := range countries {
		perCluster[netw.ClusterOf(c)]++
	}
	files := perHub * len(countries)
	for _, c := range perCluster {
		k := c // hubs with routes and gateways
		if netw.GatewayHubs > 0 {
			k = min(c, netw.GatewayHubs)
		}
		files += k*(k-1) + 2*k*(len(perCluster)-1) + 2*(c-k)
	}
	return files
}

// Procs returns how many processes hold hubs that need about need open files, each
// using at most three quarters of limit: a connection between hubs of two processes
// costs one file in each, not two in one, and the last quarter is room for what the
// estimate misses (redials, handshakes, clients of the API). No more processes than
// that: on a machine of two cores, the whole catalogue with leaf hubs in two
// processes started three times slower than in one, the runtimes of the two
// competing for the same cores (docs/benchmarks.md). A limit of 0 or less means
// unknown: one process.
func Procs(need, limit int) int {
	if limit <= 0 {
		return 1
	}
	per := limit * 3 / 4
	return max(1, (need+per-1)/per)
}

// Limit returns the process's limit of open files (Go raises the soft limit to the
// hard one at start), 0 when unknown.
func Limit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return int(min(l.Cur, 1<<30))
}

// Ranges splits n hubs, in their order, over procs processes as evenly as it can: the
// k-th process gets hubs Ranges[k][0] to Ranges[k][1]-1.
func Ranges(n, procs int) [][2]int {
	procs = max(1, min(procs, n))
	out := make([][2]int, procs)
	for k := range procs {
		out[k] = [2]int{k * n / procs, (k + 1) * n / procs}
	}
	return out
}

// PaceCollector lets the heap of a process that runs many hubs grow to five times what
// is live before the garbage collector runs, not twice, unless GOGC says otherwise:
// the default pace, right for one hub's small heap, took a third of the CPU of a
// hundred hubs in one process (docs/benchmarks.md). Unless GOMEMLIMIT says otherwise,
// it also bounds the heap at half the machine's memory shared among procs processes,
// where the collector then works harder: five processes of 91 hubs each, with no
// bound, grew to 4.7 GB each and filled the 23 GB of the machine.
func PaceCollector(procs int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if total := MemTotal(); os.Getenv("GOMEMLIMIT") == "" && total > 0 {
		debug.SetMemoryLimit(total / 2 / int64(max(procs, 1)))
	}
}

// MemTotal returns the machine's memory in bytes, as Linux reports it in
// /proc/meminfo; 0 where it is not known.
func MemTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
