// Package node runs a hub: its store, its gossip membership, its embedded NATS server,
// the directory of other hubs, live queries, the referral engine, and the HTTP API.
//
// # Where to start
//
// [InitDataDir] prepares a data directory (keys, operator token, first profile).
// [New] opens it with a [Config] from [DefaultConfig] or [DefaultLocalConfig];
// [Node.Start] binds and joins without blocking; [Node.Ready] is closed after the first
// join attempt; [Node.Leave] says goodbye to the network; [Node.Shutdown] stops.
// [Node.Handler] is the HTTP API, described in docs/api.md, with its JSON types in
// package api; [Node.Handle] adds to it, before Start, what the daemon serves beside
// the API, such as the web console of package console, which works over the exported
// methods of [Node] only.
//
// # The files
//
// One concept a file. The running hub: node.go (lifecycle), config.go, bus.go (the
// embedded NATS server, its routes and its restart), gateway.go (the region map's
// gateways: remotes at start, repair, revoked hubs cut off), membership.go (memberlist
// and its delegates), transport.go (memberlist's UDP and TCP, with one read buffer a
// listener),
// log.go, metrics.go, refusals.go (every refusal counted, and logged bounded),
// limits.go (what HTTP clients may ask without the token), clock.go (how far the
// clock is from the peers'). Who may do what at the hub: access.go (actors, roles and
// scopes, sessions, API tokens' last use), people.go (people, sign-in, sign-in links,
// tokens), password.go (Argon2id), people_api.go (their endpoints and the scope check),
// referral_people.go (who made a referral's changes, its contact persons). Who belongs:
// trust.go (certificates, revocations, the seen-ID set), admission.go (the hub's own
// certificate, key rotation), keyroll.go (the gossip key roll that follows a
// revocation), seal.go (sealing what goes out to one hub). What every hub knows:
// directory.go (the reconcile loop and profile fetches, from owners or holders of the cluster), self.go (the hub's own
// profile and capacity), hubs.go (the directory as the API shows it), search.go (the
// index and ranking), query.go (live queries to the hubs that can match, asked and answered). Referrals:
// referral.go (the engine), referral_send.go (Refer and the outbox dispatcher),
// referral_receive.go (messages applied and acknowledged), referral_act.go (Act),
// referral_deadline.go (expiry), referral_retention.go (the consent's end and the
// purge of the SME's identity), referral_revoked.go (the referrals with a revoked
// hub end), referral_read.go, report.go (KPIs). Notifications and integrations:
// notify.go (the notifier: the outbox of e-mails and webhook calls, backoff, the
// deadline within 24 hours), notify_config.go, mail.go (SMTP), mailtext.go (the
// e-mails' texts in English, German and French), notify_api.go (the change feed,
// webhooks, the delivery log, recipients and people's topics). HTTP lives in
// api.go (the handler, authentication, errors) and the *_api.go files beside their
// concept.
//
// # The gate
//
// Every envelope another hub sends, a message on a subject this hub listens to or a
// reply to a request it made, passes one check before its body is read: admit, in
// inbound.go. Each subject says what it expects (the recipient, the one sender a
// request went to, whether the time window applies, how old a live query may be,
// whether a copy seen before is refused); the checks, their order and the reasons
// counted in hubnet_dropped_messages_total are written once. A message that fails is
// dropped and logged at most once a second per sender (refusals.go). A body sealed
// to this hub is opened there, after the signature is checked, and nowhere else: what
// the callers read is the plain body. The gate also hands the signed time of every
// message to clock.go.
//
// # How the parts fit
//
// membership.go wires memberlist: the hub ID is the member name, the gossiped
// [protocol.Meta] carries the NATS route address, the profile revision and the hub's
// certificate, which the alive delegate checks (trust.go). Membership events are
// copied into the directory, whose single reconcile loop sets the NATS routes to the
// live members (each pair of hubs has one route, opened by the hub whose ID sorts
// first), marks hubs reachable or not, and fetches a profile over NATS whenever gossip
// or a signed hint shows a newer revision than the cached one. A referral change is
// stored with its outgoing message in one transaction; the dispatcher delivers the
// message until a signed acknowledgement comes back; the receiver stores the message
// and its ID before it acknowledges (docs/referrals.md). Every change of a referral's
// state and every new revision in the directory is also an event of the change feed,
// written with its e-mails and webhook calls in the change's transaction; the
// notifier sends them after, so that they never hold a referral up.
//
// # Concurrency
//
// memberlist calls the delegates with its own locks held, so they copy what they need
// and never block; the reconcile loop does the work. Reloads of the NATS server's routes
// and the restarts of the server (bus.restart, for gateways) are serialized by the
// bus's mutex; a restart blocks the reconcile loop until the client connection has
// subscribed again on the new server. The store is safe for concurrent use. All exported
// methods of [Node] are safe for concurrent use.
//
// # Caveats
//
// Without a region map the network is one NATS cluster, a full mesh of routes: right
// for up to about 50 hubs. With one, each cluster is such a mesh and the clusters are
// joined by NATS gateways, which nats-server cannot reconfigure while it runs: a hub
// fixes its cluster and its remote gateways at Start, after joining gossip, and
// restarts its server to change them. memberlist's Members() hands out nodes it keeps changing, so this package never
// reads it; membership events are its only view of other hubs.
package node
