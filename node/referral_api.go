package node

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// ReferralRequest is the body of POST /v1/referrals: an SME referred to hub To.
type ReferralRequest struct {
	To      string           `json:"to"`
	Need    protocol.Need    `json:"need"`
	SME     protocol.SME     `json:"sme"`
	Consent protocol.Consent `json:"consent"`
}

// ReferralInfo is a referral as the API shows it to this hub's operator.
type ReferralInfo struct {
	Referral protocol.Referral `json:"referral"`
	Role     protocol.Role     `json:"role"`    // this hub's role
	Partner  string            `json:"partner"` // the other hub
	SME      *protocol.SME     `json:"sme,omitempty"`
	Pending  int               `json:"pending"` // messages the partner has not acknowledged yet
	Actions  []protocol.Event  `json:"actions"` // what this hub may do now
	Updated  time.Time         `json:"updated"`
}

// ReferralAction is the optional body of POST /v1/referrals/{id}/{action}.
type ReferralAction struct {
	Reason  string `json:"reason,omitempty"`  // decline, fail, cancel
	Outcome string `json:"outcome,omitempty"` // complete
	Note    string `json:"note,omitempty"`
}

// ReferralQuery selects referrals; zero fields select all.
type ReferralQuery struct {
	Direction string // "in" (received) or "out" (sent)
	State     protocol.State
	Partner   string
	From, To  time.Time // created in [From, To)
}

// actions are the events people make through the API.
var actions = []protocol.Event{protocol.EventAccept, protocol.EventDecline, protocol.EventHold, protocol.EventAnswer,
	protocol.EventStart, protocol.EventComplete, protocol.EventFail, protocol.EventCancel}

// Refer sends a referral: it is stored with its offer in one transaction, and the
// offer is delivered to the receiving hub from the outbox, now or when it is back.
func (n *Node) Refer(req ReferralRequest) (ReferralInfo, error) {
	now := n.cfg.Now()
	if v := req.check(n.id.ID, now); len(v.Problems) > 0 {
		return ReferralInfo{}, v
	}
	if _, ok := n.dir.peer(req.To); !ok {
		return ReferralInfo{}, fmt.Errorf("hub %s is not in this hub's directory: %w", req.To, protocol.ErrNotFound)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return ReferralInfo{}, err
	}
	r := protocol.Referral{
		V: protocol.Version, ID: id.String(), From: n.id.ID, To: req.To, Created: now.UTC(),
		State: protocol.StateDraft, Need: req.Need, Consent: req.Consent,
		AckBy: now.Add(n.cfg.ReceiveWithin).UTC(), DecideBy: now.Add(n.cfg.ReceiveWithin + n.cfg.DecideWithin).UTC(),
		History: []protocol.Change{},
	}
	if err := r.Apply(protocol.EventSend, protocol.RoleSender, n.id.ID, now, ""); err != nil {
		return ReferralInfo{}, err
	}
	o, err := n.referrals.outgoing(req.To, r.ID, protocol.TypeReferralOffer, protocol.ReferralOffer{V: protocol.Version, Referral: r}, now)
	if err != nil {
		return ReferralInfo{}, err
	}
	sme := req.SME
	rec := store.ReferralRecord{Referral: r, Role: protocol.RoleSender, SME: &sme, Updated: now}
	if err := n.store.SaveReferral(rec, []store.Outgoing{o}, nil); err != nil {
		return ReferralInfo{}, err
	}
	n.log.Info("referral sent", "referral", r.ID, "to", r.To)
	n.referrals.wake()
	return n.referralInfo(rec, 1), nil
}

// check returns every problem of a referral that hub self would send at now.
func (req *ReferralRequest) check(self string, now time.Time) *protocol.ValidationError {
	v := &protocol.ValidationError{What: "referral"}
	if !protocol.ValidID(req.To) || req.To == self {
		v.Problems = append(v.Problems, protocol.FieldError{Field: "to", Rule: "must be the ID of another hub"})
	}
	addProblems(v, "need.", req.Need.Validate())
	addProblems(v, "sme.", req.SME.Validate())
	addProblems(v, "consent.", req.Consent.Validate(now))
	if req.Consent.Recipient != req.To {
		v.Problems = append(v.Problems, protocol.FieldError{Field: "consent.recipient", Rule: "must be the hub referred to (" + req.To + ")"})
	}
	return v
}

