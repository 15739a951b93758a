package protocol

import (
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/nacl/box"
)

// Limits of a referral and its messages.
const (
	MaxNeedLen    = 4000     // characters of a need's description
	MaxNoteLen    = 2000     // characters of a note on an event or in the history
	MaxHistory    = 1000     // entries in a referral's history
	MaxSealedSize = 16 << 10 // bytes of a sealed box
)

// Limits of the other free-text fields, in characters (e-mail: bytes, as RFC 5321).
const (
	maxGivenByLen     = 120
	maxPurposeLen     = 500
	maxSMENameLen     = 200
	maxContactNameLen = 120
	maxPhoneLen       = 40
	maxEmailLen       = 254
	maxWebsiteLen     = 2000
	maxAckErrorLen    = 1000
	maxScore          = 100
)

// consentSkew is how far in the future a consent's given_at may lie: the clocks of
// the advisor's browser, the sending hub and the receiving hub differ a little.
const consentSkew = 10 * time.Minute

const (
	sectorRule = "must be a NACE Rev. 2 section (A-U) or division (01-99)"
	familyRule = "must be a service family: test-before-invest, skills-and-training, support-to-find-investments, innovation-ecosystem or digital-maturity-assessment"
	uuidRule   = "must be a UUIDv7 in canonical form, such as 0196cdb2-3a58-7c41-9e2f-6d4b8a1c0f37"
)

// Validate checks the need and returns all problems at once as a *ValidationError.
func (n *Need) Validate() error {
	v := problems{what: "need"}
	n.check(&v, "")
	return v.err()
}

// check adds the need's problems to v, each field prefixed with p.
func (n *Need) check(v *problems, p string) {
	needCodes(v, p, n.Sector, n.Region, n.Category, n.Family, n.Technologies)
	text(v, p+"description", n.Description, 1, MaxNeedLen)
	if m := n.Maturity; m != nil {
		for _, d := range []struct {
			name  string
			score int
		}{
			{"strategy", m.Strategy}, {"readiness", m.Readiness}, {"human", m.Human},
			{"data", m.Data}, {"automation", m.Automation}, {"green", m.Green},
		} {
			if d.score < 0 || d.score > maxScore {
				v.add(p+"maturity."+d.name, "must be 0 to %d, got %d", maxScore, d.score)
			}
		}
	}
}

// needCodes checks the coded fields a need and a KPI record share.
func needCodes(v *problems, p, sector, region string, c Category, f Family, techs []string) {
	switch _, ok := SectorByCode(sector); {
	case !ok && sector == "":
		v.add(p+"sector", sectorRule)
	case !ok:
		v.add(p+"sector", "%s", SectorVocab.Rule(sector))
	}
	switch r, ok := RegionByCode(region); {
	case !ok && region == "":
		v.add(p+"region", "is required: a NUTS 2021 code of level 3, such as FI1C1")
	case !ok:
		v.add(p+"region", "%s", RegionVocab.Rule(region))
	case r.Level != 3:
		v.add(p+"region", "must be a NUTS 2021 code of level 3, such as FI1C1, got level %d", r.Level)
	}
	switch {
	case c == "":
		v.add(p+"category", "must be a customer category: %s", categoryList)
	case !ValidCategory(string(c)):
		v.add(p+"category", "%s", CategoryVocab.Rule(string(c)))
	}
	switch _, ok := FamilyBySlug(string(f)); {
	case !ok && f == "":
		v.add(p+"family", familyRule)
	case !ok:
		v.add(p+"family", "%s", FamilyVocab.Rule(string(f)))
	}
	list(v, p+"technologies", techs, TechnologyVocab)
}

// Validate checks the consent as it must be at time now: complete, given (give or take
// a few minutes of clock skew) and not yet ended.
func (c *Consent) Validate(now time.Time) error {
	v := problems{what: "consent"}
	c.check(&v, "")
	c.checkAt(&v, "", now)
	return v.err()
}

// check adds the problems of the consent that do not depend on the clock, so that a
// stored referral validates whenever it is read again.
func (c *Consent) check(v *problems, p string) {
	text(v, p+"given_by", c.GivenBy, 1, maxGivenByLen)
	if c.GivenAt.IsZero() {
		v.add(p+"given_at", "is required")
	}
	if !ValidID(c.Recipient) {
		v.add(p+"recipient", idRule)
	}
	text(v, p+"purpose", c.Purpose, 1, maxPurposeLen)
	switch {
	case c.Until.IsZero():
		v.add(p+"until", "is required")
	case !c.GivenAt.IsZero() && !c.Until.After(c.GivenAt):
		v.add(p+"until", "must be after given_at")
	}
}

