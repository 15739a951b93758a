package node

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"strings"
)

// natsLogger adapts slog to nats-server's Logger. Notices are Info; debug and trace
// stay off unless the server is asked for them.
type natsLogger struct{ l *slog.Logger }

func (n natsLogger) Noticef(format string, v ...any) {
	n.l.Info("nats server", "event", fmt.Sprintf(format, v...))
}
func (n natsLogger) Warnf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.HasPrefix(msg, "TLS certificate chain and hostname of solicited routes will not be verified") {
		// By design: routes check the other end's key against the membership, not a
		// chain of authorities (see bus.go).
		return
	}
	n.l.Warn("nats server", "event", msg)
}
func (n natsLogger) Fatalf(format string, v ...any) {
	n.l.Error("nats server", "event", fmt.Sprintf(format, v...))
}
func (n natsLogger) Errorf(format string, v ...any) {
	n.l.Error("nats server", "event", fmt.Sprintf(format, v...))
}
func (n natsLogger) Debugf(format string, v ...any) {
	n.l.Debug("nats server", "event", fmt.Sprintf(format, v...))
}
func (n natsLogger) Tracef(format string, v ...any) {
	n.l.Debug("nats server", "event", fmt.Sprintf(format, v...))
}

// memberlistLogger returns a *log.Logger for memberlist that forwards each line to l
// at the level memberlist's "[LEVEL]" prefix names. memberlist reports gossip it
// refused only in its log, so count sees each such line with its reason.
func memberlistLogger(l *slog.Logger, count func(reason string)) *log.Logger {
	return log.New(levelWriter{l, count}, "", 0)
}

type levelWriter struct {
	l     *slog.Logger
	count func(reason string)
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
	if w.count != nil {
		for _, r := range gossipRefusals {
			if bytes.Contains(msg, []byte(r.text)) {
				w.count(r.reason)
				break
			}
		}
	}
	w.l.Log(context.Background(), level, "memberlist", "event", string(msg))
	return len(p), nil
}
