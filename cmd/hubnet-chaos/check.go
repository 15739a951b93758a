package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The end of a run: the network settles, then the checks compare what every hub shows
// with each other and with what the driver knows it did.

// hubView is what one hub shows through its API.
type hubView struct {
	id        string
	self      api.SelfInfo
	hubs      []api.HubInfo
	peers     []api.PeerInfo
	referrals []api.ReferralInfo
	report    api.Report
	err       error // some part could not be read
}

// snapshot reads every hub's view at once; period is the report's.
func snapshot(ctx context.Context, c *cluster, cl *client, from, to time.Time) []hubView {
	views := make([]hubView, len(c.hubs))
	var wg sync.WaitGroup
	for i, h := range c.hubs {
		wg.Go(func() {
			defer c.closeOnPanic()
			v := hubView{id: h.id}
			for _, read := range []func(*api.Client) error{
				func(ac *api.Client) (err error) { v.self, err = ac.Self(ctx); return err },
				func(ac *api.Client) (err error) { v.hubs, err = ac.Hubs(ctx); return err },
				func(ac *api.Client) (err error) { v.peers, err = ac.Peers(ctx); return err },
				func(ac *api.Client) (err error) {
					v.referrals, err = ac.Referrals(ctx, api.ReferralQuery{})
					return err
				},
				func(ac *api.Client) (err error) { v.report, err = ac.Report(ctx, day(from), day(to)); return err },
			} {
				if v.err = cl.get(h, read); v.err != nil {
					break
				}
			}
			views[i] = v
		})
	}
	wg.Wait()
	return views
}

// day is the date of t, where t is, as midnight UTC: a day of the KPI report.
func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// pair is one referral as its two hubs show it; either may be missing.
type pair struct {
	id   string
	s, v *api.ReferralInfo // at the referring hub, at the receiving hub
}

// pairs matches the referrals the hubs list by ID, and returns every listing of a
// referral at a hub that is not party to it, or twice at one hub.
func pairs(views []hubView) (map[string]*pair, []string) {
	all := map[string]*pair{}
	var wrong []string
	for _, view := range views {
		seen := map[string]bool{}
		for i := range view.referrals {
			info := &view.referrals[i]
			r := info.Referral
			if seen[r.ID] {
				wrong = append(wrong, fmt.Sprintf("duplicated: %s lists referral %s more than once", view.id, r.ID))
				continue
			}
			seen[r.ID] = true
			p := all[r.ID]
			if p == nil {
				p = &pair{id: r.ID}
				all[r.ID] = p
			}
			switch view.id {
			case r.From:
				p.s = info
			case r.To:
				p.v = info
			default:
				wrong = append(wrong, fmt.Sprintf("stray: %s lists referral %s from %s to %s", view.id, r.ID, r.From, r.To))
			}
		}
	}
	return all, wrong
}

