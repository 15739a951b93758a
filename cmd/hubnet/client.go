package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
)

// defaultNodeURL is where commands look for a node when neither --node, HUBNET_NODE
// nor -d says otherwise: the HTTP address of node.DefaultConfig.
const defaultNodeURL = "http://127.0.0.1:7480"

// client talks to a running node over its HTTP API. One request takes at most
// api.DefaultTimeout.
type client struct {
	api      *api.Client
	url      string // base URL without a trailing slash
	token    string // operator token for writes; empty if none was found
	tokenErr error  // why there is no token
}

// client resolves the node's URL, from the first of --node (or HUBNET_NODE), the
// node.json of -d DIR and defaultNodeURL, and the operator token, from --token (or
// HUBNET_TOKEN) or DIR/token.
func (a *app) client() (*client, error) {
	c := &client{}
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
	var err error
	if c.api, err = api.NewClient(c.url, c.token); err != nil {
		return nil, &usageError{err: err}
	}
	return c, nil
}

// access says who may make a request, and so whether it needs the operator token.
type access int

const (
	anyone   access = iota // no token needed: a plain read, or a live query
	operator               // a read only the hub's operator may make, such as referrals
	change                 // a change, which only the hub's operator may make
)

// call runs f, which makes one request with the API client, after checking that there
// is an operator token if acc needs one. It returns the body of the node's answer as
// the node sent it, and the error as commands report it: an *unreachableError when no
// node answered, an *apiError when it answered with an error.
func (c *client) call(acc access, f func(*api.Client) error) ([]byte, error) {
	hint := msg("give --token, HUBNET_TOKEN or the hub's data directory with -d DIR")
	switch {
	case acc == change && c.token == "":
		return nil, fail("this change needs the hub's operator token", &usageError{err: c.tokenErr}, hint)
	case acc == operator && c.token == "":
		return nil, fail("this needs the hub's operator token", &usageError{err: c.tokenErr}, hint)
	}
	var raw []byte
	err := f(c.api.WithRawBody(&raw))
	var (
		ae *api.Error
		ue *api.UnreachableError
	)
	switch {
	case errors.As(err, &ae):
		return nil, &apiError{Status: ae.Status, Body: api.ErrorBody{Code: ae.Code, Message: ae.Message, Problems: ae.Problems}}
	case errors.As(err, &ue):
		return nil, &unreachableError{URL: ue.URL, Err: ue.Err}
	case err != nil:
		return nil, err
	}
	return raw, nil
}
