package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestPlainHTTPNeedsTheFlag(t *testing.T) {
	t.Run("refused without -insecure-http, before any file or request", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"-api", "http://example.com/prod", "/nonexistent/a.bin", "/nonexistent/b.bin"}, &out, &errOut, false)
		msg := errOut.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "clear text") || !strings.Contains(msg, "-insecure-http") {
			t.Errorf("code %d, stderr %q; want 2 and one line naming the risk and the flag", code, msg)
		}
	})
	t.Run("allowed with -insecure-http", func(t *testing.T) {
		// The missing file fails next, before any request is made.
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"-insecure-http", "-api", "http://example.invalid/prod", "/nonexistent/file.bin"}, &out, &errOut, false)
		if code != 1 || !strings.Contains(errOut.String(), "no such file or directory") {
			t.Errorf("code %d, stderr %q; want the missing file's error", code, errOut.String())
		}
	})
}
