package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hubnet-eu/hubnet/internal/i18n"
)

func main() {
	if spec := os.Getenv(demoWorkerEnv); spec != "" {
		os.Exit(runDemoWorker(spec, os.Stdin, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling: a second Ctrl-C kills
	// a node that hangs while leaving.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs the command line args and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{lang: chooseLang(args, os.Getenv)}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	a.report(stderr, cmd, err)
	return exitCode(err, a.started)
}

// app holds the global flags and what the commands share.
type app struct {
	root *cobra.Command
	run  *cobra.Command // its flags may come from the environment and the config file

	nodeURL   string
	dataDir   string
	token     string
	config    string
	json      bool
	logFormat string
	logLevel  string
	langCode  string     // --lang
	lang      *i18n.Lang // the language of messages: --lang, else the environment's

	level   slog.Level // parsed logLevel
	started bool       // the root's PersistentPreRunE ran: later errors are not cobra's
}

const rootLong = `hubnet is a federated directory of European Digital Innovation Hubs. Every hub
runs its own node ('hubnet run'); nodes find each other by gossip and exchange
signed profiles over an embedded NATS mesh.

Get started on one machine:
  hubnet demo

Set up a hub:
  hubnet network create my-network -o network.json   (once, by the network's steward)
  hubnet init -d ./hub --network network.json --id my-hub --profile profile.yaml
  hubnet run -d ./hub --join other-hub.example.eu:7946
  hubnet -d ./hub hubs

The other commands talk to a running node over HTTP. They find it through --node,
else HUBNET_NODE, else the node.json that 'hubnet run -d DIR' writes into DIR when
-d DIR is given, else ` + defaultNodeURL + `. Changes need the hub's operator token:
--token, HUBNET_TOKEN, or the token file of -d DIR.

Settings come from flags, then the environment (HUBNET_NODE, HUBNET_DATA_DIR,
HUBNET_TOKEN, HUBNET_JSON, HUBNET_LOG_FORMAT, HUBNET_LOG_LEVEL, HUBNET_LANG,
HUBNET_CONFIG, and for 'run' HUBNET_<FLAG> such as HUBNET_GOSSIP_ADDR), then the YAML
file of --config, whose keys are the flag names of the global flags and of 'run':
  data-dir: /var/lib/hubnet
  gossip-addr: 0.0.0.0:7946
  join: [hub-a.example.eu:7946, hub-b.example.eu:7946]

Messages are in English, German, French, Italian, Spanish, Finnish or Polish: --lang
(en, de, fr, it, es, fi, pl), else the locale of LC_ALL, LC_MESSAGES or LANG, such as
de_DE.UTF-8, else English. JSON output stays as the API writes it.

Exit codes:
  0  ok
  1  error
  2  usage error: bad flags or arguments
  3  node unreachable
  4  invalid input: a profile, network.json, capacity, search, referral or catalogue
     file broke a rule, or the referral's lifecycle does not allow the action now;
     each field problem is printed on a line of its own`

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:                "hubnet",
		Short:              a.T("A federated directory of Digital Innovation Hubs"),
		Long:               a.T(rootLong),
		SilenceErrors:      true,
		SilenceUsage:       true,
		DisableSuggestions: true, // report suggests instead, on the error line
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.started = true
			if err := a.loadSettings(cmd); err != nil {
				return err
			}
			if err := a.setLang(); err != nil {
				return err
			}
			return a.checkLogFlags()
		},
	}
	a.root = root
	pf := root.PersistentFlags()
	pf.StringVar(&a.nodeURL, "node", "", a.T("URL of the node's HTTP API (env HUBNET_NODE; default: node.json of -d, else "+defaultNodeURL+")"))
	pf.StringVarP(&a.dataDir, "data-dir", "d", "", a.T("the hub's data directory (env HUBNET_DATA_DIR)"))
	pf.StringVar(&a.token, "token", "", a.T("the operator token for changes (env HUBNET_TOKEN; default: the token file of -d)"))
	pf.StringVar(&a.config, "config", "", a.T("YAML file with settings named like the flags (env HUBNET_CONFIG)"))
	pf.BoolVar(&a.json, "json", false, a.T("print JSON instead of a table or text"))
	pf.StringVar(&a.logFormat, "log-format", "text", a.T("log format: text or json"))
	pf.StringVar(&a.logLevel, "log-level", "", a.T("log level: debug, info, warn or error (default info; warn for demo)"))
	pf.StringVar(&a.langCode, "lang", "", a.T("language of hubnet's messages: %s (env HUBNET_LANG; default: LC_ALL, LC_MESSAGES or LANG, else en)", languageCodes()))

	a.run = newRunCmd(a)
	root.AddCommand(
		newNetworkCmd(a),
		newInitCmd(a),
		a.run,
		newDemoCmd(a),
		newPeersCmd(a),
		newHubsCmd(a),
		newProfileCmd(a),
		newSearchCmd(a),
		newReferCmd(a),
		newReferralsCmd(a),
		newReportCmd(a),
		newUsersCmd(a),
		newTokensCmd(a),
		newWebhooksCmd(a),
		newRecipientsCmd(a),
		newVocabCmd(a),
		newImportCmd(a),
		newVersionCmd(a),
	)
	a.registerCompletions(root)
	a.localiseHelp(root)
	return root
}

// groupCmd is a command that only holds subcommands: alone it prints its help, with
// an unknown subcommand it fails as a usage error.
func groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	c.AddCommand(subs...)
	return c
}

// checkLogFlags validates --log-format and --log-level.
func (a *app) checkLogFlags() error {
	switch a.logFormat {
	case "text", "json":
	default:
		return usagef("--log-format must be text or json, got %q", a.logFormat)
	}
	a.level = slog.LevelInfo
	if a.logLevel != "" {
		if err := a.level.UnmarshalText([]byte(a.logLevel)); err != nil {
			return usagef("--log-level must be debug, info, warn or error, got %q", a.logLevel)
		}
	}
	return nil
}

// logger returns the logger --log-format and --log-level ask for, writing to stderr;
// def is the level when --log-level is not given.
func (a *app) logger(w io.Writer, def slog.Level) *slog.Logger {
	return slogFor(w, a.logLevelOr(def), a.logFormat)
}

// logLevelOr is the level --log-level gives, def when it is not given.
func (a *app) logLevelOr(def slog.Level) slog.Level {
	if a.logLevel != "" {
		return a.level
	}
	return def
}

// needDataDir returns a usage error when -d is missing.
func (a *app) needDataDir(cmd *cobra.Command) error {
	if a.dataDir == "" {
		return usagef("%s needs the hub's data directory: give -d DIR", cmd.CommandPath())
	}
	return nil
}
