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
// string arguments to calls of funcs: a function's name ("usagef") or a method's
// ("T") with the positions of its arguments that are keys (0 for the first). An
// argument is a key when it is a string literal, a string constant of the package
// (a command's long help), or literals and such constants joined with +.
func SourceKeys(dir string, funcs map[string][]int) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	consts := map[string]ast.Expr{} // the package's constants, by name
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, err
		}
		files = append(files, file)
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						consts[name.Name] = vs.Values[i]
					}
				}
			}
		}
	}
	keys := map[string]bool{}
	for _, file := range files {
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
				if k, ok := constString(call.Args[arg], consts, 0); ok && k != "" {
					keys[k] = true
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

// constString returns the value of a string literal, of a constant of consts, or of
// such strings joined with +; false for anything else. depth bounds the constants
// followed, which the compiler keeps from forming a cycle.
func constString(e ast.Expr, consts map[string]ast.Expr, depth int) (string, bool) {
	if depth > 32 {
		return "", false
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return constString(e.X, consts, depth+1)
	case *ast.Ident:
		if v, ok := consts[e.Name]; ok {
			return constString(v, consts, depth+1)
		}
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		x, ok := constString(e.X, consts, depth+1)
		if !ok {
			return "", false
		}
		y, ok := constString(e.Y, consts, depth+1)
		return x + y, ok
	}
	return "", false
}
