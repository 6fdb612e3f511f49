package uploadapi

import (
	"context"
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

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/internal/s3err"
	"github.com/presigned-upload/presigned-upload/lambda/quota"
)

func (h *Handler) startMultipart(ctx context.Context, c *call[api.MultipartStartRequest]) response {
	in, caller := c.in, c.caller
	if err := h.checkFile(in.FileName, in.ContentType, &in.Size, int64(h.set.MaxMultipartSize)); err != nil {
		return errorResponse(err)
	}
	create := &s3.CreateMultipartUploadInput{
		Bucket:      aws.String(h.set.Bucket),
		Key:         aws.String(api.BuildKey(h.prefixFor(caller), h.newID(), in.FileName)),
		ContentType: aws.String(in.ContentType),
	}
	switch in.ChecksumAlgorithm {
	case "":
	case api.ChecksumAlgorithmCRC64NVME:
		// One checksum of the whole file, which S3 compares at completion
		// with the one its parts combine into.
		create.ChecksumAlgorithm = types.ChecksumAlgorithmCrc64nvme
		create.ChecksumType = types.ChecksumTypeFullObject
	case api.ChecksumAlgorithmSHA256:
		create.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
	default:
		return errorResponse(badRequest("checksumAlgorithm %q is not supported; use \"CRC64NVME\", \"SHA256\" or leave it out", in.ChecksumAlgorithm))
	}
	// The declared size, for as long as the upload may live.
	if e := h.reserve(ctx, caller, c.tier, quota.Reservation{Key: *create.Key, Bytes: in.Size, Multipart: true,
		Expires: h.now().Add(multipartLives)}); e != nil {
		return errorResponse(e)
	}
	out, err := h.bucket.CreateMultipartUpload(ctx, create)
	if err != nil {
		h.release(ctx, caller, *create.Key)
		return h.s3Error(ctx, "create multipart upload", *create.Key, err)
	}
	plan := api.PlanParts(in.Size, int64(h.set.PartSize))
	uploadID := aws.ToString(out.UploadId)
	secret := newSecret()
	if err := h.saveSession(ctx, uploadID, session{FileKey: *create.Key, Owner: caller, Size: plan.Size, PartSize: plan.PartSize,
		ChecksumAlgorithm: in.ChecksumAlgorithm, SecretSHA256: secretHash(secret)}); err != nil {
		h.log.ErrorContext(ctx, "write upload session failed", "fileKey", *create.Key, "error", err)
		h.abort(ctx, uploadID, *create.Key, caller, "no session")
		return errorResponse(errInternal())
	}
	h.log.InfoContext(ctx, "started multipart upload", requestAttrs(c.req, "fileKey", *create.Key, "size", plan.Size, "parts", plan.PartCount)...)
	return jsonResponse(http.StatusOK, api.MultipartStartResponse{
		UploadID:     uploadID,
		FileKey:      *create.Key,
		UploadSecret: secret,
		PartSize:     plan.PartSize,
		PartCount:    plan.PartCount,
		ExpiresIn:    int64(h.set.UrlExpiry),
	})
}

