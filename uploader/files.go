package uploader

import (
	"context"

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
