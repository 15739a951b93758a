package protocol

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// The range of envelope times; it keeps Unix nanoseconds, which the signature covers,
// far from overflow.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// MaxEnvelopeSize is the largest encoded envelope a hub accepts, in bytes.
const MaxEnvelopeSize = 256 << 10

// Message types carried in an Envelope.
const (
	TypeProfile     = "profile"      // body: Profile
	TypeProfileHint = "profile-hint" // body: ProfileHint
	TypeError       = "error"        // body: Error, in reply to a request that failed
)

// Envelope is a signed message between hubs. The signature binds the version, type,
// sender, recipient, ID, time and a SHA-256 hash of the body, so no part can be changed
// or moved to another message without the signature failing.
type Envelope struct {
	V    int             `json:"v"`
	ID   string          `json:"id"` // UUIDv7
	Type string          `json:"type"`
	From string          `json:"from"`
	To   string          `json:"to,omitempty"` // empty for a message to every hub
	Time time.Time       `json:"time"`
	Body json.RawMessage `json:"body"`
	Sig  []byte          `json:"sig"` // Ed25519, base64 in JSON
}

// Sign builds and signs an envelope of type typ from the identity to the hub to
// ("" for everyone), with body encoded as JSON, at time now.
func Sign(id Identity, typ, to string, body any, now time.Time) (Envelope, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s body: %w", typ, err)
	}
	mid, err := uuid.NewV7()
	if err != nil {
		return Envelope{}, fmt.Errorf("new message id: %w", err)
	}
	e := Envelope{V: Version, ID: mid.String(), Type: typ, From: id.ID, To: to, Time: now.UTC(), Body: raw}
	if err := e.check(); err != nil {
		return Envelope{}, err
	}
	e.Sig = ed25519.Sign(id.SignKey, e.signedBytes())
	return e, nil
}

// Resign signs e again with id at now, keeping its ID, type, recipient and body. A
// message sent again goes out this way: with a fresh time, so it passes the receiver's
// time window, and with the sender's current key; its ID still makes the receiver
// apply it once.
func Resign(id Identity, e Envelope, now time.Time) (Envelope, error) {
	if e.From != id.ID {
		return Envelope{}, &ValidationError{What: "envelope", Problems: []FieldError{{Field: "from", Rule: "must be the signing hub's ID " + id.ID}}}
	}
	e.Time, e.Sig = now.UTC(), nil
	if err := e.check(); err != nil {
		return Envelope{}, err
	}
	e.Sig = ed25519.Sign(id.SignKey, e.signedBytes())
	return e, nil
}

// MaxClockSkew is the time window of a message: a receiver refuses one whose time is
// further than this from its own clock, before or after. With the IDs a hub remembers
// for as long, it makes a recorded message useless to replay.
const MaxClockSkew = 10 * time.Minute

// CheckTime refuses a message whose time is more than MaxClockSkew from now.
func (e *Envelope) CheckTime(now time.Time) error {
	if d := now.Sub(e.Time); d > MaxClockSkew || d < -MaxClockSkew {
		return fmt.Errorf("%s %s from %s sent at %s, %v from this hub's clock: %w",
			e.Type, e.ID, e.From, e.Time.Format(time.RFC3339), d.Round(time.Second), ErrOutsideWindow)
	}
	return nil
}

// Verify checks the signature against the sender's public key.
func (e *Envelope) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || len(e.Sig) != ed25519.SignatureSize ||
		!ed25519.Verify(pub, e.signedBytes(), e.Sig) {
		return fmt.Errorf("%s %s from %s: %w", e.Type, e.ID, e.From, ErrBadSignature)
	}
	return nil
}

// Marshal encodes the envelope as JSON.
func (e *Envelope) Marshal() ([]byte, error) { return json.Marshal(e) }

