package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/bucketevents"
)

// The docs' commands that need local mode, run as the docs show them: the
// README's banner and upload flow, the sign-in banner and the flags of
// docs/local-mode.md, and the benchmark's flags. Only the addresses and
// the data directory differ, so that nothing else on the machine matters;
// the banner is compared with them spelled as the docs spell them.
func TestDocsLocalMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local mode binary")
	}
	readme, localDoc := readDoc(t, "README.md"), readDoc(t, "docs/local-mode.md")

	t.Run("README.md: the banner, the curl it prints, the PUT and the CLI", func(t *testing.T) {
		p, banner := startDocsLocal(t, "dev")
		matchLines(t, "README.md", banner, consoleOutput(t, readme, "go run ./cmd/local"))
		curl := ""
		for i, l := range banner {
			if l == "Try:" && i+1 < len(banner) {
				curl = strings.TrimSpace(banner[i+1])
			}
		}
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl is not installed: the README's curl flow is not run")
		}
		dir := t.TempDir()
		answer := runShell(t, dir, nil, strings.ReplaceAll(curl, "http://127.0.0.1:8080", p.API))
		matchLines(t, "README.md", []string{docsSpelling(p, strings.TrimSpace(answer))}, []string{jsonBlockAfter(t, readme, "Run that `curl`")})
		var got api.UploadURLResponse
		if err := json.Unmarshal([]byte(answer), &got); err != nil {
			t.Fatalf("the printed curl answered %q: %v", answer, err)
		}
		put := shBlockWith(t, readme, "--data-binary @hello.txt")
		runShell(t, dir, []string{"UPLOAD_URL=" + got.UploadURL}, "set -e\n"+put)
		if b, err := os.ReadFile(p.stored(got.FileKey)); err != nil || string(b) != "hello, S3\n" {
			t.Errorf("the README's PUT stored %q (%v), want hello, S3", b, err)
		}
		waitForEvent(t, p, got.FileKey)

		// The CLI line, with the key local mode printed.
		_, uploadBin := binaries(t)
		cli := shBlockWith(t, readme, "go run ./cmd/upload")
		args, _ := strings.CutPrefix(strings.TrimSpace(cli), "go run ./cmd/upload ")
		args = strings.ReplaceAll(args, "http://127.0.0.1:8080", p.API)
		out := runShell(t, dir, []string{"API_KEY=" + p.Key}, uploadBin+" "+args)
		if fields := strings.Split(out, "\t"); len(fields) < 4 || fields[0] != "hello.txt" {
			t.Errorf("the README's upload command printed %q, want hello.txt, its key, size and how", out)
		}
		p.stop(t)
	})

	t.Run("docs/local-mode.md: the sign-in banner", func(t *testing.T) {
		p, banner := startDocsLocal(t, "prod")
		matchLines(t, "docs/local-mode.md", banner, consoleOutput(t, localDoc, "go run ./cmd/local -env prod"))
		p.stop(t)
	})

	t.Run("docs/local-mode.md: the flags it names", func(t *testing.T) {
		localBin, uploadBin := binaries(t)
		usage := helpOf(t, localBin) + helpOf(t, uploadBin) // the page names the CLI's -login too
		named := regexp.MustCompile("`(-[a-z][a-z0-9-]*)[ `]").FindAllStringSubmatch(proseOf(localDoc), -1)
		if len(named) == 0 {
			t.Fatal("docs/local-mode.md names no flags")
		}
		for _, m := range named {
			if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(m[1]) + `\b`).MatchString(usage) {
				t.Errorf("docs/local-mode.md names %s, which neither local mode's nor the upload command's -h lists", m[1])
			}
		}
	})

	t.Run("docs/benchmarks.md: the bench's flags", func(t *testing.T) {
		bench := filepath.Join(t.TempDir(), "bench")
		build := exec.Command("go", "build", "-o", bench, "./bench")
		build.Dir = pkgDir
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./bench: %v\n%s", err, out)
		}
		if usage := helpOf(t, bench); !strings.Contains(usage, "-quick") {
			t.Errorf("the bench's -h lacks -quick:\n%s", usage)
		}
	})
}

// startDocsLocal runs local mode with the environment's settings from a
// copy of cdk.json, so that its data directory is .local-data next to
// that copy, as in the docs, and returns its banner.
func startDocsLocal(t *testing.T, env string) (*localProc, []string) {
	t.Helper()
	bin, _ := binaries(t)
	dir := t.TempDir()
	cdk, err := os.ReadFile(filepath.Join(repoRoot(), "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	cdkJSON := filepath.Join(dir, "cdk.json")
	if err := os.WriteFile(cdkJSON, cdk, 0o644); err != nil {
		t.Fatal(err)
	}
	p := &localProc{Env: env, Data: filepath.Join(dir, ".local-data"), lines: make(chan string, 1000)}
	p.cmd = exec.Command(bin, "-env", env, "-addr", "127.0.0.1:0", "-s3-addr", "127.0.0.1:0", "-oidc-addr", "127.0.0.1:0",
		"-cdk-json", cdkJSON, "-web", filepath.Join(repoRoot(), "web"))
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	var banner []string
	deadline := time.After(60 * time.Second)
	for len(banner) == 0 || !strings.HasPrefix(banner[len(banner)-1], "Ctrl-C stops") {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("local mode exited early:\n%s", strings.Join(banner, "\n"))
			}
			banner = append(banner, l)
		case <-deadline:
			t.Fatalf("no banner within 60s:\n%s", strings.Join(banner, "\n"))
		}
	}
	text := strings.Join(banner, "\n")
	for name, re := range map[*string]string{
		&p.API: `API:\s+(http://\S+)/get-upload-url`, &p.S3: `S3:\s+(http://\S+)`,
		&p.Issuer: `Sign-in:\s+(\S+)`, &p.Key: `API key:\s+(\S+)`,
	} {
		if m := regexp.MustCompile(re).FindStringSubmatch(text); m != nil {
			*name = m[1]
		}
	}
	for i, l := range banner {
		banner[i] = docsSpelling(p, l)
	}
	return p, banner
}

