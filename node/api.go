package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"syscall"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// MaxBodySize is the largest request body the HTTP API reads, in bytes.
const MaxBodySize = 1 << 20

// route is a handler added by Handle, and its pattern.
type route struct {
	pattern string
	h       http.Handler
}

// Handle adds h to the node's HTTP server for pattern, an [http.ServeMux] pattern,
// beside the API: the daemon mounts the web console (package console) this way. It
// must be called before Start, and panics after. As [http.ServeMux.Handle] does, it
// panics when pattern is invalid or conflicts with the API's routes or with one added
// before.
func (n *Node) Handle(pattern string, h http.Handler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		panic("node: Handle called after Start")
	}
	routes := append(slices.Clone(n.routes), route{pattern, h})
	n.handler(routes) // panics here, at the caller, rather than in Start
	n.routes = routes
}

// Handler returns the node's HTTP API (/v1/..., /healthz, /metrics; its OpenAPI
// document is api.OpenAPI, served at /v1/openapi.json) and what Handle
// added to it, such as the web console (see docs/console.md). It is what the node's
// HTTP server serves.
func (n *Node) Handler() http.Handler {
	n.mu.Lock()
	routes := slices.Clone(n.routes)
	n.mu.Unlock()
	return n.handler(routes)
}

// handler returns the API with routes added.
func (n *Node) handler(routes []route) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", n.handleHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /v1/self", func(w http.ResponseWriter, r *http.Request) {
		s, err := n.Self()
		reply(w, s, err)
	})
	mux.HandleFunc("GET /v1/peers", func(w http.ResponseWriter, r *http.Request) { reply(w, n.Peers(), nil) })
	mux.HandleFunc("GET /v1/hubs", func(w http.ResponseWriter, r *http.Request) {
		h, err := n.Hubs()
		reply(w, h, err)
	})
	mux.HandleFunc("GET /v1/hubs/{id}", func(w http.ResponseWriter, r *http.Request) {
		h, err := n.Hub(r.PathValue("id"))
		reply(w, h, err)
	})
	mux.HandleFunc("GET /v1/search", n.handleSearch)
	mux.HandleFunc("POST /v1/query", n.handleQuery)
	mux.HandleFunc("PUT /v1/self/profile", n.auth(func(w http.ResponseWriter, r *http.Request) {
		var p protocol.Profile
		if err := decodeBody(w, r, &p); err != nil {
			reply(w, nil, err)
			return
		}
		saved, err := n.PutProfile(p)
		reply(w, saved, err)
	}))
	mux.HandleFunc("PUT /v1/self/capacity/{family}", n.auth(func(w http.ResponseWriter, r *http.Request) {
		var c api.CapacityChange
		if err := decodeBody(w, r, &c); err != nil {
			reply(w, nil, err)
			return
		}
		saved, err := n.SetCapacity(protocol.Family(r.PathValue("family")), c)
		reply(w, saved, err)
	}))
	n.referralRoutes(mux)
	n.admissionRoutes(mux)
	n.peopleRoutes(mux) // people_api.go: people, sessions, API tokens
	n.notifyRoutes(mux) // notify_api.go: the change feed, webhooks, notifications
	mux.HandleFunc("GET /v1/openapi.json", handleOpenAPI)
	for _, r := range routes {
		mux.Handle(r.pattern, r.h)
	}
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, api.ErrorBody{Code: "not-found", Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return n.guard(mux) // limits.go: rate limits, token back-off, JSON only, same-site changes
}

// handleOpenAPI serves the API's OpenAPI document, api.OpenAPI; it needs no token.
func handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(api.OpenAPI())
}

func (n *Node) handleHealth(w http.ResponseWriter, r *http.Request) {
	select {
	case <-n.ready:
		reply(w, map[string]any{"status": "ok", "id": n.id.ID, "peers": n.ml.NumMembers() - 1}, nil)
	default:
		writeError(w, http.StatusServiceUnavailable, api.ErrorBody{Code: "starting", Message: "node is starting"})
	}
}

// auth requires a token with the scope admin: the operator token, an operator's
// session, or an API token with that scope.
func (n *Node) auth(h http.HandlerFunc) http.HandlerFunc {
	return n.need(api.ScopeAdmin, h)
}

