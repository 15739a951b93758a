package console

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The directory pages (search, hub), the hub's own page and the reports.

// webSearch is the data of the search page.
type webSearch struct {
	Form    *webForm
	Vocab   *webVocabulary
	Live    bool
	Empty   bool // no criteria: the whole directory, best first
	Result  *api.SearchResult
	Error   string   // a failure that is not the user's
	Place   string   // the town or region name the region box named, resolved to the code in Form
	Regions []string // the region box's suggestions: this hub's country's NUTS 3 regions

	// Paging: the page shows Hits, results From to To of Shown, the most that a
	// search pages through (Total, up to protocol.MaxQueryLimit).
	Hits            []api.Hit
	From, To, Shown int
	Page, Pages     int
	All             bool // every result on one page
	PageURL         []webPageLink
	Prev, Next      string // URLs of the pages around this one; "" at the ends
	AllURL          string // URL of every result on one page; "" when they fit on one
	ReferQuery      string // what a referral takes from the search: ?family=…&tech=…
}

// webPageLink is one link of the pager.
type webPageLink struct {
	N       int
	URL     string
	Current bool
}

// search is GET /search: the form, filled from the URL, and its results. The
// parameters are those of GET /v1/search, plus live=1 for a live query, page=N for
// the Nth page of limit results (20 by default), and all=1 for every result on one
// page.
func (c *Console) search(w http.ResponseWriter, r *http.Request, v *webView) {
	vals, err := queryOf(r)
	if err != nil {
		d := &webSearch{Form: newWebForm(url.Values{}).inOrder(searchFormOrder).labelled(searchLabels), Vocab: webVocab()}
		d.Form.addError(err, searchField)
		c.render(w, r, v, http.StatusBadRequest, "search", v.lang.T("Find a partner"), "search", d)
		return
	}
	live := vals.Get("live") == "1"
	q := url.Values{}
	for k, vs := range vals {
		if k == "live" || k == "page" || k == "all" {
			continue
		}
		q[k] = vs
	}
	// Codes typed by hand in lower case are meant in upper case; a region may be
	// named rather than coded.
	if s := q.Get("country"); s != "" {
		q.Set("country", strings.ToUpper(strings.TrimSpace(s)))
	}
	d := &webSearch{Form: newWebForm(q).inOrder(searchFormOrder).labelled(searchLabels), Vocab: webVocab(), Live: live,
		Empty: len(q) == 0, Regions: c.regionChoices()}
	var regionErr string
	if s := strings.TrimSpace(q.Get("region")); s != "" {
		code, problem := regionProblem(v.lang, s, false)
		if problem != "" {
			regionErr = problem
			q.Del("region") // checked on its own: the rest of the query still runs
		} else {
			// Say where a town lies; a region's own name needs no telling.
			if a := resolveRegion(s); a.Place != nil && foldName(s) != foldName(a.Place.Region.Name) {
				d.Place = strings.TrimSpace(s)
			}
			q.Set("region", code)
		}
	}
	size, _ := strconv.Atoi(q.Get("limit"))
	if size <= 0 || size > protocol.MaxQueryLimit {
		size = protocol.DefaultQueryLimit
	}
	page, _ := strconv.Atoi(vals.Get("page"))
	page = max(page, 1)
	d.All = vals.Get("all") == "1"
	// The node ranks the best of the whole directory; a page is a slice of them.
	ask := url.Values{}
	for k, vs := range q {
		ask[k] = vs
	}
	if n, err := strconv.Atoi(q.Get("limit")); q.Get("limit") == "" || (err == nil && n > 0 && n <= protocol.MaxQueryLimit) {
		// A limit out of range is left for ParseSearch to report.
		if d.All {
			ask.Set("limit", strconv.Itoa(protocol.MaxQueryLimit))
		} else {
			ask.Set("limit", strconv.Itoa(min(page*size, protocol.MaxQueryLimit)))
		}
	}
	status := http.StatusOK
	query, err := node.ParseSearch(ask)
	if err != nil {
		// Report the rest of the query's problems with those of the parameters.
		d.Form.addError(err, searchField)
		query.Normalize()
		d.Form.addError(query.Validate(), searchField)
		status = http.StatusBadRequest
	} else if regionErr == "" {
		var res api.SearchResult
		if live && v.session == "" {
			// A visitor's live query makes every hub answer: limited per address.
			if wait := c.n.TakeLiveQuery(r.RemoteAddr); wait > 0 {
				secs := int(math.Ceil(wait.Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				d.Error = v.lang.T("Too many live searches from your address: wait %d seconds, or search the directory without asking the hubs.", secs)
				c.render(w, r, v, http.StatusTooManyRequests, "search", v.lang.T("Find a partner"), "search", d)
				return
			}
		}
		if live {
			res, err = c.n.Query(r.Context(), query, 0)
		} else {
			res, err = c.n.Search(query)
		}
		switch {
		case err == nil:
			d.Result = &res
			d.page(vals, res, page, size)
		case d.Form.addError(err, searchField):
			status = http.StatusBadRequest
		default:
			status, d.Error = http.StatusInternalServerError, err.Error()
		}
	}
	if regionErr != "" {
		q.Set("region", vals.Get("region")) // show what was typed
		d.Form.add(protocol.FieldError{Field: "region", Rule: regionErr}, searchField)
		status = http.StatusBadRequest
	}
	if q.Get("country") == "" {
		// The country was taken from a region, whose own problem says it all.
		delete(d.Form.errs, "country")
	}
	d.ReferQuery = referQuery(q)
	c.render(w, r, v, status, "search", v.lang.T("Find a partner"), "search", d)
}

// page cuts the results of res to the page asked for and makes the pager's links.
func (d *webSearch) page(vals url.Values, res api.SearchResult, page, size int) {
	d.Shown = min(res.Total, protocol.MaxQueryLimit)
	link := func(set func(url.Values)) string {
		u := url.Values{}
		for k, vs := range vals {
			if k != "page" && k != "all" {
				u[k] = vs
			}
		}
		set(u)
		return "/search?" + u.Encode()
	}
	if d.All {
		d.Hits, d.From, d.To = res.Hits, 1, len(res.Hits)
		if len(res.Hits) > size {
			d.Prev = link(func(url.Values) {}) // back to pages
		}
		return
	}
	d.Pages = max(1, (d.Shown+size-1)/size)
	d.Page = min(page, d.Pages)
	start := min((d.Page-1)*size, len(res.Hits))
	end := min(start+size, len(res.Hits))
	d.Hits, d.From, d.To = res.Hits[start:end], start+1, end
	if d.Pages > 1 {
		for n := 1; n <= d.Pages; n++ {
			d.PageURL = append(d.PageURL, webPageLink{N: n, Current: n == d.Page,
				URL: link(func(u url.Values) { u.Set("page", strconv.Itoa(n)) })})
		}
		if d.Page > 1 {
			d.Prev = d.PageURL[d.Page-2].URL
		}
		if d.Page < d.Pages {
			d.Next = d.PageURL[d.Page].URL
		}
		d.AllURL = link(func(u url.Values) { u.Set("all", "1") })
	}
}

// referQuery is what a referral form takes from a search: the service family,
// the technologies, the sector, the customer category and a NUTS 3 region, as the
// query of /refer (and of a hub page, which passes it on).
func referQuery(q url.Values) string {
	out := url.Values{}
	for _, k := range []string{"family", "sector", "category"} {
		if s := strings.TrimSpace(q.Get(k)); s != "" {
			out.Set(k, s)
		}
	}
	for _, t := range q["tech"] {
		for part := range strings.SplitSeq(t, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out.Add("tech", part)
			}
		}
	}
	if reg, ok := protocol.RegionByCode(q.Get("region")); ok && reg.Level == 3 {
		out.Set("region", reg.Code)
	}
	if len(out) == 0 {
		return ""
	}
	return out.Encode()
}

// HubURL is the page of hub id, with what the search gives a referral.
func (d *webSearch) HubURL(id string) string {
	if d.ReferQuery == "" {
		return "/hubs/" + url.PathEscape(id)
	}
	return "/hubs/" + url.PathEscape(id) + "?" + d.ReferQuery
}

// ReferURL is the referral form to hub id, filled in from the search.
func (d *webSearch) ReferURL(id string) string { return referURL(id, d.ReferQuery) }

// referURL is the referral form to hub id, with the query referQuery made.
func referURL(id, query string) string {
	u := "/refer?to=" + url.QueryEscape(id)
	if query != "" {
		u += "&" + query
	}
	return u
}

// regionChoices are this hub's country's NUTS 3 regions, for the region boxes'
// suggestions: most SMEs an advisor refers are in the hub's own country.
func (c *Console) regionChoices() []string {
	p, err := c.n.Profile()
	if err != nil || p.Country == "" {
		return nil
	}
	return regionChoices(p.Country)
}

// queryOf returns the request's URL parameters, or a *protocol.ValidationError when
// the query string does not decode: a bad %-escape, or more parameters than net/url
// reads (10,000). r.URL.Query() would leave those out, and answer another question.
func queryOf(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &protocol.ValidationError{What: "query string", Problems: []protocol.FieldError{{Field: "(query)", Rule: err.Error()}}}
	}
	return v, nil
}