// unsettled returns what keeps the network from having settled: a hub not answering,
// a referral message not yet acknowledged, a directory or a member list behind. Once
// every message is acknowledged, every hub has applied or refused every change the
// others made, so what the two hubs of a referral then show no longer changes.
func unsettled(views []hubView) []string {
	var out []string
	for _, v := range views {
		if v.err != nil {
			out = append(out, v.err.Error())
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, v := range views {
		pending := 0
		for _, info := range v.referrals {
			pending += info.Pending
		}
		if pending > 0 {
			out = append(out, fmt.Sprintf("%s has %d referral messages not yet acknowledged", v.id, pending))
		}
	}
	return append(out, directoryProblems(views)...)
}

// directoryProblems returns every hub whose directory or member list is wrong about
// another: not listed, not reachable, not alive, or at another revision than the hub
// itself is.
func directoryProblems(views []hubView) []string {
	var out []string
	for _, v := range views {
		for _, o := range views {
			if o.id == v.id {
				continue
			}
			i := slices.IndexFunc(v.hubs, func(h api.HubInfo) bool { return h.ID == o.id })
			switch {
			case i < 0:
				out = append(out, fmt.Sprintf("%s's directory does not list %s", v.id, o.id))
			case !v.hubs[i].Reachable:
				out = append(out, fmt.Sprintf("%s's directory lists %s as unreachable", v.id, o.id))
			case v.hubs[i].Revision != o.self.Revision:
				out = append(out, fmt.Sprintf("%s's directory has %s at revision %d, %s is at %d", v.id, o.id, v.hubs[i].Revision, o.id, o.self.Revision))
			}
			j := slices.IndexFunc(v.peers, func(p api.PeerInfo) bool { return p.ID == o.id })
			switch {
			case j < 0:
				out = append(out, fmt.Sprintf("%s's member list does not list %s", v.id, o.id))
			case v.peers[j].State != "alive":
				out = append(out, fmt.Sprintf("%s's member list has %s %s", v.id, o.id, v.peers[j].State))
			case v.peers[j].Gossip != o.self.Addrs.Gossip:
				out = append(out, fmt.Sprintf("%s's member list has %s at %s, %s gossips at %s", v.id, o.id, v.peers[j].Gossip, o.id, o.self.Addrs.Gossip))
			}
		}
	}
	return out
}

// outcomes are what the driver knows of the operations it ran.
type outcomes struct {
	creates  map[int]creation
	byID     map[string]*referral
	profiles []*profileModel
}

// summary is what the hubs hold at the end, for the report.
type summary struct {
	referrals      int
	unsureFound    int // referrals created by a request of unknown outcome
	states         map[protocol.State]int
	delivered      int // services delivered, over all hubs' reports
	collaborations int
	crossed        int // referrals both hubs once acted on at once
	superseded     int // referrals whose history holds an ending that gave way to the other hub's
}

// check returns every inconsistency between the hubs' views, and between them and the
// driver's outcomes, with a summary of what the views hold.
func check(views []hubView, o outcomes) ([]string, summary) {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	sum := summary{states: map[protocol.State]int{}}
	byHub := map[string]*hubView{}
	for i := range views {
		byHub[views[i].id] = &views[i]
		if views[i].err != nil {
			add("unreadable: %v", views[i].err)
		}
	}
	all, wrong := pairs(views)
	out = append(out, wrong...)

	// None lost: every referral the API said it created is at its referring hub.
	for n, c := range o.creates {
		if c.outcome != outcomeOK {
			continue
		}
		if p := all[c.id]; p == nil || p.s == nil {
			add("lost: referral %s, created by operation %d at hub-%d (201), is not at hub-%d", c.id, n, c.from+1, c.from+1)
		}
	}

	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	slices.Sort(ids) // UUIDv7: in order of creation
	byOp := map[int][]string{}
	completed := map[string]*pair{}
	for _, id := range ids {
		p := all[id]
		r := p.any().Referral
		sum.referrals++

		// Every referral comes from an operation that created it, once.
		n := opOf(r)
		byOp[n] = append(byOp[n], id)
		switch c, ok := o.creates[n]; {
		case !ok:
			add("unasked: referral %s from %s to %s (%q) comes from no operation of the run", id, r.From, r.To, r.Need.Description)
		case c.outcome == outcomeRefused || c.outcome == outcomeFailed:
			add("unasked: referral %s exists, but operation %d that would have created it was %s", id, n, c.outcome)
		case c.outcome == outcomeUnknown:
			sum.unsureFound++
		}

		// Both hubs hold it, and agree.
		switch {
		case p.s == nil:
			add("lost: referral %s is at its receiving hub %s (%s) but not at its referring hub %s", id, r.To, p.v.Referral.State, r.From)
			continue
		case p.v == nil && p.s.Referral.State == protocol.StateRequested:
			add("undelivered: referral %s from %s is still %s; %s does not have it", id, r.From, protocol.StateRequested, r.To)
			continue
		case p.v == nil:
			add("lost: referral %s is %s at its referring hub %s but not at its receiving hub %s", id, p.s.Referral.State, r.From, r.To)
			continue
		}
		s, v := p.s.Referral, p.v.Referral
		sum.states[s.State]++
		if s.State != v.State || s.HeldFrom != v.HeldFrom || s.Reason != v.Reason || s.Outcome != v.Outcome {
			add("diverged: referral %s is %s at %s and %s at %s", id, describe(s), r.From, describe(v), r.To)
		}
		m := o.byID[id]
		if m != nil && m.crossed {
			sum.crossed++
		}
		if slices.ContainsFunc(s.History, func(c protocol.Change) bool { return c.Superseded }) {
			sum.superseded++
		}
		if d := historyDiff(s.History, v.History); d != "" && (m == nil || !m.crossed) {
			add("diverged: the histories of referral %s differ between %s and %s: %s", id, r.From, r.To, d)
		}
		for _, side := range []struct {
			hub string
			h   []protocol.Change
		}{{r.From, s.History}, {r.To, v.History}} {
			for _, prob := range historyProblems(side.h) {
				add("history: referral %s at %s: %s", id, side.hub, prob)
			}
		}

		// No change the driver made was lost.
		if m != nil && !m.unmodelled && !m.expects(s.State) {
			add("lost: referral %s is %s, but the changes the hubs confirmed leave it %s; what the driver did:\n\t%s",
				id, s.State, m.expected(), joinLines(m.log))
		}

		// The SME's identity: kept by the referring hub; held by the receiving hub
		// from its acceptance until a cancel; at both until a purge that says when
		// and why (the consent's end, the retention after the referral ended).
		if p.s.SME == nil && p.s.SMEPurged.IsZero() {
			add("lost: referral %s: the referring hub %s no longer holds the SME's identity", id, r.From)
		}
		accepted := slices.ContainsFunc(v.History, func(c protocol.Change) bool { return c.Event == protocol.EventAccept })
		switch want := accepted && v.State != protocol.StateCancelled; {
		case want && p.v.SME == nil && p.v.SMEPurged.IsZero():
			add("lost: referral %s is %s at %s, which does not hold the SME's identity", id, v.State, r.To)
		case !want && p.v.SME != nil:
			add("privacy: referral %s is %s at %s, which still holds the SME's identity", id, v.State, r.To)
		}
		if s.State == protocol.StateCompleted {
			completed[id] = p
		}
	}
	for n, list := range byOp {
		if n != 0 && len(list) > 1 {
			add("duplicated: operation %d created %d referrals: %s", n, len(list), strings.Join(list, ", "))
		}
	}

	// KPIs: each completed referral counted once, a service delivered at the receiving
	// hub and a collaboration at each.
	type kpiKey struct {
		kind     protocol.KPIKind
		referral string
		hub      string
	}
	kpis := map[kpiKey]int{}
	for _, v := range views {
		if v.err != nil {
			continue
		}
		delivered, collab := 0, 0
		for _, k := range v.report.Records {
			kpis[kpiKey{k.Kind, k.Referral, k.Hub}]++
			if k.Hub != v.id {
				add("KPI: %s's report holds a %s record of %s for referral %s", v.id, k.Kind, k.Hub, k.Referral)
			}
			if completed[k.Referral] == nil {
				state := protocol.State("unknown")
				if p := all[k.Referral]; p != nil {
					state = p.any().Referral.State
				}
				add("KPI: %s counts a %s for referral %s, which is %s", v.id, k.Kind, k.Referral, state)
			}
			switch k.Kind {
			case protocol.KPIServiceDelivered:
				delivered++
			case protocol.KPICollaboration:
				collab++
			}
		}
		if v.report.ServicesDelivered != delivered || v.report.Collaborations != collab {
			add("KPI: %s reports %d services delivered and %d collaborations, but its records hold %d and %d",
				v.id, v.report.ServicesDelivered, v.report.Collaborations, delivered, collab)
		}
		sum.delivered += v.report.ServicesDelivered
		sum.collaborations += v.report.Collaborations
	}
	for k, n := range kpis {
		if n > 1 {
			add("KPI: %s counts a %s for referral %s %d times", k.hub, k.kind, k.referral, n)
		}
	}
	for _, id := range ids {
		p := completed[id]
		if p == nil {
			continue
		}
		r := p.s.Referral
		for _, want := range []kpiKey{{protocol.KPIServiceDelivered, id, r.To}, {protocol.KPICollaboration, id, r.To}, {protocol.KPICollaboration, id, r.From}} {
			if kpis[want] == 0 && byHub[want.hub] != nil && byHub[want.hub].err == nil {
				add("KPI: referral %s is completed, but %s does not count its %s", id, want.hub, want.kind)
			}
		}
	}

	// Profiles: no confirmed change lost, and every directory up to date.
	for i, v := range views {
		if v.err != nil || i >= len(o.profiles) {
			continue
		}
		pm := o.profiles[i]
		if rev := v.self.Revision; rev < pm.acked || rev > pm.acked+uint64(pm.unsure) {
			add("lost: %s is at profile revision %d, but the changes it confirmed leave it at %d to %d", v.id, rev, pm.acked, pm.acked+uint64(pm.unsure))
		}
	}
	for _, p := range directoryProblems(views) {
		add("directory: %s", p)
	}
	return out, sum
}

// any returns whichever view of the pair exists, the referring hub's first.
func (p *pair) any() *api.ReferralInfo {
	if p.s != nil {
		return p.s
	}
	return p.v
}

// describe is a referral's state with what goes with it.
func describe(r protocol.Referral) string {
	s := string(r.State)
	if r.HeldFrom != "" {
		s += " (held from " + string(r.HeldFrom) + ")"
	}
	if r.Reason != "" {
		s += " reason " + r.Reason
	}
	if r.Outcome != "" {
		s += " outcome " + r.Outcome
	}
	return s
}

// sameChange reports whether two history entries record the same change. The receipt
// is stamped by each hub's own clock, every other change by the hub that made it.
func sameChange(a, b protocol.Change) bool {
	return a.Event == b.Event && a.By == b.By && a.From == b.From && a.To == b.To && a.Note == b.Note &&
		(a.Event == protocol.EventReceive || a.At.Equal(b.At))
}

// historyDiff describes where two hubs' histories of a referral first differ, or
// returns "".
func historyDiff(a, b []protocol.Change) string {
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			return fmt.Sprintf("entry %d, %s, only at the receiving hub", i+1, change(b[i]))
		case i >= len(b):
			return fmt.Sprintf("entry %d, %s, only at the referring hub", i+1, change(a[i]))
		case !sameChange(a[i], b[i]):
			return fmt.Sprintf("entry %d is %s at the referring hub and %s at the receiving hub", i+1, change(a[i]), change(b[i]))
		}
	}
	return ""
}

