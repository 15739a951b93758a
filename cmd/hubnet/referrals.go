package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

const referralsLong = `List the referrals this hub sent (out) and received (in), newest first, with what
can happen next: the actions this hub may take now, "waiting for" the other hub, or
"delivering" while a message to the other hub is not yet acknowledged. The referring
hub may also cancel any open referral.

The subcommands show one referral and act on it. The receiving hub decides and
delivers:
  accept ID                 take the SME on; its identity arrives, sealed, after this
  decline ID --reason R     say no, with a reason
  hold ID --note TEXT       ask the referring hub for information, or pause the service
  start ID                  start the service on an accepted referral, or resume it
  complete ID --outcome O   close it with its outcome
  fail ID --reason R        close an accepted referral that cannot be delivered
The referring hub answers and may cancel:
  answer ID --note TEXT     answer a request for information
  cancel ID --reason R      cancel it; consent-withdrawn when the SME withdraws its
                            consent: the receiving hub then deletes the SME's identity

%s
A --note goes into both hubs' history of the referral. The node checks the reason and
whether the action is allowed now; a refusal exits 4 with the node's reason.
Referrals hold an SME's data: every command needs the hub's operator token (--token,
HUBNET_TOKEN or -d DIR).`

// codesHelp lists the reason codes and outcomes, wrapped for --help, the codes in a
// column after the longest title.
func (a *app) codesHelp() string {
	var b strings.Builder
	lists := []struct {
		title string
		codes []string
	}{
		{a.T("Reasons to decline:"), protocol.DeclineReasons}, {a.T("Reasons to fail:"), protocol.FailReasons},
		{a.T("Reasons to cancel:"), protocol.CancelReasons}, {a.T("Outcomes:"), protocol.Outcomes},
	}
	width := 20
	for _, c := range lists {
		width = max(width, utf8.RuneCountInString(c.title))
	}
	for _, c := range lists {
		for i, line := range wrap(strings.Join(c.codes, ", "), 84-width) {
			title := ""
			if i == 0 {
				title = c.title
			}
			fmt.Fprintf(&b, "  %-*s %s\n", width, title, line)
		}
	}
	return b.String()
}

func newReferralsCmd(a *app) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   "referrals",
		Short: a.T("List the referrals this hub sent and received; show and act on one"),
		Long:  a.T(referralsLong, a.codesHelp()),
		Example: `  hubnet -d ./hub referrals
  hubnet -d ./hub referrals --in --state received
  hubnet -d ./hub referrals --out --partner robocoast --from 2026-01-01 --json
  hubnet -d ./hub referrals show 019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b
  hubnet -d ./hub referrals accept 019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b --note "Vision lab free in May"
  hubnet -d ./hub referrals decline 019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b --reason no-capacity`,
		SuggestionsMinimumDistance: 2, // for the hint on a misspelt subcommand
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(a, cmd) },
	}
	f.register(a, cmd.Flags())
	var lf listFlags
	list := &cobra.Command{
		Use:     "list",
		Short:   a.T("List the referrals (the same as 'hubnet referrals')"),
		Example: "  hubnet -d ./hub referrals list --in --state received",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return lf.run(a, cmd) },
	}
	lf.register(a, list.Flags())
	cmd.AddCommand(list, newReferralShowCmd(a))
	for _, s := range referralActions {
		cmd.AddCommand(newReferralActionCmd(a, s))
	}
	return cmd
}

// listFlags are the filters of `hubnet referrals`.
type listFlags struct {
	in, out                  bool
	state, partner, from, to string
}

// listFlagOf names the flag for each parameter of GET /v1/referrals.
var listFlagOf = map[string]string{"direction": "--in/--out", "state": "--state", "partner": "--partner", "from": "--from", "to": "--to"}

func (f *listFlags) register(a *app, fl *pflag.FlagSet) {
	fl.BoolVar(&f.in, "in", false, a.T("only the referrals this hub received"))
	fl.BoolVar(&f.out, "out", false, a.T("only the referrals this hub sent"))
	fl.StringVar(&f.state, "state", "", a.T("only those in this state: %s (a declined referral is rejected; --state declined finds it too)", stateNames()))
	fl.StringVar(&f.partner, "partner", "", a.T("only those with this hub"))
	fl.StringVar(&f.from, "from", "", a.T("only those created on or after this date (2026-01-01)"))
	fl.StringVar(&f.to, "to", "", a.T("only those created before this date"))
}