// searchFormOrder is the order of the search form's fields, which are the
// parameters of GET /v1/search.
var searchFormOrder = []string{"text", "tech", "family", "service", "sector", "country", "region", "reach", "lang",
	"category", "min_capacity", "type", "limit"}

// searchLabels are the search form's labels, for the error summary.
var searchLabels = map[string]string{
	"text": "Words", "tech": "Technologies", "family": "Service family", "service": "Services",
	"sector": "Sector of the SME", "country": "Country of the SME", "region": "Region of the SME",
	"reach": "How far may the partner be?", "lang": "Languages the SME works in", "category": "Customer category",
	"min_capacity": "Free places needed", "type": "Hub types", "limit": "Results per page",
}

// searchField names the form field of a query's problem: "technologies.0" is the
// tech field.
func searchField(field string) string {
	head, _, _ := strings.Cut(field, ".")
	switch head {
	case "technologies":
		return "tech"
	case "services":
		return "service"
	case "languages":
		return "lang"
	case "types":
		return "type"
	}
	if slices.Contains(searchFormOrder, head) { // the parameters of GET /v1/search
		return head
	}
	return ""
}

// webHub is the data of a hub's page.
type webHub struct {
	Hub       api.HubInfo
	Regions   []protocol.Region
	Languages []webOption
	Techs     []webLevelRow
	Services  []webLevelRow
	Sectors   []webLevelRow
	Capacity  []webCapacityRow
	CanRefer  bool
	ReferURL  string // the referral form, with what the search that led here gives it

	// Guesses: what was inferred about the hub and counts in search, with its source.
	GuessedRegions   []webGuess // when the hub declared no regions
	GuessedLanguages []webGuess // when the hub declared no languages
	InferredSectors  []webGuess
}

