package console_test

// Browser tests of the web console: headless Chromium, driven by chromedp, signs in,
// fills the forms and clicks the buttons as an advisor and an operator would, on
// two real hubs. They are skipped when no Chromium is installed (.ci/run installs
// Debian's). With HUBNET_SCREENSHOTS=1 they also write the screenshots of
// docs/console.md to docs/img.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

const (
	// browserTimeout bounds a whole browser test, Chromium's start included. A test
	// takes about 40 s on two cores busy with other tests, axe-core included.
	browserTimeout = 180 * time.Second
	// stepTimeout bounds one step, so that an element that never shows fails the
	// test with its selector instead of waiting for browserTimeout.
	stepTimeout = 10 * time.Second
	// axeTimeout bounds one check of a page with axe-core.
	axeTimeout = 60 * time.Second
	// viewportW and viewportH are the fixed window of every page and screenshot.
	viewportW, viewportH = 1280, 900
)

// chromiumPath returns the browser the tests drive: HUBNET_CHROMIUM if set, else
// Debian's /usr/bin/chromium, else the first of chromium, chromium-browser and
// google-chrome on PATH; "" when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HUBNET_CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("HUBNET_CHROMIUM=%s: %v", p, err)
		}
		return path
	}
	if _, err := exec.LookPath("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// chromium is one headless Chromium for a test. Each person of the test gets a tab
// in a browser context of its own, so they share no cookies.
type chromium struct {
	t     *testing.T
	ctx   context.Context // the browser; ends with the test or after browserTimeout
	shots string          // directory the screenshots go to

	mu       sync.Mutex                // guards problems, pages and done
	problems []chromedp.ConsoleMessage // errors the pages wrote to the browser's console
	pages    map[string]bool           // URLs of the pages the tabs showed
	done     bool                      // the test has read problems; later messages are dropped
}

// startChromium starts headless Chromium on loopback with the flags this machine
// needs (no sandbox, no GPU, no QUIC, no network of its own) and a fresh profile,
// or skips the test when no Chromium is installed.
func startChromium(t *testing.T) *chromium {
	t.Helper()
	path := chromiumPath(t)
	if path == "" {
		t.Skip("no Chromium found (/usr/bin/chromium, chromium, chromium-browser or google-chrome on PATH): " +
			"install Debian's chromium or set HUBNET_CHROMIUM to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(viewportW, viewportH),
	)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// Runs before the removal of the profile directory: cleanups run last first.
	t.Cleanup(func() { bcancel(); acancel(); cancel() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	c := &chromium{t: t, ctx: bctx, shots: t.TempDir(), pages: map[string]bool{}}
	if os.Getenv("HUBNET_SCREENSHOTS") == "1" {
		c.shots = filepath.Join("..", "..", "docs", "img")
		if err := os.MkdirAll(c.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// consoleProblems returns the errors pages wrote to the browser's console: a
// stylesheet that failed to load, a content security policy violation, an
// exception. A page's own status, such as the 400 of a form with mistakes, is the
// test's to check and not counted.
func (c *chromium) consoleProblems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	var out []string
	for _, m := range c.problems {
		if m.Source == "network" && c.pages[m.URL] {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s)", m, m.URL))
	}
	return out
}

// showed notes that a tab showed the page at u.
func (c *chromium) showed(u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pages[u] = true
}

// tab is one person's tab on one hub's console.
type tab struct {
	t     *testing.T
	c     *chromium
	ctx   context.Context
	base  string // http://127.0.0.1:port of the hub's console
	width int64  // of the window, in pixels
}

// tab opens a tab on hub h's console in a browser context of its own.
func (c *chromium) tab(h *nodetest.Hub) *tab {
	c.t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	c.t.Cleanup(cancel)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			c.mu.Lock()
			if !c.done {
				c.problems = append(c.problems, m)
			}
			c.mu.Unlock()
		}
	}()
	tb := &tab{t: c.t, c: c, ctx: ctx, base: "http://" + h.HTTPAddr(), width: viewportW}
	tb.do("set the viewport", chromedp.EmulateViewport(viewportW, viewportH, chromedp.EmulateScale(1)))
	return tb
}

// do runs steps on the tab, failing the test with what when one fails or the steps
// take longer than stepTimeout.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// run runs one action on the tab and returns its value, as do.
func run[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open loads path and returns the HTTP status of the page it ends on.
func (tb *tab) open(path string) int64 {
	tb.t.Helper()
	resp := run(tb, "open "+path, chromedp.NavigateResponse(tb.base+path))
	tb.c.showed(resp.URL)
	return resp.Status
}

// press clicks the element sel (a button or a link), waits for the page it leads
// to, and returns that page's HTTP status.
func (tb *tab) press(sel string) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.Search(sel)))
	if err != nil {
		tb.t.Fatalf("click %s: %v", sel, err)
	}
	tb.c.showed(resp.URL)
	return resp.Status
}

// text returns the visible text of the first element matching the CSS selector,
// once it is visible.
func (tb *tab) text(css string) string {
	tb.t.Helper()
	return strings.TrimSpace(run(tb, "read "+css, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible)))
}

// wantText checks that the element css shows each of want.
func (tb *tab) wantText(css string, want ...string) {
	tb.t.Helper()
	got := tb.text(css)
	for _, w := range want {
		if !strings.Contains(got, w) {
			tb.t.Errorf("%s shows %q, want it to show %q", css, got, w)
		}
	}
}

// count returns how many elements match the CSS selector now, without waiting.
func (tb *tab) count(css string) int {
	tb.t.Helper()
	return len(run(tb, "count "+css, chromedp.Nodes(chromedp.CSSAll(css), chromedp.AtLeast(0))))
}

// location returns the path and query of the page the tab shows.
func (tb *tab) location() string {
	tb.t.Helper()
	u, err := url.Parse(run(tb, "location", chromedp.Location()))
	if err != nil {
		tb.t.Fatal(err)
	}
	return u.RequestURI()
}

// typeIn types s into the field id, as a person would.
func (tb *tab) typeIn(id, s string) {
	tb.t.Helper()
	tb.do("type into #"+id, chromedp.SendKeys(chromedp.ID(id), s))
}

// choose sets the select or date field id to value.
func (tb *tab) choose(id, value string) {
	tb.t.Helper()
	tb.do("choose "+value+" in #"+id, chromedp.SetValue(chromedp.ID(id), value, chromedp.NodeVisible))
}

// shot saves a full-page screenshot as console-<name>.png and checks it is the
// page at the viewport's width.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	b := run(tb, "screenshot "+name, chromedp.FullScreenshot(100))
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || int64(cfg.Width) != tb.width || cfg.Height < 200 {
		tb.t.Fatalf("screenshot %s: %dx%d, %v; want a PNG %d wide", name, cfg.Width, cfg.Height, err, tb.width)
	}
	if err := os.WriteFile(filepath.Join(tb.c.shots, "console-"+name+".png"), b, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// signIn signs in to the hub's console from the sign-in page the tab shows, by
// typing the operator token, and returns the status of the page it lands on.
func (tb *tab) signIn(h *nodetest.Hub) int64 {
	tb.t.Helper()
	token, err := node.ReadToken(h.Dir)
	if err != nil {
		tb.t.Fatal(err)
	}
	if got := tb.text("main h1"); got != "Sign in" {
		tb.t.Fatalf("the page shows %q, want the sign-in page", got)
	}
	tb.do("open the operator token's form", chromedp.Click(chromedp.CSS(`details:has(#f-token) > summary`)))
	tb.typeIn("f-token", token)
	return tb.press(button("Sign in as operator"))
}

// eventually reloads path until check, reading the page, returns nil, and fails
// the test with check's last error after timeout.
func (tb *tab) eventually(path string, timeout time.Duration, check func() error) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		tb.open(path)
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s after %v: %v", path, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// button is the selector of the button in main labelled label.
func button(label string) string {
	return fmt.Sprintf(`//main//button[normalize-space()=%q]`, label)
}

// link is the selector of the link in main reading label.
func link(label string) string {
	return fmt.Sprintf(`//main//a[normalize-space()=%q]`, label)
}

// browserHubs starts hub-a, where the advisor works, and hub-b, Robo Coast, which
// A's search for robotics test-before-invest finds.
func browserHubs(t *testing.T) (a, b *nodetest.Hub) {
	t.Helper()
	return browserHubsWith(t, func(*node.Config) {})
}

// browserHubsWith starts the hubs of browserHubs, hub-b's configuration changed by
// change.
func browserHubsWith(t *testing.T, change func(c *node.Config)) (a, b *nodetest.Hub) {
	t.Helper()
	net := nodetest.Network(t)
	pa, pb := nodetest.Profile("hub-a"), nodetest.Profile("hub-b")
	pa.Name, pa.Title = "Hub Keski-Suomi", "AI and automation for Central Finland's SMEs"
	pb.Name, pb.Title = "Robo Coast", "Robotics test beds on the west coast"
	pb.Description = "Robot cells and machine vision labs where SMEs test automation before they invest."
	pb.Technologies = map[string]int{"robotics": 5, "ai-decision-support": 3}
	pb.Services = map[string]int{"prototyping": 4}
	pb.Sectors = map[string]int{"10": 5, "C": 3}
	pb.Regions = []string{"FI19"}
	pb.Capacity = map[protocol.Family]protocol.Capacity{protocol.FamilyTestBeforeInvest: {Available: 4, Maximum: 10, Unit: "SMEs per month"}}
	a = nodetest.Start(t, net, "hub-a", &pa)
	dir := t.TempDir()
	nodetest.Init(t, dir, net, "hub-b", &pb)
	cfg := nodetest.Config(dir, a.GossipAddr())
	change(&cfg)
	b = nodetest.StartConfig(t, cfg)
	hubs := []*nodetest.Hub{a, b}
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return a, b
}

// TestConsoleBrowser_referralLoop walks the referral loop through both hubs' consoles in
// Chromium: an advisor on hub A signs in, searches, opens hub B's page and refers
// an SME, first with mistakes; hub B's operator accepts, starts and completes the
// referral; hub A's console then shows it completed. Each page is photographed.
func TestConsoleBrowser_referralLoop(t *testing.T) {
	t.Parallel()
	c := startChromium(t)
	a, b := browserHubs(t)
	start := time.Now()

	// The advisor on hub A signs in from the menu and lands on Find a partner.
	adv := c.tab(a)
	if st := adv.open("/search"); st != 200 {
		t.Fatalf("search page: status %d", st)
	}
	if bg := run(adv, "header colour", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header.site")).backgroundColor`)); bg != "rgb(27, 31, 36)" {
		t.Errorf("the header's background is %q: the stylesheet did not apply", bg)
	}
	adv.wantText("header.site nav", "Find a partner", "Referrals", "My hub", "Reports", "Sign in")
	if st := adv.press(`//header//a[normalize-space()="Sign in"]`); st != 200 {
		t.Fatalf("sign-in page: status %d", st)
	}
	if st := adv.signIn(a); st != 200 || adv.location() != "/search" {
		t.Fatalf("after signing in: status %d at %s, want 200 at /search", st, adv.location())
	}
	adv.wantText("header.site nav", "Sign out")
	adv.wantText("footer.site", "signed in as operator (operator)")

	// Search: robotics, test before invest. The technologies fold away until opened.
	adv.do("open Technologies", chromedp.Click(chromedp.CSS(`details:has(#f-tech) > summary`)))
	adv.do("tick Robotics", chromedp.Click(chromedp.CSS(`#f-tech input[value="robotics"]`), chromedp.NodeVisible))
	adv.choose("f-family", "test-before-invest")
	if st := adv.press(button("Search")); st != 200 {
		t.Fatalf("search: status %d", st)
	}
	if got := adv.location(); !strings.Contains(got, "tech=robotics") || !strings.Contains(got, "family=test-before-invest") {
		t.Errorf("the search is at %s, want its filters in the URL", got)
	}
	want, err := a.Search(protocol.Query{Technologies: []string{"robotics"}, Family: protocol.FamilyTestBeforeInvest})
	if err != nil || len(want.Hits) != 1 || want.Hits[0].ID != "hub-b" {
		t.Fatalf("hub-a's search finds %+v, %v; want hub-b only", want.Hits, err)
	}
	adv.wantText("#result-count", "1 hub matches.")
	row := `table.hits tbody tr:has(a[href^="/hubs/hub-b"])`
	if got := adv.text(row + " th"); got != "Robo Coast" {
		t.Errorf("the result's hub reads %q, want Robo Coast", got)
	}
	if got := adv.text(row + " td.why"); got != want.Hits[0].Explanation {
		t.Errorf("the result's explanation reads %q, want %q", got, want.Hits[0].Explanation)
	}
	adv.wantText(row, "4", "reachable") // free places, reachability
	if got := run(adv, "refer link", chromedp.AttributeValue(chromedp.CSS(row+" a.refer-link"), "href")).Value; !strings.Contains(got, "family=test-before-invest") || !strings.Contains(got, "tech=robotics") {
		t.Errorf("the result's Refer an SME leads to %q, want the search's family and technology in it", got)
	}
	adv.shot("search")
	adv.axeCheck("the search")

	// Hub B's page, then Refer an SME.
	if st := adv.press(`//table//a[normalize-space()="Robo Coast"]`); st != 200 {
		t.Fatalf("hub page: status %d", st)
	}
	adv.wantText("main h1", "Robo Coast")
	adv.wantText("table.levels", "Robotics", "●●●●●")
	adv.wantText("#regions + ul", "FI19", "Länsi-Suomi")
	adv.wantText("main section:has(#capacity)", "4 of 10", "SMEs per month")
	adv.shot("hub")
	adv.axeCheck("the hub page")
	if st := adv.press(link("Refer an SME")); st != 200 {
		t.Fatalf("referral form: status %d", st)
	}
	adv.wantText("main h1", "Refer an SME to Robo Coast")
	// The form carries the search: the family chosen, the technology ticked.
	if got := run(adv, "family", chromedp.Value(chromedp.ID("f-need-family"))); got != "test-before-invest" {
		t.Errorf("the form's service family is %q, want test-before-invest from the search", got)
	}
	if n := adv.count(`#f-need-technologies input[value="robotics"]:checked`); n != 1 {
		t.Errorf("robotics is not ticked in the form, although the search asked for it")
	}

	// The form with an unknown region and no company name comes back with the
	// problems next to their fields, keeps what was typed, and stores nothing.
	today := time.Now().UTC().Format(time.DateOnly)
	if got := run(adv, "consent date", chromedp.Value(chromedp.ID("f-consent-given-at"))); got != today {
		t.Errorf("consent given on %q by default, want today %s", got, today)
	}
	adv.choose("f-need-sector", "10")
	adv.typeIn("f-need-region", "XX999")
	adv.choose("f-need-category", "small")
	adv.choose("f-need-family", "test-before-invest")
	adv.typeIn("f-need-description", "Wants to test machine vision for quality control on a bakery line.")
	adv.typeIn("f-sme-contact-name", "Aino Example")
	adv.typeIn("f-sme-contact-email", "aino@leipomo.example")
	adv.typeIn("f-consent-given-by", "managing director")
	adv.typeIn("f-consent-purpose", "referral for AI test-before-invest services")
	adv.choose("f-consent-until", time.Now().UTC().AddDate(0, 3, 0).Format(time.DateOnly))
	if st := adv.press(button("Send the referral")); st != 400 {
		t.Fatalf("referral with mistakes: status %d, want 400", st)
	}
	adv.wantText(".error-summary[role=alert]", "Please correct 2 problems", "Region of the SME", "SME company name")
	adv.wantText("#e-need-region", "Error:", "NUTS")
	adv.wantText("#e-sme-name", "is required")
	for id, want := range map[string]string{"f-need-region": "XX999", "f-sme-contact-name": "Aino Example", "f-need-sector": "10"} {
		if got := run(adv, "value of "+id, chromedp.Value(chromedp.ID(id))); got != want {
			t.Errorf("#%s holds %q after the mistakes, want %q kept", id, got, want)
		}
	}
	if list, err := a.Referrals(api.ReferralQuery{}); err != nil || len(list) != 0 {
		t.Fatalf("after the form with mistakes hub-a holds %d referrals (%v), want none", len(list), err)
	}
	adv.shot("refer-errors")
	adv.axeCheck("the referral form with its errors")

	// Corrected, it is sent, and the advisor lands on the referral's page.
	adv.do("clear the region", chromedp.Clear(chromedp.ID("f-need-region")))
	adv.typeIn("f-need-region", "Jyväskylä") // a town, which the console places in FI193
	adv.typeIn("f-sme-name", "Leipomo Esimerkki Oy")
	if st := adv.press(button("Send the referral")); st != 200 {
		t.Fatalf("referral: status %d, want the referral's page", st)
	}
	refPath := adv.location()
	id := strings.TrimPrefix(refPath, "/referrals/")
	if id == refPath || id == "" {
		t.Fatalf("after sending, the page is %s, want /referrals/{id}", refPath)
	}
	adv.wantText("main h1", "Referral to Robo Coast")
	adv.wantText("main section:has(#sme-h)", "Leipomo Esimerkki Oy", "Aino Example")

	// Hub B's operator opens the referrals, signs in, and finds it in the inbox.
	op := c.tab(b)
	if st := op.open("/referrals"); st != 200 || !strings.HasPrefix(op.location(), "/login?next=") {
		t.Fatalf("referrals without a session: status %d at %s, want the sign-in page", st, op.location())
	}
	if st := op.signIn(b); st != 200 || op.location() != "/referrals" {
		t.Fatalf("after signing in: status %d at %s, want 200 at /referrals", st, op.location())
	}
	op.eventually("/referrals", 10*time.Second, func() error {
		if got := op.text("main p[role=status]"); got != "1 referral received." {
			return fmt.Errorf("the inbox says %q", got)
		}
		return nil
	})
	in := fmt.Sprintf(`table.referrals tbody tr:has(a[href="/referrals/%s"])`, id)
	op.wantText(in, "Hub Keski-Suomi", "received", "Accept or decline by")
	op.wantText(in+" th", "test before invest, sector 10, FI193", "bakery line")
	op.shot("referrals")
	op.axeCheck("the referrals received")
	// The worklist has it, oldest first, with its due date.
	if st := op.open("/worklist"); st != 200 {
		t.Fatalf("worklist: status %d", st)
	}
	op.wantText("table.worklist tbody", "Accept or decline by", "Hub Keski-Suomi", "today", "nobody yet")
	op.shot("worklist")

	// Open it: the need shows, the SME is sealed; accept, start, complete.
	if st := op.press(fmt.Sprintf(`//table//a[@href="/referrals/%s"]`, id)); st != 200 {
		t.Fatalf("referral at hub-b: status %d", st)
	}
	op.wantText("main h1", "Referral from Hub Keski-Suomi")
	op.wantText(".page-head .state", "received")
	op.wantText("main section:has(#need-h)", "bakery line", "FI193")
	op.wantText("main section:has(#sme-h)", "sealed")
	op.wantText("section.actions-panel", "Accept the referral", "Decline the referral", "Ask the referring hub for more information")
	if n := op.count(`form.action button`); n != 3 {
		t.Errorf("a received referral offers %d actions, want 3: accept, decline, ask", n)
	}
	op.typeIn("accept-note", "Our vision lab is free next week.")
	for _, step := range []struct{ press, state string }{{"Accept", "accepted"}, {"Start", "in progress"}} {
		if st := op.press(button(step.press)); st != 200 {
			t.Fatalf("%s: status %d", step.press, st)
		}
		op.wantText(".page-head .state", step.state)
	}
	op.wantText("section.actions-panel", "Complete the referral")
	op.eventually("/referrals/"+id, 10*time.Second, func() error {
		if s := op.text("main section:has(#summary-h)"); strings.Contains(s, "not yet acknowledged") {
			return errors.New("hub-a has not yet acknowledged the start")
		}
		return nil
	})
	op.wantText("main section:has(#history-h) tbody", "accept", "start", "Our vision lab is free next week.")
	op.shot("referral")
	op.axeCheck("a referral")
	op.choose("complete-outcome", "service-delivered")
	op.typeIn("complete-note", "Vision test run on their line; report sent.")
	if st := op.press(button("Complete")); st != 200 {
		t.Fatalf("complete: status %d", st)
	}
	op.wantText(".page-head .state", "completed")
	op.wantText("main section:has(#summary-h)", "Service delivered")
	if n := op.count("section.actions-panel"); n != 0 {
		t.Errorf("a completed referral offers %d action panels, want none", n)
	}

	// Hub A's console shows the referral completed, with B's steps in its history.
	adv.eventually(refPath, 10*time.Second, func() error {
		if got := adv.text(".page-head .state"); got != "completed" {
			return fmt.Errorf("the state reads %q", got)
		}
		return nil
	})
	adv.wantText("main section:has(#summary-h)", "Service delivered")
	adv.wantText("main section:has(#history-h) tbody", "accept", "start", "complete", "Vision test run on their line")
	if n := adv.count("section.actions-panel"); n != 0 {
		t.Errorf("hub-a offers %d action panels on a completed referral, want none", n)
	}

	// My hub, and hub B's reports with the service delivered.
	if st := adv.open("/me"); st != 200 {
		t.Fatalf("my hub: status %d", st)
	}
	adv.wantText("main h1", "My hub")
	adv.wantText("main section:has(#peers-h) tbody", "hub-a (this hub)", "hub-b")
	adv.wantText("#cap-test-before-invest legend", "Test before invest")
	adv.shot("me")
	adv.axeCheck("my hub")
	if st := op.open("/reports"); st != 200 {
		t.Fatalf("reports: status %d", st)
	}
	op.wantText("dl.figures", "Services delivered\n1", "Collaborations with other hubs\n1")
	op.wantText("main section:has(#family-h) table", "Test before invest")
	op.do("see the chart", chromedp.WaitVisible(chromedp.CSS("svg.chart rect.bar")))
	op.wantText("main section:has(#partner-h)", "hub-a")
	op.shot("reports")
	op.axeCheck("the reports")

	if p := c.consoleProblems(); len(p) != 0 {
		t.Errorf("the pages wrote errors to the browser's console:\n%s", strings.Join(p, "\n"))
	}
	t.Logf("the referral loop through both consoles took %v", time.Since(start).Round(time.Millisecond))
}

// viewport sets the tab's window to w by h pixels.
func (tb *tab) viewport(w, h int64) {
	tb.t.Helper()
	tb.do(fmt.Sprintf("set the viewport to %dx%d", w, h), chromedp.EmulateViewport(w, h, chromedp.EmulateScale(1)))
	tb.width = w
}

// overflow returns how wide the page is, and the elements that stick out past
// width, for the message of a test that finds the page scrolls sideways.
func (tb *tab) overflow(width int) (int, string) {
	tb.t.Helper()
	w := run(tb, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if w <= width {
		return w, ""
	}
	out := run(tb, "what sticks out", chromedp.Evaluate[string](fmt.Sprintf(`Array.from(document.querySelectorAll("body *"))
		.filter(e => e.getBoundingClientRect().right > %d && !(e.parentElement && e.parentElement.closest(".table-wrap")))
		.slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : "") +
			" right=" + Math.round(e.getBoundingClientRect().right)).join(", ")`, width)))
	return w, out
}

// TestConsoleBrowser_narrowAndTranslated opens every page at 400 pixels wide, as on
// a phone, and checks that none scrolls sideways (wide tables scroll inside their
// own box), then switches to German with the link on the page and checks the page
// is German, with its lang attribute.
func TestConsoleBrowser_narrowAndTranslated(t *testing.T) {
	t.Parallel()
	c := startChromium(t)
	a, b := browserHubs(t)
	now := time.Now()
	sent, err := a.Refer(api.ReferralRequest{To: b.ID(),
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall, Family: protocol.FamilyTestBeforeInvest,
			Technologies: []string{"robotics"}, Description: "Wants to test machine vision for quality control on a bakery line."},
		SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: b.ID(),
			Purpose: "referral for AI test-before-invest services", Until: now.AddDate(0, 3, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	id := sent.Referral.ID

	const narrow = 400
	adv := c.tab(a)
	adv.viewport(narrow, 800)
	adv.open("/login")
	adv.signIn(a)
	pages := []string{
		"/search", "/search?tech=robotics&family=test-before-invest&region=FI193",
		"/search?region=Jyv&tech=nonsense", // the form with its errors
		"/hubs/hub-b", "/hubs/hub-a", "/refer?to=hub-b&family=test-before-invest&tech=robotics",
		"/referrals?dir=out", "/referrals/" + id, "/me", "/reports", "/people", "/tokens",
	}
	if os.Getenv("HUBNET_AXE") == "" {
		t.Log("HUBNET_AXE is not set: the pages are not checked with axe-core")
	}
	for _, path := range pages {
		adv.open(path)
		if w, what := adv.overflow(narrow); w > narrow {
			t.Errorf("%s is %d pixels wide at a %d-pixel window: it scrolls sideways; sticking out: %s", path, w, narrow, what)
		}
		adv.axeCheck(path + " at 400 px")
	}
	// The smallest phones in use are 360 pixels wide.
	adv.viewport(360, 800)
	for _, path := range pages {
		adv.open(path)
		if w, what := adv.overflow(360); w > 360 {
			t.Errorf("%s is %d pixels wide at a 360-pixel window: sticking out: %s", path, w, what)
		}
	}
	adv.viewport(narrow, 800)
	// The referral form sent with mistakes, and the sign-in page.
	adv.open("/refer?to=hub-b")
	adv.press(button("Send the referral"))
	if w, what := adv.overflow(narrow); w > narrow {
		t.Errorf("the referral form with its errors is %d pixels wide: %s", w, what)
	}
	adv.axeCheck("the referral form with its errors")
	visitor := c.tab(b)
	visitor.viewport(narrow, 800)
	for _, path := range []string{"/login", "/search?text=robot"} {
		visitor.open(path)
		if w, what := visitor.overflow(narrow); w > narrow {
			t.Errorf("%s (signed out) is %d pixels wide at %d: %s", path, w, narrow, what)
		}
		visitor.axeCheck(path + " signed out")
	}

	// German, chosen with the switch at the foot of the page, stays chosen.
	adv.open("/search?tech=robotics&family=test-before-invest")
	if st := adv.press(`//footer//a[normalize-space()="Deutsch"]`); st != 200 {
		t.Fatalf("switch to German: status %d", st)
	}
	if got := adv.location(); got != "/search?tech=robotics&family=test-before-invest" {
		t.Errorf("the switch went to %s, want back to the search", got)
	}
	if lang := run(adv, "html lang", chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "de" {
		t.Errorf("<html lang=%q>, want de", lang)
	}
	adv.wantText("main h1", "Partner-Hub finden")
	adv.wantText("header.site nav", "Partner finden", "Vermittlungen", "Mein Hub", "Berichte", "Abmelden")
	adv.wantText("#result-count", "1 Hub passt.")
	adv.wantText(`table.hits tbody tr:has(a[href^="/hubs/hub-b"])`, "KMU vermitteln", "erreichbar")
	if w, what := adv.overflow(narrow); w > narrow {
		t.Errorf("the German search is %d pixels wide at %d: %s", w, narrow, what)
	}
	adv.shot("search-de-narrow")
	adv.axeCheck("the German search")
	adv.open("/referrals/" + id)
	if got := adv.text(".page-head .state"); got != "angefragt" && got != "empfangen" { // requested or received, as far as it has gone
		t.Errorf("the referral's state reads %q, want it in German", got)
	}
	adv.open("/me")
	adv.wantText("main h1", "Mein Hub")

	if p := c.consoleProblems(); len(p) != 0 {
		t.Errorf("the pages wrote errors to the browser's console:\n%s", strings.Join(p, "\n"))
	}
}

// axeScript is axe-core's axe.min.js, read once from the file HUBNET_AXE names
// (.ci/run installs the npm package and sets it); "" when it is not set.
var axeScript = sync.OnceValues(func() (string, error) {
	path := os.Getenv("HUBNET_AXE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	return string(b), err
})

// axeCheck runs axe-core on the page the tab shows and fails the test on every
// serious or critical violation, naming the rule and the elements. Without
// HUBNET_AXE it does nothing: the test says so once.
func (tb *tab) axeCheck(what string) {
	tb.t.Helper()
	src, err := axeScript()
	if err != nil {
		tb.t.Fatalf("HUBNET_AXE: %v", err)
	}
	if src == "" {
		return
	}
	// DevTools' evaluation is not bound by the page's content security policy, which
	// forbids scripts: the page itself stays script-free. axe-core takes seconds on a
	// long page of a busy machine: it has a step of its own.
	ctx, cancel := context.WithTimeout(tb.ctx, axeTimeout)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](src+`;
	axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => v.impact + " " + v.id + ": " + v.help + " (" + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join("; ") + ")")
			.join("\n"))`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("axe-core on %s: %v", what, err)
	}
	if got != "" {
		tb.t.Errorf("axe-core finds on %s:\n%s", what, got)
	}
}

// TestConsoleBrowser_signInLinkByEmail: at a hub with a mail server, a person who
// has no password yet asks for a sign-in link on the sign-in page, opens the link
// from the e-mail, chooses a password and finds the worklist in her language,
// Finnish. Each page is photographed.
func TestConsoleBrowser_signInLinkByEmail(t *testing.T) {
	t.Parallel()
	c := startChromium(t)
	ms := nodetest.StartMailServer(t)
	a, b := browserHubsWith(t, func(cfg *node.Config) { cfg.Notify.SMTP = ms.SMTP() })
	const email = "aino@robocoast.example.eu"
	if _, err := b.AddPerson(api.PersonRequest{Name: "Aino Virtanen", Email: email, Role: api.RoleAdvisor, Language: "fi"}); err != nil {
		t.Fatal(err)
	}
	ms.Wait(t, email, 1) // the operator's link, which she lost
	now := time.Now()
	sent, err := a.Refer(api.ReferralRequest{To: b.ID(),
		Need: protocol.Need{Sector: "10", Region: "FI193", Category: protocol.CategorySmall, Family: protocol.FamilyTestBeforeInvest,
			Technologies: []string{"robotics"}, Description: "Wants to test machine vision for quality control on a bakery line."},
		SME: protocol.SME{Name: "Leipomo Esimerkki Oy", ContactName: "Aino Example", ContactEmail: "aino@leipomo.example"},
		Consent: protocol.Consent{GivenBy: "managing director", GivenAt: now.Add(-time.Hour), Recipient: b.ID(),
			Purpose: "referral for AI test-before-invest services", Until: now.AddDate(0, 3, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, b, sent.Referral.ID, protocol.StateReceived)

	aino := c.tab(b)
	aino.open("/login")
	aino.do("open the form of a link by e-mail", chromedp.Click(chromedp.CSS(`details:has(#f-link-email) > summary`)))
	aino.typeIn("f-link-email", email)
	if st := aino.press(button("E-mail me a sign-in link")); st != 200 {
		t.Fatalf("ask for a link: status %d", st)
	}
	aino.wantText("#link-asked", "If "+email+" is the address of a person at this hub, a sign-in link is on its way")
	aino.shot("login-email")
	aino.axeCheck("the sign-in page after a link was asked for")

	// Her e-mails: the operator's link, the new referral, the link she asked for.
	var path string
	nodetest.Eventually(t, 10*time.Second, func() error {
		links := 0
		for _, m := range ms.To(email) {
			if _, p, ok := strings.Cut(m.Text, "http://"+b.HTTPAddr()+"/login/link?"); ok {
				links++
				p, _, _ = strings.Cut(p, "\n")
				path = "/login/link?" + strings.TrimSpace(p)
			}
		}
		if links < 2 {
			return fmt.Errorf("%d e-mails with a sign-in link to %s, want 2", links, email)
		}
		return nil
	})
	aino.open(path)
	aino.typeIn("f-password", "correct horse battery staple")
	aino.typeIn("f-password2", "correct horse battery staple")
	aino.press(button("Set password and sign in"))
	if got := aino.location(); got != "/referrals" {
		t.Errorf("after choosing a password the console shows %s, want /referrals", got)
	}
	aino.open("/worklist")
	aino.wantText("main h1", "Työlista")
	aino.wantText("main", "Ohjaukset, jotka odottavat sinun toimiasi", "1 ohjaus odottaa.", "tänään", "ei vielä ketään")
	aino.shot("worklist-fi")
	aino.axeCheck("the Finnish worklist")

	if p := c.consoleProblems(); len(p) != 0 {
		t.Errorf("the pages wrote errors to the browser's console:\n%s", strings.Join(p, "\n"))
	}
}
