package node

import "github.com/hubnet-eu/hubnet/api"

// The JSON types of the HTTP API belong to package api, which clients import without
// linking a node. The aliases below are kept while callers in this module move to the
// api names; they will go once none uses them.

type (
	// HubInfo is [api.HubInfo].
	HubInfo = api.HubInfo
	// PeerInfo is [api.PeerInfo].
	PeerInfo = api.PeerInfo
	// SelfInfo is [api.SelfInfo].
	SelfInfo = api.SelfInfo
	// Addrs is [api.Addrs].
	Addrs = api.Addrs
	// CertInfo is [api.CertInfo].
	CertInfo = api.CertInfo
	// APIError is [api.ErrorResponse].
	APIError = api.ErrorResponse
	// APIErrorBody is [api.ErrorBody].
	APIErrorBody = api.ErrorBody
	// CapacityChange is [api.CapacityChange].
	CapacityChange = api.CapacityChange
	// ReferralRequest is [api.ReferralRequest].
	ReferralRequest = api.ReferralRequest
	// ReferralInfo is [api.ReferralInfo].
	ReferralInfo = api.ReferralInfo
	// ReferralAction is [api.ReferralAction].
	ReferralAction = api.ReferralAction
	// ReferralQuery is [api.ReferralQuery].
	ReferralQuery = api.ReferralQuery
	// Report is [api.Report].
	Report = api.Report
	// SearchResult is [api.SearchResult].
	SearchResult = api.SearchResult
	// Hit is [api.Hit].
	Hit = api.Hit
	// LiveInfo is [api.LiveInfo].
	LiveInfo = api.LiveInfo
	// LiveQuery is [api.LiveQuery].
	LiveQuery = api.LiveQuery
	// InstallResult is [api.InstallResult].
	InstallResult = api.InstallResult
	// NextKeys is [api.NextKeys].
	NextKeys = api.NextKeys
	// GossipKeyInfo is [api.GossipKeyInfo].
	GossipKeyInfo = api.GossipKeyInfo
	// GossipKeyChange is [api.GossipKeyChange].
	GossipKeyChange = api.GossipKeyChange
)

// Codes of the errors of a write the data file did not take: see [api.CodeStorageFull].
const (
	CodeStorageFull     = api.CodeStorageFull     // 507: no space for the data file
	CodeStorageReadOnly = api.CodeStorageReadOnly // 503: its file system is read-only
	CodeStorageFailed   = api.CodeStorageFailed   // 500: the disk failed otherwise
)