// OpenEnvelope decodes data and checks its form (not yet its signature, which needs
// the sender's key: call Verify). It refuses unknown versions and oversized input. It
// takes both a plain envelope (Version) and a sealed one (SealedVersion): whether the
// version fits the type is CheckSealing's to say.
func OpenEnvelope(data []byte) (Envelope, error) {
	if len(data) > MaxEnvelopeSize {
		return Envelope{}, fmt.Errorf("envelope of %d bytes, limit %d: %w", len(data), MaxEnvelopeSize, ErrTooLarge)
	}
	var e Envelope
	if err := json.Unmarshal(data, &e); err != nil {
		return Envelope{}, &ValidationError{What: "envelope", Problems: []FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	if e.V != Version && e.V != SealedVersion {
		return Envelope{}, fmt.Errorf("envelope version %d: %w", e.V, ErrUnknownVersion)
	}
	if err := e.check(); err != nil {
		return Envelope{}, err
	}
	return e, nil
}

// Decode unmarshals the body into v, which then must pass its own validation. An
// envelope of type error decodes to the *Error it carries, which wraps its sentinel.
func (e *Envelope) Decode(v any) error {
	if e.Type == TypeError {
		var we Error
		if err := json.Unmarshal(e.Body, &we); err != nil || we.Code == "" {
			return &ValidationError{What: "error", Problems: []FieldError{{Field: "body", Rule: "must be a wire error {code, message}"}}}
		}
		return &we
	}
	if err := json.Unmarshal(e.Body, v); err != nil {
		return &ValidationError{What: e.Type, Problems: []FieldError{{Field: "body", Rule: err.Error()}}}
	}
	return nil
}

func (e *Envelope) check() error {
	p := problems{what: "envelope"}
	if u, err := uuid.Parse(e.ID); err != nil || u.Version() != 7 {
		p.add("id", "must be a UUIDv7")
	}
	if e.Type == "" || len(e.Type) > 64 {
		p.add("type", "must be 1-64 characters")
	}
	if !ValidID(e.From) {
		p.add("from", idRule)
	}
	if e.To != "" && !ValidID(e.To) {
		p.add("to", idRule)
	}
	if e.Time.Before(minTime) || e.Time.After(maxTime) {
		p.add("time", "must be between 2000 and 2200")
	}
	if len(e.Body) == 0 || !json.Valid(e.Body) {
		p.add("body", "must be JSON")
	}
	return p.err()
}

// signedBytes is what the signature covers: a fixed context string, then each field
// length-prefixed, then the body's hash. Length prefixes make the encoding unambiguous.
func (e *Envelope) signedBytes() []byte {
	h := sha256.Sum256(e.Body)
	b := make([]byte, 0, 160)
	b = append(b, "hubnet envelope v1\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(e.V))
	for _, s := range []string{e.Type, e.From, e.To, e.ID} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	return append(b, h[:]...)
}

// ProfileHint is the body of a profile-hint broadcast: the hub's newest revision.
type ProfileHint struct {
	V        int    `json:"v"`
	ID       string `json:"id"`
	Revision uint64 `json:"revision"`
}

// ProfileRequest asks a hub for its signed profile, on [ProfileSubject]. It is not
// signed: every member may read any profile, and the answer is signed by its owner.
// With Hub set it asks for the copy of another hub's profile the answering hub holds,
// at Revision or newer: a profile is signed by its owner, so any holder may serve it.
// The answer is then the owner's signed profile, or an error wrapping ErrNotFound.
// With Batch set it asks for every profile the answering hub holds, its own
// included, in the order of their hub IDs after After; the answer is a
// [ProfileBatch].
type ProfileRequest struct {
	V        int    `json:"v"`
	Hub      string `json:"hub,omitempty"`      // whose profile; "" for the answering hub's own
	Revision uint64 `json:"revision,omitempty"` // the oldest revision wanted; 0 for any
	Batch    bool   `json:"batch,omitempty"`
	After    string `json:"after,omitempty"` // with Batch: the last hub ID of the batch before
}

// ProfileBatch answers a ProfileRequest with Batch set: signed profiles, each as its
// owner signed it, so each is checked against its owner's signature as if fetched
// from the owner. It is not signed itself: a holder that leaves profiles out costs
// the asker the fetches it then makes one by one, nothing else.
type ProfileBatch struct {
	V        int               `json:"v"`
	Profiles []json.RawMessage `json:"profiles"`       // signed profile envelopes, in order of hub ID
	Next     string            `json:"next,omitempty"` // ask again with After set to this for more; "" after the last
}

// Encode returns the batch as json.Marshal would, without checking each profile
// again: they are envelopes the holder encoded itself. Encoding a batch with
// json.Marshal read every profile twice more, a third of the CPU of serving batches
// to hundreds of hubs starting.
func (b ProfileBatch) Encode() []byte {
	size := 40 + len(b.Next)
	for _, p := range b.Profiles {
		size += len(p) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, `{"v":`...)
	out = strconv.AppendInt(out, int64(b.V), 10)
	out = append(out, `,"profiles":`...)
	if b.Profiles == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '[')
		for i, p := range b.Profiles {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, p...)
		}
		out = append(out, ']')
	}
	if b.Next != "" {
		next, _ := json.Marshal(b.Next) // a string always encodes
		out = append(out, `,"next":`...)
		out = append(out, next...)
	}
	return append(out, '}')
}

// ProfileBatchBytes bounds the profiles of one ProfileBatch, well under NATS's
// largest message of 1 MB; a batch holds at least one profile whatever its size.
const ProfileBatchBytes = 256 << 10

