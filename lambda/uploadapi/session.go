package uploadapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/internal/s3err"
)

// session is what a multipart upload declared when it started. It is kept
// as a small object under the session prefix, so that every Lambda
// instance binds the later calls to it with no state of its own: parts are
// signed only for this size and checksum algorithm, completion assembles
// only this plan, and only a caller holding the upload's secret gets that
// far. It outlives a completion, so that the same completion sent again
// is answered as the first was; abort deletes it, and the bucket's
// lifecycle rule any left.
type session struct {
	FileKey string `json:"fileKey"`
	// Owner is the caller that started the upload ("" without sign-in).
	Owner    string `json:"owner,omitempty"`
	Size     int64  `json:"size"`
	PartSize int64  `json:"partSize"`
	// ChecksumAlgorithm is the one the upload started with: every part
	// is signed with its checksum, and with CRC64NVME completion needs the
	// whole file's.
	ChecksumAlgorithm string `json:"checksumAlgorithm,omitempty"`
	// SecretSHA256 is the hex SHA-256 of the upload's secret, which the
	// start response handed out once.
	SecretSHA256 string `json:"secretSHA256"`
}

// newSecret returns an upload secret: 256 random bits, base64url.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (s session) plan() api.Plan { return api.PlanParts(s.Size, s.PartSize) }

// made reports whether a listed object is the one completing this upload
// stores: at its key, of its declared size, and with a checksum of the
// algorithm it started with (CRC64NVME of the whole object).
func (s session) made(o types.Object) bool {
	if aws.ToString(o.Key) != s.FileKey || aws.ToInt64(o.Size) != s.Size {
		return false
	}
	switch s.ChecksumAlgorithm {
	case api.ChecksumAlgorithmCRC64NVME:
		return slices.Contains(o.ChecksumAlgorithm, types.ChecksumAlgorithmCrc64nvme) && o.ChecksumType == types.ChecksumTypeFullObject
	case api.ChecksumAlgorithmSHA256:
		return slices.Contains(o.ChecksumAlgorithm, types.ChecksumAlgorithmSha256)
	}
	return true
}

// sessionKey names an upload's session object. The upload ID is hashed:
// it is S3's string, not one this API shaped.
func (h *Handler) sessionKey(uploadID string) string {
	sum := sha256.Sum256([]byte(uploadID))
	return h.set.SessionPrefix + hex.EncodeToString(sum[:])
}

func (h *Handler) saveSession(ctx context.Context, uploadID string, s session) error {
	b, _ := json.Marshal(s)
	_, err := h.bucket.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(h.set.Bucket),
		Key:         aws.String(h.sessionKey(uploadID)),
		Body:        bytes.NewReader(b),
		ContentType: aws.String("application/json"),
	})
	return err
}

// errNoSession answers a call about an upload this API has no session for:
// never started here, aborted, or expired.
var errNoSession = &apiError{status: http.StatusNotFound, code: api.CodeNoSuchUpload, message: "no such multipart upload for this fileKey"}

// loadSession reads the session of uploadID and checks that it is the
// upload of key, started by caller, and that secret is the upload's.
func (h *Handler) loadSession(ctx context.Context, uploadID, key, caller, secret string) (session, *apiError) {
	out, err := h.bucket.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(h.set.Bucket),
		Key:    aws.String(h.sessionKey(uploadID)),
	})
	var s session
	if err != nil {
		code := s3err.Code(err)
		if code == "NoSuchKey" || code == "NotFound" {
			return s, errNoSession
		}
		// The role may list only under the key prefix, not the sessions,
		// and without s3:ListBucket S3 answers a missing key with 403
		// AccessDenied rather than 404.
		if code == "AccessDenied" {
			h.log.WarnContext(ctx, "upload session unreadable: taken as missing", "fileKey", key, "error", err)
			return s, errNoSession
		}
		h.log.ErrorContext(ctx, "read upload session failed", "fileKey", key, "error", err)
		return s, errInternal()
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 4096))
	if err != nil || json.Unmarshal(b, &s) != nil {
		h.log.ErrorContext(ctx, "read upload session failed", "fileKey", key, "error", err)
		return s, errInternal()
	}
	if s.FileKey != key {
		return s, errNoSession
	}
	if s.Owner != caller {
		return s, &apiError{status: http.StatusForbidden, code: api.CodeForbidden, message: "this upload belongs to another caller"}
	}
	if secret == "" {
		return s, &apiError{status: http.StatusForbidden, code: api.CodeForbidden, message: "send the uploadSecret the start of this upload returned, in the " + api.UploadSecretHeader + " header"}
	}
	if subtle.ConstantTimeCompare([]byte(secretHash(secret)), []byte(s.SecretSHA256)) != 1 {
		return s, &apiError{status: http.StatusForbidden, code: api.CodeForbidden, message: "the " + api.UploadSecretHeader + " header is not this upload's secret"}
	}
	return s, nil
}

// dropSession deletes the session once the upload is aborted. A completed
// upload's session stays (see completeMultipart); it and any left behind
// expire with the bucket's lifecycle rule.
func (h *Handler) dropSession(ctx context.Context, uploadID, key string) {
	if _, err := h.bucket.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(h.set.Bucket),
		Key:    aws.String(h.sessionKey(uploadID)),
	}); err != nil {
		h.log.WarnContext(ctx, "delete upload session failed", "fileKey", key, "error", err)
	}
}
