package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK           = 0
	exitInconsistent = 1 // the run found an inconsistency
	exitUsage        = 2
	exitNotRun       = 3 // the run could not be made: build, setup, a signal
)

const usage = `usage: hubnet-chaos [flags]

Starts real hubnet hubs on 127.0.0.1, drives referrals and profile changes through
their HTTP APIs while it kills, pauses and tears the writes of hubs, lets the network
settle and checks that every hub agrees and nothing was lost or counted twice. Prints
a report; exits 1 if it found an inconsistency, 3 if the run could not be made.

flags:`

func main() {
	os.Exit(chaosMain(os.Args[1:]))
}

func chaosMain(args []string) int {
	fs := flag.NewFlagSet("hubnet-chaos", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		fs.PrintDefaults()
	}
	var cfg Config
	fs.IntVar(&cfg.Hubs, "hubs", 6, "hubs to start")
	fs.IntVar(&cfg.Clusters, "clusters", 1, "clusters the region map puts the hubs in, joined by NATS gateways; 1: one full mesh without a map")
	fs.IntVar(&cfg.Gateways, "gateway-hubs", 0, "gateway hubs per cluster, the others leaf hubs of them (network.json's gateway_hubs); 0: every hub a gateway")
	fs.IntVar(&cfg.Ops, "ops", 400, "operations to plan: referrals, actions on them, profile and capacity changes")
	fs.DurationVar(&cfg.Duration, "duration", 90*time.Second, "time over which the operations and faults are spread")
	fs.IntVar(&cfg.Faults, "faults", 0, "faults to plan (default one per 15s of -duration, at least 3)")
	fs.IntVar(&cfg.Workers, "workers", 4, "operations run at once")
	fs.DurationVar(&cfg.Settle, "settle", 2*time.Minute, "the longest wait for the network to settle after the load")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the plan of operations and faults (default: from the clock, printed in the report)")
	fs.StringVar(&cfg.Bin, "bin", "", "the hubnet binary (default: go build ./cmd/hubnet into the run's directory)")
	fs.StringVar(&cfg.Dir, "dir", "", "directory for the hubs' data and logs (default: a temporary one, removed after a clean run)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the temporary directory after a clean run")
	fs.StringVar(&cfg.Gossip, "gossip", "local", "gossip timers of the hubs: local, lan or wan")
	fs.Float64Var(&cfg.Cross, "cross", 0, "share of actions, 0 to 1, that both hubs of a referral take at once (the referring hub cancels or answers while the receiving hub acts)")
	out := fs.String("out", "", "also write the report to this file")
	quiet := fs.Bool("q", false, "print only the report, not the progress")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "hubnet-chaos: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	if !*quiet {
		t0 := time.Now()
		cfg.Logf = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%7.1fs  %s\n", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
		}
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(os.Stderr, "hubnet-chaos: %v\n", err)
		return exitUsage
	}

	// SIGINT, SIGTERM and SIGHUP end the run; the hubs are killed on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	rep, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hubnet-chaos: %v\n", err)
		if rep != nil && rep.Dir != "" {
			fmt.Fprintf(os.Stderr, "hubnet-chaos: data directories and hub logs: %s\n", rep.Dir)
		}
		return exitNotRun
	}
	var buf bytes.Buffer
	rep.write(&buf)
	os.Stdout.Write(buf.Bytes())
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "hubnet-chaos: %v\n", err)
			return exitNotRun
		}
	}
	if len(rep.Problems) > 0 {
		return exitInconsistent
	}
	return exitOK
}
