package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// referFlags are the flags of `hubnet refer`, one per field of the referral.
type referFlags struct {
	file                                                         string
	to                                                           string
	sector, region, category, family, need                       string
	tech                                                         []string
	maturity                                                     map[string]int
	smeName, smeWebsite, contactName, contactEmail, contactPhone string
	consentBy, consentAt, consentPurpose, consentUntil           string
}

// referFlagOf names the flag that sets each field of a referral, as the node names
// the field in its problems.
var referFlagOf = map[string]string{
	"to": "--to", "need.sector": "--sector", "need.region": "--region", "need.category": "--category",
	"need.family": "--family", "need.technologies": "--tech", "need.description": "--need", "need.maturity": "--maturity",
	"sme.name": "--sme-name", "sme.website": "--sme-website", "sme.contact_name": "--contact-name",
	"sme.contact_email": "--contact-email", "sme.contact_phone": "--contact-phone",
	"consent.given_by": "--consent-by", "consent.given_at": "--consent-at", "consent.purpose": "--consent-purpose",
	"consent.until": "--consent-until",
}

// maturityDimensions are the six scores of a digital maturity summary, in the order
// of the EDIH digital maturity assessment.
var maturityDimensions = []string{"strategy", "readiness", "human", "data", "automation", "green"}

const referLong = `Refer an SME to another hub: send the hub the SME's need, with the SME's consent.
The referral is stored at this hub with its message and delivered to hub --to now, or
when that hub is back on the network; 'hubnet referrals' follows it from there.

The receiving hub sees only the need (sector, NUTS 3 region, size category, service
family, technologies, the need in words and an optional digital maturity summary) and
the consent record. The SME's identity and contacts go to it, sealed, only after it
accepts. The need's description must not name the SME.

Give the referral as a YAML file (-f FILE, '-' for standard input) shaped like
docs/examples/referral.yaml, with flags for everything, or both: a flag overrides the
file's field. A misspelt field in the file is refused with its line.

  field                   flag
  to                      --to HUB
  need.sector             --sector        NACE section (C) or division (10)
  need.region             --region        NUTS 3 region of the SME (FI193)
  need.category           --category      micro, small, medium, small-mid-cap, public-sector, other
  need.family             --family        test-before-invest, skills-and-training,
                                          support-to-find-investments, innovation-ecosystem,
                                          digital-maturity-assessment
  need.technologies       --tech          technology slugs, see 'hubnet vocab technologies'
  need.description        --need          the need in words, without names
  need.maturity           --maturity      strategy=40,readiness=35,human=50,data=20,automation=15,green=30
  sme.name                --sme-name
  sme.website             --sme-website
  sme.contact_name        --contact-name
  sme.contact_email       --contact-email
  sme.contact_phone       --contact-phone
  consent.given_by        --consent-by    the role of who gave consent ("managing director")
  consent.given_at        --consent-at    when (default: now)
  consent.purpose         --consent-purpose
  consent.until           --consent-until the day the consent ends (it holds through that day)
  consent.recipient       (default: --to) the hub the consent names

Times are a date (2026-11-22), a local date and time (2026-11-22 09:30) or an RFC 3339
time (2026-11-22T09:30:00+02:00). The node checks every field and refuses the whole
referral if one breaks a rule, so nothing is sent; each problem names its field and
flag. Referring needs the hub's operator token (--token, HUBNET_TOKEN or -d DIR).`

