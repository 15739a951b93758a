package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/hubnet-eu/hubnet/protocol"
)

// loadSettings fills the flags of cmd that were not given on the command line, first
// from the environment (HUBNET_<FLAG>), then from the YAML file of --config. Only the
// global flags and those of `hubnet run` are settings; the others, such as --force,
// must be given each time.
func (a *app) loadSettings(cmd *cobra.Command) error {
	fs := cmd.Flags()
	settable := func(f *pflag.Flag) bool {
		if f.Name == "help" || f.Changed {
			return false
		}
		return a.root.PersistentFlags().Lookup(f.Name) == f || cmd == a.run
	}

	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if !settable(f) {
			return
		}
		name := envName(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	})
	if len(errs) > 0 {
		return &usageError{err: errors.Join(errs...)}
	}
	if a.config == "" {
		return nil
	}

	values, err := a.readConfigFile(a.config)
	if err != nil {
		return err
	}
	fs.VisitAll(func(f *pflag.Flag) {
		vs, ok := values[f.Name]
		if !ok || !settable(f) || f.Name == "config" {
			return
		}
		for _, v := range vs {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		return fail("config file "+a.config, &usageError{err: errors.Join(errs...)}, "")
	}
	return nil
}

// envName is the environment variable of a flag: HUBNET_DATA_DIR for --data-dir.
func envName(flag string) string {
	return "HUBNET_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// readConfigFile reads a YAML mapping of setting names to values (a list for flags
// given more than once, such as join). A key that is no setting is refused by name.
func (a *app) readConfigFile(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fail("read config file", &usageError{err: err}, "give an existing file to --config")
	}
	known := map[string]bool{}
	for _, fs := range []*pflag.FlagSet{a.root.PersistentFlags(), a.run.LocalFlags()} {
		fs.VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
	}
	delete(known, "config")
	delete(known, "help")

	var raw map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil && err != io.EOF {
		return nil, fail("read config file "+path, yamlProblems("config file", err), "")
	}
	values := map[string][]string{}
	var probs []protocol.FieldError
	for _, k := range sortedKeys(raw) {
		if !known[k] {
			probs = append(probs, protocol.FieldError{Field: k, Rule: "is not a setting; settings are the global flags and those of 'hubnet run' without dashes, such as data-dir or join"})
			continue
		}
		switch v := raw[k].(type) {
		case []any:
			for _, e := range v {
				values[k] = append(values[k], fmt.Sprint(e))
			}
		case map[string]any:
			probs = append(probs, protocol.FieldError{Field: k, Rule: "must be a value or a list of values"})
		case nil:
		default:
			values[k] = []string{fmt.Sprint(v)}
		}
	}
	if len(probs) > 0 {
		return nil, fail("read config file "+path, &protocol.ValidationError{What: "config file", Problems: probs}, "")
	}
	return values, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