func (f *listFlags) run(a *app, cmd *cobra.Command) error {
	if f.in && f.out {
		return usagef("give --in or --out, not both (neither lists both directions)")
	}
	q := api.ReferralQuery{State: protocol.State(f.state), Partner: f.partner}
	switch {
	case f.in:
		q.Direction = "in"
	case f.out:
		q.Direction = "out"
	}
	c, err := a.client()
	if err != nil {
		return fail("list referrals", err, "")
	}
	var list []api.ReferralInfo
	raw, err := c.call(operator, func(ac *api.Client) (err error) {
		if q.From, q.To, err = f.period(); err != nil {
			return err
		}
		list, err = ac.Referrals(cmd.Context(), q)
		return err
	})
	if err != nil {
		return fail("list referrals", renameFields(err, listFlagOf), "")
	}
	w := cmd.OutOrStdout()
	if a.json {
		_, err := w.Write(raw)
		return err
	}
	if len(list) == 0 {
		if q.Direction == "" && f.state == "" && f.partner == "" && f.from == "" && f.to == "" {
			_, err := fmt.Fprintln(w, a.T("No referrals yet. Refer an SME with 'hubnet refer --to HUB -f referral.yaml'."))
			return err
		}
		_, err := fmt.Fprintln(w, a.T("No referral matches."))
		return err
	}
	return a.printReferrals(w, list, time.Now())
}

// period reads --from and --to as the node reads the dates of GET /v1/referrals: a
// date (2026-11-22, as midnight UTC) or an RFC 3339 time. A flag that is neither is
// refused with the node's words, the problem named by the flag.
func (f *listFlags) period() (from, to time.Time, err error) {
	var problems []protocol.FieldError
	parse := func(s, flag string) time.Time {
		if s == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
		problems = append(problems, protocol.FieldError{Field: flag, Rule: "must be a date such as 2026-11-22 or an RFC 3339 time"})
		return time.Time{}
	}
	from, to = parse(f.from, "--from"), parse(f.to, "--to")
	if len(problems) > 0 {
		return from, to, &protocol.ValidationError{What: "referral list", Problems: problems}
	}
	return from, to, nil
}

// printReferrals writes the referrals as a table.
func (a *app) printReferrals(w io.Writer, list []api.ReferralInfo, now time.Time) error {
	t := newTable(w, a.T("ID"), a.T("DIRECTION"), a.T("PARTNER"), a.T("STATE"), a.T("AGE"), a.T("NEXT"), a.T("NEED"))
	for _, info := range list {
		r := info.Referral
		t.row(r.ID, direction(info.Role), info.Partner, r.State, a.ago(r.Created, now), a.nextOf(info),
			strings.Join(nonEmpty(string(r.Need.Family), r.Need.Sector, r.Need.Region), ", "))
	}
	return t.flush()
}

// direction is "in" for a referral this hub received, "out" for one it sent.
func direction(r protocol.Role) string {
	if r == protocol.RoleReceiver {
		return "in"
	}
	return "out"
}

// nextOf says what can happen next to a referral: the actions this hub may take now
// (a sender's cancel left out: it may cancel whenever the referral is open),
// "waiting for" the other hub, and "delivering" while a message is unacknowledged.
// A final referral has nothing next: "".
func (a *app) nextOf(info api.ReferralInfo) string {
	var acts []string
	for _, ev := range info.Actions {
		if ev != protocol.EventCancel {
			acts = append(acts, string(ev))
		}
	}
	var next string
	switch {
	case len(acts) > 0:
		next = strings.Join(acts, ", ")
	case info.Referral.State.Final():
	case info.Pending == 0:
		next = a.T("waiting for %s", info.Partner)
	}
	if info.Pending > 0 {
		next = strings.Join(nonEmpty(next, a.T("delivering")), "; ")
	}
	return next
}

func stateNames() string {
	s := make([]string, len(protocol.States))
	for i, st := range protocol.States {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// renameFields renames the fields of the node's field problems to the flags that set
// them.
func renameFields(err error, flagOf map[string]string) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return err
	}
	for i, p := range ae.Body.Problems {
		if flag, ok := flagOf[p.Field]; ok {
			ae.Body.Problems[i].Field = flag
		}
	}
	return err
}

// referralError turns the node's answer about referral id into what to tell: a
// referral it does not hold, an action its lifecycle refuses now, or else err with
// its problems named by flag.
func referralError(op, id string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		switch {
		case ae.Status == http.StatusNotFound:
			return fail(op, fmt.Errorf("no referral %s at this hub", id), "see 'hubnet referrals' for the referrals it holds")
		case ae.Status == http.StatusConflict && ae.Body.Code == api.CodeNotAllowed:
			return fail(op, err, "see 'hubnet referrals show "+id+"' for what this hub may do now")
		}
	}
	return fail(op, renameFields(err, actionFlagOf), "")
}

func newReferralShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: a.T("Show one referral: its need, consent, the SME when this hub holds it, and history"),
		Long: a.T(`Show everything this hub holds of referral ID: where it stands and what can happen
next, the need, the consent record, the SME's identity and contacts when this hub
holds them, and the history of the referral with times, hubs and notes. A receiving
hub holds the SME's identity only after it accepted; a cancel deletes it again.`),
		Example: "  hubnet -d ./hub referrals show 019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b\n  hubnet -d ./hub referrals show 019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b --json",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			op := "show referral " + id
			c, err := a.client()
			if err != nil {
				return fail(op, err, "")
			}
			var info api.ReferralInfo
			raw, err := c.call(operator, func(ac *api.Client) (err error) {
				info, err = ac.Referral(cmd.Context(), id)
				return err
			})
			if err != nil {
				return referralError(op, id, err)
			}
			if a.json {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			return a.printReferral(cmd.OutOrStdout(), info, time.Now())
		},
	}
}

// referralFields are the names of the fields of a referral, which printReferral
// translates.
var referralFields = []string{msg("direction"), msg("state"), msg("reason"), msg("outcome"), msg("next"),
	msg("delivering"), msg("created"), msg("deadline"), msg("sector"), msg("region"), msg("category"),
	msg("family"), msg("technologies"), msg("maturity"), msg("description"), msg("given by"), msg("for"),
	msg("purpose"), msg("until"), msg("name"), msg("website"), msg("contact"), msg("here")}

// printReferral writes one referral for people to read.
func (a *app) printReferral(w io.Writer, info api.ReferralInfo, now time.Time) error {
	r := info.Referral
	var b strings.Builder
	at := a.T("at %s", info.Partner)
	field := a.fieldWriter(&b, 13, referralFields...)
	stamp := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

	fmt.Fprintf(&b, "%s\n", a.T("referral %s", r.ID))
	if info.Role == protocol.RoleReceiver {
		field("direction", a.T("in, from %s", r.From))
	} else {
		field("direction", a.T("out, to %s", r.To))
	}
	state := string(r.State)
	if r.State == protocol.StateOnHold && r.HeldFrom == protocol.StateReceived {
		state += " (" + a.T("asked for information") + ")"
	} else if r.State == protocol.StateOnHold {
		state += " (" + a.T("paused") + ")"
	}
	field("state", state)
	field("reason", r.Reason)
	field("outcome", r.Outcome)
	next := a.nextOf(info)
	if next == "" {
		next = a.T("nothing: the referral is %s", r.State)
	}
	if info.Role == protocol.RoleSender && slices.Contains(info.Actions, protocol.EventCancel) {
		next += " (" + a.T("this hub may cancel it") + ")"
	}
	field("next", next)
	if info.Pending > 0 {
		if info.Pending == 1 {
			field("delivering", a.T("1 message to %s, sent when it acknowledges", info.Partner))
		} else {
			field("delivering", a.T("%d messages to %s, sent when it acknowledges", info.Pending, info.Partner))
		}
	}
	field("created", stamp(r.Created)+" ("+a.ago(r.Created, now)+")")
	switch r.State {
	case protocol.StateRequested:
		field("deadline", a.T("to be received by %s", stamp(r.AckBy)))
	case protocol.StateReceived:
		field("deadline", a.T("to be decided by %s", stamp(r.DecideBy)))
	case protocol.StateOnHold:
		if r.HeldFrom == protocol.StateReceived {
			field("deadline", a.T("to be decided by %s", stamp(r.DecideBy)))
		}
	}

	n := r.Need
	b.WriteString(a.T("need:") + "\n")
	if s, ok := protocol.SectorByCode(n.Sector); ok {
		field("sector", n.Sector+" "+a.lang.Text(s.Name))
	} else {
		field("sector", n.Sector)
	}
	if reg, ok := protocol.RegionByCode(n.Region); ok {
		field("region", n.Region+" "+reg.Name)
	} else {
		field("region", n.Region)
	}
	field("category", string(n.Category))
	field("family", a.familyLabel(n.Family))
	techs := make([]string, len(n.Technologies))
	for i, slug := range n.Technologies {
		techs[i] = a.techLabel(slug)
	}
	field("technologies", strings.Join(techs, ", "))
	if m := n.Maturity; m != nil {
		field("maturity", a.T("strategy %d, readiness %d, human %d, data %d, automation %d, green %d (0-100)",
			m.Strategy, m.Readiness, m.Human, m.Data, m.Automation, m.Green))
	}
	for i, line := range wrap(n.Description, 64) {
		if i == 0 {
			field("description", line)
		} else {
			field("", line)
		}
	}

	c := r.Consent
	b.WriteString(a.T("consent:") + "\n")
	field("given by", c.GivenBy+", "+stamp(c.GivenAt))
	field("for", c.Recipient)
	field("purpose", c.Purpose)
	field("until", stamp(c.Until))

	b.WriteString(a.T("SME:") + "\n")
	if s := info.SME; s != nil {
		field("name", s.Name)
		field("website", s.Website)
		field("contact", strings.Join(nonEmpty(s.ContactName, s.ContactEmail, s.ContactPhone), ", "))
	} else if !info.SMEPurged.IsZero() {
		info.SMEPurged = info.SMEPurged.Local()
		fmt.Fprintf(&b, "  %s\n", api.PurgeNote(info, "2006-01-02 15:04:05"))
	} else {
		fmt.Fprintf(&b, "  %s\n", a.smeAbsence(info))
	}

	b.WriteString(a.T("contact persons:") + "\n")
	field("here", contactLine(info.Contacts, true))
	field(at, contactLine(info.Contacts, false))

	b.WriteString(a.T("history:") + "\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return err
	}
	t := newTable(w, "  "+a.T("TIME"), a.T("EVENT"), a.T("BY"), a.T("STATE"), a.T("NOTE"))
	for _, ch := range r.History {
		by := ch.By
		if ch.Person != "" {
			by += " (" + ch.Person + ")"
		}
		t.row("  "+stamp(ch.At), ch.Event, by, string(ch.From)+" -> "+string(ch.To), ch.Note)
	}
	return t.flush()
}

