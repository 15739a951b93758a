package node

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Notifications. Each referral change and directory update writes an event to the
// store's change feed, and queues its deliveries (e-mails, webhook calls), in the
// same transaction as the change (store/events.go, store/notify.go). The notifier
// sends them after, from that durable outbox, so that a slow mail server or webhook
// never holds a referral up and a restart loses none: a delivery that fails is tried
// again with exponential backoff (NotifyConfig.RetryMin doubling to RetryMax) until
// it succeeds or runs out of NotifyConfig.Attempts, and each ends in the delivery
// log, which the operator reads and may send again.
//
// A delivery succeeds once: it is removed from the outbox when the server has taken
// it. A crash between the two sends it again, with the same delivery ID, which a
// webhook receiver uses to drop the copy.
//
// The notifier also writes the event referral.due-soon for each referral whose
// deadline is within 24 hours, at most every NotifyConfig.CheckEvery, on the pass
// of the referral engine that enforces deadlines: that pass reads the open
// referrals already, and a second read of them all would cost as much again
// (referral_deadline.go). It prunes the feed and the log past NotifyConfig.Keep.

// dueSoonWithin is how near a deadline is when referral.due-soon is written.
const dueSoonWithin = 24 * time.Hour

// notifyBatch bounds the deliveries read from the outbox at a time.
const notifyBatch = 64

// pruneBatch bounds the events and log entries deleted in one transaction.
const pruneBatch = 1000

// notifier sends the notifications of the node's events.
type notifier struct {
	n    *Node
	cfg  NotifyConfig
	http *http.Client
	mail *mailer // nil without an SMTP server
	// links are the e-mail addresses sign-in links were asked for, waiting for
	// runLinks (people_mail.go).
	links chan string
	sent  *prometheus.CounterVec

	dueChecked time.Time // wall time of the last look for deadlines; only dueSoon's caller uses it
}

func newNotifier(n *Node) *notifier {
	q := &notifier{n: n, cfg: n.cfg.Notify, links: make(chan string, linkMailQueue),
		http: &http.Client{Timeout: n.cfg.Notify.Timeout,
			// Connections kept open for the workers: a batch calls the same webhooks.
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: n.cfg.Notify.Workers,
				IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: n.cfg.Notify.Timeout, ForceAttemptHTTP2: true},
			// A webhook that redirects is answered as a failure, not followed: the
			// operator registered the address the events go to.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if n.cfg.Notify.SMTP.Host != "" {
		q.mail = &mailer{cfg: n.cfg.Notify.SMTP, timeout: n.cfg.Notify.Timeout}
	}
	n.store.SetMail(q.mail != nil)
	q.sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hubnet_notifications_total",
		Help: "Attempts to send a notification, by channel (email, webhook) and outcome (delivered, pending: to be tried again, failed: given up).",
	}, []string{"channel", "status"})
	n.metrics.reg.MustRegister(q.sent)
	return q
}

