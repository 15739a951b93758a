package node

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// Deadlines of a live query.
const (
	DefaultQueryTimeout = 1500 * time.Millisecond
	MaxQueryTimeout     = 10 * time.Second
)

// queries routes answers to the live queries waiting for them. Answers come to the
// hub's mailbox, as answer.<query ID>.<hub ID>, rather than to a subscription per
// query, so a query costs no subscription round trip across the network; the hub ID
// in the subject tells whose subject had no responder when NATS says so.
type queries struct {
	mu      sync.Mutex
	waiting map[string]chan *nats.Msg // query ID -> its answers
}

func newQueries() *queries {
	return &queries{waiting: map[string]chan *nats.Msg{}}
}

// subscribeQueries answers the live queries to every hub, for hubs that ask the
// whole network; those to this hub alone come to its mailbox, as do answers.
func (n *Node) subscribeQueries() error {
	if _, err := n.bus.nc.Subscribe(protocol.SubjectQuery, n.onQuery); err != nil {
		return fmt.Errorf("subscribe live queries: %w", err)
	}
	return nil
}

// onAnswer hands an answer to the query waiting for it; an answer after the deadline
// finds none and is counted late.
func (n *Node) onAnswer(m *nats.Msg) {
	id, _ := n.mail.answerOf(m.Subject)
	n.queries.mu.Lock()
	ch := n.queries.waiting[id]
	n.queries.mu.Unlock()
	select {
	case ch <- m: // a nil channel never receives: the query is over
	default:
		n.metrics.answers.WithLabelValues("late").Inc()
	}
}

