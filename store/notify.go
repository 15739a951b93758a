package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Notifications: the e-mails and webhook calls an event makes. They are queued in
// the transaction that writes the event, as deliveries in the notify_outbox bucket,
// and the node sends them after; a delivery that ends (sent, or given up) moves to
// the notify_log bucket, where the operator reads it and may send it again.
//
// Who gets what: each webhook the topics it was registered for; each of the hub's
// recipients (a team mailbox, say) the topics the operator chose; each person the
// topics they chose (DefaultTopics until they do), for the referrals whose contact
// person at this hub they are and for those that have none yet. E-mails are queued
// only while mail is on (SetMail): a hub without an SMTP server queues none.

// Topics of a notification: what a person, a recipient or a webhook chooses.
const (
	TopicReceived  = "received"  // a referral arrived
	TopicDecision  = "decision"  // a referral was accepted or declined
	TopicChange    = "change"    // every change of a referral's state
	TopicHold      = "hold"      // a referral waits for an answer
	TopicDeadline  = "deadline"  // a referral's deadline is within 24 hours
	TopicExpiry    = "expiry"    // a referral expired
	TopicDirectory = "directory" // a hub entered, changed or left the directory: webhooks only
)

// Topics lists the topics of a person's or a recipient's notifications; webhooks
// have TopicDirectory too.
var Topics = []string{TopicReceived, TopicDecision, TopicChange, TopicHold, TopicDeadline, TopicExpiry}

// DefaultTopics are a person's topics until they choose.
var DefaultTopics = []string{TopicReceived, TopicDecision, TopicHold, TopicDeadline, TopicExpiry}

// TopicsOf returns the topics an event of type typ belongs to.
func TopicsOf(typ string) []string {
	switch typ {
	case EventReferralReceived:
		return []string{TopicReceived, TopicChange}
	case EventReferralAccepted, EventReferralRejected:
		return []string{TopicDecision, TopicChange}
	case EventReferralOnHold:
		return []string{TopicHold, TopicChange}
	case EventReferralExpired:
		return []string{TopicExpiry, TopicChange}
	case EventReferralSent, EventReferralChanged:
		return []string{TopicChange}
	case EventReferralDueSoon:
		return []string{TopicDeadline}
	case EventHubAdded, EventHubUpdated, EventHubRemoved:
		return []string{TopicDirectory}
	}
	return nil
}

// Channels of a delivery.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Statuses of a delivery.
const (
	DeliveryPending   = "pending"   // queued, or failed and to be tried again
	DeliveryDelivered = "delivered" // the server took it
	DeliveryFailed    = "failed"    // given up after the last attempt
)

// Delivery is one notification: an event for one e-mail address or one webhook.
type Delivery struct {
	ID      string `json:"id"` // 16 hex digits, in the order queued
	Event   uint64 `json:"event"`
	Type    string `json:"type"` // the event's type
	Channel string `json:"channel"`
	// Target is the webhook's ID, or the e-mail address.
	Target string `json:"target"`
	// Person is the ID of the person an e-mail is for; empty for a hub recipient.
	Person   string `json:"person,omitempty"`
	Language string `json:"language,omitempty"` // of an e-mail
	// RedeliveryOf is the delivery this one sends again, if it does.
	RedeliveryOf string    `json:"redelivery_of,omitempty"`
	Status       string    `json:"status"`
	Attempts     int       `json:"attempts"`
	Due          time.Time `json:"due,omitzero"` // of the next attempt, while pending
	Created      time.Time `json:"created"`
	Finished     time.Time `json:"finished,omitzero"`
	// LastError is what went wrong at the last failed attempt; LastStatus the HTTP
	// status a webhook answered it with, if it answered.
	LastError  string `json:"last_error,omitempty"`
	LastStatus int    `json:"last_status,omitempty"`
}

// Webhook is an address the operator registered to be called with events.
type Webhook struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Secret signs each call (HMAC-SHA256); shown once, when the webhook is made.
	Secret string `json:"secret"`
	// Topics are the topics it is called for; empty means all, directory included.
	Topics  []string  `json:"topics,omitempty"`
	Created time.Time `json:"created"`
}

