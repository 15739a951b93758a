package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/catalogue"
	"github.com/hubnet-eu/hubnet/node"
	"github.com/hubnet-eu/hubnet/protocol"
	"github.com/hubnet-eu/hubnet/store"
)

func newNetworkCmd(a *app) *cobra.Command {
	return groupCmd("network", a.T("Create a network, admit and revoke hubs, roll keys"),
		newNetworkCreateCmd(a), newClustersCmd(a), newAdmitCmd(a), newInstallCertCmd(a), newRevokeCmd(a),
		newRotateKeysCmd(a), newGossipKeyCmd(a))
}

func newNetworkCreateCmd(a *app) *cobra.Command {
	var (
		out, keyOut, catalogueFile string
		force, noClusters          bool
		gatewayHubs                int
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: a.T("Create a network: network.json for every hub, admission.key for its steward"),
		Long: a.T(`Create a network called NAME with a fresh gossip key and a fresh admission key pair.
network.json (or -o FILE) holds the name, the gossip key and the admission public key:
every hub of the network needs it for 'hubnet init'; hand it over privately, since the
gossip key lets its holder hear the network's gossip. admission.key (or --key FILE)
holds the admission private key: it stays with the network's steward, who admits hubs
with 'hubnet network admit' and revokes them with 'hubnet network revoke'. Both files
are readable by you only. Existing files are kept unless --force is given.

network.json also holds the region map: hubs form clusters by the country of their
profile, a full mesh inside each and NATS gateways between them. By default each country
with 4 hubs or more of the EC's EDIH catalogue (May 2025) is a cluster, and the others are
grouped by region; --catalogue counts the hubs of a newer export instead. --no-clusters
makes one full mesh of every hub, as networks were before region maps: right for a few
dozen hubs. 'hubnet network clusters' prints the map.`),
		Example: "  hubnet network create nordic-edihs -o network.json --key admission.key\n" +
			"  hubnet network create eu-edihs --catalogue edih-catalogue.xlsx\n" +
			"  hubnet network create pilot --no-clusters",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("key") {
				keyOut = filepath.Join(filepath.Dir(out), "admission.key") // beside network.json
			}
			if noClusters && catalogueFile != "" {
				return usagef("give --no-clusters or --catalogue, not both")
			}
			n, adm, err := protocol.NewNetwork(args[0], rand.Reader)
			if err != nil {
				return fail("create network", err, "")
			}
			if !noClusters {
				counts := catalogue.HubsPerCountry
				if catalogueFile != "" {
					hubs, err := a.readCatalogueFile(catalogueFile)
					if err != nil {
						return err
					}
					counts = catalogue.CountHubs(hubs)
				}
				n.Clusters = protocol.DefaultClusters(counts)
				n.GatewayHubs = gatewayHubs
				if gatewayHubs < 0 || gatewayHubs > protocol.MaxGatewayHubs {
					return usagef("--gateway-hubs %d: give 0 (every hub of a cluster) to %d", gatewayHubs, protocol.MaxGatewayHubs)
				}
			}
			if !force {
				for _, f := range []string{out, keyOut} {
					if _, err := os.Stat(f); err == nil {
						return fail("create network", errors.New(a.T("%s exists", f)), "give --force to replace it, or -o/--key another file")
					}
				}
			}
			for _, w := range []struct {
				path string
				v    any
			}{{keyOut, adm}, {out, n}} {
				data, err := json.MarshalIndent(w.v, "", "  ")
				if err != nil {
					return fail("create network", err, "")
				}
				if err := writeSecretFile(w.path, append(data, '\n'), force); err != nil {
					return fail("create network", err, "")
				}
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), map[string]string{"name": n.Name, "file": out, "admission_key": keyOut})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, a.T("network %s written to %s (mode 0600: it holds the gossip key, share it privately)", n.Name, out))
			fmt.Fprintln(w, a.T("admission key written to %s (mode 0600: the steward keeps it; it admits and revokes hubs)", keyOut))
			if n.Clustered() {
				fmt.Fprintln(w, a.T("region map of %d clusters; see it with: %s", len(n.Clusters), shellJoin("hubnet", "network", "clusters", "--network", out)))
			} else {
				fmt.Fprintln(w, a.T("no region map: the hubs form one full mesh"))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "network.json", a.T("the network file to write"))
	cmd.Flags().BoolVar(&noClusters, "no-clusters", false, a.T("no region map: one full mesh of every hub"))
	cmd.Flags().StringVar(&catalogueFile, "catalogue", "", a.T("count the hubs per country in this XLSX export of the EDIH catalogue"))
	cmd.Flags().IntVar(&gatewayHubs, "gateway-hubs", protocol.DefaultGatewayHubs, a.T("hubs of each cluster that carry its routes and gateways; the others join them as leaf nodes (0: every hub)"))
	cmd.Flags().StringVar(&keyOut, "key", "admission.key", a.T("the admission key file to write (default: beside the network file)"))
	cmd.Flags().BoolVar(&force, "force", false, a.T("replace the files if they exist"))
	return cmd
}

