package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/serf"

	"github.com/hubnet-eu/hubnet/protocol"
)

// serfQueryName is the name of the Serf query the agents answer.
const serfQueryName = "capacity"

// serfTimeout bounds one Serf query, as node.DefaultQueryTimeout bounds a live query.
const serfTimeout = 1500 * time.Millisecond

// serfQueries times the same question asked the Serf way: an agent per profile, whose
// tags carry the hub's technology levels and families, and a query from the first
// agent filtered by tags, timed until every matching agent (want of them, the asker
// included when it matches) has answered with its free places.
func serfQueries(profiles []protocol.Profile, q protocol.Query, want, queries int) (latencies, error) {
	var (
		agents []*serf.Serf
		wg     sync.WaitGroup
		done   = make(chan struct{})
	)
	defer func() {
		for _, s := range agents {
			s.Shutdown()
		}
		close(done)
		wg.Wait()
	}()
	for i := range profiles {
		p := &profiles[i]
		events := make(chan serf.Event, 64)
		conf := serf.DefaultConfig()
		conf.NodeName = p.ID
		conf.Tags = serfTags(p)
		conf.EventCh = events
		conf.LogOutput = io.Discard
		conf.MemberlistConfig = serfMemberlistConfig()
		s, err := serf.Create(conf)
		if err != nil {
			return nil, fmt.Errorf("create agent %s: %w", p.ID, err)
		}
		agents = append(agents, s)
		wg.Go(func() { answerSerf(events, done, p) })
		if i > 0 {
			m := agents[0].LocalMember()
			if _, err := s.Join([]string{net.JoinHostPort(m.Addr.String(), strconv.Itoa(int(m.Port)))}, true); err != nil {
				return nil, fmt.Errorf("join %s: %w", p.ID, err)
			}
		}
	}
	err := waitFor(30*time.Second, func() bool {
		for _, s := range agents {
			alive := 0
			for _, m := range s.Members() {
				if m.Status == serf.StatusAlive {
					alive++
				}
			}
			if alive != len(agents) {
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("every agent sees %d members: %w", len(agents), err)
	}

	filter := map[string]string{
		"t:" + q.Technologies[0]: "^[1-5]$",
		"f:" + string(q.Family):  ".",
	}
	payload := []byte(q.Family)
	// one asks and returns how long until want answers came, and how many came before
	// the timeout.
	one := func() (time.Duration, int, error) {
		start := time.Now()
		resp, err := agents[0].Query(serfQueryName, payload, &serf.QueryParam{FilterTags: filter, Timeout: serfTimeout})
		if err != nil {
			return 0, 0, fmt.Errorf("query: %w", err)
		}
		defer resp.Close()
		got := 0
		for range resp.ResponseCh() { // closed at the timeout
			if got++; got == want {
				return time.Since(start), got, nil
			}
		}
		return 0, got, nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, got, err := one()
		if err != nil {
			return nil, err
		}
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("first query: %d of %d answers after 30s: %w", got, want, errIncomplete)
		}
	}
	for range serfWarmup {
		if _, _, err := one(); err != nil {
			return nil, err
		}
	}
	var d latencies
	failures := 0
	for range queries {
		took, got, err := one()
		if err != nil {
			return nil, err
		}
		if got < want {
			failures++
			continue
		}
		d = append(d, took)
	}
	if failures > 0 {
		return nil, fmt.Errorf("%d of %d queries: %w", failures, queries, errIncomplete)
	}
	return d, nil
}

// serfTags expresses what the query filters on: a tag per technology, its level, and
// a tag per family the hub offers, its free places ("?" when it publishes none). A
// family is offered through its capacity or through a service of the family, as
// protocol.Matcher counts it.
func serfTags(p *protocol.Profile) map[string]string {
	tags := map[string]string{}
	for slug, level := range p.Technologies {
		tags["t:"+slug] = strconv.Itoa(level)
	}
	for _, s := range protocol.Services {
		if p.Services[s.Slug] > 0 {
			tags["f:"+string(s.Family)] = "?"
		}
	}
	for f, c := range p.Capacity {
		tags["f:"+string(f)] = strconv.Itoa(c.Free())
	}
	return tags
}

// answerSerf answers the agent's queries with the hub's free places in the family
// asked for, until done is closed. It drains every other event.
func answerSerf(events <-chan serf.Event, done <-chan struct{}, p *protocol.Profile) {
	for {
		select {
		case <-done:
			return
		case e := <-events:
			if q, ok := e.(*serf.Query); ok && q.Name == serfQueryName {
				c := p.Capacity[protocol.Family(q.Payload)]
				q.Respond([]byte(`{"free":` + strconv.Itoa(c.Free()) + `}`))
			}
		}
	}
}

// serfMemberlistConfig is hubnet's "local" gossip preset (node/membership.go), so
// that Serf gossips its queries as often as hubnet's test hubs gossip membership, on
// 127.0.0.1 with a free port and no logs.
func serfMemberlistConfig() *memberlist.Config {
	c := memberlist.DefaultLANConfig()
	c.ProbeInterval = 300 * time.Millisecond
	c.ProbeTimeout = 250 * time.Millisecond
	c.GossipInterval = 50 * time.Millisecond
	c.PushPullInterval = 5 * time.Second
	c.GossipToTheDeadTime = 5 * time.Second
	c.RetransmitMult = 6
	c.BindAddr, c.BindPort = "127.0.0.1", 0
	c.LogOutput = io.Discard
	return c
}
