// Package protocol is the federation's language: the vocabulary hubs describe
// themselves with, the [Profile] they publish, the [Meta] they gossip, the signed
// [Envelope] every message travels in, the NATS subjects and the wire [Error].
//
// It is pure: no I/O, no logging, no clocks it reads itself (callers pass the time),
// only the standard library, uuid and x/crypto. Every other package of hubnet imports it
// and it imports none of them.
//
// # Where to start
//
// [Profile] and its Validate method show the rules every input follows: every problem is
// returned at once in a [ValidationError], each [FieldError] naming the field and the
// rule. [Sign] and [OpenEnvelope] with [Envelope.Verify] are the whole of message
// security; [SignProfile] and [OpenProfile] apply them to profiles, and [Seal] with
// [Envelope.Unseal] keep a message for one hub between it and its sender (seal.go).
//
// # Vocabulary
//
// Technologies, services and their families, NACE sectors, countries, NUTS 2021 regions,
// languages, hub types and customer categories are Go data with lookups by slug or code
// and by the EC catalogue's label. The NUTS and NACE tables are generated from Eurostat's
// lists by internal/gen (go generate ./protocol).
//
// # Matching
//
// A hub's profile is prepared once for search as a [Candidate], with its [Gate]: what
// the cheap filters read. A [Matcher] is one query prepared; [Matcher.AdmitIndexed]
// reads a [GateIndex] over many gates to admit hubs 64 at a time, and [Matcher.Rank]
// scores each admitted hub. The gate turns a hub down only when the score would, so
// admitting first changes no result. docs/matching.md has the rules.
//
// # Concurrency
//
// Everything here is safe for concurrent use: values are plain data and the lookup
// tables are read-only after package initialisation.
package protocol
