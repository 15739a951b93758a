package store

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// KPIs returns the KPI records whose At is in [from, to), ordered by At, then Kind,
// then Referral, then Hub. A zero from or to leaves that end open. The slice is empty,
// not nil, when none is.
func (s *Store) KPIs(from, to time.Time) ([]protocol.KPIRecord, error) {
	kpis := []protocol.KPIRecord{}
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKPIs).ForEach(func(k, v []byte) error {
			var r protocol.KPIRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode KPI record %q: %w", k, err)
			}
			if (!from.IsZero() && r.At.Before(from)) || (!to.IsZero() && !r.At.Before(to)) {
				return nil
			}
			kpis = append(kpis, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read KPI records: %w", err)
	}
	slices.SortFunc(kpis, func(a, b protocol.KPIRecord) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Kind, b.Kind),
			strings.Compare(a.Referral, b.Referral), strings.Compare(a.Hub, b.Hub))
	})
	return kpis, nil
}

// kpiKey is a KPI record's key: writing the same (Kind, Referral, Hub) again replaces
// it, so a report counts it once. Validation keeps NUL bytes out of the parts: kinds
// are known words, referrals UUIDs and hubs slugs.
func kpiKey(k protocol.KPIRecord) []byte {
	return []byte(string(k.Kind) + "\x00" + k.Referral + "\x00" + k.Hub)
}