// Query asks the reachable hubs that can match q for their capacity now and their own
// evaluation of q, waits until all have answered or the timeout (0 for
// DefaultQueryTimeout) passes, and ranks the directory with the answers' capacity in
// place of the cached one. A hub that does not answer is named in the result and
// ranked from the cache.
//
// The hubs asked are those whose cached profile matches q but for the capacity, which
// is what the answers bring: at most Config.LiveQueryHubs, the best ranked first. The
// others that can match are named, not asked; hubs that cannot match are neither.
func (n *Node) Query(ctx context.Context, q protocol.Query, timeout time.Duration) (api.SearchResult, error) {
	m, err := protocol.NewMatcher(q)
	if err != nil {
		return api.SearchResult{}, err
	}
	switch {
	case timeout == 0:
		timeout = DefaultQueryTimeout
	case timeout < 0 || timeout > MaxQueryTimeout:
		return api.SearchResult{}, &protocol.ValidationError{What: "live query", Problems: []protocol.FieldError{
			{Field: "timeout_ms", Rule: fmt.Sprintf("must be 1 to %d", MaxQueryTimeout.Milliseconds())}}}
	}
	start := time.Now()
	info := &api.LiveInfo{TimeoutMS: timeout.Milliseconds(), Asked: []string{}, Answered: []string{}, Late: []string{},
		Failed: []string{}, Unreachable: []string{}, NotAsked: []string{}}
	// A hub can match if its cached profile does with any capacity: its capacity now
	// is what it answers.
	anyCap := m.Query()
	anyCap.MinCapacity = 0
	sel, err := protocol.NewMatcher(anyCap)
	if err != nil {
		return api.SearchResult{}, err
	}
	keys := map[string][]byte{}
	var can []protocol.Ranked
	for _, p := range n.dir.snapshot() {
		c, ok := n.index.get(p.ID)
		if !ok || p.ID == n.id.ID {
			continue
		}
		r, ok := sel.Rank(c)
		switch {
		case !ok:
		case p.Member && p.SignKey != nil:
			keys[p.ID] = p.SignKey
			can = append(can, r)
		default:
			info.Unreachable = append(info.Unreachable, p.ID)
		}
	}
	slices.SortFunc(can, protocol.CompareRanked)
	for i, r := range can {
		id := r.Candidate.Profile.ID
		if i < n.cfg.LiveQueryHubs {
			info.Asked = append(info.Asked, id)
		} else {
			info.NotAsked = append(info.NotAsked, id)
			delete(keys, id)
		}
	}
	slices.Sort(info.Asked)
	slices.Sort(info.NotAsked)

	env, err := protocol.Sign(n.id, protocol.TypeQuery, "", m.Query(), n.cfg.Now())
	if err != nil {
		return api.SearchResult{}, err
	}
	data, err := env.Marshal()
	if err != nil {
		return api.SearchResult{}, err
	}
	answers := map[string]protocol.QueryAnswer{}
	if len(keys) > 0 {
		ch := make(chan *nats.Msg, len(keys)+8)
		n.queries.mu.Lock()
		n.queries.waiting[env.ID] = ch
		n.queries.mu.Unlock()
		defer func() {
			n.queries.mu.Lock()
			delete(n.queries.waiting, env.ID)
			n.queries.mu.Unlock()
		}()
		for _, id := range info.Asked {
			msg := &nats.Msg{Subject: protocol.QuerySubject(id), Reply: n.mail.answerSubject(env.ID, id), Data: data}
			if err := n.bus.nc.PublishMsg(msg); err != nil {
				return api.SearchResult{}, fmt.Errorf("send live query to %s: %w", id, err)
			}
		}
		// Checking a signature takes longer than an answer takes to arrive, so the
		// answers are opened by a worker per CPU while this loop tallies them.
		opened := make(chan openedAnswer, len(keys)+8)
		done := make(chan struct{})
		var workers sync.WaitGroup
		defer func() {
			close(done)
			workers.Wait()
		}()
		for range min(runtime.GOMAXPROCS(0), len(keys)) {
			workers.Go(func() {
				for {
					select {
					case <-done:
						return
					case msg := <-ch:
						var (
							from string
							a    protocol.QueryAnswer
							err  error
						)
						if msg.Header.Get("Status") == "503" {
							// NATS knows no subscriber of the hub's subject: it is gone.
							_, from = n.mail.answerOf(msg.Subject)
							err = errNoResponder
						} else {
							from, a, err = n.openAnswer(msg.Data, env.ID, keys)
						}
						select {
						case opened <- openedAnswer{from, a, err}:
						case <-done:
							return
						}
					}
				}
			})
		}
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		gone := map[string]bool{}
	collect:
		for len(answers)+len(info.Failed)+len(gone) < len(keys) {
			select {
			case <-ctx.Done():
				return api.SearchResult{}, ctx.Err()
			case <-timer.C:
				break collect
			case o := <-opened:
				if _, dup := answers[o.from]; o.from == "" || dup || gone[o.from] || slices.Contains(info.Failed, o.from) {
					continue
				}
				if errors.Is(o.err, errNoResponder) {
					if _, asked := keys[o.from]; asked {
						gone[o.from] = true
						info.Unreachable = append(info.Unreachable, o.from)
					}
					continue
				}
				if o.err != nil {
					info.Failed = append(info.Failed, o.from)
				} else {
					answers[o.from] = o.answer
				}
			}
		}
	}

	live := make(map[string]*protocol.Candidate, len(answers))
	for id, a := range answers {
		n.metrics.answers.WithLabelValues("received").Inc()
		info.Answered = append(info.Answered, id)
		n.dir.noteRevision(id, a.Revision)
		if c, ok := n.index.get(id); ok {
			live[id] = c.WithCapacity(a.Capacity)
		}
	}
	for _, id := range info.Asked {
		if _, ok := answers[id]; !ok && !slices.Contains(info.Failed, id) && !slices.Contains(info.Unreachable, id) {
			info.Late = append(info.Late, id)
		}
	}
	slices.Sort(info.Answered)
	slices.Sort(info.Failed)
	slices.Sort(info.Unreachable)

	top, total := n.rank(m, live)
	res := api.SearchResult{Query: m.Query(), Total: total, Hits: make([]api.Hit, len(top)), Live: info}
	free := make([]int, len(top))
	for i, r := range top {
		h := n.hit(m, r, i+1, &free[i])
		if a, ok := answers[h.ID]; ok {
			h.Answered = true
			if a.Match {
				score := a.Score
				h.HubScore = &score
			}
		}
		res.Hits[i] = h
	}
	took := time.Since(start)
	info.TookMS = float64(took.Microseconds()) / 1000
	n.metrics.searches.WithLabelValues("live").Inc()
	n.metrics.liveTime.Observe(took.Seconds())
	return res, nil
}

