package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/internal/i18n"
	"github.com/hubnet-eu/hubnet/protocol"
)

// Shell completion: 'hubnet completion bash|zsh|fish|powershell' prints the script
// (cobra's own command); the functions here give it the values to offer. Vocabulary
// values come from protocol; hub IDs and referral IDs from the node the command would
// talk to, so they need a running node, and the referrals its operator token. A node
// that does not answer within completionTimeout offers nothing.

// completionTimeout bounds the request a completion makes to the node.
const completionTimeout = 2 * time.Second

// completeVocab offers the values of v that begin with what was typed, in any case,
// each with its label.
func completeVocab(v *protocol.Vocabulary) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return vocabCompletions(v, lastItem(toComplete)), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeVocabList is completeVocab for a comma-separated list flag: it offers the
// values for the item after the last comma, with the items before it.
func completeVocabList(v *protocol.Vocabulary) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		head := toComplete[:len(toComplete)-len(lastItem(toComplete))]
		var out []cobra.Completion
		for _, c := range vocabCompletions(v, lastItem(toComplete)) {
			out = append(out, head+c)
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// lastItem returns what follows the last comma of s.
func lastItem(s string) string { return s[strings.LastIndex(s, ",")+1:] }

func vocabCompletions(v *protocol.Vocabulary, prefix string) []cobra.Completion {
	var out []cobra.Completion
	for _, t := range v.Terms() {
		if strings.HasPrefix(strings.ToLower(t.Value), strings.ToLower(prefix)) {
			out = append(out, cobra.CompletionWithDesc(t.Value, t.Label))
		}
	}
	return out
}

// completionClient returns the client a completion uses: the settings from the
// environment and --config as a command would have them, which cobra does not load
// before it completes.
func (a *app) completionClient(cmd *cobra.Command) (*client, context.Context, context.CancelFunc, bool) {
	if err := a.loadSettings(cmd); err != nil {
		return nil, nil, nil, false
	}
	c, err := a.client()
	if err != nil {
		return nil, nil, nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	return c, ctx, cancel, true
}

// completeHubID offers the IDs of the hubs in the node's directory, with their names,
// as the first argument.
func (a *app) completeHubID(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.hubIDs(cmd, toComplete)
}

// completeHubFlag offers the hub IDs for a flag such as --to or --partner.
func (a *app) completeHubFlag(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return a.hubIDs(cmd, toComplete)
}

func (a *app) hubIDs(cmd *cobra.Command, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	c, ctx, cancel, ok := a.completionClient(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	var hubs []api.HubInfo
	if _, err := c.call(anyone, func(ac *api.Client) (err error) {
		hubs, err = ac.Hubs(ctx)
		return err
	}); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, h := range hubs {
		if strings.HasPrefix(h.ID, strings.ToLower(prefix)) {
			out = append(out, cobra.CompletionWithDesc(h.ID, h.Profile.Name))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeReferralID offers the IDs of the hub's referrals, newest first, each with
// its partner and state, as the first argument.
func (a *app) completeReferralID(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, ctx, cancel, ok := a.completionClient(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	var refs []api.ReferralInfo
	if _, err := c.call(operator, func(ac *api.Client) (err error) {
		refs, err = ac.Referrals(ctx, api.ReferralQuery{})
		return err
	}); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, r := range refs {
		if strings.HasPrefix(r.Referral.ID, strings.ToLower(toComplete)) {
			out = append(out, cobra.CompletionWithDesc(r.Referral.ID, direction(r.Role)+" "+r.Partner+", "+string(r.Referral.State)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeVocabArg offers the values of v as the first argument.
func completeVocabArg(v *protocol.Vocabulary) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return completeVocab(v)(cmd, args, toComplete)
	}
}

// registerVocabFlags offers the vocabulary's values for each flag of fl named in
// flags that the command has; lists take comma-separated values.
func registerVocabFlags(cmd *cobra.Command, flags map[string]*protocol.Vocabulary, lists ...string) {
	for name, v := range flags {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		f := completeVocab(v)
		for _, l := range lists {
			if l == name {
				f = completeVocabList(v)
			}
		}
		// Registering fails only for a flag the command lacks, checked above.
		_ = cmd.RegisterFlagCompletionFunc(name, f)
	}
}

// vocabFlags are the flags, in any command, whose values are a vocabulary's.
var vocabFlags = map[string]*protocol.Vocabulary{
	"tech": protocol.TechnologyVocab, "service": protocol.ServiceVocab, "family": protocol.FamilyVocab,
	"sector": protocol.SectorVocab, "country": protocol.CountryVocab, "region": protocol.RegionVocab,
	"reach": protocol.ReachVocab, "category": protocol.CategoryVocab, "type": protocol.HubTypeVocab,
	"state": protocol.StateVocab,
}

// registerCompletions gives every command of the tree under root what completion
// offers: vocabulary values for the flags of vocabFlags, hub IDs for hubs, refer --to
// and referrals --partner, referral IDs for referrals show and the actions, lists and
// countries for vocab, families for profile capacity set, and the languages of the
// messages for --lang.
func (a *app) registerCompletions(root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("lang", cobra.FixedCompletions(i18n.Languages, cobra.ShellCompDirectiveNoFileComp))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		registerVocabFlags(c, vocabFlags, "tech", "service", "type")
		switch {
		case path == "hubs":
			c.ValidArgsFunction = a.completeHubID
		case path == "refer":
			_ = c.RegisterFlagCompletionFunc("to", a.completeHubFlag)
		case path == "referrals" || path == "referrals list":
			_ = c.RegisterFlagCompletionFunc("partner", a.completeHubFlag)
		case strings.HasPrefix(path, "referrals "):
			c.ValidArgsFunction = a.completeReferralID
		case path == "vocab":
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				switch {
				case len(args) == 0:
					var out []cobra.Completion
					for _, l := range vocabLists {
						if strings.HasPrefix(l, toComplete) {
							out = append(out, l)
						}
					}
					return out, cobra.ShellCompDirectiveNoFileComp
				case len(args) == 1 && args[0] == "regions":
					return vocabCompletions(protocol.CountryVocab, toComplete), cobra.ShellCompDirectiveNoFileComp
				}
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
		case path == "profile capacity set":
			c.ValidArgsFunction = completeVocabArg(protocol.FamilyVocab)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
