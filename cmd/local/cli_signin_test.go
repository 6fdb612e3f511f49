package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// cliRun is the upload command running as its own process.
type cliRun struct {
	cmd    *exec.Cmd
	stdout strings.Builder
	mu     sync.Mutex
	stderr strings.Builder
	// signInURL receives the sign-in URL -login prints.
	signInURL chan string
	drained   chan struct{}
}

func startCLI(t *testing.T, env []string, args ...string) *cliRun {
	t.Helper()
	_, bin := binaries(t)
	r := &cliRun{cmd: exec.Command(bin, args...), signInURL: make(chan string, 1), drained: make(chan struct{})}
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.Stdout = &r.stdout
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	go func() {
		defer close(r.drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.stderr.WriteString(line + "\n")
			r.mu.Unlock()
			if s := strings.TrimSpace(line); strings.HasPrefix(s, "http") && strings.Contains(s, "code_challenge=") {
				select {
				case r.signInURL <- s:
				default:
				}
			}
		}
	}()
	return r
}

// wait waits for the command to exit and returns its exit code, stdout and
// stderr.
func (r *cliRun) wait(t *testing.T) (int, string, string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { <-r.drained; done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = r.cmd.Process.Kill()
		t.Fatalf("the command did not exit; stderr:\n%s", r.errText())
	}
	return r.cmd.ProcessState.ExitCode(), r.stdout.String(), r.errText()
}

func (r *cliRun) errText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// completeLogin does what a person does with the printed URL: opens it,
// gets the provider's login page, types user and submits it. The provider
// sends the browser back to the command's redirect URI, whose page it
// returns.
func completeLogin(t *testing.T, r *cliRun, user string) string {
	t.Helper()
	var signInURL string
	select {
	case signInURL = <-r.signInURL:
	case <-time.After(60 * time.Second):
		t.Fatalf("no sign-in URL printed; stderr:\n%s", r.errText())
	}
	resp, err := http.Get(signInURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `name="login_hint"`) {
		t.Fatalf("GET the sign-in URL = %d, want the login page:\n%s", resp.StatusCode, page)
	}
	// The page's form posts the authorization request back with the name.
	u, _ := url.Parse(signInURL)
	form := u.Query()
	form.Set("login_hint", user)
	u.RawQuery = ""
	resp, err = http.PostForm(u.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/callback" {
		t.Fatalf("after the login page: %d at %s: %s", resp.StatusCode, resp.Request.URL, back)
	}
	return string(back)
}

// cachedSignIn reads the one sign-in the command cached in dir.
func cachedSignIn(t *testing.T, dir string) (c struct {
	Expiry time.Time `json:"expiry"`
}) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "signin-*.json"))
	if len(files) != 1 {
		t.Fatalf("cached sign-ins %q, want one", files)
	}
	b, err := os.ReadFile(files[0])
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCLISignIn(t *testing.T) {
	p := startSignedIn(t, "oidc")
	alice, bob := api.CallerID(p.Issuer, "alice"), api.CallerID(p.Issuer, "bob")
	stateDir := t.TempDir()
	login := []string{"-api", p.API, "-login", "-login-port", "0", "-no-browser", "-state-dir", stateDir}
	var keys []string

	t.Run("-login signs in through the browser and uploads under the user's prefix", func(t *testing.T) {
		big, sum := writeFile(t, 12<<20)
		r := startCLI(t, nil, append(login, "-multipart-threshold", "5242880", big)...)
		if page := completeLogin(t, r, "alice"); !strings.Contains(page, "Signed in") {
			t.Errorf("the redirect URI's page says %q", page)
		}
		code, out, errOut := r.wait(t)
		fields := strings.Split(strings.TrimSpace(out), "\t")
		if code != 0 || len(fields) < 4 || !strings.Contains(fields[3], "parts sent") {
			t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errOut)
		}
		if !strings.HasPrefix(fields[1], "uploads/"+alice+"/") {
			t.Errorf("stored as %s, want it under uploads/%s/", fields[1], alice)
		}
		if b, err := os.ReadFile(p.stored(fields[1])); err != nil || sha256.Sum256(b) != sum {
			t.Errorf("upload not stored intact (%v)", err)
		}
		if !strings.Contains(errOut, "Signed in as alice.") {
			t.Errorf("stderr lacks who signed in:\n%s", errOut)
		}
		keys = append(keys, fields[1])
		cached, _ := filepath.Glob(filepath.Join(stateDir, "signin-*.json"))
		if len(cached) != 1 {
			t.Fatalf("cached sign-ins %q, want one", cached)
		}
		if st, err := os.Stat(cached[0]); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("cached sign-in mode %v (%v), want 0600", st.Mode().Perm(), err)
		}
	})
	t.Run("a later -login refreshes the cached sign-in", func(t *testing.T) {
		before := cachedSignIn(t, stateDir)
		small, _ := writeFile(t, 1000)
		r := startCLI(t, nil, append(login, small)...)
		code, out, errOut := r.wait(t)
		fields := strings.Split(strings.TrimSpace(out), "\t")
		if code != 0 || len(fields) < 2 || !strings.HasPrefix(fields[1], "uploads/"+alice+"/") || !strings.Contains(errOut, "Signed in as alice (cached).") {
			t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errOut)
		}
		keys = append(keys, fields[1])
		// Within the same second the provider may sign the very same token
		// again; the expiry the command computed from its answer moves on.
		if after := cachedSignIn(t, stateDir); !after.Expiry.After(before.Expiry) {
			t.Error("the cached access token was not refreshed")
		}
	})
	t.Run("-list prints the caller's files", func(t *testing.T) {
		// Named here rather than read from local mode's /config.json: the
		// same issuer and client, so the same cached sign-in.
		r := startCLI(t, nil, append(login, "-issuer", p.Issuer, "-client-id", p.ClientID, "-list")...)
		code, out, errOut := r.wait(t)
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		for _, k := range keys {
			if !strings.Contains(out, k+"\t") {
				t.Errorf("-list printed %q, lacks %s", out, k)
			}
		}
	})
	t.Run("-token and UPLOAD_TOKEN", func(t *testing.T) {
		for _, how := range []string{"flag", "env"} {
			t.Run(how, func(t *testing.T) {
				token := signInAs(t, p, "bob")
				small, _ := writeFile(t, 1000)
				args, env := []string{"-api", p.API, "-state-dir", t.TempDir(), small}, []string{"UPLOAD_TOKEN=" + token}
				if how == "flag" {
					args, env = append([]string{"-token", token}, args...), nil
				}
				code, out, errOut := startCLI(t, env, args...).wait(t)
				fields := strings.Split(strings.TrimSpace(out), "\t")
				if code != 0 || len(fields) < 2 || !strings.HasPrefix(fields[1], "uploads/"+bob+"/") {
					t.Errorf("exit %d, stdout %q, stderr:\n%s; want an upload under uploads/%s/", code, out, errOut, bob)
				}
			})
		}
	})
	t.Run("a wrong token: exit 1, Unauthorized", func(t *testing.T) {
		small, _ := writeFile(t, 1000)
		code, out, errOut := startCLI(t, nil, "-api", p.API, "-token", "not-a-token", "-state-dir", t.TempDir(), small).wait(t)
		if code != 1 || out != "" || !strings.Contains(errOut, "Unauthorized") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 1 and Unauthorized", code, out, errOut)
		}
	})
}
