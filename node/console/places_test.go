package console

import (
	"strings"
	"testing"

	"github.com/hubnet-eu/hubnet/protocol"
)

// TestWebTowns holds each town of webTowns to a NUTS 3 region of the name it
// gives, so a wrong code cannot hide behind a right-looking name.
func TestWebTowns(t *testing.T) {
	for _, tw := range webTowns {
		r, ok := protocol.RegionByCode(tw.Code)
		if !ok || r.Level != 3 || r.Name != tw.Region {
			t.Errorf("%s: %s is %+v (%v), want the NUTS 3 region %s", tw.Town, tw.Code, r, ok, tw.Region)
		}
	}
}

func TestResolveRegion(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"FI193", "FI193"},
		{"fi193", "FI193"},
		{" fi1c ", "FI1C"}, // NUTS 2: the search takes it, the referral form asks for NUTS 3
		{"Jyväskylä", "FI193"},
		{"JYVASKYLA", "FI193"},
		{"Keski-Suomi", "FI193"},
		{"keski suomi", "FI193"},
		{"Keski-Suomi (FI193)", "FI193"}, // picked from the suggestions
		{"Pirkanmaa (fi197)", "FI197"},
		{"München", "DE212"}, // the city, not the district around it
		{"Munich", "DE212"},
		{"Kraków", "PL213"}, // Miasto Kraków
		{"Miasto Kraków", "PL213"},
		{"Bruxelles", "BE100"},
		{"Brussel-Hoofdstad", "BE100"},
		{"Wien", "AT130"},
		{"Valencia", "ES523"}, // Valencia/València
		{"València", "ES523"},
		{"Xyzzy", ""},
		{"", ""},
	} {
		if got := resolveRegion(tc.text).Code; got != tc.want {
			t.Errorf("resolveRegion(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestRegionProblem(t *testing.T) {
	en := webLangs()["en"]
	for _, tc := range []struct {
		text  string
		nuts3 bool
		code  string
		want  []string // in the problem
	}{
		{"Jyväskylä", true, "FI193", nil},
		{"FI1C", false, "FI1C", nil},
		{"FI1C", true, "", []string{"Etelä-Suomi (FI1C) is a NUTS 2 region", "Varsinais-Suomi (FI1C1)"}},
		{"Jyvaskyl", true, "", []string{`No NUTS region or town is called "Jyvaskyl".`, "Did you mean Keski-Suomi (FI193)?"}},
		{"Pirkanma", true, "", []string{"Did you mean Pirkanmaa (FI197)?"}},
		{"Qqqqqqqqqq", true, "", []string{`"Qqqqqqqqqq"`, "Type a NUTS code such as FI193"}},
	} {
		code, problem := regionProblem(en, tc.text, tc.nuts3)
		if code != tc.code {
			t.Errorf("%q: code %q, want %q", tc.text, code, tc.code)
		}
		if len(tc.want) == 0 && problem != "" {
			t.Errorf("%q: problem %q, want none", tc.text, problem)
		}
		for _, w := range tc.want {
			if !strings.Contains(problem, w) {
				t.Errorf("%q: problem %q, want it to say %q", tc.text, problem, w)
			}
		}
	}
	// In the person's language.
	if _, p := regionProblem(webLangs()["de"], "Jyvaskyl", true); !strings.Contains(p, "Meinten Sie Keski-Suomi (FI193)?") {
		t.Errorf("German problem %q", p)
	}
}

// FuzzResolveRegion reads whatever a person may type in a region box: it never
// panics, and names a region that exists or none.
func FuzzResolveRegion(f *testing.F) {
	for _, s := range []string{"FI193", "fi193", "Jyväskylä", "Keski-Suomi (FI193)", "Miasto Kraków", "München, Kreisfreie Stadt",
		"Valencia/València", "(FI193)", "((", "Jyvaskyl", "", " ", "\xff\xfe", "ẞ", "Arr. de Bruxelles-Capitale"} {
		f.Add(s)
	}
	en := webLangs()["en"]
	f.Fuzz(func(t *testing.T, s string) {
		a := resolveRegion(s)
		if a.Code != "" {
			if _, ok := protocol.RegionByCode(a.Code); !ok {
				t.Fatalf("resolveRegion(%q) = %q, no region", s, a.Code)
			}
		}
		for _, r := range a.Suggestions {
			if _, ok := protocol.RegionByCode(r.Code); !ok {
				t.Fatalf("resolveRegion(%q) suggests %q, no region", s, r.Code)
			}
		}
		code, problem := regionProblem(en, s, true)
		if (code == "") == (problem == "") && strings.TrimSpace(s) != "" {
			t.Fatalf("regionProblem(%q) = %q, %q: want a code or a problem", s, code, problem)
		}
	})
}
