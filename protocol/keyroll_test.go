package protocol

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestGossipKeyStep_Validate(t *testing.T) {
	good := GossipKeyStep{V: Version, Roll: "0196cdb2-4b00-7abc-8def-0123456789ab", Started: fixedTime,
		Revoked: "hub-two", At: fixedTime.Unix(), Step: StepUse, Key: make([]byte, 32)}
	if err := good.Validate(); err != nil {
		t.Fatalf("good step: %v", err)
	}
	bad := GossipKeyStep{V: 2, Roll: "roll-1", Revoked: "Hub Two", Step: "drop", Key: make([]byte, 16)}
	err := bad.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	if want := []string{"v", "roll", "started", "revoked", "at", "step", "key"}; !slices.Equal(fields, want) {
		t.Errorf("got problems in %v, want %v", fields, want)
	}
}

// Two rolls that cross are ordered the same way at every hub.
func TestGossipKeyStep_After(t *testing.T) {
	a := GossipKeyStep{Roll: "0196cdb2-4b00-7abc-8def-0123456789ab", Started: fixedTime}
	b := GossipKeyStep{Roll: "0196cdb2-4b00-7abc-8def-0123456789ac", Started: fixedTime}
	c := GossipKeyStep{Roll: "0196cdb2-4b00-7abc-8def-0123456789aa", Started: fixedTime.Add(time.Millisecond)}
	for _, tt := range []struct {
		x, y *GossipKeyStep
		want bool
	}{{&b, &a, true}, {&a, &b, false}, {&c, &b, true}, {&b, &c, false}, {&a, &a, false}} {
		if got := tt.x.After(tt.y); got != tt.want {
			t.Errorf("%s after %s: got %v, want %v", tt.x.Roll, tt.y.Roll, got, tt.want)
		}
	}
}
