package node

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Limits of GET /v1/events.
const (
	// DefaultEventsLimit and MaxEventsLimit are the default and the most events one
	// answer holds.
	DefaultEventsLimit = 100
	MaxEventsLimit     = 1000
	// MaxEventsWait is the longest a request waits for an event.
	MaxEventsWait = 60 * time.Second
)

// notifyRoutes adds the endpoints of the change feed, webhooks and notifications.
func (n *Node) notifyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/events", n.need(api.ScopeRead, func(w http.ResponseWriter, r *http.Request) {
		after, limit, wait, err := eventsQuery(r)
		if err != nil {
			reply(w, nil, err)
			return
		}
		evs, err := n.Events(r.Context(), after, limit, wait)
		reply(w, evs, err)
	}))
	mux.HandleFunc("GET /v1/webhooks", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		list, err := n.Webhooks()
		reply(w, list, err)
	}))
	mux.HandleFunc("POST /v1/webhooks", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		var req api.WebhookRequest
		if err := decodeBody(w, r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		nw, err := n.AddWebhook(req)
		if err == nil {
			w.Header().Set("Content-Type", "application/json") // goes out with the status
			w.WriteHeader(http.StatusCreated)
		}
		reply(w, nw, err)
	}))
	mux.HandleFunc("DELETE /v1/webhooks/{id}", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		wh, err := n.RemoveWebhook(r.PathValue("id"))
		reply(w, wh, err)
	}))
	mux.HandleFunc("GET /v1/deliveries", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		q, err := queryOf(r)
		if err != nil {
			reply(w, nil, err)
			return
		}
		limit := 100
		if s := q.Get("limit"); s != "" {
			if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > MaxEventsLimit {
				reply(w, nil, fieldError("query string", "limit", "must be a whole number from 1 to 1000"))
				return
			}
		}
		list, err := n.Deliveries(q.Get("target"), limit)
		reply(w, list, err)
	}))
	mux.HandleFunc("POST /v1/deliveries/{id}/redeliver", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		d, err := n.Redeliver(r.PathValue("id"))
		reply(w, d, err)
	}))
	mux.HandleFunc("GET /v1/notifications/recipients", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		list, err := n.Recipients()
		reply(w, list, err)
	}))
	mux.HandleFunc("PUT /v1/notifications/recipients", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		var list []api.Recipient
		if err := decodeBody(w, r, &list); err != nil {
			reply(w, nil, err)
			return
		}
		out, err := n.SetRecipients(list)
		reply(w, out, err)
	}))
	mux.HandleFunc("GET /v1/me/notifications", n.need(api.ScopeRead, func(w http.ResponseWriter, r *http.Request) {
		a := actorOf(r)
		if a.Kind != ActorPerson {
			reply(w, nil, fieldError("request", "(token)", "must be a person's session: a token has no e-mails of its own"))
			return
		}
		t, err := n.PersonTopics(a.ID)
		reply(w, t, err)
	}))
	mux.HandleFunc("PUT /v1/me/notifications", n.need(api.ScopeRead, func(w http.ResponseWriter, r *http.Request) {
		a := actorOf(r)
		if a.Kind != ActorPerson {
			reply(w, nil, fieldError("request", "(token)", "must be a person's session: a token has no e-mails of its own"))
			return
		}
		var t api.NotifyTopics
		if err := decodeBody(w, r, &t); err != nil {
			reply(w, nil, err)
			return
		}
		out, err := n.SetPersonTopics(a.ID, t.Topics)
		reply(w, out, err)
	}))
}

// fieldError is a *protocol.ValidationError of what with one problem.
func fieldError(what, field, rule string) error {
	return &protocol.ValidationError{What: what, Problems: []protocol.FieldError{{Field: field, Rule: rule}}}
}

// eventsQuery reads after, limit and wait of GET /v1/events.
func eventsQuery(r *http.Request) (after uint64, limit int, wait time.Duration, err error) {
	q, err := queryOf(r)
	if err != nil {
		return 0, 0, 0, err
	}
	v := &protocol.ValidationError{What: "query string"}
	add := func(field, rule string) {
		v.Problems = append(v.Problems, protocol.FieldError{Field: field, Rule: rule})
	}
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			add("after", "must be a whole number, 0 or more: the seq of the last event read")
		}
	}
	limit = DefaultEventsLimit
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > MaxEventsLimit {
			add("limit", "must be a whole number from 1 to 1000")
		}
	}
	if s := q.Get("wait"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil {
			wait = time.Duration(secs) * time.Second
		} else if wait, err = time.ParseDuration(s); err != nil {
			wait = -1
		}
		if wait < 0 || wait > MaxEventsWait {
			add("wait", "must be a duration from 0s to 60s, such as 30s, or seconds")
		}
	}
	return after, limit, wait, v.Err()
}