// checkAt adds the problems of the consent at time now; an end that check already
// refused is not named twice.
func (c *Consent) checkAt(v *problems, p string, now time.Time) {
	if c.GivenAt.After(now.Add(consentSkew)) {
		v.add(p+"given_at", "must not be in the future")
	}
	if !c.Until.IsZero() && (c.GivenAt.IsZero() || c.Until.After(c.GivenAt)) && !c.Until.After(now) {
		v.add(p+"until", "must be in the future: the consent has ended")
	}
}

// Validate checks the SME's identity and contacts and returns all problems at once.
func (s *SME) Validate() error {
	v := problems{what: "SME"}
	text(&v, "name", s.Name, 1, maxSMENameLen)
	if s.Website != "" {
		if u, err := url.Parse(s.Website); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			utf8.RuneCountInString(s.Website) > maxWebsiteLen {
			v.add("website", "must be an absolute http or https URL of at most %d characters", maxWebsiteLen)
		}
	}
	text(&v, "contact_name", s.ContactName, 1, maxContactNameLen)
	if s.ContactEmail != "" {
		if a, err := mail.ParseAddress(s.ContactEmail); err != nil || a.Address != s.ContactEmail || len(s.ContactEmail) > maxEmailLen {
			v.add("contact_email", "must be a plain e-mail address such as info@sme.example.eu")
		}
	}
	text(&v, "contact_phone", s.ContactPhone, 0, maxPhoneLen)
	return v.err()
}

// Validate checks a referral as it travels in an offer or is read from a store, and
// returns all problems at once. It does not read the clock: the consent's end is
// checked by [ReferralOffer.Validate] when the referral arrives.
func (r *Referral) Validate() error {
	v := problems{what: "referral"}
	r.check(&v, "")
	return v.err()
}

// check adds the referral's problems to v, each field prefixed with p.
func (r *Referral) check(v *problems, p string) {
	if r.V != Version {
		v.add(p+"v", "must be %d", Version)
	}
	if !canonicalUUID(r.ID) {
		v.add(p+"id", uuidRule)
	}
	if !ValidID(r.From) {
		v.add(p+"from", idRule)
	}
	switch {
	case !ValidID(r.To):
		v.add(p+"to", idRule)
	case r.To == r.From:
		v.add(p+"to", "must be another hub than from")
	}
	if r.Created.IsZero() {
		v.add(p+"created", "is required")
	}
	if !slices.Contains(States, r.State) {
		v.add(p+"state", "must be a state: %s", stateList)
	}
	switch {
	case r.State == StateOnHold && r.HeldFrom != StateReceived && r.HeldFrom != StateInProgress:
		v.add(p+"held_from", "must be received or in-progress while the referral is on-hold")
	case r.State != StateOnHold && r.HeldFrom != "":
		v.add(p+"held_from", "must be empty unless the referral is on-hold")
	}
	r.Need.check(v, p+"need.")
	r.Consent.check(v, p+"consent.")
	if ValidID(r.Consent.Recipient) && ValidID(r.To) && r.Consent.Recipient != r.To {
		v.add(p+"consent.recipient", "must be the receiving hub (to)")
	}
	switch {
	case r.AckBy.IsZero():
		v.add(p+"ack_by", "is required")
	case !r.Created.IsZero() && !r.AckBy.After(r.Created):
		v.add(p+"ack_by", "must be after created")
	}
	switch {
	case r.DecideBy.IsZero():
		v.add(p+"decide_by", "is required")
	case !r.Created.IsZero() && !r.DecideBy.After(r.Created):
		v.add(p+"decide_by", "must be after created")
	case !r.AckBy.IsZero() && r.DecideBy.Before(r.AckBy):
		v.add(p+"decide_by", "must not be before ack_by")
	}
	if r.Reason != "" {
		codes := reasonsIn(r.State)
		if !slices.Contains(codes, r.Reason) {
			v.add(p+"reason", "must be one of %s", strings.Join(codes, ", "))
		}
	}
	switch {
	case r.Outcome == "":
	case !slices.Contains(Outcomes, r.Outcome):
		v.add(p+"outcome", "must be one of %s", strings.Join(Outcomes, ", "))
	case r.State != StateCompleted:
		v.add(p+"outcome", "must be empty unless the referral is completed")
	}
	if len(r.History) > MaxHistory {
		// Too long to be worth reading entry by entry.
		v.add(p+"history", "must have at most %d entries, got %d", MaxHistory, len(r.History))
		return
	}
	for i, c := range r.History {
		f := p + "history." + strconv.Itoa(i) + "."
		if c.At.IsZero() {
			v.add(f+"at", "is required")
		}
		if c.By != r.From && c.By != r.To {
			v.add(f+"by", "must be the referring hub (from) or the receiving hub (to)")
		}
		if !slices.Contains(Events, c.Event) {
			v.add(f+"event", "must be an event: %s", eventList)
		}
		if !slices.Contains(States, c.From) {
			v.add(f+"from", "must be a state: %s", stateList)
		}
		if !slices.Contains(States, c.To) {
			v.add(f+"to", "must be a state: %s", stateList)
		}
		text(v, f+"note", c.Note, 0, MaxNoteLen)
		checkPerson(v, f+"person", c.Person)
		if ec := eventCodes[c.Event]; c.Reason != "" && (ec.field != "reason" || !slices.Contains(ec.codes, c.Reason)) {
			v.add(f+"reason", "must be a reason code of %s, or empty", c.Event)
		}
		if ec := eventCodes[c.Event]; c.Outcome != "" && (ec.field != "outcome" || !slices.Contains(ec.codes, c.Outcome)) {
			v.add(f+"outcome", "must be an outcome of %s, or empty", c.Event)
		}
	}
}