func newClustersCmd(a *app) *cobra.Command {
	var networkFile string
	cmd := &cobra.Command{
		Use:   "clusters [--network network.json]",
		Short: a.T("Print the region map: which countries each cluster holds"),
		Long: a.T(`Print the region map of the network in network.json: each cluster with its
countries. A hub belongs to the cluster of its profile's country, or to "other" when no
cluster lists it. A network without a region map is one full mesh of every hub.

The steward changes the map by editing the "clusters" of network.json (each a name of at
most 16 characters of a-z, 0-9 and '-', and its country codes; a country in one cluster
only) and handing the file to every hub, which takes it when stopped with
'hubnet network install-cert --network' and moves at its next start.`),
		Example: "  hubnet network clusters --network network.json\n  hubnet network clusters --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := readNetworkFile(networkFile)
			if err != nil {
				return err
			}
			if a.json {
				cs := n.Clusters
				if cs == nil {
					cs = []protocol.Cluster{}
				}
				return writeJSON(cmd.OutOrStdout(), cs)
			}
			w := cmd.OutOrStdout()
			if !n.Clustered() {
				fmt.Fprintln(w, a.T("network %s has no region map: its hubs form one full mesh", n.Name))
				return nil
			}
			t := newTable(w, a.T("CLUSTER"), a.T("COUNTRIES"))
			for _, c := range n.Clusters {
				t.row(c.Name, strings.Join(c.Countries, " "))
			}
			t.row(protocol.OtherCluster, "every other country, and hubs without a profile")
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&networkFile, "network", "network.json", a.T("the network.json of 'hubnet network create'"))
	return cmd
}

// readNetworkFile reads and validates network.json at path.
func readNetworkFile(path string) (protocol.Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return protocol.Network{}, fail("read network", err, "give the network.json of 'hubnet network create' with --network")
	}
	n, err := protocol.ParseNetwork(data)
	if err != nil {
		return protocol.Network{}, fail("read network", fmt.Errorf("network %s: %w", path, err), "")
	}
	return n, nil
}

// readAdmissionKey reads the steward's admission key file.
func readAdmissionKey(path string) (protocol.AdmissionKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return protocol.AdmissionKey{}, fmt.Errorf("read admission key: %w", err)
	}
	adm, err := protocol.ParseAdmissionKey(data)
	if err != nil {
		return protocol.AdmissionKey{}, fmt.Errorf("admission key %s: %w", path, err)
	}
	return adm, nil
}

// parseValidity reads a term such as 365d, 90d or 720h.
func parseValidity(s string) (time.Duration, error) {
	d, err := parseDays(s)
	if err != nil {
		return 0, usagef("--valid %q: give days such as 365d, or hours such as 720h", s)
	}
	return d, nil
}

