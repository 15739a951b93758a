package node

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
)

// natsLogger adapts slog to nats-server's Logger. Notices are Info; debug and trace
// stay off unless the server is asked for them. What the server says about one
// connection from outside ("127.0.0.1:50123 - rid:6 - TLS route handshake error: …")
// goes through the refusal limiter: an error or warning is a refusal, counted, and
// the notice of a connection closed for a failure follows it (refusals.go). A failed
// dial of a route or gateway of a hub that is no longer a member, as after it left, is
// Info: the server retries a link it had, and the hub is gone by design.
type natsLogger struct {
	l    *slog.Logger
	ref  *refusals              // nil: every line is logged
	gone func(addr string) bool // nil: no address is of a hub gone
}

func (n natsLogger) Noticef(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if n.ref != nil {
		if src, _, text, ok := natsConn(msg); ok {
			switch {
			case natsClosedByFailure(text):
				n.ref.follow(src, slog.LevelInfo, "nats server", "event", msg)
				return
			case strings.HasPrefix(text, "Processing inbound"):
				// Said of every connection before its handshake, so anyone who can
				// reach the port could fill the log with it: what becomes of the
				// connection is logged, as a refusal or as a link that is up.
				n.l.Debug("nats server", "event", msg)
				return
			}
		}
	}
	n.l.Info("nats server", "event", msg)
}
func (n natsLogger) Warnf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.HasPrefix(msg, "TLS certificate chain and hostname of solicited ") {
		// Of routes and of gateways, by design: they check the other end's key
		// against the membership, not a chain of authorities (see bus.go).
		return
	}
	n.log(slog.LevelWarn, msg)
}
func (n natsLogger) Fatalf(format string, v ...any) {
	n.l.Error("nats server", "event", fmt.Sprintf(format, v...))
}
func (n natsLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if addr := natsDialAddr(msg); addr != "" && n.gone != nil && n.gone(addr) {
		n.l.Info("nats server: peer gone", "event", msg)
		return
	}
	n.log(slog.LevelError, msg)
}

// natsDialAddr returns the host:port of a route, gateway or leaf node listener the
// server failed to dial, "" when msg says something else. The server says "Error trying
// to connect to route (attempt 1): dial tcp 127.0.0.1:4248: connect: connection
// refused", of a gateway "Error connecting to implicit gateway …: dial tcp …", and of
// a leaf node listener "Error trying to connect as leafnode to remote server … (attempt
// 1): dial tcp …".
func natsDialAddr(msg string) string {
	if !strings.HasPrefix(msg, "Error trying to connect to route") && !strings.HasPrefix(msg, "Error connecting to ") &&
		!strings.HasPrefix(msg, "Error trying to connect as leafnode") {
		return ""
	}
	_, rest, ok := strings.Cut(msg, "dial tcp ")
	if !ok {
		return ""
	}
	addr, _, ok := strings.Cut(rest, ": ")
	if !ok {
		return ""
	}
	return addr
}
func (n natsLogger) Debugf(format string, v ...any) {
	n.l.Debug("nats server", "event", fmt.Sprintf(format, v...))
}
func (n natsLogger) Tracef(format string, v ...any) {
	n.l.Debug("nats server", "event", fmt.Sprintf(format, v...))
}

// log logs a warning or an error of the server: a refusal when it is about one
// connection.
func (n natsLogger) log(level slog.Level, msg string) {
	if n.ref != nil {
		if src, kind, text, ok := natsConn(msg); ok {
			n.ref.refuse(kind, natsReason(kind, text), src, level, "nats server", "event", msg)
			return
		}
	}
	n.l.Log(context.Background(), level, "nats server", "event", msg)
}

// natsConn splits a line the server logs about one connection, "HOST:PORT - rid:6 -
// text", into the remote IP, the kind of refusal its connection stands for, and the
// text.
func natsConn(msg string) (src, kind, text string, ok bool) {
	addr, rest, ok := strings.Cut(msg, " - ")
	if !ok || strings.ContainsAny(addr, " \t") {
		return "", "", "", false
	}
	id, text, ok := strings.Cut(rest, " - ")
	if !ok {
		return "", "", "", false
	}
	prefix, _, _ := strings.Cut(id, ":")
	switch prefix {
	case "rid":
		kind = RefusedRoute
	case "gid":
		kind = RefusedGateway
	case "cid", "lid", "mid":
		kind = RefusedClient
	default:
		return "", "", "", false
	}
	return remoteIP(addr), kind, text, true
}

