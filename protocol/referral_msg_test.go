package protocol

import (
	"bytes"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// fixedReferralID is the ID of every fixture referral.
const fixedReferralID = "0196cdb2-4b00-7abc-8def-0123456789ab"

// offerTime is when the fixture offer arrives: a minute after it was sent.
var offerTime = fixedTime.Add(time.Minute)

func validNeed() Need {
	return Need{
		Sector:       "10",
		Region:       "FI1C1",
		Category:     CategorySmall,
		Family:       FamilyTestBeforeInvest,
		Technologies: []string{"ai-decision-support", "robotics"},
		Description:  "A bakery wants to test vision-based quality control on one line before it buys.",
		Maturity:     &Maturity{Strategy: 40, Readiness: 55, Human: 30, Data: 20, Automation: 35, Green: 10},
	}
}

func validConsent() Consent {
	return Consent{
		GivenBy:   "managing director",
		GivenAt:   fixedTime.Add(-time.Hour),
		Recipient: "hub-two",
		Purpose:   "referral to hub-two for a test-before-invest service",
		Until:     fixedTime.AddDate(0, 6, 0),
	}
}

// validReferral returns a referral as hub-one offers it to hub-two: requested, with the
// send in its history.
func validReferral() Referral {
	return Referral{
		V:        Version,
		ID:       fixedReferralID,
		From:     "hub-one",
		To:       "hub-two",
		Created:  fixedTime,
		State:    StateRequested,
		Need:     validNeed(),
		Consent:  validConsent(),
		AckBy:    fixedTime.Add(24 * time.Hour),
		DecideBy: fixedTime.Add(14 * 24 * time.Hour),
		History:  []Change{{At: fixedTime, By: "hub-one", Event: EventSend, From: StateDraft, To: StateRequested}},
	}
}

func validSME() SME {
	return SME{
		Name:         "Leipomo Virtanen Oy",
		Website:      "https://leipomo-virtanen.example.fi/",
		ContactName:  "Aino Virtanen",
		ContactEmail: "aino@leipomo-virtanen.example.fi",
		ContactPhone: "+358 40 765 4321",
	}
}

func validEvent() ReferralEvent {
	return ReferralEvent{V: Version, Referral: fixedReferralID, Event: EventDecline, At: fixedTime,
		Reason: "no-capacity", Note: "Full until September; try hub-three."}
}

func validAck() ReferralAck {
	return ReferralAck{V: Version, Message: fixedMessageID, Referral: fixedReferralID, Result: AckApplied, State: StateReceived}
}

func validKPI() KPIRecord {
	return KPIRecord{
		Kind: KPIServiceDelivered, Referral: fixedReferralID, Hub: "hub-two", Partner: "hub-one", Role: RoleReceiver,
		At: fixedTime, Category: CategorySmall, Sector: "10", Region: "FI1C1", Family: FamilyTestBeforeInvest,
		Technologies: []string{"robotics"}, Outcome: "service-delivered",
	}
}

// mustIdentity makes a hub with fresh keys, box key included.
func mustIdentity(t *testing.T, id string) Identity {
	t.Helper()
	i, err := NewIdentity(id, crand.Reader)
	if err != nil {
		t.Fatalf("NewIdentity: %v", err)
	}
	return i
}

// checkFields fails the test unless err names exactly the fields want, in order.
func checkFields(t *testing.T, err error, want []string) {
	t.Helper()
	if got := problemFields(t, err); !slices.Equal(got, want) {
		t.Errorf("got fields %v, want %v (%v)", got, want, err)
	}
}

func TestSealSME_roundTrip(t *testing.T) {
	one, two := mustIdentity(t, "hub-one"), mustIdentity(t, "hub-two")
	sme := validSME()
	s, err := SealSME(sme, one, two.BoxPub, crand.Reader)
	if err != nil {
		t.Fatalf("SealSME: %v", err)
	}
	if bytes.Contains(s.Box, []byte(sme.ContactEmail)) || bytes.Contains(s.Box, []byte(sme.Name)) {
		t.Errorf("the sealed box shows the SME's name or address")
	}
	got, err := OpenSME(s, two, one.BoxPub)
	if err != nil {
		t.Fatalf("OpenSME: %v", err)
	}
	if got != sme {
		t.Errorf("got %+v, want %+v", got, sme)
	}
	d := ReferralDetails{V: Version, Referral: fixedReferralID, SME: s}
	if err := d.Validate(); err != nil {
		t.Errorf("details of a sealed SME: got %v, want nil", err)
	}

	// Sealing again draws a new nonce: the same SME does not seal to the same bytes.
	s2, err := SealSME(sme, one, two.BoxPub, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(s2.Nonce, s.Nonce) || bytes.Equal(s2.Box, s.Box) {
		t.Errorf("two seals of one SME are the same")
	}
}

func TestOpenSME_refuses(t *testing.T) {
	one, two, three := mustIdentity(t, "hub-one"), mustIdentity(t, "hub-two"), mustIdentity(t, "hub-three")
	s, err := SealSME(validSME(), one, two.BoxPub, crand.Reader)
	if err != nil {
		t.Fatalf("SealSME: %v", err)
	}
	flip := func(b []byte, i int) []byte { b = slices.Clone(b); b[i] ^= 1; return b }
	// The sender itself is not in the list: nacl/box derives one key for the pair of
	// hubs, so the sealing hub can open what it sealed, which it knew anyway.
	tests := []struct {
		name string
		s    Sealed
		to   Identity
		from [32]byte
		want error
	}{
		{"a third hub", s, three, one.BoxPub, ErrBadSignature},
		{"the receiver, told the wrong sender", Sealed{s.Nonce, s.Box, three.BoxPub[:]}, two, one.BoxPub, ErrBadSignature},
		{"a sender key of the wrong size", Sealed{s.Nonce, s.Box, three.BoxPub[:31]}, two, one.BoxPub, ErrInvalid},
		{"tampered box, first byte", Sealed{s.Nonce, flip(s.Box, 0), s.From}, two, one.BoxPub, ErrBadSignature},
		{"tampered box, last byte", Sealed{s.Nonce, flip(s.Box, len(s.Box)-1), s.From}, two, one.BoxPub, ErrBadSignature},
		{"truncated box", Sealed{s.Nonce, s.Box[:len(s.Box)-1], s.From}, two, one.BoxPub, ErrBadSignature},
		{"empty box", Sealed{s.Nonce, nil, s.From}, two, one.BoxPub, ErrBadSignature},
		{"tampered nonce", Sealed{flip(s.Nonce, 3), s.Box, s.From}, two, one.BoxPub, ErrBadSignature},
		{"short nonce", Sealed{s.Nonce[:23], s.Box, s.From}, two, one.BoxPub, ErrInvalid},
		{"long nonce", Sealed{append(slices.Clone(s.Nonce), 0), s.Box, s.From}, two, one.BoxPub, ErrInvalid},
		{"no nonce", Sealed{nil, s.Box, s.From}, two, one.BoxPub, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OpenSME(tt.s, tt.to, tt.from)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %+v, %v, want an error matching %v", got, err, tt.want)
			}
			if got != (SME{}) {
				t.Errorf("refused, but got %+v", got)
			}
			if tt.want == ErrInvalid && len(tt.s.From) == 32 {
				checkFields(t, err, []string{"nonce"})
			}
		})
	}
}

