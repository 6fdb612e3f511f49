package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// The client waits for the verifier's outcome through the status route, as
// upload -wait does: verified for what is what it says, rejected with the
// reason otherwise.
func TestClientWaitsForTheOutcome(t *testing.T) {
	f := newEventFlow(t, api.UploadSettings{Verified: true}, nil)
	dir := t.TempDir()
	c := &uploader.Client{API: f.api.URL, StateDir: t.TempDir()}
	for _, tc := range []struct {
		name   string
		data   []byte
		status string
		reason string
	}{
		{"pixel.png", pixelPNG(t), api.StatusVerified, ""},
		{"page.png", htmlAsPNG, api.StatusRejected, api.ReasonActiveContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := c.UploadFile(context.Background(), path, "image/png")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := c.WaitChecked(ctx, res.FileKey, 50*time.Millisecond)
			if err != nil || st.Status != tc.status || st.Reason != tc.reason {
				t.Errorf("outcome = %+v, %v; want %s %q", st, err, tc.status, tc.reason)
			}
		})
	}
}
