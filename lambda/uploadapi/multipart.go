package uploadapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Plan is how a multipart upload of Size bytes is cut: PartCount parts of
// PartSize bytes, the last one shorter.
type Plan struct {
	Size      int64
	PartSize  int64
	PartCount int
}

// PlanParts plans an upload of size bytes with parts of preferred bytes,
// raised (to a whole MiB) when more than 10,000 parts would be needed.
func PlanParts(size, preferred int64) Plan {
	ps := max(preferred, MinPartSize)
	if need := ceilDiv(size, MaxParts); need > ps {
		ps = ceilDiv(need, 1<<20) << 20
	}
	return Plan{Size: size, PartSize: ps, PartCount: int(ceilDiv(size, ps))}
}

// PartLength returns the exact byte count of part n (1-based).
func (p Plan) PartLength(n int) int64 {
	if n < p.PartCount {
		return p.PartSize
	}
	return p.Size - int64(p.PartCount-1)*p.PartSize
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// MultipartStartRequest starts a multipart upload.
type MultipartStartRequest struct {
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	// ChecksumAlgorithm "SHA256" makes S3 require and verify a SHA-256 of
	// every part; each part's checksum is then signed into its URL.
	ChecksumAlgorithm string `json:"checksumAlgorithm,omitempty"`
}

// MultipartStartResponse is the started upload and its plan.
type MultipartStartResponse struct {
	UploadID  string `json:"uploadId"`
	FileKey   string `json:"fileKey"`
	PartSize  int64  `json:"partSize"`
	PartCount int    `json:"partCount"`
	ExpiresIn int64  `json:"expiresIn"`
}

// SignPartsRequest asks for URLs for up to 1,000 parts.
type SignPartsRequest struct {
	FileKey string `json:"fileKey"`
	// Size is the upload's total size, as given when it was started; it
	// fixes every part's length.
	Size        int64 `json:"size"`
	PartNumbers []int `json:"partNumbers"`
	// ChecksumsSHA256 are the base64 SHA-256 digests of the parts, in the
	// order of PartNumbers; required when the upload was started with
	// checksumAlgorithm SHA256.
	ChecksumsSHA256 []string `json:"checksumsSHA256,omitempty"`
}

// SignedPart is the URL and headers for one part.
type SignedPart struct {
	PartNumber int               `json:"partNumber"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
}

// SignPartsResponse holds the signed parts.
type SignPartsResponse struct {
	Parts     []SignedPart `json:"parts"`
	ExpiresIn int64        `json:"expiresIn"`
}

// UploadedPart is a part S3 holds.
type UploadedPart struct {
	PartNumber     int    `json:"partNumber"`
	ETag           string `json:"etag"`
	Size           int64  `json:"size"`
	ChecksumSHA256 string `json:"checksumSHA256,omitempty"`
}

// ListPartsResponse lists the parts S3 holds, by part number.
type ListPartsResponse struct {
	Parts []UploadedPart `json:"parts"`
}

// CompletedPart names a part to assemble.
type CompletedPart struct {
	PartNumber int    `json:"partNumber"`
	ETag       string `json:"etag"`
}

// CompleteRequest assembles the parts into the object.
type CompleteRequest struct {
	FileKey string          `json:"fileKey"`
	Parts   []CompletedPart `json:"parts"`
}

// CompleteResponse describes the stored object.
type CompleteResponse struct {
	FileKey string `json:"fileKey"`
	ETag    string `json:"etag"`
	Size    int64  `json:"size"`
}

type multipartStartInput struct {
	FileName          *string `json:"fileName"`
	ContentType       *string `json:"contentType"`
	Size              *int64  `json:"size"`
	ChecksumAlgorithm string  `json:"checksumAlgorithm"`
}

func (h *Handler) startMultipart(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	var in multipartStartInput
	if err := decodeBody(req, &in); err != nil {
		return errorResponse(err)
	}
	if err := h.checkFile(in.FileName, in.ContentType, in.Size, true, h.cfg.MaxMultipartSize); err != nil {
		return errorResponse(err)
	}
	create := &s3.CreateMultipartUploadInput{
		Bucket:      aws.String(h.cfg.Bucket),
		Key:         aws.String(BuildKey(h.cfg.KeyPrefix, h.newID(), *in.FileName)),
		ContentType: in.ContentType,
	}
	switch in.ChecksumAlgorithm {
	case "":
	case "SHA256":
		create.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
	default:
		return errorResponse(badRequest("checksumAlgorithm %q is not supported; use \"SHA256\" or leave it out", in.ChecksumAlgorithm))
	}
	out, err := h.multipart.CreateMultipartUpload(ctx, create)
	if err != nil {
		return h.s3Error(ctx, "create multipart upload", *create.Key, err)
	}
	plan := PlanParts(*in.Size, h.cfg.PartSize)
	h.log.InfoContext(ctx, "started multipart upload", "fileKey", *create.Key, "size", plan.Size, "parts", plan.PartCount)
	return jsonResponse(http.StatusOK, MultipartStartResponse{
		UploadID:  aws.ToString(out.UploadId),
		FileKey:   *create.Key,
		PartSize:  plan.PartSize,
		PartCount: plan.PartCount,
		ExpiresIn: int64(h.cfg.Expiry.Seconds()),
	})
}

func (h *Handler) signParts(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	var in SignPartsRequest
	uploadID, e := h.target(req, &in, func() string { return in.FileKey })
	if e != nil {
		return errorResponse(e)
	}
	if in.Size < 1 {
		return errorResponse(badRequest("size is required: the upload's total size in bytes"))
	}
	if in.Size > h.cfg.MaxMultipartSize {
		return errorResponse(&apiError{http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"size " + strconv.FormatInt(in.Size, 10) + " is over the limit of " + strconv.FormatInt(h.cfg.MaxMultipartSize, 10) + " bytes"})
	}
	plan := PlanParts(in.Size, h.cfg.PartSize)
	if len(in.PartNumbers) == 0 || len(in.PartNumbers) > MaxPartsPerRequest {
		return errorResponse(badRequest("partNumbers must list 1 to %d part numbers", MaxPartsPerRequest))
	}
	if in.ChecksumsSHA256 != nil && len(in.ChecksumsSHA256) != len(in.PartNumbers) {
		return errorResponse(badRequest("checksumsSHA256 must have one digest per part number"))
	}
	seen := make(map[int]bool, len(in.PartNumbers))
	for i, n := range in.PartNumbers {
		if n < 1 || n > plan.PartCount {
			return errorResponse(badRequest("part number %d is outside 1 to %d", n, plan.PartCount))
		}
		if seen[n] {
			return errorResponse(badRequest("part number %d is listed twice", n))
		}
		seen[n] = true
		if in.ChecksumsSHA256 != nil {
			if sum, err := base64.StdEncoding.DecodeString(in.ChecksumsSHA256[i]); err != nil || len(sum) != 32 {
				return errorResponse(badRequest("checksumsSHA256[%d] is not a base64 SHA-256 digest", i))
			}
		}
	}
	out := SignPartsResponse{Parts: make([]SignedPart, 0, len(in.PartNumbers)), ExpiresIn: int64(h.cfg.Expiry.Seconds())}
	for i, n := range in.PartNumbers {
		part := &s3.UploadPartInput{
			Bucket:        aws.String(h.cfg.Bucket),
			Key:           aws.String(in.FileKey),
			UploadId:      aws.String(uploadID),
			PartNumber:    aws.Int32(int32(n)),
			ContentLength: aws.Int64(plan.PartLength(n)),
		}
		if in.ChecksumsSHA256 != nil {
			part.ChecksumSHA256 = aws.String(in.ChecksumsSHA256[i])
		}
		signed, err := h.presign.PresignUploadPart(ctx, part, s3.WithPresignExpires(h.cfg.Expiry))
		if err != nil {
			h.log.ErrorContext(ctx, "presign upload part failed", "fileKey", in.FileKey, "part", n, "error", err)
			return errorResponse(errInternal())
		}
		out.Parts = append(out.Parts, SignedPart{PartNumber: n, URL: signed.URL, Headers: clientHeaders(signed.SignedHeader)})
	}
	h.log.InfoContext(ctx, "signed parts", "fileKey", in.FileKey, "parts", len(out.Parts))
	return jsonResponse(http.StatusOK, out)
}

func (h *Handler) listParts(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	key := req.QueryStringParameters["fileKey"]
	uploadID, e := h.target(req, nil, func() string { return key })
	if e != nil {
		return errorResponse(e)
	}
	parts, err := h.allParts(ctx, key, uploadID)
	if err != nil {
		return h.s3Error(ctx, "list parts", key, err)
	}
	return jsonResponse(http.StatusOK, ListPartsResponse{Parts: parts})
}

// allParts pages through ListParts.
func (h *Handler) allParts(ctx context.Context, key, uploadID string) ([]UploadedPart, error) {
	parts := []UploadedPart{}
	in := &s3.ListPartsInput{Bucket: aws.String(h.cfg.Bucket), Key: aws.String(key), UploadId: aws.String(uploadID), MaxParts: aws.Int32(1000)}
	for {
		out, err := h.multipart.ListParts(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, p := range out.Parts {
			parts = append(parts, UploadedPart{
				PartNumber:     int(aws.ToInt32(p.PartNumber)),
				ETag:           aws.ToString(p.ETag),
				Size:           aws.ToInt64(p.Size),
				ChecksumSHA256: aws.ToString(p.ChecksumSHA256),
			})
		}
		if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil || len(parts) > MaxParts {
			return parts, nil
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
}

func (h *Handler) completeMultipart(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	var in CompleteRequest
	uploadID, e := h.target(req, &in, func() string { return in.FileKey })
	if e != nil {
		return errorResponse(e)
	}
	if len(in.Parts) == 0 || len(in.Parts) > MaxParts {
		return errorResponse(badRequest("parts must list 1 to %d parts", MaxParts))
	}
	for i, p := range in.Parts {
		if i > 0 && p.PartNumber <= in.Parts[i-1].PartNumber {
			return errorResponse(badRequest("parts must be in ascending part-number order without repeats"))
		}
	}
	listed, err := h.allParts(ctx, in.FileKey, uploadID)
	if err != nil {
		return h.s3Error(ctx, "list parts", in.FileKey, err)
	}
	byNumber := make(map[int]UploadedPart, len(listed))
	for _, p := range listed {
		byNumber[p.PartNumber] = p
	}
	var total int64
	done := make([]types.CompletedPart, 0, len(in.Parts))
	for _, p := range in.Parts {
		got, ok := byNumber[p.PartNumber]
		if !ok || unquote(got.ETag) != unquote(p.ETag) {
			return errorResponse(badRequest("part %d was not uploaded or its etag does not match", p.PartNumber))
		}
		total += got.Size
		cp := types.CompletedPart{PartNumber: aws.Int32(int32(p.PartNumber)), ETag: aws.String(got.ETag)}
		if got.ChecksumSHA256 != "" {
			cp.ChecksumSHA256 = aws.String(got.ChecksumSHA256)
		}
		done = append(done, cp)
	}
	if total > h.cfg.MaxMultipartSize {
		// Never assemble an oversize object; free the parts instead.
		if _, err := h.multipart.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(h.cfg.Bucket), Key: aws.String(in.FileKey), UploadId: aws.String(uploadID),
		}); err != nil {
			h.log.ErrorContext(ctx, "abort oversize upload failed", "fileKey", in.FileKey, "error", err)
		}
		return errorResponse(&apiError{http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			fmt.Sprintf("the parts add up to %d bytes, over the limit of %d; the upload was aborted", total, h.cfg.MaxMultipartSize)})
	}
	out, err := h.multipart.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(h.cfg.Bucket),
		Key:             aws.String(in.FileKey),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		return h.s3Error(ctx, "complete multipart upload", in.FileKey, err)
	}
	h.log.InfoContext(ctx, "completed multipart upload", "fileKey", in.FileKey, "size", total, "parts", len(done))
	return jsonResponse(http.StatusOK, CompleteResponse{FileKey: in.FileKey, ETag: aws.ToString(out.ETag), Size: total})
}

func (h *Handler) abortMultipart(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	key := req.QueryStringParameters["fileKey"]
	uploadID, e := h.target(req, nil, func() string { return key })
	if e != nil {
		return errorResponse(e)
	}
	if _, err := h.multipart.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(h.cfg.Bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
	}); err != nil {
		return h.s3Error(ctx, "abort multipart upload", key, err)
	}
	h.log.InfoContext(ctx, "aborted multipart upload", "fileKey", key)
	return events.APIGatewayProxyResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{}}
}

// target reads which upload a request is about: the uploadId from the path,
// the JSON body (when body is not nil) and then the fileKey that key reports.
func (h *Handler) target(req events.APIGatewayProxyRequest, body any, key func() string) (string, *apiError) {
	uploadID, e := h.uploadID(req)
	if e != nil {
		return "", e
	}
	if body != nil {
		if e := decodeBody(req, body); e != nil {
			return "", e
		}
	}
	return uploadID, h.checkKey(key())
}

// checkKey accepts only keys this API could have issued.
func (h *Handler) checkKey(key string) *apiError {
	if key == "" {
		return badRequest("fileKey is required")
	}
	if !IsIssuedKey(h.cfg.KeyPrefix, key) {
		return badRequest("fileKey %q is not a key this API issued", key)
	}
	return nil
}

func (h *Handler) uploadID(req events.APIGatewayProxyRequest) (string, *apiError) {
	// S3 servers that keep uploads in directories (versitygw's posix
	// backend) join the ID into a file path: no separators, no dot-only
	// names. S3's own IDs, UUIDs and base64 IDs all fit.
	id := req.PathParameters["uploadId"]
	ok := len(id) <= 1024 && strings.Trim(id, ".") != ""
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-~=+", c) >= 0
	}
	if !ok {
		return "", badRequest("uploadId is missing or malformed")
	}
	return id, nil
}

// s3Error maps S3's answer about an upload onto the API's errors: a
// client's mistake keeps S3's code, anything else is logged and hidden.
func (h *Handler) s3Error(ctx context.Context, op, key string, err error) events.APIGatewayProxyResponse {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch code := apiErr.ErrorCode(); code {
		case "NoSuchUpload":
			return errorResponse(&apiError{http.StatusNotFound, code, "no such multipart upload for this fileKey"})
		case "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidRequest", "BadDigest", "InvalidArgument":
			return errorResponse(&apiError{http.StatusBadRequest, code, apiErr.ErrorMessage()})
		}
	}
	h.log.ErrorContext(ctx, op+" failed", "fileKey", key, "error", err)
	return errorResponse(errInternal())
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }
