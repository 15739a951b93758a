package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/catalogue"
	"github.com/hubnet-eu/hubnet/internal/catalogue/cataloguetest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

func TestDemo_profilesValid(t *testing.T) {
	names, err := fs.Glob(demoData, "demodata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != demoMaxHubs {
		t.Fatalf("got %d demo profiles, want %d", len(names), demoMaxHubs)
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := demoData.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			p, err := decodeProfile(data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
			if want := strings.TrimSuffix(filepath.Base(name), ".yaml"); p.ID != want {
				t.Errorf("id: got %q, want %q", p.ID, want)
			}
		})
	}

	profiles, err := demoProfiles()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range profiles {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids[:4], demoFirst) || !slices.IsSorted(ids[4:]) || len(ids) != demoMaxHubs {
		t.Errorf("demo order: got %v, want %v first, then the rest sorted", ids, demoFirst)
	}
}

// TestDemo_run runs a demo of three hubs in this process until its table is printed,
// checks the hubs answer on the URLs it printed, then stops it.
func TestDemo_run(t *testing.T) {
	keep := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	profiles, err := demoProfiles()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, &stdout, &stderr, slog.New(slog.DiscardHandler), demoOptions{Profiles: profiles[:3], Keep: keep})
	}()

	nodetest.Eventually(t, 30*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s", err, stderr.String())
		default:
		}
		if !strings.Contains(stdout.String(), "Press Ctrl-C to stop.") {
			return errors.New("demo has not printed its table yet")
		}
		return nil
	})
	out := stdout.String()
	for _, want := range []string{"HUB", "digit-hub-sweden", "DigIT Hub Sweden", "robocoast", "dih-slovenia", "hubnet --node http://127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo printed:\n%s\nwant it to contain %q", out, want)
		}
	}
	if strings.Contains(out, "digihall") {
		t.Errorf("demo of 3 hubs printed the fourth:\n%s", out)
	}

	// Each hub's node.json leads to a node that lists all three.
	for _, id := range []string{"digit-hub-sweden", "robocoast", "dih-slovenia"} {
		nf, err := readNodeFile(filepath.Join(keep, id))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, nf.URL) {
			t.Errorf("demo output lacks %s's URL %s", id, nf.URL)
		}
		resp, err := http.Get(nf.URL + "/v1/hubs")
		if err != nil {
			t.Fatal(err)
		}
		var hubs []api.HubInfo
		err = json.NewDecoder(resp.Body).Decode(&hubs)
		resp.Body.Close()
		if err != nil || len(hubs) != 3 {
			t.Errorf("%s lists %d hubs (%v), want 3", id, len(hubs), err)
		}
	}

	first := filepath.Join(keep, "digit-hub-sweden")
	if want := "5 referrals between the hubs, in different states: "; !strings.Contains(out, want) ||
		!strings.Contains(out, "-d "+first+" referrals\n") || !strings.Contains(out, "referrals accept ") {
		t.Errorf("demo printed:\n%s\nwant it to say how to list its referrals and accept one", out)
	}
	checkDemoReferrals(t, keep)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo still running 10s after cancel")
	}
	if _, err := os.Stat(filepath.Join(keep, "robocoast", nodeFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("node.json after the demo: %v, want it removed", err)
	}
	if _, err := os.Stat(filepath.Join(keep, "network.json")); err != nil {
		t.Errorf("--keep lost network.json: %v", err)
	}

	// Run again on the kept hubs: they have their referrals, and get no more.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var again syncBuffer
	done = make(chan error, 1)
	go func() {
		done <- runDemo(ctx, &again, &stderr, slog.New(slog.DiscardHandler), demoOptions{Profiles: profiles[:3], Keep: keep})
	}()
	nodetest.Eventually(t, 30*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s", err, stderr.String())
		default:
		}
		if !strings.Contains(again.String(), "Press Ctrl-C to stop.") {
			return errors.New("demo has not printed its table yet")
		}
		return nil
	})
	if !strings.Contains(again.String(), "5 referrals between the hubs") {
		t.Errorf("second demo on kept hubs printed:\n%s\nwant 5 referrals still", again.String())
	}
	checkDemoReferrals(t, keep)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("second demo still running 10s after cancel")
	}
}

