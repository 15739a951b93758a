package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/protocol"
)

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print hubnet's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := struct {
				Version  string `json:"version"`
				Protocol int    `json:"protocol"`
				Go       string `json:"go"`
				Platform string `json:"platform"`
				Commit   string `json:"commit,omitempty"`
				Modified bool   `json:"modified,omitempty"`
			}{Version: "unknown", Protocol: protocol.Version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
			if bi, ok := debug.ReadBuildInfo(); ok {
				v.Version = bi.Main.Version
				for _, s := range bi.Settings {
					switch s.Key {
					case "vcs.revision":
						v.Commit = s.Value
					case "vcs.modified":
						v.Modified = s.Value == "true"
					}
				}
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "hubnet %s (protocol v%d, %s, %s)\n", v.Version, v.Protocol, v.Go, v.Platform)
			if v.Commit != "" {
				mod := ""
				if v.Modified {
					mod = " with local changes"
				}
				fmt.Fprintf(w, "commit %s%s\n", v.Commit, mod)
			}
			return nil
		},
	}
}
