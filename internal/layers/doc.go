// Package layers holds no code: its tests hold the project to its layout. Imports
// point one way, cmd → node → store → protocol, with api (the HTTP API's types and
// client) beside store and the console over node; bbolt stays in store, memberlist and
// nats-server in node. docs/architecture.md draws the layers.
package layers
