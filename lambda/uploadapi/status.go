package uploadapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// uploadStatus answers what the verifier decided about a stored object,
// from the tags it writes: pending until it has.
func (h *Handler) uploadStatus(ctx context.Context, c *call[api.UploadRef]) response {
	st, _, e := h.status(ctx, c.in.FileKey)
	if e != nil {
		return errorResponse(e)
	}
	return jsonResponse(http.StatusOK, st)
}

// status reads the verifier's tags of key, and the version they are the
// tags of ("" on a bucket without versioning).
func (h *Handler) status(ctx context.Context, key string) (api.UploadStatusResponse, string, *apiError) {
	out, err := h.bucket.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(key)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && missing(apiErr.ErrorCode()) {
			return api.UploadStatusResponse{}, "", &apiError{status: http.StatusNotFound, code: api.CodeNotFound, message: "no such file"}
		}
		h.log.ErrorContext(ctx, "read tags failed", "fileKey", key, "error", err)
		return api.UploadStatusResponse{}, "", errInternal()
	}
	st := api.UploadStatusResponse{Status: api.StatusPending}
	for _, t := range out.TagSet {
		switch aws.ToString(t.Key) {
		case api.StatusTag:
			if v := aws.ToString(t.Value); v == api.StatusVerified || v == api.StatusRejected {
				st.Status = v
			}
		case api.ReasonTag:
			st.Reason = aws.ToString(t.Value)
		}
	}
	if st.Status != api.StatusRejected {
		st.Reason = ""
	}
	return st, aws.ToString(out.VersionId), nil
}

// missing reports whether S3's error code means the object is not there.
// The function's role may list the bucket only under the key prefix, and
// S3 answers a missing key with 404 only to a caller it finds may list the
// bucket, with 403 AccessDenied to any other.
func missing(code string) bool {
	return code == "NoSuchKey" || code == "NotFound" || code == "AccessDenied"
}
