package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// referralHub is a test hub with the command line that reaches it with its token.
type referralHub struct {
	*nodetest.Hub
	env  []string // HUBNET_NODE and HUBNET_TOKEN
	name string
}

// run runs the binary against the hub.
func (h referralHub) run(t *testing.T, args ...string) result {
	t.Helper()
	return hubnet(t, h.env, args...)
}

// must runs the binary against the hub and fails the test unless it exits 0.
func (h referralHub) must(t *testing.T, args ...string) result {
	t.Helper()
	r := h.run(t, args...)
	if r.code != 0 {
		t.Fatalf("hubnet %s at %s: %v", strings.Join(args, " "), h.name, r)
	}
	return r
}

// info runs `referrals show ID --json`.
func (h referralHub) info(t *testing.T, id string) api.ReferralInfo {
	t.Helper()
	r := h.must(t, "referrals", "show", id, "--json")
	var info api.ReferralInfo
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	return info
}

// startReferralHubs starts an advising hub and a receiving one, joined, each knowing
// the other.
func startReferralHubs(t *testing.T) (advisor, receiver referralHub) {
	t.Helper()
	return startReferralHubsWith(t, func(*node.Config) {})
}

// startReferralHubsWith starts the hubs of startReferralHubs, their configuration
// altered by change.
func startReferralHubsWith(t *testing.T, change func(c *node.Config)) (advisor, receiver referralHub) {
	t.Helper()
	net := nodetest.Network(t)
	pa, pr := nodetest.Profile("advisor-hub"), nodetest.Profile("robo-hub")
	start := func(p protocol.Profile, join ...string) *nodetest.Hub {
		dir := t.TempDir()
		nodetest.Init(t, dir, net, p.ID, &p)
		cfg := nodetest.Config(dir, join...)
		change(&cfg)
		return nodetest.StartConfig(t, cfg)
	}
	a := start(pa)
	r := start(pr, a.GossipAddr())
	nodetest.Eventually(t, 10*time.Second, func() error {
		if _, err := a.Hub(pr.ID); err != nil {
			return err
		}
		_, err := r.Hub(pa.ID)
		return err
	})
	hub := func(h *nodetest.Hub) referralHub {
		token, err := node.ReadToken(h.Dir)
		if err != nil {
			t.Fatal(err)
		}
		return referralHub{Hub: h, name: h.ID(), env: []string{"HUBNET_NODE=http://" + h.HTTPAddr(), "HUBNET_TOKEN=" + token}}
	}
	return hub(a), hub(r)
}

// waitReferral waits until hub h holds referral id in state want with nothing left to
// deliver.
func waitReferral(t *testing.T, h referralHub, id string, want protocol.State) api.ReferralInfo {
	t.Helper()
	var info api.ReferralInfo
	nodetest.Eventually(t, 10*time.Second, func() error {
		var err error
		if info, err = h.Referral(id); err != nil {
			return err
		}
		if info.Referral.State != want || info.Pending != 0 {
			return fmt.Errorf("%s holds %s as %s with %d pending, want %s", h.name, id, info.Referral.State, info.Pending, want)
		}
		return nil
	})
	return info
}

// regexpColumns separates the columns of a table: cells hold single spaces only.
var regexpColumns = regexp.MustCompile(`\s{2,}`)

// referralYAML is a valid referral file to hub to, with consent given an hour ago.
func referralYAML(to string) string {
	now := time.Now()
	return fmt.Sprintf(`to: %s
need:
  sector: "10"
  region: FI193
  category: small
  family: test-before-invest
  technologies: [ai-decision-support, sensors-vision-processing]
  description: A bakery wants to test machine vision for quality control on its line.
  maturity: {strategy: 40, readiness: 35, human: 50, data: 20, automation: 15, green: 30}
sme:
  name: Example Bakery Oy
  website: https://bakery.example
  contact_name: Aino Example
  contact_email: aino@bakery.example
consent:
  given_by: managing director
  given_at: %s
  purpose: referral for AI test-before-invest services
  until: %s
`, to, now.Add(-time.Hour).Format(time.RFC3339), now.AddDate(0, 3, 0).Format(time.DateOnly))
}

