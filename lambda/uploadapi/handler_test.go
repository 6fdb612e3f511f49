package uploadapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// testPresigner is the real SDK presign client; signing needs no network.
func testPresigner() *s3.PresignClient {
	return s3.NewPresignClient(s3.New(s3.Options{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		UsePathStyle: false,
	}))
}

func newHandler(t *testing.T, cfg api.UploadSettings) (*uploadapi.Handler, *bytes.Buffer) {
	t.Helper()
	if cfg.Bucket == "" {
		cfg.Bucket = "upload-bucket"
	}
	var logs bytes.Buffer
	h, err := uploadapi.New(cfg, testPresigner(), nil, uploadapi.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h, &logs
}

func post(body string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{Resource: "/get-upload-url", Path: "/get-upload-url", HTTPMethod: "POST", Body: body,
		Headers: map[string]string{"content-type": "application/json"}}
}

func call(t *testing.T, h *uploadapi.Handler, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned error %v; it must always answer with a response", err)
	}
	return resp
}

func decodeOK(t *testing.T, resp events.APIGatewayProxyResponse) api.UploadURLResponse {
	t.Helper()
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, resp.Body)
	}
	var out api.UploadURLResponse
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatalf("decode %s: %v", resp.Body, err)
	}
	return out
}

// signedHeaders returns the sorted X-Amz-SignedHeaders of a pre-signed URL.
func signedHeaders(t *testing.T, rawURL string) []string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	return strings.Split(u.Query().Get("X-Amz-SignedHeaders"), ";")
}

