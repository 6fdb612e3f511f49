package verifier_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/verifier"
)

func TestSettingsDefaults(t *testing.T) {
	s, err := verifier.DecodeSettings("")
	if err != nil {
		t.Fatal(err)
	}
	want := verifier.Settings{EventBusName: "default", MarkerPrefix: "upload-verifications/", MalwareScanTimeout: 3600}
	if s != want {
		t.Errorf("defaults = %+v, want %+v", s, want)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	s := verifier.Settings{EventBusName: "uploads", MarkerPrefix: "verified/", MalwareScan: true, MalwareScanTimeout: 900}
	got, err := verifier.DecodeSettings(s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got != s {
		t.Errorf("decoded %+v, want %+v", got, s)
	}
	if _, err := verifier.DecodeSettings(`{"eventBus":"x"}`); err == nil || !strings.Contains(err.Error(), verifier.SettingsEnv) {
		t.Errorf("unknown field: err = %v, want an error naming %s", err, verifier.SettingsEnv)
	}
}

func TestSettingsValidate(t *testing.T) {
	cfg := api.Config{Bucket: "b"}.WithDefaults()
	for _, tc := range []struct {
		name    string
		s       verifier.Settings
		setting string // "" when valid
	}{
		{"defaults", verifier.Settings{}, ""},
		{"marker prefix of its own", verifier.Settings{MarkerPrefix: "checks/done/"}, ""},
		{"marker prefix inside the key prefix", verifier.Settings{MarkerPrefix: "uploads/markers/"}, "markerPrefix"},
		{"marker prefix around the key prefix", verifier.Settings{MarkerPrefix: "up/"}, ""},
		{"marker prefix equal to the session prefix", verifier.Settings{MarkerPrefix: "upload-sessions/"}, "markerPrefix"},
		{"marker prefix not segments", verifier.Settings{MarkerPrefix: "markers"}, "markerPrefix"},
		{"scan timeout too short", verifier.Settings{MalwareScanTimeout: 59}, "malwareScanTimeout"},
		{"scan timeout too long", verifier.Settings{MalwareScanTimeout: 24*3600 + 1}, "malwareScanTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.WithDefaults().Validate(cfg)
			var se *api.SettingError
			switch {
			case tc.setting == "" && err != nil:
				t.Errorf("Validate = %v, want valid", err)
			case tc.setting != "" && (!errors.As(err, &se) || se.Setting != tc.setting):
				t.Errorf("Validate = %v, want a %s error", err, tc.setting)
			}
		})
	}
	if _, err := verifier.New(api.Config{}, verifier.Settings{}, nil, nil); err == nil {
		t.Error("New accepted a config without a bucket")
	}
}
