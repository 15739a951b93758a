package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// addGolden adds the named golden files to the seed corpus: real messages, as this
// version of the package writes them.
func addGolden(f *testing.F, names ...string) {
	f.Helper()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err != nil {
			f.Fatalf("%v (go test -update writes it)", err)
		}
		f.Add(data)
	}
}

// isProtocolError reports whether err is one of the errors a decoder may return for
// bad input.
func isProtocolError(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrUnknownVersion)
}

// checkValidationError fails the test unless err is a *ValidationError that names a
// field and a rule for each of its problems.
func checkValidationError(t *testing.T, err error) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %T %v, want a *ValidationError", err, err)
	}
	if len(ve.Problems) == 0 {
		t.Fatalf("got a ValidationError without problems")
	}
	for _, p := range ve.Problems {
		if p.Field == "" || p.Rule == "" {
			t.Errorf("got problem %+v, want a field and a rule", p)
		}
	}
}

func FuzzOpenEnvelope(f *testing.F) {
	addGolden(f, "envelope-profile", "envelope-hint", "envelope-error")
	for _, s := range []string{
		`{}`,
		`null`,
		`{"v":2}`,
		`{"v":1,"id":"0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37","type":"x","from":"hub-one","to":"hub-two",` +
			`"time":"2025-05-14T11:30:00.5+02:00","body":{ "a" : [1, 2, "<&>"] },"sig":"AAAA"}`,
		`{"v":1,"id":"urn:uuid:0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37","type":"\u003c","from":"abc",` +
			`"time":"9999-12-31T23:59:59.999999999Z","body":null}`,
		`{"V":1,"ID":"{0196CDB2-3A58-7C41-9E2F-6D4B8A1C0F37}","Type":"t","From":"abc","Time":"0000-01-01T00:00:00+01:00","Body":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	pub := testIdentity("hub-one").SignPublic()
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := OpenEnvelope(data)
		if err != nil {
			if !isProtocolError(err) {
				t.Fatalf("got %v, want ErrInvalid, ErrTooLarge or ErrUnknownVersion", err)
			}
			return
		}
		var body any
		_ = e.Decode(&body) // must not panic, whatever the type
		verified := e.Verify(pub) == nil

		b, err := e.Marshal()
		if err != nil {
			t.Fatalf("OpenEnvelope accepted %q, Marshal refuses it: %v", data, err)
		}
		e2, err := OpenEnvelope(b)
		if err != nil {
			t.Fatalf("re-encoded as %q, OpenEnvelope refuses it: %v", b, err)
		}
		// Marshal writes the body as encoding/json writes a json.RawMessage: compacted
		// and re-escaped. Bodies that Sign made are already in that form.
		want := e
		if want.Body, err = json.Marshal(e.Body); err != nil {
			t.Fatal(err)
		}
		if !sameEnvelope(e2, want) {
			t.Fatalf("got %+v, want %+v", e2, want)
		}
		if verified && e2.Verify(pub) != nil {
			t.Fatalf("%q verified, re-encoded as %q it does not", data, b)
		}
		if b2, err := e2.Marshal(); err != nil || !bytes.Equal(b2, b) {
			t.Fatalf("encoding again: got %q (err %v), want %q", b2, err, b)
		}
	})
}

func FuzzDecodeMeta(f *testing.F) {
	addGolden(f, "meta")
	for _, m := range []Meta{
		largestMeta(MaxUnixTime),
		largestMeta(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()),
		func() Meta {
			m := fixedMeta()
			m.Route, m.Cert.Sig, m.Cert.NotAfter = "[2001:db8::1]:4248", nil, 0
			return m
		}(),
	} {
		b, err := m.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`,
		`null`,
		`{"v":2}`,
		`{"v":1,"id":"abc","r":"h:1","rev":0,"c":{"sk":"","bk":"","s":""}}`,
		`{"V":1,"ID":"abc","R":"h\u00e9:65535","rev":1,"c":{"sk":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","bk":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMeta(data)
		if err != nil {
			if !isProtocolError(err) {
				t.Fatalf("got %v, want ErrInvalid, ErrTooLarge or ErrUnknownVersion", err)
			}
			return
		}
		// A hub may gossip whatever it accepted: memberlist panics past MaxMetaSize.
		b, err := m.Encode()
		if err != nil {
			t.Fatalf("DecodeMeta accepted %q (route %q), Encode refuses it: %v", data, m.Route, err)
		}
		if len(b) > MaxMetaSize {
			t.Fatalf("re-encoded in %d bytes, limit %d", len(b), MaxMetaSize)
		}
		m2, err := DecodeMeta(b)
		if err != nil {
			t.Fatalf("re-encoded as %q, DecodeMeta refuses it: %v", b, err)
		}
		if !sameMeta(m2, m) {
			t.Fatalf("got %+v, want %+v", m2, m)
		}
	})
}

func FuzzParseNetwork(f *testing.F) {
	addGolden(f, "network")
	compact, err := json.Marshal(fixedNetwork())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(compact)
	for _, s := range []string{
		`{}`,
		`null`,
		`{"v":1,"name":"nordic-hubs","gossip_key":"AAAAAAAAAAAAAAAAAAAAAA=="}`,
		`{"v":1,"name":"Nordic Hubs","gossip_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		`{"v":1,"name":"abc","gossip_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","gossip_key":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseNetwork(data)
		if err != nil {
			checkValidationError(t, err)
			return
		}
		b, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		n2, err := ParseNetwork(b)
		if err != nil {
			t.Fatalf("re-encoded as %q, ParseNetwork refuses it: %v", b, err)
		}
		if n2.V != n.V || n2.Name != n.Name || !bytes.Equal(n2.GossipKey, n.GossipKey) || len(n2.AdmissionKeys) != len(n.AdmissionKeys) {
			t.Fatalf("got %+v, want %+v", n2, n)
		}
	})
}

