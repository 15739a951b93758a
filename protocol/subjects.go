package protocol

// Subject prefix of every hubnet message on NATS. The version is part of it, so a
// future protocol can run beside this one.
const subjectPrefix = "hubnet.v1."

// Subjects of the federation.
const (
	// SubjectProfileEvent carries a ProfileHint when a hub's profile changes.
	SubjectProfileEvent = subjectPrefix + "event.profile"
	// SubjectQuery is the live query to every hub.
	SubjectQuery = subjectPrefix + "query"
)

// ProfileSubject is where hub id answers requests for its signed profile.
func ProfileSubject(id string) string { return subjectPrefix + "hub." + id + ".profile" }

// ReferralSubject is where hub id receives referral messages.
func ReferralSubject(id string) string { return subjectPrefix + "hub." + id + ".referral" }

// HaveSubject is where the hubs of cluster c tell each other which profiles they hold
// (ProfileHave). Only that cluster's hubs subscribe, so gateways carry it nowhere else.
func HaveSubject(c string) string { return subjectPrefix + "cluster." + c + ".have" }

// QuerySubject is where hub id answers live queries addressed to it alone.
func QuerySubject(id string) string { return subjectPrefix + "hub." + id + ".query" }
