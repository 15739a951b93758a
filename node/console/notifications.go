package console

import (
	"net/http"
	"slices"

	"github.com/hubnet-eu/hubnet/api"
)

// The notifications page: a person chooses which e-mails they get; an operator also
// sees the hub's recipients, webhooks and the newest deliveries, which the API,
// `hubnet recipients` and `hubnet webhooks` change. The page is in the console's
// language, the topics' labels too.

// webTopic is a topic with what it means and whether it is chosen.
type webTopic struct {
	Slug, Label string
	Chosen      bool
}

// topicLabels says what each topic of a person's e-mails means; the page
// translates them.
var topicLabels = map[string]string{
	api.TopicReceived: "a referral arrives",
	api.TopicDecision: "a referral is accepted or declined",
	api.TopicChange:   "every change of a referral's state",
	api.TopicHold:     "a referral waits for an answer",
	api.TopicDeadline: "a decision is due within 24 hours",
	api.TopicExpiry:   "a referral expires",
}

// webNotifications is the data of the notifications page.
type webNotifications struct {
	Person     bool // signed in as a person, who has topics
	Email      string
	Topics     []webTopic
	Notice     string
	Error      string
	Operator   bool
	Recipients []api.Recipient
	Webhooks   []api.Webhook
	Deliveries []api.Delivery
}

func (c *Console) notifications(w http.ResponseWriter, r *http.Request, v *webView) {
	c.renderNotifications(w, r, v, http.StatusOK, webNotifications{})
}

func (c *Console) renderNotifications(w http.ResponseWriter, r *http.Request, v *webView, status int, d webNotifications) {
	d.Person, d.Email = v.actor.Email != "", v.actor.Email
	if d.Person && d.Topics == nil {
		t, err := c.n.PersonTopics(v.actor.ID)
		if err != nil {
			c.fail(w, r, v, http.StatusInternalServerError, err.Error())
			return
		}
		d.Topics = webTopics(v.lang, t.Topics)
	}
	if d.Operator = v.actor.Can(api.ScopeAdmin); d.Operator {
		var err error
		if d.Recipients, err = c.n.Recipients(); err == nil {
			if d.Webhooks, err = c.n.Webhooks(); err == nil {
				d.Deliveries, err = c.n.Deliveries("", 20)
			}
		}
		if err != nil {
			c.fail(w, r, v, http.StatusInternalServerError, err.Error())
			return
		}
	}
	c.render(w, r, v, status, "notifications", v.lang.T("Notifications"), "worklist", d)
}

// webTopics lists every topic of a person's e-mails, in l, those of chosen checked.
func webTopics(l *webLang, chosen []string) []webTopic {
	out := []webTopic{}
	for _, t := range api.Topics {
		if label, ok := topicLabels[t]; ok {
			out = append(out, webTopic{Slug: t, Label: l.T(label), Chosen: slices.Contains(chosen, t)})
		}
	}
	return out
}

// saveTopics is POST /notifications: the person's choice of e-mails.
func (c *Console) saveTopics(w http.ResponseWriter, r *http.Request, v *webView) {
	if v.actor.Email == "" {
		c.fail(w, r, v, http.StatusBadRequest, v.lang.T("The operator token is nobody: it gets no e-mails. Sign in as yourself to choose yours."))
		return
	}
	chosen := r.PostForm["topic"]
	t, err := c.n.SetPersonTopics(v.actor.ID, chosen)
	if err != nil {
		c.renderNotifications(w, r, v, statusOf(err), webNotifications{Topics: webTopics(v.lang, chosen), Error: problemText(err)})
		return
	}
	c.renderNotifications(w, r, v, http.StatusOK, webNotifications{Topics: webTopics(v.lang, t.Topics),
		Notice: v.lang.T("Saved: your e-mails are about what is checked.")})
}
