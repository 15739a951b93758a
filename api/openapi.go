package api

import _ "embed"

// openAPI is the OpenAPI 3.1 document of the HTTP API, openapi.json beside this file.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of the HTTP API, as JSON: every path,
// parameter, body, answer and error of the node's API, which every node also serves
// at GET /v1/openapi.json. The types of this package are the Go side of its schemas.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }
