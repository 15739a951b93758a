package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The referral pages: the form to refer an SME, the lists of referrals received
// and sent, and a referral's page with the actions allowed now.

// referFields are the fields of the referral form, named as the problems of
// Node.Refer name them.
var referFields = []string{
	"need.sector", "need.region", "need.category", "need.family", "need.technologies", "need.description",
	"need.maturity.strategy", "need.maturity.readiness", "need.maturity.human", "need.maturity.data",
	"need.maturity.automation", "need.maturity.green",
	"sme.name", "sme.website", "sme.contact_name", "sme.contact_email", "sme.contact_phone",
	"consent.given_by", "consent.given_at", "consent.purpose", "consent.until",
}

// referLabels are the referral form's labels, for the error summary: those of
// the SME and the consent say whose they are, as the fieldsets around them do.
var referLabels = map[string]string{
	"need.sector": "Sector of the SME", "need.region": "Region of the SME", "need.category": "Size category",
	"need.family": "Service family wanted", "need.technologies": "Technologies wanted",
	"need.description": "The need in words",
	"sme.name":         "SME company name", "sme.website": "SME website", "sme.contact_name": "SME contact person",
	"sme.contact_email": "SME contact e-mail", "sme.contact_phone": "SME contact phone",
	"consent.given_by": "Consent given by", "consent.given_at": "Consent given on",
	"consent.purpose": "Purpose of the consent", "consent.until": "Consent valid until",
}

func init() {
	for _, d := range maturityDims {
		referLabels["need.maturity."+d.Value] = d.Label
	}
}

// maturityDims are the six dimensions of a digital maturity summary.
var maturityDims = []webOption{
	{"strategy", "Digital business strategy"}, {"readiness", "Digital readiness"},
	{"human", "Human-centric digitalisation"}, {"data", "Data management and governance"},
	{"automation", "Automation and artificial intelligence"}, {"green", "Green digitalisation"},
}

// webInput is a text input of a form.
type webInput struct{ Name, Label, Type, Auto string }

// smeFields are the inputs of the SME's identity.
var smeFields = []webInput{
	{"sme.name", "Company name", "text", "organization"},
	{"sme.website", "Website (optional)", "url", "url"},
	{"sme.contact_name", "Contact person", "text", "name"},
	{"sme.contact_email", "Contact e-mail (optional)", "email", "email"},
	{"sme.contact_phone", "Contact phone (optional)", "tel", "tel"},
}

// referField names the form field of a referral's problem.
func referField(field string) string {
	if strings.HasPrefix(field, "need.technologies.") {
		return "need.technologies"
	}
	if slices.Contains(referFields, field) {
		return field
	}
	return ""
}

// webRefer is the data of the referral form.
type webRefer struct {
	Form      *webForm
	To        api.HubInfo
	Vocab     *webVocabulary
	Maturity  []webOption
	SMEFields []webInput
	Error     string
	Regions   []string // the region box's suggestions
}

// MaturityOpen reports whether the maturity scores are shown unfolded: when any is
// filled in or wrong.
func (d *webRefer) MaturityOpen() bool {
	return slices.ContainsFunc(maturityDims, func(m webOption) bool {
		name := "need.maturity." + m.Value
		return d.Form.Get(name) != "" || d.Form.Invalid(name)
	})
}

// referPage is GET /refer?to=ID, with what the search gave: family, tech (one
// or more, or comma-separated), sector, category and region, the parameters of
// GET /v1/search. They fill the form in; the advisor checks them.
func (c *Console) referPage(w http.ResponseWriter, r *http.Request, v *webView) {
	q := r.URL.Query()
	vals := url.Values{"consent.given_at": {c.n.Now().UTC().Format(time.DateOnly)}}
	for from, to := range map[string]string{"family": "need.family", "sector": "need.sector", "category": "need.category"} {
		if s := strings.TrimSpace(q.Get(from)); s != "" {
			vals.Set(to, s)
		}
	}
	for _, t := range q["tech"] {
		for part := range strings.SplitSeq(t, ",") {
			if part = strings.TrimSpace(part); part != "" {
				vals.Add("need.technologies", part)
			}
		}
	}
	if s := strings.TrimSpace(q.Get("region")); s != "" {
		if reg, ok := protocol.RegionByCode(resolveRegion(s).Code); ok && reg.Level == 3 {
			vals.Set("need.region", reg.Name+" ("+reg.Code+")")
		}
	}
	f := newWebForm(vals).inOrder(referFields).labelled(referLabels)
	c.renderRefer(w, r, v, http.StatusOK, q.Get("to"), f, "")
}