func TestUploadURLSignsExactlyWhatItPromises(t *testing.T) {
	sum := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name        string
		cfg         api.UploadSettings
		req         events.APIGatewayProxyRequest
		wantHeaders map[string]string
	}{
		{
			name:        "tutorial request needs only Content-Type",
			req:         post(`{"fileName":"myfile.pdf","contentType":"application/pdf"}`),
			wantHeaders: map[string]string{"Content-Type": "application/pdf"},
		},
		{
			name:        "size signs Content-Length",
			req:         post(`{"fileName":"a.txt","contentType":"text/plain","size":12}`),
			wantHeaders: map[string]string{"Content-Type": "text/plain", "Content-Length": "12"},
		},
		{
			name:        "checksum signs x-amz-checksum-sha256",
			req:         post(`{"fileName":"a.txt","contentType":"text/plain","size":3,"checksumSHA256":"` + sum + `"}`),
			wantHeaders: map[string]string{"Content-Type": "text/plain", "Content-Length": "3", "X-Amz-Checksum-Sha256": sum},
		},
		{
			name:        "a CRC64NVME signs x-amz-checksum-crc64nvme",
			req:         post(`{"fileName":"a.txt","contentType":"text/plain","size":9,"checksumCRC64NVME":"rosUhgp5mIg="}`),
			wantHeaders: map[string]string{"Content-Type": "text/plain", "Content-Length": "9", "X-Amz-Checksum-Crc64nvme": "rosUhgp5mIg="},
		},
		{
			name:        "PreventOverwrite signs If-None-Match",
			cfg:         api.UploadSettings{PreventOverwrite: true, RequireSize: true},
			req:         post(`{"fileName":"a.txt","contentType":"text/plain","size":3}`),
			wantHeaders: map[string]string{"Content-Type": "text/plain", "Content-Length": "3", "If-None-Match": "*"},
		},
		{
			name: "GET with query strings",
			req: events.APIGatewayProxyRequest{Resource: "/get-upload-url", HTTPMethod: "GET",
				QueryStringParameters: map[string]string{"fileName": "x.png", "contentType": "image/png", "size": "10"}},
			wantHeaders: map[string]string{"Content-Type": "image/png", "Content-Length": "10"},
		},
		{
			name:        "content type parameters are kept verbatim",
			req:         post(`{"fileName":"a.txt","contentType":"text/plain; charset=utf-8"}`),
			wantHeaders: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, tc.cfg)
			out := decodeOK(t, call(t, h, tc.req))
			if out.Method != "PUT" {
				t.Errorf("method = %q, want PUT", out.Method)
			}
			if !mapsEqual(out.Headers, tc.wantHeaders) {
				t.Errorf("headers = %v, want %v", out.Headers, tc.wantHeaders)
			}
			var want []string
			for k := range tc.wantHeaders {
				want = append(want, strings.ToLower(k))
			}
			want = append(want, "host")
			slices.Sort(want)
			if got := signedHeaders(t, out.UploadURL); !slices.Equal(got, want) {
				t.Errorf("X-Amz-SignedHeaders = %v, want %v", got, want)
			}
			if out.ExpiresIn != 300 {
				t.Errorf("expiresIn = %d, want 300", out.ExpiresIn)
			}
			u, _ := url.Parse(out.UploadURL)
			if got := u.Query().Get("X-Amz-Expires"); got != "300" {
				t.Errorf("X-Amz-Expires = %q, want 300", got)
			}
			if !api.KeyPattern("uploads/").MatchString(out.FileKey) {
				t.Errorf("fileKey %q does not match the key pattern", out.FileKey)
			}
			if !strings.HasSuffix(u.Path, "/"+out.FileKey) {
				t.Errorf("url path %q does not end with the key %q", u.Path, out.FileKey)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestUploadURLRejectsBadInput(t *testing.T) {
	tests := []struct {
		name     string
		cfg      api.UploadSettings
		req      events.APIGatewayProxyRequest
		status   int
		code     string
		contains string
	}{
		{"malformed JSON", api.UploadSettings{}, post(`{"fileName":`), 400, "BadRequest", "JSON"},
		{"not an object", api.UploadSettings{}, post(`[1,2]`), 400, "BadRequest", "object"},
		{"empty body", api.UploadSettings{}, post(``), 400, "BadRequest", "empty"},
		{"trailing data", api.UploadSettings{}, post(`{"fileName":"a","contentType":"text/plain"} {}`), 400, "BadRequest", "after"},
		{"unknown field", api.UploadSettings{}, post(`{"fileName":"a","contentType":"text/plain","bucket":"x"}`), 400, "BadRequest", "bucket"},
		{"fileName wrong type", api.UploadSettings{}, post(`{"fileName":1,"contentType":"text/plain"}`), 400, "BadRequest", `"fileName" must be a string`},
		{"size wrong type", api.UploadSettings{}, post(`{"fileName":"a","contentType":"text/plain","size":"12"}`), 400, "BadRequest", `"size" must be an integer`},
		{"size fraction", api.UploadSettings{}, post(`{"fileName":"a","contentType":"text/plain","size":1.5}`), 400, "BadRequest", "size"},
		{"size negative", api.UploadSettings{}, post(`{"fileName":"a","contentType":"text/plain","size":-1}`), 400, "BadRequest", "at least 1"},
		{"size zero", api.UploadSettings{}, post(`{"fileName":"a","contentType":"text/plain","size":0}`), 400, "BadRequest", "at least 1"},
		{"missing fileName", api.UploadSettings{}, post(`{"contentType":"text/plain"}`), 400, "BadRequest", "fileName is required"},
		{"missing contentType", api.UploadSettings{}, post(`{"fileName":"a"}`), 400, "BadRequest", "contentType is required"},
		{"invalid contentType", api.UploadSettings{}, post(`{"fileName":"a","contentType":"not a type"}`), 400, "BadRequest", "not a valid media type"},
		{"header injection in contentType", api.UploadSettings{}, post(`{"fileName":"a","contentType":"text/plain\r\nX-Evil: 1"}`), 400, "BadRequest", "media type"},
		{"bad checksum", api.UploadSettings{}, post(`{"fileName":"a","contentType":"text/plain","checksumSHA256":"abc"}`), 400, "BadRequest", "checksumSHA256"},
		{"size required", api.UploadSettings{RequireSize: true}, post(`{"fileName":"a","contentType":"text/plain"}`), 400, "BadRequest", "size is required"},
		{"size null is no size", api.UploadSettings{RequireSize: true}, post(`{"fileName":"a","contentType":"text/plain","size":null}`), 400, "BadRequest", "size is required"},
		{"fileName null is no name", api.UploadSettings{}, post(`{"fileName":null,"contentType":"text/plain"}`), 400, "BadRequest", "fileName is required"},
		{"size required below S3's 5 GiB", api.UploadSettings{MaxFileSize: 100}, post(`{"fileName":"a","contentType":"text/plain"}`), 400, "BadRequest", "size is required"},
		{"size over max", api.UploadSettings{MaxFileSize: 100}, post(`{"fileName":"a","contentType":"text/plain","size":101}`), 413, "PayloadTooLarge", "101"},
		{"type not allowed", api.UploadSettings{AllowedContentTypes: []string{"image/*", "application/pdf"}}, post(`{"fileName":"a","contentType":"text/html"}`), 415, "UnsupportedMediaType", "text/html"},
		{"body over 1 MiB", api.UploadSettings{}, post(`{"fileName":"` + strings.Repeat("a", 1<<20) + `"}`), 413, "PayloadTooLarge", "1 MiB"},
		{"bad size query", api.UploadSettings{}, events.APIGatewayProxyRequest{Resource: "/get-upload-url", HTTPMethod: "GET",
			QueryStringParameters: map[string]string{"fileName": "a", "contentType": "text/plain", "size": "ten"}}, 400, "BadRequest", "size"},
		{"other method", api.UploadSettings{}, events.APIGatewayProxyRequest{Resource: "/get-upload-url", HTTPMethod: "DELETE"}, 405, "MethodNotAllowed", "DELETE"},
		{"unknown route", api.UploadSettings{}, events.APIGatewayProxyRequest{Resource: "/nope", HTTPMethod: "GET"}, 404, "NotFound", "/nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, tc.cfg)
			resp := call(t, h, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.status, resp.Body)
			}
			var e api.ErrorResponse
			if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
				t.Fatalf("error body %q is not JSON: %v", resp.Body, err)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.contains) {
				t.Errorf("error = %+v, want code %s and a message containing %q", e, tc.code, tc.contains)
			}
			if resp.Headers["Content-Type"] != "application/json" || resp.Headers["Access-Control-Allow-Origin"] != "*" {
				t.Errorf("headers = %v, want JSON with CORS", resp.Headers)
			}
		})
	}
}

