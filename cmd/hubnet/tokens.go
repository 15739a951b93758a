package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
	"github.com/hubnet-eu/hubnet/node"
)

func newTokensCmd(a *app) *cobra.Command {
	return groupCmd("tokens", a.T("Make, list and revoke API tokens for integrations"),
		newTokensAddCmd(a), newTokensListCmd(a), newTokensRevokeCmd(a))
}

func newTokensAddCmd(a *app) *cobra.Command {
	var scopes, expires string
	c := &cobra.Command{
		Use:   "add NAME --scope SCOPES [--expires 90d|2027-06-30]",
		Short: a.T("Make an API token and print it, this once"),
		Long: a.T(`Make an API token for another program, such as a CRM, named NAME, that may do
what its scopes allow: %s.
  read    read referrals           refer   send referrals
  act     act on referrals         report  read the KPI report
  admin   change the profile, capacity, people, tokens and admission

The token is printed once: the hub keeps only its SHA-256. The program sends it as
"Authorization: Bearer TOKEN". Directory reads (search, hubs) need no token.`, scopeList),
		Example: `  hubnet -d ./hub tokens add crm --scope read,act
  hubnet -d ./hub tokens add kpi-export --scope report --expires 90d`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := node.ScopesOf(scopes)
			if err != nil {
				return usagef("--scope: %v", err)
			}
			if len(list) == 0 {
				return usagef("tokens add needs --scope, one or more of %s, such as --scope read,act", scopeList)
			}
			req := api.TokenRequest{Name: args[0], Scopes: list}
			if expires != "" {
				if req.Expires, err = parseExpiry(expires, time.Now()); err != nil {
					return usagef("--expires: %v", err)
				}
			}
			c, err := a.client()
			if err != nil {
				return fail("make token "+args[0], err, "")
			}
			var t api.NewToken
			raw, err := c.call(change, func(ac *api.Client) (err error) {
				t, err = ac.AddToken(cmd.Context(), req)
				return err
			})
			if err != nil {
				return fail("make token "+args[0], err, "")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			exp := a.T("never")
			if !t.Token.Expires.IsZero() {
				exp = when(t.Token.Expires)
			}
			_, err = fmt.Fprintf(w, "%s\n  %s\n%s\n", a.T("token %s, scopes %s, expires %s:", t.Token.Name, strings.Join(t.Token.Scopes, ","), exp),
				t.Secret, a.T("Copy it now: it is shown this once."))
			return err
		},
	}
	c.Flags().StringVar(&scopes, "scope", "", a.T("comma-separated scopes: %s", scopeList))
	c.Flags().StringVar(&expires, "expires", "", a.T("when the token stops working: a date (2027-06-30) or days from now (90d); default never"))
	return c
}

// parseExpiry reads --expires: a date, midnight UTC, or a number of days from now.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 3650 {
			return time.Time{}, fmt.Errorf("%q: days must be 1 to 3650, such as 90d", s)
		}
		return now.Add(time.Duration(n) * 24 * time.Hour).UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q must be a date such as 2027-06-30 or days such as 90d", s)
	}
	return t, nil
}

func newTokensListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   a.T("List the API tokens, revoked ones too, with their last use"),
		Example: "  hubnet -d ./hub tokens list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return fail("list tokens", err, "")
			}
			var list []api.Token
			raw, err := c.call(operator, func(ac *api.Client) (err error) {
				list, err = ac.Tokens(cmd.Context())
				return err
			})
			if err != nil {
				return fail("list tokens", err, "")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			if len(list) == 0 {
				_, err := fmt.Fprintln(w, a.T("No API tokens. Make one with 'hubnet tokens add NAME --scope read'."))
				return err
			}
			now := time.Now()
			t := newTable(w, a.T("NAME"), a.T("SCOPES"), a.T("STATE"), a.T("EXPIRES"), a.T("LAST USED"), a.T("MADE BY"), a.T("ID"))
			for _, k := range list {
				exp := a.T("never")
				if !k.Expires.IsZero() {
					exp = when(k.Expires)
				}
				t.row(k.Name, strings.Join(k.Scopes, ","), a.lang.Text(k.State), exp, a.ago(k.LastUsed, now), k.CreatedBy, k.ID)
			}
			return t.flush()
		},
	}
}

func newTokensRevokeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke NAME|ID",
		Short:   a.T("Revoke an API token: it stops working at once"),
		Example: "  hubnet -d ./hub tokens revoke crm",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return fail("revoke token "+args[0], err, "")
			}
			var t api.Token
			raw, err := c.call(change, func(ac *api.Client) (err error) {
				t, err = ac.RevokeToken(cmd.Context(), args[0])
				return err
			})
			if err != nil {
				return fail("revoke token "+args[0], err, "see the tokens with 'hubnet tokens list'")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			_, err = fmt.Fprintln(w, a.T("revoked token %s (%s)", t.Name, t.ID))
			return err
		},
	}
}
