package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// receiveOffer is the fn of a Receive that stores a new referral at the receiver and
// acknowledges it with ack; it counts its calls in calls.
func receiveOffer(t *testing.T, ref protocol.Referral, ack []byte, calls *atomic.Int32) func(ReferralRecord, bool) (Incoming, error) {
	return func(cur ReferralRecord, found bool) (Incoming, error) {
		calls.Add(1)
		if found {
			t.Errorf("Receive found referral %s before it was stored", cur.Referral.ID)
		}
		return Incoming{Record: &ReferralRecord{Referral: ref, Role: protocol.RoleReceiver}, Ack: ack}, nil
	}
}

func TestStore_Receive_once(t *testing.T) {
	s := mustOpen(t)
	ref := testReferral(t, testTime)
	msgID := mustUUID(t)
	var calls atomic.Int32

	ack, dup, err := s.Receive(msgID, ref.ID, receiveOffer(t, ref, []byte("ack one"), &calls))
	if err != nil || dup || string(ack) != "ack one" {
		t.Fatalf("first Receive = %q, dup %t, %v; want %q, false, nil", ack, dup, err, "ack one")
	}
	ack, dup, err = s.Receive(msgID, ref.ID, receiveOffer(t, ref, []byte("ack two"), &calls))
	if err != nil || !dup || string(ack) != "ack one" {
		t.Errorf("second Receive = %q, dup %t, %v; want the first ack %q, true, nil", ack, dup, err, "ack one")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fn called %d times for one message ID, want 1", n)
	}
	if got, err := s.Referral(ref.ID); err != nil || got.Role != protocol.RoleReceiver {
		t.Errorf("Referral after Receive: role %q, %v; want receiver", got.Role, err)
	}

	// The next message about the same referral finds it.
	var found bool
	_, dup, err = s.Receive(mustUUID(t), ref.ID, func(cur ReferralRecord, ok bool) (Incoming, error) {
		found = ok && cur.Referral.ID == ref.ID
		return Incoming{Ack: []byte("ack three")}, nil
	})
	if err != nil || dup || !found {
		t.Errorf("Receive of a second message: dup %t, found %t, %v; want false, true, nil", dup, found, err)
	}
}

func TestStore_Receive_concurrent(t *testing.T) {
	s := mustOpenPath(t, filepath.Join(t.TempDir(), "hubnet.db"), &Options{NoSync: true})
	ref := testReferral(t, testTime)
	msgID := mustUUID(t)
	var (
		calls atomic.Int32
		dups  atomic.Int32
		wg    sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			ack, dup, err := s.Receive(msgID, ref.ID, receiveOffer(t, ref, []byte("ack"), &calls))
			if err != nil || string(ack) != "ack" {
				t.Errorf("Receive = %q, %v; want %q, nil", ack, err, "ack")
			}
			if dup {
				dups.Add(1)
			}
		})
	}
	wg.Wait()
	if c, d := calls.Load(), dups.Load(); c != 1 || d != 7 {
		t.Errorf("8 concurrent Receives of one message: fn called %d times, %d duplicates; want 1, 7", c, d)
	}
}

func TestStore_Receive_fnError(t *testing.T) {
	s := mustOpen(t)
	ref := testReferral(t, testTime)
	msgID := mustUUID(t)
	boom := errors.New("boom")
	ack, dup, err := s.Receive(msgID, ref.ID, func(ReferralRecord, bool) (Incoming, error) {
		return Incoming{
			Record: &ReferralRecord{Referral: ref, Role: protocol.RoleReceiver},
			Out:    []Outgoing{testOutgoing(t, ref.ID, "hub-one", testTime)},
			KPIs:   []protocol.KPIRecord{testKPI(protocol.KPICollaboration, ref.ID, testTime)},
			Ack:    []byte("ack"),
		}, boom
	})
	if err != boom || ack != nil || dup {
		t.Errorf("Receive with a failing fn = %q, %t, %v; want nil, false and fn's error as is", ack, dup, err)
	}
	assertEmpty(t, s)

	// The message ID was not recorded: a retry applies the message.
	var calls atomic.Int32
	ack, dup, err = s.Receive(msgID, ref.ID, receiveOffer(t, ref, []byte("ack"), &calls))
	if err != nil || dup || calls.Load() != 1 || string(ack) != "ack" {
		t.Errorf("retry after a failed Receive = %q, dup %t, %d calls, %v; want applied once", ack, dup, calls.Load(), err)
	}
}

