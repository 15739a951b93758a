package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/api"
)

// contactLine is a referral's contact person here (own) or at the other hub, for
// 'hubnet referrals show'.
func contactLine(c *api.Contacts, own bool) string {
	var p *struct{ Name, Email string }
	if c != nil {
		if own && c.Own != nil {
			p = &struct{ Name, Email string }{c.Own.Name, c.Own.Email}
		} else if !own && c.Partner != nil {
			p = &struct{ Name, Email string }{c.Partner.Name, c.Partner.Email}
		}
	}
	switch {
	case p != nil:
		return p.Name + " <" + p.Email + ">"
	case own:
		return "nobody yet: the first person to act on it"
	}
	return "not known yet"
}

func newUsersCmd(a *app) *cobra.Command {
	return groupCmd("users", a.T("Add, list, remove people who sign in to the console, and give them sign-in links"),
		newUsersAddCmd(a), newUsersListCmd(a), newUsersRemoveCmd(a), newUsersResetCmd(a))
}

func newUsersAddCmd(a *app) *cobra.Command {
	var req api.PersonRequest
	c := &cobra.Command{
		Use:   "add EMAIL --name NAME [--role advisor|operator]",
		Short: a.T("Add a person and e-mail or print their one-time sign-in link"),
		Long: a.T(`Add a person who signs in to the console (and the API) as themselves, under their
work e-mail address, with a role: advisor (search, refer, act on referrals, reports)
or operator (also the hub's profile, capacity, people and API tokens).

The person gets a one-time sign-in link, which they open to choose a password. It
works once, for 72 hours unless the node is run otherwise. When the hub has a mail
server (hubnet run --smtp-host), the link is e-mailed to the person, in their
language, and not printed; otherwise, or when the e-mail fails, it is printed: send
it to the person. It needs the operator token, or an operator's session or an API
token with the scope admin.`),
		Example: `  hubnet -d ./hub users add aino@hub.example.eu --name "Aino Virtanen"
  hubnet -d ./hub users add eero@hub.example.eu --name "Eero Korhonen" --role operator --language fi`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Email = args[0]
			if req.Name == "" {
				return usagef("users add needs --name, the person's name as others will see it")
			}
			return a.printLink(cmd, "add "+req.Email, func(ac *api.Client) (api.SignInLink, error) {
				return ac.AddPerson(cmd.Context(), req)
			})
		},
	}
	c.Flags().StringVar(&req.Name, "name", "", a.T("the person's name, as the history of referrals shows it"))
	c.Flags().StringVar(&req.Role, "role", "advisor", a.T("advisor or operator"))
	c.Flags().StringVar(&req.Language, "language", "", a.T("the person's language, a BCP 47 tag such as fi or de (default: English)"))
	return c
}

func newUsersResetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "reset EMAIL",
		Short: a.T("Make a new one-time sign-in link for a person who forgot their password"),
		Long: a.T(`Make a new one-time sign-in link for the person, in place of any earlier one: the
person opens it and chooses a new password. Their old password works until then.
When the hub has a mail server, the link is e-mailed to the person and not
printed; otherwise it is printed: send it to the person. A person may also ask for
a link themselves on the console's sign-in page, when the hub has a mail server.`),
		Example: "  hubnet -d ./hub users reset aino@hub.example.eu",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.printLink(cmd, "reset "+args[0], func(ac *api.Client) (api.SignInLink, error) {
				return ac.ResetPerson(cmd.Context(), args[0])
			})
		},
	}
}

// printLink makes a sign-in link with f and prints it.
func (a *app) printLink(cmd *cobra.Command, what string, f func(*api.Client) (api.SignInLink, error)) error {
	c, err := a.client()
	if err != nil {
		return fail(what, err, "")
	}
	var l api.SignInLink
	raw, err := c.call(change, func(ac *api.Client) (err error) {
		l, err = f(ac)
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
	if l.Emailed {
		_, err = fmt.Fprintf(w, "%s <%s>, %s\n%s\n", l.Person.Name, l.Person.Email, a.lang.Text(l.Person.Role),
			a.T("sign-in link e-mailed to %s (works once, until %s)", l.Person.Email, when(l.Expires)))
		return err
	}
	if l.MailError != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), a.T("warning: the sign-in link could not be e-mailed: %s", l.MailError))
		fmt.Fprintln(cmd.ErrOrStderr(), a.T("send it to the person yourself:"))
	}
	_, err = fmt.Fprintf(w, "%s <%s>, %s\n%s\n  %s\n%s\n", l.Person.Name, l.Person.Email, a.lang.Text(l.Person.Role),
		a.T("sign-in link (works once, until %s):", when(l.Expires)), l.Link, a.T("code: %s", l.Code))
	return err
}

func newUsersListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   a.T("List the people who sign in to the console"),
		Example: "  hubnet -d ./hub users list\n  hubnet -d ./hub users list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return fail("list people", err, "")
			}
			var list []api.Person
			raw, err := c.call(operator, func(ac *api.Client) (err error) {
				list, err = ac.People(cmd.Context())
				return err
			})
			if err != nil {
				return fail("list people", err, "")
			}
			return a.printPeople(cmd.OutOrStdout(), raw, list)
		},
	}
}

func (a *app) printPeople(w io.Writer, raw []byte, list []api.Person) error {
	if a.json {
		_, err := w.Write(raw)
		return err
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, a.T("Nobody yet. Add a person with 'hubnet users add EMAIL --name NAME'."))
		return err
	}
	t := newTable(w, a.T("EMAIL"), a.T("NAME"), a.T("ROLE"), a.T("PASSWORD"), a.T("LINK UNTIL"))
	for _, p := range list {
		pw := a.T("not yet")
		if p.PasswordSet {
			pw = a.T("set")
		}
		link := "-"
		if !p.LinkExpires.IsZero() {
			link = when(p.LinkExpires)
		}
		t.row(p.Email, p.Name, a.lang.Text(p.Role), pw, link)
	}
	return t.flush()
}

func newUsersRemoveCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "remove EMAIL",
		Short: a.T("Remove a person and end their sessions"),
		Long: a.T(`Remove the person: they can no longer sign in, and their sessions end at once.
Their name stays in the history of the referrals they acted on.`),
		Example: "  hubnet -d ./hub users remove aino@hub.example.eu",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return fail("remove "+args[0], err, "")
			}
			var p api.Person
			raw, err := c.call(change, func(ac *api.Client) (err error) {
				p, err = ac.RemovePerson(cmd.Context(), args[0])
				return err
			})
			if err != nil {
				return fail("remove "+args[0], err, "see who there is with 'hubnet users list'")
			}
			w := cmd.OutOrStdout()
			if a.json {
				_, err := w.Write(raw)
				return err
			}
			_, err = fmt.Fprintln(w, a.T("removed %s <%s>, %s; their sessions ended", p.Name, p.Email, a.lang.Text(p.Role)))
			return err
		},
	}
}

// scopeList is the help's list of scopes.
var scopeList = strings.Join([]string{api.ScopeRead, api.ScopeRefer, api.ScopeAct, api.ScopeReport, api.ScopeAdmin}, ", ")

// when spells a time of people and tokens, in UTC to the minute.
func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