func FuzzProfileValidate(f *testing.F) {
	addGolden(f, "profile")
	broken, err := json.Marshal(brokenProfile())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(broken)
	for _, s := range []string{
		`{}`,
		`null`,
		`{"id":"abc","name":"A","type":"DIH","country":"EL","languages":["el"]}`,
		`{"id":"abc","name":"\ud800","type":"SoE","country":"UK","regions":["UKI","UKI"],"languages":["en","EN"],` +
			`"capacity":{"x":{},"innovation-ecosystem":{"available":-1,"maximum":-2}},"sectors":{"":0}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Profile
		if json.Unmarshal(data, &p) != nil {
			return
		}
		err := p.Validate()
		if err != nil {
			checkValidationError(t, err)
			if again := p.Validate(); again == nil || again.Error() != err.Error() {
				t.Fatalf("second Validate: got %v, want %v", again, err)
			}
			return
		}
		// A valid profile can be sent, and stays valid on the other side.
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("valid profile, Marshal: %v", err)
		}
		var q Profile
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("valid profile re-encoded as %q: %v", b, err)
		}
	})
}

func FuzzValidLanguageTag(f *testing.F) {
	for _, seed := range []string{
		"en", "EN", "pt-BR", "sr-Latn-RS", "zh-yue-HK", "de-CH-1996", "es-419",
		"de-DE-u-co-phonebk", "en-a-bbb-x-a-ccc", "sl-rozaj-biske",
		"", "english", "en_GB", "en-", "-en", "en--GB", "i-klingon", "x-private", "en-x",
		"sl-rozaj-rozaj", "de-u-co-u-nu", "\u212Aa", "en-\xff", "eng",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		if !ValidLanguageTag(tag) {
			return
		}
		// What is valid is plain ASCII subtags of 1 to 8 letters and digits, whatever
		// its case, with a known language.
		for _, sub := range strings.Split(tag, "-") {
			if !isAlnum(sub, 1, 8) {
				t.Fatalf("%q valid, with subtag %q", tag, sub)
			}
		}
		if LanguageName(tag) == "" {
			t.Errorf("%q valid, without a language name", tag)
		}
		for _, other := range []string{strings.ToUpper(tag), strings.ToLower(tag), CanonicalLanguageTag(tag)} {
			if !ValidLanguageTag(other) {
				t.Errorf("%q valid, %q not", tag, other)
			}
		}
		// Private use may follow any valid tag; a stray separator may not.
		if !ValidLanguageTag(tag + "-x-hubnet") {
			t.Errorf("%q valid, %q not", tag, tag+"-x-hubnet")
		}
		for _, bad := range []string{tag + "-", "-" + tag, tag + "_x", " " + tag} {
			if ValidLanguageTag(bad) {
				t.Errorf("%q valid, want %q refused", tag, bad)
			}
		}
	})
}

// FuzzQuery feeds query bodies, as a live query or POST /v1/query carries them, to
// NewMatcher: a valid query must score and explain any valid profile without
// panicking, within 0 to 100; an invalid one must name its fields.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"v":1,"technologies":["ai-decision-support","robotics"],"family":"test-before-invest","sector":"10",` +
			`"region":"FI193","reach":"neighbours","languages":["fi","en"],"category":"small","min_capacity":1,` +
			`"types":["EDIH","SoE"],"text":"Food robot Müller","limit":5}`,
		`{"country":"FI","reach":"country","text":"ß ẞ a"}`,
		`{"region":"FI1","technologies":["x"],"min_capacity":-3,"types":["Seal of Excellence"]}`,
		`{"sector":"C","languages":["pt-BR","zz"],"text":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	profiles := []*Profile{
		hub("fuzz-fi", "FI", func(p *Profile) {
			p.Regions, p.Languages = []string{"FI19", "FI1B1"}, []string{"fi", "sv", "en"}
			p.Technologies = map[string]int{"ai-decision-support": 5, "robotics": 1}
			p.Services = map[string]int{"field-trial": 3}
			p.Sectors = map[string]int{"10": 4, "C": 2, "Q": 1}
			p.Categories = []Category{CategorySmall}
			p.Description = "Food robotics at the Müller factory"
			p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(0, 3)}
		}),
		hub("fuzz-empty", "XK", nil),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var q Query
		if json.Unmarshal(data, &q) != nil {
			return
		}
		m, err := NewMatcher(q)
		if err != nil {
			checkValidationError(t, err)
			return
		}
		for _, p := range profiles {
			c := NewCandidate(p)
			s, ok := m.Score(c)
			if s < 0 || s > 100 || s != s {
				t.Fatalf("score %v for %s", s, p.ID)
			}
			if r, rok := m.Rank(c); rok != ok || (ok && r.Score != s) {
				t.Fatalf("Rank disagrees with Score")
			}
			_ = m.Explain(c)
		}
	})
}

// FuzzReferralOffer feeds offer bodies, as a hub receives them on its referral subject,
// to ReferralOffer.Validate: it must not panic, must name the fields of what it
// refuses, and what it accepts must stay valid when the hub stores and sends it on.
func FuzzReferralOffer(f *testing.F) {
	offer := ReferralOffer{V: Version, Referral: validReferral()}
	for _, o := range []ReferralOffer{
		offer,
		func() ReferralOffer {
			o := offer
			o.Referral.Need.Maturity, o.Referral.Need.Technologies, o.Referral.History = nil, nil, nil
			return o
		}(),
		func() ReferralOffer {
			o := offer
			o.Referral.Need = Need{Sector: "ZZ", Region: "FI1C", Technologies: []string{"robotics", "robotics"},
				Description: strings.Repeat("x", MaxNeedLen+1), Maturity: &Maturity{Green: 101}}
			o.Referral.Consent.Until, o.Referral.Consent.Recipient = fixedTime, "hub-three"
			o.Referral.State, o.Referral.HeldFrom, o.Referral.Reason, o.Referral.Outcome = StateOnHold, StateAccepted, "x", "y"
			return o
		}(),
	} {
		e, err := Sign(testIdentity("hub-one"), TypeReferralOffer, "hub-two", o, fixedTime)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(e.Body))
	}
	for _, s := range []string{
		`{}`,
		`null`,
		`{"v":1,"referral":{"v":1,"id":"0196cdb2-4b00-7abc-8def-0123456789ab","from":"hub-one","to":"hub-two",` +
			`"created":"2025-05-14T09:30:00Z","state":"requested","need":{"sector":"C","region":"FI1C1","category":"micro",` +
			`"family":"skills-and-training","description":"\u00e4\ud800"},"consent":{"given_by":"owner",` +
			`"given_at":"2025-05-14T11:30:00+02:00","recipient":"hub-two","purpose":"p","until":"9999-12-31T23:59:59.999999999-23:59"},` +
			`"ack_by":"2025-05-15T09:30:00Z","decide_by":"2025-05-15T09:30:00Z","history":[]}}`,
		`{"V":1,"Referral":{"ID":"URN:UUID:0196CDB2-4B00-7ABC-8DEF-0123456789AB","state":"on-hold","held_from":"received",` +
			`"created":"0000-01-01T00:00:00+01:00","history":[{"by":"","event":"send"}]}}`,
	} {
		f.Add([]byte(s))
	}
	now := offerTime
	f.Fuzz(func(t *testing.T, data []byte) {
		var o ReferralOffer
		if json.Unmarshal(data, &o) != nil {
			return
		}
		err := o.Validate(now)
		if err != nil {
			checkValidationError(t, err)
			if again := o.Validate(now); again == nil || again.Error() != err.Error() {
				t.Fatalf("second Validate: got %v, want %v", again, err)
			}
			return
		}
		// What the receiver accepts it stores: the referral alone must validate.
		if err := o.Referral.Validate(); err != nil {
			t.Fatalf("valid offer, its referral not: %v", err)
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("valid offer, Marshal: %v", err)
		}
		var o2 ReferralOffer
		if err := json.Unmarshal(b, &o2); err != nil {
			t.Fatal(err)
		}
		if err := o2.Validate(now); err != nil {
			t.Fatalf("valid offer re-encoded as %q: %v", b, err)
		}
		if _, err := Next(o2.Referral.State, o2.Referral.HeldFrom, EventReceive, RoleSystem); err != nil {
			t.Fatalf("valid offer cannot be received: %v", err)
		}
	})
}

// FuzzReferralEvent feeds event bodies to ReferralEvent.Validate: it must not panic,
// must name the fields of what it refuses, and a valid event must stay valid
// re-encoded and be one the lifecycle knows.
func FuzzReferralEvent(f *testing.F) {
	for _, e := range []ReferralEvent{
		validEvent(),
		{V: Version, Referral: fixedReferralID, Event: EventAccept, At: fixedTime},
		{V: Version, Referral: fixedReferralID, Event: EventHold, At: fixedTime, Note: "How many lines?"},
		{V: Version, Referral: fixedReferralID, Event: EventComplete, At: fixedTime, Outcome: "service-delivered"},
		{V: Version, Referral: fixedReferralID, Event: EventFail, At: fixedTime, Reason: "sme-unreachable"},
		{V: Version, Referral: fixedReferralID, Event: EventCancel, At: fixedTime, Reason: "consent-withdrawn"},
		{V: Version, Referral: fixedReferralID, Event: EventSend, At: fixedTime, Reason: "x", Outcome: "y"},
	} {
		e, err := Sign(testIdentity("hub-two"), TypeReferralEvent, "hub-one", e, fixedTime)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(e.Body))
	}
	for _, s := range []string{
		`{}`,
		`null`,
		`{"v":1,"referral":"0196cdb2-4b00-7abc-8def-0123456789ab","event":"expire","at":"2025-05-14T09:30:00+02:00"}`,
		`{"v":1,"referral":"{0196cdb2-4b00-7abc-8def-0123456789ab}","event":"decline","at":"0001-01-01T00:00:00Z",` +
			`"reason":"needs-more-info","outcome":"other","note":"\ud800\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e ReferralEvent
		if json.Unmarshal(data, &e) != nil {
			return
		}
		err := e.Validate()
		if err != nil {
			checkValidationError(t, err)
			return
		}
		if !slices.Contains(Events, e.Event) || e.Event == EventSend || e.Event == EventReceive {
			t.Fatalf("valid event %q", e.Event)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("valid event, Marshal: %v", err)
		}
		var e2 ReferralEvent
		if err := json.Unmarshal(b, &e2); err != nil {
			t.Fatal(err)
		}
		if err := e2.Validate(); err != nil {
			t.Fatalf("valid event re-encoded as %q: %v", b, err)
		}
		// Some role may make it somewhere in the lifecycle.
		possible := false
		for _, p := range places() {
			for _, by := range allRoles {
				if _, err := Next(p.state, p.heldFrom, e.Event, by); err == nil {
					possible = true
				}
			}
		}
		if !possible {
			t.Fatalf("valid event %q that nothing allows", e.Event)
		}
	})
}

