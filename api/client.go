package api

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
)

// DefaultTimeout bounds one request of a Client made without [WithHTTPClient].
const DefaultTimeout = 15 * time.Second

// MaxAnswerSize is the most of an answer's body a Client reads, in bytes.
const MaxAnswerSize = 16 << 20

// Client calls the HTTP API of one node. Its methods are safe for concurrent use.
type Client struct {
	base  string // the node's URL, without a trailing slash
	token string // the operator token; empty for none
	http  *http.Client
	raw   *[]byte // when not nil, where the body of a successful answer goes
}

// Option changes how NewClient makes a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc instead of an
// http.Client of its own with a timeout of [DefaultTimeout].
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// NewClient returns a Client of the node at baseURL, such as "http://127.0.0.1:7480",
// that sends token, the hub's operator token, with the requests that need it: every
// change, and the reads only the operator may make (referrals, the KPI report, the
// gossip keyring). With an empty token those get an [*Error] with status 401. Plain
// reads never send the token, so that a client may read any node with it.
func NewClient(baseURL, token string, opts ...Option) (*Client, error) {
	base := strings.TrimRight(baseURL, "/")
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("node URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("node URL %q: must be an http:// or https:// URL such as http://127.0.0.1:7480", baseURL)
	}
	c := &Client{base: base, token: token, http: &http.Client{Timeout: DefaultTimeout}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// WithRawBody returns a copy of c that also stores in *dst the body of every
// successful answer, as the node sent it: for a caller that shows the answer
// unchanged. The copy shares c's HTTP client; it is for one goroutine at a time.
func (c *Client) WithRawBody(dst *[]byte) *Client {
	cp := *c
	cp.raw = dst
	return &cp
}

// get reads path with query parameters v, sending the token when private.
func (c *Client) get(ctx context.Context, path string, v url.Values, private bool, out any) error {
	_, err := c.do(ctx, http.MethodGet, path, v, nil, private, out)
	return err
}

// send sends body as JSON with the token.
func (c *Client) send(ctx context.Context, method, path string, body, out any) error {
	_, err := c.do(ctx, method, path, nil, body, true, out)
	return err
}

// do makes one request and returns the body of a successful answer, which it decodes
// into out unless out is nil. An error answer is an *Error, no whole answer an
// *UnreachableError.
func (c *Client) do(ctx context.Context, method, path string, v url.Values, body any, withToken bool, out any) ([]byte, error) {
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
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
		return nil, &UnreachableError{URL: c.base, Method: method, Path: path, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerSize))
	if err != nil {
		return nil, &UnreachableError{URL: c.base, Method: method, Path: path, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode >= 300 {
		e := &Error{Method: method, Path: path, Status: resp.StatusCode}
		var body ErrorResponse
		if json.Unmarshal(data, &body) == nil && body.Error.Code != "" {
			e.Code, e.Message, e.Problems = body.Error.Code, body.Error.Message, body.Error.Problems
		}
		return nil, e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	if c.raw != nil {
		*c.raw = data
	}
	return data, nil
}

// unwrapURLError drops the "Get "http://...": " prefix net/http adds, since
// UnreachableError names the URL already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
