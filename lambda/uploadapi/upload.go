package uploadapi

import (
	"context"
	"encoding/base64"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/quota"
)

func (h *Handler) uploadURL(ctx context.Context, c *call[api.UploadURLRequest]) response {
	in := c.in
	if err := h.checkFile(in.FileName, in.ContentType, in.Size, int64(h.set.MaxFileSize)); err != nil {
		return errorResponse(err)
	}
	put := &s3.PutObjectInput{
		Bucket:        aws.String(h.set.Bucket),
		Key:           aws.String(api.BuildKey(h.prefixFor(c.caller), h.newID(), in.FileName)),
		ContentType:   aws.String(in.ContentType),
		ContentLength: in.Size,
	}
	switch {
	case in.ChecksumCRC64NVME != "" && in.ChecksumSHA256 != "":
		return errorResponse(badRequest("send checksumCRC64NVME or checksumSHA256, not both: S3 takes one checksum"))
	case in.ChecksumCRC64NVME != "":
		if _, ok := api.DecodeCRC64NVME(in.ChecksumCRC64NVME); !ok {
			return errorResponse(badRequest("checksumCRC64NVME must be the base64 encoding of an 8-byte CRC64NVME checksum"))
		}
		put.ChecksumCRC64NVME = aws.String(in.ChecksumCRC64NVME)
	case in.ChecksumSHA256 != "":
		if !isSHA256(in.ChecksumSHA256) {
			return errorResponse(badRequest("checksumSHA256 must be the base64 encoding of a 32-byte SHA-256 digest"))
		}
		put.ChecksumSHA256 = aws.String(in.ChecksumSHA256)
	}
	if h.set.PreventOverwrite {
		put.IfNoneMatch = aws.String("*")
	}
	// The size signed (required when a quota counts bytes) is what the
	// URL may store.
	if e := h.reserve(ctx, c.caller, c.tier, quota.Reservation{Key: *put.Key, Bytes: aws.ToInt64(put.ContentLength),
		Expires: h.urlReservationEnds()}); e != nil {
		return errorResponse(e)
	}
	signed, err := h.presign.PresignPutObject(ctx, put, s3.WithPresignExpires(h.set.UrlExpiry.Duration()))
	if err != nil {
		h.log.ErrorContext(ctx, "presign put failed", "fileKey", *put.Key, "error", err)
		h.release(ctx, c.caller, *put.Key)
		return errorResponse(errInternal())
	}
	h.log.InfoContext(ctx, "issued upload url", requestAttrs(c.req, "fileKey", *put.Key, "contentType", *put.ContentType, "size", aws.ToInt64(put.ContentLength))...)
	return jsonResponse(http.StatusOK, api.UploadURLResponse{
		UploadURL: signed.URL,
		FileKey:   *put.Key,
		ExpiresIn: int64(h.set.UrlExpiry),
		Method:    signed.Method,
		Headers:   clientHeaders(signed.SignedHeader),
	})
}

// isSHA256 reports whether s is the base64 encoding of a SHA-256 digest.
func isSHA256(s string) bool {
	sum, err := base64.StdEncoding.DecodeString(s)
	return err == nil && len(sum) == 32
}

// clientHeaders returns the signed headers the client itself must send: all
// but Host, which its HTTP library sets from the URL.
func clientHeaders(signed http.Header) map[string]string {
	out := make(map[string]string, len(signed))
	for name, values := range signed {
		if strings.EqualFold(name, "Host") || len(values) == 0 {
			continue
		}
		out[http.CanonicalHeaderKey(name)] = strings.Join(values, ",")
	}
	return out
}

// checkFile validates what every upload route asks about the file; a nil
// size was not declared.
func (h *Handler) checkFile(fileName, contentType string, size *int64, maxSize int64) *apiError {
	if len(fileName) > 4096 {
		return badRequest("fileName is longer than 4096 bytes")
	}
	if contentType == "" {
		return badRequest("contentType is required")
	}
	mt, err := parseContentType(contentType)
	if err != nil {
		return badRequest("contentType %q is not a valid media type", contentType)
	}
	if strings.Contains(mt, "*") {
		return badRequest("contentType %q is a pattern; send the file's own media type", contentType)
	}
	if !api.ContentTypeAllowed(h.set.AllowedContentTypes, mt) {
		return errNotAllowed(mt, h.set.AllowedContentTypes)
	}
	if size == nil {
		return nil
	}
	if *size < 1 {
		// An empty body is not an upload, and the SDK drops the signed
		// Content-Type of a zero-length request.
		return badRequest("size %d must be at least 1 byte", *size)
	}
	if *size > maxSize {
		return errTooLarge(*size, maxSize)
	}
	return nil
}

// parseContentType returns the lowercase type/subtype of a Content-Type
// value that is safe to sign and send back as a header.
func parseContentType(v string) (string, error) {
	if len(v) > 256 || strings.TrimSpace(v) != v {
		return "", errBadMediaType
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] >= 0x7f {
			return "", errBadMediaType
		}
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || !strings.Contains(mt, "/") {
		return "", errBadMediaType
	}
	return mt, nil
}

var errBadMediaType = badRequest("bad media type")

// errNotAllowed refuses a media type the allow-list does not admit.
// errTooLarge answers a size over the limit that applies to it.
func errTooLarge(size, limit int64) *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: api.CodePayloadTooLarge,
		message: "size " + strconv.FormatInt(size, 10) + " is over the limit of " + strconv.FormatInt(limit, 10) + " bytes"}
}

func errNotAllowed(mt string, allowed []string) *apiError {
	msg := "content type " + strconv.Quote(mt) + " is not allowed"
	if api.IsActiveContent(mt) {
		msg += ": browsers run it as a page or script when served, so allowedContentTypes must name it exactly"
	} else if len(allowed) > 0 {
		msg += "; allowed: " + strings.Join(allowed, ", ")
	}
	return &apiError{status: http.StatusUnsupportedMediaType, code: api.CodeUnsupportedMediaType, message: msg}
}