// webGuess is one inferred value: its code, its label, for a sector its level, and
// what it was inferred from.
type webGuess struct {
	Code, Label, Source string
	Level               int
}

// webLevelRow is one specialisation and its level.
type webLevelRow struct {
	Code, Label, Note string
	Level             int
}

// webCapacityRow is the capacity of one service family.
type webCapacityRow struct {
	Family    protocol.FamilyInfo
	Capacity  protocol.Capacity
	Published bool
	Stale     bool // updated more than protocol.StaleAfterDays ago: search counts it less
}

// hub is GET /hubs/{id}: a hub's profile as the directory holds it.
func (c *Console) hub(w http.ResponseWriter, r *http.Request, v *webView) {
	h, err := c.n.Hub(r.PathValue("id"))
	if errors.Is(err, protocol.ErrNotFound) {
		c.fail(w, r, v, http.StatusNotFound, v.lang.T("This hub's directory has no hub %s.", r.PathValue("id")))
		return
	}
	if err != nil {
		c.fail(w, r, v, http.StatusInternalServerError, err.Error())
		return
	}
	p := h.Profile
	d := &webHub{Hub: h, CanRefer: !h.Self, Capacity: capacityRows(p.Capacity), ReferURL: referURL(h.ID, referQuery(r.URL.Query()))}
	for _, code := range p.Regions {
		reg, ok := protocol.RegionByCode(code)
		if !ok {
			reg = protocol.Region{Code: code}
		}
		d.Regions = append(d.Regions, reg)
	}
	for _, tag := range p.Languages {
		d.Languages = append(d.Languages, webOption{Value: tag, Label: webLanguage(tag)})
	}
	for _, h := range p.GuessedRegions() {
		d.GuessedRegions = append(d.GuessedRegions, webGuess{Code: h.Value, Label: webRegion(h.Value), Source: h.Source})
	}
	for _, h := range p.GuessedLanguages() {
		d.GuessedLanguages = append(d.GuessedLanguages, webGuess{Code: h.Value, Label: webLanguage(h.Value), Source: h.Source})
	}
	if p.Inferred != nil {
		for _, h := range p.Inferred.Sectors {
			d.InferredSectors = append(d.InferredSectors, webGuess{Code: h.Value, Label: v.lang.T(webSector(h.Value)), Source: h.Source, Level: h.Level})
		}
	}
	d.Techs = levelRows(p.Technologies, func(s string) (string, string) { return webTech(s), "" })
	d.Services = levelRows(p.Services, func(s string) (string, string) {
		svc, ok := protocol.ServiceBySlug(s)
		if !ok {
			return s, ""
		}
		return svc.Label, webFamily(svc.Family)
	})
	d.Sectors = levelRows(p.Sectors, func(s string) (string, string) { return v.lang.T(webSector(s)), "" })
	c.render(w, r, v, http.StatusOK, "hub", p.Name, "search", d)
}

