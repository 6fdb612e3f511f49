package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/apigw"
	"github.com/presigned-upload/presigned-upload/cmd/local/s3gw"
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
	gw, err = s3gw.Start("127.0.0.1:0", dir)
	if err != nil {
		panic(err)
	}
	code := m.Run()
	_ = gw.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

var buckets atomic.Int64

// flow is the API stage in front of the real handler, over a fresh bucket
// of the real gateway.
type flow struct {
	t      *testing.T
	api    *httptest.Server
	bucket string
	s3     *s3.Client
	apiKey string
}

func newFlow(t *testing.T, cfg api.Config, apiKey string) *flow {
	t.Helper()
	f := &flow{t: t, bucket: fmt.Sprintf("test-%d", buckets.Add(1)), s3: gw.Client(), apiKey: apiKey}
	cfg.Bucket = f.bucket
	cfg = cfg.WithDefaults()
	if err := s3gw.EnsureBucket(context.Background(), f.s3, f.bucket, cfg.AllowedOrigins); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	h, err := uploadapi.New(cfg, s3.NewPresignClient(f.s3), f.s3, uploadapi.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	stage, err := apigw.New(apigw.Config{Invoke: h.Handle, Routes: api.Routes, Settings: cfg, APIKey: apiKey, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f.api = httptest.NewServer(stage)
	t.Cleanup(f.api.Close)
	return f
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
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

// put sends body to a pre-signed URL with the given headers, as any HTTP
// client would: Content-Length is the body's real length.
func put(t *testing.T, url string, headers map[string]string, body []byte) (int, string) {
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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