// errNoResponder is the outcome of asking a hub whose subject NATS knows no subscriber of.
var errNoResponder = errors.New("no responder")

// openedAnswer is an answer to a live query after openAnswer: its sender ("" when it
// cannot be told), and the answer or why it was refused.
type openedAnswer struct {
	from   string
	answer protocol.QueryAnswer
	err    error
}

// openAnswer checks an answer to query qid: from a hub that was asked, through the
// gate, then well formed. It returns the sender ("" when it cannot be told) and the
// answer, or the error the sender answered with.
func (n *Node) openAnswer(data []byte, qid string, asked map[string][]byte) (string, protocol.QueryAnswer, error) {
	env, _, err := n.admit(data, inbound{asked: asked, maxAge: map[string]time.Duration{protocol.TypeError: protocol.MaxQueryAge}})
	if err != nil {
		return "", protocol.QueryAnswer{}, err
	}
	if env.Type == protocol.TypeError {
		err := env.Decode(nil)
		n.log.Warn("live query refused", "peer", env.From, "err", err)
		return env.From, protocol.QueryAnswer{}, err
	}
	var a protocol.QueryAnswer
	if env.Type != protocol.TypeQueryAnswer {
		err = fmt.Errorf("%s in answer to a query: %w", env.Type, protocol.ErrInvalid)
	} else if err = env.Decode(&a); err == nil {
		err = a.Validate()
	}
	if err == nil && a.Query != qid {
		err = fmt.Errorf("answer to query %s, not %s: %w", a.Query, qid, protocol.ErrInvalid)
	}
	if err != nil {
		n.drop(env.From, "malformed", err)
		return "", protocol.QueryAnswer{}, err
	}
	return env.From, a, nil
}

// onQuery answers another hub's live query with this hub's capacity now and its own
// evaluation of the query, signed and addressed to the asker.
func (n *Node) onQuery(msg *nats.Msg) {
	env, _, err := n.admit(msg.Data, inbound{toAll: true, once: true, maxAge: map[string]time.Duration{protocol.TypeQuery: protocol.MaxQueryAge}})
	if err != nil {
		return
	}
	if env.Type != protocol.TypeQuery || msg.Reply == "" {
		n.drop(env.From, "malformed", fmt.Errorf("%s without a reply subject on the query subject", env.Type))
		return
	}
	now := n.cfg.Now()
	var q protocol.Query
	err = env.Decode(&q)
	var m *protocol.Matcher
	if err == nil {
		m, err = protocol.NewMatcher(q)
	}
	self := n.selfCand.Load()
	if err == nil && self == nil {
		err = fmt.Errorf("hub %s has no profile yet: %w", n.id.ID, protocol.ErrNotFound)
	}
	if err != nil {
		n.replyError(msg, env.From, err)
		return
	}
	a := protocol.QueryAnswer{V: protocol.Version, Query: env.ID, Revision: self.Profile.Revision, Capacity: self.Profile.Capacity}
	if score, ok := m.Score(self); ok {
		a.Match, a.Score, a.Reasons = true, score, m.Explain(self)
	}
	ans, err := protocol.Sign(n.id, protocol.TypeQueryAnswer, env.From, a, now)
	if err != nil {
		n.log.Error("sign query answer", "err", err)
		return
	}
	b, err := n.sealed(ans) // for the asker's eyes only
	if err != nil {
		n.log.Debug("seal query answer", "peer", env.From, "err", err)
		return
	}
	if err := msg.Respond(b); err == nil {
		n.metrics.answers.WithLabelValues("sent").Inc()
	}
}
