package uploadapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/quota"
)

func (h *Handler) uploadForm(ctx context.Context, c *call[api.UploadFormRequest]) response {
	if h.set.PreventOverwrite {
		// S3 cannot make a POST upload conditional: a replayed form would
		// replace the object.
		return errorResponse(&apiError{status: http.StatusBadRequest, code: api.CodeFormUnavailable, message: "form uploads are off because preventOverwrite is on (S3 has no conditional POST); use " + api.UploadURL.String()})
	}
	in := c.in
	if err := h.checkFile(in.FileName, in.ContentType, nil, int64(h.set.MaxFileSize)); err != nil {
		return errorResponse(err)
	}
	key := api.BuildKey(h.prefixFor(c.caller), h.newID(), in.FileName)
	// A form may store up to its range's maximum.
	if e := h.reserve(ctx, c.caller, c.tier, quota.Reservation{Key: key, Bytes: int64(h.set.MaxFileSize),
		Expires: h.urlReservationEnds()}); e != nil {
		return errorResponse(e)
	}
	signed, err := h.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(key)},
		func(o *s3.PresignPostOptions) {
			o.Expires = h.set.UrlExpiry.Duration()
			// The policy pins the key (added by the SDK), the type and the
			// size range; S3 refuses any form that breaks it.
			o.Conditions = []any{
				map[string]string{"Content-Type": in.ContentType},
				[]any{"content-length-range", 1, int64(h.set.MaxFileSize)},
			}
		})
	if err != nil {
		h.log.ErrorContext(ctx, "presign post failed", "fileKey", key, "error", err)
		h.release(ctx, c.caller, key)
		return errorResponse(errInternal())
	}
	fields := make(map[string]string, len(signed.Values)+1)
	for k, v := range signed.Values {
		fields[k] = v
	}
	fields["Content-Type"] = in.ContentType
	h.log.InfoContext(ctx, "issued upload form", requestAttrs(c.req, "fileKey", key, "contentType", in.ContentType)...)
	return jsonResponse(http.StatusOK, api.UploadFormResponse{
		URL: signed.URL, Fields: fields, FileKey: key,
		ExpiresIn: int64(h.set.UrlExpiry), MaxSize: int64(h.set.MaxFileSize),
	})
}