// checkDemoReferrals checks, with the CLI, that the first demo hub holds the demo's
// five referrals in their states, and the other hub of each holds it in the same
// state, with nothing left to deliver.
func checkDemoReferrals(t *testing.T, keep string) {
	t.Helper()
	list := func(id string) map[string]api.ReferralInfo {
		t.Helper()
		r := mustHubnet(t, "-d", filepath.Join(keep, id), "referrals", "--json")
		var infos []api.ReferralInfo
		if err := json.Unmarshal([]byte(r.stdout), &infos); err != nil {
			t.Fatalf("referrals of %s: %v\n%s", id, err, r.stdout)
		}
		m := map[string]api.ReferralInfo{}
		for _, info := range infos {
			m[info.Referral.ID] = info
		}
		return m
	}
	type view struct {
		dir     string
		partner string
		state   protocol.State
		reason  string
	}
	var got []view
	at := list("digit-hub-sweden")
	others := map[string]map[string]api.ReferralInfo{"robocoast": list("robocoast"), "dih-slovenia": list("dih-slovenia")}
	for id, info := range at {
		got = append(got, view{direction(info.Role), info.Partner, info.Referral.State, info.Referral.Reason + info.Referral.Outcome})
		there, ok := others[info.Partner][id]
		switch {
		case !ok:
			t.Errorf("referral %s with %s: not at %s", id, info.Partner, info.Partner)
		case there.Referral.State != info.Referral.State || there.Pending != 0 || info.Pending != 0:
			t.Errorf("referral %s: %s at digit-hub-sweden (%d pending), %s at %s (%d pending)",
				id, info.Referral.State, info.Pending, there.Referral.State, info.Partner, there.Pending)
		}
	}
	slices.SortFunc(got, func(a, b view) int { return strings.Compare(string(a.state), string(b.state)) })
	want := []view{
		{"out", "dih-slovenia", protocol.StateCancelled, "consent-withdrawn"},
		{"out", "robocoast", protocol.StateCompleted, "service-delivered"},
		{"in", "dih-slovenia", protocol.StateInProgress, ""},
		{"in", "robocoast", protocol.StateReceived, ""},
		{"out", "robocoast", protocol.StateRejected, "no-capacity"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("demo referrals at digit-hub-sweden:\n got %v\nwant %v", got, want)
	}
	// The receiver of the completed one holds the SME's identity; of the cancelled
	// one, it does not.
	for _, info := range others["robocoast"] {
		if info.Referral.State == protocol.StateCompleted && (info.SME == nil || info.SME.Name != "Example Bakery Oy") {
			t.Errorf("robocoast's completed referral lacks the SME: %+v", info.SME)
		}
	}
	for _, info := range others["dih-slovenia"] {
		if info.Referral.State == protocol.StateCancelled && info.SME != nil {
			t.Errorf("dih-slovenia kept the SME of a cancelled referral: %+v", info.SME)
		}
	}
}

func TestDemoReferrals_valid(t *testing.T) {
	now := time.Now()
	for _, hubs := range []int{2, 3, 6} {
		for i, r := range demoReferrals(hubs, now) {
			if r.from == r.to || r.from < 0 || r.to < 0 || r.from >= hubs || r.to >= hubs {
				t.Errorf("%d hubs, referral %d: from %d to %d", hubs, i, r.from, r.to)
			}
			if r.from != 0 && r.to != 0 {
				t.Errorf("%d hubs, referral %d: from %d to %d, want the first hub in each", hubs, i, r.from, r.to)
			}
			r.req.Consent.Recipient = "some-hub"
			for _, err := range []error{r.req.Need.Validate(), r.req.SME.Validate(), r.req.Consent.Validate(now)} {
				if err != nil {
					t.Errorf("referral %d: %v", i, err)
				}
			}
		}
	}
}

func TestCatalogueDemoProfiles_spreadOverCountries(t *testing.T) {
	hub := func(row int, id, country string, techs map[string]int) catalogue.Hub {
		p := &protocol.Profile{ID: id, Name: id, Type: protocol.HubDIH, Country: country, Languages: []string{"en"}, Technologies: techs}
		return catalogue.Hub{Row: row, Name: id, ID: id, Type: p.Type, Country: country, Profile: p}
	}
	robotics := map[string]int{"robotics": 3}
	hubs := []catalogue.Hub{
		hub(2, "fi-one", "FI", robotics),
		hub(3, "de-no-tech", "DE", nil),
		hub(4, "fi-two", "FI", robotics),
		hub(5, "be-one", "BE", robotics),
		hub(6, "de-one", "DE", robotics),
		{Row: 7, Name: "not imported", Country: "AT", Reason: "test"},
		hub(8, "fi-three", "FI", robotics),
	}
	got, err := catalogueDemoProfiles(hubs, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.ID)
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.ID, err)
		}
		if n := len(p.Capacity); n < 2 || n > 3 {
			t.Errorf("%s: capacity in %d families, want 2 or 3", p.ID, n)
		}
	}
	if want := []string{"be-one", "de-one", "fi-one", "fi-two", "fi-three"}; !slices.Equal(ids, want) {
		t.Errorf("picked %v, want %v", ids, want)
	}
	if hubs[0].Profile.Capacity != nil {
		t.Errorf("picking changed the imported profile: %v", hubs[0].Profile.Capacity)
	}
	if _, err := catalogueDemoProfiles(hubs, 6, nil); err == nil || !strings.Contains(err.Error(), "only 5 imported hubs list technologies") {
		t.Errorf("6 of 5 hubs: got %v, want an error saying only 5 qualify", err)
	}
}

