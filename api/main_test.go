package api_test

import (
	"testing"

	"github.com/hubnet-eu/hubnet/internal/contract"
)

// TestMain checks every request the tests send to a node's API, and its answer,
// against the API's OpenAPI document (see package contract), and says how many.
func TestMain(m *testing.M) { contract.Main(m, "api") }
