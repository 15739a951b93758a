package protocol_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

func ExampleSign() {
	hub, err := protocol.NewIdentity("hub-one", rand.Reader)
	if err != nil {
		panic(err)
	}
	hint := protocol.ProfileHint{V: protocol.Version, ID: hub.ID, Revision: 3}
	env, err := protocol.Sign(hub, protocol.TypeProfileHint, "", hint, time.Now())
	if err != nil {
		panic(err)
	}
	data, err := env.Marshal()
	if err != nil {
		panic(err)
	}

	// The receiver checks the form, then the signature with the key the sender
	// gossips in its Meta, and only then reads the body.
	got, err := protocol.OpenEnvelope(data)
	if err != nil {
		panic(err)
	}
	if err := got.Verify(hub.SignPublic()); err != nil {
		panic(err)
	}
	var h protocol.ProfileHint
	if err := got.Decode(&h); err != nil {
		panic(err)
	}
	fmt.Println(got.Type, "from", got.From, "verified, revision", h.Revision)

	// Any change after signing breaks the signature.
	got.Time = got.Time.Add(time.Second)
	fmt.Println("changed:", errors.Is(got.Verify(hub.SignPublic()), protocol.ErrBadSignature))
	// Output:
	// profile-hint from hub-one verified, revision 3
	// changed: true
}

func ExampleProfile_Validate() {
	p := protocol.Profile{
		ID:           "Hub One",
		Name:         "Hub One",
		Type:         protocol.HubEDIH,
		Country:      "FI",
		Regions:      []string{"FI1B", "SE11"},
		Languages:    []string{"fi", "english"},
		Technologies: map[string]int{"robotics": 7},
	}
	err := p.Validate()
	fmt.Println(errors.Is(err, protocol.ErrInvalid))
	var ve *protocol.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Problems {
			fmt.Println(fe)
		}
	}
	// Output:
	// true
	// id: must be 3-48 characters of a-z, 0-9 and '-', starting and ending with a letter or digit
	// regions.SE11: must lie in the hub's country FI
	// languages.1: "english" must be a BCP 47 language tag such as en, fi or pt-BR
	// technologies.robotics: level must be 1 to 5, got 7
}

func ExampleWireError() {
	// A hub fails a request and answers with the wire error...
	cause := fmt.Errorf("hub hub-one has no profile yet: %w", protocol.ErrNotFound)
	we := protocol.WireError(cause)
	fmt.Println(we.Code)

	// ...which the asking hub decodes from the signed reply: errors.Is works across hubs.
	hub, err := protocol.NewIdentity("hub-one", rand.Reader)
	if err != nil {
		panic(err)
	}
	env, err := protocol.Sign(hub, protocol.TypeError, "hub-two", we, time.Now())
	if err != nil {
		panic(err)
	}
	err = env.Decode(nil)
	fmt.Println(errors.Is(err, protocol.ErrNotFound))
	fmt.Println(err)
	// Output:
	// not-found
	// true
	// not-found: hub hub-one has no profile yet: protocol: not found
}
