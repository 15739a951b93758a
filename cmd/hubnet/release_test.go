package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node"
)

// repoRoot is the repository's root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestMakeRelease runs 'make release' for linux/amd64 into a temporary directory and
// checks what an operator gets: a statically linked binary named with the version,
// its line in SHA256SUMS, and 'hubnet version' printing the version and commit stamped.
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary; skipped with -short")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make not found")
	}
	dist := t.TempDir()
	const ver = "v9.8.7-releasetest"
	const commitHash = "0123456789abcdef0123456789abcdef01234567"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mk, "release", "DIST="+dist, "ARCHES=amd64", "VERSION="+ver, "COMMIT="+commitHash)
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}

	name := "hubnet-" + ver + "-linux-amd64"
	bin := filepath.Join(dist, name)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("release binary: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("%s is for %v, want x86-64", name, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s asks for a dynamic loader (PT_INTERP): not statically linked", name)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s links shared libraries %v", name, libs)
	}

	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; string(sums) != want {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", sums, want)
	}

	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("cannot run a linux/amd64 binary on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", name, err, out)
	}
	if !strings.HasPrefix(string(out), "hubnet "+ver+" (") || !strings.Contains(string(out), "linux/amd64") ||
		!strings.Contains(string(out), "commit "+commitHash+"\n") {
		t.Errorf("%s version printed:\n%s\nwant version %s, linux/amd64 and commit %s", name, out, ver, commitHash)
	}
}

// unitSettings reads a systemd unit file into its settings, "Section.Key" to the
// values in order.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: line %q is no setting", path, line)
			}
			settings[section+"."+k] = append(settings[section+"."+k], v)
		}
	}
	return settings
}

