package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// wantOut fails the test unless s contains every one of wants.
func wantOut(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// runPrinted runs a command hubnet printed, as a user would paste it into a shell,
// with the test's hubnet first on PATH; env adds variables.
func runPrinted(t *testing.T, dir, line string, env ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = cleanEnv(append(env, "PATH="+filepath.Dir(mustBin(t))+string(os.PathListSeparator)+os.Getenv("PATH"))...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("sh -c %s: %v", line, err)
	}
	return r
}

// printedLine returns the line of out that follows prefix, trimmed; it fails the test
// when there is none.
func printedLine(t *testing.T, out, prefix string) string {
	t.Helper()
	for l := range strings.SplitSeq(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatalf("no line %q in:\n%s", prefix, out)
	return ""
}

// TestCLI_forgivingSearch: codes in any case and labels are taken; a near miss gets a
// suggestion from the vocabulary and a pointer to its list, on the flag the user gave.
func TestCLI_forgivingSearch(t *testing.T) {
	adv, rcv := startReferralHubs(t)

	r := adv.must(t, "search", "--country", "fi", "--region", "fi1c1", "--type", "edih", "--tech", "AI-Decision-Support",
		"--family", "Test before invest", "--reach", "Country", "--category", "Small", "--sector", "c", "--json")
	var res api.SearchResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	q := res.Query
	if q.Country != "FI" || q.Region != "FI1C1" || len(q.Types) != 1 || q.Types[0] != protocol.HubEDIH ||
		q.Technologies[0] != "ai-decision-support" || q.Family != protocol.FamilyTestBeforeInvest || q.Sector != "C" ||
		q.Reach != protocol.ReachCountry || q.Category != protocol.CategorySmall || res.Total != 1 {
		t.Errorf("search in other cases: query %+v, %d hubs", q, res.Total)
	}

	for _, c := range []struct {
		args  []string
		wants []string
	}{
		{[]string{"--region", "Helsinki"}, []string{`  --region: "Helsinki" is not a NUTS 2021 region code; did you mean FI1B Helsinki-Uusimaa or FI1B1 Helsinki-Uusimaa? (see 'hubnet vocab regions FI')`}},
		{[]string{"--tech", "iot,ai,cyber-security"}, []string{
			`  --tech: "iot" is not a technology slug; did you mean internet-of-things? (see 'hubnet vocab technologies')`,
			`  --tech: "ai" is not a technology slug; did you mean ai-decision-support? (see 'hubnet vocab technologies')`,
			`  --tech: "cyber-security" is not a technology slug; did you mean cybersecurity? (see 'hubnet vocab technologies')`,
		}},
		{[]string{"--country", "Finnland", "--type", "EDHI"}, []string{
			`  --country: "Finnland" is not a country code (Eurostat); did you mean FI Finland? (see 'hubnet vocab countries')`,
			`  --type: "EDHI" is not a hub type; did you mean EDIH? (see 'hubnet vocab types')`,
		}},
		{[]string{"--family", "training"}, []string{`  --family: "training" is not a service family; did you mean skills-and-training? (see 'hubnet vocab families')`}},
	} {
		r := adv.run(t, append([]string{"search"}, c.args...)...)
		if r.code != exitInvalid {
			t.Errorf("search %v: %v", c.args, r)
		}
		wantOut(t, "search "+strings.Join(c.args, " "), r.stderr, c.wants...)
		if c.args[0] == "--region" && strings.Contains(r.stderr, "--country") {
			t.Errorf("search --region Helsinki blames --country:\n%s", r.stderr)
		}
	}

	// The API takes the parameters in any case too.
	resp, err := http.Get("http://" + adv.HTTPAddr() + "/v1/search?country=fi&type=edih&tech=Robotics,ai-decision-support&family=Test-Before-Invest&region=fi1c1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/search in lower case: %d, want 200", resp.StatusCode)
	}

	// Without a family, each hub's free places in every family it publishes, live too.
	for _, args := range [][]string{{"search"}, {"search", "--live", "--timeout", "2s"}} {
		r = adv.must(t, args...)
		wantOut(t, strings.Join(args, " "), r.stdout, "free: test before invest 3 of 5 (SMEs per month)")
	}
	_ = rcv
}

// TestCLI_forgivingProfile: a profile file in other cases and with labels is applied as
// the values hubs exchange; a near miss gets a suggestion on the field it is in.
func TestCLI_forgivingProfile(t *testing.T) {
	adv, _ := startReferralHubs(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "profile.yaml", `id: advisor-hub
name: Advisor hub
type: edih
country: fi
regions: [fi1c1]
languages: [FI, en]
contact:
  role: SME desk
technologies:
  Robotics: 4
  Internet of Things: 3
services:
  Field trial: 2
sectors:
  c: 3
capacity:
  Test before invest:
    available: 2
    maximum: 5
    unit: SMEs per month
`)
	adv.must(t, "profile", "apply", "-f", file)
	var p protocol.Profile
	if err := json.Unmarshal([]byte(adv.must(t, "profile", "show", "--json").stdout), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != protocol.HubEDIH || p.Country != "FI" || p.Regions[0] != "FI1C1" || p.Languages[0] != "fi" ||
		p.Technologies["robotics"] != 4 || p.Technologies["internet-of-things"] != 3 || p.Services["field-trial"] != 2 ||
		p.Sectors["C"] != 3 || p.Capacity[protocol.FamilyTestBeforeInvest].Maximum != 5 {
		t.Errorf("applied profile: %+v", p)
	}

	bad := writeFile(t, dir, "bad.yaml", `id: advisor-hub
name: Advisor hub
type: Seal
country: Finnland
languages: [en]
technologies:
  iot: 3
`)
	r := adv.run(t, "profile", "apply", "-f", bad)
	if r.code != exitInvalid {
		t.Fatalf("bad profile: %v", r)
	}
	wantOut(t, "bad profile", r.stderr,
		`  technologies.iot: is not a technology slug; did you mean internet-of-things? (see 'hubnet vocab technologies')`,
		`  country: "Finnland" is not a country code (Eurostat); did you mean FI Finland? (see 'hubnet vocab countries')`,
		`  type: "Seal" is not a hub type; did you mean SoE? (see 'hubnet vocab types')`)
}

// TestCLI_capacityAboveMaximum: places above the published maximum are refused with
// the command that raises the maximum too, which then works as printed.
func TestCLI_capacityAboveMaximum(t *testing.T) {
	adv, _ := startReferralHubs(t)
	r := adv.run(t, "profile", "capacity", "set", "Test-Before-Invest", "20")
	if r.code != exitInvalid {
		t.Fatalf("capacity above the maximum: %v", r)
	}
	wantOut(t, "capacity above the maximum", r.stderr,
		"  available (N): must be at most the published maximum, 5; give maximum as well to raise it",
		"to raise the maximum too: hubnet --node http://"+adv.HTTPAddr()+" profile capacity set test-before-invest 20 --max 20")
	if got := adv.must(t, "profile", "show", "--json").stdout; !strings.Contains(got, `"available": 3`) {
		t.Errorf("refused change stored:\n%s", got)
	}
	line := strings.TrimSuffix(r.stderr[strings.Index(r.stderr, "hubnet --node"):strings.Index(r.stderr, ")\n")], ")")
	r = runPrinted(t, t.TempDir(), line, adv.env[1])
	if r.code != 0 || !strings.Contains(r.stdout, "test-before-invest: 20 of 20 SMEs per month available") {
		t.Errorf("%s: %v", line, r)
	}
}

// TestCLI_declinedState: a declined referral is in state rejected, and --state
// declined finds it; a state that is no state names the states near it.
func TestCLI_declinedState(t *testing.T) {
	adv, rcv := startReferralHubs(t)
	dir := t.TempDir()
	id := strings.Fields(adv.must(t, "refer", "-f", writeFile(t, dir, "referral.yaml", referralYAML(rcv.name))).stdout)[1]
	waitReferral(t, rcv, id, protocol.StateReceived)
	rcv.must(t, "referrals", "decline", id, "--reason", "no-capacity")
	for _, state := range []string{"declined", "rejected", "Rejected"} {
		rows := referralRows(t, rcv.must(t, "referrals", "--state", state).stdout)
		if got := rows[id]; len(rows) != 1 || len(got) < 3 || got[2] != "rejected" {
			t.Errorf("referrals --state %s: %v", state, rows)
		}
	}
	r := rcv.run(t, "referrals", "--state", "decline")
	if r.code != exitInvalid {
		t.Fatalf("--state decline: %v", r)
	}
	wantOut(t, "--state decline", r.stderr, `  --state: "decline" is not a referral state; did you mean rejected?`)
}

// TestCLI_printedCommandsRun: the commands init, network admit and refer print for
// the user to run next run as printed, from the directory they were printed in.
func TestCLI_printedCommandsRun(t *testing.T) {
	root := t.TempDir()
	run := func(args ...string) result {
		t.Helper()
		r := runPrinted(t, root, shellJoin(append([]string{"hubnet"}, args...)...))
		if r.code != 0 {
			t.Fatalf("hubnet %s: %v", strings.Join(args, " "), r)
		}
		return r
	}
	if err := os.Mkdir(filepath.Join(root, "net"), 0o700); err != nil {
		t.Fatal(err)
	}
	run("network", "create", "testnet", "-o", "net/network.json")
	r := run("init", "-d", "hub dir", "--network", "net/network.json", "--id", "hub-one")
	admit := printedLine(t, r.stdout, "hubnet network admit ")
	install := printedLine(t, r.stdout, "hubnet network install-cert ")
	start := printedLine(t, r.stdout, "start it:")
	if !strings.Contains(admit, "--key net/admission.key") || !strings.Contains(install, "-d 'hub dir'") || start != "hubnet run -d 'hub dir'" {
		t.Errorf("init printed:\n%s", r.stdout)
	}
	if r := runPrinted(t, root, "hubnet network admit "+admit); r.code != 0 || !strings.Contains(r.stdout, "written to hub-one.cert") {
		t.Fatalf("printed admit: %v", r)
	}
	if r := runPrinted(t, root, "hubnet network install-cert "+install); r.code != 0 || !strings.Contains(r.stdout, "certificate of hub-one installed") {
		t.Fatalf("printed install-cert: %v", r)
	}

	// network admit with -d prints the install command for that directory.
	r = run("init", "-d", "hub2", "--network", "net/network.json", "--id", "hub-two")
	admit = printedLine(t, r.stdout, "hubnet network admit ")
	r = runPrinted(t, root, "hubnet -d hub2 network admit "+admit)
	line := printedLine(t, r.stdout, "the hub installs it with:")
	if line != "hubnet network install-cert -d hub2 hub-two.cert" {
		t.Errorf("admit -d hub2 printed:\n%s", r.stdout)
	}
	if r := runPrinted(t, root, line); r.code != 0 {
		t.Errorf("%s: %v", line, r)
	}

	// refer: the command that follows the referral, with the -d that found the node.
	adv, rcv := startReferralHubs(t)
	if err := writeNodeFile(adv.Dir, nodeFile{ID: adv.ID(), URL: "http://" + adv.HTTPAddr()}); err != nil {
		t.Fatal(err)
	}
	r = hubnet(t, nil, "-d", adv.Dir, "refer", "-f", writeFile(t, root, "referral.yaml", referralYAML(rcv.name)))
	if r.code != 0 {
		t.Fatalf("refer: %v", r)
	}
	follow := printedLine(t, r.stdout, "Follow it with:")
	if r := runPrinted(t, t.TempDir(), follow); r.code != 0 || !strings.Contains(r.stdout, "robo-hub") {
		t.Errorf("%s: %v", follow, r)
	}
}

// TestCLI_version: a build from a checkout says its commit.
func TestCLI_version(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git checkout:", err)
	}
	r := mustHubnet(t, "version")
	wantOut(t, "version", r.stdout, "hubnet ", "(protocol v1, ", "commit "+strings.TrimSpace(string(head)))
}

// TestCLI_completion: completion offers vocabulary values, hub IDs from the node's
// directory and referral IDs from its referrals.
func TestCLI_completion(t *testing.T) {
	adv, rcv := startReferralHubs(t)
	complete := func(args ...string) string {
		t.Helper()
		return adv.must(t, append([]string{"__complete"}, args...)...).stdout
	}
	wantOut(t, "--tech int", complete("search", "--tech", "int"), "internet-of-things\tInternet of Things\n")
	wantOut(t, "--tech robotics,cyb", complete("search", "--tech", "robotics,cyb"), "robotics,cybersecurity\tCybersecurity\n")
	wantOut(t, "--region fi1c", complete("search", "--region", "fi1c"), "FI1C1\tVarsinais-Suomi\n")
	wantOut(t, "--type", complete("search", "--type", ""), "EDIH\t", "SoE\t", "DIH\t")
	wantOut(t, "--state", complete("referrals", "--state", "rej"), "rejected\n")
	wantOut(t, "hubs", complete("hubs", "ro"), "robo-hub\tHub robo-hub\n")
	wantOut(t, "refer --to", complete("refer", "--to", ""), "advisor-hub\t", "robo-hub\t")
	wantOut(t, "capacity set", complete("profile", "capacity", "set", "sk"), "skills-and-training\t")

	id := strings.Fields(adv.must(t, "refer", "-f", writeFile(t, t.TempDir(), "referral.yaml", referralYAML(rcv.name))).stdout)[1]
	wantOut(t, "referrals show", complete("referrals", "show", ""), id+"\tout robo-hub, ")
	wantOut(t, "referrals cancel", complete("referrals", "cancel", id[:8]), id+"\t")
}

// TestCLI_wrongToken: a wrong token is told apart from none.
func TestCLI_wrongToken(t *testing.T) {
	adv, _ := startReferralHubs(t)
	node := adv.env[0]
	r := hubnet(t, []string{node, "HUBNET_TOKEN=not-the-token"}, "referrals")
	if r.code == 0 || !strings.Contains(r.stderr, "hubnet: list referrals: wrong token: ") ||
		!strings.Contains(r.stderr, "(the token given is not one this hub takes: check --token, HUBNET_TOKEN or the file token of -d DIR)") {
		t.Errorf("wrong token: %v", r)
	}
	r = hubnet(t, []string{node}, "referrals")
	if r.code != exitUsage || !strings.Contains(r.stderr, "this needs the hub's operator token: none given") {
		t.Errorf("no token: %v", r)
	}
}
