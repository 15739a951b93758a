package console_test

import (
	"context"
	"log"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console"
)

// A daemon mounts the console on its node before starting it; the node then serves
// it on its HTTP address, beside the API.
func ExampleMount() {
	cfg := node.DefaultConfig()
	cfg.DataDir = "hub" // prepared by `hubnet init`
	n, err := node.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	cc := console.DefaultConfig()
	cc.Public = false // every page behind sign-in
	console.Mount(n, cc)
	if err := n.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer n.Shutdown()
	<-n.Ready()
}