// docsSpelling writes local mode's addresses as the docs do: its default
// ones.
func docsSpelling(p *localProc, s string) string {
	r := []string{p.API, "http://127.0.0.1:8080", p.S3, "http://127.0.0.1:9000"}
	if p.Issuer != "" {
		issuer := regexp.MustCompile(`^http://[^/]+`).FindString(p.Issuer)
		r = append(r, issuer, "http://127.0.0.1:9100")
	}
	return strings.NewReplacer(r...).Replace(s)
}

// matchLines checks got against the docs' want, line by line: "…" in a
// line stands for any text, and a line that is only "…" for any lines.
func matchLines(t *testing.T, doc string, got, want []string) {
	t.Helper()
	var match func(g, w int) bool
	match = func(g, w int) bool {
		if w == len(want) {
			return g == len(got)
		}
		if strings.TrimSpace(want[w]) == "…" {
			for k := g; k <= len(got); k++ {
				if match(k, w+1) {
					return true
				}
			}
			return false
		}
		if g == len(got) {
			return false
		}
		parts := strings.Split(want[w], "…")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		return regexp.MustCompile("^"+strings.Join(parts, ".+")+"$").MatchString(got[g]) && match(g+1, w+1)
	}
	if !match(0, 0) {
		t.Errorf("%s shows\n%s\n\nlocal mode printed (addresses as the docs spell them)\n%s\n\nmake the docs show what it prints, with … for what changes",
			doc, strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}

// readDoc reads a doc of the repository.
func readDoc(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fenced returns the doc's fenced blocks of the language, each with the
// prose just before it.
func fenced(doc, lang string) (bodies, before []string) {
	re := regexp.MustCompile("(?ms)^```" + lang + "\n(.*?)^```$")
	for _, m := range re.FindAllStringSubmatchIndex(doc, -1) {
		bodies = append(bodies, strings.TrimSuffix(doc[m[2]:m[3]], "\n"))
		before = append(before, doc[:m[0]])
	}
	return bodies, before
}

// consoleOutput is what a console block shows after the prompt line "$ cmd".
func consoleOutput(t *testing.T, doc, cmd string) []string {
	t.Helper()
	bodies, _ := fenced(doc, "console")
	for _, b := range bodies {
		if rest, ok := strings.CutPrefix(b, "$ "+cmd+"\n"); ok {
			return strings.Split(rest, "\n")
		}
	}
	t.Fatalf("no console block shows $ %s", cmd)
	return nil
}

// jsonBlockAfter is the first JSON block after the prose marker.
func jsonBlockAfter(t *testing.T, doc, marker string) string {
	t.Helper()
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("the doc lacks %q", marker)
	}
	bodies, _ := fenced(doc[i:], "json")
	if len(bodies) == 0 {
		t.Fatalf("no JSON block after %q", marker)
	}
	return bodies[0]
}

// shBlockWith is the sh block holding s.
func shBlockWith(t *testing.T, doc, s string) string {
	t.Helper()
	bodies, _ := fenced(doc, "sh")
	for _, b := range bodies {
		if strings.Contains(b, s) {
			return b
		}
	}
	t.Fatalf("no sh block holds %q", s)
	return ""
}

// proseOf is a doc without its fenced blocks.
func proseOf(doc string) string {
	return regexp.MustCompile("(?ms)^```.*?^```$").ReplaceAllString(doc, "")
}

// runShell runs a script of the docs with bash in dir.
func runShell(t *testing.T, dir string, env []string, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash -c %q: %v\n%s", script, err, out)
	}
	return string(out)
}

// helpOf is what a command's -h prints.
func helpOf(t *testing.T, bin string) string {
	t.Helper()
	out, _ := exec.Command(bin, "-h").CombinedOutput() // -h exits 0 or 1, as the flag package's caller decides
	if !strings.Contains(string(out), "-") {
		t.Fatalf("%s -h printed %q", bin, out)
	}
	return string(out)
}

// waitForEvent waits for local mode to print the verifier's event about key.
func waitForEvent(t *testing.T, p *localProc, key string) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatal("local mode exited")
			}
			if js, ok := strings.CutPrefix(l, bucketevents.LinePrefix); ok && strings.Contains(js, key) {
				return
			}
		case <-deadline:
			t.Fatalf("no event line about %s within 2 minutes", key)
		}
	}
}