// run sends due deliveries and prunes until the node stops; deadlines are noted on
// the referral engine's deadline pass (dueSoon).
func (q *notifier) run() {
	ctx := q.n.ctx
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	q.prune()
	for {
		changed := q.n.store.EventsChanged()
		next := q.sendDue(ctx)
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-changed:
			// Wait a little, so that the notifications of a burst of changes go
			// out together, and never compete with the changes themselves.
			select {
			case <-ctx.Done():
				return
			case <-time.After(q.cfg.Delay):
			}
		case <-timer.C:
		case <-prune.C:
			q.prune()
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// sendDue sends the deliveries due now, a batch at a time, and returns when the next
// is due (zero if none is waiting).
func (q *notifier) sendDue(ctx context.Context) time.Time {
	for range 100 { // bounded: at most 6,400 deliveries before the loop looks up
		due, next, err := q.n.store.NotifyDue(q.n.cfg.Now(), notifyBatch)
		if err != nil {
			q.n.log.Error("read notification outbox", "err", err)
			return q.n.cfg.Now().Add(q.cfg.RetryMin)
		}
		if len(due) == 0 || ctx.Err() != nil {
			return next
		}
		// The outcomes of a batch are written in one transaction: one write to the
		// disk, not one per notification.
		if err := q.n.store.NotifyAttempts(q.sendBatch(ctx, due)); err != nil {
			q.n.log.Error("record notifications", "err", err)
			return q.n.cfg.Now().Add(q.cfg.RetryMin)
		}
		// The next read says when the next is due, the retries of this batch
		// included: next, read before them, does not know them.
	}
	return q.n.cfg.Now()
}

// sendBatch makes one attempt at each delivery of due: the webhook calls
// NotifyConfig.Workers at a time, the e-mails one after the other in one SMTP
// session. It returns the outcomes to record; an attempt cut short because the node
// is stopping is not one.
func (q *notifier) sendBatch(ctx context.Context, due []store.Delivery) []store.Attempt {
	// The events of the batch, read once: an event has a delivery per webhook and
	// per address.
	events := q.events(due)
	errs := make([]error, len(due))
	status := make([]int, len(due))
	var (
		mails []int
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, q.cfg.Workers)
	for i, d := range due {
		switch d.Channel {
		case store.ChannelWebhook:
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				status[i], errs[i] = q.callWebhook(ctx, d, events)
			})
		case store.ChannelEmail:
			mails = append(mails, i)
		default:
			errs[i] = errGiveUp{fmt.Errorf("unknown channel %q", d.Channel)}
		}
	}
	if len(mails) > 0 {
		wg.Go(func() {
			batch := make([]store.Delivery, len(mails))
			for k, i := range mails {
				batch[k] = due[i]
			}
			for k, err := range q.sendMails(ctx, batch, events) {
				errs[mails[k]] = err
			}
		})
	}
	wg.Wait()
	out := make([]store.Attempt, 0, len(due))
	for i, d := range due {
		if errs[i] != nil && ctx.Err() != nil && errors.Is(errs[i], context.Canceled) {
			continue // stopped mid-way: not the receiver's failure; the next start tries again
		}
		out = append(out, q.outcome(d, status[i], errs[i]))
	}
	return out
}

// outcome is the attempt at d that ended with err and, for a webhook, the HTTP
// status.
func (q *notifier) outcome(d store.Delivery, httpStatus int, err error) store.Attempt {
	a := store.Attempt{ID: d.ID, Status: store.DeliveryDelivered, HTTPStatus: httpStatus}
	if err != nil {
		a.Error = err.Error()
		var gu errGiveUp
		if errors.As(err, &gu) || d.Attempts+1 >= q.cfg.Attempts {
			a.Status = store.DeliveryFailed
		} else {
			a.Status, a.Due = store.DeliveryPending, q.n.cfg.Now().Add(retryWait(q.cfg.RetryMin, q.cfg.RetryMax, d.Attempts))
		}
		q.n.log.Warn("notification failed", "delivery", d.ID, "channel", d.Channel, "target", d.Target,
			"attempt", d.Attempts+1, "err", err)
	}
	q.sent.WithLabelValues(d.Channel, a.Status).Inc()
	return a
}

// errGiveUp is a failure that another attempt cannot mend: the delivery ends failed.
type errGiveUp struct{ error }

func (e errGiveUp) Unwrap() error { return e.error }

// retryWait is the wait after the failed attempt number attempts+1: lo doubled per
// earlier attempt, at most hi.
func retryWait(lo, hi time.Duration, attempts int) time.Duration {
	d := lo
	for range min(attempts, 30) {
		d *= 2
		if d >= hi {
			return hi
		}
	}
	return d
}

