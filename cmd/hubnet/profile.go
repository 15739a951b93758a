package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

func newProfileCmd(a *app) *cobra.Command {
	return groupCmd("profile", a.T("Show and change this hub's profile"),
		newProfileShowCmd(a),
		newProfileApplyCmd(a),
		groupCmd("capacity", a.T("Change this hub's free capacity"), newCapacitySetCmd(a)),
	)
}

func newProfileShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: a.T("Print this hub's profile as YAML (or JSON with --json)"),
		Long: a.T(`Print the profile of the hub the node runs, as YAML that 'hubnet profile apply -f'
takes back, or as JSON with --json.`),
		Example: "  hubnet -d ./hub profile show > profile.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return fail("show profile", err, "")
			}
			var self api.SelfInfo
			if _, err := c.call(anyone, func(ac *api.Client) (err error) {
				self, err = ac.Self(cmd.Context())
				return err
			}); err != nil {
				return fail("show profile", err, "")
			}
			if self.Profile == nil {
				return fail("show profile", errors.New(a.T("hub %s has no profile yet", self.ID)),
					"apply one: hubnet profile apply -f profile.yaml")
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), self.Profile)
			}
			enc := yaml.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent(2)
			if err := enc.Encode(self.Profile); err != nil {
				return fail("show profile", err, "")
			}
			return enc.Close()
		},
	}
}

func newProfileApplyCmd(a *app) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: a.T("Replace this hub's profile with a YAML file"),
		Long: a.T(`Replace the profile of the hub the node runs with the YAML file FILE ('-' reads
standard input). A misspelt field is refused by name; the node checks every field and
refuses the whole profile if one breaks a rule, so nothing changes. On success the
profile's revision grows by one and the other hubs fetch the new one.`),
		Example: "  hubnet -d ./hub profile apply -f profile.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("give the profile file with -f FILE")
			}
			p, err := readProfileFile(file, cmd.InOrStdin())
			if err != nil {
				return fail("apply profile", err, "")
			}
			c, err := a.client()
			if err != nil {
				return fail("apply profile", err, "")
			}
			var saved protocol.Profile
			if _, err := c.call(change, func(ac *api.Client) (err error) {
				saved, err = ac.PutProfile(cmd.Context(), p)
				return err
			}); err != nil {
				return fail("apply profile", err, "")
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), saved)
			}
			fmt.Fprintln(cmd.OutOrStdout(), a.T("profile of %s applied: revision %d", saved.ID, saved.Revision))
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", a.T("the profile, a YAML file ('-' for standard input)"))
	return cmd
}

// capacityFlagOf names the argument or flag of each field of a capacity change.
var capacityFlagOf = map[string]string{"family": "FAMILY", "available": "N", "maximum": "--max", "unit": "--unit"}

func newCapacitySetCmd(a *app) *cobra.Command {
	var (
		maximum int
		unit    string
	)
	cmd := &cobra.Command{
		Use:   "set FAMILY N",
		Short: a.T("Set the places available now in one service family"),
		Long: a.T(`Set how many places (N) the hub has free now in the service family FAMILY, one of
test-before-invest, skills-and-training, support-to-find-investments,
innovation-ecosystem or digital-maturity-assessment. --max changes the maximum too.
Without --max the maximum stays, and N above it is refused: raising the maximum is
said with --max, never done on the side (a family with no capacity yet takes N as its
maximum). --unit names what is counted (default: the current unit, else "SMEs per
month").`),
		Example: "  hubnet -d ./hub profile capacity set test-before-invest 2 --max 10",
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return usagef("N must be a whole number, got %q", args[1])
			}
			f, ok := protocol.FamilyVocab.Canonical(args[0])
			if !ok {
				return fail("set capacity", &protocol.ValidationError{What: "capacity", Problems: []protocol.FieldError{{
					Field: "FAMILY", Rule: protocol.FamilyVocab.Rule(args[0])}}}, "")
			}
			fam := protocol.Family(f)
			ch := api.CapacityChange{Available: &n, Unit: unit}
			if cmd.Flags().Changed("max") {
				ch.Maximum = &maximum
			}
			c, err := a.client()
			if err != nil {
				return fail("set capacity", err, "")
			}
			var saved protocol.Profile
			if _, err := c.call(change, func(ac *api.Client) (err error) {
				saved, err = ac.SetCapacity(cmd.Context(), fam, ch)
				return err
			}); err != nil {
				var (
					ae   *apiError
					hint string
				)
				if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ch.Maximum == nil &&
					slices.ContainsFunc(ae.Body.Problems, func(p protocol.FieldError) bool { return p.Field == "available" }) {
					hint = a.T("to raise the maximum too: %s", a.cmdline("profile", "capacity", "set", string(fam), args[1], "--max", args[1]))
				}
				return fail("set capacity", withFlags(err, capacityFlagOf), hint)
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), saved)
			}
			got := saved.Capacity[fam]
			fmt.Fprintln(cmd.OutOrStdout(), a.T("%s %s: %d of %d %s available (revision %d)",
				saved.ID, fam, got.Available, got.Maximum, a.unit(got.Unit), saved.Revision))
			return nil
		},
	}
	cmd.Flags().IntVar(&maximum, "max", 0, a.T("the most places the hub can offer in this family"))
	cmd.Flags().StringVar(&unit, "unit", "", a.T(`what is counted, such as "SMEs per month"`))
	return cmd
}

