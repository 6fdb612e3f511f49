package uploadapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/internal/s3err"
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
		if missing(s3err.Code(err)) {
			return api.UploadStatusResponse{}, "", errNoSuchFile
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

// errNoSuchFile answers a fileKey whose object is not there.
var errNoSuchFile = &apiError{status: http.StatusNotFound, code: api.CodeNotFound, message: "no such file"}

// missing reports whether S3's error code means the object is not there.
// The function's role may list the bucket only under the key prefix, and
// S3 answers a missing key with 404 only to a caller it finds may list the
// bucket, with 403 AccessDenied to any other.
func missing(code string) bool {
	return code == "NoSuchKey" || code == "NotFound" || code == "AccessDenied"
}