// fuzzIdentity returns hub id's identity, box key included, made from a fixed seed so
// that the seed corpus is the same in every run.
func fuzzIdentity(f *testing.F, id string) Identity {
	f.Helper()
	seed := sha256.Sum256([]byte("hubnet fuzz keys " + id))
	i, err := NewIdentity(id, bytes.NewReader(bytes.Repeat(seed[:], 4)))
	if err != nil {
		f.Fatal(err)
	}
	return i
}

// addSignedBodies adds the body of each value, as Sign encodes it, to the seed corpus.
func addSignedBodies[T any](f *testing.F, from Identity, typ, to string, values ...T) {
	f.Helper()
	for _, v := range values {
		e, err := Sign(from, typ, to, v, fixedTime)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(e.Body))
	}
}

// checkRoundTrip fails the test unless v, accepted by validate, encodes to JSON that
// decodes to a value validate accepts again and that encodes to the same bytes: what
// one hub accepts and passes on, the next one reads the same.
func checkRoundTrip[T any](t *testing.T, v *T, validate func(*T) error) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("accepted %+v, Marshal: %v", *v, err)
	}
	var v2 T
	if err := json.Unmarshal(b, &v2); err != nil {
		t.Fatalf("accepted, re-encoded as %q, which does not decode: %v", b, err)
	}
	if err := validate(&v2); err != nil {
		t.Fatalf("accepted, re-encoded as %q, then refused: %v", b, err)
	}
	b2, err := json.Marshal(&v2)
	if err != nil || !bytes.Equal(b2, b) {
		t.Fatalf("encoding again: got %q (err %v), want %q", b2, err, b)
	}
}

