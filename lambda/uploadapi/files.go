package uploadapi

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// The caller's own files; these routes exist only with sign-in, so a
// caller is always known here.

func (h *Handler) listFiles(ctx context.Context, c *call[api.ListFilesRequest]) response {
	in, caller := c.in, c.caller
	maxFiles := int32(1000)
	if in.MaxFiles != nil {
		if *in.MaxFiles < 1 || *in.MaxFiles > 1000 {
			return errorResponse(badRequest("maxFiles %d is outside 1 to 1000", *in.MaxFiles))
		}
		maxFiles = int32(*in.MaxFiles)
	}
	prefix := h.prefixFor(caller)
	list := &s3.ListObjectsV2Input{Bucket: aws.String(h.set.Bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(maxFiles)}
	if in.ContinuationToken != "" {
		list.ContinuationToken = aws.String(in.ContinuationToken)
	}
	out, err := h.bucket.ListObjectsV2(ctx, list)
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidArgument" {
			return errorResponse(badRequest("continuationToken is not one this API returned"))
		}
		h.log.ErrorContext(ctx, "list files failed", "caller", caller, "error", err)
		return errorResponse(errInternal())
	}
	resp := api.ListFilesResponse{Files: make([]api.FileInfo, 0, len(out.Contents))}
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		k, issued := api.ParseKey(h.set.KeyPrefix, key, h.set.SignIn)
		if !issued || k.Owner != caller {
			continue // not an upload of this API's making
		}
		resp.Files = append(resp.Files, api.FileInfo{
			FileKey:      key,
			FileName:     k.FileName,
			Size:         aws.ToInt64(o.Size),
			LastModified: aws.ToTime(o.LastModified).UTC().Format(time.RFC3339),
			ETag:         aws.ToString(o.ETag),
		})
	}
	if aws.ToBool(out.IsTruncated) {
		resp.NextToken = aws.ToString(out.NextContinuationToken)
	}
	return jsonResponse(http.StatusOK, resp)
}

func (h *Handler) downloadURL(ctx context.Context, c *call[api.DownloadURLRequest]) response {
	in := c.in
	if h.set.Verified {
		// Nothing unchecked is served back: only what the verifier passed.
		st, e := h.status(ctx, in.FileKey)
		if e != nil {
			return errorResponse(e)
		}
		switch st.Status {
		case api.StatusPending:
			return errorResponse(&apiError{http.StatusConflict, api.CodeNotVerified, "the file is still being checked; ask again shortly"})
		case api.StatusRejected:
			return errorResponse(&apiError{http.StatusConflict, api.CodeNotVerified, "the file was rejected: " + st.Reason})
		}
	} else if _, err := h.bucket.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(in.FileKey)}); err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && missing(apiErr.ErrorCode()) {
			return errorResponse(&apiError{http.StatusNotFound, api.CodeNotFound, "no such file"})
		}
		h.log.ErrorContext(ctx, "head object failed", "fileKey", in.FileKey, "error", err)
		return errorResponse(errInternal())
	}
	k, _ := api.ParseKey(h.set.KeyPrefix, in.FileKey, h.set.SignIn) // checked by the route
	name := k.FileName
	signed, err := h.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(h.set.Bucket),
		Key:    aws.String(in.FileKey),
		// Always a download, never a page: whatever the stored type, the
		// browser saves the file under its name (RFC 6266, with RFC 5987
		// encoding where the name needs it).
		ResponseContentDisposition: aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": name})),
	}, s3.WithPresignExpires(api.DownloadExpiry))
	if err != nil {
		h.log.ErrorContext(ctx, "presign get failed", "fileKey", in.FileKey, "error", err)
		return errorResponse(errInternal())
	}
	h.log.InfoContext(ctx, "issued download url", requestAttrs(c.req, "fileKey", in.FileKey, "caller", c.caller)...)
	return jsonResponse(http.StatusOK, api.DownloadURLResponse{DownloadURL: signed.URL, FileName: name, ExpiresIn: int64(api.DownloadExpiry.Seconds())})
}

func (h *Handler) deleteFile(ctx context.Context, c *call[api.DeleteFileRequest]) response {
	in := c.in
	del := &s3.DeleteObjectInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(in.FileKey)}
	if in.ETag != "" {
		if !api.ValidETag(in.ETag) {
			return errorResponse(badRequest("etag %q is not an object's ETag", in.ETag))
		}
		// Only the object the caller listed: S3 refuses with 412 if it
		// was replaced since.
		del.IfMatch = aws.String(`"` + unquote(in.ETag) + `"`)
	}
	if _, err := h.bucket.DeleteObject(ctx, del); err != nil {
		var apiErr smithy.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.ErrorCode() == "PreconditionFailed":
			return errorResponse(&apiError{http.StatusPreconditionFailed, api.CodePreconditionFailed,
				"the file changed since it was listed (its ETag differs): nothing was deleted; list the files again"})
		case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NoSuchKey" || apiErr.ErrorCode() == "NotFound") && in.ETag != "":
			return errorResponse(&apiError{http.StatusNotFound, api.CodeNotFound, "no such file"})
		}
		h.log.ErrorContext(ctx, "delete object failed", "fileKey", in.FileKey, "error", err)
		return errorResponse(errInternal())
	}
	h.log.InfoContext(ctx, "deleted file", requestAttrs(c.req, "fileKey", in.FileKey, "caller", c.caller)...)
	return events.APIGatewayProxyResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{}}
}
