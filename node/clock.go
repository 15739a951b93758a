package node

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hubnet-eu/hubnet/api"
)

// Clock skew. Every message another hub signs carries the time on its clock when it
// sent it; the gate (inbound.go) hands that time, once the signature holds, to
// observeClock, even for a message it then refuses as outside the ±10 minute window:
// a hub whose clock is wrong has all its messages refused, and these are how it
// learns why. The estimate is the median over the peers heard from in the last hour
// of the difference between this hub's clock and the peer's (the latest message of
// each peer), and of two middle values the one nearer zero, so that one hub with a
// wrong clock does not make the others doubt theirs. Gossip carries no time:
// memberlist's packets have no clock in them.

const (
	// clockWindow is how long a peer's last message counts in the estimate.
	clockWindow = time.Hour
	// maxClockPeers bounds the peers remembered; the oldest go first.
	maxClockPeers = 1024
	// clockWarnEvery is how often the log repeats the warning while it holds.
	clockWarnEvery = 10 * time.Minute
)

// clockSkew holds the latest clock difference seen for each peer. It is safe for
// concurrent use.
type clockSkew struct {
	mu       sync.Mutex           // guards the fields below
	peers    map[string]clockPeer // hub ID -> its latest message
	warned   bool                 // the log said the clock disagrees, and not since that it agrees
	lastWarn time.Time            // when it last said so
	checked  time.Time            // when the estimate was last compared with the threshold
}

type clockPeer struct {
	offset time.Duration // this hub's clock minus the peer's, when its message came
	at     time.Time     // when it came, on the wall clock
}

func newClockSkew() *clockSkew { return &clockSkew{peers: map[string]clockPeer{}} }

// observeClock records that peer, whose signature was verified, sent a message at
// sent on its clock, and warns, at most every clockWarnEvery, when the estimate goes
// past Config.ClockSkewWarn.
func (n *Node) observeClock(peer string, sent time.Time) {
	c := n.clock
	wall := time.Now()
	off := n.cfg.Now().Sub(sent)
	c.mu.Lock()
	if _, ok := c.peers[peer]; !ok && len(c.peers) >= maxClockPeers {
		var oldest string
		for id, p := range c.peers {
			if oldest == "" || p.at.Before(c.peers[oldest].at) {
				oldest = id
			}
		}
		delete(c.peers, oldest)
	}
	c.peers[peer] = clockPeer{offset: off, at: wall}
	if wall.Sub(c.checked) < time.Second {
		c.mu.Unlock()
		return
	}
	c.checked = wall
	est, peers := c.estimate(wall)
	skewed := est > n.cfg.ClockSkewWarn || est < -n.cfg.ClockSkewWarn
	var say, back bool
	switch {
	case skewed && (!c.warned || wall.Sub(c.lastWarn) >= clockWarnEvery):
		c.warned, c.lastWarn, say = true, wall, true
	case !skewed && c.warned:
		c.warned, back = false, true
	}
	c.mu.Unlock()
	if say {
		n.log.Warn("clock disagrees with peers", "offset", est.Round(time.Second).String(), "peers", peers,
			"hint", skewMessage(est, peers))
	}
	if back {
		n.log.Info("clock agrees with peers again", "offset", est.Round(time.Second).String(), "peers", peers)
	}
}

// estimate returns the median clock difference over the peers heard from within
// clockWindow of wall, and how many they are. Callers hold mu.
func (c *clockSkew) estimate(wall time.Time) (time.Duration, int) {
	offs := make([]time.Duration, 0, len(c.peers))
	for id, p := range c.peers {
		if wall.Sub(p.at) > clockWindow {
			delete(c.peers, id)
			continue
		}
		offs = append(offs, p.offset)
	}
	if len(offs) == 0 {
		return 0, 0
	}
	slices.Sort(offs)
	mid := offs[len(offs)/2]
	if len(offs)%2 == 0 {
		if lo := offs[len(offs)/2-1]; lo.Abs() < mid.Abs() {
			mid = lo
		}
	}
	return mid, len(offs)
}

// ClockSkew returns how far the hub's clock is from its peers', estimated from the
// messages they signed in the last hour; ok is false when none came.
func (n *Node) ClockSkew() (api.ClockSkew, bool) {
	c := n.clock
	c.mu.Lock()
	est, peers := c.estimate(time.Now())
	c.mu.Unlock()
	if peers == 0 {
		return api.ClockSkew{}, false
	}
	s := api.ClockSkew{OffsetMS: est.Milliseconds(), Peers: peers,
		Skewed: est > n.cfg.ClockSkewWarn || est < -n.cfg.ClockSkewWarn}
	if s.Skewed {
		s.Message = skewMessage(est, peers)
	}
	return s, true
}

// skewMessage tells the operator what the estimate means and what to do.
func skewMessage(est time.Duration, peers int) string {
	way := "ahead of"
	if est < 0 {
		way = "behind"
	}
	return fmt.Sprintf("this hub's clock is %v %s its peers' (the median over %d hubs heard from in the last hour); "+
		"other hubs refuse messages more than 10 minutes off: set the clock right, with NTP", est.Abs().Round(time.Second), way, peers)
}
