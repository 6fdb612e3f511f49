package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce           sync.Once
	localBin, uploadBin string
	buildErr            error
)

// binaries builds local mode and the upload CLI once per test run.
func binaries(t *testing.T) (string, string) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "local-bin-")
		if err != nil {
			buildErr = err
			return
		}
		localBin, uploadBin = filepath.Join(dir, "local"), filepath.Join(dir, "upload")
		for bin, pkg := range map[string]string{localBin: ".", uploadBin: "../upload"} {
			cmd := exec.Command("go", "build", "-o", bin, pkg)
			cmd.Dir = pkgDir
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = &buildError{pkg, string(out), err}
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return localBin, uploadBin
}

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "build " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

// localProc is local mode running as its own process.
type localProc struct {
	cmd       *exec.Cmd
	lines     chan string
	API, Key  string
	Data, Env string
	// S3 is the S3 endpoint, S3Key and S3Secret its credentials.
	S3, S3Key, S3Secret string
	// Issuer and ClientID name the sign-in provider of an environment that
	// signs callers in, and Token is the banner's ready token.
	Issuer, ClientID, Token string
}

// startLocal runs local mode on free loopback ports with a fresh data
// directory and waits for its banner.
func startLocal(t *testing.T, env, cdkJSON string, extra ...string) *localProc {
	t.Helper()
	bin, _ := binaries(t)
	p := &localProc{Data: t.TempDir(), Env: env, lines: make(chan string, 1000)}
	args := append([]string{"-env", env, "-addr", "127.0.0.1:0", "-s3-addr", "127.0.0.1:0", "-data", p.Data, "-cdk-json", cdkJSON}, extra...)
	p.cmd = exec.Command(bin, args...)
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	var banner []string
	deadline := time.After(60 * time.Second)
	for !strings.Contains(strings.Join(banner, "\n"), "Ctrl-C stops") {
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
	if m := regexp.MustCompile(`API:\s+(http://\S+)/get-upload-url`).FindStringSubmatch(text); m != nil {
		p.API = m[1]
	}
	if m := regexp.MustCompile(`API key:\s+(\S+)`).FindStringSubmatch(text); m != nil {
		p.Key = m[1]
	}
	if m := regexp.MustCompile(`S3:\s+(http://\S+)\s+bucket \S+, access key (\S+), secret (\S+)`).FindStringSubmatch(text); m != nil {
		p.S3, p.S3Key, p.S3Secret = m[1], m[2], m[3]
	}
	if m := regexp.MustCompile(`Sign-in:\s+(\S+)\s+client (\S+)`).FindStringSubmatch(text); m != nil {
		p.Issuer, p.ClientID = m[1], m[2]
	}
	if m := regexp.MustCompile(`Token:\s+(\S+)`).FindStringSubmatch(text); m != nil {
		p.Token = m[1]
	}
	if m := regexp.MustCompile(`Data:\s+(\S+)`).FindStringSubmatch(text); m != nil {
		p.Data = m[1] // -data among extra wins over the fresh directory
	}
	if p.API == "" {
		t.Fatalf("banner lacks the API URL:\n%s", text)
	}
	return p
}

// stored returns the path of an object in the data directory.
func (p *localProc) stored(key string) string {
	return filepath.Join(p.Data, "s3", "presigned-upload-"+p.Env, filepath.FromSlash(key))
}

// wantStored checks that the S3 server holds exactly want under key.
func (p *localProc) wantStored(t *testing.T, key string, want []byte) {
	t.Helper()
	if got, err := os.ReadFile(p.stored(key)); err != nil || !bytes.Equal(got, want) {
		t.Errorf("stored bytes of %s differ from the file's (%v)", key, err)
	}
}

// stop sends Ctrl-C and returns what the process printed after its banner.
func (p *localProc) stop(t *testing.T) string {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range p.lines {
		rest = append(rest, l)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("exit after Ctrl-C: %v", err)
	}
	return strings.Join(rest, "\n")
}
