// Package console is a hub's web console: server-rendered pages for advisors, who
// find partner hubs and refer SMEs, and for operators, who handle incoming
// referrals, keep the hub's capacity true and report KPIs. docs/console.md describes
// the pages.
//
// It owns the pages, their templates (templates/*.html) and static files (static/),
// embedded in the binary, the sign-in sessions and the CSRF protection of the forms.
// It works over the exported methods of [node.Node] only: what the pages show and
// change goes through the same calls as the HTTP API.
//
// # Where to start
//
// [Mount] adds the console to a node's HTTP server, beside the API, before
// [node.Node.Start]: `hubnet run`, `hubnet demo` and package nodetest mount it that
// way, with a [Config] from [DefaultConfig]. [New] returns the console as an
// [http.Handler] of its own. console.go holds the plumbing: routes, access control,
// security headers and rendering; session.go signs people in and guards forms;
// pages.go (search, hub pages, the hub's own page, reports), profile.go (the profile
// form) and referrals.go are the pages; form.go holds the forms' values and field
// errors; places.go reads the region boxes (a NUTS code, a region's or a town's
// name).
//
// # Languages
//
// i18n.go picks each request's language (the switch's cookie, the person's
// language, Accept-Language, English) and holds the message catalogue: messages
// are keyed by their English text, translations/<code>.json translate them, and
// TestCatalog_complete fails when a language misses one. Templates write
// {{t "Text"}} for a fixed message, translated as the template is parsed, and
// {{tf "Text %s" value}} for one with values; Go code calls webLang.T.
//
// # Concurrency
//
// A [Console] is safe for concurrent use: everything but its sessions is set by
// [New] and read-only after, and the sessions lock themselves. The templates are
// parsed once per process and language.
//
// # Caveats
//
// Sessions live in the memory of the process, so a restart ends them all; each
// console has its own, so a node should serve one console. The console has no
// JavaScript, and its content security policy forbids scripts.
package console