func newReferCmd(a *app) *cobra.Command {
	var f referFlags
	cmd := &cobra.Command{
		Use:   "refer --to HUB (-f FILE | flags)",
		Short: a.T("Refer an SME to another hub, with its consent"),
		Long:  a.T(referLong),
		Example: `  hubnet -d ./hub refer -f referral.yaml
  hubnet -d ./hub refer -f referral.yaml --to digihall --consent-until 2027-06-30
  hubnet -d ./hub refer --to robocoast --sector 10 --region FI193 --category small \
    --family test-before-invest --tech ai-decision-support,sensors-vision-processing \
    --need "Wants to test machine vision for quality control on a bakery line." \
    --maturity strategy=40,readiness=35,human=50,data=20,automation=15,green=30 \
    --sme-name "Example Bakery Oy" --contact-name "Aino Example" --contact-email aino@bakery.example \
    --consent-by "managing director" --consent-purpose "referral for AI test-before-invest services" \
    --consent-until 2027-06-30`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var file referralFile
			if f.file != "" {
				var err error
				if file, err = readReferralFile(f.file, cmd.InOrStdin()); err != nil {
					return fail("refer", err, "")
				}
			}
			req, err := f.request(cmd.Flags(), file, time.Now())
			if err != nil {
				return fail("refer", err, "")
			}
			c, err := a.client()
			if err != nil {
				return fail("refer", err, "")
			}
			var info api.ReferralInfo
			raw, err := c.call(change, func(ac *api.Client) (err error) {
				info, err = ac.Refer(cmd.Context(), req)
				return err
			})
			if err != nil {
				var ae *apiError
				if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
					return fail(a.T("refer to %s", req.To), err, "see 'hubnet hubs' for the hubs this node knows")
				}
				return fail("refer", withFlags(err, referFlagOf), "")
			}
			if a.json {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			return a.printReferred(cmd.OutOrStdout(), info, a.cmdline("referrals", "show", info.Referral.ID))
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", a.T("the referral, a YAML file ('-' for standard input)"))
	fl.StringVar(&f.to, "to", "", a.T("the hub to refer the SME to"))
	fl.StringVar(&f.sector, "sector", "", a.T("the SME's sector: NACE section (C) or division (10)"))
	fl.StringVar(&f.region, "region", "", a.T("the SME's NUTS 3 region, e.g. FI193"))
	fl.StringVar(&f.category, "category", "", a.T("the SME's size category: %s", strings.Join(categoryNames(), ", ")))
	fl.StringVar(&f.family, "family", "", a.T("the service family wanted (e.g. test-before-invest)"))
	fl.StringSliceVar(&f.tech, "tech", nil, a.T("technologies wanted (slugs, e.g. ai-decision-support)"))
	fl.StringVar(&f.need, "need", "", a.T("the need in words, without naming the SME"))
	fl.StringToIntVar(&f.maturity, "maturity", nil, a.T("digital maturity scores 0-100: strategy=N,readiness=N,human=N,data=N,automation=N,green=N"))
	fl.StringVar(&f.smeName, "sme-name", "", a.T("the SME's name"))
	fl.StringVar(&f.smeWebsite, "sme-website", "", a.T("the SME's website (http or https URL)"))
	fl.StringVar(&f.contactName, "contact-name", "", a.T("the SME's contact person"))
	fl.StringVar(&f.contactEmail, "contact-email", "", a.T("the contact person's e-mail"))
	fl.StringVar(&f.contactPhone, "contact-phone", "", a.T("the contact person's phone"))
	fl.StringVar(&f.consentBy, "consent-by", "", a.T(`the role of who gave consent, e.g. "managing director"`))
	fl.StringVar(&f.consentAt, "consent-at", "", a.T("when consent was given (default: now)"))
	fl.StringVar(&f.consentPurpose, "consent-purpose", "", a.T("what the SME consented to"))
	fl.StringVar(&f.consentUntil, "consent-until", "", a.T("the last day the consent holds, e.g. 2027-06-30"))
	return cmd
}

// referralFile is a referral as a YAML file spells it: api.ReferralRequest with the
// field names of its JSON. Times are text, read as the flags are; each maturity score
// is a pointer so that a missing one is told from a zero.
type referralFile struct {
	To      string      `yaml:"to"`
	Need    needFile    `yaml:"need"`
	SME     smeFile     `yaml:"sme"`
	Consent consentFile `yaml:"consent"`
}

type needFile struct {
	Sector       string        `yaml:"sector"`
	Region       string        `yaml:"region"`
	Category     string        `yaml:"category"`
	Family       string        `yaml:"family"`
	Technologies []string      `yaml:"technologies"`
	Description  string        `yaml:"description"`
	Maturity     *maturityFile `yaml:"maturity"`
}

type maturityFile struct {
	Strategy   *int `yaml:"strategy"`
	Readiness  *int `yaml:"readiness"`
	Human      *int `yaml:"human"`
	Data       *int `yaml:"data"`
	Automation *int `yaml:"automation"`
	Green      *int `yaml:"green"`
}

type smeFile struct {
	Name         string `yaml:"name"`
	Website      string `yaml:"website"`
	ContactName  string `yaml:"contact_name"`
	ContactEmail string `yaml:"contact_email"`
	ContactPhone string `yaml:"contact_phone"`
}

type consentFile struct {
	GivenBy   string `yaml:"given_by"`
	GivenAt   string `yaml:"given_at"`
	Recipient string `yaml:"recipient"`
	Purpose   string `yaml:"purpose"`
	Until     string `yaml:"until"`
}

// referralYAMLPrefix is where each type of a referral file sits, for field paths as
// the node spells them.
var referralYAMLPrefix = map[string]string{
	"main.referralFile": "", "main.needFile": "need.", "main.maturityFile": "need.maturity.",
	"main.smeFile": "sme.", "main.consentFile": "consent.",
}

// readReferralFile reads a referral from a YAML file, or from stdin for "-".
func readReferralFile(path string, stdin io.Reader) (referralFile, error) {
	data, err := readInput(path, stdin)
	if err != nil {
		return referralFile{}, fmt.Errorf("read referral: %w", err)
	}
	r, err := decodeReferral(data)
	if err != nil {
		return referralFile{}, fmt.Errorf("referral %s: %w", path, err)
	}
	return r, nil
}

// decodeReferral decodes one YAML referral, refusing fields a referral does not have,
// each named with its line. It does not validate the values: the node does.
func decodeReferral(data []byte) (referralFile, error) {
	var r referralFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&r)
	switch {
	case err == io.EOF:
		return r, &protocol.ValidationError{What: "referral", Problems: []protocol.FieldError{{Field: "(file)", Rule: "is empty"}}}
	case err == nil:
		return r, nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return r, &protocol.ValidationError{What: "referral", Problems: []protocol.FieldError{{Field: "(yaml)", Rule: err.Error()}}}
	}
	ve := &protocol.ValidationError{What: "referral"}
	for _, e := range te.Errors {
		if m := yamlFieldError.FindStringSubmatch(e); m != nil {
			ve.Problems = append(ve.Problems, protocol.FieldError{Field: referralYAMLPrefix[m[3]] + m[2], Rule: "is not a field (line " + m[1] + "); check its spelling"})
		} else if m := yamlLineError.FindStringSubmatch(e); m != nil {
			ve.Problems = append(ve.Problems, protocol.FieldError{Field: "line " + m[1], Rule: m[2]})
		} else {
			ve.Problems = append(ve.Problems, protocol.FieldError{Field: "(yaml)", Rule: e})
		}
	}
	return r, ve
}