func (h *Handler) signParts(ctx context.Context, c *call[api.SignPartsRequest]) response {
	in, uploadID := c.in, c.uploadID
	if in.Size < 1 {
		return errorResponse(badRequest("size %d must be the upload's total size in bytes", in.Size))
	}
	if in.Size > int64(h.set.MaxMultipartSize) {
		return errorResponse(errTooLarge(in.Size, int64(h.set.MaxMultipartSize)))
	}
	if len(in.PartNumbers) == 0 || len(in.PartNumbers) > api.MaxPartsPerRequest {
		return errorResponse(badRequest("partNumbers must list 1 to %d part numbers", api.MaxPartsPerRequest))
	}
	// The size declared at the start fixes every part's length; signing
	// for another would let the parts add up to more.
	sess, e := h.loadSession(ctx, uploadID, in.FileKey, c.caller, c.secret())
	if e != nil {
		return errorResponse(e)
	}
	if in.Size != sess.Size {
		return errorResponse(badRequest("size %d differs from the %d bytes declared when the upload started", in.Size, sess.Size))
	}
	plan := sess.plan()
	seen := make(map[int]bool, len(in.PartNumbers))
	for _, n := range in.PartNumbers {
		if n < 1 || n > plan.PartCount {
			return errorResponse(badRequest("part number %d is outside 1 to %d", n, plan.PartCount))
		}
		if seen[n] {
			return errorResponse(badRequest("part number %d is listed twice", n))
		}
		seen[n] = true
	}
	if e := checkPartChecksums(sess.ChecksumAlgorithm, in); e != nil {
		return errorResponse(e)
	}
	out := api.SignPartsResponse{Parts: make([]api.SignedPart, 0, len(in.PartNumbers)), ExpiresIn: int64(h.set.UrlExpiry)}
	for i, n := range in.PartNumbers {
		part := &s3.UploadPartInput{
			Bucket:        aws.String(h.set.Bucket),
			Key:           aws.String(in.FileKey),
			UploadId:      aws.String(uploadID),
			PartNumber:    aws.Int32(int32(n)),
			ContentLength: aws.Int64(plan.PartLength(n)),
		}
		switch sess.ChecksumAlgorithm {
		case api.ChecksumAlgorithmCRC64NVME:
			part.ChecksumCRC64NVME = aws.String(in.ChecksumsCRC64NVME[i])
		case api.ChecksumAlgorithmSHA256:
			part.ChecksumSHA256 = aws.String(in.ChecksumsSHA256[i])
		}
		signed, err := h.presign.PresignUploadPart(ctx, part, s3.WithPresignExpires(h.set.UrlExpiry.Duration()))
		if err != nil {
			h.log.ErrorContext(ctx, "presign upload part failed", "fileKey", in.FileKey, "part", n, "error", err)
			return errorResponse(errInternal())
		}
		out.Parts = append(out.Parts, api.SignedPart{PartNumber: n, URL: signed.URL, Headers: clientHeaders(signed.SignedHeader)})
	}
	h.log.InfoContext(ctx, "signed parts", "fileKey", in.FileKey, "parts", len(out.Parts))
	return jsonResponse(http.StatusOK, out)
}

// checkPartChecksums checks that a signing request carries one checksum of
// the upload's algorithm per part, and no other.
func checkPartChecksums(algorithm string, in api.SignPartsRequest) *apiError {
	n := len(in.PartNumbers)
	crc, sha := in.ChecksumsCRC64NVME, in.ChecksumsSHA256
	switch algorithm {
	case api.ChecksumAlgorithmCRC64NVME:
		if len(crc) != n || sha != nil {
			return badRequest("checksumsCRC64NVME must have one checksum per part number, and no other checksums: the upload started with checksumAlgorithm CRC64NVME")
		}
		for i, s := range crc {
			if _, ok := api.DecodeCRC64NVME(s); !ok {
				return badRequest("checksumsCRC64NVME[%d] is not a base64 CRC64NVME checksum", i)
			}
		}
	case api.ChecksumAlgorithmSHA256:
		if len(sha) != n || crc != nil {
			return badRequest("checksumsSHA256 must have one digest per part number, and no other checksums: the upload started with checksumAlgorithm SHA256")
		}
		for i, s := range sha {
			if !isSHA256(s) {
				return badRequest("checksumsSHA256[%d] is not a base64 SHA-256 digest", i)
			}
		}
	default:
		if crc != nil || sha != nil {
			return badRequest("part checksums need an upload started with a checksumAlgorithm")
		}
	}
	return nil
}

func (h *Handler) listParts(ctx context.Context, c *call[api.UploadRef]) response {
	if _, e := h.loadSession(ctx, c.uploadID, c.in.FileKey, c.caller, c.secret()); e != nil {
		return errorResponse(e)
	}
	parts, err := h.allParts(ctx, c.in.FileKey, c.uploadID)
	if err != nil {
		return h.s3Error(ctx, "list parts", c.in.FileKey, err)
	}
	return jsonResponse(http.StatusOK, api.ListPartsResponse{Parts: parts})
}

