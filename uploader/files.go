package uploader

import (
	"context"
	"fmt"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// Files lists the signed-in caller's stored files, every page of them. The
// route exists only on an API that signs callers in, so Token must be set.
func (c *Client) Files(ctx context.Context) ([]api.FileInfo, error) {
	if err := c.CheckAPI(); err != nil {
		return nil, err
	}
	u := &upload{c: c.withDefaults()}
	var out []api.FileInfo
	var req api.ListFilesRequest
	for {
		var page api.ListFilesResponse
		if err := u.api(ctx, api.ListFiles, nil, req, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Files...)
		if page.NextToken == "" {
			return out, nil
		}
		req.ContinuationToken = page.NextToken
	}
}

// Quota asks the API for the caller's quota limits and usage. The route
// exists only on an API with quotas.
func (c *Client) Quota(ctx context.Context) (api.QuotaResponse, error) {
	var out api.QuotaResponse
	if err := c.CheckAPI(); err != nil {
		return out, err
	}
	u := &upload{c: c.withDefaults()}
	err := u.api(ctx, api.Quota, nil, nil, &out)
	return out, err
}

// Status asks the API what the verifier decided about fileKey: pending,
// verified, or rejected with a reason. The route exists only on an API
// whose verifier is on.
func (c *Client) Status(ctx context.Context, fileKey string) (api.UploadStatusResponse, error) {
	var out api.UploadStatusResponse
	if err := c.CheckAPI(); err != nil {
		return out, err
	}
	u := &upload{c: c.withDefaults()}
	err := u.api(ctx, api.UploadStatus, nil, api.UploadRef{FileKey: fileKey}, &out)
	return out, err
}

// WaitChecked polls Status every interval until the verifier has decided
// (verified or rejected) or ctx ends.
func (c *Client) WaitChecked(ctx context.Context, fileKey string, interval time.Duration) (api.UploadStatusResponse, error) {
	for {
		st, err := c.Status(ctx, fileKey)
		if err != nil || st.Status != api.StatusPending {
			return st, err
		}
		if err := sleep(ctx, interval); err != nil {
			return st, fmt.Errorf("%s is still %s: %w", fileKey, st.Status, err)
		}
	}
}