// reasonsIn returns the reason codes a referral in state s may carry: those of the
// event that ended it, or, in any other state, every reason code.
func reasonsIn(s State) []string {
	switch s {
	case StateRejected:
		return DeclineReasons
	case StateFailed:
		return FailReasons
	case StateCancelled:
		return slices.Concat(CancelReasons, SystemCancelReasons)
	}
	var all []string
	for _, c := range slices.Concat(DeclineReasons, FailReasons, CancelReasons, SystemCancelReasons) {
		if !slices.Contains(all, c) {
			all = append(all, c)
		}
	}
	return all
}

// Validate checks an offer as the receiving hub gets it at time now: a valid new
// referral whose consent holds now.
func (o *ReferralOffer) Validate(now time.Time) error {
	v := problems{what: "referral offer"}
	if o.V != Version {
		v.add("v", "must be %d", Version)
	}
	o.Referral.check(&v, "referral.")
	if o.Referral.State != StateRequested && slices.Contains(States, o.Referral.State) {
		v.add("referral.state", "must be %s: an offer carries a new referral", StateRequested)
	}
	o.Referral.Consent.checkAt(&v, "referral.consent.", now)
	checkSealed(&v, "contact", o.Contact)
	return v.err()
}

// eventCodes are the events a referral-event carries, each with the codes its reason
// or outcome must come from. Send and receive travel as the offer and its ack.
var eventCodes = map[Event]struct {
	field string // "reason", "outcome" or "" for neither
	codes []string
}{
	EventAccept:   {},
	EventDecline:  {"reason", DeclineReasons},
	EventHold:     {},
	EventAnswer:   {},
	EventStart:    {},
	EventComplete: {"outcome", Outcomes},
	EventFail:     {"reason", FailReasons},
	EventCancel:   {"reason", slices.Concat(CancelReasons, SystemCancelReasons)},
	EventExpire:   {},
}

// Validate checks an event received from the other hub of a referral and returns all
// problems at once. Whether the event may happen is the lifecycle's question: see
// [Next].
func (e *ReferralEvent) Validate() error {
	v := problems{what: "referral event"}
	if e.V != Version {
		v.add("v", "must be %d", Version)
	}
	if !canonicalUUID(e.Referral) {
		v.add("referral", uuidRule)
	}
	ec, known := eventCodes[e.Event]
	if !known {
		v.add("event", "must be one of accept, decline, hold, answer, start, complete, fail, cancel or expire")
	}
	if e.At.IsZero() {
		v.add("at", "is required")
	}
	for _, f := range []struct{ name, value string }{{"reason", e.Reason}, {"outcome", e.Outcome}} {
		switch {
		case known && ec.field == f.name && f.value == "":
			v.add(f.name, "is required for %s: one of %s", e.Event, strings.Join(ec.codes, ", "))
		case known && ec.field == f.name && !slices.Contains(ec.codes, f.value):
			v.add(f.name, "must be one of %s", strings.Join(ec.codes, ", "))
		case known && ec.field != f.name && f.value != "":
			v.add(f.name, "must be empty for %s", e.Event)
		}
	}
	text(&v, "note", e.Note, 0, MaxNoteLen)
	checkPerson(&v, "person", e.Person)
	checkSealed(&v, "contact", e.Contact)
	return v.err()
}

