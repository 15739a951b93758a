package i18n

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// verbRe finds the formatting verbs of a message.
var verbRe = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])`)

// Verbs returns the formatting verbs of a message, sorted: a translation must fill in
// the same values, in any order.
func Verbs(s string) []string {
	var out []string
	for _, m := range verbRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

// Problems lists what is wrong with one language's translations msgs against the
// keys a program uses: a key without a translation, a translation of a key nothing
// uses, a translation with other values than its key or with a template's braces.
// The list is sorted; nil when the translations are complete.
func Problems(code string, keys []string, msgs map[string]string) []string {
	var out []string
	used := map[string]bool{}
	for _, k := range keys {
		used[k] = true
		tr, ok := msgs[k]
		switch {
		case !ok || strings.TrimSpace(tr) == "":
			out = append(out, fmt.Sprintf("%s misses %q", code, k))
			continue
		case strings.Contains(tr, "{{") || strings.Contains(tr, "}}"):
			out = append(out, fmt.Sprintf("%s: %q translates %q with a template's braces", code, k, tr))
		}
		if got, want := Verbs(tr), Verbs(k); !slices.Equal(got, want) {
			out = append(out, fmt.Sprintf("%s: %q translates %q with values %v, want %v", code, k, tr, got, want))
		}
	}
	for k := range msgs {
		if !used[k] {
			out = append(out, fmt.Sprintf("%s translates %q, which nothing uses", code, k))
		}
	}
	slices.Sort(out)
	return out
}

// SourceKeys returns the messages that the Go files of dir, tests left out, pass as
// string literal arguments to calls of funcs: a function's name ("usagef") or a
// method's ("T") with the positions of its arguments that are keys (0 for the
// first).
func SourceKeys(dir string, funcs map[string][]int) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fun := call.Fun.(type) {
			case *ast.Ident:
				name = fun.Name
			case *ast.SelectorExpr:
				name = fun.Sel.Name
			}
			for _, arg := range funcs[name] {
				if arg >= len(call.Args) {
					continue
				}
				if lit, ok := call.Args[arg].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if k, err := strconv.Unquote(lit.Value); err == nil && k != "" {
						keys[k] = true
					}
				}
			}
			return true
		})
	}
	return slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}), nil
}