// TestSystemdUnit checks deploy/hubnet.service: the node runs on the state directory
// systemd makes, without privileges, and its command line is one hubnet takes; when
// systemd-analyze is there, it verifies the unit.
func TestSystemdUnit(t *testing.T) {
	path := filepath.Join(repoRoot(t), "deploy", "hubnet.service")
	s := unitSettings(t, path)
	want := map[string]string{
		"Service.StateDirectory":          "hubnet",
		"Service.NoNewPrivileges":         "yes",
		"Service.CapabilityBoundingSet":   "",
		"Service.ProtectSystem":           "strict",
		"Service.ProtectHome":             "yes",
		"Service.PrivateTmp":              "yes",
		"Service.PrivateDevices":          "yes",
		"Service.MemoryDenyWriteExecute":  "yes",
		"Service.LockPersonality":         "yes",
		"Service.RestrictNamespaces":      "yes",
		"Service.RestrictSUIDSGID":        "yes",
		"Service.SystemCallArchitectures": "native",
		"Service.KillSignal":              "SIGTERM",
	}
	for k, v := range want {
		if got := s[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if u := s["Service.User"]; len(u) != 1 || u[0] == "root" || u[0] == "0" {
		if s["Service.DynamicUser"] == nil {
			t.Errorf("User = %q: want a user of its own, or DynamicUser", u)
		}
	}
	if fams := strings.Fields(strings.Join(s["Service.RestrictAddressFamilies"], " ")); len(fams) == 0 ||
		slices.ContainsFunc(fams, func(f string) bool {
			return !slices.Contains([]string{"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}, f)
		}) {
		t.Errorf("RestrictAddressFamilies = %q, want IP, Unix and netlink only", fams)
	}
	if !slices.Contains(s["Service.SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter = %q, want @system-service", s["Service.SystemCallFilter"])
	}

	exec1 := s["Service.ExecStart"]
	if len(exec1) != 1 {
		t.Fatalf("ExecStart = %q, want one command", exec1)
	}
	args := strings.Fields(exec1[0])
	if len(args) < 4 || filepath.Base(args[0]) != "hubnet" || args[1] != "run" {
		t.Fatalf("ExecStart = %q, want hubnet run", exec1[0])
	}
	if i := slices.Index(args, "-d"); i < 0 || i+1 >= len(args) || args[i+1] != "/var/lib/"+s["Service.StateDirectory"][0] {
		t.Errorf("ExecStart = %q: want -d on the state directory /var/lib/%s", exec1[0], s["Service.StateDirectory"][0])
	}
	if !slices.Contains(args, "--config") {
		t.Errorf("ExecStart = %q: want the settings from --config", exec1[0])
	}

	// The command line parses: the same flags with --help print the help.
	bin := mustBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, append(args[1:], "--help")...).CombinedOutput(); err != nil {
		t.Errorf("hubnet %s --help: %v\n%s", strings.Join(args[1:], " "), err, out)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: the unit is not verified")
	}
	// systemd-analyze checks that the command exists: point it at the test's binary.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "hubnet.service")
	if err := os.WriteFile(copyPath, []byte(strings.Replace(string(data), "ExecStart="+args[0], "ExecStart="+bin, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, analyze, "verify", copyPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestContainerfile checks deploy/Containerfile: the image runs hubnet as a user other
// than root, keeps the data directory on a volume, exposes the ports 'hubnet run'
// listens on by default, and builds with the Go of go.mod.
func TestContainerfile(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "deploy", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The instructions of the last stage, continuation lines joined; and the images.
	var (
		last    []string
		froms   []string
		pending string
	)
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if pending == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		ins := pending + trimmed
		pending = ""
		if f := strings.Fields(ins); strings.EqualFold(f[0], "FROM") {
			froms = append(froms, f[1])
			last = nil
		}
		last = append(last, ins)
	}
	instr := func(name string) []string {
		var args []string
		for _, ins := range last {
			if f := strings.Fields(ins); strings.EqualFold(f[0], name) {
				args = append(args, f[1:]...)
			}
		}
		return args
	}

	user := instr("USER")
	if len(user) != 1 {
		t.Fatalf("last stage USER = %q, want one", user)
	}
	for _, id := range strings.Split(user[0], ":") {
		if n, err := strconv.Atoi(id); err != nil || n == 0 {
			t.Errorf("USER %s: want a numeric user and group other than root (0)", user[0])
			break
		}
	}

	env := map[string]string{}
	for _, kv := range instr("ENV") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	vol := strings.Trim(strings.Join(instr("VOLUME"), " "), `[]" `)
	if env["HUBNET_DATA_DIR"] == "" || vol != env["HUBNET_DATA_DIR"] {
		t.Errorf("VOLUME %q, HUBNET_DATA_DIR %q: want the data directory on the volume", vol, env["HUBNET_DATA_DIR"])
	}

	def := node.DefaultConfig()
	port := func(addr string) string {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := []string{
		port(def.HTTPAddr) + "/tcp",
		port(def.GossipAddr) + "/tcp", port(def.GossipAddr) + "/udp",
		port(def.ClusterAddr) + "/tcp",
		defaultGatewayPort + "/tcp", defaultLeafPort + "/tcp",
	}
	got := instr("EXPOSE")
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("EXPOSE %q, want the default ports of hubnet run %q", got, want)
	}
	// The API listens beyond the container's loopback, on its default port.
	if h, p, err := net.SplitHostPort(env["HUBNET_HTTP_ADDR"]); err != nil || h != "0.0.0.0" || p != port(def.HTTPAddr) {
		t.Errorf("HUBNET_HTTP_ADDR = %q, want 0.0.0.0:%s", env["HUBNET_HTTP_ADDR"], port(def.HTTPAddr))
	}
	if ep, cmd := strings.Join(instr("ENTRYPOINT"), " "), strings.Join(instr("CMD"), " "); !strings.Contains(ep, "hubnet") || !strings.Contains(cmd, `"run"`) {
		t.Errorf("ENTRYPOINT %s CMD %s, want hubnet run", ep, cmd)
	}

	// The build stage's Go is the one go.mod asks for.
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var goVer string
	for _, l := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(l, "go "); ok {
			goVer = strings.Join(strings.SplitN(strings.TrimSpace(v), ".", 3)[:2], ".")
		}
	}
	if len(froms) < 2 || !strings.Contains(froms[0], "golang:"+goVer) {
		t.Errorf("stages %q: want a build on golang:%s (go.mod) and a final image", froms, goVer)
	}
	if final := froms[len(froms)-1]; final != "scratch" && !strings.Contains(final, "distroless/static") {
		t.Errorf("final image %s: want scratch or distroless/static", final)
	}
}
