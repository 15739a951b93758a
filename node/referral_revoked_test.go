package node_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/console/consoletest"
	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// revokedHubs starts n hubs, hub-1 to hub-n, each joining the first, and returns them
// with their network's admission key, to revoke one.
func revokedHubs(t *testing.T, n int) ([]*nodetest.Hub, protocol.AdmissionKey) {
	t.Helper()
	net, adm := nodetest.NetworkKey(t)
	hubs := nodetest.StartN(t, net, n)
	nodetest.Eventually(t, 10*time.Second, func() error { return nodetest.Converged(hubs) })
	return hubs, adm
}

// mustRevoke signs the steward's revocation of hub id, made now.
func mustRevoke(t *testing.T, adm protocol.AdmissionKey, id, reason string) protocol.Revocation {
	t.Helper()
	r, err := protocol.Revoke(adm, id, reason, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// endedAsRevoked checks that hub h cancelled referral id by itself because its other
// hub, partner, was revoked with reason why: the last change is the cancel, with the
// reason partner-revoked and a note that holds each of notes; nothing is left to send,
// and the SME's identity is kept only at the referring hub.
func endedAsRevoked(t *testing.T, h *nodetest.Hub, id, partner, why string, notes ...string) {
	t.Helper()
	info := nodetest.WaitState(t, h, id, protocol.StateCancelled)
	r := info.Referral
	last := r.History[len(r.History)-1]
	if last.Event != protocol.EventCancel || last.By != h.ID() || last.To != protocol.StateCancelled || last.Reason != "partner-revoked" ||
		r.Reason != "partner-revoked" {
		t.Errorf("%s at %s: last change %+v, reason %q; want a cancel by %s for partner-revoked", id, h.ID(), last, r.Reason, h.ID())
	}
	notes = append(notes, "Hub "+partner+" was revoked from the network on ", "("+why+"): this hub cancelled the referral by itself")
	for _, s := range notes {
		if !strings.Contains(last.Note, s) {
			t.Errorf("%s at %s: note %q lacks %q", id, h.ID(), last.Note, s)
		}
	}
	switch {
	case info.Role == protocol.RoleSender && (info.SME == nil || info.SME.Name != "Leipomo Esimerkki Oy"):
		t.Errorf("%s at the referring hub: SME %+v, want it kept: the SME is its customer", id, info.SME)
	case info.Role == protocol.RoleReceiver && info.SME != nil:
		t.Errorf("%s at the receiving hub: SME %+v, want it deleted", id, info.SME)
	case info.Role == protocol.RoleReceiver && info.SMEPurgeReason != "" && info.SMEPurgeReason != "partner-revoked":
		t.Errorf("%s at the receiving hub: SME purged for %q, want partner-revoked", id, info.SMEPurgeReason)
	}
	if len(info.Actions) != 0 {
		t.Errorf("%s at %s: actions %v, want none", id, h.ID(), info.Actions)
	}
}

// nothingPending fails unless hub h has no message left to send.
func nothingPending(t *testing.T, h *nodetest.Hub) {
	t.Helper()
	list, err := h.Referrals(api.ReferralQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range list {
		if info.Pending != 0 {
			t.Errorf("%s holds %d messages of referral %s (%s) to send, want none", h.ID(), info.Pending, info.Referral.ID, info.Referral.State)
		}
	}
}

// Every open referral with a revoked hub, in each state and in both directions, ends
// at the hub that remains when it hears of the revocation by gossip; the messages
// waiting for the revoked hub go, those of a referral cancelled already too. A
// referral with a third hub goes on.
func TestReferral_revokedPartnerEnds(t *testing.T) {
	hubs, adm := revokedHubs(t, 3)
	a, x, c := hubs[0], hubs[1], hubs[2]

	// hub-1 refers SMEs to hub-2, which is to be revoked.
	sentReceived := receivedReferral(t, a, x, referralTo(x.ID()))
	sentAccepted := acceptedReferral(t, a, x, referralTo(x.ID()))
	nodetest.WaitState(t, a, sentAccepted, protocol.StateAccepted) // the SME's details delivered
	sentStarted := acceptedReferral(t, a, x, referralTo(x.ID()))
	if _, err := x.Act(sentStarted, protocol.EventStart, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, sentStarted, protocol.StateInProgress)
	cancelled := receivedReferral(t, a, x, referralTo(x.ID()))
	// hub-2 refers SMEs to hub-1.
	gotReceived := receivedReferral(t, x, a, referralTo(a.ID()))
	gotAccepted := acceptedReferral(t, x, a, referralTo(a.ID()))
	gotStarted := acceptedReferral(t, x, a, referralTo(a.ID()))
	if _, err := a.Act(gotStarted, protocol.EventStart, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, gotStarted, protocol.StateInProgress)
	// And hub-1 refers one to hub-3.
	other := receivedReferral(t, a, c, referralTo(c.ID()))

	// hub-2 goes down: a new referral and a cancel wait for it in hub-1's outbox.
	x.Kill()
	nodetest.Eventually(t, 10*time.Second, func() error {
		if h, err := a.Hub(x.ID()); err != nil || h.Reachable {
			return fmt.Errorf("%s still reachable at %s (%v)", x.ID(), a.ID(), err)
		}
		return nil
	})
	waiting, err := a.Refer(referralTo(x.ID()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Act(cancelled, protocol.EventCancel, api.ReferralAction{Reason: "sent-in-error"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{waiting.Referral.ID, cancelled} {
		if info, _ := a.Referral(id); info.Pending != 1 {
			t.Fatalf("%s (%s): %d messages pending, want 1 waiting for %s", id, info.Referral.State, info.Pending, x.ID())
		}
	}

	// The steward's revocation is handed to hub-3; gossip brings it to hub-1.
	if _, err := c.Revoke(mustRevoke(t, adm, x.ID(), "signing key stolen")); err != nil {
		t.Fatal(err)
	}
	never := x.ID() + " never received the SME's details: it had not accepted the referral. This hub keeps them, the SME being its customer, until the consent ends or the retention period after the referral ends passes."
	holds := x.ID() + " received the SME's details, sealed to it, after it accepted, and may still hold them: ask its operator to delete them."
	deleted := "The SME's details are deleted here, if this hub had them: the SME gave its consent through " + x.ID()
	for _, tc := range []struct {
		name, id string
		note     string
	}{
		{"sent, requested", waiting.Referral.ID, never},
		{"sent, received", sentReceived, never},
		{"sent, accepted", sentAccepted, holds},
		{"sent, in progress", sentStarted, holds},
		{"received", gotReceived, deleted},
		{"received, accepted", gotAccepted, deleted},
		{"received, in progress", gotStarted, deleted},
	} {
		t.Run(tc.name, func(t *testing.T) { endedAsRevoked(t, a, tc.id, x.ID(), "signing key stolen", tc.note) })
	}
	// The operator sees what became of the SME's details hub-1 received.
	for _, id := range []string{gotAccepted, gotStarted} {
		if info, _ := a.Referral(id); info.SMEPurged.IsZero() || info.SMEPurgeReason != "partner-revoked" {
			t.Errorf("%s at %s: purged %v (%q), want a time and partner-revoked", id, a.ID(), info.SMEPurged, info.SMEPurgeReason)
		}
	}
	if got := a.Purges("partner-revoked"); got != 2 {
		t.Errorf("%s counted %v purges for partner-revoked, want 2", a.ID(), got)
	}
	// The cancel made before goes unsent, and stays the operator's.
	info := nodetest.WaitState(t, a, cancelled, protocol.StateCancelled)
	if info.Referral.Reason != "sent-in-error" || len(info.Referral.History) != 3 {
		t.Errorf("cancelled before the revocation: reason %q, %d changes; want sent-in-error, and no change since", info.Referral.Reason, len(info.Referral.History))
	}
	nothingPending(t, a)
	nodetest.WaitState(t, a, other, protocol.StateReceived)

	// An action on a referral with the revoked hub is refused, and sends nothing.
	if _, err := a.Act(gotStarted, protocol.EventComplete, api.ReferralAction{Outcome: "service-delivered"}); err == nil {
		t.Error("completed a referral with a revoked hub")
	}
	nothingPending(t, a)
	// So is a new referral to it.
	if _, err := a.Refer(referralTo(x.ID())); !errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("refer to the revoked hub: got %v, want ErrNotFound", err)
	}
	// hub-3 goes on with hub-1.
	if _, err := c.Act(other, protocol.EventAccept, api.ReferralAction{}); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitState(t, a, other, protocol.StateAccepted)
}

// A hub that stopped with a revocation stored and referrals with the revoked hub
// still open (it stopped before it ended them, or an older version kept them) ends
// them when it starts again.
func TestReferral_revokedPartnerEndsAtStartUp(t *testing.T) {
	hubs, adm := revokedHubs(t, 2)
	a, x := hubs[0], hubs[1]
	sent := acceptedReferral(t, a, x, referralTo(x.ID()))
	nodetest.WaitState(t, a, sent, protocol.StateAccepted)
	got := acceptedReferral(t, x, a, referralTo(a.ID()))
	nodetest.WaitState(t, a, got, protocol.StateAccepted)
	a.Kill()
	x.Kill()

	s, err := store.Open(filepath.Join(a.Dir, node.StoreFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutRevocation(mustRevoke(t, adm, x.ID(), "left the network")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	a = a.Restart()
	endedAsRevoked(t, a, sent, x.ID(), "left the network", "may still hold them")
	endedAsRevoked(t, a, got, x.ID(), "left the network", "deleted here")
	nothingPending(t, a)
	if err := a.CanRefer(x.ID()); !errors.Is(err, protocol.ErrNotFound) || !strings.Contains(err.Error(), "was revoked") {
		t.Errorf("CanRefer(%s) after the restart: %v, want it revoked", x.ID(), err)
	}
}

// A referral to a revoked hub is refused with a 404 that says why, by the node, its
// HTTP API and its console, and nothing is stored.
func TestReferral_referToRevokedHubRefused(t *testing.T) {
	hubs, adm := revokedHubs(t, 2)
	a, x := hubs[0], hubs[1]
	if err := a.CanRefer(x.ID()); err != nil {
		t.Fatalf("CanRefer(%s) before the revocation: %v", x.ID(), err)
	}
	r := mustRevoke(t, adm, x.ID(), "signing key stolen")
	if _, err := a.Revoke(r); err != nil {
		t.Fatal(err)
	}
	want := "hub " + x.ID() + " was revoked from the network on " + time.Unix(r.At, 0).UTC().Format(time.RFC3339) +
		" (signing key stolen): referrals to it are refused"

	_, err := a.Refer(referralTo(x.ID()))
	if !errors.Is(err, protocol.ErrNotFound) || !strings.Contains(err.Error(), want) {
		t.Errorf("Refer: got %v, want ErrNotFound saying %q", err, want)
	}
	var e api.ErrorResponse
	if st := callAPI(t, a, "POST", "/v1/referrals", referralTo(x.ID()), &e); st != http.StatusNotFound ||
		e.Error.Code != protocol.CodeNotFound || !strings.Contains(e.Error.Message, want) {
		t.Errorf("POST /v1/referrals: %d %+v, want 404 saying %q", st, e.Error, want)
	}

	br := consoletest.NewBrowser(t, a)
	br.SignIn(a)
	page := br.Get("/refer?to=" + x.ID())
	if page.Status != http.StatusNotFound || !strings.Contains(page.Text(), "H"+want[1:]+".") {
		t.Errorf("console's refer page: %d, want 404 saying %q\n%s", page.Status, want, page.Body)
	}
	csrf := br.Get("/me").CSRF(t)
	page = br.Post("/refer", referralForm(csrf, x.ID()))
	if page.Status != http.StatusNotFound || !strings.Contains(page.Text(), "H"+want[1:]+".") {
		t.Errorf("console's refer form: %d, want 404 saying %q\n%s", page.Status, want, page.Body)
	}

	if list, err := a.Referrals(api.ReferralQuery{}); err != nil || len(list) != 0 {
		t.Errorf("hub-1 holds %d referrals (%v), want none", len(list), err)
	}
}

// referralForm is the console's referral form of referralTo(to), with its CSRF token.
func referralForm(csrf, to string) url.Values {
	req := referralTo(to)
	return url.Values{
		"csrf": {csrf}, "to": {to},
		"need.sector": {req.Need.Sector}, "need.region": {req.Need.Region}, "need.category": {string(req.Need.Category)},
		"need.family": {string(req.Need.Family)}, "need.technologies": req.Need.Technologies,
		"need.description": {req.Need.Description},
		"sme.name":         {req.SME.Name}, "sme.contact_name": {req.SME.ContactName}, "sme.contact_email": {req.SME.ContactEmail},
		"consent.given_by": {req.Consent.GivenBy}, "consent.given_at": {time.Now().UTC().Format(time.DateOnly)},
		"consent.purpose": {req.Consent.Purpose}, "consent.until": {req.Consent.Until.Format(time.DateOnly)},
	}
}

// A need that names the SME is refused, by the node, its HTTP API and its console,
// with the field and the rule, and nothing is stored.
func TestReferral_needNamingSMERefused(t *testing.T) {
	a, b := twoHubs(t)
	req := referralTo(b.ID())
	req.Need.Description = "Leipomo Esimerkki (call Aino at +358 40 000 0000) wants to test machine vision."
	req.SME.ContactPhone = "040 000 0000"
	wantProblems := []protocol.FieldError{
		{Field: "need.description", Rule: "must not name the SME: it contains the SME's name (sme.name)"},
		{Field: "need.description", Rule: "must not name the SME: it contains the SME's e-mail address, or its part before the @ (sme.contact_email)"},
		{Field: "need.description", Rule: "must not name the SME: it contains the SME's phone number (sme.contact_phone)"},
	}
	_, err := a.Refer(req)
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) || !slices.Equal(ve.Problems, wantProblems) {
		t.Errorf("Refer: got %v, want the problems %v", err, wantProblems)
	}
	var e api.ErrorResponse
	if st := callAPI(t, a, "POST", "/v1/referrals", req, &e); st != http.StatusBadRequest || !slices.Equal(e.Error.Problems, wantProblems) {
		t.Errorf("POST /v1/referrals: %d %+v, want 400 with the problems %v", st, e.Error, wantProblems)
	}

	br := consoletest.NewBrowser(t, a)
	br.SignIn(a)
	form := referralForm(br.Get("/me").CSRF(t), b.ID())
	form.Set("need.description", req.Need.Description)
	page := br.Post("/refer", form)
	if page.Status != http.StatusBadRequest || !strings.Contains(page.Text(),
		`id="e-need-description"><li><span class="vh">Error: </span>must not name the SME: it contains the SME's name (sme.name)`) {
		t.Errorf("console's refer form: %d, want 400 with the problem next to the description\n%s", page.Status, page.Body)
	}

	if list, err := a.Referrals(api.ReferralQuery{}); err != nil || len(list) != 0 {
		t.Errorf("hub-1 holds %d referrals (%v), want none", len(list), err)
	}
}
