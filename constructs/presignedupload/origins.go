package presignedupload

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// placeholderDomains are reserved for documentation and tests (RFC 2606,
// RFC 6761): no real site is served from them, so an origin there is a
// sample value nobody replaced.
var placeholderDomains = []string{"example.com", "example.net", "example.org", "example", "test", "invalid"}

// warnPlaceholderOrigins warns at synth while AllowedOrigins names a
// placeholder domain: the deployment would work, but browsers on the real
// site would fail CORS against both the API and the bucket.
func warnPlaceholderOrigins(c *PresignedUploadApi, cfg api.UploadSettings) {
	var found []string
	for _, o := range cfg.AllowedOrigins {
		if *awscdk.Token_IsUnresolved(o) || o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil {
			continue // handlerConfig has refused it already
		}
		if placeholderHost(u.Hostname()) {
			found = append(found, o)
		}
	}
	if len(found) == 0 {
		return
	}
	awscdk.Annotations_Of(c.Construct).AddWarningV2(jsii.String("presignedupload:placeholderOrigin"), jsii.String(fmt.Sprintf(
		"allowedOrigins lists %s, on a domain reserved for examples: browsers on your site will fail CORS; set allowedOrigins to your site's origin",
		strings.Join(found, ", "))), nil)
}

func placeholderHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range placeholderDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
