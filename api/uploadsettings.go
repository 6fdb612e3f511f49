package api

import (
	"fmt"
	"mime"
	"regexp"
	"strings"
	"sync"
	"time"
)

// UploadSettings are the upload function's settings (see [Settings]),
// carried in [UploadSettingsVariable].
//
// The zero value is not usable: fill Bucket and call [UploadSettings.WithDefaults].
type UploadSettings struct {
	// Bucket receives the uploads.
	Bucket string `json:"bucket" settings:"derived"`
	// KeyPrefix is put in front of every generated key. Default: "uploads/".
	KeyPrefix string `json:"keyPrefix,omitempty"`
	// UrlExpiry is how long an issued URL stays valid. Default: 5 minutes.
	UrlExpiry Seconds `json:"urlExpirySeconds,omitempty"`
	// AllowedContentTypes lists the media types clients may upload, such as
	// "image/png" or "image/*". Empty means any.
	AllowedContentTypes []string `json:"allowedContentTypes,omitempty"`
	// MaxFileSize is the largest declared size accepted. Default: 5 GiB.
	MaxFileSize Bytes `json:"maxFileSize,omitempty"`
	// MaxMultipartSize is the largest multipart upload accepted. Default:
	// MaxObjectSize, about 48.8 TiB.
	MaxMultipartSize Bytes `json:"maxMultipartSize,omitempty"`
	// PartSize is the planned part size of multipart uploads, raised when a
	// file would need more than 10,000 parts. Default: 16 MiB.
	PartSize Bytes `json:"partSize,omitempty"`
	// RequireSize makes the size field mandatory, so every URL signs a
	// Content-Length and S3 rejects a body of any other length.
	RequireSize bool `json:"requireSize,omitempty"`
	// PreventOverwrite signs If-None-Match: * into every upload URL and
	// sends it at multipart completion, so an upload never replaces an
	// existing object; form uploads are then off (S3 has no conditional
	// POST). On a bucket it creates, the construct also has the bucket
	// policy refuse any unconditional write under KeyPrefix.
	PreventOverwrite bool `json:"preventOverwrite,omitempty"`
	// AllowedOrigins are the browser origins allowed to call the API. ["*"]
	// allows any. Default: ["*"].
	AllowedOrigins []string `json:"allowedOrigins,omitempty"`
	// TransferAcceleration issues every URL (PUT, parts, form POST,
	// download) on the bucket's S3 Transfer Acceleration endpoint
	// (<bucket>.s3-accelerate.amazonaws.com), signing the same headers.
	// The bucket must have acceleration on and a name without dots.
	TransferAcceleration bool `json:"transferAcceleration,omitempty"`
	// QuotaBytes bounds the bytes each caller keeps stored, with what its
	// issued URLs may still store. This and the three quotas below are
	// a caller's default limits (see QuotaLimits); unset is unlimited.
	// Without sign-in, every caller of the API key counts against one
	// shared ledger.
	QuotaBytes Bytes `json:"quotaBytes,omitempty"`
	// QuotaBytesPerDay bounds the bytes each caller's URLs may upload in
	// a UTC day.
	QuotaBytesPerDay Bytes `json:"quotaBytesPerDay,omitempty"`
	// QuotaFilesPerDay bounds the uploads (URLs, forms, multipart starts)
	// each caller may begin in a UTC day.
	QuotaFilesPerDay Count `json:"quotaFilesPerDay,omitempty"`
	// QuotaSessions bounds each caller's multipart uploads in progress.
	QuotaSessions Count `json:"quotaSessions,omitempty"`
	// QuotaTierClaim names a claim of the caller's token whose value picks
	// its limits from QuotaTiers; a caller without it, or with a tier not
	// listed, gets the limits above. Sign-in only. Name a claim users
	// cannot set themselves: one from groups or roles an administrator
	// assigns, never an attribute or profile field a user may edit.
	QuotaTierClaim string `json:"quotaTierClaim,omitempty"`
	// QuotaTiers are limits by tier name, as QuotaTierClaim carries it.
	QuotaTiers map[string]QuotaLimits `json:"quotaTiers,omitempty"`
	// QuotaPrefix holds one ledger object per caller, outside KeyPrefix.
	// Default: "upload-quotas/".
	QuotaPrefix string `json:"quotaPrefix,omitempty"`
	// SessionPrefix holds one small object per multipart upload, written
	// when it starts: the size it declared, which binds every later call,
	// a completion sent again included. Outside KeyPrefix, so no upload can
	// overwrite one.
	// Default: "upload-sessions/".
	SessionPrefix string `json:"sessionPrefix,omitempty"`
	// SignIn means every request comes through an authorizer that
	// verified the caller (Cognito or an OIDC issuer): keys are owned per
	// caller (<keyPrefix><callerId>/…), every route that takes a fileKey
	// refuses another caller's, and the file routes exist. The construct
	// sets it when sign-in is configured; it is not a prop of its own.
	SignIn bool `json:"signIn,omitempty" settings:"derived"`
	// Verified means the verifier checks every stored object: download
	// URLs are issued only for verified objects, and GET /uploads/status
	// exists. The construct sets it while its verifier is on.
	Verified bool `json:"verified,omitempty" settings:"derived"`
}

