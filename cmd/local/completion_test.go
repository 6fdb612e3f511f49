package main

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
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

// loseCompletion passes every call through, and answers the first
// completion, which the API does, as API Gateway answers a call whose
// function outlives its 29 s: 504, though the function goes on and
// completes the upload.
type loseCompletion struct {
	calls atomic.Int32
}

func (l *loseCompletion) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/complete") || l.calls.Add(1) > 1 {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return &http.Response{StatusCode: http.StatusGatewayTimeout, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"message": "Endpoint request timed out"}`)), Request: req}, nil
}

// conflictOnce answers the first completion the handler asks of S3 with
// S3's 409 ConditionalRequestConflict, as S3 does while another write to
// the key is under way, and passes every other call through.
type conflictOnce struct {
	uploadapi.BucketAPI
	done atomic.Bool
}

func (c *conflictOnce) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	if c.done.CompareAndSwap(false, true) {
		return nil, &smithy.GenericAPIError{Code: "ConditionalRequestConflict", Message: "A conflicting conditional operation is currently in progress against this resource."}
	}
	return c.BucketAPI.CompleteMultipartUpload(ctx, in, opts...)
}

// A completion is safe to send again: when its answer was lost after the
// API completed the upload, or S3 answered it with a conflict to retry,
// the client sends it again and the upload succeeds, once, in the same
// object.
func TestCompletionSentAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   api.UploadSettings
		wrap  func(uploadapi.BucketAPI) uploadapi.BucketAPI
		lose  bool
		calls int32 // completions the API answered, when counted
	}{
		{"its answer lost", api.UploadSettings{PartSize: 5 << 20}, nil, true, 2},
		{"its answer lost, with preventOverwrite", api.UploadSettings{PartSize: 5 << 20, PreventOverwrite: true}, nil, true, 2},
		{"S3's conflict", api.UploadSettings{PartSize: 5 << 20, PreventOverwrite: true},
			func(b uploadapi.BucketAPI) uploadapi.BucketAPI { return &conflictOnce{BucketAPI: b} }, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlowOver(t, tc.cfg, "", tc.wrap)
			path, data := randomFile(t, "big.bin", 12<<20) // 3 parts
			stateDir := t.TempDir()
			lose := &loseCompletion{}
			c := &uploader.Client{API: f.api.URL, Threshold: 1, StateDir: stateDir}
			if tc.lose {
				c.HTTP = &http.Client{Transport: lose}
			}
			res, err := c.UploadFile(context.Background(), path, "")
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			if tc.lose && lose.calls.Load() != tc.calls {
				t.Errorf("%d completions sent, want %d", lose.calls.Load(), tc.calls)
			}
			if got, ok := f.objectSum(res.FileKey); !ok || got != sha256.Sum256(data) {
				t.Fatalf("stored object differs from the source (found %v)", ok)
			}
			head, err := f.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(res.FileKey)})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Multipart || res.Size != 12<<20 || res.ETag != aws.ToString(head.ETag) || res.ChecksumCRC64NVME != crcOf(data) {
				t.Errorf("result = %+v, want the stored object's ETag %s, its size and the file's checksum %s", res, aws.ToString(head.ETag), crcOf(data))
			}
			if entries, _ := os.ReadDir(stateDir); len(entries) != 0 {
				t.Errorf("resume state %v kept for a completed upload", entries)
			}
		})
	}
}
