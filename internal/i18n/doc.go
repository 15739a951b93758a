// Package i18n holds what the console and the command line share to speak the
// languages of the federation's advisors: the languages themselves, the translations
// of the vocabulary's labels, message catalogues read from JSON files, the choice of
// a language from a locale, and the checks that keep a catalogue complete.
//
// # Where to start
//
// [Languages] lists the languages, English first. [NewCatalog] builds a catalogue
// from translation files, one per language, each a JSON object that maps an English
// message (the key, with fmt verbs) to its translation; the vocabulary's labels
// ([VocabKeys]) are always part of it. [Catalog.Lang] gives the [Lang] for a code,
// whose T translates and fills in values as fmt does, with numbers written the
// language's way. [FromLocale] and [FromEnv] choose a language as POSIX programs do.
//
// # Keeping catalogues complete
//
// A key a file lacks is shown in English. [Problems] lists what is wrong with one
// language's file against the keys a program uses: a missing or empty translation,
// a key nothing uses, values other than the English message's. [SourceKeys] finds
// the keys in Go source, as the literal first arguments of named calls. Tests of the
// console and the command line fail on any problem.
//
// # Concurrency
//
// A [Catalog] and its [Lang] values are safe for concurrent use once made.
package i18n