// UploadSettingsVariable is the environment variable through which the
// upload function receives its UploadSettings as JSON.
const UploadSettingsVariable = "UPLOAD_SETTINGS"

// Variable returns [UploadSettingsVariable].
func (UploadSettings) Variable() string { return UploadSettingsVariable }

// Defaults applied by [UploadSettings.WithDefaults].
const (
	DefaultKeyPrefix                = "uploads/"
	DefaultUrlExpiry        Seconds = 300
	DefaultMaxFileSize              = Bytes(MaxSinglePutSize)
	DefaultMaxMultipartSize         = Bytes(MaxObjectSize)
	DefaultPartSize         Bytes   = 16 << 20
	DefaultSessionPrefix            = "upload-sessions/"
)

// WithDefaults returns a copy of c with every unset field given its default.
func (c UploadSettings) WithDefaults() UploadSettings {
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.UrlExpiry == 0 {
		c.UrlExpiry = DefaultUrlExpiry
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if c.AllowedOrigins == nil { // an empty list stays empty, and invalid
		c.AllowedOrigins = []string{"*"}
	}
	if c.MaxMultipartSize == 0 {
		c.MaxMultipartSize = DefaultMaxMultipartSize
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.SessionPrefix == "" {
		c.SessionPrefix = DefaultSessionPrefix
	}
	if c.QuotaPrefix == "" {
		c.QuotaPrefix = DefaultQuotaPrefix
	}
	return c
}

// Limits are the quota limits of a caller without a tier.
func (c UploadSettings) Limits() QuotaLimits {
	return QuotaLimits{Bytes: c.QuotaBytes, BytesPerDay: c.QuotaBytesPerDay, FilesPerDay: c.QuotaFilesPerDay, Sessions: c.QuotaSessions}
}

// Quotas reports whether any caller has a limit: only then is a ledger
// kept.
func (c UploadSettings) Quotas() bool {
	if c.Limits().Limited() {
		return true
	}
	for _, l := range c.QuotaTiers {
		if l.Limited() {
			return true
		}
	}
	return false
}

// LimitsFor returns the limits of a caller whose token names tier (""
// without one), and the tier they come from ("" for the default limits).
func (c UploadSettings) LimitsFor(tier string) (QuotaLimits, string) {
	if l, ok := c.QuotaTiers[tier]; ok && tier != "" {
		return l, tier
	}
	return c.Limits(), ""
}

// bytesLimited reports whether some caller's bytes are bounded, so every
// URL must sign the size it reserves.
func (c UploadSettings) bytesLimited() bool {
	if c.QuotaBytes > 0 || c.QuotaBytesPerDay > 0 {
		return true
	}
	for _, l := range c.QuotaTiers {
		if l.Bytes > 0 || l.BytesPerDay > 0 {
			return true
		}
	}
	return false
}

// SizeRequired reports whether every upload URL must sign the file's size:
// when RequireSize is on; whenever MaxFileSize is below S3's own
// single-PUT limit, which is then the only other bound on an unsigned PUT;
// and when a quota counts bytes, since a URL reserves the size it signs.
func (c UploadSettings) SizeRequired() bool {
	return c.RequireSize || c.MaxFileSize < Bytes(MaxSinglePutSize) || c.bytesLimited()
}

// Validate reports every setting that cannot work, each as a *SettingError
// (joined with errors.Join).
func (c UploadSettings) Validate() error {
	var errs settingErrors
	bad := errs.add
	if c.Bucket == "" {
		bad("bucket", "is empty")
	}
	if err := ValidateKeyPrefix(c.KeyPrefix); err != nil {
		errs = append(errs, err)
	}
	errs.addPrefix("sessionPrefix", c.SessionPrefix, namedPrefix{"keyPrefix", c.KeyPrefix})
	if d := c.UrlExpiry.Duration(); d < time.Second || d > MaxExpiry {
		bad("urlExpiry", "%s is outside 1s to %s", d, MaxExpiry)
	}
	checkBytes := func(setting string, v Bytes, lo, hi int64) {
		if int64(v) < lo || int64(v) > hi {
			bad(setting, "%d is outside %d to %d bytes", v, lo, hi)
		}
	}
	checkBytes("maxFileSize", c.MaxFileSize, 1, MaxSinglePutSize)
	checkBytes("maxMultipartSize", c.MaxMultipartSize, 1, MaxObjectSize)
	checkBytes("partSize", c.PartSize, MinPartSize, MaxPartSize)
	for _, p := range c.AllowedContentTypes {
		if err := ValidateContentTypePattern(p); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.AllowedOrigins) == 0 {
		bad("allowedOrigins", "is empty; use [\"*\"] to allow any origin")
	}
	errs = append(errs, c.validateQuotas())
	for _, o := range c.AllowedOrigins {
		if err := ValidateOrigin(o); err != nil {
			errs = append(errs, err)
		}
		if o == "*" && len(c.AllowedOrigins) > 1 {
			bad("allowedOrigins", "mixes \"*\" with other origins")
		}
	}
	return errs.join()
}

// namedPrefix is a prefix setting's name and value.
type namedPrefix struct{ name, prefix string }

// addPrefix checks the prefix setting named setting: its shape, then that
// it overlaps none of others, whose keys it could overwrite or be
// overwritten by.
func (errs *settingErrors) addPrefix(setting, prefix string, others ...namedPrefix) {
	if ValidateKeyPrefix(prefix) != nil {
		errs.add(setting, "%q must be segments of letters, digits, '.', '-' or '_', each ending in '/'", prefix)
		return
	}
	for _, o := range others {
		if strings.HasPrefix(prefix, o.prefix) || strings.HasPrefix(o.prefix, prefix) {
			errs.add(setting, "%q overlaps %s %q: the keys of one could overwrite the other's", prefix, o.name, o.prefix)
		}
	}
}

// Compiled on first use: the functions' cold start need not pay for them.
var prefixPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9_-][A-Za-z0-9._-]*/)+$`) })

// ValidateKeyPrefix reports whether p can prefix generated keys: one or more
// path segments of letters, digits, '.', '-' and '_', each ending in '/' and
// none starting with a dot. An empty prefix is refused so that the function's
// permissions can always be scoped below it.
func ValidateKeyPrefix(p string) error {
	if len(p) > 256 {
		return &SettingError{"keyPrefix", fmt.Sprintf("%q is longer than 256 characters", p)}
	}
	if !prefixPattern().MatchString(p) {
		return &SettingError{"keyPrefix", fmt.Sprintf("%q must be segments of letters, digits, '.', '-' or '_', each ending in '/'", p)}
	}
	return nil
}

// ValidateContentTypePattern reports whether p is a media type ("image/png")
// or a type wildcard ("image/*").
func ValidateContentTypePattern(p string) error {
	if major, ok := strings.CutSuffix(p, "/*"); ok && major != "" && !strings.ContainsAny(major, "/*; ") {
		return nil
	}
	mt, params, err := mime.ParseMediaType(p)
	if err != nil || len(params) > 0 || mt != strings.ToLower(p) || strings.Count(mt, "/") != 1 || strings.Contains(mt, "*") {
		return &SettingError{"allowedContentTypes", fmt.Sprintf("has %q, which is not a media type such as \"image/png\" or \"image/*\"", p)}
	}
	return nil
}

var originPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$`) })

// ValidateOrigin reports whether o is "*" or a browser origin such as
// "https://app.example.com" (scheme, host and optional port, no path).
func ValidateOrigin(o string) error {
	if o == "*" || originPattern().MatchString(o) {
		return nil
	}
	return &SettingError{"allowedOrigins", fmt.Sprintf("has %q, which is not \"*\" or scheme://host[:port]", o)}
}
