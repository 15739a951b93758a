package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// envelopeHeader is a signed envelope without its body, which is stored apart as the
// raw bytes that were signed. encoding/json compacts and re-escapes a json.RawMessage
// when it encodes one, and the signature covers the body's hash, so a body kept inside
// the JSON could come back changed and no longer verify. Kept apart, it also needs no
// second decoding on read.
type envelopeHeader struct {
	V    int       `json:"v"`
	ID   string    `json:"id"`
	Type string    `json:"type"`
	From string    `json:"from"`
	To   string    `json:"to,omitempty"`
	Time time.Time `json:"time"`
	Sig  []byte    `json:"sig"`
}

func headerOf(e protocol.Envelope) envelopeHeader {
	return envelopeHeader{V: e.V, ID: e.ID, Type: e.Type, From: e.From, To: e.To, Time: e.Time, Sig: e.Sig}
}

// envelope joins the header to its body, copied: body may be bbolt's memory, valid
// only inside its transaction.
func (h envelopeHeader) envelope(body []byte) protocol.Envelope {
	return protocol.Envelope{V: h.V, ID: h.ID, Type: h.Type, From: h.From, To: h.To, Time: h.Time,
		Body: json.RawMessage(bytes.Clone(body)), Sig: h.Sig}
}

// profileOf decodes the profile an envelope carries.
func profileOf(e protocol.Envelope) (protocol.Profile, error) {
	var p protocol.Profile
	if err := json.Unmarshal(e.Body, &p); err != nil {
		return protocol.Profile{}, fmt.Errorf("decode profile from %s envelope %s: %w", e.From, e.ID, err)
	}
	return p, nil
}