// Recipient is an e-mail address the operator has every notification of its topics
// sent to, whoever the referral's contact is.
type Recipient struct {
	Email    string   `json:"email"`
	Language string   `json:"language,omitempty"` // BCP 47; empty: English
	Topics   []string `json:"topics"`
}

// maxWebhooks and maxRecipients bound what a hub registers; each change of a
// referral walks them in its transaction.
const (
	maxWebhooks   = 20
	maxRecipients = 20
)

// SetMail says whether e-mail notifications are queued: on when the hub has an SMTP
// server. It holds for the life of the Store.
func (s *Store) SetMail(on bool) { s.mail.Store(on) }

// checkTopics adds to v the problems of topics, which may hold directory if
// webhook.
func checkTopics(v *protocol.ValidationError, field string, topics []string, webhook bool) {
	for i, t := range topics {
		if !slices.Contains(Topics, t) && !(webhook && t == TopicDirectory) {
			allowed := strings.Join(Topics, ", ")
			if webhook {
				allowed += ", " + TopicDirectory
			}
			v.Problems = append(v.Problems, protocol.FieldError{Field: fmt.Sprintf("%s.%d", field, i),
				Rule: fmt.Sprintf("%q is not a topic: must be one of %s", t, allowed)})
		} else if slices.Index(topics, t) < i {
			v.Problems = append(v.Problems, protocol.FieldError{Field: fmt.Sprintf("%s.%d", field, i), Rule: t + " is listed twice"})
		}
	}
}

// Validate checks the webhook and returns every problem at once. A URL must be
// https, unless insecure allows http (for tests on loopback).
func (w *Webhook) Validate(insecure bool) error {
	v := &protocol.ValidationError{What: "webhook"}
	add := func(field, rule string) {
		v.Problems = append(v.Problems, protocol.FieldError{Field: field, Rule: rule})
	}
	if !validKeyID(w.ID) {
		add("id", fmt.Sprintf("must be 1 to %d lower-case letters, digits and '-'", maxPersonID))
	}
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		add("url", "is required")
	case len(w.URL) > 2000:
		add("url", "must be at most 2000 characters")
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
		add("url", "must be an absolute URL such as https://crm.example.eu/hooks/hubnet, without user or fragment")
	case u.Scheme != "https" && !(insecure && u.Scheme == "http"):
		add("url", "must be https")
	}
	if len(w.Secret) < 32 {
		add("secret", "must be at least 32 characters")
	}
	checkTopics(v, "topics", w.Topics, true)
	return v.Err()
}

// AddWebhook stores a new webhook; insecure allows an http URL. One that breaks a
// rule is refused with a *protocol.ValidationError, an ID in use with ErrExists.
func (s *Store) AddWebhook(w Webhook, insecure bool) (Webhook, error) {
	if w.Created.IsZero() {
		w.Created = s.clock()
	}
	if err := w.Validate(insecure); err != nil {
		return Webhook{}, err
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWebhooks)
		if b.Get([]byte(w.ID)) != nil {
			return ErrExists
		}
		if n := b.Stats().KeyN; n >= maxWebhooks {
			return &protocol.ValidationError{What: "webhook", Problems: []protocol.FieldError{{Field: "url",
				Rule: fmt.Sprintf("a hub has at most %d webhooks: remove one first", maxWebhooks)}}}
		}
		return putJSON(b, w.ID, w)
	})
	if err != nil {
		if isValidation(err) {
			return Webhook{}, err
		}
		return Webhook{}, fmt.Errorf("add webhook %s: %w", w.ID, err)
	}
	return w, nil
}

// Webhooks returns every webhook, by ID.
func (s *Store) Webhooks() ([]Webhook, error) {
	out, err := listJSON[Webhook](s, bucketWebhooks, "webhook")
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// Webhook returns the webhook id, or ErrNotFound.
func (s *Store) Webhook(id string) (Webhook, error) {
	var w Webhook
	err := s.view(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bucketWebhooks), id, &w) })
	if err != nil {
		return Webhook{}, fmt.Errorf("webhook %s: %w", id, err)
	}
	return w, nil
}

