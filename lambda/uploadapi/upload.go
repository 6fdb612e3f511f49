package uploadapi

import (
	"context"
	"encoding/base64"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// UploadURLRequest asks for a URL to upload one file with a single PUT.
type UploadURLRequest struct {
	// FileName is the client's name for the file; it is sanitised into the
	// last part of the key. Required.
	FileName string `json:"fileName"`
	// ContentType is the media type the client will send. Required.
	ContentType string `json:"contentType"`
	// Size is the exact number of bytes the client will send. When given,
	// it is signed and S3 rejects a body of any other length.
	Size *int64 `json:"size,omitempty"`
	// ChecksumSHA256 is the base64 SHA-256 of the body. When given, it is
	// signed and S3 rejects a body with another digest.
	ChecksumSHA256 string `json:"checksumSHA256,omitempty"`
}

// UploadURLResponse tells the client where and how to PUT the file.
type UploadURLResponse struct {
	UploadURL string `json:"uploadUrl"`
	FileKey   string `json:"fileKey"`
	// ExpiresIn is the URL's validity in seconds.
	ExpiresIn int64  `json:"expiresIn"`
	Method    string `json:"method"`
	// Headers must all be sent, with exactly these values, for the
	// signature to match.
	Headers map[string]string `json:"headers"`
}

// uploadURLInput tells a missing field from an empty one.
type uploadURLInput struct {
	FileName       *string `json:"fileName"`
	ContentType    *string `json:"contentType"`
	Size           *int64  `json:"size"`
	ChecksumSHA256 *string `json:"checksumSHA256"`
}

type decoder func(events.APIGatewayProxyRequest, any) *apiError

func decodeQuery(req events.APIGatewayProxyRequest, dst any) *apiError {
	in := dst.(*uploadURLInput)
	q := req.QueryStringParameters
	for name, field := range map[string]**string{"fileName": &in.FileName, "contentType": &in.ContentType, "checksumSHA256": &in.ChecksumSHA256} {
		if v, ok := q[name]; ok {
			*field = &v
		}
	}
	if v, ok := q["size"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return badRequest("size %q must be an integer number of bytes", v)
		}
		in.Size = &n
	}
	return nil
}

func (h *Handler) uploadURL(ctx context.Context, req events.APIGatewayProxyRequest, decode decoder) events.APIGatewayProxyResponse {
	var in uploadURLInput
	if err := decode(req, &in); err != nil {
		return errorResponse(err)
	}
	if err := h.checkFile(in.FileName, in.ContentType, in.Size, h.cfg.RequireSize, h.cfg.MaxFileSize); err != nil {
		return errorResponse(err)
	}
	put := &s3.PutObjectInput{
		Bucket:        aws.String(h.cfg.Bucket),
		Key:           aws.String(BuildKey(h.cfg.KeyPrefix, h.newID(), *in.FileName)),
		ContentType:   in.ContentType,
		ContentLength: in.Size,
	}
	if in.ChecksumSHA256 != nil {
		if sum, err := base64.StdEncoding.DecodeString(*in.ChecksumSHA256); err != nil || len(sum) != 32 {
			return errorResponse(badRequest("checksumSHA256 must be the base64 encoding of a 32-byte SHA-256 digest"))
		}
		put.ChecksumSHA256 = in.ChecksumSHA256
	}
	if h.cfg.PreventOverwrite {
		put.IfNoneMatch = aws.String("*")
	}
	signed, err := h.presign.PresignPutObject(ctx, put, s3.WithPresignExpires(h.cfg.Expiry))
	if err != nil {
		h.log.ErrorContext(ctx, "presign put failed", "fileKey", *put.Key, "error", err)
		return errorResponse(errInternal())
	}
	h.log.InfoContext(ctx, "issued upload url", "fileKey", *put.Key, "contentType", *put.ContentType, "size", aws.ToInt64(put.ContentLength))
	return jsonResponse(http.StatusOK, UploadURLResponse{
		UploadURL: signed.URL,
		FileKey:   *put.Key,
		ExpiresIn: int64(h.cfg.Expiry.Seconds()),
		Method:    signed.Method,
		Headers:   clientHeaders(signed.SignedHeader),
	})
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

// checkFile validates what every upload route asks about the file.
func (h *Handler) checkFile(fileName, contentType *string, size *int64, requireSize bool, maxSize int64) *apiError {
	if fileName == nil {
		return badRequest("fileName is required")
	}
	if len(*fileName) > 4096 {
		return badRequest("fileName is longer than 4096 bytes")
	}
	if contentType == nil || *contentType == "" {
		return badRequest("contentType is required")
	}
	mt, err := parseContentType(*contentType)
	if err != nil {
		return badRequest("contentType %q is not a valid media type", *contentType)
	}
	if !h.contentTypeAllowed(mt) {
		return &apiError{http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"content type " + strconv.Quote(mt) + " is not allowed; allowed: " + strings.Join(h.cfg.AllowedContentTypes, ", ")}
	}
	if size == nil {
		if requireSize {
			return badRequest("size is required")
		}
		return nil
	}
	if *size < 1 {
		// An empty body is not an upload, and the SDK drops the signed
		// Content-Type of a zero-length request.
		return badRequest("size %d must be at least 1 byte", *size)
	}
	if *size > maxSize {
		return &apiError{http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"size " + strconv.FormatInt(*size, 10) + " is over the limit of " + strconv.FormatInt(maxSize, 10) + " bytes"}
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

func (h *Handler) contentTypeAllowed(mt string) bool {
	if len(h.cfg.AllowedContentTypes) == 0 {
		return true
	}
	for _, p := range h.cfg.AllowedContentTypes {
		if p == mt || strings.HasSuffix(p, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(p, "*")) {
			return true
		}
	}
	return false
}
