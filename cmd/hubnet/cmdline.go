package main

import (
	"regexp"
	"strings"
)

// Commands that hubnet prints for the user to run next (after refer, init, network
// admit, ...) are written with cmdline, so that they run as printed when copied: the
// same -d or --node that found the node this time, and every argument quoted for a
// POSIX shell where it needs to be.

// cmdline returns "hubnet" with the connection flags of this run (-d DIR, --node
// URL) and args, each quoted for the shell where needed. The token is never printed:
// -d finds it again, and a token from --token or HUBNET_TOKEN is the user's to give.
func (a *app) cmdline(args ...string) string {
	parts := []string{"hubnet"}
	if a.dataDir != "" {
		parts = append(parts, "-d", a.dataDir)
	}
	if a.nodeURL != "" {
		parts = append(parts, "--node", a.nodeURL)
	}
	return shellJoin(append(parts, args...)...)
}

// shellJoin joins args with spaces, each quoted for a POSIX shell where needed.
func shellJoin(args ...string) string {
	q := make([]string, len(args))
	for i, s := range args {
		q[i] = shellQuote(s)
	}
	return strings.Join(q, " ")
}

// shellSafe matches an argument that a POSIX shell reads as it is.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s in single quotes unless the shell reads it as it is.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
