package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// envelopeRecord is how a signed envelope is stored. It mirrors protocol.Envelope but
// holds Body as []byte, base64 in JSON: encoding/json compacts and re-escapes a
// json.RawMessage when it encodes one, and the signature covers the body's hash, so a
// body that was not compact when it was signed would no longer verify.
type envelopeRecord struct {
	V    int       `json:"v"`
	ID   string    `json:"id"`
	Type string    `json:"type"`
	From string    `json:"from"`
	To   string    `json:"to,omitempty"`
	Time time.Time `json:"time"`
	Body []byte    `json:"body"`
	Sig  []byte    `json:"sig"`
}

func recordOf(e protocol.Envelope) envelopeRecord {
	return envelopeRecord{V: e.V, ID: e.ID, Type: e.Type, From: e.From, To: e.To, Time: e.Time, Body: e.Body, Sig: e.Sig}
}

func (r envelopeRecord) envelope() protocol.Envelope {
	return protocol.Envelope{V: r.V, ID: r.ID, Type: r.Type, From: r.From, To: r.To, Time: r.Time, Body: r.Body, Sig: r.Sig}
}

// profileOf decodes the profile an envelope carries.
func profileOf(e protocol.Envelope) (protocol.Profile, error) {
	var p protocol.Profile
	if err := json.Unmarshal(e.Body, &p); err != nil {
		return protocol.Profile{}, fmt.Errorf("decode profile from %s envelope %s: %w", e.From, e.ID, err)
	}
	return p, nil
}
