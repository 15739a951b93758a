package protocol

import (
	"crypto/rand"
	"encoding/json"
	"syscall"
	"testing"
	"time"
)

func benchProfile() Profile {
	return Profile{
		ID: "bench-hub", Name: "Benchmark hub", Type: HubEDIH, Country: "FI", Regions: []string{"FI1C"},
		Languages: []string{"fi", "en"}, Technologies: map[string]int{"ai-decision-support": 5, "cybersecurity": 3},
		Services: map[string]int{"prototyping": 4}, Sectors: map[string]int{"C": 3},
		Capacity: map[Family]Capacity{FamilyTestBeforeInvest: {Available: 3, Maximum: 5, Unit: "SMEs per month"}},
	}
}

func BenchmarkSignProfile(b *testing.B) {
	id, _ := NewIdentity("bench-hub", rand.Reader)
	p := benchProfile()
	now := time.Now()
	for b.Loop() {
		if _, err := SignProfile(id, p, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenProfile(b *testing.B) {
	id, _ := NewIdentity("bench-hub", rand.Reader)
	env, _ := SignProfile(id, benchProfile(), time.Now())
	data, _ := env.Marshal()
	pub := id.SignPublic()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		e, err := OpenEnvelope(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := OpenProfile(e, pub); err != nil {
			b.Fatal(err)
		}
	}
}

// The cost of protecting one referral message, each step apart, beside the plain path
// of encoding, decoding and validating it. A hub pays sign on every message it sends
// (and every resend), verify on every message it takes in, seal once per referral
// (the SME's details) and open once at the receiver.
func BenchmarkReferralMessage(b *testing.B) {
	from, _ := NewIdentity("hub-one", rand.Reader)
	to, _ := NewIdentity("hub-two", rand.Reader)
	offer := ReferralOffer{V: Version, Referral: validReferral()}
	now := time.Now()
	env, err := Sign(from, TypeReferralOffer, to.ID, offer, now)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := env.Marshal()
	sealed, err := SealSME(validSME(), from, to.BoxPub, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("plain", func(b *testing.B) {
		defer cpuPerOp(b)()
		// Encode the body, decode the envelope and the body, validate: everything but
		// the cryptography.
		for b.Loop() {
			if _, err := json.Marshal(offer); err != nil {
				b.Fatal(err)
			}
			e, err := OpenEnvelope(data)
			if err != nil {
				b.Fatal(err)
			}
			var o ReferralOffer
			if err := e.Decode(&o); err != nil {
				b.Fatal(err)
			}
			if err := o.Validate(offerTime); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := Resign(from, env, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		defer cpuPerOp(b)()
		pub := from.SignPublic()
		for b.Loop() {
			if err := env.Verify(pub); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("seal", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := SealSME(validSME(), from, to.BoxPub, rand.Reader); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := OpenSME(sealed, to, from.BoxPub); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("certificate", func(b *testing.B) {
		defer cpuPerOp(b)()
		// Checked once per member and certificate, then cached: for reference.
		c, _ := Admit(fixedAdmission(), from.ID, from.SignPublic(), from.BoxPub[:], now, time.Hour)
		for b.Loop() {
			if err := c.Verify(fixedNetwork(), now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuPerOp reports the process's CPU time per operation as cpu-ns/op, beside the wall
// time: on a shared machine it is the steadier figure of what an operation costs. Use
// as defer cpuPerOp(b)() before the loop.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
