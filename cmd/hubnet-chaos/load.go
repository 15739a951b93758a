package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The load: a plan of operations drawn from the seed, run by a few workers at an even
// pace over the load's duration, through the hubs' HTTP APIs, whatever the faults do
// to the hubs meanwhile.
//
// The driver keeps a model of what it knows was done: the state each referral reached
// by the last change a hub confirmed, and each hub's profile revision. A request that
// got no answer may or may not have been done, so the model keeps every state it may
// have led to. It acts on a referral only when both hubs show it in the same state with
// nothing left to deliver, so its own changes never cross; and it leaves what a request
// of unknown outcome touched alone until the hub has served for a while again, since a
// paused hub still applies the request it held when it resumes.

// opKind is a kind of planned operation.
type opKind int

const (
	kindRefer    opKind = iota // POST /v1/referrals
	kindAct                    // POST /v1/referrals/{id}/{action}, on a referral ready for it
	kindProfile                // PUT /v1/self/profile
	kindCapacity               // PUT /v1/self/capacity/{family}
)

// op is one planned operation. Its hubs are fixed by the plan; which referral an act
// works on, and how, is chosen when it runs, from the referrals ready then, with the
// op's own random numbers.
type op struct {
	n    int
	kind opKind
	hub  int    // refer: the referring hub; profile, capacity: the hub changed
	to   int    // refer: the hub referred to
	seed uint64 // for the choices made when the op runs
}

// newPlan draws ops operations among hubs hubs from seed.
func newPlan(seed uint64, hubs, ops int) []op {
	rng := rand.New(rand.NewPCG(seed, 1))
	weights := []struct {
		kind   opKind
		weight int
	}{{kindRefer, 22}, {kindAct, 64}, {kindProfile, 6}, {kindCapacity, 8}}
	plan := make([]op, ops)
	for i := range plan {
		o := op{n: i + 1, hub: rng.IntN(hubs), seed: rng.Uint64()}
		w := rng.IntN(100)
		for _, k := range weights {
			if w < k.weight {
				o.kind = k.kind
				break
			}
			w -= k.weight
		}
		o.to = (o.hub + 1 + rng.IntN(hubs-1)) % hubs
		plan[i] = o
	}
	return plan
}

// quiet is how long a hub must have served, after a request to it got no answer,
// before the driver uses again what that request touched.
const quiet = 2 * time.Second

// referral is what the driver knows of one referral it created.
type referral struct {
	id         string
	from, to   int // hub indexes
	op         int // the operation that created it
	busy       bool
	acked      protocol.State   // reached by the last change known to be done
	maybe      []protocol.State // where changes of unknown outcome since may have led
	unsureAt   time.Time        // the last change of unknown outcome
	unsureHub  int              // its hub
	crossed    bool             // the two hubs once acted on it at once
	unmodelled bool             // since then, the driver has not seen both hubs agree
	log        []string         // what the driver did to it
}

// expects reports whether state s is one the driver's changes may have left. A
// referral sent is received without anyone acting.
func (r *referral) expects(s protocol.State) bool {
	for _, e := range append([]protocol.State{r.acked}, r.maybe...) {
		if s == e || (e == protocol.StateRequested && s == protocol.StateReceived) {
			return true
		}
	}
	return false
}

// expected describes the states the driver's changes may have left.
func (r *referral) expected() string {
	s := string(r.acked)
	for _, m := range r.maybe {
		s += " or " + string(m) + " (by a change of unknown outcome)"
	}
	return s
}

// creation is the outcome of a refer operation.
type creation struct {
	outcome outcome
	id      string // when ok
	from    int
	to      int
}

// profileModel is what the driver knows of a hub's own profile.
type profileModel struct {
	busy      bool
	acked     uint64 // revision after the last change known to be done
	unsure    int    // changes of unknown outcome since
	unsureAt  time.Time
	unsureHub int
}

// tally counts the outcomes of one kind of operation.
type tally [4]int

// driver runs the load and keeps its model.
type driver struct {
	c     *cluster
	api   *client
	plan  []op
	cross float64 // the share of actions both hubs take at once

	mu        sync.Mutex // guards everything below
	refs      []*referral
	byID      map[string]*referral
	creates   map[int]creation // by operation number
	profiles  []*profileModel  // by hub index
	tallies   map[string]*tally
	skipped   map[string]int // operations that found nothing to do, by reason
	findings  []string       // inconsistencies seen while the load ran
	refusals  []string       // a sample of refused requests
	srvErrors []string       // a sample of 5xx answers
	started   int            // operations started
}

