package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hubnet-eu/hubnet/node"
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

// result is one request's outcome, with the HTTP status (0 without one) and the
// error for any outcome but ok.
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

// call sends one request to hub h with its operator token and decodes a 2xx answer
// into out.
func (c *client) call(ctx context.Context, h *hub, method, path string, body, out any) result {
	base := h.url()
	if base == "" {
		return result{outcome: outcomeFailed, err: fmt.Errorf("%s is down", h.id)}
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return result{outcome: outcomeFailed, err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return result{outcome: outcomeFailed, err: err}
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			return result{outcome: outcomeFailed, err: fmt.Errorf("%s %s at %s: %w", method, path, h.id, err)}
		}
		return result{outcome: outcomeUnknown, err: fmt.Errorf("%s %s at %s: %w", method, path, h.id, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{outcome: outcomeUnknown, status: resp.StatusCode, err: fmt.Errorf("%s %s at %s: read the answer: %w", method, path, h.id, err)}
	}
	switch {
	case resp.StatusCode >= 500:
		return result{outcome: outcomeUnknown, status: resp.StatusCode, err: fmt.Errorf("%s %s at %s: %s %s", method, path, h.id, resp.Status, apiMessage(b))}
	case resp.StatusCode >= 300:
		return result{outcome: outcomeRefused, status: resp.StatusCode, err: fmt.Errorf("%s %s at %s: %s %s", method, path, h.id, resp.Status, apiMessage(b))}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return result{outcome: outcomeUnknown, status: resp.StatusCode, err: fmt.Errorf("%s %s at %s: decode the answer: %w", method, path, h.id, err)}
		}
	}
	return result{outcome: outcomeOK, status: resp.StatusCode}
}

// get reads path from hub h into out; any outcome but ok is an error.
func (c *client) get(ctx context.Context, h *hub, path string, out any) error {
	if r := c.call(ctx, h, http.MethodGet, path, nil, out); r.outcome != outcomeOK {
		return r.err
	}
	return nil
}

// apiMessage is the message of an API error body, or the body itself.
func apiMessage(b []byte) string {
	var e node.APIError
	if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		return e.Error.Code + ": " + e.Error.Message
	}
	return string(bytes.TrimSpace(b))
}
