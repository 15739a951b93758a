package contract_test

import (
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/contract"
	"github.com/hubnet-eu/hubnet/protocol"
)

// raw is the document as plain JSON values, for the tests that walk it.
type raw map[string]any

func document(t *testing.T) raw {
	t.Helper()
	var d raw
	if err := json.Unmarshal(api.OpenAPI(), &d); err != nil {
		t.Fatalf("api/openapi.json: %v", err)
	}
	return d
}

// obj returns v as an object, or nil.
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// resolve follows a local $ref ("#/components/schemas/X") of v, once or more.
func (d raw) resolve(v any) map[string]any {
	m := obj(v)
	for i := 0; i < 10 && m != nil; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		m = d.pointer(ref)
	}
	return m
}

// pointer returns the object at a local JSON pointer.
func (d raw) pointer(ref string) map[string]any {
	cur := map[string]any(d)
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		cur = obj(cur[part])
	}
	return cur
}

// refName returns X of a schema {"$ref": "#/components/schemas/X"}, or "".
func refName(v any) string {
	ref, _ := obj(v)["$ref"].(string)
	return strings.TrimPrefix(ref, "#/components/schemas/")
}

func TestDocument_valid(t *testing.T) {
	d, err := contract.Document()
	if err != nil {
		t.Fatal(err)
	}
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", d.OpenAPI)
	}
}

// schemaTypes names the Go type of each object schema of the document. A schema of a
// request body only (request: true) may require fewer fields than the Go type always
// writes: the node fills in the others. Every other schema requires exactly the
// fields the Go type always writes, those without omitempty or omitzero.
var schemaTypes = map[string]struct {
	typ     reflect.Type
	request bool
}{
	"ErrorResponse":   {reflect.TypeFor[api.ErrorResponse](), false},
	"ErrorBody":       {reflect.TypeFor[api.ErrorBody](), false},
	"FieldError":      {reflect.TypeFor[protocol.FieldError](), false},
	"Health":          {reflect.TypeFor[api.Health](), false},
	"SelfInfo":        {reflect.TypeFor[api.SelfInfo](), false},
	"ClockSkew":       {reflect.TypeFor[api.ClockSkew](), false},
	"Addrs":           {reflect.TypeFor[api.Addrs](), false},
	"PeerInfo":        {reflect.TypeFor[api.PeerInfo](), false},
	"HubInfo":         {reflect.TypeFor[api.HubInfo](), false},
	"Profile":         {reflect.TypeFor[protocol.Profile](), false},
	"ProfileUpdate":   {reflect.TypeFor[protocol.Profile](), true},
	"Contact":         {reflect.TypeFor[protocol.Contact](), false},
	"Inferred":        {reflect.TypeFor[protocol.Inferred](), false},
	"Hint":            {reflect.TypeFor[protocol.Hint](), false},
	"Capacity":        {reflect.TypeFor[protocol.Capacity](), false},
	"CapacityUpdate":  {reflect.TypeFor[protocol.Capacity](), true},
	"CapacityChange":  {reflect.TypeFor[api.CapacityChange](), false},
	"Query":           {reflect.TypeFor[protocol.Query](), false},
	"LiveQuery":       {reflect.TypeFor[api.LiveQuery](), true},
	"SearchResult":    {reflect.TypeFor[api.SearchResult](), false},
	"Hit":             {reflect.TypeFor[api.Hit](), false},
	"Reason":          {reflect.TypeFor[protocol.Reason](), false},
	"ReasonItem":      {reflect.TypeFor[protocol.ReasonItem](), false},
	"LiveInfo":        {reflect.TypeFor[api.LiveInfo](), false},
	"ReferralRequest": {reflect.TypeFor[api.ReferralRequest](), false},
	"Need":            {reflect.TypeFor[protocol.Need](), false},
	"Maturity":        {reflect.TypeFor[protocol.Maturity](), false},
	"SME":             {reflect.TypeFor[protocol.SME](), false},
	"Consent":         {reflect.TypeFor[protocol.Consent](), false},
	"Referral":        {reflect.TypeFor[protocol.Referral](), false},
	"Change":          {reflect.TypeFor[protocol.Change](), false},
	"ReferralInfo":    {reflect.TypeFor[api.ReferralInfo](), false},
	"ReferralAction":  {reflect.TypeFor[api.ReferralAction](), false},
	"Report":          {reflect.TypeFor[api.Report](), false},
	"KPIRecord":       {reflect.TypeFor[protocol.KPIRecord](), false},
	"CertInfo":        {reflect.TypeFor[api.CertInfo](), false},
	"Certificate":     {reflect.TypeFor[protocol.Certificate](), false},
	"Revocation":      {reflect.TypeFor[protocol.Revocation](), false},
	"RevokeResult":    {reflect.TypeFor[api.RevokeResult](), false},
	"GossipKeyInfo":   {reflect.TypeFor[api.GossipKeyInfo](), false},
	"GossipKeyChange": {reflect.TypeFor[api.GossipKeyChange](), false},
	"GossipKey":       {reflect.TypeFor[api.GossipKey](), false},
	"Me":              {reflect.TypeFor[api.Me](), false},
	"Person":          {reflect.TypeFor[api.Person](), false},
	"PersonRequest":   {reflect.TypeFor[api.PersonRequest](), false},
	"SignInLink":      {reflect.TypeFor[api.SignInLink](), false},
	"Token":           {reflect.TypeFor[api.Token](), false},
	"TokenRequest":    {reflect.TypeFor[api.TokenRequest](), false},
	"NewToken":        {reflect.TypeFor[api.NewToken](), false},
	"SessionRequest":  {reflect.TypeFor[api.SessionRequest](), false},
	"LinkRequest":     {reflect.TypeFor[api.LinkRequest](), false},
	"LinkRequested":   {reflect.TypeFor[api.LinkRequested](), false},
	"Session":         {reflect.TypeFor[api.Session](), false},
	"Contacts":        {reflect.TypeFor[api.Contacts](), false},
	"PersonContact":   {reflect.TypeFor[protocol.PersonContact](), false},
	"FeedEvent":       {reflect.TypeFor[api.Event](), false},
	"FeedReferral":    {reflect.TypeFor[api.EventReferral](), false},
	"FeedHub":         {reflect.TypeFor[api.EventHub](), false},
	"Events":          {reflect.TypeFor[api.Events](), false},
	"Webhook":         {reflect.TypeFor[api.Webhook](), false},
	"WebhookRequest":  {reflect.TypeFor[api.WebhookRequest](), false},
	"NewWebhook":      {reflect.TypeFor[api.NewWebhook](), false},
	"Delivery":        {reflect.TypeFor[api.Delivery](), false},
	"Recipient":       {reflect.TypeFor[api.Recipient](), false},
	"NotifyTopics":    {reflect.TypeFor[api.NotifyTopics](), false},
}

