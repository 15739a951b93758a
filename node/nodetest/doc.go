// Package nodetest starts real hubnet nodes on 127.0.0.1 for tests, as net/http/httptest
// starts real servers: real memberlist, a real embedded NATS server and a real bbolt
// file in a temporary directory, with free ports and fast timers. Each serves the web
// console (package console) beside its HTTP API, as `hubnet run` does.
//
// Start one hub with [Start], a joined network with [StartN]; [StartConsole] chooses
// the console's configuration. [Hub.Kill] stops a hub as a crash would,
// [Hub.Restart] brings it back from its data directory. [Eventually] polls a
// condition instead of sleeping; a [Clock] given to the hubs' configuration lets a
// test move their time on by days. [StartMailServer] is a real SMTP server that
// keeps the e-mails a hub sends. Synthetic profiles, queries and directories are in
// internal/synth, which does not import testing.
package nodetest
