package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// mustJSONOf encodes v for a comparison.
func mustJSONOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readExpected decodes the file name of dir into v; false when there is none.
func readExpected(t *testing.T, dir, name string, v any) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return true
}

// The data directories that older hubnet builds left, one per schema version
// (testdata/datadirs, made with make.sh by the last build of each version): `hubnet
// run` of today starts on each, migrates its store, serves the hub's profile,
// directory, referrals and KPI report as the old node served them before it stopped,
// and takes changes.
func TestRun_olderDataDir(t *testing.T) {
	srcs, err := filepath.Glob(filepath.Join("testdata", "datadirs", "schema*"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no data directories in testdata/datadirs: %v", err)
	}
	for _, src := range srcs {
		t.Run(filepath.Base(src), func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{node.StoreFile, node.TokenFile} {
				b, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p := startHubnet(t, "run", "-d", dir, "--gossip-addr", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0",
				"--http-addr", "127.0.0.1:0", "--gossip", "local")
			nodetest.Eventually(t, 15*time.Second, func() error {
				select {
				case <-p.done:
					t.Fatalf("hubnet run exited: %v\n%s", p.err, p.stderr.String())
				default:
				}
				_, err := readNodeFile(dir)
				return err
			})
			hub := newAPIClient(t, dir)

			var want protocol.Profile
			readExpected(t, src, "self.json", &want)
			var self api.SelfInfo
			if err := hub.do(http.MethodGet, "/v1/self", nil, &self, http.StatusOK); err != nil {
				t.Fatal(err)
			}
			if self.Profile == nil || mustJSONOf(t, *self.Profile) != mustJSONOf(t, want) {
				t.Errorf("own profile:\n%s\nwant what the old node served:\n%s", mustJSONOf(t, self.Profile), mustJSONOf(t, want))
			}

			var wantHubs, hubs []api.HubInfo
			readExpected(t, src, "hubs.json", &wantHubs)
			if err := hub.do(http.MethodGet, "/v1/hubs", nil, &hubs, http.StatusOK); err != nil {
				t.Fatal(err)
			}
			if len(hubs) != len(wantHubs) {
				t.Errorf("%d hubs in the directory, want %d", len(hubs), len(wantHubs))
			}
			for _, w := range wantHubs {
				i := slices.IndexFunc(hubs, func(h api.HubInfo) bool { return h.ID == w.ID })
				if i < 0 || hubs[i].Revision != w.Revision || mustJSONOf(t, hubs[i].Profile) != mustJSONOf(t, w.Profile) {
					t.Errorf("hub %s is not in the directory as the old node served it", w.ID)
				}
			}

			var wantRefs, refs []api.ReferralInfo
			if readExpected(t, src, "referrals.json", &wantRefs) {
				if err := hub.do(http.MethodGet, "/v1/referrals", nil, &refs, http.StatusOK); err != nil {
					t.Fatal(err)
				}
				if len(refs) != len(wantRefs) {
					t.Errorf("%d referrals, want %d", len(refs), len(wantRefs))
				}
				for _, w := range wantRefs {
					i := slices.IndexFunc(refs, func(r api.ReferralInfo) bool { return r.Referral.ID == w.Referral.ID })
					if i < 0 {
						t.Errorf("referral %s is gone", w.Referral.ID)
						continue
					}
					w.Updated, refs[i].Updated = time.Time{}, time.Time{}
					if got, want := mustJSONOf(t, refs[i]), mustJSONOf(t, w); got != want {
						t.Errorf("referral reads back as\n%s\nwant what the old node served:\n%s", got, want)
					}
				}
				var wantRep, rep api.Report
				readExpected(t, src, "report.json", &wantRep)
				if err := hub.do(http.MethodGet, "/v1/report?from=2000-01-01&to=2100-01-01", nil, &rep, http.StatusOK); err != nil {
					t.Fatal(err)
				}
				if got, want := mustJSONOf(t, rep), mustJSONOf(t, wantRep); got != want {
					t.Errorf("report:\n%s\nwant what the old node served:\n%s", got, want)
				}
				// A referral in progress can still be cancelled; the message waits for
				// the other hub, which is not running.
				i := slices.IndexFunc(refs, func(r api.ReferralInfo) bool { return r.Referral.State == protocol.StateInProgress })
				if i < 0 {
					t.Fatal("no referral in progress to cancel")
				}
				var info api.ReferralInfo
				err := hub.do(http.MethodPost, "/v1/referrals/"+refs[i].Referral.ID+"/cancel", api.ReferralAction{Reason: "sme-withdrew"}, &info, http.StatusOK)
				if err != nil || info.Referral.State != protocol.StateCancelled || info.Pending != 1 {
					t.Errorf("cancel: %s with %d pending, %v; want cancelled, 1 pending", info.Referral.State, info.Pending, err)
				}
			}

			var saved protocol.Profile
			err := hub.do(http.MethodPut, "/v1/self/capacity/test-before-invest", api.CapacityChange{Available: new(1)}, &saved, http.StatusOK)
			if err != nil || saved.Revision != want.Revision+1 {
				t.Errorf("capacity change: revision %d, %v; want %d", saved.Revision, err, want.Revision+1)
			}
			p.stop(t, 10*time.Second)
		})
	}
}
