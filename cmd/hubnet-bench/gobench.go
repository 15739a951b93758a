package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// goBench reads the output of `go test -bench -count N` and writes the median time per
// operation of each benchmark as a markdown table, into out's "go" section if out is set.
func goBench(file, out string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	runs := map[string][]float64{}
	var names []string
	pkg := ""
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "pkg:" {
			pkg = f[1][strings.LastIndex(f[1], "/")+1:]
		}
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || f[3] != "ns/op" {
			continue
		}
		ns, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			continue
		}
		name := pkg + "." + strings.TrimPrefix(f[0][:strings.LastIndex(f[0], "-")], "Benchmark")
		if _, ok := runs[name]; !ok {
			names = append(names, name)
		}
		runs[name] = append(runs[name], ns)
	}
	if len(names) == 0 {
		return fmt.Errorf("%s: no benchmark results", file)
	}
	median := func(n string) float64 {
		r := slices.Clone(runs[n])
		slices.Sort(r)
		return r[len(r)/2]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s; median of the runs of `go test -bench -count N`.\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	b.WriteString("| benchmark | runs | median per operation |\n|---|---:|---:|\n")
	for _, n := range names {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", n, len(runs[n]), time.Duration(median(n)).Round(100*time.Nanosecond))
	}
	// The protection of one referral message, all of it, beside the plain path.
	const msg = "protocol.ReferralMessage/"
	parts := []string{"sign", "verify", "seal", "open"}
	if _, ok := runs[msg+"plain"]; ok {
		total := 0.0
		for _, p := range parts {
			if _, ok := runs[msg+p]; !ok {
				total = -1
				break
			}
			total += median(msg + p)
		}
		if total > 0 {
			fmt.Fprintf(&b, "\nProtecting a referral message costs %s of CPU at most (sign + verify + seal + open, the medians above; seal and open only for the message that carries the SME's details), %.1f× the plain path of %s (target: under 0.5 ms).\n",
				time.Duration(total).Round(time.Microsecond), total/median(msg+"plain"), time.Duration(median(msg+"plain")).Round(time.Microsecond))
		}
	}
	fmt.Print(b.String())
	if out == "" {
		return nil
	}
	return writeSection(out, "go", b.String())
}
