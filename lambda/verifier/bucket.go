package verifier

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/presigned-upload/presigned-upload/lambda/internal/s3err"
)

// head reads the key's current object, with its whole-file checksum and
// the headers it is served with; errStale when there is none.
func (h *Handler) head(ctx context.Context, key string) (object, error) {
	out, err := h.bucket.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(key),
		ChecksumMode: types.ChecksumModeEnabled})
	if s3err.Status(err) == http.StatusNotFound {
		return object{}, errStale
	}
	if err != nil {
		return object{}, fmt.Errorf("head %s: %w", key, err)
	}
	obj := object{key: key, etag: unquote(aws.ToString(out.ETag)), versionID: aws.ToString(out.VersionId),
		size: aws.ToInt64(out.ContentLength), contentType: aws.ToString(out.ContentType), lastModified: aws.ToTime(out.LastModified),
		checksumCRC64NVME: aws.ToString(out.ChecksumCRC64NVME), checksumSHA256: aws.ToString(out.ChecksumSHA256),
		served: map[string]string{
			"Content-Encoding":                aws.ToString(out.ContentEncoding),
			"Content-Disposition":             aws.ToString(out.ContentDisposition),
			"Cache-Control":                   aws.ToString(out.CacheControl),
			"Content-Language":                aws.ToString(out.ContentLanguage),
			"Expires":                         aws.ToString(out.ExpiresString),
			"X-Amz-Website-Redirect-Location": aws.ToString(out.WebsiteRedirectLocation),
		}}
	if obj.versionID == "null" {
		obj.versionID = ""
	}
	return obj, nil
}

// firstBytes reads at most the first sniffLen bytes of obj with one ranged
// GET, pinned to its version or, without versioning, to its ETag: errStale
// when it was replaced since it was read.
func (h *Handler) firstBytes(ctx context.Context, obj object) ([]byte, error) {
	if obj.size == 0 {
		return nil, nil // S3 refuses any range of an empty object
	}
	in := &s3.GetObjectInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(obj.key), Range: aws.String(fmt.Sprintf("bytes=0-%d", sniffLen-1))}
	if obj.versionID != "" {
		in.VersionId = aws.String(obj.versionID)
	} else {
		in.IfMatch = aws.String(`"` + obj.etag + `"`)
	}
	out, err := h.bucket.GetObject(ctx, in)
	switch s3err.Status(err) {
	case http.StatusNotFound, http.StatusPreconditionFailed:
		return nil, errStale
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", obj.key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, sniffLen))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", obj.key, err)
	}
	return b, nil
}

// tags reads obj's tags; errStale when it is gone.
func (h *Handler) tags(ctx context.Context, obj object) ([]types.Tag, error) {
	in := &s3.GetObjectTaggingInput{Bucket: aws.String(h.set.Bucket), Key: aws.String(obj.key)}
	if obj.versionID != "" {
		in.VersionId = aws.String(obj.versionID)
	}
	out, err := h.bucket.GetObjectTagging(ctx, in)
	if s3err.Status(err) == http.StatusNotFound {
		return nil, errStale
	}
	if err != nil {
		return nil, fmt.Errorf("read tags of %s: %w", obj.key, err)
	}
	return out.TagSet, nil
}

// tagValue is the value of the tag named key, "" when there is none.
func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