func newDriver(c *cluster, api *client, plan []op, cross float64) *driver {
	d := &driver{c: c, api: api, plan: plan, cross: cross, byID: map[string]*referral{},
		creates: map[int]creation{}, tallies: map[string]*tally{}, skipped: map[string]int{}}
	for range c.hubs {
		d.profiles = append(d.profiles, &profileModel{})
	}
	return d
}

// readRevisions reads every hub's profile revision before the load starts.
func (d *driver) readRevisions(ctx context.Context) error {
	for i, h := range d.c.hubs {
		var self api.SelfInfo
		if err := d.api.get(h, func(ac *api.Client) (err error) { self, err = ac.Self(ctx); return err }); err != nil {
			return err
		}
		d.profiles[i].acked = self.Revision
	}
	return nil
}

// run starts the planned operations at an even pace over duration, on workers
// workers, and returns when the last one started has ended. Operations not started by
// the end of duration are left out.
func (d *driver) run(ctx context.Context, duration time.Duration, workers int) {
	ops := make(chan op)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			defer d.c.closeOnPanic()
			for o := range ops {
				d.do(ctx, o)
			}
		})
	}
	start := time.Now()
	end := start.Add(duration)
	interval := duration / time.Duration(len(d.plan))
	timer := time.NewTimer(0)
	defer timer.Stop()
plan:
	for i, o := range d.plan {
		timer.Reset(time.Until(start.Add(time.Duration(i) * interval)))
		select {
		case <-ctx.Done():
			break plan
		case <-timer.C:
		}
		// Workers held up by a paused hub delay what follows; the load still ends on
		// time.
		select {
		case <-ctx.Done():
			break plan
		case <-time.After(time.Until(end)):
			break plan
		case ops <- o:
			d.mu.Lock()
			d.started++
			d.mu.Unlock()
		}
	}
	close(ops)
	wg.Wait()
}

func (d *driver) do(ctx context.Context, o op) {
	switch o.kind {
	case kindRefer:
		d.refer(ctx, o)
	case kindAct:
		d.act(ctx, o)
	case kindProfile, kindCapacity:
		d.changeProfile(ctx, o)
	}
}

// count adds a request's outcome to the tally of name; d.mu must be held.
func (d *driver) count(name string, r result) {
	t := d.tallies[name]
	if t == nil {
		t = &tally{}
		d.tallies[name] = t
	}
	t[r.outcome]++
	switch {
	case r.outcome == outcomeRefused && len(d.refusals) < 20:
		d.refusals = append(d.refusals, r.err.Error())
	case r.outcome == outcomeUnknown && r.status >= 500 && len(d.srvErrors) < 20:
		d.srvErrors = append(d.srvErrors, r.err.Error())
	}
}

// find records an inconsistency; d.mu must be held.
func (d *driver) find(format string, args ...any) {
	d.findings = append(d.findings, fmt.Sprintf(format, args...))
}

// quietSince reports whether hub i has served for quiet since t.
func (d *driver) quietSince(i int, t time.Time) bool {
	since, serving := d.c.hubs[i].servingSince()
	return serving && time.Since(maxTime(since, t)) >= quiet
}

// markerRE finds the operation that created a referral in its need's description.
var markerRE = regexp.MustCompile(`^Chaos operation (\d+):`)

