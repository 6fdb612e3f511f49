package verifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// Settings are the verifier's own settings. The limits, prefixes and
// allow-list it checks against are the upload function's api.Config, which
// the verifier receives the same way ([api.ConfigEnv]); these travel beside
// it as JSON in [SettingsEnv].
type Settings struct {
	// EventBusName receives the Upload Verified and Upload Rejected
	// events. Default: "default", the account's default bus.
	EventBusName string `json:"eventBusName,omitempty"`
	// MarkerPrefix holds one small object per verified or rejected object
	// version: the arbiter that lets exactly one delivery publish. Outside
	// KeyPrefix and SessionPrefix. Default: "upload-verifications/".
	MarkerPrefix string `json:"markerPrefix,omitempty"`
	// MalwareScan means GuardDuty Malware Protection for S3 scans the key
	// prefix: an object is verified only once its scan result is
	// NO_THREATS_FOUND.
	MalwareScan bool `json:"malwareScan,omitempty"`
	// MalwareScanTimeout is how long after an object is stored the
	// verifier waits for its scan result before rejecting it with
	// api.ReasonScanTimeout. It waits by failing the delivery so that the
	// queue delivers it again: the queue's visibility timeout times its
	// maxReceiveCount must exceed it. Default: 1 hour.
	MalwareScanTimeout api.Seconds `json:"malwareScanTimeoutSeconds,omitempty"`
}

// SettingsEnv is the environment variable through which the deployed
// verifier receives its Settings as JSON.
const SettingsEnv = "UPLOAD_VERIFIER_SETTINGS"

// Defaults applied by [Settings.WithDefaults], and the bounds of
// MalwareScanTimeout.
const (
	DefaultEventBusName                   = "default"
	DefaultMarkerPrefix                   = "upload-verifications/"
	DefaultMalwareScanTimeout api.Seconds = 3600
	MinMalwareScanTimeout     api.Seconds = 60
	MaxMalwareScanTimeout     api.Seconds = 24 * 3600
)

// WithDefaults returns a copy of s with every unset field given its default.
func (s Settings) WithDefaults() Settings {
	if s.EventBusName == "" {
		s.EventBusName = DefaultEventBusName
	}
	if s.MarkerPrefix == "" {
		s.MarkerPrefix = DefaultMarkerPrefix
	}
	if s.MalwareScanTimeout == 0 {
		s.MalwareScanTimeout = DefaultMalwareScanTimeout
	}
	return s
}

// Validate reports every setting that cannot work with cfg, each as an
// *api.SettingError (joined with errors.Join).
func (s Settings) Validate(cfg api.Config) error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, &api.SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)})
	}
	if s.EventBusName == "" {
		bad("eventBusName", "is empty")
	}
	if api.ValidateKeyPrefix(s.MarkerPrefix) != nil {
		bad("markerPrefix", "%q must be segments of letters, digits, '.', '-' or '_', each ending in '/'", s.MarkerPrefix)
	} else {
		for _, other := range []struct{ name, prefix string }{{"keyPrefix", cfg.KeyPrefix}, {"sessionPrefix", cfg.SessionPrefix}} {
			if strings.HasPrefix(s.MarkerPrefix, other.prefix) || strings.HasPrefix(other.prefix, s.MarkerPrefix) {
				bad("markerPrefix", "%q overlaps %s %q", s.MarkerPrefix, other.name, other.prefix)
			}
		}
	}
	if t := s.MalwareScanTimeout; t < MinMalwareScanTimeout || t > MaxMalwareScanTimeout {
		bad("malwareScanTimeout", "%s is outside %s to %s", t.Duration(), MinMalwareScanTimeout.Duration(), MaxMalwareScanTimeout.Duration())
	}
	return errors.Join(errs...)
}

// Encode returns s as the JSON that [DecodeSettings] reads.
func (s Settings) Encode() string {
	b, err := json.Marshal(s)
	if err != nil { // only strings, numbers and booleans
		panic(err)
	}
	return string(b)
}

// DecodeSettings reads the JSON that [Settings.Encode] wrote, refusing
// unknown fields; an empty string is all defaults. It applies the defaults
// but does not validate: [New] does, against the api.Config.
func DecodeSettings(js string) (Settings, error) {
	var s Settings
	if strings.TrimSpace(js) != "" {
		dec := json.NewDecoder(strings.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return Settings{}, fmt.Errorf("%s: %w", SettingsEnv, err)
		}
	}
	return s.WithDefaults(), nil
}

// scanTimeout is MalwareScanTimeout as a duration.
func (s Settings) scanTimeout() time.Duration { return s.MalwareScanTimeout.Duration() }
