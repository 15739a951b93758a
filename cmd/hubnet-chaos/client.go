package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/api"
)

// requestTimeout bounds one request to a hub. A paused hub holds a request until it
// is resumed, so this is what frees the caller.
const requestTimeout = 2 * time.Second

// outcome is what a caller can know about a request after it returned.
type outcome int

const (
	outcomeOK      outcome = iota // 2xx: done
	outcomeRefused                // 4xx: refused, nothing changed
	outcomeFailed                 // the hub was not reached: nothing changed
	outcomeUnknown                // sent, but no answer (timeout, cut connection, 5xx): it may have been done
)

var outcomeNames = [...]string{"ok", "refused", "failed", "unknown"}

func (o outcome) String() string { return outcomeNames[o] }

// result is one request's outcome, with the HTTP status of an error answer (0
// without one) and the error for any outcome but ok.
type result struct {
	outcome outcome
	status  int
	err     error
}

// client calls the hubs' HTTP APIs. Every request opens a connection of its own, so
// a failure to connect shows that the request never reached the hub.
type client struct {
	http *http.Client
}

func newClient() *client {
	return &client{http: &http.Client{
		Timeout:   requestTimeout,
		Transport: &http.Transport{DisableKeepAlives: true}, // and no proxy: the hubs are on loopback
	}}
}

// call makes one request to hub h with f, through an API client that sends h's
// operator token, and tells what came of it.
func (c *client) call(h *hub, f func(*api.Client) error) result {
	base := h.url()
	if base == "" {
		return result{outcome: outcomeFailed, err: fmt.Errorf("%s is down", h.id)}
	}
	ac, err := api.NewClient(base, h.token, api.WithHTTPClient(c.http))
	if err != nil {
		return result{outcome: outcomeFailed, err: fmt.Errorf("%s: %w", h.id, err)}
	}
	err = f(ac)
	var (
		ae *api.Error
		ue *api.UnreachableError
		oe *net.OpError
	)
	switch {
	case err == nil:
		return result{outcome: outcomeOK}
	case errors.As(err, &ae):
		msg := fmt.Errorf("%s %s at %s: %d %s%s", ae.Method, ae.Path, h.id, ae.Status, http.StatusText(ae.Status), apiMessage(ae))
		if ae.Status >= 500 {
			return result{outcome: outcomeUnknown, status: ae.Status, err: msg}
		}
		return result{outcome: outcomeRefused, status: ae.Status, err: msg}
	case errors.As(err, &ue):
		msg := fmt.Errorf("%s %s at %s: %w", ue.Method, ue.Path, h.id, ue.Err)
		if errors.As(ue.Err, &oe) && oe.Op == "dial" {
			return result{outcome: outcomeFailed, err: msg}
		}
		return result{outcome: outcomeUnknown, err: msg}
	}
	// The answer could not be decoded.
	return result{outcome: outcomeUnknown, err: fmt.Errorf("%s: %w", h.id, err)}
}

// get reads from hub h with f; any outcome but ok is an error.
func (c *client) get(h *hub, f func(*api.Client) error) error {
	if r := c.call(h, f); r.outcome != outcomeOK {
		return r.err
	}
	return nil
}

// apiMessage is " code: message" of an error answer, or "" when it had none.
func apiMessage(e *api.Error) string {
	if e.Code == "" {
		return ""
	}
	return " " + e.Code + ": " + e.Message
}

// links are a hub's NATS connections to other hubs, as its /metrics shows them.
type links struct {
	reached int // other clusters the hub has an outbound gateway to
	inbound int // gateway connections other clusters' hubs opened to it
	leafs   int // leaf node connections: a leaf hub's to its gateway hub, or a gateway hub's from leaf hubs
}

// links reads hub h's links from its /metrics.
func (c *client) links(ctx context.Context, h *hub) (links, error) {
	base := h.url()
	if base == "" {
		return links{}, fmt.Errorf("%s is down", h.id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return links{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return links{}, fmt.Errorf("%s: metrics: %w", h.id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return links{}, fmt.Errorf("%s: metrics: %s", h.id, resp.Status)
	}
	values := map[string]int{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		switch {
		case !ok:
			continue
		case name != "hubnet_gateway_connections" && name != "hubnet_gateway_clusters_reached" && name != "hubnet_leaf_connections":
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return links{}, fmt.Errorf("%s: metrics: %s: %w", h.id, name, err)
		}
		values[name] = int(v)
	}
	if err := sc.Err(); err != nil {
		return links{}, fmt.Errorf("%s: metrics: %w", h.id, err)
	}
	if len(values) != 3 {
		return links{}, fmt.Errorf("%s: metrics: no hubnet_gateway_connections, hubnet_gateway_clusters_reached or hubnet_leaf_connections", h.id)
	}
	reached := values["hubnet_gateway_clusters_reached"]
	return links{reached: reached, inbound: values["hubnet_gateway_connections"] - reached, leafs: values["hubnet_leaf_connections"]}, nil
}