// ReferralProblems returns every problem Refer finds in a referral that hub self
// would send at now, without sending it: the web console shows them with those of
// the values its form could not read.
func ReferralProblems(req ReferralRequest, self string, now time.Time) []protocol.FieldError {
	return req.check(self, now).Problems
}

// addProblems adds err's field problems to v, their fields under prefix.
func addProblems(v *protocol.ValidationError, prefix string, err error) {
	var ve *protocol.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			v.Problems = append(v.Problems, protocol.FieldError{Field: prefix + p.Field, Rule: p.Rule})
		}
	} else if err != nil {
		v.Problems = append(v.Problems, protocol.FieldError{Field: strings.TrimSuffix(prefix, "."), Rule: err.Error()})
	}
}

// Act makes event ev on referral id as this hub: accept, decline, hold, answer,
// start, complete, fail or cancel. The change and its message to the other hub are
// stored in one transaction; the lifecycle refuses what this hub may not do now.
func (n *Node) Act(id string, ev protocol.Event, a ReferralAction) (ReferralInfo, error) {
	if !slices.Contains(actions, ev) {
		return ReferralInfo{}, &protocol.ValidationError{What: "action", Problems: []protocol.FieldError{
			{Field: "action", Rule: "must be accept, decline, hold, answer, start, complete, fail or cancel"}}}
	}
	now := n.cfg.Now()
	body := protocol.ReferralEvent{V: protocol.Version, Referral: id, Event: ev, At: now.UTC(), Reason: a.Reason, Outcome: a.Outcome, Note: a.Note}
	if err := body.Validate(); err != nil {
		return ReferralInfo{}, err
	}
	rec, err := n.store.UpdateReferral(id, func(rec *store.ReferralRecord) ([]store.Outgoing, []protocol.KPIRecord, error) {
		r := &rec.Referral
		if rec.Role == protocol.RoleReceiver && r.State == protocol.StateReceived && now.After(r.DecideBy) {
			return nil, nil, &protocol.TransitionError{From: r.State, Event: ev, By: rec.Role,
				Rule: "the deadline to decide passed at " + r.DecideBy.Format(time.RFC3339)}
		}
		if err := r.Apply(ev, rec.Role, n.id.ID, now, a.Note); err != nil {
			return nil, nil, err
		}
		setReasons(r, ev, a.Reason, a.Outcome)
		rec.Updated = now
		partner := partnerOf(*rec, n.id.ID)
		o, err := n.referrals.outgoing(partner, r.ID, protocol.TypeReferralEvent, body, now)
		if err != nil {
			return nil, nil, err
		}
		var kpis []protocol.KPIRecord
		if ev == protocol.EventComplete {
			kpis = []protocol.KPIRecord{kpi(protocol.KPIServiceDelivered, *rec, n.id.ID, now), kpi(protocol.KPICollaboration, *rec, n.id.ID, now)}
		}
		return []store.Outgoing{o}, kpis, nil
	})
	if err != nil {
		return ReferralInfo{}, err
	}
	n.log.Info("referral updated", "referral", id, "event", ev, "state", rec.Referral.State)
	n.referrals.wake()
	pending, err := n.pending()
	if err != nil {
		return ReferralInfo{}, err
	}
	return n.referralInfo(rec, pending[id]), nil
}

func partnerOf(rec store.ReferralRecord, self string) string {
	if rec.Referral.From == self {
		return rec.Referral.To
	}
	return rec.Referral.From
}

