package node

import (
	crand "crypto/rand"
	"fmt"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Sealing on the way out. A referral message or a live query's answer is kept plain
// in the store and sealed each time it is sent, to the recipient's box key as its
// certificate, gossiped, says now: a hub that rolled its keys gets what is sent after
// it did under its new key. The way in is admit's (inbound.go), which opens what it
// has checked.

// sealed signs the plain envelope env of this hub again at the time now, with its
// body sealed to its recipient, and returns it encoded. The error wraps
// protocol.ErrNotFound while the recipient's certified box key is not known here.
func (n *Node) sealed(env protocol.Envelope) ([]byte, error) {
	pv, ok := n.dir.peer(env.To)
	if !ok || len(pv.BoxKey) != 32 {
		return nil, fmt.Errorf("seal %s to %s: its certified box key is not known here yet: %w", env.Type, env.To, protocol.ErrNotFound)
	}
	var to [32]byte
	copy(to[:], pv.BoxKey)
	s, err := protocol.Seal(n.id, env, to, n.cfg.Now(), crand.Reader)
	if err != nil {
		return nil, err
	}
	return s.Marshal()
}