func TestIllustrativeCapacity(t *testing.T) {
	p := protocol.Profile{ID: "robocoast", Services: map[string]int{"field-trial": 4}}
	first := illustrativeCapacity(p)
	if again := illustrativeCapacity(p); !reflect.DeepEqual(again, first) {
		t.Errorf("second call %v, first %v: want the same for the same ID", again, first)
	}
	if _, ok := first[protocol.FamilyTestBeforeInvest]; !ok {
		t.Errorf("capacity %v lacks test-before-invest, the family of the hub's only service", first)
	}
	differ := false
	for _, id := range []string{"cih", "cih-2", "nest", "diva", "datalife"} {
		c := illustrativeCapacity(protocol.Profile{ID: id})
		if len(c) < 2 || len(c) > 3 {
			t.Errorf("%s: %d families, want 2 or 3", id, len(c))
		}
		for f, v := range c {
			if v.Maximum < 4 || v.Maximum > 12 || v.Available < 0 || v.Available > v.Maximum || v.Unit != "SMEs per month" {
				t.Errorf("%s %s: %+v, want 0 <= available <= maximum, maximum 4 to 12", id, f, v)
			}
		}
		differ = differ || !reflect.DeepEqual(c, first)
	}
	if !differ {
		t.Error("every ID got the same capacity")
	}
}