// FuzzReferralDetails feeds details bodies, as the receiving hub gets them after
// acceptance, to ReferralDetails.Validate and then OpenSME: neither may panic, the
// refusals name their fields, and what is accepted reads back the same.
func FuzzReferralDetails(f *testing.F) {
	one, two := fuzzIdentity(f, "hub-one"), fuzzIdentity(f, "hub-two")
	var details []ReferralDetails
	for i, sme := range []SME{validSME(), {Name: "x", ContactName: "y"}, {Name: "\xed\xa0\x80"}} {
		sealed, err := SealSME(sme, one, two.BoxPub, bytes.NewReader(bytes.Repeat([]byte{byte(i)}, 24)))
		if err != nil {
			f.Fatal(err)
		}
		details = append(details, ReferralDetails{V: Version, Referral: fixedReferralID, SME: sealed})
	}
	details = append(details, ReferralDetails{V: 2, Referral: strings.ToUpper(fixedReferralID),
		SME: Sealed{Nonce: make([]byte, 23), Box: make([]byte, MaxSealedSize+1)}})
	addSignedBodies(f, one, TypeReferralDetails, "hub-two", details...)
	for _, s := range []string{
		`{}`,
		`null`,
		`{"v":1,"referral":"0196cdb2-4b00-7abc-8def-0123456789ab","sme":{"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","box":"AAAAAAAAAAAAAAAAAAAAAAAA"}}`,
		`{"v":1,"referral":"0196cdb2-4b00-7abc-8def-0123456789ab","sme":{"nonce":"","box":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d ReferralDetails
		if json.Unmarshal(data, &d) != nil {
			return
		}
		err := d.Validate()
		if err != nil {
			checkValidationError(t, err)
			return
		}
		checkRoundTrip(t, &d, (*ReferralDetails).Validate)
		// Valid in form, it may still not open: then the error is a bad signature
		// (another key sealed it) or a body that is not an SME, never anything else.
		sme, err := OpenSME(d.SME, two, one.BoxPub)
		switch {
		case err == nil:
			if verr := sme.Validate(); verr != nil {
				checkValidationError(t, verr)
			}
		case errors.Is(err, ErrBadSignature):
		default:
			checkValidationError(t, err)
		}
	})
}

// FuzzReferralAck feeds acknowledgements, as the sending hub gets them back, to
// ReferralAck.Validate.
func FuzzReferralAck(f *testing.F) {
	two := fuzzIdentity(f, "hub-two")
	addSignedBodies(f, two, TypeReferralAck, "hub-one",
		validAck(),
		ReferralAck{V: Version, Message: fixedMessageID, Referral: fixedReferralID, Result: AckDuplicate},
		ReferralAck{V: Version, Message: fixedMessageID, Referral: fixedReferralID, Result: AckRefused,
			State: StateAccepted, Error: "decline by the receiver in state accepted: an accepted referral ends only as completed, failed or cancelled"},
		ReferralAck{V: 3, Message: "x", Referral: "", Result: "maybe", State: "lost", Error: strings.Repeat("é", 1001)},
	)
	for _, s := range []string{`{}`, `null`, `{"v":1,"message":"0196CDB2-3A58-7C41-9E2F-6D4B8A1C0F37","result":"applied","error":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a ReferralAck
		if json.Unmarshal(data, &a) != nil {
			return
		}
		if err := a.Validate(); err != nil {
			checkValidationError(t, err)
			return
		}
		if !canonicalUUID(a.Message) || !canonicalUUID(a.Referral) {
			t.Fatalf("valid ack with message %q and referral %q", a.Message, a.Referral)
		}
		checkRoundTrip(t, &a, (*ReferralAck).Validate)
	})
}

