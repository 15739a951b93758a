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

// The subjects addressed to one hub are HubPrefix(id) followed by a kind and, for
// replies and answers, tokens the hub chose. A hub subscribes to them all at once
// (HubSubjects): every subscription is interest that NATS carries to every server of
// the network, so a hub has one.
const (
	KindProfile   = "profile"    // requests for the hub's signed profile
	KindReferral  = "referral"   // referral messages
	KindQuery     = "query"      // live queries to the hub alone
	KindGossipKey = "gossip-key" // steps of a gossip key roll
	KindReply     = "reply"      // reply.<token>: the reply to a request of the hub
	KindAnswer    = "answer"     // answer.<query ID>.<hub ID>: an answer to a live query of the hub
)

// HubPrefix is the start of every subject addressed to hub id.
func HubPrefix(id string) string { return subjectPrefix + "hub." + id + "." }

// HubSubjects covers every subject addressed to hub id.
func HubSubjects(id string) string { return HubPrefix(id) + ">" }

// ProfileSubject is where hub id answers requests for its signed profile.
func ProfileSubject(id string) string { return HubPrefix(id) + KindProfile }

// ReferralSubject is where hub id receives referral messages.
func ReferralSubject(id string) string { return HubPrefix(id) + KindReferral }

// HaveSubject is where the hubs of cluster c tell each other which profiles they hold
// (ProfileHave). Only that cluster's hubs subscribe, so gateways carry it nowhere else.
func HaveSubject(c string) string { return subjectPrefix + "cluster." + c + ".have" }

// QuerySubject is where hub id answers live queries addressed to it alone.
func QuerySubject(id string) string { return HubPrefix(id) + KindQuery }