// TestDemo_fromCatalogue runs `hubnet demo --from-catalogue` on the small test
// workbook until it prints its table, checks the hubs and their capacity, then stops it.
func TestDemo_fromCatalogue(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalogue.xlsx")
	if err := os.WriteFile(file, cataloguetest.Workbook(t, cataloguetest.Header, cataloguetest.Rows), 0o600); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "demo")
	p := startHubnet(t, "demo", "--from-catalogue", file, "--hubs", "3", "--keep", keep)
	nodetest.Eventually(t, 30*time.Second, func() error {
		select {
		case <-p.done:
			t.Fatalf("demo stopped: %v\n%s", p.err, p.stderr.String())
		default:
		}
		if !strings.Contains(p.stderr.String(), "Press Ctrl-C to stop.") {
			return errors.New("demo has not printed its table yet")
		}
		return nil
	})
	out := p.stderr.String()
	// Countries by code: BE, DE, FI first.
	for _, want := range []string{
		"3 hubs from catalogue.xlsx, spread over countries, in 2 regional clusters (Source: European Commission, EDIH catalogue).",
		"capacity figures are illustrative, derived from each hub's ID",
		"retail-hub", "quantum-valley", "robocoast",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo printed:\n%s\nwant it to contain %q", out, want)
		}
	}
	nf, err := readNodeFile(filepath.Join(keep, "robocoast"))
	if err != nil {
		t.Fatal(err)
	}
	r := mustHubnet(t, "--node", nf.URL, "hubs", "retail-hub", "--json")
	var h api.HubInfo
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatal(err)
	}
	want := illustrativeCapacity(h.Profile)
	for f, c := range want {
		if got := h.Profile.Capacity[f]; got.Available != c.Available || got.Maximum != c.Maximum {
			t.Errorf("retail-hub's capacity in %s: %+v, want %+v", f, got, c)
		}
	}
	if len(h.Profile.Capacity) != len(want) {
		t.Errorf("retail-hub's capacity %v, want %v", h.Profile.Capacity, want)
	}
	if h.Profile.Country != "BE" || h.Profile.Sectors["G"] != 4 {
		t.Errorf("retail-hub: %+v, want the imported profile", h.Profile)
	}
	p.stop(t, 15*time.Second)
}

// TestDemo_fromCatalogueCountries runs `hubnet demo --from-catalogue --country FI,DE`
// on the small test workbook: the hub of each country, in two regional clusters
// (north and west). It runs every example the demo prints and checks that each finds
// what it promises.
func TestDemo_fromCatalogueCountries(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalogue.xlsx")
	if err := os.WriteFile(file, cataloguetest.Workbook(t, cataloguetest.Header, cataloguetest.Rows), 0o600); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "demo")
	p := startHubnet(t, "demo", "--from-catalogue", file, "--country", "fi,DE", "--keep", keep)
	nodetest.Eventually(t, 60*time.Second, func() error {
		select {
		case <-p.done:
			t.Fatalf("demo stopped: %v\n%s", p.err, p.stderr.String())
		default:
		}
		if !strings.Contains(p.stderr.String(), "Press Ctrl-C to stop.") {
			return errors.New("demo has not printed its examples yet")
		}
		return nil
	})
	out := p.stderr.String()
	if want := "2 hubs from catalogue.xlsx, in FI, DE, in 2 regional clusters"; !strings.Contains(out, want) {
		t.Errorf("demo printed:\n%s\nwant it to contain %q", out, want)
	}
	nf, err := os.ReadFile(filepath.Join(keep, "network.json"))
	if err != nil {
		t.Fatal(err)
	}
	netw, err := protocol.ParseNetwork(nf)
	if err != nil {
		t.Fatal(err)
	}
	if got := [2]string{netw.ClusterOf("FI"), netw.ClusterOf("DE")}; got != [2]string{"north", "west"} {
		t.Errorf("clusters of FI and DE: %v, want north and west", got)
	}
	// Every printed command runs, and each finds the hub it names or searches for:
	// robocoast, the hub of the other country than the first (quantum-valley).
	ran := 0
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if _, cli, ok := strings.Cut(line, "in different states: "); ok {
			line = cli
		}
		switch {
		case strings.HasPrefix(line, "curl '"):
			u := strings.TrimSuffix(strings.TrimPrefix(line, "curl '"), "'")
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %s, %v", line, resp.Status, err)
			}
			if !strings.Contains(string(body), `"robocoast"`) {
				t.Errorf("%s found %s, want robocoast", line, body)
			}
			ran++
		case strings.HasPrefix(line, "hubnet "):
			args := splitDemoLine(t, strings.TrimPrefix(line, "hubnet "))
			r := mustHubnet(t, args...)
			ran++
			want := ""
			switch {
			case slices.Contains(args, "search"), slices.Contains(args, "hubs"):
				want = "robocoast"
			case slices.Contains(args, "peers"):
				want = "robocoast"
			}
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s printed:\n%s\nwant it to contain %q", line, r.stdout, want)
			}
		}
	}
	// hubs, hubs ID, peers, 2 searches, curl; referrals, show, accept, report.
	if ran != 10 {
		t.Errorf("ran %d printed examples, want 10:\n%s", ran, out)
	}
	p.stop(t, 15*time.Second)
}

