package node

import (
	crand "crypto/rand"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// The people of a referral. Each change a person makes names them in the history
// (protocol.Change.Person), at this hub and, through the event's Person, at the
// other. The first person at a hub who makes or acts on a referral becomes its
// contact person there; the contact goes to the other hub sealed to its box key, with
// the next message this hub sends about the referral, so that the two advisors know
// whom to talk to.

// ownContact makes by, when a person, this hub's contact for a referral with hub
// partner whose contacts are cur (nil for a new referral), and returns the contacts
// then and the sealed contact to send with the next message, if one is due: nil
// while the contact is sent already, or while the partner's box key is not known.
func (n *Node) ownContact(by Actor, partner string, cur *store.Contacts) (*store.Contacts, *protocol.Sealed) {
	c := &store.Contacts{}
	if cur != nil {
		cp := *cur
		c = &cp
	}
	if c.Own == nil {
		c.Own = by.contact(n.id.ID)
	}
	if c.Own == nil || c.OwnSent {
		return nilIfEmpty(c), nil
	}
	pv, ok := n.dir.peer(partner)
	if !ok || len(pv.BoxKey) != 32 {
		return c, nil
	}
	var to [32]byte
	copy(to[:], pv.BoxKey)
	sealed, err := protocol.SealContact(*c.Own, n.id, to, crand.Reader)
	if err != nil {
		n.log.Warn("seal contact person", "partner", partner, "err", err)
		return c, nil
	}
	c.OwnSent = true
	return c, &sealed
}

// partnerContact opens the other hub's contact person sealed in a message from hub
// partner (box key box, when known) and returns the referral's contacts with it. A
// contact that does not open, or names another hub, is left out, and logged: the
// referral goes on without it.
func (n *Node) partnerContact(cur *store.Contacts, s *protocol.Sealed, partner string, box []byte) *store.Contacts {
	if s == nil {
		return cur
	}
	var from [32]byte
	copy(from[:], box)
	c, err := protocol.OpenContact(*s, n.id, from, n.old...)
	if err == nil && c.Hub != partner {
		err = &protocol.ValidationError{What: "contact", Problems: []protocol.FieldError{{Field: "hub", Rule: "must be the sending hub " + partner}}}
	}
	if err != nil {
		n.log.Warn("contact person of a referral left out", "partner", partner, "err", err)
		return cur
	}
	out := &store.Contacts{}
	if cur != nil {
		*out = *cur
	}
	out.Partner = &c
	return out
}

func nilIfEmpty(c *store.Contacts) *store.Contacts {
	if c.Own == nil && c.Partner == nil {
		return nil
	}
	return c
}

// apiContacts returns the contacts of a referral as the API shows them.
func apiContacts(c *store.Contacts) *api.Contacts {
	if c == nil || (c.Own == nil && c.Partner == nil) {
		return nil
	}
	return &api.Contacts{Own: c.Own, Partner: c.Partner}
}
