package api

import "slices"

// CORSAllowHeaders are the request headers a browser may send to the API.
// The construct's OPTIONS method and local mode's preflight both answer with
// this list.
var CORSAllowHeaders = []string{"Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token", UploadSecretHeader}

// CORSAllowMethods are the methods the API's preflight allows.
var CORSAllowMethods = []string{"GET", "POST", "DELETE", "OPTIONS"}

// CORSMaxAgeSeconds is how long browsers may cache the API's preflight.
const CORSMaxAgeSeconds = 3600

// UploadHeaders are the headers an issued URL may ask the client to send to
// S3. The bucket's CORS rule must allow each of them, or the browser's
// preflight to S3 fails.
var UploadHeaders = []string{"Content-Type", "Content-Length", "Content-MD5", "If-None-Match",
	"X-Amz-Checksum-Crc64nvme", "X-Amz-Checksum-Sha256", "X-Amz-Sdk-Checksum-Algorithm"}

// The bucket's CORS rule, as the construct deploys it and local mode applies
// it: browsers may PUT and POST uploads and read the ETag that multipart
// completion needs. Without sign-in nothing issues download URLs, so no GET
// or HEAD; [BucketCORSMethodsFor] adds them where the download route exists.
var (
	BucketCORSMethods       = []string{"PUT", "POST"}
	BucketCORSExposeHeaders = []string{"ETag"}
)

// BucketCORSMethodsFor returns the methods the bucket's CORS rule allows
// under the settings c: BucketCORSMethods, and GET and HEAD with sign-in,
// whose download route hands out pre-signed GETs.
func BucketCORSMethodsFor(c UploadSettings) []string {
	if !c.SignIn {
		return BucketCORSMethods
	}
	return append(slices.Clip(BucketCORSMethods), "GET", "HEAD")
}

// BucketCORSMaxAgeSeconds is how long browsers may cache the bucket's preflight.
const BucketCORSMaxAgeSeconds = 3000

// AllowOrigin returns the Access-Control-Allow-Origin value for a request
// from origin, or "" when the origin is not allowed.
func AllowOrigin(allowed []string, origin string) string {
	if slices.Equal(allowed, []string{"*"}) {
		return "*"
	}
	if origin != "" && slices.Contains(allowed, origin) {
		return origin
	}
	return ""
}
