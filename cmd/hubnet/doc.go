// Command hubnet runs a hub of the hubnet federation and talks to a running one.
//
// `hubnet run` starts a node; the other commands reach a node over its HTTP API, found
// with --node, HUBNET_NODE or the node.json that `hubnet run -d DIR` writes into its
// data directory. Each subcommand lives in a file of its own; main only builds the
// command tree, turns SIGINT and SIGTERM into a cancelled context (run and demo then
// leave the network gracefully) and maps errors to exit codes:
//
//	0  ok
//	1  error: anything not listed below
//	2  usage error: a bad flag, argument, environment variable or config file
//	3  node unreachable: nothing answered at the resolved node URL
//	4  invalid input: a profile, network.json, capacity, search, referral or catalogue
//	   file broke a rule, the node answered 400, or the referral's lifecycle does
//	   not allow the action now (409); every field problem is printed on a line of
//	   its own
//
// Errors go to stderr as one line, "hubnet: <what failed>: <why> (<what to do>)".
//
// What hubnet says itself (errors, hints, results, the short help) is in the language
// of --lang, HUBNET_LANG or the locale (LC_ALL, LC_MESSAGES, LANG), else English: see
// i18n.go and docs/operations.md. JSON output stays as the API writes it.
package main
