package api_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// TestReferralRequest_Validate checks the rules of a referral request that the
// node, the CLI and the console share: each broken rule is named by its field.
func TestReferralRequest_Validate(t *testing.T) {
	now := time.Now()
	good := referralTo("hub-two")
	if err := good.Validate("hub-one", now); err != nil {
		t.Fatalf("a good referral: %v", err)
	}
	cases := []struct {
		name   string
		change func(r *api.ReferralRequest)
		fields []string
	}{
		{"to itself", func(r *api.ReferralRequest) { r.To, r.Consent.Recipient = "hub-one", "hub-one" }, []string{"to"}},
		{"no recipient", func(r *api.ReferralRequest) { r.To, r.Consent.Recipient = "", "" }, []string{"to"}},
		{"consent for another hub", func(r *api.ReferralRequest) { r.Consent.Recipient = "hub-three" }, []string{"consent.recipient"}},
		{"need names the SME", func(r *api.ReferralRequest) {
			r.Need.Description = "Leipomo Esimerkki Oy wants to test a robot arm."
		}, []string{"need.description"}},
		{"lapsed consent and a bad region", func(r *api.ReferralRequest) {
			r.Consent.Until, r.Need.Region = now.Add(-time.Hour), "XX9"
		}, []string{"need.region", "consent.until"}},
		{"no SME contact", func(r *api.ReferralRequest) { r.SME.ContactEmail = "aino at leipomo" }, []string{"sme.contact_email"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := referralTo("hub-two")
			c.change(&r)
			var got []string
			for _, p := range protocol.ProblemsOf(r.Validate("hub-one", now)) {
				if p.Rule == "" {
					t.Errorf("problem of %s has no rule", p.Field)
				}
				got = append(got, p.Field)
			}
			for _, f := range c.fields {
				if !slices.Contains(got, f) {
					t.Errorf("problems name %v, want %s among them", got, f)
				}
			}
		})
	}
}
