package console

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/protocol"
)

// The fuzz targets of this file feed the console's forms to the functions that read
// them. Package node fuzzes what the HTTP API reads.

// fuzzNow is the clock of the checks that read one; fuzzSelf is the hub that checks.
var fuzzNow = time.Date(2026, 11, 22, 16, 30, 0, 0, time.UTC)

const fuzzSelf = "hub-fuzz"

// checkRefusal fails the test unless err is what the API answers with a 400 naming
// every problem: a *protocol.ValidationError with a message, whose problems each
// name a field and a rule.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("bad input refused with %v, want a *protocol.ValidationError", err)
	}
	if err.Error() == "" || len(ve.Problems) == 0 {
		t.Fatalf("refusal %q without a message or problems", err)
	}
	for _, p := range ve.Problems {
		if p.Field == "" || p.Rule == "" {
			t.Fatalf("problem %+v without a field or a rule", p)
		}
	}
}

func fuzzProfile() protocol.Profile {
	return protocol.Profile{
		ID: fuzzSelf, Name: "Fuzz Hub", Type: protocol.HubEDIH, Country: "FI", Regions: []string{"FI1C", "FI193"},
		Website: "https://hub.example.fi", Languages: []string{"fi", "en"}, Categories: []protocol.Category{protocol.CategorySmall},
		Description: "Food robotics.", Contact: protocol.Contact{Role: "SME desk", Email: "desk@hub.example.fi", Phone: "+358 1"},
		Technologies: map[string]int{"ai-decision-support": 4, "robotics": 5}, Services: map[string]int{"field-trial": 3},
		Sectors:  map[string]int{"C": 4, "10": 3},
		Capacity: map[protocol.Family]protocol.Capacity{protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 5, Unit: "SMEs per month"}},
	}
}

// FuzzProfileForm feeds the console's profile form (POST /me/profile) to
// profileFromForm: what it cannot read is a problem of a form field; what it reads
// fills the form again and reads back the same, and the profile's own problems name
// the form's fields.
func FuzzProfileForm(f *testing.F) {
	p := fuzzProfile()
	f.Add(profileValues(&p).Encode())
	for _, s := range []string{
		"", "name=+&sectors=C:x,,10:3,C:4&technologies.robotics=five&regions=fi1c,%20FI193",
		"languages=english,EN&categories=small&categories=small&type=XYZ&country=",
		"sectors=:&sectors=C&website=javascript:alert(1)&contact.email=a@b", "name=%ff%fe&description=%00",
	} {
		f.Add(s)
	}
	cur := fuzzProfile()
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw)
		p, problems := profileFromForm(form, &cur)
		for _, pr := range problems {
			if pr.Field == "" || pr.Rule == "" || profileField(pr.Field) == "" {
				t.Fatalf("form problem %+v names no field of the form", pr)
			}
		}
		p2, problems2 := profileFromForm(profileValues(&p), &cur)
		if len(problems2) > 0 {
			t.Fatalf("the form filled from %+v has problems: %v", p, problems2)
		}
		if !reflect.DeepEqual(p2, p) {
			t.Fatalf("filled and read again: got %+v, want %+v", p2, p)
		}
		if err := p.Validate(); err != nil {
			checkRefusal(t, err)
		}
	})
}

// FuzzReferralForm feeds the console's referral form (POST /refer) to parseReferral
// and Refer's checks: every problem names a field of the form.
func FuzzReferralForm(f *testing.F) {
	for _, s := range []string{
		"need.sector=10&need.region=fi193&need.category=small&need.family=test-before-invest&need.technologies=robotics" +
			"&need.description=Vision+on+a+bakery+line&sme.name=Bakery&sme.contact_name=Aino&consent.given_by=owner" +
			"&consent.given_at=2026-11-22&consent.purpose=referral&consent.until=2027-02-20",
		"need.maturity.green=101&need.maturity.data=x&consent.until=2026-13-01&consent.given_at=tomorrow",
		"need.technologies=&need.technologies=robotics&need.technologies=robotics&sme.website=ftp://x",
		"need.maturity.strategy=1&need.maturity.readiness=2&need.maturity.human=3&need.maturity.data=4&need.maturity.automation=5&need.maturity.green=6",
		"need.description=%ff&consent.given_at=2026-11-23", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw)
		req, problems := parseReferral(form, "hub-two", fuzzNow)
		for _, p := range problems {
			if p.Rule == "" || referField(p.Field) == "" {
				t.Fatalf("form problem %+v names no field of the form", p)
			}
		}
		if req.To != "hub-two" || req.Consent.Recipient != "hub-two" {
			t.Fatalf("referral to %q for %q", req.To, req.Consent.Recipient)
		}
		if !req.Consent.Until.IsZero() && req.Consent.Until.Format(time.TimeOnly) != "23:59:59" {
			t.Fatalf("consent until %v, want the end of a day", req.Consent.Until)
		}
		if problems := protocol.ProblemsOf(req.Validate(fuzzSelf, fuzzNow)); len(problems) > 0 {
			checkRefusal(t, &protocol.ValidationError{What: "referral", Problems: problems}) // as Refer returns them
			for _, p := range problems {
				if referField(p.Field) == "" {
					t.Fatalf("problem of %q, which the form does not have", p.Field)
				}
			}
		}
	})
}

// FuzzWebNext feeds the next parameter of the sign-in page to webNext: what it lets
// through is a path on this site, never a way to another.
func FuzzWebNext(f *testing.F) {
	for _, s := range []string{"/", "/referrals?dir=in", "//evil.example", "/\\evil.example", "https://evil.example/",
		"/login?next=/x", "/%2F%2Fevil.example", "/\t/evil", "javascript:alert(1)", "", "/a:b", "/?x=//y", "/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := webNext(next)
		if got == "/" {
			return
		}
		if got != next {
			t.Fatalf("webNext(%q) = %q, want it or /", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") ||
			strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("webNext(%q) lets through %q: %+v %v", next, got, u, err)
		}
		// Resolved against the console, it stays on the console.
		base, _ := url.Parse("http://127.0.0.1:7480/login")
		if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
			t.Fatalf("webNext(%q) = %q leads to %s", next, got, r)
		}
	})
}
