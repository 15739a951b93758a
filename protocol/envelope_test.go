package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got with testdata/name.golden, or rewrites the file under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\ngot  %s\nwant %s\n(go test -update rewrites it, if the change is meant)", path, got, want)
	}
}

// testIdentity returns hub id's identity with a signing key derived from id, the same
// in every run. It has no box key: envelopes do not need one.
func testIdentity(id string) Identity {
	seed := sha256.Sum256([]byte("hubnet test signing key " + id))
	return Identity{ID: id, SignKey: ed25519.NewKeyFromSeed(seed[:])}
}

// fixedMessageID is the UUIDv7 of every golden envelope.
const fixedMessageID = "0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37"

// fixedEnvelope is what Sign makes, but with fixedMessageID and fixedTime in place of
// a fresh ID and the clock, so its encoding is the same in every run (Ed25519
// signatures are deterministic).
func fixedEnvelope(t *testing.T, id Identity, typ, to string, body any) Envelope {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	e := Envelope{V: Version, ID: fixedMessageID, Type: typ, From: id.ID, To: to, Time: fixedTime, Body: raw}
	if err := e.check(); err != nil {
		t.Fatal(err)
	}
	e.Sig = ed25519.Sign(id.SignKey, e.signedBytes())
	return e
}

// mustSign signs body with Sign at fixedTime and fails the test on error.
func mustSign(t *testing.T, id Identity, typ, to string, body any) Envelope {
	t.Helper()
	e, err := Sign(id, typ, to, body, fixedTime)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return e
}

// mustMarshal encodes e and fails the test on error.
func mustMarshal(t *testing.T, e Envelope) []byte {
	t.Helper()
	b, err := e.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return b
}

// sameEnvelope reports whether a and b carry the same message: equal fields, the
// times the same instant.
func sameEnvelope(a, b Envelope) bool {
	return a.V == b.V && a.ID == b.ID && a.Type == b.Type && a.From == b.From && a.To == b.To &&
		a.Time.Equal(b.Time) && bytes.Equal(a.Body, b.Body) && bytes.Equal(a.Sig, b.Sig)
}

// editWire decodes the encoded envelope, lets edit change its JSON fields and encodes
// it again: what someone on the path between two hubs can do. The fields edit leaves
// alone keep their bytes.
func editWire(t *testing.T, data []byte, edit func(map[string]json.RawMessage)) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonOf encodes v, which must encode.
func jsonOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestSign(t *testing.T) {
	hub := testIdentity("hub-one")
	now := time.Date(2025, 5, 14, 11, 30, 0, 5, time.FixedZone("EEST", 3*3600))
	hint := ProfileHint{V: Version, ID: "hub-one", Revision: 3}
	e, err := Sign(hub, TypeProfileHint, "hub-two", hint, now)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := uuid.Parse(e.ID); err != nil || u.Version() != 7 {
		t.Errorf("ID %q: got version %v (err %v), want a UUIDv7", e.ID, u.Version(), err)
	}
	if e.V != Version || e.Type != TypeProfileHint || e.From != "hub-one" || e.To != "hub-two" {
		t.Errorf("got v %d type %q from %q to %q, want v %d type %q from hub-one to hub-two",
			e.V, e.Type, e.From, e.To, Version, TypeProfileHint)
	}
	if !e.Time.Equal(now) || e.Time.Location() != time.UTC {
		t.Errorf("got time %v, want %v in UTC", e.Time, now.UTC())
	}
	if want, _ := json.Marshal(hint); !bytes.Equal(e.Body, want) {
		t.Errorf("got body %s, want %s", e.Body, want)
	}
	if len(e.Sig) != ed25519.SignatureSize {
		t.Errorf("got a signature of %d bytes, want %d", len(e.Sig), ed25519.SignatureSize)
	}
	if again := mustSign(t, hub, TypeProfileHint, "hub-two", hint); again.ID == e.ID {
		t.Errorf("two messages got the same ID %s", e.ID)
	}
}