// decodeKey reads a base64 public key of 32 bytes given with flag.
func decodeKey(flag, s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, usagef("--%s: give the 32-byte key in base64, as 'hubnet init' printed it", flag)
	}
	return b, nil
}

func newAdmitCmd(a *app) *cobra.Command {
	var keyFile, id, signKey, boxKey, valid, out string
	cmd := &cobra.Command{
		Use:   "admit --key admission.key --id ID --signing-key KEY --box-key KEY [--valid 365d]",
		Short: a.T("Admit a hub: issue its node certificate (the steward)"),
		Long: a.T(`Issue the node certificate of hub ID with the public keys 'hubnet init' printed for it,
signed with the network's admission key and valid for --valid (default 365d). The
certificate goes to standard output, or to -o FILE; the hub's operator installs it with
'hubnet network install-cert'. Hubs without a valid certificate are refused by every
other hub.`),
		Example: "  hubnet network admit --key admission.key --id digit-hub-sweden --signing-key Vb3u... --box-key 9kQ2... -o digit-hub-sweden.cert",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" || signKey == "" || boxKey == "" {
				return usagef("give --id, --signing-key and --box-key, as 'hubnet init' printed them")
			}
			term, err := parseValidity(valid)
			if err != nil {
				return err
			}
			sk, err := decodeKey("signing-key", signKey)
			if err != nil {
				return err
			}
			bk, err := decodeKey("box-key", boxKey)
			if err != nil {
				return err
			}
			adm, err := readAdmissionKey(keyFile)
			if err != nil {
				return fail("admit", err, "give the steward's admission.key of 'hubnet network create' with --key")
			}
			c, err := protocol.Admit(adm, id, sk, bk, time.Now(), term)
			if err != nil {
				return fail("admit "+id, err, "")
			}
			data, err := json.MarshalIndent(c, "", "  ")
			if err != nil {
				return fail("admit", err, "")
			}
			data = append(data, '\n')
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return fail("admit", err, "")
			}
			fmt.Fprintln(cmd.OutOrStdout(), a.T("certificate of %s in network %s, valid until %s, written to %s",
				c.ID, c.Network, c.Expires().Format(time.DateOnly), out))
			if a.dataDir != "" {
				fmt.Fprintln(cmd.OutOrStdout(), a.T("the hub installs it with: %s", shellJoin("hubnet", "network", "install-cert", "-d", a.dataDir, out)))
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n  %s\n", a.T("the hub's operator installs it with the hub's data directory as DIR:"),
					shellJoin("hubnet", "network", "install-cert", "-d", "DIR", out))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "admission.key", a.T("the network's admission key"))
	f.StringVar(&id, "id", "", a.T("the hub's ID"))
	f.StringVar(&signKey, "signing-key", "", a.T("the hub's signing public key (base64), as 'hubnet init' printed it"))
	f.StringVar(&boxKey, "box-key", "", a.T("the hub's box public key (base64), as 'hubnet init' printed it"))
	f.StringVar(&valid, "valid", "365d", a.T("how long the certificate is valid: days (365d) or hours (720h)"))
	f.StringVarP(&out, "output", "o", "", a.T("write the certificate to this file instead of standard output"))
	return cmd
}