// levelRows lists specialisations, the strongest first.
func levelRows(m map[string]int, label func(string) (string, string)) []webLevelRow {
	out := make([]webLevelRow, 0, len(m))
	for code, l := range m {
		lbl, note := label(code)
		out = append(out, webLevelRow{Code: code, Label: lbl, Note: note, Level: l})
	}
	slices.SortFunc(out, func(a, b webLevelRow) int {
		return cmp.Or(cmp.Compare(b.Level, a.Level), strings.Compare(a.Label, b.Label))
	})
	return out
}

// capacityRows lists the capacity of every service family, published or not.
func capacityRows(m map[protocol.Family]protocol.Capacity) []webCapacityRow {
	out := make([]webCapacityRow, len(protocol.Families))
	now := time.Now()
	for i, f := range protocol.Families {
		c, ok := m[f.Slug]
		out[i] = webCapacityRow{Family: f, Capacity: c, Published: ok, Stale: ok && c.Stale(now)}
	}
	return out
}

// webMe is the data of the hub's own page.
type webMe struct {
	Self      api.SelfInfo
	NoProfile bool
	Profile   *webForm // the profile form
	Vocab     *webVocabulary
	Capacity  []webCapacityForm
	Peers     []api.PeerInfo
	Saved     string // the family whose capacity was just saved
	Revision  string // the revision of the profile just saved
	Error     string
}

// webCapacityForm is the capacity form of one family.
type webCapacityForm struct {
	webCapacityRow
	Form *webForm
}

// me is GET /me: the hub's profile, capacity forms and peers.
func (c *Console) me(w http.ResponseWriter, r *http.Request, v *webView) {
	c.renderMe(w, r, v, http.StatusOK, meForms{})
}

// meForms are the forms of the hub's own page sent back with their problems.
type meForms struct {
	fam     protocol.Family // the family of capForm
	capForm *webForm        // a capacity form as sent, or nil
	profile *webForm        // the profile form as sent, or nil
	msg     string          // a problem of no field
}

// renderMe shows the hub's own page, with the forms of sent as they were sent.
func (c *Console) renderMe(w http.ResponseWriter, r *http.Request, v *webView, status int, sent meForms) {
	fam, failed := sent.fam, sent.capForm
	self, err := c.n.Self()
	if err != nil {
		c.fail(w, r, v, http.StatusInternalServerError, err.Error())
		return
	}
	d := &webMe{Self: self, NoProfile: self.Profile == nil, Peers: c.n.Peers(), Error: sent.msg, Vocab: webVocab(),
		Profile: sent.profile}
	if d.Profile == nil {
		d.Profile = newWebForm(profileValues(self.Profile)).inOrder(profileFormOrder).labelled(profileLabels)
	}
	if status == http.StatusOK {
		q := r.URL.Query()
		if f, ok := protocol.FamilyBySlug(q.Get("saved")); ok {
			d.Saved = v.lang.T(f.Label)
		}
		if rev, err := strconv.ParseUint(q.Get("profile"), 10, 64); err == nil {
			d.Revision = strconv.FormatUint(rev, 10)
		}
	}
	var caps map[protocol.Family]protocol.Capacity
	if self.Profile != nil {
		caps = self.Profile.Capacity
	}
	for _, row := range capacityRows(caps) {
		f := failed
		if f == nil || row.Family.Slug != fam {
			f = newWebForm(url.Values{})
			if row.Published {
				f.Values.Set("available", fmt.Sprint(row.Capacity.Available))
				f.Values.Set("maximum", fmt.Sprint(row.Capacity.Maximum))
				f.Values.Set("unit", row.Capacity.Unit)
			}
		}
		d.Capacity = append(d.Capacity, webCapacityForm{webCapacityRow: row, Form: f})
	}
	c.render(w, r, v, status, "me", v.lang.T("My hub"), "me", d)
}