// allParts pages through ListParts.
func (h *Handler) allParts(ctx context.Context, key, uploadID string) ([]api.UploadedPart, error) {
	parts := []api.UploadedPart{}
	in := &s3.ListPartsInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(key), UploadId: aws.String(uploadID), MaxParts: aws.Int32(1000)}
	for {
		out, err := h.bucket.ListParts(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, p := range out.Parts {
			parts = append(parts, api.UploadedPart{
				PartNumber:        int(aws.ToInt32(p.PartNumber)),
				ETag:              aws.ToString(p.ETag),
				Size:              aws.ToInt64(p.Size),
				ChecksumCRC64NVME: aws.ToString(p.ChecksumCRC64NVME),
				ChecksumSHA256:    aws.ToString(p.ChecksumSHA256),
			})
		}
		if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil || len(parts) > api.MaxParts {
			return parts, nil
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
}

func (h *Handler) completeMultipart(ctx context.Context, c *call[api.CompleteRequest]) response {
	in, uploadID := c.in, c.uploadID
	if len(in.Parts) == 0 || len(in.Parts) > api.MaxParts {
		return errorResponse(badRequest("parts must list 1 to %d parts", api.MaxParts))
	}
	for i, p := range in.Parts {
		if i > 0 && p.PartNumber <= in.Parts[i-1].PartNumber {
			return errorResponse(badRequest("parts must be in ascending part-number order without repeats"))
		}
		if !api.ValidETag(p.ETag) {
			return errorResponse(badRequest("parts[%d].etag is not a part ETag", i))
		}
	}
	sess, e := h.loadSession(ctx, uploadID, in.FileKey, c.caller, c.secret())
	if e != nil {
		return errorResponse(e)
	}
	if sess.ChecksumAlgorithm == api.ChecksumAlgorithmCRC64NVME {
		if _, ok := api.DecodeCRC64NVME(in.ChecksumCRC64NVME); !ok {
			return errorResponse(badRequest("checksumCRC64NVME must be the whole file's CRC64NVME checksum: the upload started with checksumAlgorithm CRC64NVME"))
		}
	} else if in.ChecksumCRC64NVME != "" {
		return errorResponse(badRequest("checksumCRC64NVME needs an upload started with checksumAlgorithm CRC64NVME"))
	}
	listed, err := h.allParts(ctx, in.FileKey, uploadID)
	if err != nil {
		if done, ok := h.completedBefore(ctx, sess, in, err); ok {
			return done
		}
		return h.s3Error(ctx, "list parts", in.FileKey, err)
	}
	// What S3 holds must be the plan of the declared size: a part of
	// another length or beyond the last would make another object.
	plan := sess.plan()
	var held int64
	byNumber := make(map[int]api.UploadedPart, len(listed))
	for _, p := range listed {
		byNumber[p.PartNumber] = p
		held += p.Size
	}
	for _, p := range listed {
		if p.PartNumber > plan.PartCount || p.Size != plan.PartLength(p.PartNumber) {
			h.abort(ctx, uploadID, in.FileKey, c.caller, "off-plan part")
			if held > plan.Size {
				return errorResponse(&apiError{status: http.StatusRequestEntityTooLarge, code: api.CodePayloadTooLarge, message: fmt.Sprintf("the parts hold %d bytes, over the %d declared when the upload started; the upload was aborted", held, plan.Size)})
			}
			return errorResponse(&apiError{status: http.StatusBadRequest, code: api.CodeUploadAborted, message: fmt.Sprintf("part %d holds %d bytes where the plan of %d bytes has %d; the upload was aborted",
				p.PartNumber, p.Size, plan.Size, plan.PartLength(p.PartNumber))})
		}
	}
	named := make(map[int]string, len(in.Parts))
	for _, p := range in.Parts {
		named[p.PartNumber] = p.ETag
	}
	var missing []string
	done := make([]types.CompletedPart, 0, plan.PartCount)
	for n := 1; n <= plan.PartCount; n++ {
		got, ok := byNumber[n]
		etag, asked := named[n]
		if !ok || !asked {
			missing = append(missing, strconv.Itoa(n))
			continue
		}
		if unquote(got.ETag) != unquote(etag) {
			return errorResponse(badRequest("part %d's etag does not match the part S3 holds", n))
		}
		cp := types.CompletedPart{PartNumber: aws.Int32(int32(n)), ETag: aws.String(got.ETag)}
		if got.ChecksumCRC64NVME != "" {
			cp.ChecksumCRC64NVME = aws.String(got.ChecksumCRC64NVME)
		}
		if got.ChecksumSHA256 != "" {
			cp.ChecksumSHA256 = aws.String(got.ChecksumSHA256)
		}
		done = append(done, cp)
	}
	for n := range named {
		if n > plan.PartCount {
			return errorResponse(badRequest("part %d is beyond the plan's %d parts", n, plan.PartCount))
		}
	}
	if len(missing) > 0 {
		return errorResponse(badRequest("parts %s of %d are missing (not uploaded or not listed); the upload is kept: send them and complete again",
			strings.Join(missing, ", "), plan.PartCount))
	}
	complete := &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(h.set.Bucket),
		Key:             aws.String(in.FileKey),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	}
	if h.set.PreventOverwrite {
		complete.IfNoneMatch = aws.String("*")
	}
	// S3 itself refuses to assemble another total than the declared one,
	// and, with CRC64NVME, parts that do not make up the declared file.
	complete.MpuObjectSize = aws.Int64(plan.Size)
	if sess.ChecksumAlgorithm == api.ChecksumAlgorithmCRC64NVME {
		complete.ChecksumCRC64NVME = aws.String(in.ChecksumCRC64NVME)
		complete.ChecksumType = types.ChecksumTypeFullObject
	}
	out, err := h.bucket.CompleteMultipartUpload(ctx, complete)
	if err != nil {
		if done, ok := h.completedBefore(ctx, sess, in, err); ok {
			return done
		}
		return h.s3Error(ctx, "complete multipart upload", in.FileKey, err)
	}
	// The session stays, for the lifecycle rule to delete: the client may
	// never get this answer (API Gateway gives up after its timeout, a
	// connection breaks) and send the completion again, which the session
	// lets completedBefore answer.
	h.log.InfoContext(ctx, "completed multipart upload", "fileKey", in.FileKey, "size", plan.Size, "parts", len(done))
	return jsonResponse(http.StatusOK, api.CompleteResponse{FileKey: in.FileKey, ETag: aws.ToString(out.ETag), Size: plan.Size,
		ChecksumCRC64NVME: aws.ToString(out.ChecksumCRC64NVME)})
}

// completedBefore answers a completion S3 cannot do because the upload is
// gone (NoSuchUpload), an object has its key (preventOverwrite's 412) or
// another write to the key is under way (409): when the object at the key
// is the one this upload makes, an earlier completion of it stored the
// object, whose answer the client did not get, and gets now.
//
// The object is found by listing its key: reading it (HeadObject) takes
// s3:GetObject, which the verifier's quarantine denies until the object
// is verified, and right after completion it is not. A listing has the
// object's size, ETag and checksum type but not the checksum itself, so
// the answer repeats the whole-file checksum the request sent: a client
// that retries sends the same request, whose checksum S3 compared with the
// parts when it completed them. Without one (an upload started without
// CRC64NVME) the answer has none.
func (h *Handler) completedBefore(ctx context.Context, sess session, in api.CompleteRequest, err error) (response, bool) {
	switch s3err.Code(err) {
	case "NoSuchUpload", "PreconditionFailed", "ConditionalRequestConflict":
	default:
		return response{}, false
	}
	obj, found, err := h.storedObject(ctx, sess.FileKey)
	if err != nil {
		h.log.WarnContext(ctx, "look for an earlier completion failed", "fileKey", sess.FileKey, "error", err)
		return response{}, false
	}
	if !found || !sess.made(obj) {
		return response{}, false
	}
	h.log.InfoContext(ctx, "completion sent again: the upload was completed before", "fileKey", sess.FileKey, "size", sess.Size)
	return jsonResponse(http.StatusOK, api.CompleteResponse{FileKey: sess.FileKey, ETag: aws.ToString(obj.ETag), Size: sess.Size,
		ChecksumCRC64NVME: in.ChecksumCRC64NVME}), true
}

// abort frees an upload's parts, its session and its quota reservation.
func (h *Handler) abort(ctx context.Context, uploadID, key, caller, why string) {
	if _, err := h.bucket.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(h.set.Bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
	}); err != nil {
		h.log.ErrorContext(ctx, "abort failed", "fileKey", key, "reason", why, "error", err)
		return
	}
	h.dropSession(ctx, uploadID, key)
	h.release(ctx, caller, key)
	h.log.InfoContext(ctx, "aborted multipart upload", "fileKey", key, "reason", why)
}

