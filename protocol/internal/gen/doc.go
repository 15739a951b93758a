// Command gen writes protocol's NUTS and NACE tables from Eurostat's code lists.
//
// Run it through go generate in the protocol directory:
//
//	go run ./internal/gen -nuts NUTS2021.csv -nace nace_r2.csv [-out .]
//
// It writes nuts_gen.go (NUTS 2021 regions, levels 0-3) and nace_gen.go (NACE Rev. 2
// sections and divisions). The output is sorted and gofmt'ed, so running it twice on
// the same input gives the same files.
package main
