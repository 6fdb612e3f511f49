package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// TestLocalModeProcess runs local mode as a user does: its own process with
// flags, talked to over loopback, stopped with Ctrl-C (SIGINT).
func TestLocalModeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local mode binary")
	}
	bin := filepath.Join(t.TempDir(), "local")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = pkgDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cdkJSON := filepath.Join(pkgDir, "..", "..", "cdk.json")
	uploadBin := filepath.Join(t.TempDir(), "upload")
	buildCLI := exec.Command("go", "build", "-o", uploadBin, "../upload")
	buildCLI.Dir = pkgDir
	if out, err := buildCLI.CombinedOutput(); err != nil {
		t.Fatalf("build the upload CLI: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		env     string
		needKey bool
	}{{"dev", false}, {"prod", true}} {
		t.Run(tc.env, func(t *testing.T) {
			data := t.TempDir()
			cmd := exec.Command(bin, "-env", tc.env, "-addr", "127.0.0.1:0", "-s3-addr", "127.0.0.1:0", "-data", data, "-cdk-json", cdkJSON)
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			var banner []string
			api, key := "", ""
			deadline := time.After(60 * time.Second)
			for !strings.Contains(strings.Join(banner, "\n"), "Ctrl-C stops") {
				select {
				case l, ok := <-lines:
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
				api = m[1]
			}
			if m := regexp.MustCompile(`API key:\s+(\S+)`).FindStringSubmatch(text); m != nil {
				key = m[1]
			}
			if api == "" || (key != "") != tc.needKey {
				t.Fatalf("banner lacks the API URL or has the wrong key line:\n%s", text)
			}

			post := func(key string) (int, []byte) {
				req, _ := http.NewRequest("POST", api+uploadapi.RouteUploadURL, strings.NewReader(`{"fileName":"hello.txt","contentType":"text/plain","size":6}`))
				req.Header.Set("Content-Type", "application/json")
				if key != "" {
					req.Header.Set("X-Api-Key", key)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, b
			}
			if tc.needKey {
				if status, b := post(""); status != 403 {
					t.Errorf("without the key: %d %s, want 403", status, b)
				}
			}
			status, b := post(key)
			if status != 200 {
				t.Fatalf("POST = %d %s", status, b)
			}
			var got uploadapi.UploadURLResponse
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if code, msg := put(t, got.UploadURL, got.Headers, []byte("hello\n")); code != 200 {
				t.Fatalf("PUT = %d %s", code, msg)
			}
			stored := filepath.Join(data, "s3", "presigned-upload-"+tc.env, filepath.FromSlash(got.FileKey))
			if b, err := os.ReadFile(stored); err != nil || string(b) != "hello\n" {
				t.Errorf("data directory holds %q (%v) at %s", b, err, stored)
			}

			// The CLI, as a user runs it: multipart above the threshold.
			big, sum := writeFile(t, 12<<20)
			cli := exec.Command(uploadBin, "-api", api, "-api-key", key, "-multipart-threshold", "5242880", big)
			var cliOut, cliErr strings.Builder
			cli.Stdout, cli.Stderr = &cliOut, &cliErr
			if err := cli.Run(); err != nil {
				t.Fatalf("upload CLI: %v\n%s", err, cliErr.String())
			}
			fields := strings.Split(strings.TrimSpace(cliOut.String()), "\t")
			if len(fields) < 4 || !strings.Contains(fields[3], "parts sent") {
				t.Fatalf("CLI output %q, want path, key, size and parts", cliOut.String())
			}
			if cliErr.Len() != 0 {
				t.Errorf("CLI drew progress without a terminal: %q", cliErr.String())
			}
			storedBig, err := os.ReadFile(filepath.Join(data, "s3", "presigned-upload-"+tc.env, filepath.FromSlash(fields[1])))
			if err != nil || sha256.Sum256(storedBig) != sum {
				t.Errorf("CLI upload not stored intact (%v)", err)
			}
			if tc.needKey {
				bad := exec.Command(uploadBin, "-api", api, "-api-key", "wrong", big)
				out, err := bad.CombinedOutput()
				if code := bad.ProcessState.ExitCode(); err == nil || code != 1 || !strings.Contains(string(out), "Forbidden") {
					t.Errorf("CLI with a wrong key: exit %d, output %q", code, out)
				}
			}

			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			var rest []string
			for l := range lines {
				rest = append(rest, l)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("exit after Ctrl-C: %v", err)
			}
			if !strings.Contains(strings.Join(rest, "\n"), "Stopped.") {
				t.Errorf("no clean stop: %q", rest)
			}
			if _, err := os.Stat(stored); err != nil {
				t.Errorf("data gone after stop: %v", err)
			}
		})
	}
}
