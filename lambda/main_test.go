package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Every function is built with -tags lambda.norpc: aws-lambda-go then
// leaves out its net/rpc server, which the provided runtimes never use.
func TestNoNetRPC(t *testing.T) {
	for _, fn := range []string{".", "./authorizer", "./verifierfn"} {
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