// Referral returns one referral.
func (n *Node) Referral(id string) (ReferralInfo, error) {
	rec, err := n.store.Referral(id)
	if err != nil {
		return ReferralInfo{}, err
	}
	pending, err := n.pending()
	if err != nil {
		return ReferralInfo{}, err
	}
	return n.referralInfo(rec, pending[id]), nil
}

// Referrals lists the referrals q selects, newest first.
func (n *Node) Referrals(q ReferralQuery) ([]ReferralInfo, error) {
	f := store.ReferralFilter{Partner: q.Partner, From: q.From, To: q.To}
	switch q.Direction {
	case "":
	case "in":
		f.Role = protocol.RoleReceiver
	case "out":
		f.Role = protocol.RoleSender
	default:
		return nil, &protocol.ValidationError{What: "referral list", Problems: []protocol.FieldError{{Field: "direction", Rule: "must be in or out"}}}
	}
	if q.State != "" {
		if !slices.Contains(protocol.States, q.State) {
			return nil, &protocol.ValidationError{What: "referral list", Problems: []protocol.FieldError{{Field: "state", Rule: "must be a referral state such as received or accepted"}}}
		}
		f.States = []protocol.State{q.State}
	}
	recs, err := n.store.Referrals(f)
	if err != nil {
		return nil, err
	}
	pending, err := n.pending()
	if err != nil {
		return nil, err
	}
	out := make([]ReferralInfo, len(recs))
	for i, rec := range recs {
		out[i] = n.referralInfo(rec, pending[rec.Referral.ID])
	}
	return out, nil
}

// pending counts the outbox entries per referral.
func (n *Node) pending() (map[string]int, error) { return n.store.Pending() }

func (n *Node) referralInfo(rec store.ReferralRecord, pending int) ReferralInfo {
	info := ReferralInfo{Referral: rec.Referral, Role: rec.Role, Partner: partnerOf(rec, n.id.ID), SME: rec.SME,
		Pending: pending, Actions: []protocol.Event{}, Updated: rec.Updated}
	for _, ev := range actions {
		if _, err := protocol.Next(rec.Referral.State, rec.Referral.HeldFrom, ev, rec.Role); err == nil {
			info.Actions = append(info.Actions, ev)
		}
	}
	return info
}

// Report is the KPI report of a period: the services this hub delivered through
// referrals, and its collaborations with other hubs, each counted once.
type Report struct {
	Hub               string               `json:"hub"`
	From              time.Time            `json:"from"`
	To                time.Time            `json:"to"`
	ServicesDelivered int                  `json:"services_delivered"`
	ByCategory        map[string]int       `json:"by_category"`
	BySector          map[string]int       `json:"by_sector"`
	ByRegion          map[string]int       `json:"by_region"`
	ByFamily          map[string]int       `json:"by_family"`
	Collaborations    int                  `json:"collaborations"`
	ByPartner         map[string]int       `json:"by_partner"`
	Records           []protocol.KPIRecord `json:"records"`
}

// Report sums the KPI records of [from, to).
func (n *Node) Report(from, to time.Time) (Report, error) {
	if !to.After(from) {
		return Report{}, &protocol.ValidationError{What: "report", Problems: []protocol.FieldError{{Field: "to", Rule: "must be after from"}}}
	}
	recs, err := n.store.KPIs(from, to)
	if err != nil {
		return Report{}, err
	}
	r := Report{Hub: n.id.ID, From: from, To: to, ByCategory: map[string]int{}, BySector: map[string]int{},
		ByRegion: map[string]int{}, ByFamily: map[string]int{}, ByPartner: map[string]int{}, Records: recs}
	for _, k := range recs {
		switch k.Kind {
		case protocol.KPIServiceDelivered:
			r.ServicesDelivered++
			r.ByCategory[string(k.Category)]++
			r.BySector[k.Sector]++
			r.ByRegion[k.Region]++
			r.ByFamily[string(k.Family)]++
		case protocol.KPICollaboration:
			r.Collaborations++
			r.ByPartner[k.Partner]++
		}
	}
	return r, nil
}

