package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
)

// topicList is the list of notification topics, for help texts.
var topicList = strings.Join(api.Topics, ", ")

func newWebhooksCmd(a *app) *cobra.Command {
	return groupCmd("webhooks", a.T("Register webhooks, and read and repeat their deliveries"),
		newWebhooksAddCmd(a), newWebhooksListCmd(a), newWebhooksRemoveCmd(a), newWebhooksDeliveriesCmd(a),
		newWebhooksRedeliverCmd(a))
}

func newWebhooksAddCmd(a *app) *cobra.Command {
	var id, topics string
	c := &cobra.Command{
		Use:   "add URL [--id ID] [--topics TOPICS]",
		Short: a.T("Register a webhook and print its signing secret, this once"),
		Long: a.T(`Register URL, an https address of another program such as a CRM, to be called with
the hub's events: each as a JSON POST, signed with the secret printed here (the header
Hubnet-Signature; docs/api.md says how to check it), retried with growing waits until
the program answers 2xx. Topics choose the events: %s;
none means all.`, topicList),
		Example: `  hubnet -d ./hub webhooks add https://crm.example.eu/hooks/hubnet --id crm
  hubnet -d ./hub webhooks add https://kpi.example.eu/in --topics decision,expiry`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.WebhookRequest{ID: id, URL: args[0]}
			for _, t := range strings.Split(topics, ",") {
				if t = strings.TrimSpace(t); t != "" {
					req.Topics = append(req.Topics, t)
				}
			}
			c, err := a.client()
			if err != nil {
				return fail("add webhook", err, "")
			}
			var nw api.NewWebhook
			raw, err := c.call(change, func(ac *api.Client) (err error) {
				nw, err = ac.AddWebhook(cmd.Context(), req)
				return err
			})
			if err != nil {
				return fail("add webhook "+args[0], err, "")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			t := a.T("all")
			if len(nw.Webhook.Topics) > 0 {
				t = strings.Join(nw.Webhook.Topics, ",")
			}
			_, err = fmt.Fprintf(w, "%s\n  %s\n%s\n", a.T("webhook %s to %s, topics %s; its signing secret:", nw.Webhook.ID, nw.Webhook.URL, t),
				nw.Secret, a.T("Copy it now: it is shown this once."))
			return err
		},
	}
	c.Flags().StringVar(&id, "id", "", a.T("the webhook's name: lower-case letters, digits and '-' (default: one is picked)"))
	c.Flags().StringVar(&topics, "topics", "", a.T("comma-separated topics: %s (default: all)", topicList))
	return c
}

func newWebhooksListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   a.T("List the webhooks"),
		Example: "  hubnet -d ./hub webhooks list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return fail("list webhooks", err, "")
			}
			var list []api.Webhook
			raw, err := c.call(operator, func(ac *api.Client) (err error) {
				list, err = ac.Webhooks(cmd.Context())
				return err
			})
			if err != nil {
				return fail("list webhooks", err, "")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			if len(list) == 0 {
				_, err := fmt.Fprintln(w, a.T("No webhooks. Register one with 'hubnet webhooks add https://...'."))
				return err
			}
			t := newTable(w, a.T("ID"), a.T("URL"), a.T("TOPICS"), a.T("ADDED"))
			for _, h := range list {
				topics := a.T("all")
				if len(h.Topics) > 0 {
					topics = strings.Join(h.Topics, ",")
				}
				t.row(h.ID, h.URL, topics, when(h.Created))
			}
			return t.flush()
		},
	}
}

func newWebhooksRemoveCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "remove ID",
		Short:   a.T("Remove a webhook and what it still had to send"),
		Example: "  hubnet -d ./hub webhooks remove crm",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return fail("remove webhook "+args[0], err, "")
			}
			var h api.Webhook
			raw, err := c.call(change, func(ac *api.Client) (err error) {
				h, err = ac.RemoveWebhook(cmd.Context(), args[0])
				return err
			})
			if err != nil {
				return fail("remove webhook "+args[0], err, "see the webhooks with 'hubnet webhooks list'")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			_, err = fmt.Fprintln(w, a.T("removed webhook %s (%s)", h.ID, h.URL))
			return err
		},
	}
}

func newWebhooksDeliveriesCmd(a *app) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "deliveries [ID|E-MAIL]",
		Short: a.T("Show the delivery log: webhook calls and e-mails, newest first"),
		Long: a.T(`Show the newest notifications, pending and ended, of the webhook ID or the e-mail
address given, or of all: how many attempts each took, how the last one went, and
when the next is due. Send one again with 'hubnet webhooks redeliver DELIVERY'.`),
		Example: `  hubnet -d ./hub webhooks deliveries crm
  hubnet -d ./hub webhooks deliveries --limit 500`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 1000 {
				return usagef("--limit: %d must be 1 to 1000", limit)
			}
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			c, err := a.client()
			if err != nil {
				return fail("read deliveries", err, "")
			}
			var list []api.Delivery
			raw, err := c.call(operator, func(ac *api.Client) (err error) {
				list, err = ac.Deliveries(cmd.Context(), target, limit)
				return err
			})
			if err != nil {
				return fail("read deliveries", err, "")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			if len(list) == 0 {
				_, err := fmt.Fprintln(w, a.T("No deliveries."))
				return err
			}
			now := time.Now()
			t := newTable(w, a.T("DELIVERY"), a.T("EVENT"), a.T("TYPE"), a.T("TO"), a.T("STATUS"), a.T("ATTEMPTS"), a.T("LAST ERROR"), a.T("WHEN"))
			for _, d := range list {
				at := a.T("created %s", a.ago(d.Created, now))
				switch {
				case d.Status == "pending" && !d.Due.IsZero():
					at = a.T("next %s", when(d.Due))
				case !d.Finished.IsZero():
					at = a.ago(d.Finished, now)
				}
				to := d.Channel + " " + d.Target
				t.row(d.ID, d.Event, d.Type, to, d.Status, d.Attempts, d.LastError, at)
			}
			return t.flush()
		},
	}
	c.Flags().IntVar(&limit, "limit", 50, a.T("most deliveries shown, 1 to 1000"))
	return c
}

func newWebhooksRedeliverCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "redeliver DELIVERY",
		Short:   a.T("Send a delivery again, as a new delivery"),
		Example: "  hubnet -d ./hub webhooks redeliver 000000000000002a",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return fail(a.T("redeliver %s", args[0]), err, "")
			}
			var d api.Delivery
			raw, err := c.call(change, func(ac *api.Client) (err error) {
				d, err = ac.Redeliver(cmd.Context(), args[0])
				return err
			})
			if err != nil {
				return fail(a.T("redeliver %s", args[0]), err, "see the deliveries with 'hubnet webhooks deliveries'")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			_, err = fmt.Fprintln(w, a.T("delivery %s queued: event %d (%s) to %s %s again", d.ID, d.Event, d.Type, d.Channel, d.Target))
			return err
		},
	}
}