func TestStore_Receive_invalid(t *testing.T) {
	s := mustOpen(t)
	ref := testReferral(t, testTime)
	msgID := mustUUID(t)
	other := testReferral(t, testTime)

	_, _, err := s.Receive(msgID, ref.ID, func(ReferralRecord, bool) (Incoming, error) {
		// The record is another referral than the one the message is about.
		return Incoming{Record: &ReferralRecord{Referral: other, Role: protocol.RoleReceiver}}, nil
	})
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) || !hasField(ve, "referral.id") {
		t.Fatalf("Receive storing another referral: %v, want a validation error naming referral.id", err)
	}
	assertEmpty(t, s)

	var calls atomic.Int32
	if _, dup, err := s.Receive(msgID, ref.ID, receiveOffer(t, ref, nil, &calls)); err != nil || dup || calls.Load() != 1 {
		t.Errorf("retry after a refused Receive: dup %t, %d calls, %v; want applied once", dup, calls.Load(), err)
	}

	_, _, err = s.Receive("", ref.ID, func(ReferralRecord, bool) (Incoming, error) {
		t.Error("fn called for a message without an ID")
		return Incoming{}, nil
	})
	if !errors.As(err, &ve) || !hasField(ve, "id") {
		t.Errorf("Receive without a message ID: %v, want a validation error naming id", err)
	}
}

func TestStore_PruneInbox(t *testing.T) {
	clock := newTestClock()
	s := mustOpenClock(t, clock)
	ref := testReferral(t, testTime)
	old, recent := mustUUID(t), mustUUID(t)
	var calls atomic.Int32
	if _, _, err := s.Receive(old, ref.ID, receiveOffer(t, ref, nil, &calls)); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	cut := clock.Now()
	ack := func(ReferralRecord, bool) (Incoming, error) { calls.Add(1); return Incoming{}, nil }
	if _, _, err := s.Receive(recent, ref.ID, ack); err != nil {
		t.Fatal(err)
	}

	n, err := s.PruneInbox(cut)
	if err != nil || n != 1 {
		t.Fatalf("PruneInbox = %d, %v; want 1, nil", n, err)
	}
	if _, dup, err := s.Receive(recent, ref.ID, ack); err != nil || !dup {
		t.Errorf("Receive of a message received at the cut: dup %t, %v; want kept as a duplicate", dup, err)
	}
	if _, dup, err := s.Receive(old, ref.ID, ack); err != nil || dup {
		t.Errorf("Receive of a forgotten message: dup %t, %v; want applied again", dup, err)
	}
	if c := calls.Load(); c != 3 {
		t.Errorf("fn called %d times, want 3", c)
	}
}

func BenchmarkStore_Receive(b *testing.B) {
	ident := mustIdentity(b, "hub-two")
	ref, _ := benchOffer(b, ident)
	ack, err := protocol.Sign(ident, protocol.TypeReferralAck, "hub-one", protocol.ReferralAck{
		V: protocol.Version, Message: mustUUID(b), Referral: ref.ID, Result: protocol.AckApplied, State: protocol.StateReceived}, testTime)
	if err != nil {
		b.Fatal(err)
	}
	ackRaw, err := ack.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	// A new offer received: the referral stored and the ack recorded with the message ID.
	offer := func(r protocol.Referral) func(ReferralRecord, bool) (Incoming, error) {
		return func(ReferralRecord, bool) (Incoming, error) {
			return Incoming{Record: &ReferralRecord{Referral: r, Role: protocol.RoleReceiver}, Ack: ackRaw}, nil
		}
	}
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%t", noSync), func(b *testing.B) {
			s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), &Options{NoSync: noSync})
			r := ref
			for b.Loop() {
				r.ID = mustUUID(b)
				if _, dup, err := s.Receive(mustUUID(b), r.ID, offer(r)); err != nil || dup {
					b.Fatalf("Receive: dup %t, %v", dup, err)
				}
			}
		})
	}
	b.Run("duplicate", func(b *testing.B) {
		s := mustOpenPath(b, filepath.Join(b.TempDir(), "hubnet.db"), nil)
		msgID := mustUUID(b)
		if _, _, err := s.Receive(msgID, ref.ID, offer(ref)); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, dup, err := s.Receive(msgID, ref.ID, offer(ref)); err != nil || !dup {
				b.Fatalf("Receive: dup %t, %v", dup, err)
			}
		}
	})
}
