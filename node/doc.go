// Package node runs a hub: its store, its gossip membership, its embedded NATS server,
// the directory of other hubs and the HTTP API.
//
// # Where to start
//
// [InitDataDir] prepares a data directory (keys, operator token, first profile).
// [New] opens it with a [Config] from [DefaultConfig] or [DefaultLocalConfig];
// [Node.Start] binds and joins without blocking; [Node.Ready] is closed after the first
// join attempt; [Node.Leave] says goodbye to the network; [Node.Shutdown] stops.
// [Node.Handler] is the HTTP API, described in docs/api.md; [Node.Handle] adds to it,
// before Start, what the daemon serves beside the API, such as the web console of
// package console, which works over the exported methods of [Node] only.
//
// # How the parts fit
//
// membership.go wires memberlist: the hub ID is the member name, the gossiped
// [protocol.Meta] carries the NATS route address, the profile revision and the hub's
// public keys. Membership events are copied into the directory (directory.go), whose
// single reconcile loop sets the NATS routes (bus.go) to the live members (each pair
// of hubs has one route, opened by the hub whose ID sorts first), marks hubs
// reachable or not, and fetches a profile over NATS whenever gossip or a signed hint
// shows a newer revision than the cached one. A fetched profile is stored only if its
// signature verifies against the key the hub gossips; otherwise it is dropped, counted
// in hubnet_dropped_messages_total and logged at most once a second per sender.
//
// # Concurrency
//
// memberlist calls the delegates with its own locks held, so they copy what they need
// and never block; the reconcile loop does the work. Reloads of the NATS server's routes
// are serialized in bus.setRoutes. The store is safe for concurrent use. All exported
// methods of [Node] are safe for concurrent use.
//
// # Caveats
//
// Topology v1 is one NATS cluster, a full mesh of routes: right for up to about 50
// hubs. memberlist's Members() hands out nodes it keeps changing, so this package never
// reads it; membership events are its only view of other hubs.
package node
