package contract_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/api"
)

// TestTypeScriptClient runs the worked example of docs/api.md: it generates the
// TypeScript types of the API from the document with openapi-typescript, checks
// api/typescript/client.ts against them with tsc, and runs it with openapi-fetch
// against a real node. It needs npm, and the npm registry for the packages of
// api/typescript/package.json; with -short, or without npm, it is skipped.
func TestTypeScriptClient(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no npm install")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not found: install Node.js and npm (CI does)")
	}
	dir := t.TempDir()
	for _, name := range []string{"package.json", "tsconfig.json", "client.ts"} {
		b, err := os.ReadFile(filepath.Join("../../api/typescript", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// npm run generate reads ../openapi.json, as in the repository.
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "openapi.json"), api.OpenAPI(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(nil, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	run(nil, "npm", "run", "--silent", "generate")
	run(nil, "npm", "run", "--silent", "check")

	f := startFederation(t)
	out := run([]string{"HUBNET_NODE=http://" + f.robocoast.HTTPAddr(), "HUBNET_TOKEN=" + f.token}, "npm", "run", "--silent", "start")
	for _, want := range []string{"hub digihall: DigiHall, revision 1", "hub robocoast: Hub robocoast, revision 1",
		"hit 1. digihall, free 3", "capacity 2, revision 2", "error 404 not-found"} {
		if !strings.Contains(out, want) {
			t.Errorf("the client printed:\n%s\nwant a line with %q", out, want)
		}
	}
}
