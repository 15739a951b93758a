package protocol

import (
	"time"

	"github.com/google/uuid"
)

// A gossip key roll after a revocation. The hub the steward hands a revocation to
// makes a new gossip key and walks every other hub that remains through memberlist's
// three steps, one GossipKeyStep each, sealed to the hub's box key: install the new
// key, use it, remove the others. The revoked hub is sent nothing, so once every hub
// uses the new key it can read no gossip.

// Messages of a gossip key roll, sent as NATS requests to GossipKeySubject(to).
const (
	TypeGossipKey    = "gossip-key"     // body: GossipKeyStep, sealed, the rolling hub to another
	TypeGossipKeyAck = "gossip-key-ack" // body: GossipKeyAck, the reply
)

// GossipKeySubject is where hub id takes the steps of a gossip key roll.
func GossipKeySubject(id string) string { return HubPrefix(id) + KindGossipKey }

// The steps of a gossip key roll, in their order.
const (
	StepInstall = "install" // accept gossip encrypted with the key
	StepUse     = "use"     // encrypt gossip with it
	StepRemove  = "remove"  // accept no other key
)

// GossipKeyStep is one step of a gossip key roll.
type GossipKeyStep struct {
	V       int       `json:"v"`
	Roll    string    `json:"roll"`    // the roll's ID, a UUIDv7
	Started time.Time `json:"started"` // when the rolling hub started it
	Revoked string    `json:"revoked"` // the hub whose revocation the roll follows
	At      int64     `json:"at"`      // that revocation's time, Unix seconds
	Step    string    `json:"step"`    // install, use or remove
	Key     []byte    `json:"key"`     // the new gossip key, 32 bytes
}

// Validate checks every field of the step.
func (s *GossipKeyStep) Validate() error {
	p := problems{what: "gossip key step"}
	if s.V != Version {
		p.add("v", "must be %d", Version)
	}
	if u, err := uuid.Parse(s.Roll); err != nil || u.Version() != 7 {
		p.add("roll", "must be a UUIDv7")
	}
	if s.Started.Before(minTime) || s.Started.After(maxTime) {
		p.add("started", "must be between 2000 and 2200")
	}
	if !ValidID(s.Revoked) {
		p.add("revoked", idRule)
	}
	if s.At <= 0 {
		p.add("at", "must be the revocation's time, Unix seconds")
	}
	switch s.Step {
	case StepInstall, StepUse, StepRemove:
	default:
		p.add("step", "must be install, use or remove")
	}
	if len(s.Key) != 32 {
		p.add("key", "must be 32 bytes (base64 in JSON)")
	}
	return p.err()
}

// After reports whether roll s was started after roll o, so that where two rolls
// cross every hub ends with the key of the same one: the later start wins, then the
// greater roll ID.
func (s *GossipKeyStep) After(o *GossipKeyStep) bool {
	if !s.Started.Equal(o.Started) {
		return s.Started.After(o.Started)
	}
	return s.Roll > o.Roll
}

// GossipKeyAck is the reply to a gossip key step: the step was taken.
type GossipKeyAck struct {
	V    int    `json:"v"`
	Roll string `json:"roll"`
	Step string `json:"step"`
}