// FuzzQueryAnswer feeds answers to a live query, as the asking hub gets them, to
// QueryAnswer.Validate: what passes has a score from 0 to 100, a bounded list of
// reasons and valid capacities, and reads back the same.
func FuzzQueryAnswer(f *testing.F) {
	two := fuzzIdentity(f, "hub-two")
	p := hub("fuzz-fi", "FI", func(p *Profile) {
		p.Technologies = map[string]int{"ai-decision-support": 5, "robotics": 2}
		p.Capacity = map[Family]Capacity{FamilyTestBeforeInvest: capacity(4, 10)}
	})
	m, err := NewMatcher(Query{Technologies: []string{"robotics"}, Family: FamilyTestBeforeInvest, Region: "FI193"})
	if err != nil {
		f.Fatal(err)
	}
	c := NewCandidate(p)
	score, ok := m.Score(c)
	if !ok {
		f.Fatal("the seed profile does not match the seed query")
	}
	addSignedBodies(f, two, TypeQueryAnswer, "hub-one",
		QueryAnswer{V: Version, Query: fixedMessageID, Revision: 7, Match: true, Score: score, Reasons: m.Explain(c), Capacity: p.Capacity},
		QueryAnswer{V: Version, Query: fixedMessageID, Revision: 1},
		QueryAnswer{V: 0, Query: "nope", Score: 100.5, Reasons: make([]string, 17),
			Capacity: map[Family]Capacity{"x": {}, FamilySkills: {Available: -1}}},
	)
	for _, s := range []string{`{}`, `null`, `{"v":1,"query":"urn:uuid:0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37","score":1e308,"reasons":["\ud800"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a QueryAnswer
		if json.Unmarshal(data, &a) != nil {
			return
		}
		if err := a.Validate(); err != nil {
			checkValidationError(t, err)
			return
		}
		if a.Score < 0 || a.Score > 100 || len(a.Reasons) > maxAnswerReasons {
			t.Fatalf("valid answer with score %v and %d reasons", a.Score, len(a.Reasons))
		}
		checkRoundTrip(t, &a, (*QueryAnswer).Validate)
	})
}

// FuzzOpenProfile feeds profile bodies, signed by their hub as a profile fetch answers
// them, to OpenEnvelope and OpenProfile, as the directory does: what is refused is
// refused with a protocol error naming its fields; what is accepted is the sender's
// valid profile, and signing it again gives the same profile.
func FuzzOpenProfile(f *testing.F) {
	one := testIdentity("hub-one")
	addGolden(f, "profile")
	p := validProfile()
	p.ID = "hub-one"
	addSignedBodies(f, one, TypeProfile, "", p)
	p.ID = "hub-two"
	addSignedBodies(f, one, TypeProfile, "", p, brokenProfile())
	for _, s := range []string{`{}`, `null`, `[]`, `"profile"`, `{"id":"hub-one","name":"\u0000"}`} {
		f.Add([]byte(s))
	}
	pub := one.SignPublic()
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return // Sign refuses it: no hub sends it
		}
		env, err := Sign(one, TypeProfile, "", json.RawMessage(body), fixedTime)
		if err != nil {
			t.Fatalf("Sign a JSON body: %v", err)
		}
		wire, err := env.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := OpenEnvelope(wire)
		if err != nil {
			if len(wire) > MaxEnvelopeSize && errors.Is(err, ErrTooLarge) {
				return
			}
			t.Fatalf("a signed envelope of %d bytes refused: %v", len(wire), err)
		}
		p, err := OpenProfile(got, pub)
		if err != nil {
			checkValidationError(t, err)
			return
		}
		if p.ID != one.ID {
			t.Fatalf("accepted the profile of %q from %q", p.ID, one.ID)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted a profile that does not validate: %v", err)
		}
		again, err := SignProfile(one, p, fixedTime)
		if err != nil {
			t.Fatalf("accepted profile, SignProfile: %v", err)
		}
		p2, err := OpenProfile(again, pub)
		if err != nil {
			t.Fatalf("accepted profile signed again, then refused: %v", err)
		}
		b1, _ := json.Marshal(p)
		b2, _ := json.Marshal(p2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("signed again: got %s, want %s", b2, b1)
		}
	})
}

// FuzzEnvelopeDecode feeds the bodies the node decodes without a Validate of their
// own, signed as their type: a profile hint, and a wire error in answer to a request.
// A wire error decodes to a *Error whose code maps to a sentinel and back, or to a
// *ValidationError; a hint that decodes reads back the same.
func FuzzEnvelopeDecode(f *testing.F) {
	one := testIdentity("hub-one")
	addGolden(f, "error")
	for _, b := range []struct {
		typ  string
		body any
	}{
		{TypeError, WireError(ErrNotFound)},
		{TypeError, WireError(&ValidationError{What: "query", Problems: []FieldError{{Field: "v", Rule: "must be 1"}}})},
		{TypeError, Error{V: 1, Code: "no-such-code", Message: "x"}},
		{TypeProfileHint, ProfileHint{V: Version, ID: "hub-one", Revision: 12}},
		{TypeProfileHint, ProfileHint{V: 99, ID: "hub-two", Revision: math.MaxUint64}},
	} {
		e, err := Sign(one, b.typ, "", b.body, fixedTime)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(e.Body))
	}
	for _, s := range []string{`{}`, `null`, `{"code":""}`, `{"v":1,"id":"hub-one","revision":-1}`, `{"code":{}}`} {
		f.Add([]byte(s))
	}
	sentinels := []error{ErrInvalid, ErrBadSignature, ErrUnknownVersion, ErrWrongRecipient, ErrNotFound, ErrTooLarge, ErrInternal}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		// As a wire error.
		e := Envelope{V: Version, ID: fixedMessageID, Type: TypeError, From: one.ID, Time: fixedTime, Body: body}
		err := e.Decode(nil)
		var we *Error
		switch {
		case errors.As(err, &we):
			if !slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) }) {
				t.Fatalf("wire error %q maps to no sentinel", we.Code)
			}
			if back := WireError(we); back.Code != we.Code {
				t.Fatalf("WireError(%v): code %q, want %q", we, back.Code, we.Code)
			}
			if we.Unwrap() != ErrInternal {
				// A known code: made again from its sentinel, it is the same code.
				if again := WireError(fmt.Errorf("x: %w", we.Unwrap())); again.Code != we.Code {
					t.Fatalf("code %q maps to %v, which maps to %q", we.Code, we.Unwrap(), again.Code)
				}
			}
		default:
			checkValidationError(t, err)
		}
		// As a profile hint.
		e.Type = TypeProfileHint
		var h ProfileHint
		if err := e.Decode(&h); err != nil {
			checkValidationError(t, err)
			return
		}
		checkRoundTrip(t, &h, func(*ProfileHint) error { return nil })
	})
}

// FuzzParseProfileRequest: any bytes give a request of this version or an error,
// never a panic.
func FuzzParseProfileRequest(f *testing.F) {
	for _, s := range []string{`{"v":1}`, `{"v":99}`, `{"v":`, `null`, `{"v":1e400}`, `[]`, `{"v":1,"hub":"hub-b","revision":3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseProfileRequest(data)
		if err == nil && r.V != Version {
			t.Fatalf("accepted version %d", r.V)
		}
	})
}

// FuzzParseProfileHave: any bytes give a note of this version naming a holder, another
// hub and a revision, or an error naming what is wrong; never a panic.
func FuzzParseProfileHave(f *testing.F) {
	for _, s := range []string{`{"v":1,"id":"hub-a","hub":"hub-b","revision":3}`, `{"v":1,"id":"hub-a","hub":"hub-a","revision":3}`,
		`{"v":1,"id":"","hub":"","revision":0}`, `{"v":2,"id":"hub-a","hub":"hub-b","revision":3}`, `{"v":`, `null`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseProfileHave(data)
		if err != nil {
			return
		}
		if h.V != Version || h.ID == "" || h.Hub == "" || h.Hub == h.ID || h.Revision == 0 {
			t.Fatalf("accepted %+v", h)
		}
	})
}