// RemoveWebhook deletes the webhook id and its pending deliveries, or returns
// ErrNotFound. Its delivery log stays.
func (s *Store) RemoveWebhook(id string) (Webhook, error) {
	var w Webhook
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWebhooks)
		if err := getJSON(b, id, &w); err != nil {
			return err
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		out := tx.Bucket(bucketNotifyOutbox)
		var drop [][]byte
		err := out.ForEach(func(k, v []byte) error {
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode delivery %s: %w", k, err)
			}
			if d.Channel == ChannelWebhook && d.Target == id {
				drop = append(drop, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := out.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Webhook{}, fmt.Errorf("remove webhook %s: %w", id, err)
	}
	return w, nil
}

// PersonTopics returns the topics the person id chose, DefaultTopics if they have not
// chosen, and whether they chose.
func (s *Store) PersonTopics(id string) ([]string, bool, error) {
	var topics []string
	chose := false
	err := s.view(func(tx *bolt.Tx) error {
		topics, chose = personTopics(tx, id)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("topics of %s: %w", id, err)
	}
	return topics, chose, nil
}

func personTopics(tx *bolt.Tx, id string) ([]string, bool) {
	v := tx.Bucket(bucketNotifySettings).Get([]byte("person/" + id))
	if v == nil {
		return slices.Clone(DefaultTopics), false
	}
	var t []string
	if json.Unmarshal(v, &t) != nil {
		return slices.Clone(DefaultTopics), false
	}
	return t, true
}

// SetPersonTopics stores the topics the person id chooses; empty means none.
func (s *Store) SetPersonTopics(id string, topics []string) error {
	v := &protocol.ValidationError{What: "notification topics"}
	checkTopics(v, "topics", topics, false)
	if err := v.Err(); err != nil {
		return err
	}
	if topics == nil {
		topics = []string{}
	}
	err := s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPeople).Get([]byte(id)) == nil {
			return ErrNotFound
		}
		return putJSON(tx.Bucket(bucketNotifySettings), "person/"+id, topics)
	})
	if err != nil {
		return fmt.Errorf("set topics of %s: %w", id, err)
	}
	return nil
}

// Recipients returns the hub's recipients.
func (s *Store) Recipients() ([]Recipient, error) {
	out := []Recipient{}
	err := s.view(func(tx *bolt.Tx) error {
		out = recipients(tx)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	return out, nil
}

func recipients(tx *bolt.Tx) []Recipient {
	out := []Recipient{}
	if v := tx.Bucket(bucketNotifySettings).Get([]byte("hub/recipients")); v != nil {
		_ = json.Unmarshal(v, &out) // written by SetRecipients only
	}
	return out
}

// SetRecipients replaces the hub's recipients. A list that breaks a rule is refused
// with a *protocol.ValidationError naming every field at fault.
func (s *Store) SetRecipients(list []Recipient) error {
	v := &protocol.ValidationError{What: "recipients"}
	add := func(field, rule string) {
		v.Problems = append(v.Problems, protocol.FieldError{Field: field, Rule: rule})
	}
	if len(list) > maxRecipients {
		add("recipients", fmt.Sprintf("must be at most %d", maxRecipients))
	}
	seen := map[string]bool{}
	for i, r := range list {
		f := fmt.Sprintf("recipients.%d.", i)
		if !protocol.ValidEmail(r.Email) {
			add(f+"email", "must be a plain e-mail address such as team@hub.example.eu")
		} else if seen[strings.ToLower(r.Email)] {
			add(f+"email", r.Email+" is listed twice")
		}
		seen[strings.ToLower(r.Email)] = true
		if r.Language != "" && !protocol.ValidLanguageTag(r.Language) {
			add(f+"language", "must be a BCP 47 language tag such as de or fr, or empty")
		}
		if len(r.Topics) == 0 {
			add(f+"topics", "must name at least one topic")
		}
		checkTopics(v, f+"topics", r.Topics, false)
	}
	if err := v.Err(); err != nil {
		return err
	}
	if list == nil {
		list = []Recipient{}
	}
	err := s.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketNotifySettings), "hub/recipients", list)
	})
	if err != nil {
		return fmt.Errorf("set recipients: %w", err)
	}
	return nil
}