func TestAllowedContentTypes(t *testing.T) {
	wildcard := []string{"image/*", "application/pdf"}
	active := []string{"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/xsl",
		"text/javascript", "application/javascript", "application/x-javascript", "application/ecmascript",
		"text/ecmascript", "application/rss+xml", "Text/HTML", "text/html; charset=utf-8"}
	tests := []struct {
		name    string
		allowed []string
		types   []string
		want    int
		message string
	}{
		{"listed and wildcard types pass", wildcard, []string{"image/png", "application/pdf", "Application/PDF", "application/pdf; x=y"}, 200, ""},
		{"other types are refused", wildcard, []string{"imagex/png", "application/pdfx", "text/plain"}, 415, "allowed: image/*, application/pdf"},
		{"a wildcard never admits active content", wildcard, []string{"image/svg+xml"}, 415, "name it exactly"},
		{"any type means any passive type", nil, []string{"text/plain", "application/octet-stream", "video/mp4"}, 200, ""},
		{"any type still refuses active content", nil, active, 415, "browsers run it"},
		{"an exact entry admits active content", []string{"image/svg+xml", "text/html"}, []string{"image/svg+xml", "text/html; charset=utf-8"}, 200, ""},
		{"a requested pattern is refused", wildcard, []string{"image/*", "*/*"}, 400, "is a pattern"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, api.UploadSettings{AllowedContentTypes: tc.allowed})
			for _, ct := range tc.types {
				resp := call(t, h, post(`{"fileName":"a","contentType":"`+ct+`"}`))
				if resp.StatusCode != tc.want || !strings.Contains(resp.Body, tc.message) {
					t.Errorf("%s: %d %s, want %d with %q", ct, resp.StatusCode, resp.Body, tc.want, tc.message)
				}
			}
		})
	}
}

func TestCORS(t *testing.T) {
	tests := []struct {
		name      string
		origins   []string
		origin    string
		wantAllow string
		wantVary  bool
	}{
		{"wildcard", []string{"*"}, "https://any.example", "*", false},
		{"listed origin is echoed", []string{"https://a.example", "https://b.example"}, "https://b.example", "https://b.example", true},
		{"unlisted origin gets none", []string{"https://a.example"}, "https://evil.example", "", true},
		{"no origin", []string{"https://a.example"}, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, api.UploadSettings{AllowedOrigins: tc.origins})
			for _, req := range []events.APIGatewayProxyRequest{post(`{"fileName":"a","contentType":"text/plain"}`), post(`{`)} {
				req.Headers["Origin"] = tc.origin
				resp := call(t, h, req)
				if got := resp.Headers["Access-Control-Allow-Origin"]; got != tc.wantAllow {
					t.Errorf("status %d: Access-Control-Allow-Origin = %q, want %q", resp.StatusCode, got, tc.wantAllow)
				}
				if got := resp.Headers["Vary"] == "Origin"; got != tc.wantVary {
					t.Errorf("Vary: Origin present = %v, want %v", got, tc.wantVary)
				}
			}
		})
	}
}

func TestLogsNeverCarryTheSignature(t *testing.T) {
	h, logs := newHandler(t, api.UploadSettings{})
	out := decodeOK(t, call(t, h, post(`{"fileName":"a.txt","contentType":"text/plain"}`)))
	sig := mustQuery(t, out.UploadURL, "X-Amz-Signature")
	if sig == "" || strings.Contains(logs.String(), sig) || strings.Contains(logs.String(), "X-Amz-Signature") {
		t.Errorf("log %q carries the signature", logs.String())
	}
	if !strings.Contains(logs.String(), out.FileKey) {
		t.Errorf("log %q does not name the key it issued", logs.String())
	}
}