// setCapacity is POST /me/capacity/{family}.
func (c *Console) setCapacity(w http.ResponseWriter, r *http.Request, v *webView) {
	fam := protocol.Family(r.PathValue("family"))
	if _, ok := protocol.FamilyBySlug(string(fam)); !ok {
		c.fail(w, r, v, http.StatusNotFound, v.lang.T("There is no service family %s.", string(fam)))
		return
	}
	f := newWebForm(r.PostForm)
	var problems []protocol.FieldError
	ch := api.CapacityChange{
		Available: webInt(r.PostForm, "available", &problems),
		Maximum:   webInt(r.PostForm, "maximum", &problems),
		Unit:      strings.TrimSpace(r.PostForm.Get("unit")),
	}
	fieldOf := func(field string) string {
		field = strings.TrimPrefix(field, "capacity."+string(fam)+".")
		if field == "available" || field == "maximum" || field == "unit" {
			return field
		}
		return ""
	}
	if len(problems) > 0 {
		for _, p := range problems {
			f.add(p, fieldOf)
		}
		c.renderMe(w, r, v, http.StatusBadRequest, meForms{fam: fam, capForm: f})
		return
	}
	_, err := c.n.SetCapacity(fam, ch)
	switch {
	case err == nil:
		c.n.Logger().Info("capacity changed in the console", "family", fam)
		http.Redirect(w, r, "/me?saved="+url.QueryEscape(string(fam))+"#cap-"+string(fam), http.StatusSeeOther)
	case f.addError(err, fieldOf):
		c.renderMe(w, r, v, http.StatusBadRequest, meForms{fam: fam, capForm: f})
	case errors.Is(err, node.ErrNoProfile):
		c.renderMe(w, r, v, http.StatusConflict, meForms{fam: fam, capForm: f, msg: v.lang.T("This hub has no profile yet: apply one with `hubnet profile apply -f FILE` first.")})
	default:
		status, msg := consoleError(err)
		c.renderMe(w, r, v, status, meForms{fam: fam, capForm: f, msg: msg})
	}
}

// webReports is the data of the reports page.
type webReports struct {
	Form       *webForm
	Report     *api.Report
	Chart      webChart
	ByCategory []webCount
	BySector   []webCount
	ByRegion   []webCount
	ByFamily   []webCount
	ByPartner  []webCount
	CSV        string
}

// webCount is one line of a KPI breakdown.
type webCount struct {
	Key, Label string
	N          int
}

// webChart is a horizontal bar chart, laid out here so the template only draws.
type webChart struct {
	Width, Height int
	Bars          []webBar
}

// webBar is one bar: its label and value, and where they go.
type webBar struct {
	Label     string
	N         int
	Y, TextY  int
	BarX      int
	W, ValueX string
}

