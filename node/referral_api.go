package node

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// referralRoutes adds the referral endpoints; every one needs a token with its
// scope (read, refer, act or report), since referrals hold an SME's identity.
func (n *Node) referralRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/referrals", n.need(api.ScopeRefer, func(w http.ResponseWriter, r *http.Request) {
		var req api.ReferralRequest
		if err := decodeBody(w, r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		info, err := n.ReferAs(actorOf(r), req)
		if err == nil {
			// The header goes out with the status: set the type reply would set.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
		}
		reply(w, info, err)
	}))
	mux.HandleFunc("GET /v1/referrals", n.need(api.ScopeRead, func(w http.ResponseWriter, r *http.Request) {
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
	mux.HandleFunc("GET /v1/referrals/{id}", n.need(api.ScopeRead, func(w http.ResponseWriter, r *http.Request) {
		info, err := n.Referral(r.PathValue("id"))
		reply(w, info, err)
	}))
	mux.HandleFunc("POST /v1/referrals/{id}/{action}", n.need(api.ScopeAct, func(w http.ResponseWriter, r *http.Request) {
		var a api.ReferralAction
		if r.ContentLength != 0 {
			if err := decodeBody(w, r, &a); err != nil {
				reply(w, nil, err)
				return
			}
		}
		info, err := n.ActAs(actorOf(r), r.PathValue("id"), protocol.Event(r.PathValue("action")), a)
		reply(w, info, err)
	}))
	mux.HandleFunc("GET /v1/report", n.need(api.ScopeReport, func(w http.ResponseWriter, r *http.Request) {
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

func parseReferralQuery(v url.Values) (api.ReferralQuery, error) {
	q := api.ReferralQuery{Direction: v.Get("direction"), State: protocol.State(v.Get("state")), Partner: v.Get("partner")}
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
