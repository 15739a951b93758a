package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
)

func newPeersCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: a.T("List the hubs this node gossips with"),
		Long: a.T(`List this hub and every other hub its node has heard of in the gossip network:
its state (alive, suspect or gone), its cluster in a network with a region map, gossip
and NATS route addresses, the profile revision it gossips and, when this node's copy is
older, the revision it holds.`),
		Example: "  hubnet -d ./hub peers\n  hubnet --node http://127.0.0.1:7480 peers --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return fail("list peers", err, "")
			}
			var peers []api.PeerInfo
			raw, err := c.call(anyone, func(ac *api.Client) (err error) {
				peers, err = ac.Peers(cmd.Context())
				return err
			})
			if err != nil {
				return fail("list peers", err, "")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			now := time.Now()
			clustered := slices.ContainsFunc(peers, func(p api.PeerInfo) bool { return p.Cluster != "" })
			headers := []string{a.T("ID"), a.T("STATE"), a.T("GOSSIP"), a.T("ROUTE"), a.T("REV"), a.T("LAST SEEN")}
			if clustered {
				headers = slices.Insert(headers, 2, a.T("CLUSTER"))
			}
			t := newTable(w, headers...)
			for _, p := range peers {
				rev := fmt.Sprint(p.Revision)
				if p.Cached != p.Revision {
					rev = a.T("%d (have %d)", p.Revision, p.Cached)
				}
				seen := a.ago(p.LastSeen, now)
				if p.Self {
					seen = a.T("self")
				}
				if clustered {
					t.row(p.ID, p.State, p.Cluster, p.Gossip, p.Route, rev, seen)
				} else {
					t.row(p.ID, p.State, p.Gossip, p.Route, rev, seen)
				}
			}
			return t.flush()
		},
	}
}
