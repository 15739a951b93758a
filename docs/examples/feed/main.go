// Command feed follows the change feed of a hubnet hub, as a CRM's connector would:
// it reads GET /v1/events after the last event it handled, handles each (here: it
// prints one line), and keeps the sequence number of the last one in a state file,
// so that after a stop or a crash, its own or the hub's, it goes on exactly where it
// stopped: no event missed, none handled twice.
//
//	HUBNET_TOKEN=... go run ./docs/examples/feed -node http://127.0.0.1:7480 -state crm.state
//
// The token needs the scope read (hubnet tokens add crm --scope read). Without
// -once it waits for new events with the feed's long poll, for ever; with -once it
// stops when it has read them all.
//
// The state is written after each event, by writing a new file and renaming it over
// the old, which a crash leaves whole. A connector that writes into a database does
// better still: it keeps the sequence number in the same transaction as what it made
// of the event.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// event is what this consumer reads of an event; the feed's schema (version 1) has
// more, and may gain fields.
type event struct {
	Version  int    `json:"version"`
	Seq      uint64 `json:"seq"`
	Type     string `json:"type"`
	At       string `json:"at"`
	Referral *struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		Partner string `json:"partner"`
	} `json:"referral"`
	Hub *struct {
		ID string `json:"id"`
	} `json:"hub"`
}

type page struct {
	Events []event `json:"events"`
	Next   uint64  `json:"next"`
	Oldest uint64  `json:"oldest"`
}

func main() {
	node := flag.String("node", envOr("HUBNET_NODE", "http://127.0.0.1:7480"), "the hub's HTTP API")
	state := flag.String("state", "feed.state", "file that keeps the last event handled")
	once := flag.Bool("once", false, "stop when every event is read, rather than wait for more")
	flag.Parse()
	token := os.Getenv("HUBNET_TOKEN")
	if token == "" {
		fmt.Fprintln(os.Stderr, "feed: set HUBNET_TOKEN to a token with the scope read")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := follow(ctx, *node, token, *state, *once); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "feed:", err)
		os.Exit(1)
	}
}

// follow reads and handles events until ctx ends, or, with once, until none is left.
func follow(ctx context.Context, node, token, state string, once bool) error {
	after, err := readState(state)
	if err != nil {
		return err
	}
	wait := "25s" // below the 30 s the client allows an answer
	if once {
		wait = "0"
	}
	client := &http.Client{Timeout: 30 * time.Second}
	failures := 0
	for ctx.Err() == nil {
		p, err := read(ctx, client, node, token, after, wait)
		if err != nil {
			// The hub restarting, the network: wait a little longer each time.
			failures++
			if failures > 8 && once {
				return err
			}
			fmt.Fprintln(os.Stderr, "feed:", err)
			select {
			case <-ctx.Done():
			case <-time.After(min(time.Duration(failures)*time.Second, 30*time.Second)):
			}
			continue
		}
		failures = 0
		if after > 0 && p.Oldest > after+1 {
			fmt.Fprintf(os.Stderr, "feed: events %d to %d were pruned before they were read\n", after+1, p.Oldest-1)
		}
		for _, e := range p.Events {
			handle(e)
			after = e.Seq
			if err := writeState(state, after); err != nil {
				return err
			}
		}
		if once && len(p.Events) == 0 {
			return nil
		}
	}
	return ctx.Err()
}

// handle is what the connector does with an event: here, one line.
func handle(e event) {
	switch {
	case e.Referral != nil:
		fmt.Printf("%d %s %s %s %s\n", e.Seq, e.Type, e.Referral.ID, e.Referral.State, e.Referral.Partner)
	case e.Hub != nil:
		fmt.Printf("%d %s %s\n", e.Seq, e.Type, e.Hub.ID)
	default:
		fmt.Printf("%d %s\n", e.Seq, e.Type)
	}
}

// read asks for the events after after.
func read(ctx context.Context, client *http.Client, node, token string, after uint64, wait string) (page, error) {
	q := url.Values{"after": {strconv.FormatUint(after, 10)}, "limit": {"100"}, "wait": {wait}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(node, "/")+"/v1/events?"+q.Encode(), nil)
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return page{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return page{}, fmt.Errorf("GET /v1/events: %s: %s", resp.Status, body)
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		return page{}, fmt.Errorf("GET /v1/events: %w", err)
	}
	return p, nil
}

// readState returns the last event handled: 0 before the first.
func readState(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("state file %s: %w", path, err)
	}
	return n, nil
}

// writeState keeps seq as the last event handled: a new file renamed over the old.
func writeState(path string, seq uint64) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strconv.FormatUint(seq, 10) + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