// opOf returns the operation named in a referral's description, or 0.
func opOf(r protocol.Referral) int {
	m := markerRE.FindStringSubmatch(r.Need.Description)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// referralRequest is the referral operation o sends to hub to: a need drawn from rng,
// named after o so that it can be found even when the request got no answer.
func referralRequest(o op, to string, rng *rand.Rand) api.ReferralRequest {
	regions := []string{"FI193", "FI1C1", "SE110", "SI041", "PT111", "PL911", "ITH41"}
	sectors := []string{"10", "C", "25", "62", "J", "A"}
	categories := []protocol.Category{protocol.CategoryMicro, protocol.CategorySmall, protocol.CategoryMedium}
	families := []protocol.Family{protocol.FamilyTestBeforeInvest, protocol.FamilySkills}
	techs := []string{"ai-decision-support", "robotics"}
	now := time.Now()
	req := api.ReferralRequest{
		To: to,
		Need: protocol.Need{
			Sector: sectors[rng.IntN(len(sectors))], Region: regions[rng.IntN(len(regions))],
			Category: categories[rng.IntN(len(categories))], Family: families[rng.IntN(len(families))],
			Technologies: techs[:1+rng.IntN(len(techs))],
			Description:  fmt.Sprintf("Chaos operation %d: an SME wants to test machine vision for quality control.", o.n),
		},
		SME: protocol.SME{Name: fmt.Sprintf("Chaos SME %d Oy", o.n), ContactName: "Aino Example",
			ContactEmail: fmt.Sprintf("sme%d@chaos.example", o.n)},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: to,
			Purpose: "referral for test-before-invest services", Until: now.Add(90 * 24 * time.Hour)},
	}
	if rng.IntN(2) == 0 {
		req.Need.Maturity = &protocol.Maturity{Strategy: rng.IntN(101), Readiness: rng.IntN(101), Human: rng.IntN(101),
			Data: rng.IntN(101), Automation: rng.IntN(101), Green: rng.IntN(101)}
	}
	return req
}

func (d *driver) refer(ctx context.Context, o op) {
	rng := rand.New(rand.NewPCG(o.seed, 2))
	from, to := d.c.hubs[o.hub], d.c.hubs[o.to]
	var info api.ReferralInfo
	req := referralRequest(o, to.id, rng)
	res := d.api.call(from, func(ac *api.Client) (err error) { info, err = ac.Refer(ctx, req); return err })
	d.mu.Lock()
	defer d.mu.Unlock()
	d.count("refer", res)
	d.creates[o.n] = creation{outcome: res.outcome, id: info.Referral.ID, from: o.hub, to: o.to}
	if res.outcome != outcomeOK {
		return
	}
	r := &referral{id: info.Referral.ID, from: o.hub, to: o.to, op: o.n, acked: info.Referral.State,
		log: []string{fmt.Sprintf("op %d: referred by %s to %s: %s", o.n, from.id, to.id, info.Referral.State)}}
	if info.Referral.State != protocol.StateRequested {
		d.find("referral %s was created %s by %s, want %s", r.id, info.Referral.State, from.id, protocol.StateRequested)
	}
	d.refs = append(d.refs, r)
	d.byID[r.id] = r
}

// move is one action the driver may take on a referral in some state.
type move struct {
	event  protocol.Event
	by     protocol.Role
	weight int
}

// moves are the actions taken in each state, by weight: referrals mostly go on to
// completion, the rest end every other way.
var moves = map[protocol.State][]move{
	protocol.StateReceived: {{protocol.EventAccept, protocol.RoleReceiver, 10}, {protocol.EventDecline, protocol.RoleReceiver, 2},
		{protocol.EventHold, protocol.RoleReceiver, 2}, {protocol.EventCancel, protocol.RoleSender, 1}},
	protocol.StateOnHold: {{protocol.EventAnswer, protocol.RoleSender, 4}, {protocol.EventStart, protocol.RoleReceiver, 4},
		{protocol.EventFail, protocol.RoleReceiver, 1}, {protocol.EventCancel, protocol.RoleSender, 1}},
	protocol.StateAccepted: {{protocol.EventStart, protocol.RoleReceiver, 8}, {protocol.EventFail, protocol.RoleReceiver, 1},
		{protocol.EventCancel, protocol.RoleSender, 1}},
	protocol.StateInProgress: {{protocol.EventComplete, protocol.RoleReceiver, 8}, {protocol.EventHold, protocol.RoleReceiver, 2},
		{protocol.EventFail, protocol.RoleReceiver, 1}, {protocol.EventCancel, protocol.RoleSender, 1}},
}

// chooseMove draws an action the lifecycle allows from state s (put on hold from
// heldFrom), by role by or, when by is "", by either hub, and the state it leads to.
func chooseMove(rng *rand.Rand, s, heldFrom protocol.State, by protocol.Role) (move, protocol.State, bool) {
	type allowed struct {
		move
		to protocol.State
	}
	var ok []allowed
	total := 0
	for _, m := range moves[s] {
		if by != "" && m.by != by {
			continue
		}
		if to, err := protocol.Next(s, heldFrom, m.event, m.by); err == nil {
			ok = append(ok, allowed{m, to})
			total += m.weight
		}
	}
	if total == 0 {
		return move{}, "", false
	}
	w := rng.IntN(total)
	for _, a := range ok {
		if w < a.weight {
			return a.move, a.to, true
		}
		w -= a.weight
	}
	panic("unreachable")
}

