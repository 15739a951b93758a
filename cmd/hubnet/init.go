package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
)

func newInitCmd(a *app) *cobra.Command {
	var (
		networkFile string
		id          string
		profileFile string
		admKeyFile  string
		valid       string
	)
	cmd := &cobra.Command{
		Use:   "init -d DIR --network network.json --id ID [--profile profile.yaml]",
		Short: a.T("Prepare a hub's data directory: keys, token and first profile"),
		Long: a.T(`Prepare the data directory DIR for the hub ID of the network in network.json: a
store with fresh signing and box keys, an operator token (DIR/token, mode 0600) and,
with --profile, the hub's first profile. An invalid profile is refused before anything
is written. ID is 3-48 characters of a-z, 0-9 and '-'.

The other hubs refuse this one until the network's steward admits it: init prints the
hub's public keys and the exact 'hubnet network admit' command the steward runs; you
install the certificate it makes with 'hubnet network install-cert'. A steward who
runs the hub too gives --admission-key and the hub is admitted at once.`),
		Example: "  hubnet init -d ./hub --network network.json --id digit-hub-sweden --profile profile.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.needDataDir(cmd); err != nil {
				return err
			}
			if id == "" {
				return usagef("give the hub's ID with --id")
			}
			data, err := os.ReadFile(networkFile)
			if err != nil {
				return fail("init", fmt.Errorf("read network: %w", err),
					"give the network.json of 'hubnet network create' with --network")
			}
			netw, err := protocol.ParseNetwork(data)
			if err != nil {
				return fail("init", fmt.Errorf("network %s: %w", networkFile, err), "")
			}
			term, err := parseValidity(valid)
			if err != nil {
				return err
			}
			var adm *protocol.AdmissionKey
			if admKeyFile != "" {
				k, err := readAdmissionKey(admKeyFile)
				if err != nil {
					return fail("init", err, "")
				}
				adm = &k
			}
			var p *protocol.Profile
			if profileFile != "" {
				prof, err := readProfileFile(profileFile, cmd.InOrStdin())
				if err != nil {
					return fail("init", err, "")
				}
				p = &prof
			}
			res, err := node.InitDataDir(a.dataDir, netw, id, p)
			if errors.Is(err, node.ErrInitialised) {
				return fail("init", fmt.Errorf("%s is initialised already", a.dataDir),
					"run it with: "+shellJoin("hubnet", "run", "-d", a.dataDir)+"; or give another -d")
			}
			if err != nil {
				return fail("init "+a.dataDir, err, "")
			}
			var cert *protocol.Certificate
			if adm != nil {
				c, err := node.Admit(a.dataDir, *adm, term)
				if err != nil {
					return fail("init: admit", err, "")
				}
				cert = &c
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), struct {
					node.InitResult
					Cert *protocol.Certificate `json:"certificate,omitempty"`
				}{res, cert})
			}
			w := cmd.OutOrStdout()
			line, indent := a.initLines(w)
			line("hub", res.ID)
			line("network", netw.Name)
			if cert != nil {
				line("sign key", base64.StdEncoding.EncodeToString(res.SignKey))
				line("box key", base64.StdEncoding.EncodeToString(res.BoxKey))
				line("admission", a.T("admitted until %s", cert.Expires().Format(time.DateOnly)))
			} else {
				a.printAdmitCommand(w, res.ID, res.SignKey, res.BoxKey, admissionKeyBeside(networkFile), a.dataDir)
			}
			line("token file", res.TokenFile)
			if p != nil {
				line("profile", a.T("revision %d", res.Revision))
			} else {
				line("profile", a.T("none yet; write one (docs/examples/profile.yaml) and, with the hub running, apply it with:"))
				fmt.Fprintf(w, "%s%s\n", indent, shellJoin("hubnet", "-d", a.dataDir, "profile", "apply", "-f", "profile.yaml"))
			}
			line("start it", shellJoin("hubnet", "run", "-d", a.dataDir))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&networkFile, "network", "network.json", a.T("the network.json of 'hubnet network create'"))
	f.StringVar(&id, "id", "", a.T("the hub's ID, such as digit-hub-sweden"))
	f.StringVar(&profileFile, "profile", "", a.T("the hub's first profile, a YAML file ('-' for standard input)"))
	f.StringVar(&admKeyFile, "admission-key", "", a.T("the steward's admission.key: admit the hub at once"))
	f.StringVar(&valid, "valid", "365d", a.T("with --admission-key: how long the certificate is valid"))
	return cmd
}

// initialised reports whether dir holds a hub's store already.
func initialised(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, node.StoreFile))
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// initFields are the names of the lines init prints, which initLines translates.
var initFields = []string{msg("hub"), msg("network"), msg("sign key"), msg("box key"), msg("admission"),
	msg("token file"), msg("profile"), msg("start it")}

// initLines returns a function that writes "name: value" with the names, translated,
// in one column as wide as the longest, and the indent of a command printed below.
func (a *app) initLines(w io.Writer) (line func(name, value string), indent string) {
	width := 11 // "token file:"
	for _, n := range initFields {
		width = max(width, utf8.RuneCountInString(a.lang.Text(n))+1)
	}
	return func(name, value string) {
		label := a.lang.Text(name) + ":"
		fmt.Fprintf(w, "%s%s %s\n", label, strings.Repeat(" ", width-utf8.RuneCountInString(label)), value)
	}, strings.Repeat(" ", width+3)
}
