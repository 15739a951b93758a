package node

import (
	"bytes"
	"encoding"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/hubnet-eu/hubnet/protocol"
)

// caseProblems returns a problem for each object key of data, a JSON value decoded
// into a value of type t, that names a field of t only when case is ignored:
// encoding/json fills "name" from "Name" or "NAME", which DisallowUnknownFields lets
// through. The API's field names, as its OpenAPI document gives them, are
// case-sensitive, so such a key is a misspelt field, reported rather than taken.
func caseProblems(data []byte, t reflect.Type) []protocol.FieldError {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil // the decoder has said what is wrong
	}
	var out []protocol.FieldError
	walkNames(v, t, "", &out)
	return out
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func walkNames(v any, t reflect.Type, path string, out *[]protocol.FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p := reflect.PointerTo(t); p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler) {
		return // decodes itself, as time.Time does
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := map[string]reflect.Type{}
		structFields(t, fields)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ft, ok := fields[k]
			if ok {
				walkNames(obj[k], ft, path+k+".", out)
				continue
			}
			for name := range fields {
				if strings.EqualFold(name, k) {
					*out = append(*out, protocol.FieldError{Field: path + k,
						Rule: "is not a field: field names are case-sensitive; did you mean " + name + "?"})
					break
				}
			}
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(obj)) {
				walkNames(obj[k], t.Elem(), path+k+".", out)
			}
		}
	case reflect.Slice, reflect.Array:
		if list, ok := v.([]any); ok {
			for i, e := range list {
				walkNames(e, t.Elem(), path+strconv.Itoa(i)+".", out)
			}
		}
	}
}

// structFields adds the JSON names of struct type t's fields to fields, with those of
// embedded structs, as encoding/json reads them.
func structFields(t reflect.Type, fields map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			structFields(f.Type, fields)
		case !f.IsExported():
		case name == "":
			fields[f.Name] = f.Type
		default:
			fields[name] = f.Type
		}
	}
}