// Validate checks the form of sealed details; whether they open is for [OpenSME].
func (d *ReferralDetails) Validate() error {
	v := problems{what: "referral details"}
	if d.V != Version {
		v.add("v", "must be %d", Version)
	}
	if !canonicalUUID(d.Referral) {
		v.add("referral", uuidRule)
	}
	if n := len(d.SME.Nonce); n != 24 {
		v.add("sme.nonce", "must be 24 bytes, got %d", n)
	}
	switch n := len(d.SME.Box); {
	case n == 0:
		v.add("sme.box", "is required")
	case n <= box.Overhead:
		v.add("sme.box", "must be a sealed box of more than %d bytes, got %d", box.Overhead, n)
	case n > MaxSealedSize:
		v.add("sme.box", "must be at most %d bytes, got %d", MaxSealedSize, n)
	}
	if n := len(d.SME.From); n != 0 && n != 32 {
		v.add("sme.from", "must be empty or a 32-byte X25519 public key, got %d bytes", n)
	}
	return v.err()
}

// Validate checks an acknowledgement and returns all problems at once.
func (a *ReferralAck) Validate() error {
	v := problems{what: "referral ack"}
	if a.V != Version {
		v.add("v", "must be %d", Version)
	}
	if !canonicalUUID(a.Message) {
		v.add("message", uuidRule)
	}
	if !canonicalUUID(a.Referral) {
		v.add("referral", uuidRule)
	}
	switch a.Result {
	case AckApplied, AckDuplicate, AckRefused:
	default:
		v.add("result", "must be applied, duplicate or refused")
	}
	if a.State != "" && !slices.Contains(States, a.State) {
		v.add("state", "must be empty or a state: %s", stateList)
	}
	text(&v, "error", a.Error, 0, maxAckErrorLen)
	if e := a.Ending; e != nil {
		if to, ok := Ends(e.Event); !ok || e.To != to {
			v.add("ending.event", "must be an ending: decline, complete, fail, cancel or expire, to its state")
		}
		if e.At.IsZero() {
			v.add("ending.at", "is required")
		}
		if !ValidID(e.By) {
			v.add("ending.by", "must be a hub ID")
		}
		if ec := eventCodes[e.Event]; e.Reason != "" && (ec.field != "reason" || !slices.Contains(ec.codes, e.Reason)) {
			v.add("ending.reason", "must be a reason code of %s, or empty", e.Event)
		}
		if ec := eventCodes[e.Event]; e.Outcome != "" && (ec.field != "outcome" || !slices.Contains(ec.codes, e.Outcome)) {
			v.add("ending.outcome", "must be an outcome of %s, or empty", e.Event)
		}
		text(&v, "ending.note", e.Note, 0, MaxNoteLen)
	}
	return v.err()
}

// Validate checks a KPI record and returns all problems at once.
func (k *KPIRecord) Validate() error {
	v := problems{what: "KPI record"}
	switch k.Kind {
	case KPIServiceDelivered, KPICollaboration:
	default:
		v.add("kind", "must be %s or %s", KPIServiceDelivered, KPICollaboration)
	}
	if !canonicalUUID(k.Referral) {
		v.add("referral", uuidRule)
	}
	if !ValidID(k.Hub) {
		v.add("hub", idRule)
	}
	switch {
	case !ValidID(k.Partner):
		v.add("partner", idRule)
	case k.Partner == k.Hub:
		v.add("partner", "must be another hub than hub")
	}
	switch {
	case k.Role != RoleSender && k.Role != RoleReceiver:
		v.add("role", "must be %s or %s", RoleSender, RoleReceiver)
	case k.Kind == KPIServiceDelivered && k.Role != RoleReceiver:
		// Only the hub that delivered counts the service, so that no report counts it twice.
		v.add("role", "must be %s for a %s record", RoleReceiver, KPIServiceDelivered)
	}
	if k.At.IsZero() {
		v.add("at", "is required")
	}
	needCodes(&v, "", k.Sector, k.Region, k.Category, k.Family, k.Technologies)
	if k.Outcome != "" && !slices.Contains(Outcomes, k.Outcome) {
		v.add("outcome", "must be one of %s", strings.Join(Outcomes, ", "))
	}
	return v.err()
}

// canonicalUUID reports whether s is a UUIDv7 spelled as uuid.UUID.String spells it.
// Referral and message IDs are keys in every hub's store: another spelling of the same
// UUID (upper case, braces, urn:uuid:) would name a second referral.
func canonicalUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.Version() == 7 && u.String() == s
}

// stateList and eventList name the states and events for error messages.
var (
	stateList = joinStrings(States)
	eventList = joinStrings(Events)
)

func joinStrings[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
