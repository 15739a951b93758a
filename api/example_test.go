package api_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/contract"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

func Example() {
	nodeURL, token, stop := exampleHub()
	defer stop()

	c, err := api.NewClient(nodeURL, token)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	hubs, err := c.Hubs(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hubs {
		fmt.Printf("%s: %s, revision %d\n", h.ID, h.Profile.Name, h.Revision)
	}

	// A change sends the operator token.
	free := 2
	p, err := c.SetCapacity(ctx, protocol.FamilyTestBeforeInvest, api.CapacityChange{Available: &free})
	if err != nil {
		log.Fatal(err)
	}
	capacity := p.Capacity[protocol.FamilyTestBeforeInvest]
	fmt.Printf("%d of %d places free, revision %d\n", capacity.Available, capacity.Maximum, p.Revision)
	// Output:
	// robocoast: Robocoast EDIH, revision 1
	// 2 of 5 places free, revision 2
}

func ExampleError() {
	nodeURL, token, stop := exampleHub()
	defer stop()

	c, err := api.NewClient(nodeURL, token)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Hub(ctx, "no-such-hub")
	fmt.Println(errors.Is(err, protocol.ErrNotFound))

	_, err = c.SetCapacity(ctx, "robotics", api.CapacityChange{})
	var e *api.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code, errors.Is(err, protocol.ErrInvalid))
		for _, p := range e.Problems {
			fmt.Printf("%s: %s\n", p.Field, p.Rule)
		}
	}
	// Output:
	// true
	// 400 bad-request true
	// family: "robotics" is not a service family such as test-before-invest or skills-and-training
}

// exampleHub starts hub robocoast on 127.0.0.1 for an example, and returns its URL,
// its operator token and a function that stops it.
func exampleHub() (nodeURL, token string, stop func()) {
	dir, err := os.MkdirTemp("", "hubnet-example-")
	if err != nil {
		log.Fatal(err)
	}
	netw, adm, err := protocol.NewNetwork("example", rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	p := nodetest.Profile("robocoast")
	p.Name = "Robocoast EDIH"
	if _, err := node.InitDataDir(dir, netw, "robocoast", &p); err != nil {
		log.Fatal(err)
	}
	if _, err := node.Admit(dir, adm, 24*time.Hour); err != nil {
		log.Fatal(err)
	}
	cfg := node.DefaultLocalConfig()
	cfg.DataDir = dir
	// Every request of the examples, and its answer, is checked against the API's
	// OpenAPI document, as nodetest checks the tests'.
	cfg.WrapHTTP = func(h http.Handler) http.Handler {
		return contract.Check(h, func(problem string) { log.Fatal(problem) })
	}
	n, err := node.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	<-n.Ready()
	if token, err = node.ReadToken(dir); err != nil {
		log.Fatal(err)
	}
	return "http://" + n.HTTPAddr(), token, func() {
		n.Shutdown()
		os.RemoveAll(dir)
	}
}
