package store

import (
	"slices"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// testKPI returns a valid KPI record of the referral ref written by hub-two.
func testKPI(kind protocol.KPIKind, ref string, at time.Time) protocol.KPIRecord {
	return protocol.KPIRecord{Kind: kind, Referral: ref, Hub: "hub-two", Partner: "hub-one",
		Role: protocol.RoleReceiver, At: at, Category: protocol.CategorySmall, Sector: "C", Region: "FI1B1",
		Family: protocol.FamilyTestBeforeInvest, Outcome: "service-delivered"}
}

func mustKPIs(t testing.TB, s *Store, from, to time.Time) []protocol.KPIRecord {
	t.Helper()
	kpis, err := s.KPIs(from, to)
	if err != nil {
		t.Fatalf("KPIs: %v", err)
	}
	return kpis
}

func TestStore_KPIs(t *testing.T) {
	s := mustOpen(t)
	rec := testRecord(t, protocol.RoleReceiver, testTime)
	r1, r2 := mustUUID(t), mustUUID(t)
	day := 24 * time.Hour
	jan, feb, mar := testTime, testTime.Add(31*day), testTime.Add(59*day)
	first := testKPI(protocol.KPIServiceDelivered, r1, feb)
	mustSave(t, s, rec, nil, []protocol.KPIRecord{
		testKPI(protocol.KPICollaboration, r2, jan),
		first,
		testKPI(protocol.KPICollaboration, r1, feb),
		testKPI(protocol.KPIServiceDelivered, r2, mar),
	})
	// The same record again, as when a completion is applied a second time: it replaces
	// the first and is counted once.
	again := first
	again.Outcome = "partially-delivered"
	mustSave(t, s, rec, nil, []protocol.KPIRecord{again})
	// The partner's collaboration record of the same referral is another record.
	theirs := testKPI(protocol.KPICollaboration, r1, feb)
	theirs.Hub, theirs.Partner, theirs.Role = "hub-one", "hub-two", protocol.RoleSender
	mustSave(t, s, rec, nil, []protocol.KPIRecord{theirs})

	type key struct {
		kind protocol.KPIKind
		ref  string
		hub  string
	}
	keys := func(kpis []protocol.KPIRecord) []key {
		var out []key
		for _, k := range kpis {
			out = append(out, key{k.Kind, k.Referral, k.Hub})
		}
		return out
	}
	febKeys := []key{{protocol.KPICollaboration, r1, "hub-one"}, {protocol.KPICollaboration, r1, "hub-two"},
		{protocol.KPIServiceDelivered, r1, "hub-two"}}
	tests := []struct {
		name     string
		from, to time.Time
		want     []key
	}{
		{"all", time.Time{}, time.Time{}, slices.Concat([]key{{protocol.KPICollaboration, r2, "hub-two"}}, febKeys,
			[]key{{protocol.KPIServiceDelivered, r2, "hub-two"}})},
		{"february", feb, mar, febKeys},
		{"to is exclusive", jan.Add(time.Nanosecond), feb, nil},
		{"from is inclusive", mar, mar.Add(time.Nanosecond), []key{{protocol.KPIServiceDelivered, r2, "hub-two"}}},
		{"open start", time.Time{}, feb, []key{{protocol.KPICollaboration, r2, "hub-two"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(mustKPIs(t, s, tt.from, tt.to)); !slices.Equal(got, tt.want) {
				t.Errorf("KPIs(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
	for _, k := range mustKPIs(t, s, feb, mar) {
		if k.Kind == protocol.KPIServiceDelivered && k.Outcome != "partially-delivered" {
			t.Errorf("rewritten KPI record has outcome %q, want the second write's", k.Outcome)
		}
	}
}
