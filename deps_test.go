package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// localOnly are the modules that local mode and the benchmarks need and a
// deploy must never fetch or compile: the S3 gateway and what it pulls in,
// the browser driver, and local mode's own module.
var localOnly = []string{
	"github.com/versity",
	"github.com/gofiber",
	"github.com/segmentio/kafka-go",
	"github.com/chromedp",
	"github.com/oauth2-proxy/mockoidc",
	"github.com/presigned-upload/presigned-upload/cmd/local",
}

// TestAppBuildsWithoutLocalMode guards deploys: cdk.json runs the app with
// the workspace off, so the root module alone decides what `go run` fetches
// and compiles, and neither the packages the app compiles nor the root
// module's graph may reach a module of local mode.
func TestAppBuildsWithoutLocalMode(t *testing.T) {
	raw, err := os.ReadFile("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ App string }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.App, "GOWORK=off ") {
		t.Fatalf("cdk.json app = %q, want it to start with GOWORK=off so go.work's local-mode modules stay out of a deploy", f.App)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"modules providing the app's packages", []string{"list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", "."}},
		{"modules in the root module's graph", []string{"list", "-m", "-f", "{{.Path}}", "all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("go", tc.args...)
			cmd.Env = append(cmd.Environ(), "GOWORK=off")
			out, err := cmd.Output()
			if err != nil {
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					t.Fatalf("go %s: %v\n%s", strings.Join(tc.args, " "), err, exit.Stderr)
				}
				t.Fatal(err)
			}
			mods := strings.Fields(string(out))
			if len(mods) == 0 {
				t.Fatalf("go %s listed nothing", strings.Join(tc.args, " "))
			}
			for _, m := range mods {
				for _, p := range localOnly {
					if m == p || strings.HasPrefix(m, p+"/") {
						t.Errorf("%s is within a deploy's reach (GOWORK=off go mod graph shows what requires it)", m)
					}
				}
			}
		})
	}
}
