package console

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The worklist: the referrals this hub has to act on, oldest first, each with what
// to do, how long it has waited and when it is due. "Mine" lists those whose contact
// person at this hub is the person signed in, and those that have none yet; "Hub"
// lists all of them. The operator token, which is nobody, sees the hub's.

// webWorklist is the data of the worklist page.
type webWorklist struct {
	Who     string // me or hub
	CanMine bool   // the session is a person's, who has referrals of their own
	Rows    []webWorkRow
	Error   string
}

// webWorkRow is one referral waiting for this hub.
type webWorkRow struct {
	Info    api.ReferralInfo
	Partner string // its name
	Summary string
	Next    string
	Since   time.Time // when it started to wait: its last change
	Days    int       // whole days since then
	Due     time.Time // when the decision is due; zero when nothing is
	Overdue bool
	Contact string // the contact person at this hub, if any
}

// worklist is GET /worklist?who=me|hub.
func (c *Console) worklist(w http.ResponseWriter, r *http.Request, v *webView) {
	who := r.URL.Query().Get("who")
	canMine := v.actor.Email != ""
	switch {
	case who == "" && canMine:
		who = "me"
	case who == "" || (who == "me" && !canMine):
		who = "hub"
	case who != "me" && who != "hub":
		c.fail(w, r, v, http.StatusBadRequest, v.lang.T("who must be me or hub, got %s", who))
		return
	}
	d := &webWorklist{Who: who, CanMine: canMine}
	list, err := c.n.Referrals(api.ReferralQuery{})
	if err != nil {
		c.fail(w, r, v, http.StatusInternalServerError, err.Error())
		return
	}
	now := c.n.Now()
	for _, info := range list {
		partner := c.hubName(info.Partner)
		next, mine := nextStep(v.lang, info, partner)
		if !mine {
			continue
		}
		contact := ""
		if info.Contacts != nil && info.Contacts.Own != nil {
			contact = info.Contacts.Own.Email
		}
		if who == "me" && contact != "" && !strings.EqualFold(contact, v.actor.Email) {
			continue
		}
		row := webWorkRow{Info: info, Partner: partner, Summary: needSummary(v.lang, info.Referral.Need), Next: next,
			Since: info.Referral.Created, Due: dueOf(info.Referral), Contact: contact}
		if h := info.Referral.History; len(h) > 0 {
			row.Since = h[len(h)-1].At
		}
		row.Days = int(now.Sub(row.Since) / (24 * time.Hour))
		row.Overdue = !row.Due.IsZero() && now.After(row.Due)
		d.Rows = append(d.Rows, row)
	}
	slices.SortStableFunc(d.Rows, func(a, b webWorkRow) int { return a.Since.Compare(b.Since) })
	d.Rows = d.Rows[:min(len(d.Rows), webMaxRows)]
	c.render(w, r, v, http.StatusOK, "worklist", v.lang.T("Worklist"), "worklist", d)
}

// dueOf is when the decision a referral waits for is due: to accept or decline one
// received, or to answer the receiver's question before it decides. Other steps
// have no deadline.
func dueOf(r protocol.Referral) time.Time {
	switch {
	case r.State == protocol.StateReceived, r.State == protocol.StateOnHold && r.HeldFrom == protocol.StateReceived:
		return r.DecideBy
	}
	return time.Time{}
}