// smeAbsence says why this hub does not hold the SME's identity.
func (a *app) smeAbsence(info api.ReferralInfo) string {
	r := info.Referral
	accepted := slices.ContainsFunc(r.History, func(c protocol.Change) bool { return c.Event == protocol.EventAccept })
	switch {
	case info.Role == protocol.RoleSender:
		return a.T("not held at this hub")
	case r.State == protocol.StateCancelled && accepted:
		return a.T("deleted: the referral was cancelled")
	case !accepted:
		return a.T("sealed: not shared with this hub, which sees only the need until it accepts")
	case r.State.Final():
		return a.T("not held at this hub")
	}
	return a.T("not yet received: %s sends it, sealed to this hub, when it learns of the acceptance", r.From)
}

// wrap breaks s into lines of at most width characters at spaces.
func wrap(s string, width int) []string {
	var lines []string
	var line string
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		line = strings.TrimPrefix(line+" "+word, " ")
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// referralAction is one action of `hubnet referrals`.
type referralAction struct {
	event   protocol.Event
	use     string
	short   string
	long    string
	example string
	codes   []string // the reasons (or, with outcome, the outcomes) it takes; nil for none
	outcome bool     // codes are outcomes, given with --outcome
	needs   string   // what --note must say, when it is required
}

// actionFlagOf names the flag for each field of a referral action.
var actionFlagOf = map[string]string{"reason": "--reason", "outcome": "--outcome", "note": "--note", "referral": "ID"}

const exampleID = "019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b"

var referralActions = []referralAction{
	{event: protocol.EventAccept, use: "accept ID", short: msg("Accept a referral this hub received"),
		long: msg(`Accept referral ID: this hub takes the SME on. Acceptance cannot be undone: an
accepted referral ends as completed, failed or cancelled. When the referring hub
learns of it, it sends the SME's identity and contacts, sealed to this hub.`),
		example: `--note "Vision lab free in May; we call the SME this week"`},
	{event: protocol.EventDecline, use: "decline ID --reason R", short: msg("Decline a referral this hub received, with a reason"),
		long:    msg("Decline referral ID, with one of the reasons below. The referring hub can then refer the SME elsewhere."),
		example: `--reason no-capacity --note "Fully booked until March"`, codes: protocol.DeclineReasons},
	{event: protocol.EventHold, use: "hold ID --note TEXT", short: msg("Ask the referring hub for information, or pause the service"),
		long: msg(`Put referral ID on hold. A received referral on hold asks the referring hub for
the information --note names; it answers with 'hubnet referrals answer'. A started
service on hold is paused; 'hubnet referrals start' resumes it.`),
		example: `--note "Which production line, and how many units a day?"`, needs: "what information this hub needs, or why the service pauses"},
	{event: protocol.EventAnswer, use: "answer ID --note TEXT", short: msg("Answer a request for information on a referral this hub sent"),
		long:    msg("Answer the receiving hub's request for information on referral ID with --note; the referral goes back to the receiving hub's decision."),
		example: `--note "Line 2, about 4000 units a day"`, needs: "the answer"},
	{event: protocol.EventStart, use: "start ID", short: msg("Start the service on an accepted referral, or resume a paused one"),
		long: msg("Start the service on accepted referral ID, or resume it when it was paused.")},
	{event: protocol.EventComplete, use: "complete ID --outcome O", short: msg("Close a referral with its outcome"),
		long: msg(`Close referral ID, whose service has started, with one of the outcomes below. Both
hubs then count it in their KPI report: this hub a service delivered, both a
collaboration (see 'hubnet report').`),
		example: `--outcome service-delivered --note "Vision trial done; 96% of defects found"`, codes: protocol.Outcomes, outcome: true},
	{event: protocol.EventFail, use: "fail ID --reason R", short: msg("Close an accepted referral this hub cannot deliver"),
		long:    msg("Close accepted or started referral ID as failed, with one of the reasons below."),
		example: `--reason sme-unreachable`, codes: protocol.FailReasons},
	{event: protocol.EventCancel, use: "cancel ID --reason R", short: msg("Cancel a referral this hub sent"),
		long: msg(`Cancel referral ID, which this hub sent and which is still open, with one of the
reasons below; consent-withdrawn when the SME withdraws its consent. The receiving
hub then deletes the SME's identity and keeps only the anonymous record.`),
		example: `--reason consent-withdrawn`, codes: protocol.CancelReasons},
}

func newReferralActionCmd(a *app, s referralAction) *cobra.Command {
	var act api.ReferralAction
	long := a.T(s.long)
	switch {
	case len(s.codes) > 0 && s.outcome:
		long += "\n\n" + a.T("Outcomes: %s.", strings.Join(s.codes, ", "))
	case len(s.codes) > 0:
		long += "\n\n" + a.T("Reasons: %s.", strings.Join(s.codes, ", "))
	}
	long += "\n\n" + a.T("It needs the hub's operator token; --note is kept in both hubs' history of the referral.")
	example := "  hubnet -d ./hub referrals " + string(s.event) + " " + exampleID
	if s.example != "" {
		example += " " + s.example
	}
	cmd := &cobra.Command{
		Use:     s.use,
		Short:   a.T(s.short),
		Long:    long,
		Example: example,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			op := string(s.event) + " referral " + id
			if s.needs != "" && strings.TrimSpace(act.Note) == "" {
				return usagef("%s needs --note: %s", cmd.CommandPath(), s.needs)
			}
			c, err := a.client()
			if err != nil {
				return fail(op, err, "")
			}
			var info api.ReferralInfo
			raw, err := c.call(change, func(ac *api.Client) (err error) {
				info, err = ac.Act(cmd.Context(), id, s.event, act)
				return err
			})
			if err != nil {
				return referralError(op, id, err)
			}
			if a.json {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			return a.printActed(cmd.OutOrStdout(), info)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&act.Note, "note", "", a.T("a note for both hubs' history of the referral"))
	if len(s.codes) > 0 && s.outcome {
		fl.StringVar(&act.Outcome, "outcome", "", a.T("the outcome: %s", strings.Join(s.codes, ", ")))
	} else if len(s.codes) > 0 {
		fl.StringVar(&act.Reason, "reason", "", a.T("the reason: %s", strings.Join(s.codes, ", ")))
	}
	return cmd
}

// printActed says where a referral stands after this hub acted on it.
func (a *app) printActed(w io.Writer, info api.ReferralInfo) error {
	r := info.Referral
	var b strings.Builder
	if n := len(r.History); n > 0 {
		b.WriteString(a.T("Referral %s: %s (was %s).", r.ID, r.State, r.History[n-1].From) + "\n")
	} else {
		b.WriteString(a.T("Referral %s: %s.", r.ID, r.State) + "\n")
	}
	if info.Pending > 0 {
		b.WriteString(a.T("%s learns of it when it acknowledges the message.", info.Partner) + "\n")
	} else {
		b.WriteString(a.T("%s has acknowledged it.", info.Partner) + "\n")
	}
	var acts []string
	for _, ev := range info.Actions {
		if ev != protocol.EventCancel {
			acts = append(acts, string(ev))
		}
	}
	if len(acts) > 0 {
		b.WriteString(a.T("Next at this hub: %s.", strings.Join(acts, ", ")) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
