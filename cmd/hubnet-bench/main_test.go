package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/internal/synth"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The smoke tests run every benchmark at its smallest size, so that `make test` sees
// a benchmark break; the figures they write are not meant to be read.

// dur matches a duration as the reports print it, and pos one that is not zero.
const (
	dur = `\d+(?:\.\d+)? (?:µs|ms|s)`
	pos = `(?:[1-9]\d*(?:\.\d+)?|0\.\d*[1-9]\d*) (?:µs|ms|s)`
)

// runBench runs hubnet-bench with args and -out a fresh file, checks that it exits 0
// and that the file's section holds the report it printed, and returns the report.
func runBench(t *testing.T, section string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "benchmarks.md")
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"-out", out}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("hubnet-bench %s: exit %d, want 0\n%s", strings.Join(args, " "), code, &stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	open, closing := "<!-- bench:"+section+" -->\n", "<!-- /bench:"+section+" -->"
	s := string(b)
	i, j := strings.Index(s, open), strings.Index(s, closing)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s section:\n%s", out, section, s)
	}
	if got, want := s[i+len(open):j], stdout.String(); got != want {
		t.Fatalf("section %s holds\n%s\nwant the report printed\n%s", section, got, want)
	}
	return stdout.String()
}

// mustMatch fails the test unless report has a line that matches each pattern.
func mustMatch(t *testing.T, report string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(`(?m)` + p).MatchString(report) {
			t.Errorf("no line matches %s in the report:\n%s", p, report)
		}
	}
}

func TestRun_gobench(t *testing.T) {
	report := runBench(t, "go", "gobench", filepath.Join("testdata", "bench.txt"))
	mustMatch(t, report,
		`^\| benchmark \| runs \| median per operation \| median CPU per operation \|$`,
		`^\| protocol\.SignProfile \| 3 \| 230\.1µs \| – \|$`,
		`^\| protocol\.ReferralMessage/seal \| 3 \| 98\.1µs \| 97µs \|$`,
		`^\| store\.Store_PutHub/nosync=true \| 3 \| 109\.5µs \| – \|$`,
		`^Protecting a referral message costs 253µs of CPU at most .*, 5\.0× the 51µs of its plain path`,
	)
}

func TestRun_federation(t *testing.T) {
	report := runBench(t, "federation", "-rounds", "1", "-sizes", "2", "-gossip", "local", "federation")
	mustMatch(t, report,
		`^\| hubs \| last start → every directory complete \| killed hub marked unreachable by all \(local timers\) \| resident memory per idle hub \|$`,
		`^\| 2 \| `+pos+` \(`+dur+`–`+dur+`\) \| `+pos+` \(`+dur+`–`+dur+`\) \| -?\d+\.\d MB \|$`,
	)
}

func TestRun_search(t *testing.T) {
	report := runBench(t, "search", "-queries", "20", "-hubs", "50", "search")
	mustMatch(t, report,
		"One hub with 50 synthetic hubs in its directory \\(`synth\\.Profiles\\(50, 7\\)`\\); 20 queries",
		`^\| all \| 20 \| `+dur+` \| `+dur+` \| `+dur+` \| `+pos+` \|$`,
		`^\| with free text \| \d+ \| `,
		`^\| without free text \| \d+ \| `,
		`^\d+ of the 20 queries \(\d+%\) returned at least one hub\.$`,
		`^Per query the process used `+dur+` of CPU time .* and allocated \d+\.\d kB; the collector ran \d+ times during the timed queries\.`,
		`^Timed 3 times, in 3 passes over the queries in the same order, each query's best time has a median of `+dur+` and a p99 of `+dur+`: `,
	)
}

func TestRun_live(t *testing.T) {
	// Three hubs, so that the query matches one of the two others and Serf awaits answers.
	report := runBench(t, "live", "-rounds", "1", "-sizes", "3", "-queries", "5", "-serf-queries", "2", "live")
	mustMatch(t, report,
		`^\| 3 \| 1 × 5 \(2\) \| [1-9]\d* \| `+pos+` / `+pos+` \| `+pos+` / `+pos+` \| `+pos+` / `+pos+` \| \d+\.\d× \| \d+\.\d\d× \|$`,
	)
}