func newInstallCertCmd(a *app) *cobra.Command {
	var networkFile string
	cmd := &cobra.Command{
		Use:   "install-cert -d DIR CERT",
		Short: a.T("Install the hub's node certificate from the steward"),
		Long: a.T(`Install the node certificate CERT (a file, or - for standard input) that the steward
issued with 'hubnet network admit'. It must be for this hub, its network and its keys,
or for the keys 'hubnet network rotate-keys' made, which then become the hub's keys.
A stopped hub's data directory is changed directly; a running hub takes a renewed
certificate for its current keys through its API and gossips it at once. With
--network, a stopped hub also takes the steward's network.json (same network name):
how it learns a new admission key.`),
		Example: "  hubnet network install-cert -d ./hub digit-hub-sweden.cert",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.needDataDir(cmd); err != nil {
				return err
			}
			data, err := readInput(args[0], cmd.InOrStdin())
			if err != nil {
				return fail("install certificate", err, "")
			}
			c, err := protocol.ParseCertificate(data)
			if err != nil {
				return fail("install certificate "+args[0], err, "")
			}
			var netw *protocol.Network
			if networkFile != "" {
				nd, err := os.ReadFile(networkFile)
				if err != nil {
					return fail("install certificate", err, "")
				}
				n, err := protocol.ParseNetwork(nd)
				if err != nil {
					return fail("install certificate", fmt.Errorf("network %s: %w", networkFile, err), "")
				}
				netw = &n
			}
			res, err := node.InstallCertificate(a.dataDir, c, netw)
			if errors.Is(err, store.ErrInUse) {
				if netw != nil {
					return fail("install certificate", errors.New(a.T("the hub is running")), "stop it to give it a new network.json")
				}
				return a.installCertOnline(cmd, c)
			}
			if err != nil {
				return fail("install certificate", err, "ask the steward for a certificate of this hub's keys ('hubnet -d DIR version' shows them)")
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintln(cmd.OutOrStdout(), a.T("certificate of %s installed, valid until %s", res.ID, res.NotAfter.Format(time.DateOnly)))
			if res.Rotated {
				fmt.Fprintln(cmd.OutOrStdout(), a.T("the hub now uses its new keys; start it again with: %s", shellJoin("hubnet", "run", "-d", a.dataDir)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&networkFile, "network", "", a.T("also replace the stored network by this network.json (same name)"))
	return cmd
}

// installCertOnline gives a certificate to the running hub of -d DIR.
func (a *app) installCertOnline(cmd *cobra.Command, c protocol.Certificate) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	var ci api.CertInfo
	if _, err := cl.call(change, func(ac *api.Client) (err error) {
		ci, err = ac.InstallCertificate(cmd.Context(), c)
		return err
	}); err != nil {
		return fail("install certificate", err, "")
	}
	if a.json {
		return writeJSON(cmd.OutOrStdout(), ci)
	}
	fmt.Fprintln(cmd.OutOrStdout(), a.T("certificate of %s installed on the running hub, valid until %s", c.ID, ci.NotAfter.Format(time.DateOnly)))
	return nil
}

func newRevokeCmd(a *app) *cobra.Command {
	var keyFile, reason, out string
	cmd := &cobra.Command{
		Use:   "revoke --key admission.key ID",
		Short: a.T("Revoke a hub's admission (the steward)"),
		Long: a.T(`Sign the revocation of hub ID with the network's admission key: every certificate of
the hub issued until now is void. The revocation goes to standard output or -o FILE;
with -d DIR or --node it is also handed to that running hub, which stores it, applies
it and spreads it through gossip to every hub, where it survives restarts. Each hub
then refuses the revoked one: no membership, no routes, no messages, and its profile
leaves the directory. The steward may admit the hub again later with a new certificate.`),
		Example: "  hubnet network revoke --key admission.key --reason 'keys stolen' -d ./hub rogue-hub",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := readAdmissionKey(keyFile)
			if err != nil {
				return fail("revoke", err, "give the steward's admission.key of 'hubnet network create' with --key")
			}
			r, err := protocol.Revoke(adm, args[0], reason, time.Now())
			if err != nil {
				return fail("revoke "+args[0], err, "")
			}
			data, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return fail("revoke", err, "")
			}
			data = append(data, '\n')
			w := cmd.OutOrStdout()
			if out != "" && out != "-" {
				if err := os.WriteFile(out, data, 0o644); err != nil {
					return fail("revoke", err, "")
				}
			} else if a.dataDir == "" && a.nodeURL == "" {
				_, err := w.Write(data)
				return err
			}
			if a.dataDir == "" && a.nodeURL == "" {
				fmt.Fprintln(w, a.T("revocation of %s written to %s; hand it to a running hub: %s", r.ID, out, shellJoin("hubnet", "network", "revoke", "--apply", "-d", "DIR", out)))
				return nil
			}
			return a.applyRevocation(cmd, r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "admission.key", a.T("the network's admission key"))
	f.StringVar(&reason, "reason", "", a.T("why, for the operators (at most 200 bytes)"))
	f.StringVarP(&out, "output", "o", "", a.T("write the revocation to this file"))
	cmd.AddCommand(newApplyRevocationCmd(a))
	return cmd
}

func newApplyRevocationCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "apply -d DIR FILE",
		Short: a.T("Hand a signed revocation to a running hub"),
		Long: a.T(`Hand the revocation in FILE (or - for standard input), signed by the steward with
'hubnet network revoke', to the running hub of -d DIR or --node, which applies it and
spreads it through gossip.`),
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(args[0], cmd.InOrStdin())
			if err != nil {
				return fail("apply revocation", err, "")
			}
			var r protocol.Revocation
			if err := json.Unmarshal(data, &r); err != nil {
				return fail("apply revocation", &protocol.ValidationError{What: "revocation", Problems: []protocol.FieldError{{Field: "(json)", Rule: err.Error()}}}, "")
			}
			return a.applyRevocation(cmd, r)
		},
	}
}