// request is the file with the flags that were given laid over it, the times read and
// the defaults filled in: consent given now, for the hub referred to. Times that do
// not read are returned as field problems, each naming its flag.
func (f *referFlags) request(fl *pflag.FlagSet, file referralFile, now time.Time) (api.ReferralRequest, error) {
	set := func(dst *string, flag, value string) {
		if fl.Changed(flag) {
			*dst = value
		}
	}
	set(&file.To, "to", f.to)
	set(&file.Need.Sector, "sector", f.sector)
	set(&file.Need.Region, "region", f.region)
	set(&file.Need.Category, "category", f.category)
	set(&file.Need.Family, "family", f.family)
	set(&file.Need.Description, "need", f.need)
	if fl.Changed("tech") {
		file.Need.Technologies = f.tech
	}
	set(&file.SME.Name, "sme-name", f.smeName)
	set(&file.SME.Website, "sme-website", f.smeWebsite)
	set(&file.SME.ContactName, "contact-name", f.contactName)
	set(&file.SME.ContactEmail, "contact-email", f.contactEmail)
	set(&file.SME.ContactPhone, "contact-phone", f.contactPhone)
	set(&file.Consent.GivenBy, "consent-by", f.consentBy)
	set(&file.Consent.GivenAt, "consent-at", f.consentAt)
	set(&file.Consent.Purpose, "consent-purpose", f.consentPurpose)
	set(&file.Consent.Until, "consent-until", f.consentUntil)

	req := api.ReferralRequest{
		To: file.To,
		Need: protocol.Need{Sector: file.Need.Sector, Region: file.Need.Region, Category: protocol.Category(file.Need.Category),
			Family: protocol.Family(file.Need.Family), Technologies: file.Need.Technologies, Description: file.Need.Description},
		SME: protocol.SME{Name: file.SME.Name, Website: file.SME.Website, ContactName: file.SME.ContactName,
			ContactEmail: file.SME.ContactEmail, ContactPhone: file.SME.ContactPhone},
		Consent: protocol.Consent{GivenBy: file.Consent.GivenBy, Recipient: file.Consent.Recipient, Purpose: file.Consent.Purpose},
	}
	if req.Consent.Recipient == "" {
		req.Consent.Recipient = req.To
	}
	v := &protocol.ValidationError{What: "referral"}
	var err error
	if req.Need.Maturity, err = f.maturityOver(file.Need.Maturity); err != nil {
		v.Problems = append(v.Problems, err.(*protocol.ValidationError).Problems...)
	}
	const timeRule = "must be a date (2026-11-22), a date and time (2026-11-22 09:30) or an RFC 3339 time, got %q"
	switch s := file.Consent.GivenAt; {
	case s == "":
		req.Consent.GivenAt = now
	default:
		t, ok := parseWhen(s, false)
		if !ok {
			v.Problems = append(v.Problems, protocol.FieldError{Field: "consent.given_at", Rule: fmt.Sprintf(timeRule, s)})
		}
		req.Consent.GivenAt = t
	}
	if s := file.Consent.Until; s != "" {
		t, ok := parseWhen(s, true)
		if !ok {
			v.Problems = append(v.Problems, protocol.FieldError{Field: "consent.until", Rule: fmt.Sprintf(timeRule, s)})
		}
		req.Consent.Until = t
	}
	if len(v.Problems) > 0 {
		// Nothing goes to the node, which would name the other problems: name them
		// here, so that all are fixed at once.
		named := map[string]bool{}
		for _, p := range v.Problems {
			named[p.Field] = true
		}
		for _, p := range protocol.ProblemsOf(req.Validate("", now)) {
			if !named[p.Field] {
				v.Problems = append(v.Problems, p)
			}
		}
		return req, withFlags(v, referFlagOf)
	}
	return req, nil
}

