package node

import (
	"errors"
	"net/http"

	"github.com/hubnet-eu/hubnet/api"
)

// scopeWhat says, for a 403, what each scope allows.
var scopeWhat = map[string]string{
	api.ScopeRead:   "reading referrals",
	api.ScopeRefer:  "sending a referral",
	api.ScopeAct:    "acting on a referral",
	api.ScopeReport: "reading the KPI report",
	api.ScopeAdmin:  "changing the hub's profile, capacity, people, tokens or admission",
}

// need requires a token with scope: 401 without one (the guard refused a wrong one
// already), 403 naming the scope, or the role, when it lacks it.
func (n *Node) need(scope string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := ActorOf(r.Context())
		if !ok {
			writeError(w, http.StatusUnauthorized, api.ErrorBody{Code: api.CodeUnauthorized,
				Message: "this request needs a token with the scope " + scope + ": Authorization: Bearer <the operator token from the data directory, an API token or a session's token>"})
			return
		}
		if !a.Can(scope) {
			writeError(w, http.StatusForbidden, api.ErrorBody{Code: api.CodeForbidden, Message: a.Refusal(scope, scopeWhat[scope])})
			return
		}
		h(w, r)
	}
}

// actorOf returns the actor of a request that need let through.
func actorOf(r *http.Request) Actor {
	a, _ := ActorOf(r.Context())
	return a
}

// tokenRefusal is the message of a 401 for a bearer token TokenActor refused.
func tokenRefusal(err error) string {
	switch {
	case errors.Is(err, ErrTokenRevoked):
		return "refused: this API token was revoked; ask the hub's operator for a new one"
	case errors.Is(err, ErrTokenExpired):
		return "refused: this API token has expired; ask the hub's operator for a new one"
	case errors.Is(err, ErrUnknownToken):
		return "wrong token: it is neither the operator token (in the file " + TokenFile +
			" of the hub's data directory) nor an API token or a session of this hub; a session ends after an idle hour or 12 hours"
	}
	return "the token could not be checked: " + err.Error()
}

// peopleRoutes adds the endpoints of people, sessions and API tokens.
func (n *Node) peopleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/me", func(w http.ResponseWriter, r *http.Request) {
		a, ok := ActorOf(r.Context())
		if !ok {
			writeError(w, http.StatusUnauthorized, api.ErrorBody{Code: api.CodeUnauthorized, Message: "no token: you are nobody here"})
			return
		}
		reply(w, a.Me(), nil)
	})
	mux.HandleFunc("POST /v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		var req api.SessionRequest
		if err := decodeBody(w, r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		tok, exp, a, err := n.SignIn(req.Email, req.Password, r.RemoteAddr)
		var we *WaitError
		switch {
		case errors.As(err, &we):
			tooMany(w, we.Wait, we.Error())
		case errors.Is(err, ErrSignIn):
			writeError(w, http.StatusUnauthorized, api.ErrorBody{Code: api.CodeUnauthorized, Message: "wrong e-mail address or password"})
		case err != nil:
			reply(w, nil, err)
		default:
			w.Header().Set("Content-Type", "application/json") // goes out with the status
			w.WriteHeader(http.StatusCreated)
			reply(w, api.Session{Token: tok, Expires: exp, Me: a.Me()}, nil)
		}
	})
	mux.HandleFunc("POST /v1/sessions/link", func(w http.ResponseWriter, r *http.Request) {
		var req api.LinkRequest
		if err := decodeBody(w, r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		err := n.RequestSignInLink(req.Email, r.RemoteAddr)
		var we *WaitError
		switch {
		case errors.As(err, &we):
			tooMany(w, we.Wait, we.Error())
		case err != nil:
			reply(w, nil, err)
		default:
			w.Header().Set("Content-Type", "application/json") // goes out with the status
			w.WriteHeader(http.StatusAccepted)
			reply(w, api.LinkRequested{Message: LinkRequestedMessage}, nil)
		}
	})
	mux.HandleFunc("DELETE /v1/sessions/current", func(w http.ResponseWriter, r *http.Request) {
		a, ok := ActorOf(r.Context())
		if !ok || a.Kind != ActorPerson {
			writeError(w, http.StatusBadRequest, api.ErrorBody{Code: "bad-request", Message: "this request needs a session's token, as POST /v1/sessions gave"})
			return
		}
		n.EndSession(bearer(r))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/people", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		list, err := n.People()
		reply(w, list, err)
	}))
	mux.HandleFunc("POST /v1/people", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		var req api.PersonRequest
		if err := decodeBody(w, r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		l, err := n.AddPerson(req)
		if err == nil {
			w.Header().Set("Content-Type", "application/json") // goes out with the status
			w.WriteHeader(http.StatusCreated)
		}
		reply(w, l, err)
	}))
	mux.HandleFunc("GET /v1/people/{person}", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		p, err := n.Person(r.PathValue("person"))
		reply(w, p, err)
	}))
	mux.HandleFunc("DELETE /v1/people/{person}", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		p, err := n.RemovePerson(r.PathValue("person"))
		reply(w, p, err)
	}))
	mux.HandleFunc("POST /v1/people/{person}/reset", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		l, err := n.ResetPerson(r.PathValue("person"))
		reply(w, l, err)
	}))
	mux.HandleFunc("GET /v1/tokens", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		list, err := n.Tokens()
		reply(w, list, err)
	}))
	mux.HandleFunc("POST /v1/tokens", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		var req api.TokenRequest
		if err := decodeBody(w, r, &req); err != nil {
			reply(w, nil, err)
			return
		}
		t, err := n.AddToken(actorOf(r), req)
		if err == nil {
			w.Header().Set("Content-Type", "application/json") // goes out with the status
			w.WriteHeader(http.StatusCreated)
		}
		reply(w, t, err)
	}))
	mux.HandleFunc("DELETE /v1/tokens/{token}", n.need(api.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		t, err := n.RevokeToken(r.PathValue("token"))
		reply(w, t, err)
	}))
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	const p = "Bearer "
	if h := r.Header.Get("Authorization"); len(h) > len(p) && h[:len(p)] == p {
		return h[len(p):]
	}
	return ""
}