func (c *Console) renderRefer(w http.ResponseWriter, r *http.Request, v *webView, status int, to string, f *webForm, msg string) {
	h, err := c.n.Hub(to)
	if err == nil && !h.Self && msg == "" {
		// A hub in the directory may still be one not to refer to: revoked, say.
		if rerr := c.n.CanRefer(to); rerr != nil {
			err = rerr
		}
	}
	switch {
	case to == "":
		c.fail(w, r, v, http.StatusBadRequest, v.lang.T("Choose the hub to refer the SME to: find one with Find a partner, then use its Refer an SME link."))
		return
	case errors.Is(err, protocol.ErrNotFound):
		// Why the hub cannot be referred to, as the node says it: it was revoked, say.
		why := msg
		if rerr := c.n.CanRefer(to); why == "" && rerr != nil {
			why = notFoundReason(rerr)
		}
		if why == "" {
			why = v.lang.T("This hub's directory has no hub %s.", to)
		}
		c.fail(w, r, v, http.StatusNotFound, why)
		return
	case err != nil:
		c.fail(w, r, v, http.StatusInternalServerError, err.Error())
		return
	case h.Self:
		c.fail(w, r, v, http.StatusBadRequest, v.lang.T("A hub cannot refer an SME to itself: choose another hub."))
		return
	}
	d := &webRefer{Form: f, To: h, Vocab: webVocab(), Maturity: maturityDims, SMEFields: smeFields, Error: msg,
		Regions: c.regionChoices()}
	c.render(w, r, v, status, "refer", v.lang.T("Refer an SME to %s", h.Profile.Name), "referrals", d)
}

// refer is POST /refer: the referral is sent, or the form comes back with every
// problem next to its field and nothing stored.
func (c *Console) refer(w http.ResponseWriter, r *http.Request, v *webView) {
	to := strings.TrimSpace(r.PostForm.Get("to"))
	f := newWebForm(r.PostForm).inOrder(referFields).labelled(referLabels)
	now := c.n.Now()
	req, problems := parseReferral(r.PostForm, to, now)
	if text := strings.TrimSpace(r.PostForm.Get("need.region")); text != "" {
		// A place name or a picked suggestion is sent as its NUTS 3 code.
		code, problem := regionProblem(v.lang, text, true)
		if problem != "" {
			problems = append(problems, protocol.FieldError{Field: "need.region", Rule: problem})
		}
		req.Need.Region = code
	}
	if len(problems) > 0 {
		// Values that could not be read are not sent; the rest is checked as Refer
		// would, so that every problem shows at once.
		for _, p := range problems {
			f.add(p, referField)
		}
		for _, p := range protocol.ProblemsOf(req.Validate(c.n.ID(), now)) {
			if !slices.ContainsFunc(problems, func(q protocol.FieldError) bool { return referField(q.Field) == referField(p.Field) }) {
				f.add(p, referField)
			}
		}
		c.renderRefer(w, r, v, http.StatusBadRequest, to, f, "")
		return
	}
	info, err := c.n.ReferAs(v.actor, req)
	switch {
	case err == nil:
		http.Redirect(w, r, "/referrals/"+url.PathEscape(info.Referral.ID), http.StatusSeeOther)
	case f.addError(err, referField):
		c.renderRefer(w, r, v, http.StatusBadRequest, to, f, "")
	case errors.Is(err, protocol.ErrNotFound):
		c.renderRefer(w, r, v, http.StatusNotFound, to, f, notFoundReason(err))
	default:
		status, msg := consoleError(err)
		c.renderRefer(w, r, v, status, to, f, msg)
	}
}

// notFoundReason is the node's reason, err, why a hub cannot be referred to, as a
// sentence: without the sentinel's words at its end.
func notFoundReason(err error) string {
	s := strings.TrimSuffix(err.Error(), ": "+protocol.ErrNotFound.Error())
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + "."
}

