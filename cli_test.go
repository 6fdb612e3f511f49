package main

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cdkCLI returns the pinned CDK CLI installed by `npm ci`.
func cdkCLI(t *testing.T) string {
	t.Helper()
	cli, err := filepath.Abs(filepath.Join("node_modules", ".bin", "cdk"))
	if err == nil {
		_, err = os.Stat(cli)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pinned CDK CLI missing (%v): .ci/run must run npm ci", err)
		}
		t.Skip("pinned CDK CLI not installed; run npm ci")
	}
	return cli
}

// TestCLISynth runs the pinned CLI the way a user does, with bundling on:
// both stacks synthesize and each Go function's asset is a small arm64
// bootstrap.
func TestCLISynth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CDK CLI and a Go cross-build")
	}
	out := t.TempDir()
	cmd := exec.Command(cdkCLI(t), "synth", "--quiet", "--output", out)
	cmd.Env = append(os.Environ(), "CDK_DISABLE_VERSION_CHECK=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cdk synth: %v\n%s", err, b)
	}
	for _, stack := range []string{"PresignedUpload-dev", "PresignedUpload-prod"} {
		raw, err := os.ReadFile(filepath.Join(out, stack+".template.json"))
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		var tmpl struct {
			Resources map[string]struct {
				Type       string
				Properties map[string]any
				Metadata   map[string]any
			}
		}
		if err := json.Unmarshal(raw, &tmpl); err != nil {
			t.Fatal(err)
		}
		var assets []string
		for _, r := range tmpl.Resources {
			if r.Type == "AWS::Lambda::Function" && r.Properties["Handler"] == "bootstrap" {
				asset, _ := r.Metadata["aws:asset:path"].(string)
				assets = append(assets, asset)
			}
		}
		// The upload function and the verifier.
		if len(assets) != 2 || slices.Contains(assets, "") {
			t.Fatalf("%s: Go function assets %q, want 2", stack, assets)
		}
		for _, asset := range assets {
			bootstrap := filepath.Join(out, asset, "bootstrap")
			st, err := os.Stat(bootstrap)
			if err != nil {
				t.Fatalf("%s: %v", stack, err)
			}
			if st.Size() > 10<<20 {
				t.Errorf("%s: %s is %d bytes, over the 10 MiB budget", stack, bootstrap, st.Size())
			}
			if z := zippedSize(t, bootstrap); z > 4<<20 {
				t.Errorf("%s: %s zips to %d bytes, over the 4 MiB budget", stack, bootstrap, z)
			}
			f, err := elf.Open(bootstrap)
			if err != nil {
				t.Fatalf("%s: %s is not ELF: %v", stack, bootstrap, err)
			}
			if f.Machine != elf.EM_AARCH64 {
				t.Errorf("%s: %s machine = %v, want aarch64", stack, bootstrap, f.Machine)
			}
			f.Close()
		}
		if stack == "PresignedUpload-prod" && !strings.Contains(string(raw), "AWS::WAFv2::WebACL") {
			t.Errorf("prod template has no web ACL")
		}
	}
}

// zippedSize is the size of the deployment package Lambda receives.
func zippedSize(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}
