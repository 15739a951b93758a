package main

// Help in the command line's language. Each command's long help and each flag's help
// go through a.T where the command is made; cobra's own words (Usage, Flags, ...)
// come from the usage template below, whose functions translate into the language
// the root command names in its annotation langAnnotation. cobra's template functions
// are global: the language travels with the command, not with them.

import (
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hubnet-eu/hubnet/internal/i18n"
)

// langAnnotation is the root command's annotation that names its language.
const langAnnotation = "hubnet-lang"

// helpWords are cobra's words in the usage template, translated by tr.
var helpWords = []string{
	msg("Usage:"), msg("Aliases:"), msg("Examples:"), msg("Available Commands:"),
	msg("Additional Commands:"), msg("Flags:"), msg("Global Flags:"), msg("Additional help topics:"),
	msg("Use \"%s [command] --help\" for more information about a command."),
	msg("default"),
}

func init() {
	cobra.AddTemplateFuncs(template.FuncMap{
		"tr":         helpText,
		"flagUsages": flagUsages,
	})
}

// usageTemplate is cobra's usage template with its words translated.
const usageTemplate = `{{tr . "Usage:"}}{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

{{tr . "Aliases:"}}
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

{{tr . "Examples:"}}
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}{{$cmds := .Commands}}{{if eq (len .Groups) 0}}

{{tr . "Available Commands:"}}{{range $cmds}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{else}}{{range $group := .Groups}}

{{.Title}}{{range $cmds}}{{if (and (eq .GroupID $group.ID) (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if not .AllChildCommandsHaveGroup}}

{{tr . "Additional Commands:"}}{{range $cmds}}{{if (and (eq .GroupID "") (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

{{tr . "Flags:"}}
{{flagUsages . .LocalFlags}}{{end}}{{if .HasAvailableInheritedFlags}}

{{tr . "Global Flags:"}}
{{flagUsages . .InheritedFlags}}{{end}}{{if .HasHelpSubCommands}}

{{tr . "Additional help topics:"}}{{range .Commands}}{{if .IsAdditionalHelpTopicCommand}}
  {{rpad .CommandPath .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

{{tr . "Use \"%s [command] --help\" for more information about a command." .CommandPath}}{{end}}
`

// helpLang is the language of c's root command.
func helpLang(c *cobra.Command) *i18n.Lang {
	if l := cliCatalog().Lang(c.Root().Annotations[langAnnotation]); l != nil {
		return l
	}
	return cliCatalog().Lang("en")
}

// helpText translates key into the language of c's root command.
func helpText(c *cobra.Command, key string, args ...any) string {
	return helpLang(c).T(key, args...)
}

// defaultRe finds the default value that pflag adds to a flag's help.
var defaultRe = regexp.MustCompile(`(?m) \(default (.*)\)$`)

// flagUsages is the help of the flags fs, with pflag's "(default …)" translated.
func flagUsages(c *cobra.Command, fs *pflag.FlagSet) string {
	s := strings.TrimRightFunc(fs.FlagUsages(), func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' })
	word := helpText(c, "default")
	if word == "default" {
		return s
	}
	return defaultRe.ReplaceAllStringFunc(s, func(m string) string {
		return " (" + word + " " + strings.TrimPrefix(m, " (default ")
	})
}

// localiseHelp writes the help of root and of its commands in a's language: the
// usage template, the help command, the completion command and every --help flag,
// which cobra would add in English.
func (a *app) localiseHelp(root *cobra.Command) {
	if a.lang == nil { // an app made by a test, not by execute
		a.lang = cliCatalog().Lang("en")
	}
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[langAnnotation] = a.lang.Code
	root.SetUsageTemplate(usageTemplate)

	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Short = a.T("Help about any command")
			c.Long = a.T("Help provides help for any command in the application.\nSimply type %s help [path to command] for full details.", root.DisplayName())
		case "completion":
			c.Short = a.T("Generate the autocompletion script for the specified shell")
			c.Long = a.T("Generate the autocompletion script for %s for the specified shell.\nSee each sub-command's help for details on how to use the generated script.", root.DisplayName())
			for _, sh := range c.Commands() {
				sh.Short = a.T("Generate the autocompletion script for %s", sh.Name())
				if f := sh.Flags().Lookup("no-descriptions"); f != nil {
					f.Usage = a.T("disable completion descriptions")
				}
			}
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("help") == nil {
			c.Flags().BoolP("help", "h", false, a.T("help for %s", c.DisplayName()))
			_ = c.Flags().SetAnnotation("help", cobra.FlagSetByCobraAnnotation, []string{"true"})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