// WriteReportCSV writes the report's records as CSV, one line per record.
func WriteReportCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"kind", "referral", "hub", "partner", "role", "completed", "customer_category", "sector", "region", "service_family", "technologies", "outcome"})
	for _, k := range r.Records {
		cw.Write([]string{string(k.Kind), k.Referral, k.Hub, k.Partner, string(k.Role), k.At.Format(time.RFC3339),
			string(k.Category), k.Sector, k.Region, string(k.Family), strings.Join(k.Technologies, " "), k.Outcome})
	}
	cw.Flush()
	return cw.Error()
}

// referralRoutes adds the referral endpoints; every one needs the operator token,
// since referrals hold an SME's identity.
func (n *Node) referralRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/referrals", n.auth(func(w http.ResponseWriter, r *http.Request) {
		var req ReferralRequest
		if err := decodeBody(w, r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		info, err := n.Refer(req)
		if err == nil {
			w.WriteHeader(http.StatusCreated)
		}
		reply(w, info, err)
	}))
	mux.HandleFunc("GET /v1/referrals", n.auth(func(w http.ResponseWriter, r *http.Request) {
		v, err := queryOf(r)
		if err != nil {
			reply(w, nil, err)
			return
		}
		q, err := parseReferralQuery(v)
		if err != nil {
			reply(w, nil, err)
			return
		}
		list, err := n.Referrals(q)
		reply(w, list, err)
	}))
	mux.HandleFunc("GET /v1/referrals/{id}", n.auth(func(w http.ResponseWriter, r *http.Request) {
		info, err := n.Referral(r.PathValue("id"))
		reply(w, info, err)
	}))
	mux.HandleFunc("POST /v1/referrals/{id}/{action}", n.auth(func(w http.ResponseWriter, r *http.Request) {
		var a ReferralAction
		if r.ContentLength != 0 {
			if err := decodeBody(w, r, &a); err != nil {
				reply(w, nil, err)
				return
			}
		}
		info, err := n.Act(r.PathValue("id"), protocol.Event(r.PathValue("action")), a)
		reply(w, info, err)
	}))
	mux.HandleFunc("GET /v1/report", n.auth(func(w http.ResponseWriter, r *http.Request) {
		v, err := queryOf(r)
		if err != nil {
			reply(w, nil, err)
			return
		}
		from, err1 := ParseDay(v.Get("from"), "from")
		to, err2 := ParseDay(v.Get("to"), "to")
		if err := errors.Join(err1, err2); err != nil {
			reply(w, nil, &protocol.ValidationError{What: "report", Problems: fieldProblems(err1, err2)})
			return
		}
		rep, err := n.Report(from, to)
		if err != nil || v.Get("format") != "csv" {
			reply(w, rep, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		WriteReportCSV(w, rep)
	}))
}

func parseReferralQuery(v url.Values) (ReferralQuery, error) {
	q := ReferralQuery{Direction: v.Get("direction"), State: protocol.State(v.Get("state")), Partner: v.Get("partner")}
	var errs []error
	if s := v.Get("from"); s != "" {
		t, err := ParseDay(s, "from")
		q.From, errs = t, append(errs, err)
	}
	if s := v.Get("to"); s != "" {
		t, err := ParseDay(s, "to")
		q.To, errs = t, append(errs, err)
	}
	if p := fieldProblems(errs...); len(p) > 0 {
		return q, &protocol.ValidationError{What: "referral list", Problems: p}
	}
	return q, nil
}

// ParseDay reads a date (2026-11-22, as midnight UTC) or an RFC 3339 time, as GET
// /v1/referrals and /v1/report read from and to; a bad one is a protocol.FieldError
// of field.
func ParseDay(s, field string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, protocol.FieldError{Field: field, Rule: "must be a date such as 2026-11-22 or an RFC 3339 time"}
}

func fieldProblems(errs ...error) []protocol.FieldError {
	var out []protocol.FieldError
	for _, err := range errs {
		var fe protocol.FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
		}
	}
	return out
}
