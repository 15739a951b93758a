package node

import (
	"errors"
	"net/http"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// admissionRoutes adds the API of certificates, revocations and gossip keys.
func (n *Node) admissionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/certificate", func(w http.ResponseWriter, r *http.Request) { reply(w, n.certInfo(), nil) })
	mux.HandleFunc("PUT /v1/certificate", n.auth(func(w http.ResponseWriter, r *http.Request) {
		var c protocol.Certificate
		if err := decodeBody(w, r, &c); err != nil {
			reply(w, nil, err)
			return
		}
		ci, err := n.InstallCertificate(c)
		reply(w, ci, err)
	}))
	mux.HandleFunc("GET /v1/revocations", func(w http.ResponseWriter, r *http.Request) { reply(w, n.Revocations(), nil) })
	mux.HandleFunc("POST /v1/revocations", n.auth(func(w http.ResponseWriter, r *http.Request) {
		var rev protocol.Revocation
		if err := decodeBody(w, r, &rev); err != nil {
			reply(w, nil, err)
			return
		}
		added, err := n.Revoke(rev)
		if errors.Is(err, protocol.ErrBadSignature) {
			err = &protocol.ValidationError{What: "revocation", Problems: []protocol.FieldError{{Field: "sig", Rule: err.Error()}}}
		}
		reply(w, map[string]any{"id": rev.ID, "new": added}, err)
	}))
	mux.HandleFunc("GET /v1/gossip-keys", n.auth(func(w http.ResponseWriter, r *http.Request) { reply(w, n.GossipKeys(), nil) }))
	mux.HandleFunc("GET /v1/gossip-keys/current", n.auth(func(w http.ResponseWriter, r *http.Request) { reply(w, n.CurrentGossipKey(), nil) }))
	mux.HandleFunc("POST /v1/gossip-keys", n.auth(func(w http.ResponseWriter, r *http.Request) {
		var ch api.GossipKeyChange
		if err := decodeBody(w, r, &ch); err != nil {
			reply(w, nil, err)
			return
		}
		info, err := n.ChangeGossipKeys(ch)
		reply(w, info, err)
	}))
}
