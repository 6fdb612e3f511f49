// Package cmd_test checks what every function's bootstrap (one folder
// here each) compiles.
package cmd_test

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// functions are the bootstraps: every folder here.
func functions(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, "./"+e.Name())
		}
	}
	if len(out) != 3 {
		t.Fatalf("functions = %v, want the upload function, the verifier and the authorizer", out)
	}
	return out
}

// Every function is built with -tags lambda.norpc: aws-lambda-go then
// leaves out its net/rpc server, which the provided runtimes never use.
func TestNoNetRPC(t *testing.T) {
	for _, fn := range functions(t) {
		t.Run(fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", fn)
			cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 10 {
				t.Fatalf("go list -deps %s listed %d packages", fn, len(deps))
			}
			for _, dep := range deps {
				if dep == "net/rpc" {
					t.Fatalf("%s depends on net/rpc", fn)
				}
			}
		})
	}
}

// Each function's code (its package under lambda/) stands on the wire
// contract alone: none imports another's, so a change to one function
// rebuilds and redeploys that function only.
func TestFunctionsImportNoSibling(t *testing.T) {
	const module = "github.com/presigned-upload/presigned-upload/"
	packages := []string{"uploadapi", "verifier", "oidcauth"}
	for _, pkg := range packages {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "../"+pkg).Output()
			if err != nil {
				t.Fatal(err)
			}
			deps := strings.Fields(string(out))
			if !slices.Contains(deps, module+"api") {
				t.Fatalf("go list -deps ../%s does not list the contract: %v", pkg, deps)
			}
			for _, other := range packages {
				if other != pkg && slices.Contains(deps, module+"lambda/"+other) {
					t.Errorf("lambda/%s imports lambda/%s", pkg, other)
				}
			}
		})
	}
}