// parseReferral reads the referral form. Dates are days: consent given on a day
// counts from its start (or from now, when that day has begun somewhere east of
// UTC but not yet in UTC), and lasts until the end of its last day, in UTC.
func parseReferral(v url.Values, to string, now time.Time) (api.ReferralRequest, []protocol.FieldError) {
	var problems []protocol.FieldError
	s := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	req := api.ReferralRequest{
		To: to,
		Need: protocol.Need{Sector: s("need.sector"), Region: strings.ToUpper(s("need.region")), // a name is read by refer
			Category: protocol.Category(s("need.category")), Family: protocol.Family(s("need.family")),
			Description: s("need.description")},
		SME: protocol.SME{Name: s("sme.name"), Website: s("sme.website"), ContactName: s("sme.contact_name"),
			ContactEmail: s("sme.contact_email"), ContactPhone: s("sme.contact_phone")},
		Consent: protocol.Consent{GivenBy: s("consent.given_by"), Recipient: to, Purpose: s("consent.purpose")},
	}
	for _, t := range v["need.technologies"] {
		if t = strings.TrimSpace(t); t != "" {
			req.Need.Technologies = append(req.Need.Technologies, t)
		}
	}
	if slices.ContainsFunc(maturityDims, func(d webOption) bool { return s("need.maturity."+d.Value) != "" }) {
		var m protocol.Maturity
		scores := map[string]*int{"strategy": &m.Strategy, "readiness": &m.Readiness, "human": &m.Human,
			"data": &m.Data, "automation": &m.Automation, "green": &m.Green}
		for _, d := range maturityDims {
			name := "need.maturity." + d.Value
			if s(name) == "" {
				problems = append(problems, protocol.FieldError{Field: name, Rule: "is required when any score is given: 0 to 100"})
				continue
			}
			if n := webInt(v, name, &problems); n != nil {
				*scores[d.Value] = *n
			}
		}
		req.Need.Maturity = &m
	}
	day := func(name string) time.Time {
		str := s(name)
		if str == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, str)
		if err != nil {
			problems = append(problems, protocol.FieldError{Field: name, Rule: fmt.Sprintf("must be a date such as 2026-11-22, got %q", str)})
		}
		return t
	}
	if t := day("consent.given_at"); !t.IsZero() {
		if t.After(now) && t.Before(now.Add(24*time.Hour)) {
			t = now
		}
		req.Consent.GivenAt = t
	}
	if t := day("consent.until"); !t.IsZero() {
		req.Consent.Until = t.Add(24*time.Hour - time.Second)
	}
	return req, problems
}

// webReferrals is the data of the referral lists.
type webReferrals struct {
	Dir   string
	State string
	Rows  []webReferralRow
	Total int // referrals selected; Rows holds the newest webMaxRows
	Vocab *webVocabulary
	Error string
}

// webMaxRows is the most referrals a list shows; the CLI and the API list all.
const webMaxRows = 500

// webReferralRow is one referral in a list.
type webReferralRow struct {
	Info    api.ReferralInfo
	Partner string // its name
	Next    string
	Mine    bool // this hub has something to do
	Summary string
}

// referrals is GET /referrals?dir=in|out&state=.
func (c *Console) referrals(w http.ResponseWriter, r *http.Request, v *webView) {
	q := r.URL.Query()
	d := &webReferrals{Dir: q.Get("dir"), State: q.Get("state"), Vocab: webVocab()}
	if d.Dir == "" {
		d.Dir = "in"
	}
	status := http.StatusOK
	state := protocol.State(d.State)
	if st, ok := protocol.ParseState(d.State); ok { // "declined", "Rejected": rejected
		state, d.State = st, string(st)
	}
	list, err := c.n.Referrals(api.ReferralQuery{Direction: d.Dir, State: state})
	var ve *protocol.ValidationError
	switch {
	case errors.As(err, &ve):
		status, d.Error = http.StatusBadRequest, err.Error()
	case err != nil:
		c.fail(w, r, v, http.StatusInternalServerError, err.Error())
		return
	}
	d.Total = len(list)
	for _, info := range list[:min(len(list), webMaxRows)] {
		next, mine := nextStep(v.lang, info, c.hubName(info.Partner))
		d.Rows = append(d.Rows, webReferralRow{Info: info, Partner: c.hubName(info.Partner), Next: next, Mine: mine,
			Summary: needSummary(v.lang, info.Referral.Need)})
	}
	c.render(w, r, v, status, "referrals", v.lang.T("Referrals"), "referrals", d)
}

// needSummary says in a line what the SME needs.
func needSummary(l *webLang, n protocol.Need) string {
	desc := n.Description
	if utf8.RuneCountInString(desc) > 90 {
		desc = string([]rune(desc)[:89]) + "…"
	}
	return l.T("%s, sector %s, %s: %s", l.T(webFamily(n.Family)), n.Sector, n.Region, desc)
}

