package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// maxProblems bounds the inconsistencies printed in full; the rest are counted.
const maxProblems = 100

// opOrder is the order operations are listed in.
var opOrder = []string{"refer", "accept", "decline", "hold", "answer", "start", "complete", "fail", "cancel", "profile", "capacity"}

// write prints the report as text.
func (r *Report) write(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "hubnet chaos run: seed %d, %d hubs in %d cluster(s) (gossip %s), %d operations and %d faults planned over %v\n",
		c.Seed, c.Hubs, c.Clusters, c.Gossip, c.Ops, c.Faults, c.Duration)
	if r.Build > 0 {
		fmt.Fprintf(w, "hubnet built in %v\n", r.Build.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "hubs: %s\n", r.Layout)
	fmt.Fprintf(w, "setup: %d hubs initialised, started and knowing each other in %v\n", c.Hubs, r.Setup.Round(time.Millisecond))
	if c.Gateways > 0 {
		fmt.Fprintf(w, "leaf hubs: %s at the start, %s at the end\n", orNone(r.LeafStart), orNone(r.LeafEnd))
	}

	fmt.Fprintf(w, "\noperations: %d of %d started in %v, %d at a time\n", r.Started, c.Ops, r.Load.Round(time.Millisecond), c.Workers)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  operation\tok\trefused\tfailed\tunknown\t")
	var total tally
	for _, name := range opOrder {
		t := r.Tallies[name]
		if t == nil {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t\n", name, t[outcomeOK], t[outcomeRefused], t[outcomeFailed], t[outcomeUnknown])
		for i := range total {
			total[i] += t[i]
		}
	}
	fmt.Fprintf(tw, "  total\t%d\t%d\t%d\t%d\t\n", total[outcomeOK], total[outcomeRefused], total[outcomeFailed], total[outcomeUnknown])
	tw.Flush()
	fmt.Fprintln(w, "  (failed: the hub was not reached; unknown: no answer, so it may have been done)")
	if c.Clusters > 1 {
		fmt.Fprintf(w, "  referrals created: %d, %d of them from one cluster to another, across a gateway\n", r.Referred, r.AcrossGW)
	}
	for _, k := range sortedKeys(r.Skipped) {
		fmt.Fprintf(w, "  not run, %s: %d\n", k, r.Skipped[k])
	}
	for _, s := range r.Refusals {
		fmt.Fprintf(w, "  refused: %s\n", s)
	}
	for _, s := range r.ServerErrors {
		fmt.Fprintf(w, "  server error: %s\n", s)
	}

	fmt.Fprintf(w, "\nfaults: %d injected of %d planned\n", len(r.Faults), c.Faults)
	for _, f := range r.Faults {
		what := f.detail
		if f.err != nil {
			what = "FAILED: " + f.err.Error()
		}
		fmt.Fprintf(w, "  at %6.1fs  %-10s %s (pid %d): %s\n", f.start.Seconds(), f.kind, f.hubID, f.pid, what)
	}

	if r.Settled {
		fmt.Fprintf(w, "\nsettled in %v after the load (bound %v)\n", r.Settle.Round(time.Millisecond), c.Settle)
	} else {
		fmt.Fprintf(w, "\nnot settled within %v after the load\n", c.Settle)
	}
	s := r.Summary
	fmt.Fprintf(w, "referrals: %d at the end", s.referrals)
	if s.unsureFound > 0 {
		fmt.Fprintf(w, " (%d of them created by a request that got no answer)", s.unsureFound)
	}
	var states []string
	for _, st := range protocol.States {
		if n := s.states[st]; n > 0 {
			states = append(states, fmt.Sprintf("%s %d", st, n))
		}
	}
	fmt.Fprintf(w, "; %s\n", strings.Join(states, ", "))
	fmt.Fprintf(w, "crossings: %d referrals acted on by both hubs at once; %d ended with one hub's ending superseded by the other's\n",
		s.crossed, s.superseded)
	fmt.Fprintf(w, "KPI reports: %d services delivered, %d collaborations\n", s.delivered, s.collaborations)

	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "\ninconsistencies: none")
	} else {
		fmt.Fprintf(w, "\ninconsistencies: %d\n", len(r.Problems))
		for i, p := range r.Problems {
			if i == maxProblems {
				fmt.Fprintf(w, "  ... and %d more\n", len(r.Problems)-maxProblems)
				break
			}
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	if r.Kept {
		fmt.Fprintf(w, "\ndata directories and hub logs: %s\n", r.Dir)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// orNone lists ids, or says there are none.
func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, " ")
}
