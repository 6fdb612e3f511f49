package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/apigw"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// gw is the one real S3 gateway the tests of this package share; embedgw
// runs one per process.
var gw *s3gw.Server

// pkgDir is this package's directory; the gateway changes the working
// directory to its data root.
var pkgDir string

func TestMain(m *testing.M) {
	var err error
	if pkgDir, err = os.Getwd(); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "s3gw-test-")
	if err != nil {
		panic(err)
	}
	gw, err = s3gw.Start("127.0.0.1:0", dir, s3gw.WithEvents(startNotifications()))
	if err != nil {
		panic(err)
	}
	code := m.Run()
	http.DefaultClient.CloseIdleConnections()
	_ = gw.Stop()
	stopNotifications()
	os.RemoveAll(dir)
	os.Exit(code)
}

var buckets atomic.Int64

// flow is the API stage in front of the real handler, over a fresh bucket
// of the real gateway.
type flow struct {
	t      testing.TB
	api    *httptest.Server
	bucket string
	s3     *s3.Client
	apiKey string
}

// newFlow serves cfg over a fresh bucket; presign options, when given,
// change how the handler signs.
func newFlow(t testing.TB, cfg api.UploadSettings, apiKey string, presign ...func(*s3.PresignOptions)) *flow {
	t.Helper()
	return newFlowOver(t, cfg, apiKey, nil, presign...)
}

// newFlowOver is newFlow with the handler's calls to S3 going through
// wrap, when set: a test can have S3 answer what the gateway cannot be
// made to.
func newFlowOver(t testing.TB, cfg api.UploadSettings, apiKey string, wrap func(uploadapi.BucketAPI) uploadapi.BucketAPI, presign ...func(*s3.PresignOptions)) *flow {
	t.Helper()
	f := &flow{t: t, bucket: fmt.Sprintf("test-%d", buckets.Add(1)), s3: gw.Client(), apiKey: apiKey}
	cfg.Bucket = f.bucket
	cfg = cfg.WithDefaults()
	if err := s3gw.EnsureBucket(context.Background(), f.s3, f.bucket, cfg); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	var bucket uploadapi.BucketAPI = f.s3
	if wrap != nil {
		bucket = wrap(bucket)
	}
	h, err := uploadapi.New(cfg, s3.NewPresignClient(f.s3, presign...), bucket, uploadapi.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	stage, err := apigw.New(apigw.Config{Invoke: h.Handle, Settings: cfg, APIKey: apiKey, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f.api = httptest.NewServer(stage)
	t.Cleanup(f.api.Close)
	return f
}

// uploadSecrets are the secrets of the multipart uploads the tests
// started, by upload ID: like a client, the tests' calls about an upload
// send its secret unless they set the header themselves.
var uploadSecrets sync.Map

// rememberSecret keeps the secret of an upload a start answered.
func rememberSecret(method, path string, status int, body []byte) {
	if method != http.MethodPost || strings.TrimSuffix(path, "/") != api.StartMultipart.Resource || status != http.StatusOK {
		return
	}
	var started api.MultipartStartResponse
	if json.Unmarshal(body, &started) == nil && started.UploadID != "" {
		uploadSecrets.Store(started.UploadID, started.UploadSecret)
	}
}

// setSecret sets the secret of the upload path is about, when it is one
// the tests started and the header is not set already.
func setSecret(req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, "/multipart/")
	if !ok || req.Header.Get(api.UploadSecretHeader) != "" {
		return
	}
	id, _, _ := strings.Cut(rest, "/")
	if id, err := url.PathUnescape(id); err == nil {
		if secret, ok := uploadSecrets.Load(id); ok {
			req.Header.Set(api.UploadSecretHeader, secret.(string))
		}
	}
}

// call sends a request to the API and returns the status and body.
func (f *flow) call(method, path, body string, headers map[string]string) (int, http.Header, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.api.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.apiKey != "" {
		req.Header.Set("X-Api-Key", f.apiKey)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	setSecret(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	rememberSecret(method, path, resp.StatusCode, b)
	return resp.StatusCode, resp.Header, b
}

// uploadURL asks the API for an upload URL.
func (f *flow) uploadURL(req any) api.UploadURLResponse {
	f.t.Helper()
	body, _ := json.Marshal(req)
	status, _, b := f.call("POST", api.UploadURL.Resource, string(body), nil)
	if status != 200 {
		f.t.Fatalf("POST %s = %d %s", api.UploadURL.Resource, status, b)
	}
	var out api.UploadURLResponse
	if err := json.Unmarshal(b, &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// putRequest is a PUT of body to a pre-signed URL with the given headers,
// as any HTTP client sends it: Content-Length is the body's real length.
func putRequest(t *testing.T, url string, headers map[string]string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest("PUT", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if !strings.EqualFold(k, "Content-Length") {
			req.Header.Set(k, v)
		}
	}
	return req
}

// put sends an upload S3 should accept and returns its status and body.
func put(t *testing.T, url string, headers map[string]string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(putRequest(t, url, headers, body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// expectRefused checks that S3 refused an upload, given what the client
// got back: status want, or a cut connection, as a server may answer before
// reading the whole body and close it. It returns S3's answer, "" when the
// connection was cut. Callers then prove that nothing was stored.
func expectRefused(t *testing.T, resp *http.Response, err error, want int) string {
	t.Helper()
	if err != nil {
		// A reset or close while the body is being written; net.ErrClosed
		// when the transport's reader saw it first and closed the connection
		// under the writer.
		cut := false
		for _, e := range []error{syscall.ECONNRESET, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF, net.ErrClosed} {
			cut = cut || errors.Is(err, e)
		}
		if !cut {
			t.Fatalf("upload failed with %v, want status %d or a cut connection", err, want)
		}
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Errorf("upload = %d %s, want %d", resp.StatusCode, b, want)
	}
	return string(b)
}

// partNumbers lists the parts S3 holds for an upload, straight from S3.
func (f *flow) partNumbers(key, uploadID string) []int32 {
	f.t.Helper()
	out, err := f.s3.ListParts(context.Background(), &s3.ListPartsInput{Bucket: aws.String(f.bucket), Key: aws.String(key), UploadId: aws.String(uploadID)})
	if err != nil {
		f.t.Fatalf("list parts of %s: %v", key, err)
	}
	var nums []int32
	for _, p := range out.Parts {
		nums = append(nums, aws.ToInt32(p.PartNumber))
	}
	return nums
}

// object reads a stored object; ok is false when there is none.
func (f *flow) object(key string) (data []byte, contentType string, ok bool) {
	f.t.Helper()
	out, err := f.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	var missing *types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, "", false
	}
	if err != nil {
		f.t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	data, err = io.ReadAll(out.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return data, aws.ToString(out.ContentType), true
}

func int64p(n int) *int64 { v := int64(n); return &v }