func TestSign_refuses(t *testing.T) {
	hub := testIdentity("hub-one")
	tests := []struct {
		name     string
		id       Identity
		typ, to  string
		now      time.Time
		want     []string
		wantJSON bool // the body cannot be encoded
	}{
		{name: "bad sender", id: testIdentity("Hub One"), typ: TypeProfile, now: fixedTime, want: []string{"from"}},
		{name: "bad recipient", id: hub, typ: TypeProfile, to: "x", now: fixedTime, want: []string{"to"}},
		{name: "no type", id: hub, now: fixedTime, want: []string{"type"}},
		{name: "type too long", id: hub, typ: strings.Repeat("t", 65), now: fixedTime, want: []string{"type"}},
		{name: "no time", id: hub, typ: TypeProfile, want: []string{"time"}},
		{name: "everything", id: testIdentity(""), to: "-", want: []string{"type", "from", "to", "time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sign(tt.id, tt.typ, tt.to, ProfileHint{V: Version}, tt.now)
			if got := problemFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("body not JSON", func(t *testing.T) {
		_, err := Sign(hub, TypeProfile, "", make(chan int), fixedTime)
		var ue *json.UnsupportedTypeError
		if !errors.As(err, &ue) {
			t.Errorf("got %v, want a *json.UnsupportedTypeError", err)
		}
	})
}

func TestEnvelope_roundTrip(t *testing.T) {
	hub := testIdentity("hub-one")
	hint := ProfileHint{V: Version, ID: "hub-one", Revision: 42}
	sent := mustSign(t, hub, TypeProfileHint, "hub-two", hint)

	got, err := OpenEnvelope(mustMarshal(t, sent))
	if err != nil {
		t.Fatalf("OpenEnvelope: %v", err)
	}
	if !sameEnvelope(got, sent) {
		t.Errorf("got %+v, want %+v", got, sent)
	}
	if err := got.Verify(hub.SignPublic()); err != nil {
		t.Fatalf("Verify: got %v, want nil", err)
	}
	var h ProfileHint
	if err := got.Decode(&h); err != nil {
		t.Fatal(err)
	}
	if h != hint {
		t.Errorf("got %+v, want %+v", h, hint)
	}
}

func TestEnvelope_Verify_tamperedOnTheWire(t *testing.T) {
	hub := testIdentity("hub-one")
	sent := mustSign(t, hub, TypeProfileHint, "hub-two", ProfileHint{V: Version, ID: "hub-one", Revision: 3})
	data := mustMarshal(t, sent)
	later := sent.Time.Add(time.Nanosecond)
	otherID := uuid.Must(uuid.NewV7()).String()

	tests := []struct {
		name string
		edit func(map[string]json.RawMessage)
		want error
	}{
		{"untouched", func(m map[string]json.RawMessage) {}, nil},
		{"same instant in another zone", func(m map[string]json.RawMessage) {
			m["time"] = jsonOf(sent.Time.In(time.FixedZone("CEST", 2*3600)))
		}, nil},
		{"type", func(m map[string]json.RawMessage) { m["type"] = jsonOf(TypeProfile) }, ErrBadSignature},
		{"from", func(m map[string]json.RawMessage) { m["from"] = jsonOf("hub-three") }, ErrBadSignature},
		{"to", func(m map[string]json.RawMessage) { m["to"] = jsonOf("hub-three") }, ErrBadSignature},
		{"to removed", func(m map[string]json.RawMessage) { delete(m, "to") }, ErrBadSignature},
		{"id", func(m map[string]json.RawMessage) { m["id"] = jsonOf(otherID) }, ErrBadSignature},
		{"time by a nanosecond", func(m map[string]json.RawMessage) { m["time"] = jsonOf(later) }, ErrBadSignature},
		{"body", func(m map[string]json.RawMessage) {
			m["body"] = jsonOf(ProfileHint{V: Version, ID: "hub-one", Revision: 4})
		}, ErrBadSignature},
		{"body of another type", func(m map[string]json.RawMessage) { m["body"] = jsonOf("profile-hint") }, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OpenEnvelope(editWire(t, data, tt.edit))
			if err != nil {
				t.Fatalf("OpenEnvelope: %v", err) // well-formed: only the signature can tell
			}
			if err := got.Verify(hub.SignPublic()); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEnvelope_Verify_tampered(t *testing.T) {
	hub := testIdentity("hub-one")
	sent := mustSign(t, hub, TypeProfileHint, "", ProfileHint{V: Version, ID: "hub-one", Revision: 3})
	if err := sent.Verify(hub.SignPublic()); err != nil {
		t.Fatalf("untouched: got %v, want nil", err)
	}
	tests := []struct {
		name string
		edit func(*Envelope)
	}{
		{"version", func(e *Envelope) { e.V = 2 }},
		{"time by a second", func(e *Envelope) { e.Time = e.Time.Add(-time.Second) }},
		{"body spacing", func(e *Envelope) { e.Body = append(json.RawMessage(" "), e.Body...) }},
		{"signature bit", func(e *Envelope) { e.Sig = bytes.Clone(e.Sig); e.Sig[10] ^= 1 }},
		{"signature cut", func(e *Envelope) { e.Sig = e.Sig[:ed25519.SignatureSize-1] }},
		{"signature missing", func(e *Envelope) { e.Sig = nil }},
		{"signature of another message", func(e *Envelope) {
			e.Sig = mustSign(t, hub, TypeProfileHint, "", ProfileHint{V: Version, ID: "hub-one", Revision: 4}).Sig
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sent
			tt.edit(&e)
			if err := e.Verify(hub.SignPublic()); !errors.Is(err, ErrBadSignature) {
				t.Errorf("got %v, want %v", err, ErrBadSignature)
			}
		})
	}
}

func TestEnvelope_Verify_otherKey(t *testing.T) {
	hub := testIdentity("hub-one")
	e := mustSign(t, hub, TypeProfileHint, "", ProfileHint{V: Version, ID: "hub-one", Revision: 3})
	// An impostor signs as hub-one with its own key.
	forged := mustSign(t, Identity{ID: "hub-one", SignKey: testIdentity("hub-two").SignKey}, TypeProfileHint, "",
		ProfileHint{V: Version, ID: "hub-one", Revision: 3})

	tests := []struct {
		name string
		e    Envelope
		pub  ed25519.PublicKey
	}{
		{"another hub's key", e, testIdentity("hub-two").SignPublic()},
		{"forged sender", forged, hub.SignPublic()},
		{"no key", e, nil},
		{"short key", e, hub.SignPublic()[:ed25519.PublicKeySize-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Verify(tt.pub)
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("got %v, want %v", err, ErrBadSignature)
			}
			// The error says which message failed.
			if want := "profile-hint " + tt.e.ID + " from hub-one"; !strings.Contains(err.Error(), want) {
				t.Errorf("got %q, want it to contain %q", err, want)
			}
		})
	}
}

func TestOpenEnvelope_refuses(t *testing.T) {
	hub := testIdentity("hub-one")
	data := mustMarshal(t, mustSign(t, hub, TypeProfileHint, "hub-two", ProfileHint{V: Version, ID: "hub-one"}))

	tests := []struct {
		name       string
		edit       func(map[string]json.RawMessage)
		wantErr    error
		wantFields []string // for ErrInvalid
	}{
		{"version 3", func(m map[string]json.RawMessage) { m["v"] = jsonOf(3) }, ErrUnknownVersion, nil},
		{"version 0", func(m map[string]json.RawMessage) { m["v"] = jsonOf(0) }, ErrUnknownVersion, nil},
		{"version missing", func(m map[string]json.RawMessage) { delete(m, "v") }, ErrUnknownVersion, nil},
		{"version a string", func(m map[string]json.RawMessage) { m["v"] = jsonOf("1") }, ErrInvalid, []string{"(json)"}},
		{"id missing", func(m map[string]json.RawMessage) { delete(m, "id") }, ErrInvalid, []string{"id"}},
		{"id not a UUID", func(m map[string]json.RawMessage) { m["id"] = jsonOf("message-1") }, ErrInvalid, []string{"id"}},
		{"id a UUIDv4", func(m map[string]json.RawMessage) { m["id"] = jsonOf("6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b") }, ErrInvalid, []string{"id"}},
		{"type missing", func(m map[string]json.RawMessage) { delete(m, "type") }, ErrInvalid, []string{"type"}},
		{"type too long", func(m map[string]json.RawMessage) { m["type"] = jsonOf(strings.Repeat("t", 65)) }, ErrInvalid, []string{"type"}},
		{"from missing", func(m map[string]json.RawMessage) { delete(m, "from") }, ErrInvalid, []string{"from"}},
		{"from invalid", func(m map[string]json.RawMessage) { m["from"] = jsonOf("Hub One") }, ErrInvalid, []string{"from"}},
		{"to invalid", func(m map[string]json.RawMessage) { m["to"] = jsonOf("h") }, ErrInvalid, []string{"to"}},
		{"time missing", func(m map[string]json.RawMessage) { delete(m, "time") }, ErrInvalid, []string{"time"}},
		{"time zero", func(m map[string]json.RawMessage) { m["time"] = jsonOf("0001-01-01T00:00:00Z") }, ErrInvalid, []string{"time"}},
		{"time not RFC 3339", func(m map[string]json.RawMessage) { m["time"] = jsonOf("yesterday") }, ErrInvalid, []string{"(json)"}},
		{"body missing", func(m map[string]json.RawMessage) { delete(m, "body") }, ErrInvalid, []string{"body"}},
		{"signature not base64", func(m map[string]json.RawMessage) { m["sig"] = jsonOf("!!") }, ErrInvalid, []string{"(json)"}},
		{"only a version", func(m map[string]json.RawMessage) {
			for k := range m {
				if k != "v" {
					delete(m, k)
				}
			}
		}, ErrInvalid, []string{"id", "type", "from", "time", "body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenEnvelope(editWire(t, data, tt.edit))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != ErrInvalid {
				return
			}
			if got := problemFields(t, err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("got %v, want %v", got, tt.wantFields)
			}
		})
	}
}

func TestOpenEnvelope_notJSON(t *testing.T) {
	for _, data := range []string{"", "{", "[]", `"envelope"`, `{"v":1,"body":}`} {
		t.Run(data, func(t *testing.T) {
			_, err := OpenEnvelope([]byte(data))
			if got, want := problemFields(t, err), []string{"(json)"}; !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestOpenEnvelope_size(t *testing.T) {
	hub := testIdentity("hub-one")
	// An envelope padded to exactly MaxEnvelopeSize bytes: the largest accepted.
	type padded struct {
		Pad string `json:"pad"`
	}
	n := len(mustMarshal(t, mustSign(t, hub, "padded", "", padded{})))
	e := mustSign(t, hub, "padded", "", padded{strings.Repeat("p", MaxEnvelopeSize-n)})
	data := mustMarshal(t, e)
	if len(data) != MaxEnvelopeSize {
		t.Fatalf("padded envelope of %d bytes, want %d", len(data), MaxEnvelopeSize)
	}
	got, err := OpenEnvelope(data)
	if err != nil {
		t.Fatalf("%d bytes: got %v, want nil", len(data), err)
	}
	if err := got.Verify(hub.SignPublic()); err != nil {
		t.Errorf("%d bytes: Verify: got %v, want nil", len(data), err)
	}

	// One byte more, even insignificant space, is refused before it is parsed.
	if _, err := OpenEnvelope(append(data, ' ')); !errors.Is(err, ErrTooLarge) {
		t.Errorf("%d bytes: got %v, want %v", len(data)+1, err, ErrTooLarge)
	}
	if _, err := OpenEnvelope(bytes.Repeat([]byte("x"), 1<<20)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("1 MiB of garbage: got %v, want %v", err, ErrTooLarge)
	}
}

func TestEnvelope_Decode(t *testing.T) {
	hub := testIdentity("hub-one")
	t.Run("wrong shape", func(t *testing.T) {
		e := mustSign(t, hub, TypeProfileHint, "", "not a hint")
		var h ProfileHint
		err := e.Decode(&h)
		if got, want := problemFields(t, err), []string{"body"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		var ve *ValidationError
		if errors.As(err, &ve) && ve.What != TypeProfileHint {
			t.Errorf("got What %q, want %q", ve.What, TypeProfileHint)
		}
	})
	for _, body := range []any{map[string]string{"message": "no code"}, "text", 42} {
		t.Run(fmt.Sprintf("error body %v", body), func(t *testing.T) {
			e := mustSign(t, hub, TypeError, "", body)
			err := e.Decode(nil)
			if got, want := problemFields(t, err), []string{"body"}; !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			var we *Error
			if errors.As(err, &we) {
				t.Errorf("got wire error %v, want none", we)
			}
		})
	}
}

func TestWireError_acrossTheWire(t *testing.T) {
	hub := testIdentity("hub-one")
	tests := []struct {
		name     string
		err      error
		wantCode string
		want     error
	}{
		{"not found", fmt.Errorf("x: %w", ErrNotFound), CodeNotFound, ErrNotFound},
		{"invalid", &ValidationError{What: "profile", Problems: []FieldError{{"name", "is required"}}}, CodeBadRequest, ErrInvalid},
		{"bad signature", fmt.Errorf("verify: %w", ErrBadSignature), CodeBadSignature, ErrBadSignature},
		{"unknown version", ErrUnknownVersion, CodeUnknownVersion, ErrUnknownVersion},
		{"wrong recipient", fmt.Errorf("for hub-three: %w", ErrWrongRecipient), CodeWrongRecipient, ErrWrongRecipient},
		{"too large", fmt.Errorf("upload: %w", ErrTooLarge), CodeTooLarge, ErrTooLarge},
		{"internal", ErrInternal, CodeInternal, ErrInternal},
		{"anything else", errors.New("disk full"), CodeInternal, ErrInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := mustSign(t, hub, TypeError, "hub-two", WireError(tt.err))
			e, err := OpenEnvelope(mustMarshal(t, sent))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Verify(hub.SignPublic()); err != nil {
				t.Fatal(err)
			}
			got := e.Decode(nil)
			if !errors.Is(got, tt.want) {
				t.Errorf("got %v, want errors.Is %v", got, tt.want)
			}
			var we *Error
			if !errors.As(got, &we) {
				t.Fatalf("got %T, want *Error", got)
			}
			if we.Code != tt.wantCode || we.Message != tt.err.Error() || we.V != Version {
				t.Errorf("got %+v, want code %q, message %q, v %d", we, tt.wantCode, tt.err.Error(), Version)
			}
			if want := tt.wantCode + ": " + tt.err.Error(); got.Error() != want {
				t.Errorf("got %q, want %q", got.Error(), want)
			}
		})
	}
}

func TestWireError_passesWireErrorsOn(t *testing.T) {
	// A hub relaying another's failure keeps its code.
	remote := &Error{V: Version, Code: CodeNotFound, Message: "hub-three: no profile"}
	if got := WireError(fmt.Errorf("ask hub-three: %w", remote)); got != remote {
		t.Errorf("got %+v, want %+v", got, remote)
	}
}

func TestError_Unwrap_unknownCode(t *testing.T) {
	// A code from a newer hub is still an error of the other side.
	if got := (&Error{Code: "teapot"}).Unwrap(); got != ErrInternal {
		t.Errorf("got %v, want %v", got, ErrInternal)
	}
}

func TestError_golden(t *testing.T) {
	b, err := json.Marshal(WireError(fmt.Errorf("hub hub-one has no profile yet: %w", ErrNotFound)))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "error", b)
}

func TestSignProfile_roundTrip(t *testing.T) {
	hub := testIdentity("hub-one")
	p := validProfile()
	e, err := SignProfile(hub, p, fixedTime)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != TypeProfile || e.To != "" {
		t.Errorf("got type %q to %q, want %q to everyone", e.Type, e.To, TypeProfile)
	}
	opened, err := OpenEnvelope(mustMarshal(t, e))
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenProfile(opened, hub.SignPublic())
	if err != nil {
		t.Fatalf("OpenProfile: %v", err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("got %+v, want %+v", got, p)
	}
}

func TestSignProfile_otherHub(t *testing.T) {
	p := validProfile()
	p.ID = "hub-two"
	_, err := SignProfile(testIdentity("hub-one"), p, fixedTime)
	if got, want := problemFields(t, err), []string{"id"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestOpenProfile_refuses(t *testing.T) {
	hub := testIdentity("hub-one")
	signed := mustSign(t, hub, TypeProfile, "", validProfile())
	otherHubs := validProfile()
	otherHubs.ID = "hub-two"
	nameless := validProfile()
	nameless.Name = ""

	// The name changed on the wire after signing.
	data := mustMarshal(t, signed)
	tamperedData := bytes.Replace(data, []byte(`"name":"Hub One`), []byte(`"name":"Hub Won`), 1)
	if bytes.Equal(tamperedData, data) {
		t.Fatal("fixture: the name is not in the encoded envelope")
	}
	tampered, err := OpenEnvelope(tamperedData)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		e          Envelope
		pub        ed25519.PublicKey
		wantErr    error
		wantFields []string
	}{
		{"tampered body", tampered, hub.SignPublic(), ErrBadSignature, nil},
		{"another key", signed, testIdentity("hub-two").SignPublic(), ErrBadSignature, nil},
		{"profile of another hub", mustSign(t, hub, TypeProfile, "", otherHubs), hub.SignPublic(), ErrInvalid, []string{"id"}},
		{"invalid profile", mustSign(t, hub, TypeProfile, "", nameless), hub.SignPublic(), ErrInvalid, []string{"name"}},
		{"body not a profile", mustSign(t, hub, TypeProfile, "", []string{"hub-one"}), hub.SignPublic(), ErrInvalid, []string{"body"}},
		{"a hint", mustSign(t, hub, TypeProfileHint, "", ProfileHint{V: Version, ID: "hub-one"}), hub.SignPublic(), ErrInvalid, []string{"type"}},
		{"an error", mustSign(t, hub, TypeError, "", WireError(ErrNotFound)), hub.SignPublic(), ErrInvalid, []string{"type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := OpenProfile(tt.e, tt.pub)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(p, Profile{}) {
				t.Errorf("got profile %+v with the error, want none", p)
			}
			if tt.wantErr != ErrInvalid {
				return
			}
			if got := problemFields(t, err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("got %v, want %v", got, tt.wantFields)
			}
		})
	}
}

// goldenEnvelopes are the envelopes kept in testdata, by file name.
func goldenEnvelopes(t *testing.T) map[string]Envelope {
	hub := testIdentity("hub-one")
	return map[string]Envelope{
		"envelope-profile": fixedEnvelope(t, hub, TypeProfile, "", validProfile()),
		"envelope-hint":    fixedEnvelope(t, hub, TypeProfileHint, "", ProfileHint{V: Version, ID: "hub-one", Revision: 7}),
		"envelope-error": fixedEnvelope(t, hub, TypeError, "hub-two",
			WireError(fmt.Errorf("hub hub-one has no profile yet: %w", ErrNotFound))),
	}
}

func TestEnvelope_golden(t *testing.T) {
	for name, e := range goldenEnvelopes(t) {
		t.Run(name, func(t *testing.T) {
			checkGolden(t, name, mustMarshal(t, e))
		})
	}
}

// TestEnvelope_golden_verifies opens the stored envelopes as a hub would receive them.
// It pins the signed bytes: if their layout changes, envelopes signed by hubs of this
// version stop verifying, and so does this test.
func TestEnvelope_golden_verifies(t *testing.T) {
	pub := testIdentity("hub-one").SignPublic()
	read := func(t *testing.T, name string) Envelope {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		e, err := OpenEnvelope(data)
		if err != nil {
			t.Fatalf("OpenEnvelope: %v", err)
		}
		if err := e.Verify(pub); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if e.ID != fixedMessageID || !e.Time.Equal(fixedTime) || e.From != "hub-one" {
			t.Errorf("got id %s time %v from %s, want %s, %v, hub-one", e.ID, e.Time, e.From, fixedMessageID, fixedTime)
		}
		return e
	}
	t.Run("profile", func(t *testing.T) {
		p, err := OpenProfile(read(t, "envelope-profile"), pub)
		if err != nil {
			t.Fatal(err)
		}
		if want := validProfile(); !reflect.DeepEqual(p, want) {
			t.Errorf("got %+v, want %+v", p, want)
		}
	})
	t.Run("hint", func(t *testing.T) {
		e := read(t, "envelope-hint")
		var h ProfileHint
		if err := e.Decode(&h); err != nil {
			t.Fatal(err)
		}
		if want := (ProfileHint{V: Version, ID: "hub-one", Revision: 7}); h != want {
			t.Errorf("got %+v, want %+v", h, want)
		}
	})
	t.Run("error", func(t *testing.T) {
		e := read(t, "envelope-error")
		if err := e.Decode(nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("got %v, want %v", err, ErrNotFound)
		}
	})
}

func TestParseProfileRequest(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		want  error  // nil, ErrUnknownVersion, or a *ValidationError naming field
		field string // for a *ValidationError
	}{
		{"version 1", `{"v":1}`, nil, ""},
		{"unknown fields ignored", `{"v":1,"hub":"other","color":"red"}`, nil, ""},
		{"a batch", `{"v":1,"batch":true,"after":"hub-b"}`, nil, ""},
		{"version 99", `{"v":99}`, ErrUnknownVersion, ""},
		{"no version", `{}`, ErrUnknownVersion, ""},
		{"truncated", `{"v":`, &ValidationError{}, "(json)"},
		{"wrong type", `{"v":"1"}`, &ValidationError{}, "(json)"},
		{"a batch of one hub", `{"v":1,"batch":true,"hub":"hub-b"}`, &ValidationError{}, "batch"},
		{"after without batch", `{"v":1,"after":"hub-b"}`, &ValidationError{}, "after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseProfileRequest([]byte(tc.data))
			var ve *ValidationError
			switch want := tc.want.(type) {
			case nil:
				if err != nil || r.V != Version {
					t.Fatalf("got %+v, %v; want version %d", r, err, Version)
				}
			case *ValidationError:
				if !errors.As(err, &ve) || ve.Problems[0].Field != tc.field {
					t.Fatalf("got %v, want a validation error of %s", err, tc.field)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("got %v, want %v", err, want)
				}
			}
		})
	}
}

func TestParseProfileBatch(t *testing.T) {
	b, err := ParseProfileBatch([]byte(`{"v":1,"profiles":[{"a":1},{"b":2}],"next":"hub-c"}`))
	if err != nil || len(b.Profiles) != 2 || b.Next != "hub-c" {
		t.Fatalf("got %+v, %v; want two profiles and next hub-c", b, err)
	}
	if _, err := ParseProfileBatch([]byte(`{"v":2,"profiles":[]}`)); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("version 2: got %v, want %v", err, ErrUnknownVersion)
	}
	var ve *ValidationError
	if _, err := ParseProfileBatch([]byte(`{"v":1,"profiles":{}}`)); !errors.As(err, &ve) || ve.Problems[0].Field != "(json)" {
		t.Errorf("profiles not a list: got %v, want a validation error of (json)", err)
	}
}

func TestParseProfileHave(t *testing.T) {
	if h, err := ParseProfileHave([]byte(`{"v":1,"id":"hub-a","hub":"hub-b","revision":3}`)); err != nil || h.Revision != 3 {
		t.Fatalf("got %+v, %v; want the note", h, err)
	}
	_, err := ParseProfileHave([]byte(`{"v":1,"id":"","hub":"","revision":0}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("got %v, want three problems: id, hub and revision", err)
	}
	for i, field := range []string{"id", "hub", "revision"} {
		if ve.Problems[i].Field != field {
			t.Errorf("problem %d names %q, want %q", i, ve.Problems[i].Field, field)
		}
	}
	if _, err := ParseProfileHave([]byte(`{"v":2,"id":"hub-a","hub":"hub-b","revision":3}`)); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("version 2: got %v, want %v", err, ErrUnknownVersion)
	}
}

// A batch encodes as json.Marshal encodes it, and parses back to what it was: with
// profiles and a next hub, with none, and with a next hub that needs escaping.
func TestProfileBatch_Encode(t *testing.T) {
	for _, b := range []ProfileBatch{
		{V: Version, Profiles: []json.RawMessage{json.RawMessage(`{"v":1,"type":"profile","body":{"id":"hub-a"}}`), json.RawMessage(`{"v":1,"body":"é\u2028"}`)}, Next: "hub-b"},
		{V: Version, Profiles: []json.RawMessage{json.RawMessage(`{"a":1}`)}},
		{V: Version, Profiles: []json.RawMessage{}},
		{V: Version},
		{V: Version, Profiles: []json.RawMessage{json.RawMessage(`{}`)}, Next: "a\"b<c>&\u2028"},
	} {
		want, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Encode(); string(got) != string(want) {
			t.Errorf("Encode:\n got %s\nwant %s", got, want)
		}
		back, err := ParseProfileBatch(b.Encode())
		if err != nil {
			t.Fatalf("%s: %v", b.Encode(), err)
		}
		if back.Next != b.Next || len(back.Profiles) != len(b.Profiles) {
			t.Errorf("parsed back as %+v, want %+v", back, b)
		}
	}
}
