package protocol

import (
	"crypto/rand"
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
