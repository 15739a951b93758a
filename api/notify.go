package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// EventVersion is the version of the Event schema: the feed's and the webhooks'. A
// field may be added within a version; a change that would break a reader raises it.
const EventVersion = 1

// Webhook headers: each call carries its delivery's ID, the event's type, and the
// signature, "t=<Unix seconds>,v1=<hex HMAC-SHA256 of t, '.', and the body, keyed by
// the webhook's secret>" (see docs/api.md#webhooks).
const (
	HeaderDelivery  = "Hubnet-Delivery"
	HeaderEvent     = "Hubnet-Event"
	HeaderSignature = "Hubnet-Signature"
)

// Event is one entry of the change feed, GET /v1/events, and the body of a webhook
// call: a referral's new state, a deadline near, or a change of the directory.
type Event struct {
	Version int       `json:"version"` // EventVersion
	Seq     uint64    `json:"seq"`     // 1, 2, 3...: the feed's order, never reused
	Type    string    `json:"type"`    // referral.received, referral.accepted, hub.updated...
	At      time.Time `json:"at"`
	// Source is the hub whose feed this is.
	Source   string         `json:"source"`
	Referral *EventReferral `json:"referral,omitempty"`
	Hub      *EventHub      `json:"hub,omitempty"`
}

// EventReferral is what an event tells of a referral: never the SME's identity or
// the need in words. Read the referral with GET /v1/referrals/{id}.
type EventReferral struct {
	ID       string    `json:"id"`
	Role     string    `json:"role"`    // this hub's: sender or receiver
	Partner  string    `json:"partner"` // the other hub
	State    string    `json:"state"`
	Previous string    `json:"previous,omitempty"` // the state before; empty for a new referral
	Family   string    `json:"family"`
	Created  time.Time `json:"created"`
	Due      time.Time `json:"due,omitzero"`     // when the next decision is due
	By       string    `json:"by,omitempty"`     // the hub that made the change
	Person   string    `json:"person,omitempty"` // the person there, when known
	URL      string    `json:"url"`              // the referral in this hub's console
}

// EventHub is what an event tells of a hub of the directory.
type EventHub struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Revision uint64 `json:"revision,omitempty"`
}

// Events is the answer of GET /v1/events.
type Events struct {
	Events []Event `json:"events"`
	// Next is the after of the next request: the Seq of the last event here, or the
	// request's after when there is none.
	Next uint64 `json:"next"`
	// Last is the Seq of the newest event at the hub.
	Last uint64 `json:"last"`
	// Oldest is the Seq of the oldest event the hub still keeps (events older than
	// its retention are pruned); 0 when it keeps none.
	Oldest uint64 `json:"oldest"`
}

// Webhook is an address the hub calls with events, as the API shows it: never its
// secret.
type Webhook struct {
	ID      string    `json:"id"`
	URL     string    `json:"url"`
	Topics  []string  `json:"topics"` // empty: all
	Created time.Time `json:"created"`
}

// WebhookRequest is the body of POST /v1/webhooks.
type WebhookRequest struct {
	// ID names the webhook: lower-case letters, digits and '-'; empty picks one.
	ID     string   `json:"id,omitempty"`
	URL    string   `json:"url"`
	Topics []string `json:"topics,omitempty"` // empty: all
}

// NewWebhook is the answer of POST /v1/webhooks: the webhook and its signing secret,
// shown this once.
type NewWebhook struct {
	Webhook Webhook `json:"webhook"`
	Secret  string  `json:"secret"`
}

