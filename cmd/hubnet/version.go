package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/protocol"
)

// version and commit are set by the Makefile's build with
// -ldflags "-X main.version=v1.2.0 -X main.commit=<hash>"; empty in a plain go build,
// which versionInfo then reads from the build information or the checkout.
var (
	version string
	commit  string
)

// buildVersion is what 'hubnet version' prints.
type buildVersion struct {
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	// From says where the commit was read: "build" (the -X flags of the Makefile),
	// "vcs" (what go build stamps from the checkout) or "checkout" (git, asked at run
	// time in the source directory of a go run or a go build without VCS stamping).
	From string `json:"commit_from,omitempty"`
}

// versionInfo returns the version of this binary, from the first source that has it:
// the -X flags, the module's build information, the checkout it was built in.
func versionInfo() buildVersion {
	v := buildVersion{Version: "unknown", Protocol: protocol.Version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		v.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit, v.From = s.Value, "vcs"
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		v.Version = version
	}
	if commit != "" {
		v.Commit, v.From = strings.TrimSuffix(commit, "-dirty"), "build"
		v.Modified = strings.HasSuffix(commit, "-dirty")
	}
	if v.Commit == "" {
		v.Commit, v.Modified = checkoutCommit()
		if v.Commit != "" {
			v.From = "checkout"
		}
	}
	return v
}

// checkoutCommit asks git for the commit of the checkout this file was compiled from,
// when it is still there: what a go run or a go build without VCS stamping (a git
// worktree, -buildvcs=false) leaves out. It waits at most two seconds; "" when there
// is no git, no checkout, or the path was trimmed.
func checkoutCommit() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); err != nil {
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	status, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(out)), err == nil && len(strings.TrimSpace(string(status))) > 0
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: a.T("Print hubnet's version and the commit it was built from"),
		Long: a.T(`Print hubnet's version, the protocol version it speaks, the Go version and platform
it was built with, and the commit of its source: set by 'make build' and 'make
release', stamped by go build in a git checkout, or read from the checkout by a 'go
run'.`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := versionInfo()
			if a.json {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, a.T("hubnet %s (protocol v%d, %s, %s)", v.Version, v.Protocol, v.Go, v.Platform))
			switch {
			case v.Commit != "" && v.Modified:
				fmt.Fprintln(w, a.T("commit %s with local changes", v.Commit))
			case v.Commit != "":
				fmt.Fprintln(w, a.T("commit %s", v.Commit))
			}
			return nil
		},
	}
}
