package node

import (
	"encoding/csv"
	"io"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// Report sums the KPI records of [from, to).
func (n *Node) Report(from, to time.Time) (api.Report, error) {
	if !to.After(from) {
		return api.Report{}, &protocol.ValidationError{What: "report", Problems: []protocol.FieldError{{Field: "to", Rule: "must be after from"}}}
	}
	recs, err := n.store.KPIs(from, to)
	if err != nil {
		return api.Report{}, err
	}
	r := api.Report{Hub: n.id.ID, From: from, To: to, ByCategory: map[string]int{}, BySector: map[string]int{},
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
func WriteReportCSV(w io.Writer, r api.Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"kind", "referral", "hub", "partner", "role", "completed", "customer_category", "sector", "region", "service_family", "technologies", "outcome"})
	for _, k := range r.Records {
		cw.Write([]string{string(k.Kind), k.Referral, k.Hub, k.Partner, string(k.Role), k.At.Format(time.RFC3339),
			string(k.Category), k.Sector, k.Region, string(k.Family), strings.Join(k.Technologies, " "), k.Outcome})
	}
	cw.Flush()
	return cw.Error()
}

// kpi is the KPI record of kind k that hub self writes for a completed referral.
func kpi(k protocol.KPIKind, rec store.ReferralRecord, self string, at time.Time) protocol.KPIRecord {
	r := rec.Referral
	return protocol.KPIRecord{Kind: k, Referral: r.ID, Hub: self, Partner: rec.Partner(), Role: rec.Role, At: at.UTC(),
		Category: r.Need.Category, Sector: r.Need.Sector, Region: r.Need.Region, Family: r.Need.Family,
		Technologies: r.Need.Technologies, Outcome: r.Outcome}
}
