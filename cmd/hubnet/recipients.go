package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/protocol"
)

// The hub's recipients: addresses, such as a team's shared mailbox, that get the
// e-mails of the hub's referrals whoever at the hub they concern. The API keeps
// them as one list (GET and PUT /v1/notifications/recipients); add and remove read
// it, change it and write it back.

// recipientTopics are the e-mail topics, for help texts: all but directory, which
// goes to webhooks only.
var recipientTopics = []string{api.TopicReceived, api.TopicDecision, api.TopicChange, api.TopicHold, api.TopicDeadline, api.TopicExpiry}

// defaultRecipientTopics are a recipient's topics when --topics is not given: every
// change that asks for somebody's action or says how a referral ended.
var defaultRecipientTopics = []string{api.TopicReceived, api.TopicDecision, api.TopicHold, api.TopicDeadline, api.TopicExpiry}

func newRecipientsCmd(a *app) *cobra.Command {
	return groupCmd("recipients", a.T("Choose the addresses that get the e-mails of all the hub's referrals"),
		newRecipientsAddCmd(a), newRecipientsListCmd(a), newRecipientsRemoveCmd(a))
}

func newRecipientsAddCmd(a *app) *cobra.Command {
	var language, topics string
	c := &cobra.Command{
		Use:   "add EMAIL [--topics TOPICS] [--language LANG]",
		Short: a.T("Add an address that gets the e-mails of the hub's referrals, or change its topics"),
		Long: a.T(`Add EMAIL, such as a team's shared mailbox, to the hub's recipients: it gets an
e-mail for each event of the hub's referrals of its topics, whoever at the hub they
concern, in its language. An address listed already gets the topics and language
given here in place of its own. Topics: %s
(default %s). The e-mails need a mail
server (hubnet run --smtp-host); each person at the hub chooses their own on the
console's Notifications page.`, strings.Join(recipientTopics, ", "), strings.Join(defaultRecipientTopics, ",")),
		Example: `  hubnet -d ./hub recipients add team@hub.example.eu
  hubnet -d ./hub recipients add kpi@hub.example.eu --topics decision,expiry --language de`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := api.Recipient{Email: strings.TrimSpace(args[0]), Language: language, Topics: splitList(topics)}
			if len(r.Topics) == 0 {
				r.Topics = defaultRecipientTopics
			}
			what := "add recipient " + r.Email
			return a.changeRecipients(cmd, what, func(list []api.Recipient) ([]api.Recipient, error) {
				i := slices.IndexFunc(list, func(x api.Recipient) bool { return strings.EqualFold(x.Email, r.Email) })
				if i < 0 {
					return append(list, r), nil
				}
				list[i] = r
				return list, nil
			}, func(list []api.Recipient) string {
				return fmt.Sprintf("recipient %s%s, topics %s\n", r.Email, langNote(r.Language), strings.Join(r.Topics, ","))
			})
		},
	}
	c.Flags().StringVar(&topics, "topics", "", a.T("comma-separated topics: %s (default %s)", strings.Join(recipientTopics, ", "), strings.Join(defaultRecipientTopics, ",")))
	c.Flags().StringVar(&language, "language", "", a.T("the e-mails' language, a BCP 47 tag such as de or fi (default: English)"))
	return c
}

func newRecipientsRemoveCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "remove EMAIL",
		Short:   a.T("Remove an address from the hub's recipients"),
		Long:    a.T("Remove EMAIL from the hub's recipients: it gets no more e-mails of the hub's referrals.\nE-mails to it already queued are still sent."),
		Example: "  hubnet -d ./hub recipients remove team@hub.example.eu",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			email := strings.TrimSpace(args[0])
			return a.changeRecipients(cmd, "remove recipient "+email, func(list []api.Recipient) ([]api.Recipient, error) {
				i := slices.IndexFunc(list, func(x api.Recipient) bool { return strings.EqualFold(x.Email, email) })
				if i < 0 {
					return nil, fail("remove recipient "+email, fmt.Errorf("%s is not a recipient: %w", email, protocol.ErrNotFound),
						"see the recipients with 'hubnet recipients list'")
				}
				return slices.Delete(list, i, i+1), nil
			}, func([]api.Recipient) string { return "removed recipient " + email + "\n" })
		},
	}
}

// changeRecipients reads the hub's recipients, changes them with edit and writes
// them back, then prints done's line, or with --json the list as the node answered.
func (a *app) changeRecipients(cmd *cobra.Command, what string, edit func([]api.Recipient) ([]api.Recipient, error),
	done func([]api.Recipient) string) error {
	c, err := a.client()
	if err != nil {
		return fail(what, err, "")
	}
	var list []api.Recipient
	if _, err := c.call(operator, func(ac *api.Client) (err error) {
		list, err = ac.Recipients(cmd.Context())
		return err
	}); err != nil {
		return fail(what, err, "")
	}
	list, err = edit(list)
	if err != nil {
		return err
	}
	var out []api.Recipient
	raw, err := c.call(change, func(ac *api.Client) (err error) {
		out, err = ac.SetRecipients(cmd.Context(), list)
		return err
	})
	if err != nil {
		return fail(what, err, "")
	}
	w := cmd.OutOrStdout()
	if a.json {
		_, err := w.Write(raw)
		return err
	}
	_, err = fmt.Fprint(w, done(out))
	return err
}

func newRecipientsListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   a.T("List the addresses that get the e-mails of the hub's referrals"),
		Example: "  hubnet -d ./hub recipients list\n  hubnet -d ./hub recipients list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return fail("list recipients", err, "")
			}
			var list []api.Recipient
			raw, err := c.call(operator, func(ac *api.Client) (err error) {
				list, err = ac.Recipients(cmd.Context())
				return err
			})
			if err != nil {
				return fail("list recipients", err, "")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			if len(list) == 0 {
				_, err := fmt.Fprintln(w, "No recipients. Add one with 'hubnet recipients add team@hub.example.eu'.")
				return err
			}
			t := newTable(w, "EMAIL", "LANGUAGE", "TOPICS")
			for _, r := range list {
				lang := r.Language
				if lang == "" {
					lang = "en"
				}
				t.row(r.Email, lang, strings.Join(r.Topics, ","))
			}
			return t.flush()
		},
	}
}

// langNote is " (LANG)" for a language, "" for none.
func langNote(lang string) string {
	if lang == "" {
		return ""
	}
	return " (" + lang + ")"
}

// splitList splits a comma-separated flag into its trimmed, non-empty items.
func splitList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