// Events returns at most limit events after the sequence number after. With wait
// above zero and no event after, it waits that long for one, or until ctx ends.
func (n *Node) Events(ctx context.Context, after uint64, limit int, wait time.Duration) (api.Events, error) {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		changed := n.store.EventsChanged()
		evs, last, err := n.store.Events(after, limit)
		if err != nil {
			return api.Events{}, err
		}
		if len(evs) > 0 || timeout == nil {
			oldest, err := n.store.OldestEvent()
			if err != nil {
				return api.Events{}, err
			}
			out := api.Events{Events: make([]api.Event, 0, len(evs)), Next: after, Last: last, Oldest: oldest}
			for _, e := range evs {
				out.Events = append(out.Events, n.apiEvent(e))
				out.Next = e.Seq
			}
			return out, nil
		}
		select {
		case <-changed:
		case <-timeout:
			timeout = nil // one more read, then the answer, empty or not
		case <-ctx.Done():
			return api.Events{}, ctx.Err()
		case <-n.ctx.Done():
			timeout = nil
		}
	}
}

func apiWebhook(w store.Webhook) api.Webhook {
	t := w.Topics
	if t == nil {
		t = []string{}
	}
	return api.Webhook{ID: w.ID, URL: w.URL, Topics: t, Created: w.Created}
}

// Webhooks lists the webhooks, without their secrets.
func (n *Node) Webhooks() ([]api.Webhook, error) {
	list, err := n.store.Webhooks()
	if err != nil {
		return nil, err
	}
	out := make([]api.Webhook, 0, len(list))
	for _, w := range list {
		out = append(out, apiWebhook(w))
	}
	return out, nil
}

// AddWebhook registers a webhook with a new secret, which the answer holds.
func (n *Node) AddWebhook(req api.WebhookRequest) (api.NewWebhook, error) {
	id := req.ID
	if id == "" {
		b := make([]byte, 4)
		rand.Read(b)
		id = "wh-" + hex.EncodeToString(b)
	}
	sec := make([]byte, 32)
	rand.Read(sec)
	w := store.Webhook{ID: id, URL: req.URL, Secret: "whsec_" + base64.RawURLEncoding.EncodeToString(sec), Topics: req.Topics}
	saved, err := n.store.AddWebhook(w, n.cfg.Notify.AllowHTTPWebhooks)
	if errors.Is(err, store.ErrExists) {
		return api.NewWebhook{}, fieldError("webhook", "id", "a webhook "+id+" exists already: choose another ID")
	}
	if err != nil {
		return api.NewWebhook{}, err
	}
	n.log.Info("webhook added", "webhook", saved.ID, "url", saved.URL)
	return api.NewWebhook{Webhook: apiWebhook(saved), Secret: saved.Secret}, nil
}

// RemoveWebhook removes the webhook id and what it still had to send.
func (n *Node) RemoveWebhook(id string) (api.Webhook, error) {
	w, err := n.store.RemoveWebhook(id)
	if err != nil {
		return api.Webhook{}, err
	}
	n.log.Info("webhook removed", "webhook", id)
	return apiWebhook(w), nil
}

func apiDelivery(d store.Delivery) api.Delivery {
	return api.Delivery{ID: d.ID, Event: d.Event, Type: d.Type, Channel: d.Channel, Target: d.Target,
		RedeliveryOf: d.RedeliveryOf, Status: d.Status, Attempts: d.Attempts, Due: d.Due, Created: d.Created,
		Finished: d.Finished, LastError: d.LastError, LastStatus: d.LastStatus}
}

// Deliveries returns the newest notifications, at most limit, of target (a webhook's
// ID or an e-mail address), or of all when it is empty.
func (n *Node) Deliveries(target string, limit int) ([]api.Delivery, error) {
	list, err := n.store.Deliveries(store.DeliveryFilter{Target: target, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]api.Delivery, 0, len(list))
	for _, d := range list {
		out = append(out, apiDelivery(d))
	}
	return out, nil
}

// Redeliver sends the delivery id again, as a new delivery.
func (n *Node) Redeliver(id string) (api.Delivery, error) {
	d, err := n.store.Redeliver(id)
	if err != nil {
		return api.Delivery{}, err
	}
	return apiDelivery(d), nil
}

// Recipients returns the hub's recipients of e-mails.
func (n *Node) Recipients() ([]api.Recipient, error) {
	list, err := n.store.Recipients()
	if err != nil {
		return nil, err
	}
	out := make([]api.Recipient, 0, len(list))
	for _, r := range list {
		out = append(out, api.Recipient{Email: r.Email, Language: r.Language, Topics: r.Topics})
	}
	return out, nil
}

// SetRecipients replaces the hub's recipients of e-mails.
func (n *Node) SetRecipients(list []api.Recipient) ([]api.Recipient, error) {
	in := make([]store.Recipient, 0, len(list))
	for _, r := range list {
		in = append(in, store.Recipient{Email: strings.TrimSpace(r.Email), Language: r.Language, Topics: r.Topics})
	}
	if err := n.store.SetRecipients(in); err != nil {
		return nil, err
	}
	return n.Recipients()
}

// PersonTopics returns the topics of the person id's e-mails.
func (n *Node) PersonTopics(id string) (api.NotifyTopics, error) {
	t, _, err := n.store.PersonTopics(id)
	if err != nil {
		return api.NotifyTopics{}, err
	}
	return api.NotifyTopics{Topics: t}, nil
}

// SetPersonTopics chooses the topics of the person id's e-mails.
func (n *Node) SetPersonTopics(id string, topics []string) (api.NotifyTopics, error) {
	topics = slices.Clone(topics)
	if err := n.store.SetPersonTopics(id, topics); err != nil {
		return api.NotifyTopics{}, err
	}
	return n.PersonTopics(id)
}