// nextStep says, in l, what happens next to a referral and whether this hub is
// the one to act.
func nextStep(l *webLang, info api.ReferralInfo, partner string) (string, bool) {
	r := info.Referral
	if r.State.Final() {
		return l.T("Nothing: the referral is %s", l.T(webState(r.State))), false
	}
	if info.Role == protocol.RoleReceiver {
		switch {
		case r.State == protocol.StateReceived:
			return l.T("Accept or decline by %s", l.Date(r.DecideBy)), true
		case r.State == protocol.StateAccepted:
			return l.T("Start the service"), true
		case r.State == protocol.StateInProgress:
			return l.T("Complete it when the service is delivered"), true
		case r.State == protocol.StateOnHold && r.HeldFrom == protocol.StateInProgress:
			return l.T("Resume the paused service"), true
		case r.State == protocol.StateOnHold:
			return l.T("Wait for %s to answer your question", partner), false
		}
		return l.T("Wait for %s", partner), false
	}
	switch {
	case r.State == protocol.StateRequested:
		return l.T("Wait for %s to receive it", partner), false
	case r.State == protocol.StateReceived:
		return l.T("Wait for %s to decide by %s", partner, l.Date(r.DecideBy)), false
	case r.State == protocol.StateOnHold && r.HeldFrom == protocol.StateReceived:
		return l.T("Answer the question of %s", partner), true
	case r.State == protocol.StateOnHold:
		return l.T("%s paused the service", partner), false
	case r.State == protocol.StateAccepted:
		return l.T("Wait for %s to start the service", partner), false
	case r.State == protocol.StateInProgress:
		return l.T("%s is delivering the service", partner), false
	}
	return l.T("Wait for %s", partner), false
}

// webReferral is the data of a referral's page.
type webReferral struct {
	Info     api.ReferralInfo
	Partner  string
	Next     string
	Mine     bool
	SMENote  string
	PurgeWhy string // why the SME's identity was purged, when it was
	Maturity []webScore
	Actions  []webAction
	Error    string
	Problems []webProblem // problems of an action whose form is not on the page
}

type webScore struct {
	Label string
	Score int
}

// webAction is the form of one action allowed now.
type webAction struct {
	Event        protocol.Event
	Legend       string
	Button       string
	CodeField    string // "reason", "outcome" or ""
	CodeLabel    string
	Codes        []string
	NoteLabel    string
	NoteRequired bool
	Form         *webForm
}

// referral is GET /referrals/{id}.
func (c *Console) referral(w http.ResponseWriter, r *http.Request, v *webView) {
	info, err := c.n.Referral(r.PathValue("id"))
	if err != nil {
		c.referralError(w, r, v, err)
		return
	}
	c.renderReferral(w, r, v, http.StatusOK, info, "", nil, "")
}

func (c *Console) referralError(w http.ResponseWriter, r *http.Request, v *webView, err error) {
	if errors.Is(err, protocol.ErrNotFound) {
		c.fail(w, r, v, http.StatusNotFound, v.lang.T("This hub has no referral %s.", r.PathValue("id")))
		return
	}
	c.fail(w, r, v, http.StatusInternalServerError, err.Error())
}

