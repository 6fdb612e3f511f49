package main

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// TestLocalModeProcess runs local mode as a user does: its own process with
// flags, talked to over loopback, stopped with Ctrl-C (SIGINT).
func TestLocalModeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local mode binary")
	}
	_, uploadBin := binaries(t)
	cdkJSON := filepath.Join(pkgDir, "..", "..", "cdk.json")

	for _, tc := range []struct {
		env     string
		needKey bool
	}{{"dev", true}} {
		t.Run(tc.env, func(t *testing.T) {
			p := startLocal(t, tc.env, cdkJSON)
			apiURL, key := p.API, p.Key
			if (key != "") != tc.needKey {
				t.Fatalf("API key printed = %q, want one: %v", key, tc.needKey)
			}

			post := func(key string) (int, []byte) {
				req, _ := http.NewRequest("POST", apiURL+api.UploadURL.Resource, strings.NewReader(`{"fileName":"hello.txt","contentType":"text/plain","size":6}`))
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
			var got api.UploadURLResponse
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if code, msg := put(t, got.UploadURL, got.Headers, []byte("hello\n")); code != 200 {
				t.Fatalf("PUT = %d %s", code, msg)
			}
			stored := p.stored(got.FileKey)
			if b, err := os.ReadFile(stored); err != nil || string(b) != "hello\n" {
				t.Errorf("data directory holds %q (%v) at %s", b, err, stored)
			}

			// The CLI, as a user runs it: multipart above the threshold.
			big, sum := writeFile(t, 12<<20)
			cli := exec.Command(uploadBin, "-api", apiURL, "-api-key", key, "-multipart-threshold", "5242880", big)
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
			storedBig, err := os.ReadFile(p.stored(fields[1]))
			if err != nil || sha256.Sum256(storedBig) != sum {
				t.Errorf("CLI upload not stored intact (%v)", err)
			}
			if tc.needKey {
				bad := exec.Command(uploadBin, "-api", apiURL, "-api-key", "wrong", big)
				out, err := bad.CombinedOutput()
				if code := bad.ProcessState.ExitCode(); err == nil || code != 1 || !strings.Contains(string(out), "Forbidden") {
					t.Errorf("CLI with a wrong key: exit %d, output %q", code, out)
				}
			}

			if rest := p.stop(t); !strings.Contains(rest, "Stopped.") {
				t.Errorf("no clean stop: %q", rest)
			}
			if _, err := os.Stat(stored); err != nil {
				t.Errorf("data gone after stop: %v", err)
			}
		})
	}
}