func TestRun_referrals(t *testing.T) {
	report := runBench(t, "referrals", "-rounds", "1", "-n", "2", "-m", "10", "-callers", "2", "referrals")
	mustMatch(t, report,
		`^\| hubnet: .Refer. returns \(sender's commit\) \| `+pos+` \| `+pos+` \| `+pos+` \| \d+ \(\d+–\d+\) .Refer. calls \|$`,
		`^\| hubnet: acknowledgement leaves the receiver \(receiver's commit\) \| `+pos+` \| `,
		`^\| \*\*hubnet: receipt recorded at the sender \(end to end\)\*\* \| `+pos+` \| `+pos+` \| `+pos+` \| \*\*\d+ \(\d+–\d+\) delivered\*\* \|$`,
		`^\| JetStream: publish until its ack \| `+pos+` \| `+pos+` \| `+pos+` \| \d+ \(\d+–\d+\) stored \|$`,
		`^hubnet ÷ JetStream: \d+\.\d× the median latency, \d+\.\d\d× the throughput\.$`,
	)
}

// TestMain lets the test binary stand in for hubnet-bench when the scale benchmark
// starts it as a worker.
func TestMain(m *testing.M) {
	if spec := os.Getenv(workerEnv); spec != "" {
		if err := runWorker(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "hubnet-bench worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRun_scale(t *testing.T) {
	// Five hubs in two worker processes: in the clusters of the default map and as a
	// mesh, so that routes, gateways and gossip cross processes.
	report := runBench(t, "scale", "-sizes", "5", "-procs", "2", "-idle", "1s", "-queries", "3", "-wait", "2m", "scale")
	mustMatch(t, report,
		`^Measured on .*; load average [\d.]+ / [\d.]+ / [\d.]+ before the run`,
		`each process starting its hubs one after another \(the first process`,
		`^\| hubs \| topology \| clusters \| processes \| last start → every directory complete \|`,
		`^\| 5 \| clusters \| [1-5] \| 2 \| `+pos+` \| `+pos+` \| `+pos+` / `+pos+` \(\d+ of \d+\) \| -?\d+\.\d MB \| \d+ \| \d+\.\d \| \d+% \|$`,
		`^\| 5 \| mesh \| 1 \| 2 \| `+pos+` \| `+pos+` \| `+pos+` / `+pos+` \(\d+ of \d+\) \| `,
	)
}

func TestRun_scalePaced(t *testing.T) {
	// Four hubs with leaf hubs in one process, each started once the one before it
	// has settled, in a section of its own.
	report := runBench(t, "scale-paced", "-sizes", "4", "-topologies", "leaves", "-procs", "1", "-paced", "-idle", "1s", "-queries", "3", "-wait", "2m", "scale")
	mustMatch(t, report,
		`each process starting its hubs one after another, each once the one before it held the profile of every hub it knew of and the first hub held its \(at most 15s: `+"`-paced`"+`\)`,
		`^\| 4 \| leaves \| [1-4] \| 1 \| `+pos+` \| `+pos+` \| `+pos+` / `+pos+` \(\d+ of \d+\) \| -?\d+\.\d MB \| \d+ \| \d+\.\d \| \d+% \|$`,
		// What the memory is made of: the live heap and stacks of four hubs are more
		// than nothing, whatever the collector left before they started.
		`^- 4 leaves: -?\d+\.\d MB resident, -?\d+\.\d MB anonymous and -?\d+\.\d MB mapped from files \(the hubs' stores, the program's code\); heap objects (0\.[1-9]|[1-9]\d*\.\d) MB in (0\.[1-9]|[1-9]\d*\.\d) MB of spans, goroutine stacks (0\.[1-9]|[1-9]\d*\.\d) MB\.$`,
	)
}

func TestRun_usage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"no benchmark", nil, 2},
		{"unknown benchmark", []string{"nosuch"}, 2},
		{"size out of range", []string{"-sizes", "1", "live"}, 2},
		{"scale size out of range", []string{"-sizes", "458", "scale"}, 2},
		{"idle of zero", []string{"-idle", "0s", "scale"}, 2},
		{"negative wait", []string{"-wait", "-1s", "federation"}, 2},
		{"gobench without a file", []string{"gobench"}, 2},
		{"gobench of a missing file", []string{"gobench", filepath.Join(t.TempDir(), "none.txt")}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tc.args, &stdout, &stderr); got != tc.want {
				t.Fatalf("got exit %d, want %d\n%s", got, tc.want, &stderr)
			}
			if stdout.Len() > 0 {
				t.Fatalf("got output %q, want none", &stdout)
			}
		})
	}
}

func TestStartFederation_fails(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where startFederation makes its data directories
	bad := synth.Profile("bench-bad")
	bad.Country = "XX"
	f, err := startFederation([]protocol.Profile{synth.Profile("bench-ok"), bad}, time.Minute)
	if err == nil {
		f.stop()
		t.Fatal("got no error, want the invalid profile's")
	}
	if !strings.Contains(err.Error(), "init bench-bad") {
		t.Fatalf("got %v, want an error of init bench-bad", err)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Fatalf("got %d entries left in the temporary directory (%s), want none", len(left), left[0].Name())
	}
}