// act is POST /referrals/{id}/{action}: the action is made and the page shown
// again, or the page comes back with why it was refused.
func (c *Console) act(w http.ResponseWriter, r *http.Request, v *webView) {
	id, ev := r.PathValue("id"), protocol.Event(r.PathValue("action"))
	a := api.ReferralAction{Reason: strings.TrimSpace(r.PostForm.Get("reason")), Outcome: strings.TrimSpace(r.PostForm.Get("outcome")),
		Note: strings.TrimSpace(r.PostForm.Get("note"))}
	_, err := c.n.ActAs(v.actor, id, ev, a)
	if err == nil {
		http.Redirect(w, r, "/referrals/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	info, ierr := c.n.Referral(id)
	if ierr != nil {
		c.referralError(w, r, v, ierr)
		return
	}
	f := newWebForm(r.PostForm)
	var (
		te     *protocol.TransitionError
		status int
		msg    string
	)
	switch {
	case errors.As(err, &te):
		status, msg = http.StatusConflict, v.lang.T("Not allowed now: %s.", err.Error())
	case f.addError(err, func(s string) string {
		if s == "reason" || s == "outcome" || s == "note" {
			return s
		}
		return ""
	}):
		status, msg = http.StatusBadRequest, v.lang.T("The form has a problem: see below.")
	default:
		status, msg = consoleError(err)
	}
	c.renderReferral(w, r, v, status, info, ev, f, msg)
}

// renderReferral shows a referral; failed is the form of action ev as sent, with its
// problems, or nil.
func (c *Console) renderReferral(w http.ResponseWriter, r *http.Request, v *webView, status int, info api.ReferralInfo, ev protocol.Event, failed *webForm, msg string) {
	partner := c.hubName(info.Partner)
	d := &webReferral{Info: info, Partner: partner, SMENote: smeNote(v.lang, info), Error: msg}
	if why, ok := api.PurgeReasons[info.SMEPurgeReason]; ok {
		d.PurgeWhy = v.lang.T(why)
	}
	d.Next, d.Mine = nextStep(v.lang, info, partner)
	if m := info.Referral.Need.Maturity; m != nil {
		for i, s := range []int{m.Strategy, m.Readiness, m.Human, m.Data, m.Automation, m.Green} {
			d.Maturity = append(d.Maturity, webScore{Label: maturityDims[i].Label, Score: s})
		}
	}
	shown := false
	for _, a := range info.Actions {
		wa := actionForm(v.lang, a, info.Referral)
		if a == ev && failed != nil {
			wa.Form, shown = failed, true
		}
		d.Actions = append(d.Actions, wa)
	}
	if failed != nil && !shown {
		d.Problems = failed.Summary()
	}
	title := v.lang.T("Referral from %s", partner)
	if info.Role == protocol.RoleSender {
		title = v.lang.T("Referral to %s", partner)
	}
	c.render(w, r, v, status, "referral", title, "referrals", d)
}

// actionForm describes, in l, the form of action ev on referral r.
func actionForm(l *webLang, ev protocol.Event, r protocol.Referral) webAction {
	a := webAction{Event: ev, Form: newWebForm(url.Values{}), NoteLabel: l.T("Note for the other hub (optional)")}
	switch ev {
	case protocol.EventAccept:
		a.Legend, a.Button = l.T("Accept the referral"), l.T("Accept")
	case protocol.EventDecline:
		a.Legend, a.Button = l.T("Decline the referral"), l.T("Decline")
		a.CodeField, a.CodeLabel, a.Codes = "reason", l.T("Reason"), protocol.DeclineReasons
	case protocol.EventHold:
		if r.State == protocol.StateInProgress {
			a.Legend, a.Button, a.NoteLabel = l.T("Pause the service"), l.T("Pause"), l.T("Why the service pauses")
		} else {
			a.Legend, a.Button, a.NoteLabel = l.T("Ask the referring hub for more information"), l.T("Ask"), l.T("Your question")
		}
		a.NoteRequired = true
	case protocol.EventAnswer:
		a.Legend, a.Button, a.NoteLabel, a.NoteRequired = l.T("Answer the question"), l.T("Answer"), l.T("Your answer"), true
	case protocol.EventStart:
		a.Legend, a.Button = l.T("Start the service"), l.T("Start")
		if r.State == protocol.StateOnHold {
			a.Legend, a.Button = l.T("Resume the service"), l.T("Resume")
		}
	case protocol.EventComplete:
		a.Legend, a.Button = l.T("Complete the referral"), l.T("Complete")
		a.CodeField, a.CodeLabel, a.Codes = "outcome", l.T("Outcome"), protocol.Outcomes
	case protocol.EventFail:
		a.Legend, a.Button = l.T("Report that the service cannot be delivered"), l.T("Report failure")
		a.CodeField, a.CodeLabel, a.Codes = "reason", l.T("Reason"), protocol.FailReasons
	case protocol.EventCancel:
		a.Legend, a.Button = l.T("Cancel the referral"), l.T("Cancel referral")
		a.CodeField, a.CodeLabel, a.Codes = "reason", l.T("Reason"), protocol.CancelReasons
	default:
		a.Legend, a.Button = string(ev), string(ev)
	}
	return a
}

// smeNote says why the SME's identity is not shown, when it is not.
func smeNote(l *webLang, info api.ReferralInfo) string {
	if info.SME != nil {
		return ""
	}
	r := info.Referral
	accepted := slices.ContainsFunc(r.History, func(ch protocol.Change) bool { return ch.Event == protocol.EventAccept })
	switch {
	case info.Role == protocol.RoleSender:
		return l.T("This hub no longer holds the SME's identity.")
	case r.State == protocol.StateCancelled && accepted:
		return l.T("The SME's identity was deleted when the referral was cancelled: its consent no longer holds.")
	case r.State == protocol.StateRejected || r.State == protocol.StateExpired || r.State == protocol.StateCancelled:
		return l.T("The SME's identity was never shared with this hub: the referral was not accepted.")
	case accepted && !r.State.Final():
		return l.T("The SME's identity is on its way, sealed so that only this hub can read it. Reload the page in a moment.")
	case accepted:
		return l.T("This hub no longer holds the SME's identity.")
	}
	return l.T("The SME's identity is sealed: the referring hub sends it, readable only by this hub, once you accept.")
}
