// Package store keeps a hub's data in one bbolt file: its identity and network, its own
// signed profile, the directory cache of the other hubs' signed profiles, and the
// referrals it sends and receives with their outbox, inbox and KPI records. It owns the
// file's schema version and the migrations between versions.
//
// # Where to start
//
// [Open] opens or creates the file, takes its lock and brings the schema up to
// [SchemaVersion]; [Store.Close] releases it (store.go). [Store.CreateIdentity] is called
// once, by `hubnet init` (identity.go). [Store.PutSelf] and [Store.UpdateSelf] are the
// only ways the hub's own profile changes: each bumps the revision and re-signs the
// profile (self.go). [Store.PutHub] caches another hub's signed profile and refuses to go
// back to an older revision (directory.go).
//
// A referral changes with its messages and KPI records in one transaction:
// [Store.SaveReferral] and [Store.UpdateReferral] at the hub that acts (referrals.go),
// [Store.Receive] at the hub a message arrives at, which applies each message ID once
// (inbox.go). The dispatcher reads [Store.Outbox] and reports back with
// [Store.Acknowledged], [Store.Retry] and [Store.Hasten] (outbox.go); [Store.KPIs] feeds
// `hubnet report` (kpi.go). [Store.ReferralsWithSME] finds the referrals that still hold
// an SME's identity and [Store.Purge] deletes it, a batch in one transaction, with the
// queued messages that would carry it (purge.go).
//
// # Layout
//
// Values are JSON, except the identity's keys and the signed bodies, which are raw bytes:
//
//	meta        schema    uint64, big-endian
//	identity    id, sign_key (Ed25519, 64 bytes), box_key, box_pub (X25519, 32 bytes),
//	            network (JSON)
//	self        envelope  the hub's own signed profile: the envelope without its body
//	            body      the signed body, the profile
//	hubs        <hub ID>  another hub's envelope without its body, reachability, fetch time
//	hub_bodies  <hub ID>  that envelope's signed body
//
// and, since schema 2:
//
//	referrals          <referral ID>       the referral, this hub's role, updated, and
//	                                       when and why the SME's identity was purged
//	referral_smes      <referral ID>       the SME's identity; deleted by a purge
//	referrals_created  <created><ref. ID>  nothing: the index by Created
//	outbox             <message ID>        recipient, referral, attempts, due, created
//	outbox_envelopes   <message ID>        the signed envelope, as it is sent
//	inbox              <message ID>        received time, then the signed ack as sent
//	kpis               <kind>0<ref.>0<hub> a KPI record
//
// and, since schema 3:
//
//	identity     cert (JSON), next_sign and next_box (keys waiting for their
//	             certificate), old_box_keys (32 bytes each), gossip_keys (JSON)
//	revocations  <hub ID>            the newest revocation of the hub, JSON
//	seen         <time><sender/ID>   nothing: message IDs seen, by envelope time
//	                                 (Unix ns, big-endian)
//
// and, since schema 4 (people.go, tokens.go):
//
//	people         <person ID>         the person: name, e-mail, role, language, the
//	                                   password's Argon2id hash, a sign-in link's SHA-256
//	people_emails  <e-mail, lower case> the person ID: each address once
//	tokens         <token ID>          an API token: name, scopes, SHA-256, expiry, last
//	                                   use, revocation
//	token_hashes   <SHA-256>           the token ID
//
// and, since schema 5 (events.go, notify.go):
//
//	events           <seq, 8 bytes>      an event of the change feed; the bucket's
//	                                     sequence is the last number given
//	notify_outbox    <delivery ID>       a notification to send: channel, target,
//	                                     event, attempts, due; the bucket's sequence
//	                                     numbers the deliveries
//	notify_log       <delivery ID>       a notification sent or given up
//	webhooks         <webhook ID>        URL, secret, topics
//	notify_settings  person/<person ID>  the topics a person chose
//	                 hub/recipients      the hub's recipients of e-mails
//	due_marks        <referral ID>       the deadline a referral.due-soon event was
//	                                     written for
//
// A referral's contact persons at the two hubs are in its row of referrals, as
// contacts. Every write of a referral whose state changes, or that is new, and every
// new revision of a hub in the directory, adds an event and queues its notifications
// in the same transaction ([Store.Events], [Store.NotifyDue]).
//
// Times in keys and in the inbox are 12 bytes that sort as the times do: Unix seconds
// with the sign bit flipped, then nanoseconds, big-endian.
//
// A signed body is kept as the exact bytes that were signed, never re-encoded, and the
// profile is decoded from it on every read, so the profile and its signature cannot
// drift apart.
//
// # Schema and migrations
//
// The version in meta/schema is the number of migrations applied. [Open] runs, in the
// same transaction as its check, every migration from the file's version up to
// [SchemaVersion]; a file written by a newer hubnet is refused with [ErrSchemaTooNew]
// rather than read wrongly. A new version is one more entry in the migrations slice.
//
// # Concurrency
//
// A [Store] is safe for concurrent use by many goroutines: reads run in parallel, writes
// are serialised by bbolt and each method is one transaction. Only one Store can have
// the file open at a time, even within one process: another [Open] waits
// [Options.LockTimeout] and then returns [ErrInUse]. The functions passed to
// [Store.UpdateSelf], [Store.UpdateReferral] and [Store.Receive] run inside the write
// transaction, which blocks every other write: they must be quick and must not call the
// Store.
//
// # Caveats
//
// The store does not verify other hubs' signatures: it has no certificates. The caller
// checks an envelope with protocol.OpenProfile before [Store.PutHub], and a referral
// message before [Store.Receive]. The inbox keeps every message ID until
// [Store.PruneInbox] forgets it. Every write is fsynced before it returns unless
// [Options.NoSync] is set.
//
// A write the disk refuses (full, read-only after an error, failing) is rolled back
// and returns [ErrWrite] wrapping the path and the cause, which errors.Is matches
// against syscall.ENOSPC, EROFS and the like; what was stored before stays intact and
// readable. A full disk does not fail every write: one that fits in the pages the file
// has free still succeeds. docs/reliability-storage.md has the details and the tests.
package store
