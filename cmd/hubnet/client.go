package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hubnet-eu/hubnet/node"
)

// defaultNodeURL is where commands look for a node when neither --node, HUBNET_NODE
// nor -d says otherwise: the HTTP address of node.DefaultConfig.
const defaultNodeURL = "http://127.0.0.1:7480"

// requestTimeout bounds one HTTP request to a node.
const requestTimeout = 15 * time.Second

// client talks to a running node over its HTTP API.
type client struct {
	url      string // base URL without a trailing slash
	token    string // operator token for writes; empty if none was found
	tokenErr error  // why there is no token
	http     *http.Client
}

// client resolves the node's URL, from the first of --node (or HUBNET_NODE), the
// node.json of -d DIR and defaultNodeURL, and the operator token, from --token (or
// HUBNET_TOKEN) or DIR/token.
func (a *app) client() (*client, error) {
	c := &client{http: &http.Client{Timeout: requestTimeout}}
	switch {
	case a.nodeURL != "":
		c.url = a.nodeURL
	case a.dataDir != "":
		nf, err := readNodeFile(a.dataDir)
		if err != nil {
			return nil, &unreachableError{Err: err}
		}
		if nf.URL == "" {
			return nil, &unreachableError{Err: fmt.Errorf("the hub in %s runs with HTTP off", a.dataDir)}
		}
		c.url = nf.URL
	default:
		c.url = defaultNodeURL
	}
	c.url = strings.TrimRight(c.url, "/")
	if u, err := url.Parse(c.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("node URL %q: must be an http:// or https:// URL such as %s", c.url, defaultNodeURL)
	}
	switch {
	case a.token != "":
		c.token = a.token
	case a.dataDir != "":
		c.token, c.tokenErr = node.ReadToken(a.dataDir)
	default:
		c.tokenErr = errors.New("none given")
	}
	return c, nil
}

// get fetches path and returns the response body; with out not nil it decodes it too.
func (c *client) get(ctx context.Context, path string, out any) ([]byte, error) {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

// put sends body as JSON with the operator token.
func (c *client) put(ctx context.Context, path string, body, out any) ([]byte, error) {
	if c.token == "" {
		return nil, fail("this change needs the hub's operator token", &usageError{c.tokenErr},
			"give --token, HUBNET_TOKEN or the hub's data directory with -d DIR")
	}
	return c.do(ctx, http.MethodPut, path, body, out)
}

// post sends body as JSON with the operator token.
func (c *client) post(ctx context.Context, path string, body, out any) ([]byte, error) {
	if c.token == "" {
		return nil, fail("this change needs the hub's operator token", &usageError{c.tokenErr},
			"give --token, HUBNET_TOKEN or the hub's data directory with -d DIR")
	}
	return c.send(ctx, http.MethodPost, path, body, out, true)
}

// getPrivate fetches path with the operator token, for what only the hub's operator
// may read, such as referrals; with out not nil it decodes the answer too.
func (c *client) getPrivate(ctx context.Context, path string, out any) ([]byte, error) {
	if c.token == "" {
		return nil, fail("this needs the hub's operator token", &usageError{c.tokenErr},
			"give --token, HUBNET_TOKEN or the hub's data directory with -d DIR")
	}
	return c.send(ctx, http.MethodGet, path, nil, out, true)
}

// do sends a request, with the operator token (when there is one) unless it is a GET:
// a plain read goes to whatever node --node names without the token.
func (c *client) do(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	return c.send(ctx, method, path, body, out, method != http.MethodGet)
}

func (c *client) send(ctx context.Context, method, path string, body, out any, withToken bool) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if withToken && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// No HTTP answer at all: refused, timed out, no route, no such host.
		return nil, &unreachableError{URL: c.url, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, &unreachableError{URL: c.url, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode >= 300 {
		ae := &apiError{Status: resp.StatusCode}
		var body node.APIError
		if json.Unmarshal(data, &body) == nil && body.Error.Code != "" {
			ae.Body = body.Error
		}
		return nil, ae
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return data, nil
}

// unwrapURLError drops the "Get "http://...": " prefix net/http adds, since the
// message names the URL already.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
