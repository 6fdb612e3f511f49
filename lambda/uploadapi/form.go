package uploadapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// UploadFormRequest asks for a browser form upload (a pre-signed POST).
type UploadFormRequest struct {
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
}

// UploadFormResponse holds the form: POST multipart/form-data to URL with
// Fields first and the file last, in a field named "file".
type UploadFormResponse struct {
	URL       string            `json:"url"`
	Fields    map[string]string `json:"fields"`
	FileKey   string            `json:"fileKey"`
	ExpiresIn int64             `json:"expiresIn"`
	// MaxSize is the largest file S3 accepts through this form.
	MaxSize int64 `json:"maxSize"`
}

func (h *Handler) uploadForm(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	var in uploadURLInput
	if err := decodeBody(req, &in); err != nil {
		return errorResponse(err)
	}
	if in.Size != nil || in.ChecksumSHA256 != nil {
		return errorResponse(badRequest("a form upload takes only fileName and contentType; S3 enforces the size range"))
	}
	if err := h.checkFile(in.FileName, in.ContentType, nil, false, h.cfg.MaxFileSize); err != nil {
		return errorResponse(err)
	}
	key := BuildKey(h.cfg.KeyPrefix, h.newID(), *in.FileName)
	signed, err := h.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String(h.cfg.Bucket), Key: aws.String(key)},
		func(o *s3.PresignPostOptions) {
			o.Expires = h.cfg.Expiry
			// The policy pins the key (added by the SDK), the type and the
			// size range; S3 refuses any form that breaks it.
			o.Conditions = []any{
				map[string]string{"Content-Type": *in.ContentType},
				[]any{"content-length-range", 1, h.cfg.MaxFileSize},
			}
		})
	if err != nil {
		h.log.ErrorContext(ctx, "presign post failed", "fileKey", key, "error", err)
		return errorResponse(errInternal())
	}
	fields := make(map[string]string, len(signed.Values)+1)
	for k, v := range signed.Values {
		fields[k] = v
	}
	fields["Content-Type"] = *in.ContentType
	h.log.InfoContext(ctx, "issued upload form", "fileKey", key, "contentType", *in.ContentType)
	return jsonResponse(http.StatusOK, UploadFormResponse{
		URL: signed.URL, Fields: fields, FileKey: key,
		ExpiresIn: int64(h.cfg.Expiry.Seconds()), MaxSize: h.cfg.MaxFileSize,
	})
}