// ParseProfileBatch decodes a profile batch and checks its version. Each profile is
// checked apart, when it is opened.
func ParseProfileBatch(data []byte) (ProfileBatch, error) {
	var b ProfileBatch
	if err := decodeVersioned(data, "profile batch", &b, &b.V); err != nil {
		return ProfileBatch{}, err
	}
	return b, nil
}

// decodeVersioned decodes data into v and checks the version it decoded into
// version: a *ValidationError naming (json) for a body that does not decode, an
// error wrapping ErrUnknownVersion for a version this hub does not speak.
func decodeVersioned(data []byte, what string, v any, version *int) error {
	if err := json.Unmarshal(data, v); err != nil {
		return &ValidationError{What: what, Problems: []FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	if *version != Version {
		return fmt.Errorf("%s of version %d: %w", what, *version, ErrUnknownVersion)
	}
	return nil
}

// ProfileHave tells the hubs of one cluster, on [HaveSubject], that hub ID holds a
// verified copy of Hub's profile at Revision and serves it. It is not signed: a copy
// is checked against its owner's signature when fetched, so a false note costs one
// failed fetch and nothing else.
type ProfileHave struct {
	V        int    `json:"v"`
	ID       string `json:"id"`  // the holder
	Hub      string `json:"hub"` // whose profile it holds
	Revision uint64 `json:"revision"`
}

// ParseProfileHave decodes a have note and checks its version and fields.
func ParseProfileHave(data []byte) (ProfileHave, error) {
	var h ProfileHave
	if err := decodeVersioned(data, "profile have", &h, &h.V); err != nil {
		return ProfileHave{}, err
	}
	var p []FieldError
	if h.ID == "" {
		p = append(p, FieldError{Field: "id", Rule: "must not be empty"})
	}
	if h.Hub == "" || h.Hub == h.ID {
		p = append(p, FieldError{Field: "hub", Rule: "must name a hub other than id"})
	}
	if h.Revision == 0 {
		p = append(p, FieldError{Field: "revision", Rule: "must be at least 1"})
	}
	if len(p) > 0 {
		return ProfileHave{}, &ValidationError{What: "profile have", Problems: p}
	}
	return h, nil
}

// ParseProfileRequest decodes a profile request and checks its version. The error is
// a *ValidationError for a body that is not a request, and wraps ErrUnknownVersion for
// a version this hub does not speak.
func ParseProfileRequest(data []byte) (ProfileRequest, error) {
	var r ProfileRequest
	if err := decodeVersioned(data, "profile request", &r, &r.V); err != nil {
		return ProfileRequest{}, err
	}
	if r.Batch && (r.Hub != "" || r.Revision != 0) {
		return ProfileRequest{}, &ValidationError{What: "profile request", Problems: []FieldError{{Field: "batch", Rule: "asks for every profile held: hub and revision must be empty"}}}
	}
	if !r.Batch && r.After != "" {
		return ProfileRequest{}, &ValidationError{What: "profile request", Problems: []FieldError{{Field: "after", Rule: "only with batch"}}}
	}
	return r, nil
}

// SignProfile seals the profile as the identity's signed profile message.
func SignProfile(id Identity, p Profile, now time.Time) (Envelope, error) {
	if p.ID != id.ID {
		return Envelope{}, &ValidationError{What: "profile", Problems: []FieldError{{Field: "id", Rule: "must be the signing hub's ID " + id.ID}}}
	}
	return Sign(id, TypeProfile, "", p, now)
}

// OpenProfile checks a signed profile: the envelope's signature against pub, that the
// profile belongs to its sender, and the profile's own rules.
func OpenProfile(e Envelope, pub ed25519.PublicKey) (Profile, error) {
	if e.Type != TypeProfile {
		return Profile{}, &ValidationError{What: "envelope", Problems: []FieldError{{Field: "type", Rule: "must be " + TypeProfile}}}
	}
	if err := e.Verify(pub); err != nil {
		return Profile{}, err
	}
	return ProfileOf(e)
}

// ProfileOf decodes the profile of an envelope whose signature the caller has
// verified, and checks that it belongs to its sender and keeps the profile's rules.
func ProfileOf(e Envelope) (Profile, error) {
	if e.Type != TypeProfile {
		return Profile{}, &ValidationError{What: "envelope", Problems: []FieldError{{Field: "type", Rule: "must be " + TypeProfile}}}
	}
	var p Profile
	if err := e.Decode(&p); err != nil {
		return Profile{}, err
	}
	if p.ID != e.From {
		return Profile{}, &ValidationError{What: "profile", Problems: []FieldError{{Field: "id", Rule: "must be the sender's ID " + e.From}}}
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}
