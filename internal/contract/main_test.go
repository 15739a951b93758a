package contract_test

import (
	"testing"

	"github.com/hubnet-eu/hubnet/internal/contract"
)

func TestMain(m *testing.M) { contract.Main(m, "internal/contract") }
