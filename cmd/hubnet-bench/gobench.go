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
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s; median of the runs of `go test -bench -count N`.\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	b.WriteString("| benchmark | runs | median per operation |\n|---|---:|---:|\n")
	for _, n := range names {
		r := slices.Clone(runs[n])
		slices.Sort(r)
		fmt.Fprintf(&b, "| %s | %d | %s |\n", n, len(r), time.Duration(r[len(r)/2]).Round(100*time.Nanosecond))
	}
	fmt.Print(b.String())
	if out == "" {
		return nil
	}
	return writeSection(out, "go", b.String())
}