// maturityOver lays the scores of --maturity over those of the file. A summary needs
// all six scores: a missing one would read as 0.
func (f *referFlags) maturityOver(file *maturityFile) (*protocol.Maturity, error) {
	scores := map[string]int{}
	if file != nil {
		for name, p := range map[string]*int{"strategy": file.Strategy, "readiness": file.Readiness, "human": file.Human,
			"data": file.Data, "automation": file.Automation, "green": file.Green} {
			if p != nil {
				scores[name] = *p
			}
		}
	}
	v := &protocol.ValidationError{What: "referral"}
	for _, name := range slices.Sorted(maps.Keys(f.maturity)) {
		score := f.maturity[name]
		if !slices.Contains(maturityDimensions, name) {
			v.Problems = append(v.Problems, protocol.FieldError{Field: "need.maturity." + name,
				Rule: "is not a maturity dimension: give " + strings.Join(maturityDimensions, ", ")})
			continue
		}
		scores[name] = score
	}
	if len(scores) == 0 && len(v.Problems) == 0 {
		return nil, nil
	}
	for _, name := range maturityDimensions {
		if _, ok := scores[name]; !ok {
			v.Problems = append(v.Problems, protocol.FieldError{Field: "need.maturity." + name,
				Rule: "is required: a maturity summary has all six scores, 0 to 100"})
		}
	}
	if len(v.Problems) > 0 {
		return nil, v
	}
	return &protocol.Maturity{Strategy: scores["strategy"], Readiness: scores["readiness"], Human: scores["human"],
		Data: scores["data"], Automation: scores["automation"], Green: scores["green"]}, nil
}

// parseWhen reads a time as flags and files spell it: an RFC 3339 time, a local date
// and time (2026-11-22 09:30 or 2026-11-22T09:30), or a local date, which is the
// start of that day or, with endOfDay, its last second.
func parseWhen(s string, endOfDay bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, true
		}
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.Local)
	if err != nil {
		return time.Time{}, false
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1).Add(-time.Second)
	}
	return t, true
}

// withFlags adds to the field of each of err's problems the flag that sets it,
// "need.sector" becoming "need.sector (--sector)": the field for a file, the flag for
// the command line. A field under a known one ("need.technologies.0") gets its flag.
func withFlags(err error, flagOf map[string]string) error {
	var probs []protocol.FieldError
	var (
		ae *apiError
		ve *protocol.ValidationError
	)
	switch {
	case errors.As(err, &ae):
		probs = ae.Body.Problems
	case errors.As(err, &ve):
		probs = ve.Problems
	}
	for i, p := range probs {
		for name := p.Field; name != ""; {
			if flag, ok := flagOf[name]; ok {
				probs[i].Field = p.Field + " (" + flag + ")"
				break
			}
			cut := strings.LastIndexByte(name, '.')
			if cut < 0 {
				break
			}
			name = name[:cut]
		}
	}
	return err
}

// printReferred says what became of a new referral and what happens next; follow is
// the command that shows it.
func (a *app) printReferred(w io.Writer, info api.ReferralInfo, follow string) error {
	r := info.Referral
	var b strings.Builder
	b.WriteString(a.T("Referral %s to %s: %s.", r.ID, r.To, r.State) + "\n")
	if info.Pending > 0 {
		b.WriteString(a.T("It is delivered when hub %s acknowledges it: now if it is reachable, else when it is back.", r.To) + "\n")
	}
	b.WriteString(a.T("Then %s accepts, declines or asks for more information; it sees the need, and the SME's identity only once it accepts.", r.To) + "\n")
	b.WriteString(a.T("Follow it with: %s", follow) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}
