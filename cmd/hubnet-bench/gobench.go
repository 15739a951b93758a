package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// goBench reads the output of `go test -bench -count N` and returns the median time
// per operation of each benchmark as a markdown table, the report of the "go" section.
func goBench(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	runs := map[string][]float64{}
	cpu := map[string][]float64{} // cpu-ns/op, where a benchmark reports it
	// notify holds, per run of node.Referral_notifications, its medians off and on
	// and their ratio.
	var notify [][3]float64
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
		var run [3]float64
		for i := 4; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "cpu-ns/op":
				cpu[name] = append(cpu[name], v)
			case "ms-median-off":
				run[0] = v
			case "ms-median-on":
				run[1] = v
			case "on/off":
				run[2] = v
			}
		}
		if run[2] > 0 {
			notify = append(notify, run)
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("%s: no benchmark results", file)
	}
	medianOf := func(m map[string][]float64, n string) float64 {
		r := slices.Clone(m[n])
		slices.Sort(r)
		return r[len(r)/2]
	}
	median := func(n string) float64 { return medianOf(runs, n) }
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s; median of the runs of `go test -bench -count N`.\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	b.WriteString("| benchmark | runs | median per operation | median CPU per operation |\n|---|---:|---:|---:|\n")
	for _, n := range names {
		c := "–"
		if len(cpu[n]) > 0 {
			c = time.Duration(medianOf(cpu, n)).Round(100 * time.Nanosecond).String()
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", n, len(runs[n]), time.Duration(median(n)).Round(100*time.Nanosecond), c)
	}
	// The protection of one referral message, all of it, beside the plain path.
	const msg = "protocol.ReferralMessage/"
	parts := []string{"sign", "verify", "seal", "open"}
	if _, ok := cpu[msg+"plain"]; ok {
		total := 0.0
		for _, p := range parts {
			if _, ok := cpu[msg+p]; !ok {
				total = -1
				break
			}
			total += medianOf(cpu, msg+p)
		}
		if total > 0 {
			plain := medianOf(cpu, msg+"plain")
			fmt.Fprintf(&b, "\nProtecting a referral message costs %s of CPU at most (sign + verify + seal + open, the CPU medians above; seal and open only for the message that carries the SME's details), %.1f× the %s of its plain path (target: under 0.5 ms).\n",
				time.Duration(total).Round(time.Microsecond), total/plain, time.Duration(plain).Round(time.Microsecond))
		}
	}
	// Notifications on against off, each run's medians in the same run.
	if len(notify) > 0 {
		slices.SortFunc(notify, func(a, b [3]float64) int { return cmpFloat(a[2], b[2]) })
		m := notify[len(notify)/2]
		fmt.Fprintf(&b, "\nA referral end to end with notifications on (a webhook call and an e-mail for every event) and off, alternating in the same run: medians %.1f ms on and %.1f ms off, ratio %.2f (the median of %d runs; target: within 1.10).\n",
			m[1], m[0], m[2], len(notify))
	}
	return b.String(), nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
