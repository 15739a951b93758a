// Command hubnet-chaos is the chaos harness of hubnet: it runs a federation of real
// `hubnet run` processes on 127.0.0.1, drives referrals through their lifecycle and
// changes profiles through the hubs' HTTP APIs, and meanwhile kills hubs with SIGKILL,
// stops them with SIGSTOP past the failure detector's timeout, and tears the commit a
// killed hub was making. Then it lets the network settle and checks that every hub
// agrees, that nothing confirmed was lost and that nothing was applied or counted
// twice. With -clusters N the network's region map puts the hubs into N clusters
// joined by NATS gateways, and faults are aimed at the busiest gateway hubs too.
// docs/reliability.md says what it checks and how to run it; `make chaos` runs
// it for ten minutes.
//
//	go run ./cmd/hubnet-chaos -hubs 6 -ops 400 -duration 90s -seed 42
//	go run ./cmd/hubnet-chaos -clusters 2 -cross 0.3 -duration 90s -seed 7
//
// # Where to start
//
// chaos.go holds [Config] and run, the whole run in order: build, start, load and
// faults, settle, check. cluster.go starts and signals the processes; load.go is the
// plan of operations and the driver with its model of what it knows was done;
// faults.go the plan of faults and their injection; torn.go the torn commit, written
// into a bbolt file; check.go the checks; report.go prints the report.
//
// # Bounds
//
// Everything is bounded: the operations by count and by -duration, the faults by
// count, each request by a timeout, each restart, pause and wait for the network by
// its own limit. The harness signals only processes it started, by PID; it kills all
// of them on its way out, also on an error or a signal (SIGINT, SIGTERM, SIGHUP). The
// hubs run in process groups of their own so that Ctrl-C reaches only the harness.
//
// # Reproducibility
//
// -seed draws the plan: each operation's kind, hubs and random choices, and each
// fault's kind, hub, time and durations. What an operation finds when it runs (which
// referrals are ready for an action) depends on timing, so two runs with one seed make
// the same plan but not always the same requests.
//
// Exit codes: 0 nothing found, 1 an inconsistency found, 2 usage, 3 the run could not
// be made.
package main