// referralRows returns the rows of `referrals` as ID -> the other columns.
func referralRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("referrals printed no table:\n%s", out)
	}
	for _, l := range lines[1:] {
		cols := regexpColumns.Split(strings.TrimSpace(l), -1)
		rows[cols[0]] = cols[1:]
	}
	return rows
}

func TestCLI_referralLoop(t *testing.T) {
	adv, rcv := startReferralHubs(t)
	dir := t.TempDir()

	// Refer from a file.
	file := writeFile(t, dir, "referral.yaml", referralYAML(rcv.name))
	r := adv.must(t, "refer", "-f", file)
	for _, want := range []string{": requested.", "delivered when hub robo-hub acknowledges it", "Follow it with: hubnet --node http://" + adv.HTTPAddr() + " referrals show "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("refer printed:\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
	id := strings.Fields(r.stdout)[1]
	if info, err := adv.Referral(id); err != nil || info.SME == nil || info.SME.Name != "Example Bakery Oy" ||
		info.Referral.Consent.Recipient != rcv.name || info.Referral.Need.Maturity == nil || info.Referral.Need.Maturity.Green != 30 {
		t.Fatalf("referral %q at the advisor: %+v %v", id, info, err)
	}

	// Refer with flags only, as JSON; --consent-until is a day, held through its end.
	until := time.Now().AddDate(0, 2, 0).Format(time.DateOnly)
	r = adv.must(t, "refer", "--to", rcv.name, "--sector", "C", "--region", "FI197", "--category", "medium",
		"--family", "skills-and-training", "--tech", "robotics", "--tech", "cybersecurity",
		"--need", "Wants to train its maintenance staff in robot safety.", "--maturity", "strategy=10,readiness=20,human=30,data=40,automation=50,green=60",
		"--sme-name", "Esimerkki Konepaja Oy", "--contact-name", "Mikko Esimerkki", "--contact-phone", "+358 40 000 0001",
		"--consent-by", "CEO", "--consent-purpose", "referral for training", "--consent-until", until, "--json")
	var second api.ReferralInfo
	if err := json.Unmarshal([]byte(r.stdout), &second); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	s := second.Referral
	if s.State != protocol.StateRequested || !slices.Equal(s.Need.Technologies, []string{"robotics", "cybersecurity"}) ||
		s.Need.Maturity == nil || s.Need.Maturity.Automation != 50 || s.Consent.Recipient != rcv.name ||
		s.Consent.Until.Local().Format("2006-01-02 15:04:05") != until+" 23:59:59" || time.Since(s.Consent.GivenAt) > time.Minute {
		t.Errorf("referral from flags: %+v", s)
	}

	waitReferral(t, rcv, id, protocol.StateReceived)
	waitReferral(t, adv, id, protocol.StateReceived)
	waitReferral(t, rcv, s.ID, protocol.StateReceived)
	waitReferral(t, adv, s.ID, protocol.StateReceived)

	// The lists: out at the advisor, in at the receiver, with what comes next.
	rows := referralRows(t, adv.must(t, "referrals", "--out").stdout)
	if got := rows[id]; len(rows) != 2 || len(got) < 6 || got[0] != "out" || got[1] != "robo-hub" || got[2] != "received" ||
		got[4] != "waiting for robo-hub" || got[5] != "test-before-invest, 10, FI193" {
		t.Errorf("advisor's referrals --out: %v", rows)
	}
	rows = referralRows(t, rcv.must(t, "referrals", "list", "--in").stdout)
	if got := rows[id]; len(rows) != 2 || len(got) < 6 || got[0] != "in" || got[1] != "advisor-hub" || got[4] != "accept, decline, hold" {
		t.Errorf("receiver's referrals list --in: %v", rows)
	}
	if r := rcv.must(t, "referrals", "--out"); !strings.Contains(r.stdout, "No referral matches.") {
		t.Errorf("receiver's referrals --out:\n%s", r.stdout)
	}
	var list []api.ReferralInfo
	if err := json.Unmarshal([]byte(rcv.must(t, "referrals", "--in", "--state", "received", "--json").stdout), &list); err != nil || len(list) != 2 {
		t.Errorf("referrals --json: %d referrals, %v", len(list), err)
	}

	// Before acceptance the receiver sees the need, not the SME.
	r = rcv.must(t, "referrals", "show", id)
	for _, want := range []string{"in, from advisor-hub", "FI193 Keski-Suomi", "machine vision", "managing director",
		"sealed: not shared with this hub", "receive  robo-hub"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show at the receiver:\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
	if strings.Contains(r.stdout, "Example Bakery") {
		t.Errorf("the receiver shows the SME before accepting:\n%s", r.stdout)
	}
	if r := adv.must(t, "referrals", "show", id); !strings.Contains(r.stdout, "Example Bakery Oy") || !strings.Contains(r.stdout, "aino@bakery.example") {
		t.Errorf("show at the advisor lacks the SME:\n%s", r.stdout)
	}

	// Decline without a reason: refused by the node, the flag named.
	r = rcv.run(t, "referrals", "decline", s.ID)
	if r.code != exitInvalid || !strings.Contains(r.stderr, "\n  --reason: is required for decline: one of out-of-scope, no-capacity") {
		t.Errorf("decline without a reason: %v", r)
	}
	r = rcv.must(t, "referrals", "decline", s.ID, "--reason", "no-capacity", "--note", "Fully booked until March")
	if !strings.Contains(r.stdout, "rejected (was received)") {
		t.Errorf("decline printed:\n%s", r.stdout)
	}
	waitReferral(t, adv, s.ID, protocol.StateRejected)

	// Accept, then the SME's identity arrives; accepting again is refused.
	r = rcv.must(t, "referrals", "accept", id, "--note", "Vision lab free in May")
	if !strings.Contains(r.stdout, "accepted (was received)") || !strings.Contains(r.stdout, "Next at this hub: start, fail.") {
		t.Errorf("accept printed:\n%s", r.stdout)
	}
	r = rcv.run(t, "referrals", "accept", id)
	if r.code != exitInvalid || !strings.Contains(r.stderr, "accept by the receiver in state accepted: allowed in this state") {
		t.Errorf("accept twice: %v", r)
	}
	checkOneLine(t, r)
	waitReferral(t, adv, id, protocol.StateAccepted)
	nodetest.Eventually(t, 10*time.Second, func() error {
		if info, err := rcv.Referral(id); err != nil || info.SME == nil {
			return fmt.Errorf("no SME at the receiver yet (%v)", err)
		}
		return nil
	})
	if r := rcv.must(t, "referrals", "show", id); !strings.Contains(r.stdout, "name:         Example Bakery Oy") {
		t.Errorf("show after acceptance lacks the SME:\n%s", r.stdout)
	}

	rcv.must(t, "referrals", "start", id)
	waitReferral(t, adv, id, protocol.StateInProgress)
	r = rcv.run(t, "referrals", "complete", id, "--outcome", "great")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "--outcome: must be one of service-delivered") {
		t.Errorf("complete with an unknown outcome: %v", r)
	}
	rcv.must(t, "referrals", "complete", id, "--outcome", "service-delivered", "--note", "Trial done")
	a := waitReferral(t, adv, id, protocol.StateCompleted)
	b := waitReferral(t, rcv, id, protocol.StateCompleted)
	if a.Referral.Outcome != "service-delivered" || len(a.Referral.History) != len(b.Referral.History) {
		t.Errorf("completed: advisor %+v, receiver %+v", a.Referral, b.Referral)
	}
	r = adv.must(t, "referrals", "show", id)
	for _, want := range []string{"completed", "outcome:      service-delivered", "Vision lab free in May", "Trial done", "next:         nothing"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show after completion:\n%s\nwant it to contain %q", r.stdout, want)
		}
	}

	// The report: one service delivered at the receiver, a collaboration at each hub.
	r = rcv.must(t, "report")
	for _, want := range []string{"KPI report of robo-hub", "(services delivered): 1", "    small ", "10 Manufacture of food products",
		"FI193 Keski-Suomi", "test before invest ", "(completed referrals): 1", "    advisor-hub "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("receiver's report:\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
	r = adv.must(t, "report")
	if !strings.Contains(r.stdout, "(services delivered): 0") || !strings.Contains(r.stdout, "(completed referrals): 1") ||
		!strings.Contains(r.stdout, "    robo-hub ") {
		t.Errorf("advisor's report:\n%s", r.stdout)
	}
	for _, h := range []struct {
		hub  referralHub
		want []string // kinds of record
	}{{rcv, []string{"collaboration", "service-delivered"}}, {adv, []string{"collaboration"}}} {
		r = h.hub.must(t, "report", "--csv")
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil || len(recs) != 1+len(h.want) || recs[0][0] != "kind" {
			t.Fatalf("%s report --csv: %v\n%s", h.hub.name, err, r.stdout)
		}
		var kinds []string
		for _, rec := range recs[1:] {
			kinds = append(kinds, rec[0])
			if rec[1] != id {
				t.Errorf("%s report --csv: record of %s, want %s", h.hub.name, rec[1], id)
			}
		}
		slices.Sort(kinds)
		if !slices.Equal(kinds, h.want) {
			t.Errorf("%s report --csv: kinds %v, want %v", h.hub.name, kinds, h.want)
		}
	}
	var rep api.Report
	if err := json.Unmarshal([]byte(rcv.must(t, "report", "--json").stdout), &rep); err != nil || rep.ServicesDelivered != 1 || rep.ByFamily["test-before-invest"] != 1 {
		t.Errorf("report --json: %+v %v", rep, err)
	}
	// A period before the referral counts nothing.
	if r := rcv.must(t, "report", "--from", "2020-01-01", "--to", "2021-01-01"); !strings.Contains(r.stdout, "No referral of this hub completed in the period.") {
		t.Errorf("report of 2020:\n%s", r.stdout)
	}
}

func TestCLI_referralErrors(t *testing.T) {
	adv, rcv := startReferralHubs(t)
	dir := t.TempDir()

	// A misspelt field in the file: exit 4, named with its line; nothing sent.
	bad := strings.Replace(referralYAML(rcv.name), "  category: small\n", "  category: small\n  colour: blue\n", 1)
	r := adv.run(t, "refer", "-f", writeFile(t, dir, "bad.yaml", bad))
	if r.code != exitInvalid || !strings.Contains(r.stderr, "\n  need.colour: is not a field (line 6); check its spelling") {
		t.Errorf("refer with a misspelt field: %v", r)
	}
	// --to overrides the file, not the consent, which names another hub.
	r = adv.run(t, "refer", "-f", writeFile(t, dir, "other.yaml", strings.Replace(referralYAML("other-hub"), "consent:\n", "consent:\n  recipient: other-hub\n", 1)), "--to", rcv.name)
	if r.code != exitInvalid || !strings.Contains(r.stderr, "consent.recipient: must be the hub referred to (robo-hub)") {
		t.Errorf("refer --to over a file's consent for another hub: %v", r)
	}
	// What is missing is named by field and flag.
	r = adv.run(t, "refer", "--to", rcv.name, "--sector", "10", "--region", "FI1C", "--maturity", "strategy=10")
	for _, want := range []string{"\n  need.region (--region): must be a NUTS 2021 code of level 3", "\n  need.maturity.green (--maturity): is required",
		"\n  consent.until (--consent-until): is required"} {
		if r.code != exitInvalid || !strings.Contains(r.stderr, want) {
			t.Errorf("refer with too little: %v\nwant stderr to contain %q", r, want)
		}
	}
	r = adv.run(t, "refer", "--to", rcv.name, "--consent-until", "next year")
	if r.code != exitInvalid || !strings.Contains(r.stderr, `consent.until (--consent-until): must be a date`) {
		t.Errorf("refer with a bad --consent-until: %v", r)
	}
	r = adv.run(t, "refer", "-f", writeFile(t, dir, "nowhere.yaml", referralYAML("nowhere-hub")))
	if r.code != exitError || !strings.Contains(r.stderr, "not in this hub's directory") || !strings.Contains(r.stderr, "hubnet hubs") {
		t.Errorf("refer to an unknown hub: %v", r)
	}
	// A need that names the SME: refused, the field and flag named with the rule.
	r = adv.run(t, "refer", "-f", writeFile(t, dir, "named.yaml", referralYAML(rcv.name)), "--need", "Example Bakery Oy wants machine vision on its line.")
	if want := "\n  need.description (--need): must not name the SME: it contains the SME's name (sme.name)"; r.code != exitInvalid || !strings.Contains(r.stderr, want) {
		t.Errorf("refer with the SME's name in the need: %v\nwant stderr to contain %q", r, want)
	}
	if list, err := adv.Referrals(api.ReferralQuery{}); err != nil || len(list) != 0 {
		t.Errorf("refused referrals were stored: %d, %v", len(list), err)
	}

	// Standard input.
	r = hubnetStdin(t, adv.env, referralYAML(rcv.name), "refer", "-f", "-", "--json")
	var info api.ReferralInfo
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &info) != nil || info.Referral.To != rcv.name {
		t.Fatalf("refer -f -: %v", r)
	}
	id := info.Referral.ID

	// An ID this hub does not hold.
	unknown := "019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b"
	for _, args := range [][]string{{"referrals", "show", unknown}, {"referrals", "accept", unknown}} {
		r = rcv.run(t, args...)
		if r.code != exitError || !strings.Contains(r.stderr, "no referral "+unknown+" at this hub") {
			t.Errorf("%v: %v", args, r)
		}
		checkOneLine(t, r)
	}
	// The sender may not accept; the receiver may not cancel.
	waitReferral(t, rcv, id, protocol.StateReceived)
	r = adv.run(t, "referrals", "accept", id)
	if r.code != exitInvalid || !strings.Contains(r.stderr, "only the receiver may do that") {
		t.Errorf("the sender accepts: %v", r)
	}
	r = rcv.run(t, "referrals", "cancel", id, "--reason", "other")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "only the sender may do that") {
		t.Errorf("the receiver cancels: %v", r)
	}
	// Hold needs a note; the flags are the CLI's: a usage error.
	if r = rcv.run(t, "referrals", "hold", id); r.code != exitUsage || !strings.Contains(r.stderr, "needs --note") {
		t.Errorf("hold without a note: %v", r)
	}
	if r = rcv.run(t, "referrals", "--in", "--out"); r.code != exitUsage {
		t.Errorf("--in --out: %v", r)
	}
	if r = rcv.run(t, "referrals", "--state", "pending"); r.code != exitInvalid || !strings.Contains(r.stderr, "\n  --state: \"pending\" is not a referral state") {
		t.Errorf("--state pending: %v", r)
	}
	if r = rcv.run(t, "referrals", "acept", id); r.code != exitUsage || !strings.Contains(r.stderr, "did you mean 'hubnet referrals accept'?") {
		t.Errorf("referrals acept: %v", r)
	}
	if r = rcv.run(t, "report", "--from", "1 May"); r.code != exitUsage || !strings.Contains(r.stderr, "--from must be a date") {
		t.Errorf("report --from '1 May': %v", r)
	}
	if r = rcv.run(t, "report", "--from", "2026-02-01", "--to", "2026-01-01"); r.code != exitInvalid || !strings.Contains(r.stderr, "--to: must be after from") {
		t.Errorf("report with --to before --from: %v", r)
	}

	// Referrals hold an SME's data: no token, no list.
	r = hubnet(t, []string{"HUBNET_NODE=http://" + rcv.HTTPAddr()}, "referrals")
	if r.code != exitUsage || !strings.Contains(r.stderr, "needs the hub's operator token") {
		t.Errorf("referrals without a token: %v", r)
	}
	checkOneLine(t, r)
	r = hubnet(t, []string{"HUBNET_NODE=http://" + rcv.HTTPAddr(), "HUBNET_TOKEN=wrong"}, "referrals")
	if r.code != exitError || !strings.Contains(r.stderr, "wrong token: ") || !strings.Contains(r.stderr, "check --token, HUBNET_TOKEN") {
		t.Errorf("referrals with a wrong token: %v", r)
	}
}

// TestReferralExample checks docs/examples/referral.yaml reads and makes a valid
// referral, as of the day after its consent was given.
func TestReferralExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "referral.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := decodeReferral(data)
	if err != nil {
		t.Fatal(err)
	}
	var f referFlags
	req, err := f.request(newReferCmd(&app{}).Flags(), file, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if req.To != "robocoast" || req.Consent.Recipient != "robocoast" || req.Need.Maturity == nil {
		t.Errorf("example: %+v", req)
	}
	if err := req.Need.Validate(); err != nil {
		t.Error(err)
	}
	if p := req.Need.NamesSME(req.SME); len(p) != 0 {
		t.Errorf("example's need names the SME: %v", p)
	}
	if err := req.SME.Validate(); err != nil {
		t.Error(err)
	}
	if err := req.Consent.Validate(req.Consent.GivenAt.AddDate(0, 0, 1)); err != nil {
		t.Error(err)
	}
}

// When the SME's consent ends, `referrals show` says at both hubs when the SME's
// details were deleted and why, and --json carries the same.
func TestCLI_referralPurged(t *testing.T) {
	clock := new(nodetest.Clock)
	adv, rcv := startReferralHubsWith(t, func(c *node.Config) { c.Now, c.DecisionGrace = clock.Now, 200*time.Millisecond })
	now := clock.Now()
	sent, err := adv.Refer(api.ReferralRequest{To: rcv.name,
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall, Family: protocol.FamilyTestBeforeInvest,
			Description: "A bakery wants to test machine vision for quality control on its line."},
		SME: protocol.SME{Name: "Example Bakery Oy", ContactName: "Aino Example", ContactEmail: "aino@bakery.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: rcv.name,
			Purpose: "referral for AI test-before-invest services", Until: now.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	id := sent.Referral.ID
	waitReferral(t, rcv, id, protocol.StateReceived)
	rcv.must(t, "referrals", "accept", id)
	nodetest.Eventually(t, 10*time.Second, func() error {
		if info, _ := rcv.Referral(id); info.SME == nil {
			return fmt.Errorf("no SME at the receiver yet")
		}
		return nil
	})

	clock.Advance(2 * time.Hour)
	for _, h := range []referralHub{adv, rcv} {
		info := waitReferral(t, h, id, protocol.StateCancelled)
		nodetest.Eventually(t, 10*time.Second, func() error {
			if info = h.info(t, id); info.SMEPurged.IsZero() {
				return fmt.Errorf("%s: not purged yet", h.name)
			}
			return nil
		})
		if info.SME != nil || info.SMEPurgeReason != "consent-expired" {
			t.Errorf("%s: --json has SME %+v, sme_purge_reason %q; want none, consent-expired", h.name, info.SME, info.SMEPurgeReason)
		}
		r := h.must(t, "referrals", "show", id)
		want := "SME details purged on " + info.SMEPurged.Local().Format("2006-01-02 15:04:05") + " (consent-expired: the SME's consent ended)"
		if !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "Example Bakery Oy") {
			t.Errorf("show at %s:\n%s\nwant it to say %q, and not name the SME", h.name, r.stdout, want)
		}
	}
}
