// Command hubnet-bench measures a federation of real hubs and writes the figures into
// docs/benchmarks.md. See main.go for the measurements and `make bench` for its use.
package main
