package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/protocol"
)

func newNetworkCmd(a *app) *cobra.Command {
	return groupCmd("network", "Create a network of hubs", newNetworkCreateCmd(a))
}

func newNetworkCreateCmd(a *app) *cobra.Command {
	var (
		out   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a network and write its network.json",
		Long: `Create a network called NAME with a fresh gossip key and write it to network.json
(or -o FILE), readable by you only. Every hub of the network needs this file for
'hubnet init'; hand it over privately, since the gossip key lets its holder into the
network. An existing file is kept unless --force is given.`,
		Example: "  hubnet network create nordic-edihs -o network.json",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := protocol.NewNetwork(args[0], rand.Reader)
			if err != nil {
				return fail("create network", err, "")
			}
			data, err := json.MarshalIndent(n, "", "  ")
			if err != nil {
				return fail("create network", err, "")
			}
			if err := writeSecretFile(out, append(data, '\n'), force); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return fail("create network", fmt.Errorf("%s exists", out), "give --force to replace it, or -o another file")
				}
				return fail("create network", err, "")
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), map[string]string{"name": n.Name, "file": out})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "network %s written to %s (mode 0600: it holds the gossip key, share it privately)\n", n.Name, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "network.json", "the file to write")
	cmd.Flags().BoolVar(&force, "force", false, "replace the file if it exists")
	return cmd
}

// writeSecretFile writes data to path with mode 0600. Without force an existing file
// is left alone and an error matching fs.ErrExist is returned.
func writeSecretFile(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return err
	}
	// A replaced file keeps its old mode unless told otherwise.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
