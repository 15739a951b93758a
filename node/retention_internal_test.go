package node

import (
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

func TestDetailsRefused(t *testing.T) {
	const retain = 24 * time.Hour
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	until := start.Add(30 * 24 * time.Hour)
	open := store.ReferralRecord{Role: protocol.RoleReceiver, Referral: protocol.Referral{
		State: protocol.StateAccepted, Consent: protocol.Consent{Until: until},
		History: []protocol.Change{{At: start, Event: protocol.EventAccept, From: protocol.StateReceived, To: protocol.StateAccepted}}}}
	ended := open
	ended.Referral.State = protocol.StateCompleted
	ended.Referral.History = append(ended.Referral.History[:1:1],
		protocol.Change{At: start.Add(time.Hour), Event: protocol.EventComplete, From: protocol.StateInProgress, To: protocol.StateCompleted})
	purged := ended
	purged.Purged, purged.PurgeReason = start.Add(2*time.Hour), "cancelled"

	tests := []struct {
		name string
		rec  store.ReferralRecord
		now  time.Time
		want string // in the refusal; "" when the details are taken
	}{
		{"open, consent holds", open, until.Add(-time.Second), ""},
		{"open, consent ended", open, until, "the SME's consent ended on " + until.Format(time.RFC3339)},
		{"ended, within retention", ended, start.Add(time.Hour + retain - time.Second), ""},
		{"ended, retention passed", ended, start.Add(time.Hour + retain), "the referral ended more than 24h0m0s ago"},
		{"purged", purged, start.Add(3 * time.Hour), "deleted here on " + purged.Purged.Format(time.RFC3339) + " (cancelled)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := detailsRefused(tt.rec, tt.now, retain)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