func change(c protocol.Change) string {
	return fmt.Sprintf("%s by %s %s→%s at %s", c.Event, c.By, c.From, c.To, c.At.Format(time.RFC3339Nano))
}

// historyProblems returns what is wrong with one hub's history of a referral: a change
// recorded twice, a once-only event more than once, a break in the chain of states,
// or anything after an end.
func historyProblems(h []protocol.Change) []string {
	var out []string
	if len(h) == 0 || h[0].Event != protocol.EventSend {
		return []string{"does not start with send"}
	}
	once := map[protocol.Event]int{}
	for i, c := range h {
		for j := range i {
			if h[j].At.Equal(c.At) && sameChange(h[j], c) {
				out = append(out, fmt.Sprintf("entry %d repeats entry %d: %s", i+1, j+1, change(c)))
				break
			}
		}
		switch c.Event {
		case protocol.EventSend, protocol.EventReceive, protocol.EventAccept:
			if once[c.Event]++; once[c.Event] == 2 {
				out = append(out, fmt.Sprintf("%s recorded more than once", c.Event))
			}
		}
		if c.Superseded {
			// An ending that crossed the other hub's and gave way to it: it stands
			// just before the ending that holds, outside the chain of states.
			if !c.To.Final() || i != len(h)-2 || h[i+1].Superseded {
				out = append(out, fmt.Sprintf("entry %d, %s, is superseded but is not an ending just before the last", i+1, change(c)))
			}
			continue
		}
		if p := prevInChain(h, i); p >= 0 && c.From != h[p].To && !(i > 0 && h[i-1].Superseded && c.From == h[i-1].From) {
			out = append(out, fmt.Sprintf("entry %d starts from %s, entry %d ended in %s", i+1, c.From, p+1, h[p].To))
		}
		if c.To.Final() && i < len(h)-1 {
			out = append(out, fmt.Sprintf("entry %d ends it %s, yet %d more follow", i+1, c.To, len(h)-1-i))
		}
	}
	return out
}

// prevInChain returns the index of the last entry before i that is not superseded, or
// -1.
func prevInChain(h []protocol.Change, i int) int {
	for j := i - 1; j >= 0; j-- {
		if !h[j].Superseded {
			return j
		}
	}
	return -1
}

func joinLines(lines []string) string { return strings.Join(lines, "\n\t") }
