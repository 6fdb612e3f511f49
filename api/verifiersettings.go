package api

// VerifierSettings are the verifier function's settings (see [Settings]),
// carried in [VerifierSettingsVariable]: the upload function's settings,
// whose limits, prefixes and allow-list it checks stored objects against,
// and its own.
type VerifierSettings struct {
	UploadSettings
	// EventBusName receives the Upload Verified and Upload Rejected
	// events. The construct sets it to its own bus. Default: "default",
	// the account's default bus.
	EventBusName string `json:"eventBusName,omitempty" settings:"derived"`
	// MarkerPrefix holds one small object per verified or rejected object
	// version: the arbiter that lets exactly one delivery publish. Outside
	// KeyPrefix and SessionPrefix. Default: "upload-verifications/".
	MarkerPrefix string `json:"markerPrefix,omitempty"`
	// MalwareScanEnabled means GuardDuty Malware Protection for S3 scans
	// the key prefix: an object is verified only once its scan result is
	// NO_THREATS_FOUND.
	MalwareScanEnabled bool `json:"malwareScanEnabled,omitempty"`
	// MalwareScanTimeout is how long after an object is stored the
	// verifier waits for its scan result before rejecting it with
	// ReasonScanTimeout. It waits by failing the delivery so that the
	// queue delivers it again: the queue's visibility timeout times its
	// maxReceiveCount must exceed it. Default: 1 hour.
	MalwareScanTimeout Seconds `json:"malwareScanTimeoutSeconds,omitempty"`
}

// VerifierSettingsVariable is the environment variable through which the
// verifier receives its VerifierSettings as JSON.
const VerifierSettingsVariable = "UPLOAD_VERIFIER_SETTINGS"

// Variable returns [VerifierSettingsVariable].
func (VerifierSettings) Variable() string { return VerifierSettingsVariable }

// Defaults applied by [VerifierSettings.WithDefaults], and the bounds of
// MalwareScanTimeout.
const (
	DefaultEventBusName                   = "default"
	DefaultMarkerPrefix                   = "upload-verifications/"
	DefaultMalwareScanTimeout     Seconds = 3600
	MinMalwareScanTimeout         Seconds = 60
	MaxMalwareScanTimeout         Seconds = 24 * 3600
	MalwareScanMaxSize            int64   = 100_000_000_000
	malwareScanMaxSizeDescription         = "100 GB"
)

// WithDefaults returns a copy of s with every unset field given its
// default. With the malware scan on, MaxMultipartSize defaults to what
// GuardDuty scans: a larger upload could only be rejected unscanned.
func (s VerifierSettings) WithDefaults() VerifierSettings {
	if s.MalwareScanEnabled && s.MaxMultipartSize == 0 {
		s.MaxMultipartSize = Bytes(MalwareScanMaxSize)
	}
	s.UploadSettings = s.UploadSettings.WithDefaults()
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

// Validate reports every setting that cannot work, each as a *SettingError
// (joined with errors.Join): the upload settings' and the verifier's own.
func (s VerifierSettings) Validate() error {
	errs := settingErrors{s.UploadSettings.Validate()}
	if s.EventBusName == "" {
		errs.add("eventBusName", "is empty")
	}
	errs.addPrefix("markerPrefix", s.MarkerPrefix, namedPrefix{"keyPrefix", s.KeyPrefix}, namedPrefix{"sessionPrefix", s.SessionPrefix},
		namedPrefix{"quotaPrefix", s.QuotaPrefix})
	if t := s.MalwareScanTimeout; t < MinMalwareScanTimeout || t > MaxMalwareScanTimeout {
		errs.add("malwareScanTimeout", "%s is outside %s to %s", t.Duration(), MinMalwareScanTimeout.Duration(), MaxMalwareScanTimeout.Duration())
	}
	if s.MalwareScanEnabled && int64(s.MaxMultipartSize) > MalwareScanMaxSize {
		errs.add("maxMultipartSize", "%d is over the %s (%d bytes) that malwareScanEnabled can scan: larger uploads would be rejected unscanned; lower maxMultipartSize or leave the malware scan off",
			s.MaxMultipartSize, malwareScanMaxSizeDescription, MalwareScanMaxSize)
	}
	return errs.join()
}
