package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// ReferralRequest is the body of POST /v1/referrals: an SME referred to hub To.
type ReferralRequest struct {
	To      string           `json:"to"`
	Need    protocol.Need    `json:"need"`
	SME     protocol.SME     `json:"sme"`
	Consent protocol.Consent `json:"consent"`
}

// Validate returns every problem of the referral that hub self would send at now,
// as a *protocol.ValidationError, or nil: the recipient must be another hub and the
// one the consent names, the need, the SME and the consent must keep their rules,
// and the need must not name the SME. These are the rules of a referral request in
// one place: the node applies them before it stores anything, and the CLI and the
// console apply them to show every problem of a form at once.
func (r *ReferralRequest) Validate(self string, now time.Time) error {
	v := &protocol.ValidationError{What: "referral"}
	if !protocol.ValidID(r.To) || r.To == self {
		v.Problems = append(v.Problems, protocol.FieldError{Field: "to", Rule: "must be the ID of another hub"})
	}
	v.Add("need.", r.Need.Validate())
	for _, p := range r.Need.NamesSME(r.SME) {
		v.Problems = append(v.Problems, protocol.FieldError{Field: "need." + p.Field, Rule: p.Rule})
	}
	v.Add("sme.", r.SME.Validate())
	v.Add("consent.", r.Consent.Validate(now))
	if r.Consent.Recipient != r.To {
		v.Problems = append(v.Problems, protocol.FieldError{Field: "consent.recipient", Rule: "must be the hub referred to (" + r.To + ")"})
	}
	return v.Err()
}

// ReferralInfo is a referral as the API shows it to this hub's operator.
type ReferralInfo struct {
	Referral protocol.Referral `json:"referral"`
	Role     protocol.Role     `json:"role"`    // this hub's role
	Partner  string            `json:"partner"` // the other hub
	SME      *protocol.SME     `json:"sme,omitempty"`
	// SMEPurged is when this hub deleted the SME's identity, and SMEPurgeReason why:
	// consent-expired (the SME's consent ended), retention (the hub's retention period
	// after the referral ended passed), partner-revoked (at the receiving hub: the
	// referring hub was revoked), or cancelled (at the receiving hub: the referring hub
	// cancelled). Both are absent while the hub holds the identity, and when it never
	// held it.
	SMEPurged      time.Time `json:"sme_purged,omitzero"`
	SMEPurgeReason string    `json:"sme_purge_reason,omitempty"`
	// Contacts are whom to talk to about the referral at each hub, as far as known.
	Contacts *Contacts        `json:"contacts,omitempty"`
	Pending  int              `json:"pending"` // messages the partner has not acknowledged yet
	Actions  []protocol.Event `json:"actions"` // what this hub may do now
	Updated  time.Time        `json:"updated"`
}

// PurgeReasons says, for people, what each SMEPurgeReason of a ReferralInfo means.
var PurgeReasons = map[string]string{
	"consent-expired": "the SME's consent ended",
	"retention":       "the hub's retention period after the referral ended passed",
	"partner-revoked": "the referring hub was revoked from the network",
	"cancelled":       "the referring hub cancelled the referral",
}

// PurgeNote says when the SME's identity of info was purged and why, as the CLI and
// the console show it: "SME details purged on 2026-12-06 10:00 (retention: ...)". It
// is "" while the hub holds the identity, or never held it. layout formats the time,
// in the time's own location.
func PurgeNote(info ReferralInfo, layout string) string {
	if info.SMEPurged.IsZero() {
		return ""
	}
	why := info.SMEPurgeReason
	if s, ok := PurgeReasons[why]; ok {
		why += ": " + s
	}
	return "SME details purged on " + info.SMEPurged.Format(layout) + " (" + why + ")"
}

// ReferralAction is the optional body of POST /v1/referrals/{id}/{action}.
type ReferralAction struct {
	Reason  string `json:"reason,omitempty"`  // decline, fail, cancel
	Outcome string `json:"outcome,omitempty"` // complete
	Note    string `json:"note,omitempty"`
}

// ReferralQuery selects referrals; zero fields select all. On the wire it is the
// query string of GET /v1/referrals: direction, state, partner, from and to.
type ReferralQuery struct {
	Direction string // "in" (received) or "out" (sent)
	State     protocol.State
	Partner   string
	From, To  time.Time // created in [From, To)
}

// values is q as the parameters of GET /v1/referrals.
func (q ReferralQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("direction", q.Direction)
	set("state", string(q.State))
	set("partner", q.Partner)
	set("from", day(q.From))
	set("to", day(q.To))
	return v
}

// day spells t as the node reads it: a date (2026-11-22) for midnight UTC, else an
// RFC 3339 time; "" for the zero time.
func day(t time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case t.Location() == time.UTC && t.Equal(t.Truncate(24*time.Hour)):
		return t.Format(time.DateOnly)
	default:
		return t.Format(time.RFC3339Nano)
	}
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

// Refer sends a referral and returns it as stored, with its new ID: POST
// /v1/referrals. The node delivers it to hub req.To now, or when that hub is back.
func (c *Client) Refer(ctx context.Context, req ReferralRequest) (ReferralInfo, error) {
	var info ReferralInfo
	return info, c.send(ctx, http.MethodPost, "/v1/referrals", req, &info)
}

// Referrals lists the referrals q selects, newest first: GET /v1/referrals.
func (c *Client) Referrals(ctx context.Context, q ReferralQuery) ([]ReferralInfo, error) {
	var list []ReferralInfo
	return list, c.get(ctx, "/v1/referrals", q.values(), true, &list)
}

// Referral returns referral id: GET /v1/referrals/{id}.
func (c *Client) Referral(ctx context.Context, id string) (ReferralInfo, error) {
	var info ReferralInfo
	return info, c.get(ctx, "/v1/referrals/"+url.PathEscape(id), nil, true, &info)
}

// Act makes event ev (accept, decline, hold, answer, start, complete, fail or cancel)
// on referral id as this hub and returns the referral after it: POST
// /v1/referrals/{id}/{action}. An event the referral's lifecycle does not allow now
// is an [*Error] with status 409 and code [CodeNotAllowed].
func (c *Client) Act(ctx context.Context, id string, ev protocol.Event, a ReferralAction) (ReferralInfo, error) {
	var info ReferralInfo
	return info, c.send(ctx, http.MethodPost, "/v1/referrals/"+url.PathEscape(id)+"/"+url.PathEscape(string(ev)), a, &info)
}

// Report returns the KPI report of the referrals completed in [from, to): GET
// /v1/report.
func (c *Client) Report(ctx context.Context, from, to time.Time) (Report, error) {
	var r Report
	return r, c.get(ctx, "/v1/report", reportValues(from, to, ""), true, &r)
}

// ReportCSV returns the KPI records of [from, to) as CSV, one line per record: GET
// /v1/report?format=csv.
func (c *Client) ReportCSV(ctx context.Context, from, to time.Time) ([]byte, error) {
	return c.do(ctx, http.MethodGet, "/v1/report", reportValues(from, to, "csv"), nil, true, nil)
}

func reportValues(from, to time.Time, format string) url.Values {
	v := url.Values{"from": {day(from)}, "to": {day(to)}}
	if format != "" {
		v.Set("format", format)
	}
	return v
}
