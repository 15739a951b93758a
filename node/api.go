package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

// MaxBodySize is the largest request body the HTTP API reads, in bytes.
const MaxBodySize = 1 << 20

// Self returns what the node says about itself.
func (n *Node) Self() (api.SelfInfo, error) {
	s := api.SelfInfo{ID: n.id.ID, Network: n.net.Name, SignKey: n.id.SignPublic(), BoxKey: n.id.BoxPub[:], Addrs: n.Addrs(), Cert: n.certInfo()}
	p, _, err := n.store.Self()
	switch {
	case errors.Is(err, store.ErrNoProfile):
	case err != nil:
		return api.SelfInfo{}, err
	default:
		s.Profile, s.Revision = &p, p.Revision
	}
	return s, nil
}

// Peers returns the node itself and every other hub it has heard of, sorted by ID.
func (n *Node) Peers() []api.PeerInfo {
	self := api.PeerInfo{ID: n.id.ID, Self: true, State: "alive", Gossip: n.GossipAddr(), Route: n.routeAddr, Reachable: true, LastSeen: n.cfg.Now()}
	if p, _, err := n.store.Self(); err == nil {
		self.Revision, self.Cached = p.Revision, p.Revision
	}
	out := []api.PeerInfo{self}
	for _, p := range n.dir.snapshot() {
		state := "failed"
		switch {
		case p.Revoked:
			state = "revoked"
		case p.Reachable:
			state = "alive"
		case p.Left:
			state = "left"
		}
		out = append(out, api.PeerInfo{ID: p.ID, State: state, Gossip: p.Gossip, Route: p.Route, Revision: p.Revision,
			Cached: p.Cached, LastSeen: p.LastSeen, Reachable: p.Reachable})
	}
	sortBy(out, func(p api.PeerInfo) string { return p.ID })
	return out
}

// Hubs returns the directory: every hub with a profile, this one included, by ID.
func (n *Node) Hubs() ([]api.HubInfo, error) {
	hubs, err := n.store.Hubs()
	if err != nil {
		return nil, err
	}
	out := make([]api.HubInfo, 0, len(hubs)+1)
	for _, h := range hubs {
		out = append(out, n.hubInfo(h))
	}
	if p, _, err := n.store.Self(); err == nil {
		out = append(out, n.selfHub(p))
	}
	sortBy(out, func(h api.HubInfo) string { return h.ID })
	return out, nil
}

// Profile returns the hub's own profile as stored; store.ErrNoProfile when it has
// none yet.
func (n *Node) Profile() (protocol.Profile, error) {
	p, _, err := n.store.Self()
	return p, err
}

// HubName returns the name of hub id as the search index holds it, "" when the index
// has no such hub or its profile has no name. The index holds the other hubs only.
func (n *Node) HubName(id string) string {
	if cand, ok := n.index.get(id); ok {
		return cand.Profile.Name
	}
	return ""
}

// Hub returns one hub of the directory; store.ErrNotFound if it has none.
func (n *Node) Hub(id string) (api.HubInfo, error) {
	if id == n.id.ID {
		p, _, err := n.store.Self()
		if errors.Is(err, store.ErrNoProfile) {
			return api.HubInfo{}, fmt.Errorf("hub %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return api.HubInfo{}, err
		}
		return n.selfHub(p), nil
	}
	h, err := n.store.Hub(id)
	if err != nil {
		return api.HubInfo{}, fmt.Errorf("hub %s: %w", id, err)
	}
	return n.hubInfo(h), nil
}

func (n *Node) selfHub(p protocol.Profile) api.HubInfo {
	return api.HubInfo{ID: p.ID, Self: true, Reachable: true, LastSeen: n.cfg.Now(), Revision: p.Revision, Fetched: p.Updated, Profile: p}
}

func (n *Node) hubInfo(h store.Hub) api.HubInfo {
	hi := api.HubInfo{ID: h.Profile.ID, Reachable: false, LastSeen: h.LastSeen, Revision: h.Profile.Revision, Fetched: h.Fetched, Profile: h.Profile}
	if p, ok := n.dir.peer(h.Profile.ID); ok {
		hi.Reachable = p.Reachable
		if p.LastSeen.After(hi.LastSeen) {
			hi.LastSeen = p.LastSeen
		}
	}
	return hi
}

// PutProfile replaces the hub's profile, bumping its revision, and announces it. An
// invalid profile returns a *protocol.ValidationError and changes nothing.
func (n *Node) PutProfile(p protocol.Profile) (protocol.Profile, error) {
	if p.ID == "" {
		p.ID = n.id.ID
	}
	return n.putSelf(p)
}

// SetCapacity changes the capacity of one service family.
func (n *Node) SetCapacity(family protocol.Family, c api.CapacityChange) (protocol.Profile, error) {
	if _, ok := protocol.FamilyBySlug(string(family)); !ok {
		return protocol.Profile{}, &protocol.ValidationError{What: "capacity", Problems: []protocol.FieldError{{Field: "family", Rule: "must be a service family slug such as test-before-invest"}}}
	}
	if c.Available == nil {
		return protocol.Profile{}, &protocol.ValidationError{What: "capacity", Problems: []protocol.FieldError{{Field: "available", Rule: "is required"}}}
	}
	return n.updateSelf(func(p *protocol.Profile) error {
		applyCapacity(p, family, c)
		return nil
	})
}

// applyCapacity makes change c, whose Available is set, to the capacity of family in
// p: the maximum is kept (or raised to the places available) unless c gives one, and
// the unit is kept, or "SMEs per month" for a family that had none.
func applyCapacity(p *protocol.Profile, family protocol.Family, c api.CapacityChange) {
	cur := p.Capacity[family]
	cur.Available = *c.Available
	if c.Maximum != nil {
		cur.Maximum = *c.Maximum
	} else if cur.Maximum < cur.Available {
		cur.Maximum = cur.Available
	}
	if c.Unit != "" {
		cur.Unit = c.Unit
	} else if cur.Unit == "" {
		cur.Unit = "SMEs per month"
	}
	cur.Updated = time.Time{} // the store stamps it
	if p.Capacity == nil {
		p.Capacity = map[protocol.Family]protocol.Capacity{}
	}
	p.Capacity[family] = cur
}

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

// Handler returns the node's HTTP API (/v1/..., /healthz, /metrics) and what Handle
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
	for _, r := range routes {
		mux.Handle(r.pattern, r.h)
	}
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, api.ErrorBody{Code: "not-found", Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

func (n *Node) handleHealth(w http.ResponseWriter, r *http.Request) {
	select {
	case <-n.ready:
		reply(w, map[string]any{"status": "ok", "id": n.id.ID, "peers": n.ml.NumMembers() - 1}, nil)
	default:
		writeError(w, http.StatusServiceUnavailable, api.ErrorBody{Code: "starting", Message: "node is starting"})
	}
}

// auth requires the operator token as "Authorization: Bearer TOKEN".
func (n *Node) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !n.CheckToken(got) {
			writeError(w, http.StatusUnauthorized, api.ErrorBody{Code: "unauthorized",
				Message: "this request needs the operator token: Authorization: Bearer <token from the data directory>"})
			return
		}
		h(w, r)
	}
}

// decodeBody reads one JSON value of at most MaxBodySize bytes into v, refusing
// unknown fields so a misspelt field is reported rather than ignored, and bytes that
// are not UTF-8, which encoding/json would silently turn into U+FFFD.
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
