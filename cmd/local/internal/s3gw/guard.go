package s3gw

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v3"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3api/utils"
	"github.com/versity/versitygw/s3err"

	"github.com/presigned-upload/presigned-upload/api"
)

// GuardReads makes the server refuse, as the deployed bucket policy does,
// every pre-signed read of an object under keyPrefix in bucket whose
// status tag (api.StatusTag) is not verified: pending, rejected, or
// missing. The gateway evaluates no bucket policy of its own.
//
// Pre-signed URLs are what the API hands out; requests signed in a header
// are local mode's own clients (the handler, the verifier, the AWS CLI),
// which the deployed policy exempts as it exempts the verifier's role.
func (s *Server) GuardReads(bucket, keyPrefix string) {
	s.guard.mu.Lock()
	defer s.guard.mu.Unlock()
	if s.guard.prefixes == nil {
		s.guard.prefixes = map[string]string{}
	}
	s.guard.prefixes[bucket] = keyPrefix
}

// readGuard holds the guarded key prefix of each bucket.
type readGuard struct {
	mu       sync.RWMutex
	prefixes map[string]string
}

func (g *readGuard) prefix(bucket string) (string, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	p, ok := g.prefixes[bucket]
	return p, ok
}

// middleware runs before the gateway's routes: on a pre-signed GET or HEAD
// of an object (a read S3 authorises as s3:GetObject), it reads the
// object's tags from the backend and answers AccessDenied unless the
// status is verified. It answers before the gateway checks the signature,
// so an unsigned request learns that a key is not verified from the error
// code; local mode's keys are random.
func (g *readGuard) middleware(be backend.Backend) fiber.Handler {
	return func(c fiber.Ctx) error {
		if m := c.Method(); m != http.MethodGet && m != http.MethodHead {
			return c.Next()
		}
		query, err := url.ParseQuery(string(c.Request().URI().QueryString()))
		if err != nil || !presignedRead(query) {
			return c.Next()
		}
		path, err := url.PathUnescape(string(c.Request().URI().PathOriginal()))
		if err != nil {
			return c.Next() // the gateway refuses it
		}
		bucket, key, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		prefix, guarded := g.prefix(bucket)
		if !guarded || !strings.HasPrefix(key, prefix) {
			return c.Next()
		}
		if !traversal(key) {
			tags, err := be.GetObjectTagging(c.Context(), bucket, key, query.Get("versionId"))
			if err == nil && tags[api.StatusTag] == api.StatusVerified {
				return c.Next()
			}
		}
		// As S3 answers a policy's deny: 403 AccessDenied, for a missing
		// object too.
		requestID, hostID := utils.EnsureRequestIDs(c)
		c.Set("Content-Type", "application/xml")
		return c.Status(http.StatusForbidden).Send(s3err.GetAPIError(s3err.ErrAccessDenied).XMLBody(requestID, hostID))
	}
}

// presignedRead reports whether a GET or HEAD with this query is a
// pre-signed read of an object's data or metadata: signed in the query
// (SigV4 or SigV2), with no parameter but the version, a part, response
// header overrides and the signature's own. Any other parameter names a
// subresource (tagging, acl, uploadId) that s3:GetObject does not cover.
func presignedRead(q url.Values) bool {
	if !q.Has("X-Amz-Signature") && !q.Has("Signature") {
		return false
	}
	for k := range q {
		lower := strings.ToLower(k)
		switch {
		case strings.HasPrefix(lower, "x-amz-"), strings.HasPrefix(lower, "response-"):
		case k == "versionId", k == "partNumber", k == "x-id", k == "AWSAccessKeyId", k == "Signature", k == "Expires":
		default:
			return false
		}
	}
	return true
}

// traversal reports whether key has a "." or ".." segment: such a key
// names no object of the bucket, and the backend must not look it up.
func traversal(key string) bool {
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
