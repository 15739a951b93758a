package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/protocol"
)

// mailbox is the one subscription of everything addressed to this hub:
// protocol.HubSubjects, hubnet.v1.hub.<id>.>.
//
// Every subscription is interest that NATS carries to every server of the network:
// a gateway hub holds that of every other cluster, and a leaf hub's server is handed
// the interest of the whole network by its gateway hub. One subscription per hub,
// where there were seven (one per kind of message, one for replies and one for
// answers), is what every server holds for it (docs/architecture.md, Scaling).
//
// The mailbox sorts messages by the token after the hub's ID. Replies to this hub's
// requests and answers to its live queries are handed over at once; each other kind
// goes to a lane of its own, handled in order on a goroutine while the lane has work,
// as a subscription of its own did.
type mailbox struct {
	prefix   string                         // hubnet.v1.hub.<id>.
	run      string                         // in reply tokens, so that a reply to another run matches none
	lanes    map[string]*lane               // by kind
	onAnswer func(*nats.Msg)                // answers to live queries
	drop     func(reason string, err error) // counts a message dropped
	nc       *nats.Conn                     // set by subscribe; requests go out on it

	next    atomic.Uint64
	mu      sync.Mutex
	waiting map[string]chan *nats.Msg // reply token -> the request waiting for it
}

// Bounds of a lane's backlog, as nats.go bounds a subscription's pending messages.
const (
	laneMaxMsgs  = 65536
	laneMaxBytes = 64 << 20
)

// newMailbox returns the mailbox of hub id. handlers maps a kind (protocol.KindProfile,
// ...) to its handler.
func newMailbox(id string, handlers map[string]nats.MsgHandler, onAnswer func(*nats.Msg), drop func(reason string, err error)) *mailbox {
	inbox := nats.NewInbox()
	run := inbox[strings.LastIndexByte(inbox, '.')+1:]
	mb := &mailbox{prefix: protocol.HubPrefix(id), run: run, lanes: map[string]*lane{},
		onAnswer: onAnswer, drop: drop, waiting: map[string]chan *nats.Msg{}}
	for kind, h := range handlers {
		mb.lanes[kind] = &lane{handle: h}
	}
	return mb
}

// subscribe makes the mailbox's subscription on nc, which its requests then use.
func (mb *mailbox) subscribe(nc *nats.Conn) error {
	if _, err := nc.Subscribe(mb.prefix+">", mb.deliver); err != nil {
		return fmt.Errorf("subscribe %s>: %w", mb.prefix, err)
	}
	mb.nc = nc
	return nil
}

// deliver sorts one message. It never blocks: the subscription carries replies, which
// the handlers of the lanes may be waiting for.
func (mb *mailbox) deliver(m *nats.Msg) {
	kind, rest, _ := strings.Cut(m.Subject[len(mb.prefix):], ".")
	switch kind {
	case protocol.KindReply:
		mb.mu.Lock()
		ch := mb.waiting[rest]
		delete(mb.waiting, rest)
		mb.mu.Unlock()
		if ch != nil {
			ch <- m // buffered for one, and only one reply is taken
		}
	case protocol.KindAnswer:
		mb.onAnswer(m)
	default:
		l := mb.lanes[kind]
		if l == nil {
			mb.drop("unknown-subject", fmt.Errorf("no such kind of message: %q", m.Subject))
			return
		}
		if err := l.push(m); err != nil {
			mb.drop("backlog-"+kind, err)
		}
	}
}

// request sends data to subject with a reply subject of this hub's and waits for the
// reply until ctx ends. Like nats.go's request, it returns nats.ErrNoResponders when
// NATS knows no subscriber of subject.
func (mb *mailbox) request(ctx context.Context, subject string, data []byte) (*nats.Msg, error) {
	token := mb.run + strconv.FormatUint(mb.next.Add(1), 36)
	ch := make(chan *nats.Msg, 1)
	mb.mu.Lock()
	mb.waiting[token] = ch
	mb.mu.Unlock()
	defer func() {
		mb.mu.Lock()
		delete(mb.waiting, token)
		mb.mu.Unlock()
	}()
	if err := mb.nc.PublishMsg(&nats.Msg{Subject: subject, Reply: mb.prefix + protocol.KindReply + "." + token, Data: data}); err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
			return nil, nats.ErrNoResponders
		}
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// answerSubject is where the hub to answers live query id of this hub.
func (mb *mailbox) answerSubject(id, to string) string {
	return mb.prefix + protocol.KindAnswer + "." + id + "." + to
}

// answerOf returns the live query and the hub an answer's subject names.
func (mb *mailbox) answerOf(subject string) (id, from string) {
	rest := subject[len(mb.prefix)+len(protocol.KindAnswer)+1:]
	id, from, _ = strings.Cut(rest, ".")
	return id, from
}

// close drops what waits in the lanes: the node is stopping, and the senders try
// again. A handler that runs finishes.
func (mb *mailbox) close() {
	for _, l := range mb.lanes {
		l.mu.Lock()
		l.closed, l.queue, l.bytes = true, nil, 0
		l.mu.Unlock()
	}
}

// lane holds the messages of one kind until its handler takes them, one at a time.
type lane struct {
	handle  nats.MsgHandler
	mu      sync.Mutex
	queue   []*nats.Msg
	bytes   int
	running bool // a goroutine takes from the queue
	closed  bool
}

// push queues m, and starts a goroutine to take it when none runs.
func (l *lane) push(m *nats.Msg) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return nil
	case len(l.queue) >= laneMaxMsgs || l.bytes+len(m.Data) > laneMaxBytes:
		return fmt.Errorf("%d messages (%d bytes) wait already", len(l.queue), l.bytes)
	}
	l.queue = append(l.queue, m)
	l.bytes += len(m.Data)
	if !l.running {
		l.running = true
		go l.work()
	}
	return nil
}

// work hands the queued messages to the handler in order until none is left.
func (l *lane) work() {
	for {
		l.mu.Lock()
		if len(l.queue) == 0 || l.closed {
			l.running = false
			l.mu.Unlock()
			return
		}
		m := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.bytes -= len(m.Data)
		l.mu.Unlock()
		l.handle(m)
	}
}
