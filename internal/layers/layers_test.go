package layers

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/hubnet-eu/hubnet"

// layer names the part of the project a package belongs to.
func layer(pkg string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	for _, l := range []string{"node/console/consoletest", "node/console", "node/nodetest", "protocol", "store", "api", "node", "cmd", "internal/i18n", "internal", "docs/examples"} {
		if rel == l || strings.HasPrefix(rel, l+"/") {
			return l
		}
	}
	return rel
}

// mayImport lists, for each layer, the layers its code may import: imports point one
// way, cmd → node → store → protocol. api (the HTTP API's types and client) stands
// beside store: node serves it, integrators import it without node. The console sits
// on node's exported methods; nodetest starts nodes with it. internal holds tools of
// the commands, the tests and the bench (synthetic directories are made with a node);
// internal/i18n, the message catalogues and vocabulary labels that the console and the
// CLI share, stands on protocol alone.
var mayImport = map[string][]string{
	"protocol":      {"protocol"},
	"store":         {"protocol"},
	"api":           {"protocol"},
	"node":          {"store", "protocol", "api"},
	"node/console":  {"node", "api", "protocol", "internal/i18n"},
	"node/nodetest": {"node/console", "node", "store", "protocol", "api", "internal", "internal/i18n"},
	// consoletest drives a console in a browser, for the tests of node and console.
	"node/console/consoletest": {"node/nodetest", "node/console", "node", "protocol", "api"},
	"internal":                 {"internal", "internal/i18n", "node", "store", "protocol", "api"},
	"internal/i18n":            {"internal/i18n", "protocol"},
	"cmd":                      {"node/console", "node/nodetest", "node", "store", "protocol", "api", "internal", "internal/i18n"},
	// The examples in the docs are programs an integrator writes: the API client only.
	"docs/examples": {"api", "protocol"},
}

// testsMayImport are the layers any test may import besides those of its package:
// the node's tests drive the console in a browser too.
var testsMayImport = []string{"node/nodetest", "node/console", "node/console/consoletest", "internal", "internal/i18n"}

// testsOfMayImport adds, for the tests of some layers, what they need beside: the
// client's tests run it against real nodes.
var testsOfMayImport = map[string][]string{"api": {"node"}}

// libraries that only some layers may import, with why.
var libraries = []struct {
	prefix string
	only   []string // packages (module-relative) or layers
	why    string
}{
	{"go.etcd.io/bbolt", []string{"store", "internal/faultfs"}, "the data file is the store's; faultfs tears its pages as a power cut would"},
	{"github.com/hashicorp/memberlist", []string{"node", "cmd/hubnet-bench"}, "gossip is the node's; the bench measures bare memberlist beside it"},
	{"github.com/hashicorp/serf", []string{"cmd/hubnet-bench"}, "the bench measures a Serf query beside the live query"},
	{"github.com/nats-io/nats-server", []string{"node", "cmd/hubnet-bench"}, "the embedded server is the node's; the bench measures a bare server beside it"},
	{"github.com/getkin/kin-openapi", []string{"internal/contract"}, "the tests check the API against its OpenAPI document; the node serves the document and links no validator"},
}

// protocolLibraries are the only modules protocol may import besides the standard
// library: it is the federation's language, with no I/O.
var protocolLibraries = []string{"github.com/google/uuid", "golang.org/x/crypto/"}

type file struct {
	path    string // relative to the module root
	pkg     string // module-relative directory
	test    bool
	imports []string
}

// sources parses the imports of every Go file of the module.
func sources(t *testing.T) []file {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	var files []file
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fl := file{path: filepath.ToSlash(rel), pkg: filepath.ToSlash(filepath.Dir(rel)), test: strings.HasSuffix(path, "_test.go")}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			fl.imports = append(fl.imports, p)
		}
		files = append(files, fl)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found %d Go files; is the test run from its own directory?", len(files))
	}
	return files
}

// within reports whether pkg is one of places, or inside one.
func within(pkg string, places []string) bool {
	return slices.ContainsFunc(places, func(p string) bool { return pkg == p || strings.HasPrefix(pkg, p+"/") })
}

// TestLayers_importsPointOneWay fails when a package imports a layer above its own,
// or a sibling command.
func TestLayers_importsPointOneWay(t *testing.T) {
	for _, f := range sources(t) {
		from := layer(f.pkg)
		allowed, known := mayImport[from]
		if !known {
			t.Errorf("%s: package %s is in no layer; add it to mayImport", f.path, f.pkg)
			continue
		}
		if f.test {
			allowed = slices.Concat(allowed, testsMayImport, testsOfMayImport[from])
		}
		for _, imp := range f.imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			target := strings.TrimPrefix(imp, module+"/")
			to := layer(target)
			switch {
			case target == f.pkg, strings.HasPrefix(target, f.pkg+"/internal"):
			case from == "cmd" && to == "cmd":
				t.Errorf("%s imports %s: commands share code through a package, not through each other", f.path, target)
			case !slices.Contains(allowed, to):
				t.Errorf("%s imports %s: %s may import only %v", f.path, target, from, allowed)
			}
		}
	}
}

// TestLayers_librariesStayInTheirPackage fails when bbolt is imported outside the
// store, or memberlist or nats-server outside the node, or protocol imports anything
// but the standard library, uuid and x/crypto.
func TestLayers_librariesStayInTheirPackage(t *testing.T) {
	for _, f := range sources(t) {
		for _, imp := range f.imports {
			for _, lib := range libraries {
				if strings.HasPrefix(imp, lib.prefix) && !within(f.pkg, lib.only) {
					t.Errorf("%s imports %s, which only %v may: %s", f.path, imp, lib.only, lib.why)
				}
			}
			if layer(f.pkg) == "protocol" && !strings.HasPrefix(imp, module+"/protocol") && isModule(imp) &&
				!slices.ContainsFunc(protocolLibraries, func(p string) bool { return strings.HasPrefix(imp, p) }) {
				t.Errorf("%s imports %s: protocol imports only the standard library and %v", f.path, imp, protocolLibraries)
			}
		}
	}
}

// isModule reports whether an import path names a module outside the standard
// library: its first element has a dot.
func isModule(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".")
}

// TestLayers_caught checks that the rules catch what they are meant to: a test that
// cannot fail is worth nothing.
func TestLayers_caught(t *testing.T) {
	bad := []struct {
		from, imp string
	}{
		{"store", module + "/node"},
		{"protocol", module + "/store"},
		{"node", module + "/cmd/hubnet"},
		{"node", module + "/node/console"},
		{"api", module + "/node"},
		{"node/console", module + "/store"},
	}
	for _, b := range bad {
		if slices.Contains(mayImport[layer(b.from)], layer(strings.TrimPrefix(b.imp, module+"/"))) {
			t.Errorf("%s importing %s passes the rules", b.from, b.imp)
		}
	}
	for _, lib := range libraries {
		if within("cmd/hubnet", lib.only) || within("api", lib.only) {
			t.Errorf("%s is allowed in cmd/hubnet or api", lib.prefix)
		}
	}
	if got := fmt.Sprint(layer(module + "/node/console/x")); got != "node/console" {
		t.Errorf("layer of node/console/x: got %s, want node/console", got)
	}
}