// splitDemoLine splits a printed command line into its arguments, honouring double
// quotes.
func splitDemoLine(t *testing.T, line string) []string {
	var args []string
	for i, part := range strings.Split(line, `"`) {
		if i%2 == 1 {
			args = append(args, part)
			continue
		}
		args = append(args, strings.Fields(part)...)
	}
	return args
}

// TestDemo_countryRefused checks that --country names the flag and the rule when a
// code is unknown, and is refused without --from-catalogue.
func TestDemo_countryRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalogue.xlsx")
	if err := os.WriteFile(file, cataloguetest.Workbook(t, cataloguetest.Header, cataloguetest.Rows), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--from-catalogue", file, "--country", "IT,XX"}, `--country: "XX" is not a known country code`},
		{[]string{"demo", "--from-catalogue", file, "--country", "FI,FI"}, "--country: FI is given twice"},
		{[]string{"demo", "--from-catalogue", file, "--country", "AT"}, "--country: AT has no imported hub that lists technologies"},
		{[]string{"demo", "--country", "FI"}, "--country needs --from-catalogue"},
		{[]string{"demo", "--hubs", "all"}, "--hubs must be 1 to 12"},
		{[]string{"demo", "--from-catalogue", file, "--hubs", "0"}, "--hubs must be a number of 1 or more, or 'all'"},
	} {
		r := hubnet(t, nil, c.args...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("hubnet %s: %v\nwant a failure saying %q", strings.Join(c.args, " "), r, c.want)
		}
	}
}

// TestDemo_processes runs the demo binary with its four hubs in two processes, as a
// demo of the whole catalogue runs: every hub, the helper process's too, lists all
// four and answers at the URL printed; Ctrl-C stops the helper's hubs as well.
func TestDemo_processes(t *testing.T) {
	keep := t.TempDir()
	cmd := exec.Command(mustBin(t), "demo", "--hubs", "4", "--processes", "2", "--keep", keep)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	nodetest.Eventually(t, 60*time.Second, func() error {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("demo stopped: %v\n%s", err, stderr.String())
		default:
		}
		if !strings.Contains(stdout.String(), "Press Ctrl-C to stop.") {
			return errors.New("demo has not printed its table yet")
		}
		return nil
	})
	if want := "starting 4 hubs in " + keep + ", in 2 processes ..."; !strings.Contains(stderr.String(), want) {
		t.Errorf("demo said:\n%s\nwant %q", stderr.String(), want)
	}
	ids := []string{"digit-hub-sweden", "robocoast", "dih-slovenia", "digihall"}
	for _, id := range ids {
		nf, err := readNodeFile(filepath.Join(keep, id))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), id) || !strings.Contains(stdout.String(), nf.URL) {
			t.Errorf("demo printed:\n%s\nwant %s with its URL %s", stdout.String(), id, nf.URL)
		}
		resp, err := http.Get(nf.URL + "/v1/hubs")
		if err != nil {
			t.Fatal(err)
		}
		var hubs []api.HubInfo
		err = json.NewDecoder(resp.Body).Decode(&hubs)
		resp.Body.Close()
		if err != nil || len(hubs) != len(ids) {
			t.Errorf("%s lists %d hubs (%v), want %d", id, len(hubs), err, len(ids))
		}
	}

	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("demo after Ctrl-C: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo still running 30s after Ctrl-C")
	}
	// Every hub, the helper's too, left and removed its node.json.
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(keep, id, nodeFileName)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s's node.json after the demo: %v, want it removed", id, err)
		}
	}
}