func (h *Handler) abortMultipart(ctx context.Context, c *call[api.UploadRef]) response {
	key, uploadID := c.in.FileKey, c.uploadID
	if _, e := h.loadSession(ctx, uploadID, key, c.caller, c.secret()); e != nil {
		return errorResponse(e)
	}
	if _, err := h.bucket.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(h.set.Bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
	}); err != nil {
		return h.s3Error(ctx, "abort multipart upload", key, err)
	}
	h.dropSession(ctx, uploadID, key)
	h.release(ctx, c.caller, key)
	h.log.InfoContext(ctx, "aborted multipart upload", "fileKey", key)
	return events.APIGatewayProxyResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{}}
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

// conflictRetryAfter is the Retry-After, in seconds, of a completion that
// met another write to its key: assembling thousands of parts takes S3
// seconds.
const conflictRetryAfter = 5

// s3Refusals are S3's answers about a multipart upload that the client
// caused, passed through with S3's code and message.
var s3Refusals = []apiError{
	{status: http.StatusBadRequest, code: api.CodeBadDigest},
	{status: http.StatusBadRequest, code: api.CodeInvalidPart},
	{status: http.StatusBadRequest, code: api.CodeInvalidPartOrder},
	{status: http.StatusBadRequest, code: api.CodeEntityTooSmall},
	{status: http.StatusBadRequest, code: api.CodeInvalidRequest},
	{status: http.StatusBadRequest, code: api.CodeInvalidArgument},
}