// actionBody is the reason, outcome and note an action carries.
func actionBody(rng *rand.Rand, o op, ev protocol.Event) api.ReferralAction {
	a := api.ReferralAction{Note: fmt.Sprintf("chaos operation %d", o.n)}
	switch ev {
	case protocol.EventDecline:
		a.Reason = protocol.DeclineReasons[rng.IntN(len(protocol.DeclineReasons))]
	case protocol.EventFail:
		a.Reason = protocol.FailReasons[rng.IntN(len(protocol.FailReasons))]
	case protocol.EventCancel:
		a.Reason = protocol.CancelReasons[rng.IntN(len(protocol.CancelReasons))]
	case protocol.EventComplete:
		a.Outcome = protocol.Outcomes[rng.IntN(len(protocol.Outcomes))]
	}
	return a
}

// act takes an action on one referral that is ready for it: both hubs show it in the
// same open state, with nothing left to deliver.
func (d *driver) act(ctx context.Context, o op) {
	rng := rand.New(rand.NewPCG(o.seed, 3))
	d.mu.Lock()
	var cands []*referral
	for _, r := range d.refs {
		if r.busy || (r.acked.Final() && len(r.maybe) == 0 && !r.unmodelled) {
			continue
		}
		if len(r.maybe) > 0 && !d.quietSince(r.unsureHub, r.unsureAt) {
			continue
		}
		cands = append(cands, r)
	}
	d.mu.Unlock()
	tries := 0
	for _, i := range rng.Perm(len(cands)) {
		if tries == 5 {
			break
		}
		r := cands[i]
		d.mu.Lock()
		if r.busy {
			d.mu.Unlock()
			continue
		}
		r.busy = true
		d.mu.Unlock()
		tries++
		done := d.actOn(ctx, rng, o, r)
		d.mu.Lock()
		r.busy = false
		d.mu.Unlock()
		if done {
			return
		}
	}
	d.mu.Lock()
	d.skipped["act: no referral ready"]++
	d.mu.Unlock()
}

// actOn acts on r if it is ready, and reports whether it did. With probability
// d.cross both hubs act on it at once instead: the referring hub cancels or answers
// while the receiving hub takes its own action.
func (d *driver) actOn(ctx context.Context, rng *rand.Rand, o op, r *referral) bool {
	from, to := d.c.hubs[r.from], d.c.hubs[r.to]
	var s, v api.ReferralInfo
	if d.api.get(from, func(ac *api.Client) (err error) { s, err = ac.Referral(ctx, r.id); return err }) != nil ||
		d.api.get(to, func(ac *api.Client) (err error) { v, err = ac.Referral(ctx, r.id); return err }) != nil {
		return false
	}
	if !quiescent(s, v) {
		return false
	}
	state, heldFrom := s.Referral.State, s.Referral.HeldFrom
	d.mu.Lock()
	if !r.unmodelled && !r.expects(state) {
		d.find("referral %s (%s to %s) is %s at both hubs, but the driver's changes leave it %s; what it did:\n\t%s",
			r.id, from.id, to.id, state, r.expected(), joinLines(r.log))
	}
	r.acked, r.maybe, r.unmodelled = state, nil, false
	d.mu.Unlock()
	if state.Final() {
		return false
	}
	if d.cross > 0 && rng.Float64() < d.cross {
		ms, _, okS := chooseMove(rng, state, heldFrom, protocol.RoleSender)
		mv, _, okV := chooseMove(rng, state, heldFrom, protocol.RoleReceiver)
		if okS && okV {
			var wg sync.WaitGroup
			for _, m := range []move{ms, mv} {
				body := actionBody(rng, o, m.event)
				wg.Go(func() {
					defer d.c.closeOnPanic()
					d.take(ctx, o, r, m, body, state, heldFrom, true)
				})
			}
			wg.Wait()
			return true
		}
	}
	m, _, ok := chooseMove(rng, state, heldFrom, "")
	if !ok {
		return false
	}
	d.take(ctx, o, r, m, actionBody(rng, o, m.event), state, heldFrom, false)
	return true
}

// take makes move m on referral r in state s (held from heldFrom) and records what
// came of it. A move that crosses another leaves the model without a state until the
// next time both hubs agree.
func (d *driver) take(ctx context.Context, o op, r *referral, m move, body api.ReferralAction, s, heldFrom protocol.State, crossing bool) {
	h, hi := d.c.hubs[r.to], r.to
	if m.by == protocol.RoleSender {
		h, hi = d.c.hubs[r.from], r.from
	}
	var info api.ReferralInfo
	res := d.api.call(h, func(ac *api.Client) (err error) { info, err = ac.Act(ctx, r.id, m.event, body); return err })
	next, _ := protocol.Next(s, heldFrom, m.event, m.by)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.count(string(m.event), res)
	line := fmt.Sprintf("op %d: %s at %s from %s: %s", o.n, m.event, h.id, s, res.outcome)
	if crossing {
		line = fmt.Sprintf("op %d: %s at %s from %s, crossing an action of the other hub: %s", o.n, m.event, h.id, s, res.outcome)
		r.crossed, r.unmodelled = true, true
	}
	switch res.outcome {
	case outcomeOK:
		line += " " + string(info.Referral.State)
		if info.Referral.State != next {
			d.find("referral %s: %s at %s from %s answered %s, want %s", r.id, m.event, h.id, s, info.Referral.State, next)
		}
		r.acked = info.Referral.State
	case outcomeUnknown:
		r.maybe = append(r.maybe, next)
		r.unsureAt, r.unsureHub = time.Now(), hi
	}
	r.log = append(r.log, line)
}

// quiescent reports whether the referring hub's view s and the receiving hub's view v
// of a referral agree, with nothing left for either to deliver.
func quiescent(s, v api.ReferralInfo) bool {
	return s.Referral.State == v.Referral.State && s.Referral.HeldFrom == v.Referral.HeldFrom &&
		s.Pending == 0 && v.Pending == 0
}

// changeProfile replaces a hub's profile, or the capacity of one of its service
// families.
func (d *driver) changeProfile(ctx context.Context, o op) {
	rng := rand.New(rand.NewPCG(o.seed, 4))
	h, pm := d.c.hubs[o.hub], d.profiles[o.hub]
	name := "profile"
	if o.kind == kindCapacity {
		name = "capacity"
	}
	d.mu.Lock()
	if pm.busy || (pm.unsure > 0 && !d.quietSince(pm.unsureHub, pm.unsureAt)) {
		d.skipped[name+": hub busy"]++
		d.mu.Unlock()
		return
	}
	pm.busy = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		pm.busy = false
		d.mu.Unlock()
	}()

	if pm.unsure > 0 {
		// What became of the changes of unknown outcome: each one done adds one.
		var self api.SelfInfo
		if err := d.api.get(h, func(ac *api.Client) (err error) { self, err = ac.Self(ctx); return err }); err != nil {
			d.mu.Lock()
			d.skipped[name+": hub not answering"]++
			d.mu.Unlock()
			return
		}
		d.mu.Lock()
		if self.Revision < pm.acked || self.Revision > pm.acked+uint64(pm.unsure) {
			d.find("%s is at profile revision %d, but the driver's changes leave it at %d to %d", h.id, self.Revision, pm.acked, pm.acked+uint64(pm.unsure))
		}
		pm.acked, pm.unsure = self.Revision, 0
		d.mu.Unlock()
	}

	var (
		res  result
		prof protocol.Profile
	)
	if o.kind == kindProfile {
		p := hubProfile(o.hub, h.id)
		p.Description = fmt.Sprintf("A hub of the chaos run, as changed by operation %d.", o.n)
		p.Technologies["robotics"] = 1 + rng.IntN(5)
		res = d.api.call(h, func(ac *api.Client) (err error) { prof, err = ac.PutProfile(ctx, p); return err })
	} else {
		families := []protocol.Family{protocol.FamilyTestBeforeInvest, protocol.FamilySkills, protocol.FamilyMaturity}
		f := families[rng.IntN(len(families))]
		available, maximum := rng.IntN(11), 10
		ch := api.CapacityChange{Available: &available, Maximum: &maximum}
		res = d.api.call(h, func(ac *api.Client) (err error) { prof, err = ac.SetCapacity(ctx, f, ch); return err })
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.count(name, res)
	switch res.outcome {
	case outcomeOK:
		if prof.Revision <= pm.acked {
			d.find("%s: a %s change answered revision %d, but revision %d was reached before", h.id, name, prof.Revision, pm.acked)
		}
		pm.acked = prof.Revision
	case outcomeUnknown:
		pm.unsure++
		pm.unsureAt, pm.unsureHub = time.Now(), o.hub
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