// queueNotifications queues in tx the deliveries of ev.
func (s *Store) queueNotifications(tx *bolt.Tx, ev Event) error {
	topics := TopicsOf(ev.Type)
	wants := func(chosen []string) bool {
		return slices.ContainsFunc(chosen, func(t string) bool { return slices.Contains(topics, t) })
	}
	var out []Delivery
	err := tx.Bucket(bucketWebhooks).ForEach(func(k, v []byte) error {
		var w Webhook
		if err := json.Unmarshal(v, &w); err != nil {
			return fmt.Errorf("decode webhook %s: %w", k, err)
		}
		if len(w.Topics) == 0 || wants(w.Topics) {
			out = append(out, Delivery{Channel: ChannelWebhook, Target: w.ID})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.mail.Load() && ev.Referral != nil {
		sent := map[string]bool{}
		for _, r := range recipients(tx) {
			if addr := strings.ToLower(r.Email); wants(r.Topics) && !sent[addr] {
				sent[addr] = true
				out = append(out, Delivery{Channel: ChannelEmail, Target: r.Email, Language: r.Language})
			}
		}
		contact := ev.Referral.Contact
		err := tx.Bucket(bucketPeople).ForEach(func(k, v []byte) error {
			var p Person
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode person %s: %w", k, err)
			}
			addr := strings.ToLower(p.Email)
			if sent[addr] || (contact != "" && contact != addr) {
				return nil
			}
			if t, _ := personTopics(tx, p.ID); wants(t) {
				sent[addr] = true
				out = append(out, Delivery{Channel: ChannelEmail, Target: p.Email, Person: p.ID, Language: p.Language})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	now := s.clock()
	b := tx.Bucket(bucketNotifyOutbox)
	for _, d := range out {
		d.Event, d.Type, d.Status, d.Created, d.Due = ev.Seq, ev.Type, DeliveryPending, now, now
		if err := putDelivery(b, &d); err != nil {
			return err
		}
	}
	return nil
}

// putDelivery numbers d if it has no ID yet and writes it in b.
func putDelivery(b *bolt.Bucket, d *Delivery) error {
	if d.ID == "" {
		seq, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("number delivery: %w", err)
		}
		d.ID = fmt.Sprintf("%016x", seq)
	}
	return putJSON(b, d.ID, d)
}

// NotifyDue returns at most limit pending deliveries due at or before now, soonest
// first, and when the next of the others is due (zero if none is).
func (s *Store) NotifyDue(now time.Time, limit int) ([]Delivery, time.Time, error) {
	var (
		due  []Delivery
		next time.Time
	)
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNotifyOutbox).ForEach(func(k, v []byte) error {
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode delivery %s: %w", k, err)
			}
			if d.Due.After(now) {
				if next.IsZero() || d.Due.Before(next) {
					next = d.Due
				}
				return nil
			}
			due = append(due, d)
			return nil
		})
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read notification outbox: %w", err)
	}
	slices.SortFunc(due, func(a, b Delivery) int { return cmp.Or(a.Due.Compare(b.Due), strings.Compare(a.ID, b.ID)) })
	if len(due) > limit {
		if next.IsZero() || due[limit].Due.Before(next) {
			next = due[limit].Due
		}
		due = due[:limit]
	}
	return due, next, nil
}

// Attempt is the outcome of an attempt to send a pending delivery.
type Attempt struct {
	ID string
	// Status is DeliveryPending when the attempt failed and the delivery is tried
	// again at Due; otherwise the delivery ended, and moves to the log.
	Status string
	Due    time.Time
	// Error and HTTPStatus say what the server answered.
	Error      string
	HTTPStatus int
}

// NotifyAttempt records an attempt to send the pending delivery id: see Attempt.
func (s *Store) NotifyAttempt(id, status string, due time.Time, errText string, httpStatus int) error {
	return s.NotifyAttempts([]Attempt{{ID: id, Status: status, Due: due, Error: errText, HTTPStatus: httpStatus}})
}

// NotifyAttempts records attempts, all in one transaction. A delivery no longer
// pending (its webhook removed meanwhile) is left alone.
func (s *Store) NotifyAttempts(attempts []Attempt) error {
	err := s.update(func(tx *bolt.Tx) error {
		out, log := tx.Bucket(bucketNotifyOutbox), tx.Bucket(bucketNotifyLog)
		for _, a := range attempts {
			var d Delivery
			if err := getJSON(out, a.ID, &d); err != nil {
				if err == ErrNotFound {
					continue
				}
				return err
			}
			d.Attempts++
			d.LastError, d.LastStatus = a.Error, a.HTTPStatus
			if a.Status == DeliveryPending {
				d.Due = a.Due.UTC()
				if err := putJSON(out, a.ID, &d); err != nil {
					return err
				}
				continue
			}
			d.Status, d.Due, d.Finished = a.Status, time.Time{}, s.clock()
			if err := out.Delete([]byte(a.ID)); err != nil {
				return err
			}
			if err := putJSON(log, a.ID, &d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d delivery attempts: %w", len(attempts), err)
	}
	return nil
}

// DeliveryFilter selects deliveries; zero fields select all.
type DeliveryFilter struct {
	Channel string
	Target  string // a webhook's ID, or an e-mail address
	Limit   int    // at most this many, the newest; zero or less means 100
}

// Deliveries returns the deliveries f selects, pending and ended, newest first.
func (s *Store) Deliveries(f DeliveryFilter) ([]Delivery, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	out := []Delivery{}
	err := s.view(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketNotifyOutbox, bucketNotifyLog} {
			c := tx.Bucket(name).Cursor()
			n := 0
			for k, v := c.Last(); k != nil && n < f.Limit; k, v = c.Prev() {
				var d Delivery
				if err := json.Unmarshal(v, &d); err != nil {
					return fmt.Errorf("decode delivery %s: %w", k, err)
				}
				if (f.Channel != "" && d.Channel != f.Channel) || (f.Target != "" && d.Target != f.Target) {
					continue
				}
				out = append(out, d)
				n++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b Delivery) int { return strings.Compare(b.ID, a.ID) })
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// Redeliver queues the delivery id again, as a new delivery due now, and returns it.
// A delivery still pending is refused: it is being tried already. ErrNotFound if
// there is no such delivery, or its webhook was removed.
func (s *Store) Redeliver(id string) (Delivery, error) {
	var d Delivery
	err := s.update(func(tx *bolt.Tx) error {
		out := tx.Bucket(bucketNotifyOutbox)
		if out.Get([]byte(id)) != nil {
			return &protocol.ValidationError{What: "redelivery", Problems: []protocol.FieldError{{Field: "id",
				Rule: "delivery " + id + " is still pending: it is tried again by itself"}}}
		}
		var old Delivery
		if err := getJSON(tx.Bucket(bucketNotifyLog), id, &old); err != nil {
			return err
		}
		if old.Channel == ChannelWebhook && tx.Bucket(bucketWebhooks).Get([]byte(old.Target)) == nil {
			return fmt.Errorf("webhook %s was removed: %w", old.Target, ErrNotFound)
		}
		now := s.clock()
		d = Delivery{Event: old.Event, Type: old.Type, Channel: old.Channel, Target: old.Target, Person: old.Person,
			Language: old.Language, RedeliveryOf: old.ID, Status: DeliveryPending, Created: now, Due: now}
		if err := putDelivery(out, &d); err != nil {
			return err
		}
		s.feed.added()
		return nil
	})
	if err != nil {
		if isValidation(err) {
			return Delivery{}, err
		}
		return Delivery{}, fmt.Errorf("redeliver %s: %w", id, err)
	}
	return d, nil
}

// PruneDeliveries deletes the ended deliveries that finished before before, at most
// limit of them, and returns how many it deleted.
func (s *Store) PruneDeliveries(before time.Time, limit int) (int, error) {
	return s.pruneFront(bucketNotifyLog, "deliveries", limit, func(v []byte) (bool, error) {
		var d Delivery
		if err := json.Unmarshal(v, &d); err != nil {
			return false, fmt.Errorf("decode delivery: %w", err)
		}
		return d.Finished.Before(before), nil
	})
}

// putJSON writes v under key in b.
func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := b.Put([]byte(key), data); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// listJSON returns every value of bucket, decoded, in key order, as an empty slice
// when there is none; what names a value in errors ("webhook").
func listJSON[T any](s *Store, bucket []byte, what string) ([]T, error) {
	out := []T{}
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var x T
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("decode %s %s: %w", what, k, err)
			}
			out = append(out, x)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// getJSON reads key of b into v, or returns ErrNotFound.
func getJSON(b *bolt.Bucket, key string, v any) error {
	data := b.Get([]byte(key))
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}