// applyRevocation hands r to the running hub of -d DIR or --node.
func (a *app) applyRevocation(cmd *cobra.Command, r protocol.Revocation) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	var res api.RevokeResult
	if _, err := cl.call(change, func(ac *api.Client) (err error) {
		res, err = ac.Revoke(cmd.Context(), r)
		return err
	}); err != nil {
		return fail(a.T("apply revocation of %s", r.ID), err, "")
	}
	if a.json {
		return writeJSON(cmd.OutOrStdout(), map[string]any{"id": r.ID, "new": res.New})
	}
	if res.New {
		fmt.Fprintln(cmd.OutOrStdout(), a.T("%s revoked; the revocation spreads to every hub through gossip", r.ID))
	} else {
		fmt.Fprintln(cmd.OutOrStdout(), a.T("%s was revoked already", r.ID))
	}
	return nil
}

func newRotateKeysCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-keys -d DIR",
		Short: a.T("Make new signing and box keys for a stopped hub"),
		Long: a.T(`Make new signing and box keys for the hub in DIR, which must be stopped. They wait
until the steward certifies them: this prints the 'hubnet network admit' command to send
to the steward. Installing that certificate with 'hubnet network install-cert' switches
the hub to the new keys; its referrals stay, and what was sealed to its old box key can
still be opened. Until then the hub runs with its current keys. Run again, it prints the
same waiting keys.`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.needDataDir(cmd); err != nil {
				return err
			}
			k, err := node.RotateKeys(a.dataDir)
			if errors.Is(err, store.ErrInUse) {
				return fail("rotate keys", errors.New(a.T("the hub is running")), "stop it first; it keeps its referrals")
			}
			if err != nil {
				return fail("rotate keys", err, "")
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), k)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, a.T("new keys of %s wait for their certificate:", k.ID))
			a.printAdmitCommand(w, k.ID, k.SignKey, k.BoxKey, "admission.key", a.dataDir)
			return nil
		},
	}
}

// printAdmitCommand prints the keys, the command the steward runs to admit them with
// the admission key keyFile, and the one that installs the certificate in the hub's
// data directory dir.
func (a *app) printAdmitCommand(w io.Writer, id string, sign, box []byte, keyFile, dir string) {
	sk, bk := base64.StdEncoding.EncodeToString(sign), base64.StdEncoding.EncodeToString(box)
	cert := id + ".cert"
	line, indent := a.initLines(w)
	line("sign key", sk)
	line("box key", bk)
	line("admission", a.T("the steward runs"))
	fmt.Fprintf(w, "%s%s\n", indent, shellJoin("hubnet", "network", "admit", "--key", keyFile, "--id", id, "--signing-key", sk, "--box-key", bk, "-o", cert))
	fmt.Fprintf(w, "%s%s\n", indent[2:], a.T("and you install it with:"))
	fmt.Fprintf(w, "%s%s\n", indent, shellJoin("hubnet", "network", "install-cert", "-d", dir, cert))
}