// exactArgs is cobra.ExactArgs with the count in the message and the usage line as hint.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d arguments (%s), got %d", cmd.CommandPath(), n, cmd.Use, len(args))
		}
		return nil
	}
}

// readInput reads the file at path, or stdin for "-".
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// readProfileFile reads a profile from a YAML file, or from stdin for "-".
func readProfileFile(path string, stdin io.Reader) (protocol.Profile, error) {
	data, err := readInput(path, stdin)
	if err != nil {
		return protocol.Profile{}, fmt.Errorf("read profile: %w", err)
	}
	p, err := decodeProfile(data)
	if err != nil {
		return protocol.Profile{}, fmt.Errorf("profile %s: %w", path, err)
	}
	// Codes in any case and labels become the values the API documents; the node
	// does the same for any client.
	p.Normalize()
	return p, nil
}

// decodeProfile decodes one YAML profile, refusing fields the profile does not have,
// so that a misspelt field is reported instead of silently dropped. It does not
// validate the values: the node does, and reports every problem at once.
func decodeProfile(data []byte) (protocol.Profile, error) {
	var p protocol.Profile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if err == io.EOF {
			return p, &protocol.ValidationError{What: "profile", Problems: []protocol.FieldError{{Field: "(file)", Rule: "is empty"}}}
		}
		return p, yamlProblems("profile", err)
	}
	return p, nil
}

// yamlFieldError matches yaml's "line 3: field colour not found in type protocol.Profile".
var yamlFieldError = regexp.MustCompile(`^line (\d+): field (.+) not found in type (\S+)$`)

// yamlLineError matches yaml's other "line N: ..." errors.
var yamlLineError = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlPrefix is where a type sits in a profile, for field paths as Validate spells them.
var yamlPrefix = map[string]string{"protocol.Contact": "contact.", "protocol.Capacity": "capacity.<family>."}

// yamlProblems turns a YAML decoding error into a *protocol.ValidationError with one
// problem per unknown field or bad value, each naming the field or line.
func yamlProblems(what string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &protocol.ValidationError{What: what, Problems: []protocol.FieldError{{Field: "(yaml)", Rule: err.Error()}}}
	}
	ve := &protocol.ValidationError{What: what}
	for _, e := range te.Errors {
		if m := yamlFieldError.FindStringSubmatch(e); m != nil {
			ve.Problems = append(ve.Problems, protocol.FieldError{Field: yamlPrefix[m[3]] + m[2], Rule: "is not a field (line " + m[1] + "); check its spelling"})
		} else if m := yamlLineError.FindStringSubmatch(e); m != nil {
			ve.Problems = append(ve.Problems, protocol.FieldError{Field: "line " + m[1], Rule: m[2]})
		} else {
			ve.Problems = append(ve.Problems, protocol.FieldError{Field: "(yaml)", Rule: e})
		}
	}
	return ve
}
