package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The function is built with -tags lambda.norpc: aws-lambda-go then leaves
// out its net/rpc server, which the provided runtimes never use.
func TestNoNetRPC(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", ".")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/rpc" {
			t.Fatal("the function depends on net/rpc")
		}
	}
}