// admissionKeyBeside returns the admission key 'hubnet network create' wrote beside
// networkFile, where the steward keeps it; "admission.key" when there is none.
func admissionKeyBeside(networkFile string) string {
	k := filepath.Join(filepath.Dir(networkFile), "admission.key")
	if _, err := os.Stat(k); err != nil {
		return "admission.key"
	}
	return k
}

func newGossipKeyCmd(a *app) *cobra.Command {
	change := func(op, short, long string) *cobra.Command {
		return &cobra.Command{
			Use:   op + " -d DIR KEY",
			Short: a.T(short),
			Long:  a.T(long),
			Args:  exactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				key, err := base64.StdEncoding.DecodeString(args[0])
				if err != nil || len(key) != 32 {
					return usagef("KEY: give the 32-byte gossip key in base64, as 'hubnet network gossip-key new' printed it")
				}
				cl, err := a.client()
				if err != nil {
					return err
				}
				var info api.GossipKeyInfo
				if _, err := cl.call(change, func(ac *api.Client) (err error) {
					info, err = ac.ChangeGossipKeys(cmd.Context(), api.GossipKeyChange{Op: op, Key: key})
					return err
				}); err != nil {
					return fail(op+" gossip key", err, "")
				}
				return printKeyring(cmd, a, info)
			},
		}
	}
	list := &cobra.Command{
		Use:   "list -d DIR",
		Short: a.T("Show the running hub's gossip keyring, by fingerprint"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			var info api.GossipKeyInfo
			if _, err := cl.call(operator, func(ac *api.Client) (err error) {
				info, err = ac.GossipKeys(cmd.Context())
				return err
			}); err != nil {
				return fail("list gossip keys", err, "")
			}
			return printKeyring(cmd, a, info)
		},
	}
	current := &cobra.Command{
		Use:   "current -d DIR",
		Short: a.T("Print the gossip key the running hub encrypts with"),
		Long: a.T(`Print the gossip key the running hub encrypts with, in base64. A revocation rolls
the network's gossip key, so the key in network.json no longer lets a hub in: give a
hub admitted since this key (gossip-key install and use on it), as privately as
network.json.`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			var k api.GossipKey
			if _, err := cl.call(operator, func(ac *api.Client) (err error) {
				k, err = ac.CurrentGossipKey(cmd.Context())
				return err
			}); err != nil {
				return fail("read the gossip key", err, "")
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), k)
			}
			fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(k.Key))
			return nil
		},
	}
	gen := &cobra.Command{
		Use:   "new",
		Short: a.T("Print a fresh gossip key"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k := make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return fail("new gossip key", err, "")
			}
			fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(k))
			return nil
		},
	}
	return groupCmd("gossip-key", a.T("Roll the network's gossip key without downtime"),
		gen,
		change("install", "Accept a new gossip key, besides the current one",
			"Add KEY to the running hub's gossip keyring: it accepts gossip encrypted with it from now on. Step 1 of 3: install the new key at every hub."),
		change("use", "Encrypt gossip with a key of the keyring",
			"Make KEY the key the running hub encrypts gossip with. Step 2 of 3, once every hub has installed it."),
		change("remove", "Stop accepting a gossip key",
			"Remove KEY from the running hub's gossip keyring. Step 3 of 3, once every hub uses the new key: remove the old one."),
		list, current)
}

func printKeyring(cmd *cobra.Command, a *app, info api.GossipKeyInfo) error {
	if a.json {
		return writeJSON(cmd.OutOrStdout(), info)
	}
	for _, k := range info.Keys {
		mark := ""
		if k == info.Primary {
			mark = "  (in use)"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s%s\n", k, mark)
	}
	return nil
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