func TestOpenSME_notAnSME(t *testing.T) {
	one, two := mustIdentity(t, "hub-one"), mustIdentity(t, "hub-two")
	var nonce [24]byte
	s := Sealed{Nonce: nonce[:], Box: box.Seal(nil, []byte("not JSON"), &nonce, &two.BoxPub, &one.BoxKey)}
	_, err := OpenSME(s, two, one.BoxPub)
	checkFields(t, err, []string{"(json)"})
}

func TestSealSME_noRandomness(t *testing.T) {
	one, two := mustIdentity(t, "hub-one"), mustIdentity(t, "hub-two")
	broken := errors.New("no entropy")
	if _, err := SealSME(validSME(), one, two.BoxPub, iotest.ErrReader(broken)); !errors.Is(err, broken) {
		t.Errorf("got %v, want an error wrapping %v", err, broken)
	}
}

// TestSealSME_largestFits seals the largest SME that validates, written in the
// characters JSON spells longest, and checks that its details still validate.
func TestSealSME_largestFits(t *testing.T) {
	one, two := mustIdentity(t, "hub-one"), mustIdentity(t, "hub-two")
	sme := SME{
		Name:         strings.Repeat("<", maxSMENameLen),
		Website:      "https://x.eu/" + strings.Repeat("<", maxWebsiteLen-len("https://x.eu/")),
		ContactName:  strings.Repeat(">", maxContactNameLen),
		ContactEmail: strings.Repeat("&", maxEmailLen-len("@x.eu")) + "@x.eu",
		ContactPhone: strings.Repeat("\u2028", maxPhoneLen),
	}
	if err := sme.Validate(); err != nil {
		t.Fatalf("the largest SME does not validate: %v", err)
	}
	s, err := SealSME(sme, one, two.BoxPub, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := ReferralDetails{V: Version, Referral: fixedReferralID, SME: s}
	if err := d.Validate(); err != nil {
		t.Errorf("box of %d bytes: %v", len(s.Box), err)
	}
	if got, err := OpenSME(s, two, one.BoxPub); err != nil || got != sme {
		t.Errorf("got %v, want the SME back", err)
	}
}

func TestNeed_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Need)
		want []string // nil: valid
	}{
		{"full", func(n *Need) {}, nil},
		{"no maturity, no technologies", func(n *Need) { n.Maturity, n.Technologies = nil, nil }, nil},
		{"sector a section", func(n *Need) { n.Sector = "C" }, nil},
		{"description of MaxNeedLen runes", func(n *Need) { n.Description = strings.Repeat("€", MaxNeedLen) }, nil},
		{"maturity at the bounds", func(n *Need) { n.Maturity = &Maturity{Strategy: 0, Green: 100} }, nil},
		{"public body", func(n *Need) { n.Category = CategoryPublic }, nil},

		{"sector missing", func(n *Need) { n.Sector = "" }, []string{"sector"}},
		{"sector unknown", func(n *Need) { n.Sector = "ZZ" }, []string{"sector"}},
		{"region missing", func(n *Need) { n.Region = "" }, []string{"region"}},
		{"region unknown", func(n *Need) { n.Region = "FI1C9" }, []string{"region"}},
		{"region lower case", func(n *Need) { n.Region = "fi1c1" }, []string{"region"}},
		{"region of level 2", func(n *Need) { n.Region = "FI1C" }, []string{"region"}},
		{"region a country", func(n *Need) { n.Region = "FI" }, []string{"region"}},
		{"category missing", func(n *Need) { n.Category = "" }, []string{"category"}},
		{"category unknown", func(n *Need) { n.Category = "large" }, []string{"category"}},
		{"family missing", func(n *Need) { n.Family = "" }, []string{"family"}},
		{"family unknown", func(n *Need) { n.Family = "consulting" }, []string{"family"}},
		{"technology unknown", func(n *Need) { n.Technologies = []string{"robotics", "AI"} }, []string{"technologies.1"}},
		{"technology twice", func(n *Need) { n.Technologies = []string{"robotics", "big-data", "robotics"} }, []string{"technologies.2"}},
		{"description missing", func(n *Need) { n.Description = "" }, []string{"description"}},
		{"description too long", func(n *Need) { n.Description = strings.Repeat("€", MaxNeedLen+1) }, []string{"description"}},
		{"description invalid UTF-8", func(n *Need) { n.Description = "Bäckerei \xff" }, []string{"description"}},
		{"maturity below 0", func(n *Need) { n.Maturity.Strategy = -1 }, []string{"maturity.strategy"}},
		{"maturity above 100", func(n *Need) { n.Maturity.Readiness, n.Maturity.Green = 101, 1000 },
			[]string{"maturity.readiness", "maturity.green"}},
		{"every dimension out of range", func(n *Need) { n.Maturity = &Maturity{-1, -1, -1, -1, -1, -1} },
			[]string{"maturity.strategy", "maturity.readiness", "maturity.human", "maturity.data", "maturity.automation", "maturity.green"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := validNeed()
			tt.edit(&n)
			err := n.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

func TestNeed_Validate_message(t *testing.T) {
	n := validNeed()
	n.Region, n.Maturity.Human = "FI1C", 120
	want := "invalid need: region: must be a NUTS 2021 code of level 3, such as FI1C1, got level 2; " +
		"maturity.human: must be 0 to 100, got 120"
	if err := n.Validate(); err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestConsent_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Consent)
		want []string
	}{
		{"good", func(c *Consent) {}, nil},
		{"given a little in the future: clock skew", func(c *Consent) { c.GivenAt = offerTime.Add(consentSkew) }, nil},
		{"ends a moment from now", func(c *Consent) { c.Until = offerTime.Add(time.Nanosecond) }, nil},
		{"given_by of 120 characters", func(c *Consent) { c.GivenBy = strings.Repeat("é", maxGivenByLen) }, nil},

		{"given_by missing", func(c *Consent) { c.GivenBy = "" }, []string{"given_by"}},
		{"given_by too long", func(c *Consent) { c.GivenBy = strings.Repeat("é", maxGivenByLen+1) }, []string{"given_by"}},
		{"given_at missing", func(c *Consent) { c.GivenAt = time.Time{} }, []string{"given_at"}},
		{"given_at in the future", func(c *Consent) { c.GivenAt = offerTime.Add(consentSkew + time.Second) }, []string{"given_at"}},
		{"recipient missing", func(c *Consent) { c.Recipient = "" }, []string{"recipient"}},
		{"recipient not a hub ID", func(c *Consent) { c.Recipient = "Hub Two" }, []string{"recipient"}},
		{"purpose missing", func(c *Consent) { c.Purpose = "" }, []string{"purpose"}},
		{"purpose too long", func(c *Consent) { c.Purpose = strings.Repeat("p", maxPurposeLen+1) }, []string{"purpose"}},
		{"until missing", func(c *Consent) { c.Until = time.Time{} }, []string{"until"}},
		{"until when given", func(c *Consent) { c.Until = c.GivenAt }, []string{"until"}},
		{"until before given", func(c *Consent) { c.Until = c.GivenAt.Add(-time.Second) }, []string{"until"}},
		{"ended", func(c *Consent) { c.Until = offerTime.Add(-time.Second) }, []string{"until"}},
		{"ends now", func(c *Consent) { c.Until = offerTime }, []string{"until"}},
		{"everything missing", func(c *Consent) { *c = Consent{} }, []string{"given_by", "given_at", "recipient", "purpose", "until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConsent()
			tt.edit(&c)
			err := c.Validate(offerTime)
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

func TestSME_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*SME)
		want []string
	}{
		{"full", func(s *SME) {}, nil},
		{"name and contact only", func(s *SME) { *s = SME{Name: "Oy", ContactName: "A"} }, nil},
		{"http website", func(s *SME) { s.Website = "http://sme.example.eu/shop?q=1" }, nil},
		{"name of 200 characters", func(s *SME) { s.Name = strings.Repeat("ö", maxSMENameLen) }, nil},

		{"name missing", func(s *SME) { s.Name = "" }, []string{"name"}},
		{"name too long", func(s *SME) { s.Name = strings.Repeat("ö", maxSMENameLen+1) }, []string{"name"}},
		{"name invalid UTF-8", func(s *SME) { s.Name = "Oy \xc3" }, []string{"name"}},
		{"website without scheme", func(s *SME) { s.Website = "sme.example.eu" }, []string{"website"}},
		{"website not http", func(s *SME) { s.Website = "ftp://sme.example.eu/" }, []string{"website"}},
		{"website without host", func(s *SME) { s.Website = "https://" }, []string{"website"}},
		{"website too long", func(s *SME) { s.Website = "https://x.eu/" + strings.Repeat("a", maxWebsiteLen) }, []string{"website"}},
		{"contact name missing", func(s *SME) { s.ContactName = "" }, []string{"contact_name"}},
		{"contact name too long", func(s *SME) { s.ContactName = strings.Repeat("a", maxContactNameLen+1) }, []string{"contact_name"}},
		{"e-mail with a name", func(s *SME) { s.ContactEmail = "Aino <aino@sme.example.eu>" }, []string{"contact_email"}},
		{"e-mail without domain", func(s *SME) { s.ContactEmail = "aino" }, []string{"contact_email"}},
		{"e-mail too long", func(s *SME) { s.ContactEmail = strings.Repeat("a", maxEmailLen) + "@x.eu" }, []string{"contact_email"}},
		{"phone too long", func(s *SME) { s.ContactPhone = strings.Repeat("1", maxPhoneLen+1) }, []string{"contact_phone"}},
		{"everything wrong", func(s *SME) { *s = SME{Website: "x", ContactEmail: "x", ContactPhone: strings.Repeat("1", 41)} },
			[]string{"name", "website", "contact_name", "contact_email", "contact_phone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSME()
			tt.edit(&s)
			err := s.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

func TestReferral_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Referral)
		want []string
	}{
		{"as offered", func(r *Referral) {}, nil},
		{"consent ended long ago: a stored referral stays valid", func(r *Referral) { r.Consent.Until = fixedTime.Add(time.Hour) }, nil},
		{"decide_by when ack_by", func(r *Referral) { r.DecideBy = r.AckBy }, nil},
		{"on hold from received", func(r *Referral) { r.State, r.HeldFrom = StateOnHold, StateReceived }, nil},
		{"on hold from in-progress", func(r *Referral) { r.State, r.HeldFrom = StateOnHold, StateInProgress }, nil},
		{"rejected with a decline reason", func(r *Referral) { r.State, r.Reason = StateRejected, "duplicate" }, nil},
		{"failed with a fail reason", func(r *Referral) { r.State, r.Reason = StateFailed, "sme-unreachable" }, nil},
		{"cancelled with a cancel reason", func(r *Referral) { r.State, r.Reason = StateCancelled, "consent-withdrawn" }, nil},
		{"completed with an outcome", func(r *Referral) { r.State, r.Outcome = StateCompleted, "referred-on" }, nil},
		{"no history", func(r *Referral) { r.History = nil }, nil},
		{"history of MaxHistory entries", func(r *Referral) { r.History = slices.Repeat(r.History, MaxHistory) }, nil},
		{"history by the receiver", func(r *Referral) {
			r.History = append(r.History, Change{At: fixedTime, By: "hub-two", Event: EventReceive, From: StateRequested, To: StateReceived, Note: strings.Repeat("n", MaxNoteLen)})
		}, nil},

		{"version 0", func(r *Referral) { r.V = 0 }, []string{"v"}},
		{"version 2", func(r *Referral) { r.V = 2 }, []string{"v"}},
		{"id missing", func(r *Referral) { r.ID = "" }, []string{"id"}},
		{"id not a UUID", func(r *Referral) { r.ID = "referral-1" }, []string{"id"}},
		{"id upper case", func(r *Referral) { r.ID = strings.ToUpper(fixedReferralID) }, []string{"id"}},
		{"id as a URN", func(r *Referral) { r.ID = "urn:uuid:" + fixedReferralID }, []string{"id"}},
		{"id without dashes", func(r *Referral) { r.ID = strings.ReplaceAll(fixedReferralID, "-", "") }, []string{"id"}},
		{"id a UUIDv4", func(r *Referral) { r.ID = "9b2e4c1a-6f3d-4e8b-a1c7-2d5f8e9b0a13" }, []string{"id"}},
		{"from missing", func(r *Referral) { r.From = "" }, []string{"from", "history.0.by"}},
		{"to not a hub ID", func(r *Referral) { r.To = "Hub_Two" }, []string{"to"}},
		{"to the sender itself", func(r *Referral) { r.To, r.Consent.Recipient = "hub-one", "hub-one" }, []string{"to"}},
		{"created missing", func(r *Referral) { r.Created = time.Time{} }, []string{"created"}},
		{"state unknown", func(r *Referral) { r.State = "open" }, []string{"state"}},
		{"state missing", func(r *Referral) { r.State = "" }, []string{"state"}},
		{"held_from while received", func(r *Referral) { r.State, r.HeldFrom = StateReceived, StateReceived }, []string{"held_from"}},
		{"on hold without held_from", func(r *Referral) { r.State = StateOnHold }, []string{"held_from"}},
		{"on hold from accepted", func(r *Referral) { r.State, r.HeldFrom = StateOnHold, StateAccepted }, []string{"held_from"}},
		{"need broken", func(r *Referral) { r.Need.Sector, r.Need.Technologies = "", []string{"x"} },
			[]string{"need.sector", "need.technologies.0"}},
		{"consent broken", func(r *Referral) { r.Consent.GivenBy, r.Consent.Until = "", r.Consent.GivenAt },
			[]string{"consent.given_by", "consent.until"}},
		{"consent for another hub", func(r *Referral) { r.Consent.Recipient = "hub-three" }, []string{"consent.recipient"}},
		{"consent recipient not a hub ID", func(r *Referral) { r.Consent.Recipient = "" }, []string{"consent.recipient"}},
		{"ack_by missing", func(r *Referral) { r.AckBy = time.Time{} }, []string{"ack_by"}},
		{"ack_by when created", func(r *Referral) { r.AckBy = r.Created }, []string{"ack_by"}},
		{"decide_by missing", func(r *Referral) { r.DecideBy = time.Time{} }, []string{"decide_by"}},
		{"decide_by before created", func(r *Referral) { r.DecideBy = r.Created.Add(-time.Hour) }, []string{"decide_by"}},
		{"decide_by before ack_by", func(r *Referral) { r.DecideBy = r.AckBy.Add(-time.Second) }, []string{"decide_by"}},
		{"reason unknown", func(r *Referral) { r.Reason = "bored" }, []string{"reason"}},
		{"rejected with a cancel reason", func(r *Referral) { r.State, r.Reason = StateRejected, "consent-withdrawn" }, []string{"reason"}},
		{"cancelled with a decline reason", func(r *Referral) { r.State, r.Reason = StateCancelled, "no-capacity" }, []string{"reason"}},
		{"outcome unknown", func(r *Referral) { r.State, r.Outcome = StateCompleted, "great" }, []string{"outcome"}},
		{"outcome while in progress", func(r *Referral) { r.State, r.Outcome = StateInProgress, "other" }, []string{"outcome"}},
		{"history too long", func(r *Referral) { r.History = slices.Repeat(r.History, MaxHistory+1) }, []string{"history"}},
		{"history by a third hub", func(r *Referral) { r.History[0].By = "hub-three" }, []string{"history.0.by"}},
		{"history entry broken", func(r *Referral) {
			r.History = append(r.History, Change{By: "hub-two", Event: "poke", From: "x", To: "y", Note: strings.Repeat("n", MaxNoteLen+1)})
		}, []string{"history.1.at", "history.1.event", "history.1.from", "history.1.to", "history.1.note"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validReferral()
			tt.edit(&r)
			err := r.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

func TestReferral_Validate_allProblems(t *testing.T) {
	r := Referral{State: StateOnHold, Need: Need{Maturity: &Maturity{Data: -5}}, Reason: "x", Outcome: "other",
		History: []Change{{}}}
	checkFields(t, r.Validate(), []string{
		"v", "id", "from", "to", "created", "held_from",
		"need.sector", "need.region", "need.category", "need.family", "need.description", "need.maturity.data",
		"consent.given_by", "consent.given_at", "consent.recipient", "consent.purpose", "consent.until",
		"ack_by", "decide_by", "reason", "outcome",
		"history.0.at", "history.0.event", "history.0.from", "history.0.to",
	})
	var ve *ValidationError
	if err := r.Validate(); !errors.As(err, &ve) || ve.What != "referral" {
		t.Errorf("got %v, want a *ValidationError of a referral", err)
	}
}

func TestReferralOffer_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*ReferralOffer)
		now  time.Time // zero: offerTime
		want []string
	}{
		{"as sent", func(o *ReferralOffer) {}, time.Time{}, nil},
		{"consent given just now, by a clock a little ahead", func(o *ReferralOffer) { o.Referral.Consent.GivenAt = offerTime.Add(5 * time.Minute) }, time.Time{}, nil},

		{"version 0", func(o *ReferralOffer) { o.V = 0 }, time.Time{}, []string{"v"}},
		{"referral of version 2", func(o *ReferralOffer) { o.Referral.V = 2 }, time.Time{}, []string{"referral.v"}},
		{"referral id broken", func(o *ReferralOffer) { o.Referral.ID = "1" }, time.Time{}, []string{"referral.id"}},
		{"already received", func(o *ReferralOffer) { o.Referral.State = StateReceived }, time.Time{}, []string{"referral.state"}},
		{"a draft", func(o *ReferralOffer) { o.Referral.State = StateDraft }, time.Time{}, []string{"referral.state"}},
		{"state unknown, named once", func(o *ReferralOffer) { o.Referral.State = "new" }, time.Time{}, []string{"referral.state"}},
		{"need region of level 2", func(o *ReferralOffer) { o.Referral.Need.Region = "FI1C" }, time.Time{}, []string{"referral.need.region"}},
		{"consent for another hub", func(o *ReferralOffer) { o.Referral.Consent.Recipient = "hub-three" }, time.Time{}, []string{"referral.consent.recipient"}},
		{"consent ended before it arrived", func(o *ReferralOffer) {}, validConsent().Until, []string{"referral.consent.until"}},
		{"consent given in the future", func(o *ReferralOffer) { o.Referral.Consent.GivenAt = offerTime.Add(time.Hour) }, time.Time{}, []string{"referral.consent.given_at"}},
		{"consent missing", func(o *ReferralOffer) { o.Referral.Consent = Consent{} }, time.Time{},
			[]string{"referral.consent.given_by", "referral.consent.given_at", "referral.consent.recipient", "referral.consent.purpose", "referral.consent.until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ReferralOffer{V: Version, Referral: validReferral()}
			tt.edit(&o)
			now := tt.now
			if now.IsZero() {
				now = offerTime
			}
			err := o.Validate(now)
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

func TestReferralEvent_Validate(t *testing.T) {
	ev := func(e Event, reason, outcome string) func(*ReferralEvent) {
		return func(x *ReferralEvent) { x.Event, x.Reason, x.Outcome, x.Note = e, reason, outcome, "" }
	}
	tests := []struct {
		name string
		edit func(*ReferralEvent)
		want []string
	}{
		{"decline with a note", func(e *ReferralEvent) {}, nil},
		{"accept", ev(EventAccept, "", ""), nil},
		{"hold", ev(EventHold, "", ""), nil},
		{"answer", ev(EventAnswer, "", ""), nil},
		{"start", ev(EventStart, "", ""), nil},
		{"complete", ev(EventComplete, "", "service-delivered"), nil},
		{"fail", ev(EventFail, "sme-unreachable", ""), nil},
		{"cancel", ev(EventCancel, "consent-withdrawn", ""), nil},
		{"expire", ev(EventExpire, "", ""), nil},
		{"note of MaxNoteLen characters", func(e *ReferralEvent) { e.Note = strings.Repeat("ü", MaxNoteLen) }, nil},

		{"version 2", func(e *ReferralEvent) { e.V = 2 }, []string{"v"}},
		{"referral missing", func(e *ReferralEvent) { e.Referral = "" }, []string{"referral"}},
		{"referral in braces", func(e *ReferralEvent) { e.Referral = "{" + fixedReferralID + "}" }, []string{"referral"}},
		{"send", ev(EventSend, "", ""), []string{"event"}},
		{"receive", ev(EventReceive, "", ""), []string{"event"}},
		{"event missing", ev("", "", ""), []string{"event"}},
		{"event unknown", ev("approve", "", ""), []string{"event"}},
		{"at missing", func(e *ReferralEvent) { e.At = time.Time{} }, []string{"at"}},
		{"decline without reason", ev(EventDecline, "", ""), []string{"reason"}},
		{"decline with a fail reason", ev(EventDecline, "sme-unreachable", ""), []string{"reason"}},
		{"fail without reason", ev(EventFail, "", ""), []string{"reason"}},
		{"fail with a cancel reason", ev(EventFail, "consent-withdrawn", ""), []string{"reason"}},
		{"cancel without reason", ev(EventCancel, "", ""), []string{"reason"}},
		{"cancel with a decline reason", ev(EventCancel, "redirected", ""), []string{"reason"}},
		{"complete without outcome", ev(EventComplete, "", ""), []string{"outcome"}},
		{"complete with an unknown outcome", ev(EventComplete, "", "great"), []string{"outcome"}},
		{"complete with a reason", ev(EventComplete, "other", "other"), []string{"reason"}},
		{"accept with a reason", ev(EventAccept, "no-capacity", ""), []string{"reason"}},
		{"decline with an outcome", ev(EventDecline, "duplicate", "other"), []string{"outcome"}},
		{"note too long", func(e *ReferralEvent) { e.Note = strings.Repeat("ü", MaxNoteLen+1) }, []string{"note"}},
		{"note invalid UTF-8", func(e *ReferralEvent) { e.Note = "\xed\xa0\x80" }, []string{"note"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEvent()
			tt.edit(&e)
			err := e.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

func TestReferralEvent_Validate_message(t *testing.T) {
	e := validEvent()
	e.Reason = ""
	want := "invalid referral event: reason: is required for decline: one of " + strings.Join(DeclineReasons, ", ")
	if err := e.Validate(); err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestReferralDetails_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*ReferralDetails)
		want []string
	}{
		{"good", func(d *ReferralDetails) {}, nil},
		{"box of MaxSealedSize bytes", func(d *ReferralDetails) { d.SME.Box = make([]byte, MaxSealedSize) }, nil},

		{"version 0", func(d *ReferralDetails) { d.V = 0 }, []string{"v"}},
		{"referral not a UUID", func(d *ReferralDetails) { d.Referral = "x" }, []string{"referral"}},
		{"nonce missing", func(d *ReferralDetails) { d.SME.Nonce = nil }, []string{"sme.nonce"}},
		{"nonce of 23 bytes", func(d *ReferralDetails) { d.SME.Nonce = d.SME.Nonce[:23] }, []string{"sme.nonce"}},
		{"nonce of 32 bytes", func(d *ReferralDetails) { d.SME.Nonce = make([]byte, 32) }, []string{"sme.nonce"}},
		{"box missing", func(d *ReferralDetails) { d.SME.Box = nil }, []string{"sme.box"}},
		{"box no longer than its tag", func(d *ReferralDetails) { d.SME.Box = make([]byte, 16) }, []string{"sme.box"}},
		{"box too large", func(d *ReferralDetails) { d.SME.Box = make([]byte, MaxSealedSize+1) }, []string{"sme.box"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ReferralDetails{V: Version, Referral: fixedReferralID, SME: Sealed{Nonce: make([]byte, 24), Box: make([]byte, 200)}}
			tt.edit(&d)
			err := d.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

func TestReferralAck_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*ReferralAck)
		want []string
	}{
		{"applied", func(a *ReferralAck) {}, nil},
		{"duplicate without state", func(a *ReferralAck) { a.Result, a.State = AckDuplicate, "" }, nil},
		{"refused with an error of 1000 characters", func(a *ReferralAck) {
			a.Result, a.Error = AckRefused, strings.Repeat("e", maxAckErrorLen)
		}, nil},

		{"version 2", func(a *ReferralAck) { a.V = 2 }, []string{"v"}},
		{"message missing", func(a *ReferralAck) { a.Message = "" }, []string{"message"}},
		{"message upper case", func(a *ReferralAck) { a.Message = strings.ToUpper(fixedMessageID) }, []string{"message"}},
		{"referral missing", func(a *ReferralAck) { a.Referral = "" }, []string{"referral"}},
		{"result missing", func(a *ReferralAck) { a.Result = "" }, []string{"result"}},
		{"result unknown", func(a *ReferralAck) { a.Result = "ok" }, []string{"result"}},
		{"state unknown", func(a *ReferralAck) { a.State = "done" }, []string{"state"}},
		{"error too long", func(a *ReferralAck) { a.Error = strings.Repeat("e", maxAckErrorLen+1) }, []string{"error"}},
		{"everything wrong", func(a *ReferralAck) { *a = ReferralAck{State: "x", Error: "\xff"} },
			[]string{"v", "message", "referral", "result", "state", "error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validAck()
			tt.edit(&a)
			err := a.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

func TestKPIRecord_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*KPIRecord)
		want []string
	}{
		{"service delivered", func(k *KPIRecord) {}, nil},
		{"collaboration, by the sender", func(k *KPIRecord) {
			k.Kind, k.Role, k.Hub, k.Partner, k.Outcome = KPICollaboration, RoleSender, "hub-one", "hub-two", ""
		}, nil},
		{"collaboration, by the receiver", func(k *KPIRecord) { k.Kind = KPICollaboration }, nil},
		{"no technologies", func(k *KPIRecord) { k.Technologies = nil }, nil},

		{"kind missing", func(k *KPIRecord) { k.Kind = "" }, []string{"kind"}},
		{"kind unknown", func(k *KPIRecord) { k.Kind = "referral" }, []string{"kind"}},
		{"referral not a UUID", func(k *KPIRecord) { k.Referral = "r-1" }, []string{"referral"}},
		{"hub missing", func(k *KPIRecord) { k.Hub = "" }, []string{"hub"}},
		{"partner not a hub ID", func(k *KPIRecord) { k.Partner = "-x-" }, []string{"partner"}},
		{"partner the hub itself", func(k *KPIRecord) { k.Partner = k.Hub }, []string{"partner"}},
		{"role system", func(k *KPIRecord) { k.Role = RoleSystem }, []string{"role"}},
		{"role missing", func(k *KPIRecord) { k.Role = "" }, []string{"role"}},
		{"service delivered counted by the sender", func(k *KPIRecord) { k.Role = RoleSender }, []string{"role"}},
		{"at missing", func(k *KPIRecord) { k.At = time.Time{} }, []string{"at"}},
		{"category unknown", func(k *KPIRecord) { k.Category = "sme" }, []string{"category"}},
		{"sector unknown", func(k *KPIRecord) { k.Sector = "100" }, []string{"sector"}},
		{"region of level 1", func(k *KPIRecord) { k.Region = "FI1" }, []string{"region"}},
		{"family missing", func(k *KPIRecord) { k.Family = "" }, []string{"family"}},
		{"technology twice", func(k *KPIRecord) { k.Technologies = []string{"robotics", "robotics"} }, []string{"technologies.1"}},
		{"outcome unknown", func(k *KPIRecord) { k.Outcome = "done" }, []string{"outcome"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := validKPI()
			tt.edit(&k)
			err := k.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkFields(t, err, tt.want)
		})
	}
}

// TestReferralMessages_roundTrip sends each referral message as a hub sends it: signed
// in an envelope, encoded, then opened, verified and decoded at the other hub.
func TestReferralMessages_roundTrip(t *testing.T) {
	one, two := mustIdentity(t, "hub-one"), mustIdentity(t, "hub-two")
	sealed, err := SealSME(validSME(), one, two.BoxPub, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	complete := ReferralEvent{V: Version, Referral: fixedReferralID, Event: EventComplete, At: fixedTime, Outcome: "partially-delivered"}
	tests := []struct {
		typ      string
		from, to Identity
		body     any               // a pointer to the message
		validate func(v any) error // validates a decoded message of the body's type
	}{
		{TypeReferralOffer, one, two, &ReferralOffer{V: Version, Referral: validReferral()},
			func(v any) error { return v.(*ReferralOffer).Validate(offerTime) }},
		{TypeReferralEvent, two, one, ptr(validEvent()), func(v any) error { return v.(*ReferralEvent).Validate() }},
		{TypeReferralEvent, two, one, &complete, func(v any) error { return v.(*ReferralEvent).Validate() }},
		{TypeReferralDetails, one, two, &ReferralDetails{V: Version, Referral: fixedReferralID, SME: sealed},
			func(v any) error { return v.(*ReferralDetails).Validate() }},
		{TypeReferralAck, two, one, ptr(validAck()), func(v any) error { return v.(*ReferralAck).Validate() }},
		{TypeReferralAck, one, two, &ReferralAck{V: Version, Message: fixedMessageID, Referral: fixedReferralID,
			Result: AckRefused, Error: "accept by the sender in state received: only the receiver may do that"},
			func(v any) error { return v.(*ReferralAck).Validate() }},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			if err := tt.validate(tt.body); err != nil {
				t.Fatalf("the message sent does not validate: %v", err)
			}
			e, err := Sign(tt.from, tt.typ, tt.to.ID, tt.body, fixedTime)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			data := mustMarshal(t, e)
			got, err := OpenEnvelope(data)
			if err != nil {
				t.Fatalf("OpenEnvelope: %v", err)
			}
			if err := got.Verify(tt.from.SignPublic()); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Type != tt.typ || got.From != tt.from.ID || got.To != tt.to.ID {
				t.Errorf("got %s from %s to %s, want %s from %s to %s", got.Type, got.From, got.To, tt.typ, tt.from.ID, tt.to.ID)
			}
			body := reflect.New(reflect.TypeOf(tt.body).Elem()).Interface()
			if err := got.Decode(body); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if err := tt.validate(body); err != nil {
				t.Errorf("the message received does not validate: %v", err)
			}
			if !reflect.DeepEqual(body, tt.body) {
				t.Errorf("got %+v, want %+v", body, tt.body)
			}
		})
	}
	// The SME's details open at the receiver after the trip.
	var d ReferralDetails
	e, err := Sign(one, TypeReferralDetails, two.ID, ReferralDetails{V: Version, Referral: fixedReferralID, SME: sealed}, fixedTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if sme, err := OpenSME(d.SME, two, one.BoxPub); err != nil || sme != validSME() {
		t.Errorf("got %+v, %v, want the SME", sme, err)
	}
}

// TestReferral_JSON pins the field names other hubs read.
func TestReferral_JSON(t *testing.T) {
	r := validReferral()
	r.State, r.HeldFrom = StateOnHold, StateReceived
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"ack_by", "consent", "created", "decide_by", "from", "held_from", "history", "id", "need", "state", "to", "v"}
	if !slices.Equal(keys, want) {
		t.Errorf("got keys %v, want %v", keys, want)
	}
}

func ptr[T any](v T) *T { return &v }

// A hub that rolled its box key opens what was sealed to its old one, given the old
// private key; the sealed value names the sender's key it was sealed with.
func TestOpenSME_earlierKey(t *testing.T) {
	one, two := mustIdentity(t, "hub-one"), mustIdentity(t, "hub-two")
	s, err := SealSME(validSME(), one, two.BoxPub, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rolled := mustIdentity(t, "hub-two")
	if _, err := OpenSME(s, rolled, one.BoxPub); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("new key alone: got %v, want ErrBadSignature", err)
	}
	got, err := OpenSME(s, rolled, [32]byte{}, two.BoxKey)
	if err != nil || got != validSME() {
		t.Errorf("with the earlier key: got %+v, %v; want the SME", got, err)
	}
}