// apiEvent is ev as the feed and the webhooks show it.
func (n *Node) apiEvent(ev store.Event) api.Event {
	out := api.Event{Version: api.EventVersion, Seq: ev.Seq, Type: ev.Type, At: ev.At, Source: n.id.ID}
	if r := ev.Referral; r != nil {
		out.Referral = &api.EventReferral{ID: r.ID, Role: string(r.Role), Partner: r.Partner, State: string(r.State),
			Previous: string(r.Previous), Family: r.Family, Created: r.Created, Due: r.Due, By: r.By, Person: r.Person,
			URL: n.PublicURL() + "/referrals/" + r.ID}
	}
	if h := ev.Hub; h != nil {
		out.Hub = &api.EventHub{ID: h.ID, Name: h.Name, Revision: h.Revision}
	}
	return out
}

// events reads the events of the deliveries ds; one that is gone (pruned) is left
// out.
func (q *notifier) events(ds []store.Delivery) map[uint64]store.Event {
	out := map[uint64]store.Event{}
	for _, d := range ds {
		if _, ok := out[d.Event]; ok {
			continue
		}
		if ev, err := q.n.store.Event(d.Event); err == nil {
			out[d.Event] = ev
		}
	}
	return out
}

// callWebhook posts d's event, from events, to its webhook, signed, and returns the
// HTTP status.
func (q *notifier) callWebhook(ctx context.Context, d store.Delivery, events map[uint64]store.Event) (int, error) {
	w, err := q.n.store.Webhook(d.Target)
	if err != nil {
		return 0, errGiveUp{fmt.Errorf("webhook %s: %w", d.Target, err)}
	}
	ev, ok := events[d.Event]
	if !ok {
		return 0, errGiveUp{fmt.Errorf("event %d: %w", d.Event, store.ErrNotFound)}
	}
	body, err := json.Marshal(q.n.apiEvent(ev))
	if err != nil {
		return 0, errGiveUp{fmt.Errorf("encode event: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, q.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errGiveUp{fmt.Errorf("webhook URL: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hubnet-webhook/1")
	req.Header.Set(api.HeaderDelivery, d.ID)
	req.Header.Set(api.HeaderEvent, ev.Type)
	req.Header.Set(api.HeaderSignature, Sign(w.Secret, q.n.cfg.Now(), body))
	resp, err := q.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("call webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Sign returns the value of the Hubnet-Signature header of a webhook call with body
// made at time at: "t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by
// secret>".
func Sign(secret string, at time.Time, body []byte) string {
	t := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t))
	m.Write([]byte{'.'})
	m.Write(body)
	return "t=" + t + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// dueSoon writes referral.due-soon for the referrals of open, read at now by the
// referral engine's deadline pass, whose next step is due within 24 hours and has
// not passed. The pass runs more often than NotifyConfig.CheckEvery; dueSoon looks
// at most that often. Only the referral engine's goroutine calls it.
func (q *notifier) dueSoon(open []store.ReferralRecord, now time.Time) {
	wall := time.Now()
	if !q.dueChecked.IsZero() && wall.Sub(q.dueChecked) < q.cfg.CheckEvery {
		return
	}
	q.dueChecked = wall
	for _, rec := range open {
		due := store.DueOf(rec.Referral)
		if due.IsZero() || due.Before(now) || due.Sub(now) > dueSoonWithin {
			continue
		}
		// The referring hub does not nag about a receipt: that is the nodes' business.
		if rec.Referral.State == protocol.StateRequested {
			continue
		}
		if _, err := q.n.store.NoteDueSoon(rec.Referral.ID, due); err != nil {
			q.n.log.Error("note deadline", "referral", rec.Referral.ID, "err", err)
		}
	}
}

// prune deletes events and ended deliveries older than NotifyConfig.Keep.
func (q *notifier) prune() {
	before := q.n.cfg.Now().Add(-q.cfg.Keep)
	if n, err := q.n.store.PruneEvents(before, pruneBatch); err != nil {
		q.n.log.Error("prune events", "err", err)
	} else if n > 0 {
		q.n.log.Info("events pruned", "events", n)
	}
	if _, err := q.n.store.PruneDeliveries(before, pruneBatch); err != nil {
		q.n.log.Error("prune delivery log", "err", err)
	}
}