// decodeBody reads one JSON value of at most MaxBodySize bytes into v, refusing
// unknown fields so a misspelt field is reported rather than ignored (a field name in
// another case too: see caseProblems), and bytes that are not UTF-8, which
// encoding/json would silently turn into U+FFFD.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("request body over %d bytes: %w", MaxBodySize, protocol.ErrTooLarge)
		}
		return &protocol.ValidationError{What: "request body", Problems: []protocol.FieldError{{Field: "(json)", Rule: "could not be read: " + err.Error()}}}
	}
	if at := invalidUTF8(data); at >= 0 {
		return &protocol.ValidationError{What: "request body", Problems: []protocol.FieldError{{Field: "(json)",
			Rule: fmt.Sprintf("must be UTF-8; byte %d is not", at)}}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &protocol.ValidationError{What: "request body", Problems: []protocol.FieldError{{Field: "(json)", Rule: err.Error()}}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &protocol.ValidationError{What: "request body", Problems: []protocol.FieldError{{Field: "(json)", Rule: "must hold one JSON value"}}}
	}
	if p := caseProblems(data, reflect.TypeOf(v)); len(p) > 0 {
		return &protocol.ValidationError{What: "request body", Problems: p}
	}
	return nil
}

// invalidUTF8 returns the offset of the first byte of b that is not part of valid
// UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
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

// reply writes v as JSON, or the error with the status it calls for.
func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		var (
			ve *protocol.ValidationError
			te *protocol.TransitionError
		)
		switch {
		case errors.As(err, &ve):
			writeError(w, http.StatusBadRequest, api.ErrorBody{Code: protocol.CodeBadRequest, Message: err.Error(), Problems: ve.Problems})
		case errors.As(err, &te), errors.Is(err, ErrNotAllowed):
			writeError(w, http.StatusConflict, api.ErrorBody{Code: "not-allowed", Message: err.Error()})
		case errors.Is(err, protocol.ErrCertInvalid), errors.Is(err, protocol.ErrCertExpired), errors.Is(err, protocol.ErrNoCert):
			writeError(w, http.StatusBadRequest, api.ErrorBody{Code: "bad-certificate", Message: err.Error()})
		case errors.Is(err, store.ErrWrite):
			status, body := storageError(err)
			writeError(w, status, body)
		case errors.Is(err, protocol.ErrNotFound):
			writeError(w, http.StatusNotFound, api.ErrorBody{Code: protocol.CodeNotFound, Message: err.Error()})
		case errors.Is(err, protocol.ErrTooLarge):
			writeError(w, http.StatusRequestEntityTooLarge, api.ErrorBody{Code: protocol.CodeTooLarge, Message: err.Error()})
		case errors.Is(err, store.ErrNoProfile):
			writeError(w, http.StatusConflict, api.ErrorBody{Code: "no-profile", Message: err.Error() + "; apply a profile first"})
		default:
			writeError(w, http.StatusInternalServerError, api.ErrorBody{Code: protocol.CodeInternal, Message: err.Error()})
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// storageError is the answer to a write the data file did not take (store.ErrWrite):
// its message says what failed, why, and what the operator can do. The store rolled
// the write back; reads go on working.
func storageError(err error) (int, api.ErrorBody) {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		return http.StatusInsufficientStorage, api.ErrorBody{Code: api.CodeStorageFull, Message: err.Error() +
			"; nothing was changed: free space on the disk of the hub's data directory (or raise its quota or file size limit), then try again"}
	case errors.Is(err, syscall.EROFS):
		return http.StatusServiceUnavailable, api.ErrorBody{Code: api.CodeStorageReadOnly, Message: err.Error() +
			"; nothing was changed, and the hub still answers reads: make the data directory writable again (after a disk error: stop hubnet, check the file system, mount it read-write), then try again"}
	default:
		return http.StatusInternalServerError, api.ErrorBody{Code: api.CodeStorageFailed, Message: err.Error() +
			"; the change was not saved, or not for certain: check the disk and the system log, and read the record back before trying again"}
	}
}

// StorageStatus returns the HTTP status and the message the API answers err with,
// a write the data file did not take (an error wrapping store.ErrWrite): the message
// says what failed, why, and what the operator can do.
func StorageStatus(err error) (int, string) {
	status, body := storageError(err)
	return status, body.Message
}

func writeError(w http.ResponseWriter, status int, body api.ErrorBody) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.ErrorResponse{Error: body})
}