// Delivery is one notification, an e-mail or a webhook call, as the delivery log
// shows it.
type Delivery struct {
	ID           string    `json:"id"`
	Event        uint64    `json:"event"`
	Type         string    `json:"type"`
	Channel      string    `json:"channel"` // email or webhook
	Target       string    `json:"target"`  // the webhook's ID, or the e-mail address
	RedeliveryOf string    `json:"redelivery_of,omitempty"`
	Status       string    `json:"status"` // pending, delivered or failed
	Attempts     int       `json:"attempts"`
	Due          time.Time `json:"due,omitzero"`
	Created      time.Time `json:"created"`
	Finished     time.Time `json:"finished,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	LastStatus   int       `json:"last_status,omitempty"`
}

// Recipient is an address every notification of its topics is e-mailed to.
type Recipient struct {
	Email    string   `json:"email"`
	Language string   `json:"language,omitempty"`
	Topics   []string `json:"topics"`
}

// NotifyTopics are the topics a person's e-mails are about: GET and PUT
// /v1/me/notifications.
type NotifyTopics struct {
	Topics []string `json:"topics"`
}

// Notification topics.
const (
	TopicReceived  = "received"
	TopicDecision  = "decision"
	TopicChange    = "change"
	TopicHold      = "hold"
	TopicDeadline  = "deadline"
	TopicExpiry    = "expiry"
	TopicDirectory = "directory"
)

// Events reads at most limit events after the sequence number after: GET /v1/events
// (scope read). With wait above zero the node answers as soon as there is one, or
// after wait with none.
func (c *Client) Events(ctx context.Context, after uint64, limit int, wait time.Duration) (Events, error) {
	v := url.Values{"after": {strconv.FormatUint(after, 10)}}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if wait > 0 {
		v.Set("wait", wait.String())
	}
	var e Events
	return e, c.get(ctx, "/v1/events", v, true, &e)
}

// Webhooks lists the webhooks: GET /v1/webhooks (scope admin).
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var list []Webhook
	return list, c.get(ctx, "/v1/webhooks", nil, true, &list)
}

// AddWebhook registers a webhook: POST /v1/webhooks (scope admin). The answer holds
// its secret, which nobody can read again.
func (c *Client) AddWebhook(ctx context.Context, req WebhookRequest) (NewWebhook, error) {
	var w NewWebhook
	return w, c.send(ctx, http.MethodPost, "/v1/webhooks", req, &w)
}

// RemoveWebhook removes the webhook id: DELETE /v1/webhooks/{id} (scope admin).
func (c *Client) RemoveWebhook(ctx context.Context, id string) (Webhook, error) {
	var w Webhook
	return w, c.send(ctx, http.MethodDelete, "/v1/webhooks/"+url.PathEscape(id), nil, &w)
}

// Deliveries lists the newest notifications, at most limit, of the webhook or e-mail
// address target, or of all when it is empty: GET /v1/deliveries (scope admin).
func (c *Client) Deliveries(ctx context.Context, target string, limit int) ([]Delivery, error) {
	v := url.Values{}
	if target != "" {
		v.Set("target", target)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var list []Delivery
	return list, c.get(ctx, "/v1/deliveries", v, true, &list)
}

// Redeliver sends the delivery id again, as a new delivery: POST
// /v1/deliveries/{id}/redeliver (scope admin).
func (c *Client) Redeliver(ctx context.Context, id string) (Delivery, error) {
	var d Delivery
	return d, c.send(ctx, http.MethodPost, "/v1/deliveries/"+url.PathEscape(id)+"/redeliver", nil, &d)
}

// Recipients returns the hub's recipients of e-mails: GET
// /v1/notifications/recipients (scope admin).
func (c *Client) Recipients(ctx context.Context) ([]Recipient, error) {
	var list []Recipient
	return list, c.get(ctx, "/v1/notifications/recipients", nil, true, &list)
}

// SetRecipients replaces the hub's recipients: PUT /v1/notifications/recipients
// (scope admin).
func (c *Client) SetRecipients(ctx context.Context, list []Recipient) ([]Recipient, error) {
	var out []Recipient
	return out, c.send(ctx, http.MethodPut, "/v1/notifications/recipients", list, &out)
}

// MyTopics returns the topics of the signed-in person's e-mails: GET
// /v1/me/notifications.
func (c *Client) MyTopics(ctx context.Context) (NotifyTopics, error) {
	var t NotifyTopics
	return t, c.get(ctx, "/v1/me/notifications", nil, true, &t)
}

// SetMyTopics chooses the topics of the signed-in person's e-mails: PUT
// /v1/me/notifications.
func (c *Client) SetMyTopics(ctx context.Context, t NotifyTopics) (NotifyTopics, error) {
	var out NotifyTopics
	return out, c.send(ctx, http.MethodPut, "/v1/me/notifications", t, &out)
}

// EventTypes lists the types of an event, and Topics the topics of a notification,
// in the order the documentation lists them. The store keeps the same lists (node
// checks that they agree).
var (
	EventTypes = []string{"referral.sent", "referral.received", "referral.accepted", "referral.rejected",
		"referral.on-hold", "referral.expired", "referral.changed", "referral.due-soon",
		"hub.added", "hub.updated", "hub.removed"}
	Topics = []string{TopicReceived, TopicDecision, TopicChange, TopicHold, TopicDeadline, TopicExpiry, TopicDirectory}
)