// natsRouteReasons maps what the server says of a connection it refused to the reason
// counted; the first that the text holds wins.
var natsRouteReasons = []struct{ text, reason string }{
	{"first record does not look like a TLS handshake", "plain-tcp"},
	{"want Ed25519", "key-type"},
	{"without a certificate", "no-cert"},
	{"revoked", "revoked"},
	{"not an admitted", "not-admitted"},
	{"timeout", "timeout"},
	{"Timeout", "timeout"},
	{"certificate", "bad-cert"},
	{"TLS", "tls"},
	{"uthentication", "auth"},
	{"arser", "protocol"},
}

// natsReason is the reason counted for the refusal text of a connection of kind.
func natsReason(kind, text string) string {
	for _, r := range natsRouteReasons {
		if strings.Contains(text, r.text) {
			return r.reason
		}
	}
	return "error"
}

// natsClosedByFailure reports whether text is the server's notice that it closed a
// connection for a failure it logged before.
func natsClosedByFailure(text string) bool {
	_, why, ok := strings.Cut(text, "connection closed: ")
	if !ok {
		return false
	}
	switch why {
	case "Client Closed", "Server Shutdown", "Route Removed", "Gateway Replaced", "Duplicate Route", "Stale Connection":
		return false
	}
	return true
}

// memberlistLogger returns a *log.Logger for memberlist that forwards each line to l
// at the level memberlist's "[LEVEL]" prefix names. memberlist reports gossip it
// refused only in its log: a warning or an error that names the remote address
// ("from=127.0.0.1:50123") is a refusal of kind gossip, counted and logged through
// ref's limiter, and count also sees the reasons of gossipRefusals.
//
// Once closing is true the hub is stopping its memberlist, which closes its sockets
// before it stops probing: what memberlist then fails to send, over a socket the hub
// closed, is Debug, as is anything else it reports from then on.
func memberlistLogger(l *slog.Logger, ref *refusals, count func(reason string), closing *atomic.Bool) *log.Logger {
	return log.New(levelWriter{l, ref, count, closing}, "", 0)
}

type levelWriter struct {
	l       *slog.Logger
	ref     *refusals // nil: every line is logged
	count   func(reason string)
	closing *atomic.Bool // nil: never
}

// gossipRefusals maps what memberlist logs when it refuses a packet or stream to the
// reason counted.
var gossipRefusals = []struct{ text, reason string }{
	{"unacceptable label", "gossip-label"},
	{"Decrypt packet failed", "gossip-key"},
	{"no installed keys could decrypt", "gossip-key"},
	{"encryption is configured but remote state is not encrypted", "gossip-key"},
}

func (w levelWriter) Write(p []byte) (int, error) {
	msg := bytes.TrimSpace(p)
	level := slog.LevelInfo
	for prefix, lv := range map[string]slog.Level{
		"[DEBUG]": slog.LevelDebug, "[INFO]": slog.LevelInfo, "[WARN]": slog.LevelWarn, "[ERR]": slog.LevelError,
	} {
		if bytes.HasPrefix(msg, []byte(prefix)) {
			level = lv
			msg = bytes.TrimSpace(msg[len(prefix):])
			break
		}
	}
	if w.closing != nil && w.closing.Load() {
		level = min(level, slog.LevelDebug)
	}
	reason := ""
	for _, r := range gossipRefusals {
		if bytes.Contains(msg, []byte(r.text)) {
			reason = r.reason
			if w.count != nil {
				w.count(r.reason)
			}
			break
		}
	}
	if _, from, ok := bytes.Cut(msg, []byte("from=")); ok && w.ref != nil && level >= slog.LevelWarn {
		addr, _, _ := bytes.Cut(from, []byte(" "))
		if reason == "" {
			reason = "gossip-error"
		}
		w.ref.refuse(RefusedGossip, reason, remoteIP(string(addr)), level, "memberlist", "event", string(msg))
		return len(p), nil
	}
	w.l.Log(context.Background(), level, "memberlist", "event", string(msg))
	return len(p), nil
}
