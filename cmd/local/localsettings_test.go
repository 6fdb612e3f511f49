package main

import (
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/internal/environments"
)

// Local mode applies an environment's settings but for what one machine
// cannot do, and says so at start.
func TestLocalSettingsSayWhatTheyIgnore(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*api.VerifierSettings)
		note string
		off  func(api.VerifierSettings) bool
	}{
		{"transfer acceleration", func(s *api.VerifierSettings) { s.TransferAcceleration = true },
			"transferAcceleration is ignored locally", func(s api.VerifierSettings) bool { return !s.TransferAcceleration }},
		{"malware scan", func(s *api.VerifierSettings) { s.MalwareScanEnabled = true },
			"malwareScanEnabled has no local stand-in", func(s api.VerifierSettings) bool { return !s.MalwareScanEnabled }},
		{"a setting it applies", func(s *api.VerifierSettings) { s.MarkerPrefix = "checked/" },
			"", func(s api.VerifierSettings) bool { return s.MarkerPrefix == "checked/" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env environments.Environment
			tc.set(&env.VerifierSettings)
			var out strings.Builder
			s := localSettings(env, "local-bucket", &out)
			if !tc.off(s) || s.Bucket != "local-bucket" {
				t.Errorf("settings = %+v", s)
			}
			if got := out.String(); tc.note == "" && got != "" || !strings.Contains(got, tc.note) {
				t.Errorf("printed %q, want %q", got, tc.note)
			}
		})
	}
}