// reportPeriod reads from and to (dates; to not included), by default this calendar
// year.
func (c *Console) reportPeriod(q url.Values) (from, to time.Time, f *webForm) {
	now := c.n.Now().UTC()
	from = time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	to = from.AddDate(1, 0, 0)
	f = newWebForm(url.Values{"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}}).inOrder([]string{"from", "to"})
	for _, k := range []string{"from", "to"} {
		s := strings.TrimSpace(q.Get(k))
		if s == "" {
			continue
		}
		f.Values.Set(k, s)
		t, err := node.ParseDay(s, k)
		if err != nil {
			var fe protocol.FieldError
			errors.As(err, &fe)
			f.add(fe, func(s string) string { return s })
			continue
		}
		if k == "from" {
			from = t
		} else {
			to = t
		}
	}
	return from, to, f
}

// reports is GET /reports: the KPI figures of a period.
func (c *Console) reports(w http.ResponseWriter, r *http.Request, v *webView) {
	from, to, f := c.reportPeriod(r.URL.Query())
	d := &webReports{Form: f}
	status := http.StatusOK
	if !f.HasErrors() {
		rep, err := c.n.Report(from, to)
		switch {
		case err == nil:
			d.Report = &rep
		case f.addError(err, func(s string) string { return s }):
			status = http.StatusBadRequest
		default:
			c.fail(w, r, v, http.StatusInternalServerError, err.Error())
			return
		}
	} else {
		status = http.StatusBadRequest
	}
	if rep := d.Report; rep != nil {
		d.CSV = "/reports.csv?" + url.Values{"from": {f.Get("from")}, "to": {f.Get("to")}}.Encode()
		d.ByCategory = counts(rep.ByCategory, func(k string) string { return v.lang.T(webCategory(protocol.Category(k))) })
		d.BySector = counts(rep.BySector, func(k string) string { return v.lang.T(webSector(k)) })
		d.ByRegion = counts(rep.ByRegion, webRegion)
		d.ByPartner = counts(rep.ByPartner, c.hubName)
		for _, fam := range protocol.Families { // every family, so the chart's rows do not move
			d.ByFamily = append(d.ByFamily, webCount{Key: string(fam.Slug), Label: webSentence(v.lang.T(fam.Label)), N: rep.ByFamily[string(fam.Slug)]})
		}
		d.Chart = barChart(d.ByFamily)
	}
	c.render(w, r, v, status, "reports", v.lang.T("Reports"), "reports", d)
}

// reportCSV is GET /reports.csv: the records of the period, as GET /v1/report
// gives them with format=csv.
func (c *Console) reportCSV(w http.ResponseWriter, r *http.Request, v *webView) {
	from, to, f := c.reportPeriod(r.URL.Query())
	var rep api.Report
	if !f.HasErrors() {
		var err error
		if rep, err = c.n.Report(from, to); err != nil && !f.addError(err, func(s string) string { return s }) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	if f.HasErrors() {
		var msgs []string
		for _, p := range f.Summary() {
			msgs = append(msgs, p.Field+": "+p.Rule)
		}
		http.Error(w, strings.Join(msgs, "\n"), http.StatusBadRequest)
		return
	}
	name := fmt.Sprintf("hubnet-report-%s-%s-%s.csv", c.n.ID(), from.Format(time.DateOnly), to.Format(time.DateOnly))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := node.WriteReportCSV(w, rep); err != nil {
		c.n.Logger().Error("console report csv", "err", err)
	}
}

// counts lists a breakdown, the largest first.
func counts(m map[string]int, label func(string) string) []webCount {
	out := make([]webCount, 0, len(m))
	for k, n := range m {
		out = append(out, webCount{Key: k, Label: label(k), N: n})
	}
	slices.SortFunc(out, func(a, b webCount) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Key, b.Key)) })
	return out
}

// barChart lays out one bar per count.
func barChart(cs []webCount) webChart {
	const (
		labelW = 230
		barMax = 300
		row    = 30
		barH   = 20
	)
	ch := webChart{Width: labelW + barMax + 50, Height: row*len(cs) + 10}
	most := 0
	for _, c := range cs {
		most = max(most, c.N)
	}
	for i, c := range cs {
		w := 0.0
		if most > 0 {
			w = float64(c.N) / float64(most) * barMax
		}
		y := 5 + i*row
		ch.Bars = append(ch.Bars, webBar{Label: c.Label, N: c.N, Y: y, TextY: y + 15, BarX: labelW,
			W: fmt.Sprintf("%.1f", w), ValueX: fmt.Sprintf("%.1f", labelW+w+6)})
	}
	return ch
}

// hubName returns the name of hub id as the directory holds it, or the ID.
func (c *Console) hubName(id string) string {
	if name := c.n.HubName(id); name != "" {
		return name
	}
	return id
}

// consoleError returns the status and message the console shows for an error that is
// neither bad input nor a refused action.
func consoleError(err error) (int, string) {
	if errors.Is(err, node.ErrWrite) {
		return node.StorageStatus(err)
	}
	return http.StatusInternalServerError, err.Error()
}
