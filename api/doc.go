// Package api is the HTTP API of a hubnet node as its clients see it: the JSON types
// of every request and answer under /v1/, which the node's server uses too, and
// [Client], which calls the API. It imports only the standard library and package
// protocol, so an integrator's program that talks to a hub links no NATS server,
// gossip or database.
//
// # Where to start
//
// [NewClient] makes a client of one node from its URL and the hub's operator token
// (the file "token" in its data directory). There is one method per endpoint:
// [Client.Self], [Client.Hubs], [Client.Search], [Client.Refer], [Client.Act] and so
// on, each naming the endpoint it calls.
//
//	c, err := api.NewClient("http://127.0.0.1:7480", token)
//	if err != nil {
//		return err
//	}
//	hubs, err := c.Hubs(ctx)
//
// # The OpenAPI document
//
// [OpenAPI] returns the API's OpenAPI 3.1 document (openapi.json beside this file),
// which every node serves at GET /v1/openapi.json: other languages generate their
// clients from it. The types of this package are checked against its schemas by the
// tests of internal/contract, and every request the tests send to a node, and its
// answer, against its paths.
//
// # Tokens
//
// A client sends the operator token with every change and with the reads only the
// operator may make (referrals, the KPI report, the gossip keyring); never with a
// plain read such as the directory or a search, so that one client may read any
// node.
//
// # Errors
//
// An error answer of the node is an [*Error] with the HTTP status, a stable code, the
// node's message and, for invalid input, every field problem. Its code maps back to
// the sentinels of package protocol, so errors.Is(err, protocol.ErrNotFound) holds
// for a 404 and errors.Is(err, protocol.ErrInvalid) for a 400 with field problems.
// When no whole answer came, the error is an [*UnreachableError]; a change sent then
// may or may not have been made.
//
// # Concurrency
//
// A Client is safe for concurrent use by many goroutines, and is cheap: it holds the
// node's URL, the token and an http.Client ([WithHTTPClient] shares one). The copy
// [Client.WithRawBody] returns records answers, and is for one goroutine at a time.
package api
