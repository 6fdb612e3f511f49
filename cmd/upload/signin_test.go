package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestSignInFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"-token and -login", []string{"-token", "t", "-login", "a.bin"}, "-token and -login are exclusive"},
		{"-login without an issuer", []string{"-login", "a.bin"}, "needs -issuer and -client-id"},
		{"-login without a client", []string{"-login", "-issuer", "https://issuer.example.com", "a.bin"}, "needs -issuer and -client-id"},
		{"-logout without an issuer", []string{"-logout"}, "needs -issuer and -client-id"},
		{"plain http before signing in", []string{"-api", "http://example.com/prod", "-login", "a.bin"}, "clear text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("UPLOAD_ISSUER", "")
			t.Setenv("UPLOAD_CLIENT_ID", "")
			t.Setenv("UPLOAD_TOKEN", "")
			args := tc.args
			if args[0] != "-api" {
				// Not loopback: no local mode's /config.json to ask.
				args = append([]string{"-api", "https://api.example.com/prod", "-state-dir", t.TempDir()}, args...)
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), args, &out, &errOut, false)
			if code != 2 || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("code %d, stderr %q; want 2 and %q", code, errOut.String(), tc.want)
			}
		})
	}
}
