package uploadapi

import (
	"context"
	"mime"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/internal/s3err"
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
		if s3err.Code(err) == "InvalidArgument" {
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
	var version string // of the object checked; "" without versioning
	if h.set.Verified {
		// Nothing unchecked is served back: only what the verifier passed.
		st, v, e := h.status(ctx, in.FileKey)
		if e != nil {
			return errorResponse(e)
		}
		switch st.Status {
		case api.StatusPending:
			return errorResponse(&apiError{status: http.StatusConflict, code: api.CodeNotVerified, message: "the file is still being checked; ask again shortly"})
		case api.StatusRejected:
			return errorResponse(&apiError{status: http.StatusConflict, code: api.CodeNotVerified, message: "the file was rejected: " + st.Reason})
		}
		version = v
	} else {
		head, err := h.bucket.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(in.FileKey)})
		if err != nil {
			if missing(s3err.Code(err)) {
				return errorResponse(errNoSuchFile)
			}
			h.log.ErrorContext(ctx, "head object failed", "fileKey", in.FileKey, "error", err)
			return errorResponse(errInternal())
		}
		version = aws.ToString(head.VersionId)
	}
	k, _ := api.ParseKey(h.set.KeyPrefix, in.FileKey, h.set.SignIn) // checked by the route
	name := k.FileName
	get := &s3.GetObjectInput{
		Bucket: aws.String(h.set.Bucket),
		Key:    aws.String(in.FileKey),
		// Always a download, never a page: whatever the stored type, the
		// browser saves the file under its name (RFC 6266, with RFC 5987
		// encoding where the name needs it).
		ResponseContentDisposition: aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": name})),
	}
	if version != "" {
		// The version just checked, not whatever the key holds while the
		// URL lives: on a versioned bucket a replacement is a new version,
		// which the check did not see.
		get.VersionId = aws.String(version)
	}
	signed, err := h.presign.PresignGetObject(ctx, get, s3.WithPresignExpires(api.DownloadExpiry))
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
	var size int64 // what the quota gives back
	if h.quota != nil {
		// A verified object's size counts as stored: find it first, and
		// pin the delete to the object found. A pending one's reservation
		// is swept when it expires, a rejected one never counted.
		obj, found, err := h.storedObject(ctx, in.FileKey)
		if err != nil {
			return h.deleteError(ctx, in, err)
		}
		if !found {
			return errorResponse(errNoSuchFile)
		}
		if in.ETag != "" && unquote(aws.ToString(obj.ETag)) != unquote(in.ETag) {
			return errorResponse(errChangedSinceListed)
		}
		st, _, e := h.status(ctx, in.FileKey)
		if e != nil {
			return errorResponse(e)
		}
		if st.Status == api.StatusVerified {
			size = aws.ToInt64(obj.Size)
		}
		del.IfMatch = obj.ETag
	}
	// The bytes are given back before the delete, and taken again if it
	// fails, so that a reconcile in between counts the file once.
	removing := false
	if size > 0 {
		var err error
		if removing, err = h.quota.BeginRemove(ctx, api.LedgerOf(c.caller), in.FileKey, size); err != nil {
			return errorResponse(h.quotaError(ctx, "give back", err))
		}
	}
	_, err := h.bucket.DeleteObject(ctx, del)
	if removing {
		if err := h.quota.EndRemove(ctx, api.LedgerOf(c.caller), in.FileKey, err == nil); err != nil {
			// Its memory of the deletion lapses; a reconcile fixes the rest.
			h.log.WarnContext(ctx, "end a deleted file's quota give-back failed", "fileKey", in.FileKey, "error", err)
		}
	}
	if err != nil {
		return h.deleteError(ctx, in, err)
	}
	h.log.InfoContext(ctx, "deleted file", requestAttrs(c.req, "fileKey", in.FileKey, "caller", c.caller)...)
	return events.APIGatewayProxyResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{}}
}

var errChangedSinceListed = &apiError{status: http.StatusPreconditionFailed, code: api.CodePreconditionFailed,
	message: "the file changed since it was listed (its ETag differs): nothing was deleted; list the files again"}

// storedObject finds key's current object by listing it: reading it
// (HeadObject) takes s3:GetObject, which the bucket's quarantine denies
// the function until the object is verified; a listing is not
// quarantined.
func (h *Handler) storedObject(ctx context.Context, key string) (types.Object, bool, error) {
	out, err := h.bucket.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(h.set.Bucket), Prefix: aws.String(key), MaxKeys: aws.Int32(1)})
	if err != nil {
		return types.Object{}, false, err
	}
	if len(out.Contents) == 0 || aws.ToString(out.Contents[0].Key) != key {
		return types.Object{}, false, nil
	}
	return out.Contents[0], true, nil
}

// deleteError maps S3's answer to a delete, or to the listing before it, onto
// the API's errors.
func (h *Handler) deleteError(ctx context.Context, in api.DeleteFileRequest, err error) response {
	code := s3err.Code(err)
	switch status := s3err.Status(err); {
	case status == http.StatusPreconditionFailed || code == "PreconditionFailed":
		return errorResponse(errChangedSinceListed)
	case (status == http.StatusNotFound || missing(code)) && (in.ETag != "" || h.quota != nil):
		return errorResponse(errNoSuchFile)
	}
	h.log.ErrorContext(ctx, "delete object failed", "fileKey", in.FileKey, "error", err)
	return errorResponse(errInternal())
}
