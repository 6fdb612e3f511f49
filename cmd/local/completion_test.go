package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// refuseCompletion answers every completion call with status itself, as a
// WAF or a failing gateway would, and passes everything else through.
type refuseCompletion struct {
	status int
	calls  int
}

func (r *refuseCompletion) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/complete") {
		r.calls++
		return &http.Response{StatusCode: r.status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"message":"Forbidden","code":"WAF"}`)), Request: req}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A completion refused with a 403 or a 5xx keeps every uploaded part: the
// client neither aborts nor forgets the upload, and running it again only
// completes it.
func TestFailedCompletionKeepsTheUpload(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFlow(t, api.UploadSettings{PartSize: 5 << 20}, "")
			path, sum := writeFile(t, 12<<20) // 3 parts
			stateDir := t.TempDir()
			refuse := &refuseCompletion{status: status}
			first := &uploader.Client{API: f.api.URL, Threshold: 1, StateDir: stateDir, HTTP: &http.Client{Transport: refuse}}
			_, err := first.UploadFile(context.Background(), path, "")
			if err == nil || !strings.Contains(err.Error(), "kept") || !strings.Contains(err.Error(), "run the same upload again") {
				t.Fatalf("err = %v, want one saying the upload is kept and how to finish it", err)
			}
			if refuse.calls == 0 {
				t.Fatal("completion was never attempted")
			}
			if entries, _ := os.ReadDir(stateDir); len(entries) != 1 {
				t.Fatalf("resume state = %v, want it kept", entries)
			}
			counter := &countingTransport{}
			second := &uploader.Client{API: f.api.URL, Threshold: 1, StateDir: stateDir, HTTP: &http.Client{Transport: counter}}
			res, err := second.UploadFile(context.Background(), path, "")
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if res.PartsSkipped != 3 || res.PartsSent != 0 || counter.puts.Load() != 0 {
				t.Errorf("second run skipped %d, sent %d parts (%d PUTs), want every part found in S3", res.PartsSkipped, res.PartsSent, counter.puts.Load())
			}
			if got, ok := f.objectSum(res.FileKey); !ok || got != sum {
				t.Error("completed object differs from the source")
			}
		})
	}
}

// A completion that cannot succeed on a retry (412: an object has the key
// and preventOverwrite is on; 413: the API aborted the upload) is not kept.
func TestFinalCompletionRefusalsDropTheUpload(t *testing.T) {
	for _, status := range []int{http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFlow(t, api.UploadSettings{PartSize: 5 << 20}, "")
			path, _ := writeFile(t, 12<<20)
			stateDir := t.TempDir()
			c := &uploader.Client{API: f.api.URL, Threshold: 1, StateDir: stateDir, HTTP: &http.Client{Transport: &refuseCompletion{status: status}}}
			_, err := c.UploadFile(context.Background(), path, "")
			if err == nil || strings.Contains(err.Error(), "kept") {
				t.Fatalf("err = %v, want a refusal that does not say the upload is kept", err)
			}
			if entries, _ := os.ReadDir(stateDir); len(entries) != 0 {
				t.Errorf("resume state %v kept for an upload no retry can finish", entries)
			}
		})
	}
}
