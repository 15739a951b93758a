// Package synth makes synthetic hubnet data for benchmarks and tests: hub profiles,
// advisors' queries, and directories filled with them. It does not import testing,
// so that commands such as hubnet-bench can use it.
//
// # Where to start
//
// [Profile] returns one valid profile for a hub ID. [Profiles] returns any number of
// varied, valid profiles made from a seed, spread over every country of the
// vocabulary; [Queries] returns queries made from a seed as advisors would ask them.
// The same seed always gives the same data, so that runs compare. [FillDirectory]
// stores profiles in a stopped hub's directory cache as if fetched from their hubs.
//
// # Caveats
//
// [FillDirectory] writes without fsync: the data is not meant to survive a crash. It
// signs each profile with a fresh identity when it stores it, so signatures differ
// from run to run while the profiles do not; the profiles carry fixed dates.
package synth