// s3Error maps S3's answer about an upload onto the API's errors: a
// client's mistake keeps S3's code, anything else is logged and hidden.
func (h *Handler) s3Error(ctx context.Context, op, key string, err error) events.APIGatewayProxyResponse {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch code := apiErr.ErrorCode(); code {
		case "NoSuchUpload":
			return errorResponse(&apiError{status: http.StatusNotFound, code: api.CodeNoSuchUpload, message: "no such multipart upload for this fileKey"})
		case "PreconditionFailed":
			// preventOverwrite: an object has this key already. The upload
			// is kept; retrying cannot succeed.
			return errorResponse(&apiError{status: http.StatusPreconditionFailed, code: api.CodePreconditionFailed, message: "an object with this key exists and preventOverwrite is on; the upload is kept and was not completed"})
		case "ConditionalRequestConflict":
			// S3's 409 to a conditional write: another write to the key was
			// under way, most likely this upload's own completion sent again
			// while the first still assembles the parts. S3 says to send the
			// completion again, which completes the upload, finds it
			// completed, or, should S3 have dropped it, answers NoSuchUpload,
			// and the client starts over.
			return errorResponse(&apiError{status: http.StatusServiceUnavailable, code: api.CodeBusy, retryAfter: conflictRetryAfter,
				message: "another write to this key was under way; try again"})
		default:
			for _, r := range s3Refusals {
				if r.code == code {
					r.message = apiErr.ErrorMessage()
					return errorResponse(&r)
				}
			}
		}
	}
	h.log.ErrorContext(ctx, op+" failed", "fileKey", key, "error", err)
	return errorResponse(errInternal())
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }
