package node

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// The referral engine. A change a person makes (send, accept, ...) is applied to the
// local record and written with its outgoing message in one store transaction; the
// dispatcher then delivers the message until the other hub acknowledges it. A hub
// that receives a message applies it and records its ID in the same transaction
// before it acknowledges, so a message sent again is acknowledged again and not
// applied twice. The referring hub owns the deadlines.
//
// This file holds the engine and its loop; referral_send.go sends (Refer and the
// dispatcher), referral_receive.go applies what comes in (messages and the
// acknowledgements of this hub's own), referral_deadline.go expires,
// referral_retention.go cancels at the consent's end and purges the SME's identity,
// referral_revoked.go ends the referrals with a hub the steward revoked, referral_act.go
// and referral_read.go are the operator's actions and reads, report.go the KPI report,
// and referral_api.go the HTTP routes.

// maxInflight bounds the referral messages being delivered, and those being
// applied, at one time.
const maxInflight = 64

// referrals is the node's referral engine.
type referrals struct {
	n        *Node
	wakeCh   chan struct{}        // buffered 1: the outbox has something new
	receive  chan struct{}        // semaphore of messages being applied
	handlers sync.WaitGroup       // received messages being applied
	closing  bool                 // no more messages are taken; guarded by mu
	inflight map[string]bool      // outbox entries being sent
	finished map[string]time.Time // entries whose attempt ended, and when: see dispatch
	held     map[string]time.Time // entries not to send before then: their outcome could not be stored
	revoked  map[string]bool      // hubs revoked whose referrals are to end: see endRevoked
	mu       sync.Mutex           // guards closing, inflight, finished, held and revoked

	// retainAfter is the last referral the previous round of retain read; only the
	// loop in run uses it.
	retainAfter string
}

func newReferrals(n *Node) *referrals {
	return &referrals{n: n, wakeCh: make(chan struct{}, 1), receive: make(chan struct{}, maxInflight),
		inflight: map[string]bool{}, finished: map[string]time.Time{}, held: map[string]time.Time{},
		revoked: map[string]bool{}}
}

// close stops taking referral messages and waits for those being applied.
func (e *referrals) close() {
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	e.handlers.Wait()
}

func (e *referrals) wake() {
	select {
	case e.wakeCh <- struct{}{}:
	default:
	}
}

// onDelivery takes a referral message addressed to this hub, from its lane of the
// mailbox, and applies it on a goroutine of its own.
func (e *referrals) onDelivery(m *nats.Msg) {
	e.receive <- struct{}{} // blocks the lane when maxInflight are being applied
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		<-e.receive
		return // the node is stopping: the sender tries again later
	}
	e.handlers.Add(1)
	e.mu.Unlock()
	go func() {
		defer func() { <-e.receive; e.handlers.Done() }()
		e.onMessage(m)
	}()
}

// run delivers due outbox entries and enforces deadlines until the node stops.
func (e *referrals) run() {
	// Deadlines are checked a few times within the grace the referring hub gives a
	// decision on its way.
	tick := time.NewTicker(min(max(e.n.cfg.DecisionGrace/2, 100*time.Millisecond), 10*time.Second))
	defer tick.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-e.n.ctx.Done():
			return
		case <-e.wakeCh:
		case <-timer.C:
		case <-tick.C:
			e.deadlines()
		case <-prune.C:
			if n, err := e.n.store.PruneInbox(e.n.cfg.Now().Add(-inboxKeep)); err != nil {
				e.n.log.Error("prune inbox", "err", err)
			} else if n > 0 {
				e.n.log.Info("inbox pruned", "messages", n)
			}
		}
		e.endRevoked() // before the dispatcher reads the outbox, so it sends nothing to a revoked hub
		next := e.dispatch()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(time.Until(next), 10*time.Millisecond))
	}
}
