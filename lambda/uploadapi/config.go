package uploadapi

import (
	"fmt"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits that S3 and SigV4 impose; the construct validates props against the same values.
const (
	// MaxSinglePutSize is the largest object one PUT may upload (5 GiB).
	MaxSinglePutSize int64 = 5 << 30
	// MaxExpiry is the longest validity a SigV4 pre-signed URL signed with
	// Lambda's temporary credentials can have in practice: the credentials
	// themselves expire after at most 12 hours.
	MaxExpiry = 12 * time.Hour
	// MaxRequestBody bounds the JSON request body the API accepts.
	MaxRequestBody = 1 << 20
	// MaxObjectSize is the largest object S3 stores (5 TiB).
	MaxObjectSize int64 = 5 << 40
	// MinPartSize is S3's smallest part but the last (5 MiB).
	MinPartSize int64 = 5 << 20
	// MaxPartSize is S3's largest part (5 GiB).
	MaxPartSize int64 = 5 << 30
	// MaxParts is S3's most parts in one upload.
	MaxParts = 10000
	// MaxPartsPerRequest bounds the part numbers one signing call takes.
	MaxPartsPerRequest = 1000
)

// Environment variable names through which the deployed function receives its
// Config. The construct writes them with [Config.Environment]; the function
// reads them with [ConfigFromEnv].
const (
	EnvBucket              = "UPLOAD_BUCKET"
	EnvKeyPrefix           = "UPLOAD_KEY_PREFIX"
	EnvExpirySeconds       = "UPLOAD_URL_EXPIRY_SECONDS"
	EnvAllowedContentTypes = "UPLOAD_ALLOWED_CONTENT_TYPES"
	EnvMaxFileSize         = "UPLOAD_MAX_FILE_SIZE"
	EnvRequireSize         = "UPLOAD_REQUIRE_SIZE"
	EnvPreventOverwrite    = "UPLOAD_PREVENT_OVERWRITE"
	EnvAllowedOrigins      = "UPLOAD_ALLOWED_ORIGINS"
	EnvMaxMultipartSize    = "UPLOAD_MAX_MULTIPART_SIZE"
	EnvPartSize            = "UPLOAD_PART_SIZE"
)

// Config is what the handler needs to know. The zero value is not usable:
// build it with [ConfigFromEnv] or fill Bucket and call [Config.WithDefaults].
type Config struct {
	// Bucket receives the uploads.
	Bucket string
	// KeyPrefix is put in front of every generated key. Default: "uploads/".
	KeyPrefix string
	// Expiry is how long an issued URL stays valid. Default: 5 minutes.
	Expiry time.Duration
	// AllowedContentTypes lists the media types clients may upload, such as
	// "image/png" or "image/*". Empty means any.
	AllowedContentTypes []string
	// MaxFileSize is the largest declared size accepted. Default: 5 GiB.
	MaxFileSize int64
	// RequireSize makes the size field mandatory, so every URL signs a
	// Content-Length and S3 rejects a body of any other length.
	RequireSize bool
	// PreventOverwrite signs If-None-Match: * so an upload never replaces an
	// existing object.
	PreventOverwrite bool
	// AllowedOrigins are the browser origins allowed to call the API. ["*"]
	// allows any. Default: ["*"].
	AllowedOrigins []string
	// MaxMultipartSize is the largest multipart upload accepted. Default: 5 TiB.
	MaxMultipartSize int64
	// PartSize is the planned part size of multipart uploads, raised when a
	// file would need more than 10,000 parts. Default: 16 MiB.
	PartSize int64
}

// Defaults applied by [Config.WithDefaults].
const (
	DefaultKeyPrefix   = "uploads/"
	DefaultExpiry      = 5 * time.Minute
	DefaultMaxFileSize = MaxSinglePutSize
	DefaultPartSize    = 16 << 20
)

// WithDefaults returns a copy of c with every unset field given its default.
func (c Config) WithDefaults() Config {
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.Expiry == 0 {
		c.Expiry = DefaultExpiry
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if len(c.AllowedOrigins) == 0 {
		c.AllowedOrigins = []string{"*"}
	}
	if c.MaxMultipartSize == 0 {
		c.MaxMultipartSize = MaxObjectSize
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	return c
}

var prefixPattern = regexp.MustCompile(`^([A-Za-z0-9_-][A-Za-z0-9._-]*/)+$`)

// ValidateKeyPrefix reports whether p can prefix generated keys: one or more
// path segments of letters, digits, '.', '-' and '_', each ending in '/' and
// none starting with a dot. An empty prefix is refused so that the function's
// permissions can always be scoped below it.
func ValidateKeyPrefix(p string) error {
	if len(p) > 256 {
		return fmt.Errorf("key prefix %q is longer than 256 characters", p)
	}
	if !prefixPattern.MatchString(p) {
		return fmt.Errorf("key prefix %q must be segments of letters, digits, '.', '-' or '_', each ending in '/'", p)
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
		return fmt.Errorf("allowed content type %q is not a media type such as \"image/png\" or \"image/*\"", p)
	}
	return nil
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.Bucket == "" {
		return fmt.Errorf("bucket name is empty")
	}
	if err := ValidateKeyPrefix(c.KeyPrefix); err != nil {
		return err
	}
	if c.Expiry < time.Second || c.Expiry > MaxExpiry {
		return fmt.Errorf("url expiry %s is outside 1s to %s", c.Expiry, MaxExpiry)
	}
	if c.MaxFileSize < 1 || c.MaxFileSize > MaxSinglePutSize {
		return fmt.Errorf("max file size %d is outside 1 to %d bytes", c.MaxFileSize, MaxSinglePutSize)
	}
	if c.MaxMultipartSize < 1 || c.MaxMultipartSize > MaxObjectSize {
		return fmt.Errorf("max multipart size %d is outside 1 to %d bytes", c.MaxMultipartSize, MaxObjectSize)
	}
	if c.PartSize < MinPartSize || c.PartSize > MaxPartSize {
		return fmt.Errorf("part size %d is outside %d to %d bytes", c.PartSize, MinPartSize, MaxPartSize)
	}
	for _, p := range c.AllowedContentTypes {
		if err := ValidateContentTypePattern(p); err != nil {
			return err
		}
	}
	if len(c.AllowedOrigins) == 0 {
		return fmt.Errorf("allowed origins is empty")
	}
	for _, o := range c.AllowedOrigins {
		if err := ValidateOrigin(o); err != nil {
			return err
		}
	}
	return nil
}

var originPattern = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)

// ValidateOrigin reports whether o is "*" or a browser origin such as
// "https://app.example.com" (scheme, host and optional port, no path).
func ValidateOrigin(o string) error {
	if o == "*" || originPattern.MatchString(o) {
		return nil
	}
	return fmt.Errorf("allowed origin %q is not \"*\" or scheme://host[:port]", o)
}

// Environment encodes c as the function's environment variables.
func (c Config) Environment() map[string]string {
	return map[string]string{
		EnvBucket:              c.Bucket,
		EnvKeyPrefix:           c.KeyPrefix,
		EnvExpirySeconds:       strconv.FormatInt(int64(c.Expiry/time.Second), 10),
		EnvAllowedContentTypes: strings.Join(c.AllowedContentTypes, ","),
		EnvMaxFileSize:         strconv.FormatInt(c.MaxFileSize, 10),
		EnvRequireSize:         strconv.FormatBool(c.RequireSize),
		EnvPreventOverwrite:    strconv.FormatBool(c.PreventOverwrite),
		EnvAllowedOrigins:      strings.Join(c.AllowedOrigins, ","),
		EnvMaxMultipartSize:    strconv.FormatInt(c.MaxMultipartSize, 10),
		EnvPartSize:            strconv.FormatInt(c.PartSize, 10),
	}
}

// ConfigFromEnv reads the Config that [Config.Environment] wrote, applies the
// defaults for what is unset, and validates it.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Bucket:              getenv(EnvBucket),
		KeyPrefix:           getenv(EnvKeyPrefix),
		AllowedContentTypes: splitList(getenv(EnvAllowedContentTypes)),
		AllowedOrigins:      splitList(getenv(EnvAllowedOrigins)),
	}
	var err error
	if v := getenv(EnvExpirySeconds); v != "" {
		var s int64
		if s, err = strconv.ParseInt(v, 10, 64); err != nil {
			return Config{}, fmt.Errorf("%s=%q: %w", EnvExpirySeconds, v, err)
		}
		c.Expiry = time.Duration(s) * time.Second
	}
	for name, dst := range map[string]*int64{EnvMaxFileSize: &c.MaxFileSize, EnvMaxMultipartSize: &c.MaxMultipartSize, EnvPartSize: &c.PartSize} {
		if v := getenv(name); v != "" {
			if *dst, err = strconv.ParseInt(v, 10, 64); err != nil {
				return Config{}, fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	}
	for name, dst := range map[string]*bool{EnvRequireSize: &c.RequireSize, EnvPreventOverwrite: &c.PreventOverwrite} {
		if v := getenv(name); v != "" {
			if *dst, err = strconv.ParseBool(v); err != nil {
				return Config{}, fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