// jsonField is a field of a Go struct as encoding/json writes it.
type jsonField struct {
	typ    reflect.Type
	always bool // written even when zero: no omitempty, no omitzero
}

// jsonFields returns the JSON fields of struct type t, embedded structs' included.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		out[name] = jsonField{typ: f.Type, always: !optional}
	}
	return out
}

// jsonType is the JSON Schema type encoding/json writes a value of Go type t as.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "string"
	case t.Kind() != reflect.Struct && t.Implements(reflect.TypeFor[encoding.TextMarshaler]()):
		return "string" // a name, such as a reason's kind
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "string" // base64
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.Kind().String()
}

// types returns the "type" of a schema as a list.
func types(s map[string]any) []string {
	switch v := s["type"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// TestSchemas_matchGoTypes holds the document's schemas to the Go types of package api
// (and protocol) that the node encodes and api.Client decodes: the same properties
// under the same JSON names, of the same JSON types, required as the Go encoder
// writes them, and a property that refers to another schema refers to the one of its
// Go type.
func TestSchemas_matchGoTypes(t *testing.T) {
	for _, p := range schemaProblems(document(t)) {
		t.Error(p)
	}
}

// TestSchemas_caught checks that schemaProblems finds each kind of drift between a
// schema and its Go type.
func TestSchemas_caught(t *testing.T) {
	schema := func(d raw, name string) map[string]any {
		return obj(obj(obj(d["components"])["schemas"])[name])
	}
	for _, c := range []struct {
		change func(d raw)
		want   string
	}{
		{func(d raw) { delete(obj(schema(d, "Health")["properties"]), "peers") }, "Go api.Health has JSON field peers, which schema Health has not"},
		{func(d raw) { obj(schema(d, "Health")["properties"])["mood"] = map[string]any{"type": "string"} }, "schema Health has property mood"},
		{func(d raw) { schema(d, "HubInfo")["required"] = []any{"reachable", "revision", "profile"} }, "schema HubInfo does not require id"},
		{func(d raw) {
			schema(d, "HubInfo")["required"] = []any{"id", "self", "reachable", "revision", "profile"}
		}, "schema HubInfo requires self"},
		{func(d raw) { obj(schema(d, "Hit")["properties"])["score"] = map[string]any{"type": "string"} }, "schema Hit property score has type [string], want number"},
		{func(d raw) {
			obj(obj(schema(d, "Referral")["properties"])["history"])["items"] = map[string]any{"$ref": "#/components/schemas/SME"}
		}, "schema Referral property history has items"},
		{func(d raw) {
			obj(schema(d, "ReferralInfo")["properties"])["sme"] = map[string]any{"$ref": "#/components/schemas/Need"}
		}, "schema ReferralInfo property sme refers to Need"},
		{func(d raw) { delete(obj(obj(d["components"])["schemas"]), "LiveInfo") }, "schema LiveInfo (Go api.LiveInfo) is not in the document"},
	} {
		d := document(t)
		c.change(d)
		got := strings.Join(schemaProblems(d), "\n")
		if !strings.Contains(got, c.want) {
			t.Errorf("got problems %q, want one that says %q", got, c.want)
		}
	}
}

// schemaProblems returns how the document's schemas differ from their Go types.
func schemaProblems(d raw) []string {
	var problems []string
	t := problemList{&problems}
	schemas := obj(obj(d["components"])["schemas"])
	byType := map[reflect.Type][]string{}
	for name, st := range schemaTypes {
		byType[st.typ] = append(byType[st.typ], name)
	}
	for name, v := range schemas {
		s := obj(v)
		if !slices.Contains(types(s), "object") || s["properties"] == nil {
			continue
		}
		if _, ok := schemaTypes[name]; !ok {
			t.Errorf("schema %s has properties but no Go type in schemaTypes", name)
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range schemaTypes {
			if !yield(k) {
				return
			}
		}
	}) {
		st := schemaTypes[name]
		s := obj(schemas[name])
		if s == nil {
			t.Errorf("schema %s (Go %s) is not in the document", name, st.typ)
			continue
		}
		if s["additionalProperties"] != false {
			t.Errorf("schema %s: want additionalProperties false: the node refuses unknown fields, and names every field it sends", name)
		}
		fields := jsonFields(st.typ)
		props := obj(s["properties"])
		for _, p := range slices.Sorted(mapKeys(props)) {
			if _, ok := fields[p]; !ok {
				t.Errorf("schema %s has property %s, which Go %s has not", name, p, st.typ)
			}
		}
		var required []string
		for _, r := range asList(s["required"]) {
			required = append(required, r.(string))
		}
		for _, f := range slices.Sorted(mapKeys(fields)) {
			jf := fields[f]
			ps := obj(props[f])
			if ps == nil {
				t.Errorf("Go %s has JSON field %s, which schema %s has not", st.typ, f, name)
				continue
			}
			req := slices.Contains(required, f)
			switch {
			case req && !jf.always:
				t.Errorf("schema %s requires %s, which Go %s leaves out when empty", name, f, st.typ)
			case !req && jf.always && !st.request:
				t.Errorf("schema %s does not require %s, which Go %s always writes", name, f, st.typ)
			}
			want := jsonType(jf.typ)
			rs := d.resolve(ps)
			if got := types(rs); !slices.Contains(got, want) {
				t.Errorf("schema %s property %s has type %v, want %s for Go %s", name, f, got, want, jf.typ)
			}
			ft := jf.typ
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ref := refName(ps); ref != "" {
				if names, ok := byType[ft]; ok && !slices.Contains(names, ref) {
					t.Errorf("schema %s property %s refers to %s, want one of %v for Go %s", name, f, ref, names, ft)
				}
			}
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 {
				et := ft.Elem()
				if names, ok := byType[et]; ok && !slices.Contains(names, refName(rs["items"])) {
					t.Errorf("schema %s property %s has items %v, want one of %v for Go %s", name, f, rs["items"], names, et)
				}
			}
		}
	}
	return problems
}

// problemList collects problems as a test would report them.
type problemList struct{ out *[]string }

func (p problemList) Errorf(format string, args ...any) {
	*p.out = append(*p.out, fmt.Sprintf(format, args...))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestSchemas_vocabularies holds the document's enumerations to package protocol's.
func TestSchemas_vocabularies(t *testing.T) {
	d := document(t)
	schemas := obj(obj(d["components"])["schemas"])
	enum := func(name string) []string {
		var out []string
		for _, v := range obj(schemas[name])["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	strs := func(xs ...any) []string {
		var out []string
		for _, x := range xs {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	var families, categories, states, events, actions []string
	for _, f := range protocol.Families {
		families = append(families, string(f.Slug))
	}
	for _, c := range protocol.Categories {
		categories = append(categories, string(c))
	}
	for _, s := range protocol.States {
		states = append(states, string(s))
	}
	for _, e := range protocol.Events {
		events = append(events, string(e))
		// Send, receive and expire are the node's own: POST /v1/referrals sends.
		if e != protocol.EventSend && e != protocol.EventReceive && e != protocol.EventExpire {
			actions = append(actions, string(e))
		}
	}
	for _, c := range []struct {
		schema string
		want   []string
	}{
		{"Family", families},
		{"Category", categories},
		{"State", states},
		{"Event", events},
		{"Action", actions},
		{"HubType", strs(protocol.HubEDIH, protocol.HubSoE, protocol.HubDIH)},
		{"Reach", strs(protocol.ReachRegion, protocol.ReachCountry, protocol.ReachNeighbours, protocol.ReachAnywhere)},
		{"Role", strs(protocol.RoleSender, protocol.RoleReceiver, protocol.RoleSystem)},
		{"Scope", []string{api.ScopeRead, api.ScopeRefer, api.ScopeAct, api.ScopeReport, api.ScopeAdmin}},
		{"FeedEventType", api.EventTypes},
		{"Topic", api.Topics},
	} {
		got := enum(c.schema)
		if !slices.Equal(sorted(got), sorted(c.want)) {
			t.Errorf("schema %s: enum %v, want protocol's %v", c.schema, got, c.want)
		}
	}
	codes := []string{protocol.CodeBadRequest, api.CodeBadCertificate, api.CodeUnauthorized, protocol.CodeNotFound,
		api.CodeNotAllowed, api.CodeNoProfile, protocol.CodeTooLarge, api.CodeStarting, protocol.CodeInternal,
		api.CodeStorageFull, api.CodeStorageReadOnly, api.CodeStorageFailed,
		api.CodeRateLimited, api.CodeCrossOrigin, api.CodeUnsupportedMediaType, api.CodeForbidden}
	var got []string
	for _, v := range obj(obj(obj(schemas["ErrorBody"])["properties"])["code"])["enum"].([]any) {
		got = append(got, v.(string))
	}
	if !slices.Equal(sorted(got), sorted(codes)) {
		t.Errorf("ErrorBody.code: enum %v, want the API's codes %v", got, codes)
	}
	got = nil
	for _, v := range obj(obj(obj(schemas["ReferralInfo"])["properties"])["sme_purge_reason"])["enum"].([]any) {
		got = append(got, v.(string))
	}
	if want := slices.Sorted(maps.Keys(api.PurgeReasons)); !slices.Equal(sorted(got), want) {
		t.Errorf("ReferralInfo.sme_purge_reason: enum %v, want api.PurgeReasons' %v", got, want)
	}
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	return out
}

// TestServed checks that a node serves the document at /v1/openapi.json, without a
// token.
func TestServed(t *testing.T) {
	_, h := oneHub(t)
	resp, err := http.Get("http://" + h.HTTPAddr() + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got, want any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("decode /v1/openapi.json: %v", err)
	}
	json.Unmarshal(api.OpenAPI(), &want)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || !reflect.DeepEqual(got, want) {
		t.Errorf("got %d %s and a document equal to api/openapi.json: %v, want 200 application/json and true",
			resp.StatusCode, resp.Header.Get("Content-Type"), reflect.DeepEqual(got, want))
	}
}

// asList returns v as a list; nil when it is none.
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