// FuzzNeedNamesSME feeds descriptions and SME details to Need.NamesSME: it must not
// panic, each problem must be of the description and name one SME field once, and a
// description with the SME's name, contact person, e-mail or phone number put in must
// be refused for it.
func FuzzNeedNamesSME(f *testing.F) {
	s := validSME()
	f.Add(validNeed().Description, s.Name, s.ContactName, s.ContactEmail, s.ContactPhone, s.Website)
	f.Add("Leipomo Virtanen Oy, Aino Virtanen, +358 40 765 4321", s.Name, s.ContactName, s.ContactEmail, s.ContactPhone, s.Website)
	f.Add("A bakery wants a robot.", "Example Bakery Oy", "J. D.", "info@bakery.example", "12", "https://www.bakery.example")
	f.Add("Müller-Lüdenscheidt GmbH & Co. KG", "Müller Lüdenscheidt GmbH", "Straße", "ß@ß", "+49 (0)30 1234-567", "http://[::1]:80/")
	f.Add("\xed\xa0\x80 İstanbul 0 0 0 0 0 0 0", "İSTANBUL", "\xff", "@", "0000000", "https://xn--bcher-kva.example")
	f.Fuzz(func(t *testing.T, desc, name, contact, email, phone, website string) {
		sme := SME{Name: name, ContactName: contact, ContactEmail: email, ContactPhone: phone, Website: website}
		n := Need{Description: desc}
		got := n.NamesSME(sme)
		seen := map[string]bool{}
		for _, p := range got {
			if p.Field != "description" || !strings.HasPrefix(p.Rule, "must not name the SME: it contains ") || seen[p.Rule] {
				t.Fatalf("got problem %+v of %v, want one per SME field, of description", p, got)
			}
			seen[p.Rule] = true
		}
		if again := n.NamesSME(sme); !slices.Equal(again, got) {
			t.Fatalf("second call: got %v, want %v", again, got)
		}
		names := func(n Need, field string) bool {
			return slices.ContainsFunc(n.NamesSME(sme), func(p FieldError) bool { return strings.HasSuffix(p.Rule, "(sme."+field+")") })
		}
		for _, c := range []struct {
			field, value string
			named        bool // whether the value, put in, must be found
		}{
			{"name", name, len(significant(appendWords(nil, name))) > 0},
			{"contact_name", contact, len(significant(appendWords(nil, contact))) > 0},
			{"contact_email", email, strings.Contains(email, "@") && utf8.ValidString(desc) && utf8.ValidString(email)},
			{"contact_phone", phone, len(keepDigits(phone)) >= minPhoneDigits &&
				strings.Trim(phone, "0123456789 .-/()+") == ""}, // written as phone numbers are
		} {
			if with := (Need{Description: desc + " " + c.value + " "}); c.named && !names(with, c.field) {
				t.Fatalf("%q holds sme.%s %q, got %v", with.Description, c.field, c.value, with.NamesSME(sme))
			}
		}
	})
}
