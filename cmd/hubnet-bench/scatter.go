package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/protocol"
)

// scatterSubject is the subject of the bare NATS scatter-gather.
const scatterSubject = "bench.scatter"

// scatterTimeout bounds one scatter-gather, as node.DefaultQueryTimeout bounds a live
// query.
const scatterTimeout = 1500 * time.Millisecond

// scatter is the floor under a live query: a plain NATS client on every hub's server
// but the first answers every message on scatterSubject with a small fixed payload,
// and a client on the first publishes the query with a reply subject and waits for
// every answer. No signing, no matching. Like a hub, the asker takes all answers on
// one wildcard subscription and tells queries apart by the subject. Not safe for
// concurrent use.
type scatter struct {
	conns   []*nats.Conn // responders, then the asker
	asker   *nats.Conn
	inbox   string
	answers chan *nats.Msg // every answer to the asker
	data    []byte         // the query, as JSON
	want    int            // answers to wait for
	seq     int            // numbers the queries
}

// newScatter connects the clients to the servers (the asker to the first) and waits
// until a first scatter hears from every responder, which means their interest has
// travelled the routes.
func newScatter(servers []natsServer, q protocol.Query) (_ *scatter, err error) {
	s := &scatter{inbox: nats.NewInbox(), answers: make(chan *nats.Msg, 4*len(servers)), want: len(servers) - 1}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.data, err = json.Marshal(q); err != nil {
		return nil, err
	}
	connect := func(srv natsServer, name string) (*nats.Conn, error) {
		nc, err := srv.connect(name)
		if err != nil {
			return nil, err
		}
		s.conns = append(s.conns, nc)
		return nc, nil
	}
	answer := []byte(`{"free":3,"unit":"SMEs per month"}`)
	for i, srv := range servers[1:] {
		nc, err := connect(srv, fmt.Sprintf("bench-responder-%02d", i+1))
		if err != nil {
			return nil, err
		}
		if _, err := nc.Subscribe(scatterSubject, func(m *nats.Msg) { m.Respond(answer) }); err != nil {
			return nil, fmt.Errorf("subscribe %s: %w", scatterSubject, err)
		}
		if err := nc.Flush(); err != nil {
			return nil, err
		}
	}
	if s.asker, err = connect(servers[0], "bench-asker"); err != nil {
		return nil, err
	}
	if _, err := s.asker.ChanSubscribe(s.inbox+".*", s.answers); err != nil {
		return nil, fmt.Errorf("subscribe answers: %w", err)
	}
	if err := s.asker.Flush(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, got, err := s.ask()
		if err != nil {
			return nil, err
		}
		if got == s.want {
			return s, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("first scatter: %d of %d answers after 30s: %w", got, s.want, errIncomplete)
		}
	}
}

// ask scatters the query and returns how long it took to hear every answer, and how
// many answers came before scatterTimeout.
func (s *scatter) ask() (time.Duration, int, error) {
	s.seq++
	reply := s.inbox + "." + strconv.Itoa(s.seq)
	timer := time.NewTimer(scatterTimeout)
	defer timer.Stop()
	start := time.Now()
	if err := s.asker.PublishRequest(scatterSubject, reply, s.data); err != nil {
		return 0, 0, fmt.Errorf("publish: %w", err)
	}
	got := 0
	for got < s.want {
		select {
		case m := <-s.answers:
			if m.Subject == reply { // answers to an earlier, timed-out query are dropped
				got++
			}
		case <-timer.C:
			return 0, got, nil
		}
	}
	return time.Since(start), got, nil
}

// close closes every client.
func (s *scatter) close() {
	for _, nc := range s.conns {
		nc.Close()
	}
}