func mustQuery(t *testing.T, rawURL, name string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(name)
}

var errPresign = errors.New("signer exploded: secret detail")

// failingPutSigner is the real signer except that signing a PUT fails, for
// tests of the handler's reaction to a signing failure.
type failingPutSigner struct {
	*s3.PresignClient
	err error
}

func (f failingPutSigner) PresignPutObject(context.Context, *s3.PutObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	return nil, f.err
}

func TestInternalErrorHidesDetail(t *testing.T) {
	var logs bytes.Buffer
	h, err := uploadapi.New(api.UploadSettings{Bucket: "b"}, failingPutSigner{testPresigner(), errPresign}, nil,
		uploadapi.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	resp := call(t, h, post(`{"fileName":"a","contentType":"text/plain"}`))
	if resp.StatusCode != 500 || strings.Contains(resp.Body, errPresign.Error()) {
		t.Errorf("got %d %s, want 500 without internal detail", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(logs.String(), errPresign.Error()) {
		t.Errorf("log %q lacks the cause", logs.String())
	}
	if resp.Headers["Access-Control-Allow-Origin"] != "*" {
		t.Errorf("500 lacks CORS headers: %v", resp.Headers)
	}
}

// A body's Content-Type must be JSON: API Gateway validates other types
// against the same model, and the function refuses them on its own too.
func TestRequestBodyMustBeJSON(t *testing.T) {
	h, _ := newHandler(t, api.UploadSettings{})
	for _, tc := range []struct {
		contentType string
		want        int
	}{
		{"application/json", 200}, {"application/json; charset=utf-8", 200}, {"Application/JSON", 200}, {"", 200},
		{"text/plain", 415}, {"application/x-www-form-urlencoded", 415}, {"application/jsonx", 415}, {"not a type", 415},
	} {
		req := post(`{"fileName":"a.txt","contentType":"text/plain"}`)
		req.Headers = map[string]string{"Content-Type": tc.contentType}
		if tc.contentType == "" {
			req.Headers = nil
		}
		resp := call(t, h, req)
		if resp.StatusCode != tc.want || tc.want == 415 && !strings.Contains(resp.Body, `"code":"RequestNotJSON"`) {
			t.Errorf("Content-Type %q: %d %s, want %d", tc.contentType, resp.StatusCode, resp.Body, tc.want)
		}
	}
}

// The line that records an issued key names API Gateway's request ID and
// the caller's IP, so the access log leads from the key to the caller.
func TestIssuedLogNamesTheRequestAndCaller(t *testing.T) {
	h, logs := newHandler(t, api.UploadSettings{})
	req := post(`{"fileName":"a.txt","contentType":"text/plain"}`)
	req.RequestContext.RequestID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
	req.RequestContext.Identity.SourceIP = "203.0.113.7"
	out := decodeOK(t, call(t, h, req))
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line["msg"] != "issued upload url" || line["fileKey"] != out.FileKey || line["apiRequestId"] != req.RequestContext.RequestID || line["sourceIp"] != "203.0.113.7" {
		t.Errorf("log line = %v", line)
	}
}

// Every answer, success or error, tells browsers not to guess another
// type than the one it declares.
func TestEveryResponseForbidsSniffing(t *testing.T) {
	h, _ := newHandler(t, api.UploadSettings{})
	failing, err := uploadapi.New(api.UploadSettings{Bucket: "b"}, failingPutSigner{testPresigner(), errPresign}, nil,
		uploadapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		h      *uploadapi.Handler
		req    events.APIGatewayProxyRequest
		status int
	}{
		{"an issued URL", h, post(`{"fileName":"a.txt","contentType":"text/plain"}`), 200},
		{"a malformed body", h, post(`{`), 400},
		{"an unknown route", h, events.APIGatewayProxyRequest{Resource: "/nowhere", HTTPMethod: "GET"}, 404},
		{"another method", h, events.APIGatewayProxyRequest{Resource: api.UploadURL.Resource, HTTPMethod: "DELETE"}, 405},
		{"an internal error", failing, post(`{"fileName":"a.txt","contentType":"text/plain"}`), 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(t, tc.h, tc.req)
			if resp.StatusCode != tc.status || resp.Headers["X-Content-Type-Options"] != "nosniff" {
				t.Errorf("%d with headers %v, want %d with X-Content-Type-Options: nosniff", resp.StatusCode, resp.Headers, tc.status)
			}
		})
	}
}
