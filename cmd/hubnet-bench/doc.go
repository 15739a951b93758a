// Command hubnet-bench measures hubnet and writes the figures into docs/benchmarks.md,
// each benchmark between its own markers. Start reading at main.go, which also holds
// the federation benchmark; search.go times local search over 10,000 hubs; live.go
// times live queries beside bare NATS (scatter.go) and Serf (serfquery.go); referral.go
// times referrals between two hubs beside a JetStream stream; both start their hubs
// with federation.go, and connect plain NATS clients with each hub's operator token.
// scale.go starts federations of up to the whole EDIH catalogue in one process, in
// regional clusters beside one full mesh. gobench.go tabulates `go test -bench` output. See `make bench` for its use; the
// tests run every benchmark at its smallest size, as part of `make test`.
package main
