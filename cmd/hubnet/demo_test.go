package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/node/nodetest"
)

func TestDemo_profilesValid(t *testing.T) {
	names, err := fs.Glob(demoData, "demodata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != demoMaxHubs {
		t.Fatalf("got %d demo profiles, want %d", len(names), demoMaxHubs)
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := demoData.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			p, err := decodeProfile(data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
			if want := strings.TrimSuffix(filepath.Base(name), ".yaml"); p.ID != want {
				t.Errorf("id: got %q, want %q", p.ID, want)
			}
		})
	}

	profiles, err := demoProfiles()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range profiles {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids[:4], demoFirst) || !slices.IsSorted(ids[4:]) || len(ids) != demoMaxHubs {
		t.Errorf("demo order: got %v, want %v first, then the rest sorted", ids, demoFirst)
	}
}

// TestDemo_run runs a demo of three hubs in this process until its table is printed,
// checks the hubs answer on the URLs it printed, then stops it.
func TestDemo_run(t *testing.T) {
	keep := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, &stdout, &stderr, slog.New(slog.DiscardHandler), 3, keep, 0)
	}()

	nodetest.Eventually(t, 30*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s", err, stderr.String())
		default:
		}
		if !strings.Contains(stdout.String(), "Press Ctrl-C to stop.") {
			return errors.New("demo has not printed its table yet")
		}
		return nil
	})
	out := stdout.String()
	for _, want := range []string{"HUB", "digit-hub-sweden", "DigIT Hub Sweden", "robocoast", "dih-slovenia", "hubnet --node http://127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo printed:\n%s\nwant it to contain %q", out, want)
		}
	}
	if strings.Contains(out, "digihall") {
		t.Errorf("demo of 3 hubs printed the fourth:\n%s", out)
	}

	// Each hub's node.json leads to a node that lists all three.
	for _, id := range []string{"digit-hub-sweden", "robocoast", "dih-slovenia"} {
		nf, err := readNodeFile(filepath.Join(keep, id))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, nf.URL) {
			t.Errorf("demo output lacks %s's URL %s", id, nf.URL)
		}
		resp, err := http.Get(nf.URL + "/v1/hubs")
		if err != nil {
			t.Fatal(err)
		}
		var hubs []node.HubInfo
		err = json.NewDecoder(resp.Body).Decode(&hubs)
		resp.Body.Close()
		if err != nil || len(hubs) != 3 {
			t.Errorf("%s lists %d hubs (%v), want 3", id, len(hubs), err)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo still running 10s after cancel")
	}
	if _, err := os.Stat(filepath.Join(keep, "robocoast", nodeFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("node.json after the demo: %v, want it removed", err)
	}
	if _, err := os.Stat(filepath.Join(keep, "network.json")); err != nil {
		t.Errorf("--keep lost network.json: %v", err)
	}
}
