package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/apigw"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/oidcdev"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// signedInFlow is a flow whose stage runs the OIDC authorizer against a
// real provider on loopback; invocations counts the function's calls.
type signedInFlow struct {
	*flow
	provider    *oidcdev.Provider
	invocations atomic.Int64
}

func newSignedInFlow(t *testing.T, origin string) *signedInFlow {
	t.Helper()
	p, err := oidcdev.Start("127.0.0.1:0", oidcdev.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	quiet := slog.New(slog.DiscardHandler)
	v, err := oidcauth.NewVerifier(oidcauth.Config{Issuer: p.Issuer, Audience: p.Audience}, oidcauth.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	f := &signedInFlow{flow: &flow{t: t, bucket: "signin-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), s3: gw.Client()}, provider: p}
	cfg := api.Config{Bucket: f.bucket, SignIn: true, AllowedOrigins: []string{origin}}.WithDefaults()
	if err := s3gw.EnsureBucket(context.Background(), f.s3, f.bucket, cfg); err != nil {
		t.Fatal(err)
	}
	h, err := uploadapi.New(cfg, s3.NewPresignClient(f.s3), f.s3, uploadapi.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	invoke := func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		f.invocations.Add(1)
		return h.Handle(ctx, req)
	}
	stage, err := apigw.New(apigw.Config{Invoke: invoke, Settings: cfg, Authorizer: v.Authorize, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f.api = httptest.NewServer(stage)
	t.Cleanup(f.api.Close)
	return f
}

func (f *signedInFlow) token(user string) string {
	f.t.Helper()
	tok, err := f.provider.Token(context.Background(), user)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// Tokens the authorizer refuses get the stage's 401, JSON with CORS
// headers, and the function never runs.
func TestRefusedTokensNeverReachTheFunction(t *testing.T) {
	const origin = "https://app.example"
	f := newSignedInFlow(t, origin)
	good := f.token("alice")
	other, err := oidcdev.Start("127.0.0.1:0", oidcdev.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	foreign, err := other.Token(context.Background(), "alice") // another issuer, another key
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	unsigned := base64.RawURLEncoding.EncodeToString(header) + "." + parts[1] + "."
	for _, tc := range []struct{ name, authorization string }{
		{"no token", ""},
		{"malformed", "Bearer not-a-jwt"},
		{"another scheme", "Basic YWxpY2U6cGFzcw=="},
		{"another issuer's token", "Bearer " + foreign},
		{"alg none", "Bearer " + unsigned},
		{"a tampered payload", "Bearer " + parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory"}`)) + "." + parts[2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.invocations.Load()
			status, h, body := f.call("POST", api.UploadURL.Resource, `{"fileName":"a.txt","contentType":"text/plain"}`,
				map[string]string{"Authorization": tc.authorization, "Origin": origin})
			var e api.ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || status != 401 || e.Code != "UNAUTHORIZED" || h.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("%d %s (CORS %q), want 401 UNAUTHORIZED JSON with CORS", status, body, h.Get("Access-Control-Allow-Origin"))
			}
			if f.invocations.Load() != before {
				t.Error("the function ran")
			}
		})
	}
	t.Run("a valid token passes", func(t *testing.T) {
		status, _, body := f.call("POST", api.UploadURL.Resource, `{"fileName":"a.txt","contentType":"text/plain"}`, map[string]string{"Authorization": "Bearer " + good})
		if status != 200 {
			t.Errorf("%d %s", status, body)
		}
	})
}

// Bob cannot reach alice's uploads or files through any route, and each
// sees only their own files.
func TestTwoUsers(t *testing.T) {
	f := newSignedInFlow(t, "*")
	alice, bob := map[string]string{"Authorization": "Bearer " + f.token("alice")}, map[string]string{"Authorization": "Bearer " + f.token("bob")}
	call := func(who map[string]string, method, path, body string) (int, []byte) {
		status, _, b := f.call(method, path, body, who)
		return status, b
	}
	// Alice stores a file, and starts a multipart upload.
	status, body := call(alice, "POST", api.UploadURL.Resource, `{"fileName":"a.txt","contentType":"text/plain","size":5}`)
	var putURL api.UploadURLResponse
	if err := json.Unmarshal(body, &putURL); status != 200 || err != nil {
		t.Fatalf("alice's upload URL: %d %s", status, body)
	}
	if code, msg := put(t, putURL.UploadURL, putURL.Headers, []byte("hello")); code != 200 {
		t.Fatalf("PUT: %d %s", code, msg)
	}
	if !strings.HasPrefix(putURL.FileKey, "uploads/"+api.CallerID(f.provider.Issuer, "alice")+"/") {
		t.Errorf("alice's key %s is not under her caller ID", putURL.FileKey)
	}
	status, body = call(alice, "POST", api.StartMultipart.Resource, `{"fileName":"big.bin","contentType":"application/octet-stream","size":6291456}`)
	var up api.MultipartStartResponse
	if err := json.Unmarshal(body, &up); status != 200 || err != nil {
		t.Fatalf("alice's multipart start: %d %s", status, body)
	}
	q := "?fileKey=" + url.QueryEscape(up.FileKey)
	for _, tc := range []struct{ name, method, path, body string }{
		{"sign parts", "POST", api.SignParts.Path(up.UploadID), `{"fileKey":"` + up.FileKey + `","size":6291456,"partNumbers":[1]}`},
		{"list parts", "GET", api.ListParts.Path(up.UploadID) + q, ""},
		{"complete", "POST", api.CompleteMultipart.Path(up.UploadID), `{"fileKey":"` + up.FileKey + `","parts":[{"partNumber":1,"etag":"abc"}]}`},
		{"abort", "DELETE", api.AbortMultipart.Path(up.UploadID) + q, ""},
		{"download", "POST", api.DownloadURL.Resource, `{"fileKey":"` + putURL.FileKey + `"}`},
		{"delete", "DELETE", api.DeleteFile.Resource + "?fileKey=" + url.QueryEscape(putURL.FileKey), ""},
	} {
		t.Run("bob cannot "+tc.name, func(t *testing.T) {
			status, body := call(bob, tc.method, tc.path, tc.body)
			if status != 403 || !strings.Contains(string(body), "Forbidden") {
				t.Errorf("%d %s, want 403", status, body)
			}
		})
	}
	files := func(who map[string]string) []api.FileInfo {
		status, body := call(who, "GET", api.ListFiles.Resource, "")
		var out api.ListFilesResponse
		if err := json.Unmarshal(body, &out); status != 200 || err != nil {
			t.Fatalf("list: %d %s", status, body)
		}
		return out.Files
	}
	if got := files(bob); len(got) != 0 {
		t.Errorf("bob sees %v", got)
	}
	if got := files(alice); len(got) != 1 || got[0].FileKey != putURL.FileKey || got[0].FileName != "a.txt" || got[0].Size != 5 {
		t.Errorf("alice sees %+v", got)
	}
	t.Run("alice downloads her file under its name", func(t *testing.T) {
		status, body := call(alice, "POST", api.DownloadURL.Resource, `{"fileKey":"`+putURL.FileKey+`"}`)
		var dl api.DownloadURLResponse
		if err := json.Unmarshal(body, &dl); status != 200 || err != nil {
			t.Fatalf("%d %s", status, body)
		}
		got, disposition := getBody(t, dl.DownloadURL)
		if string(got) != "hello" || disposition != "attachment; filename=a.txt" {
			t.Errorf("downloaded %q with Content-Disposition %q", got, disposition)
		}
	})
	t.Run("alice deletes it", func(t *testing.T) {
		if status, body := call(alice, "DELETE", api.DeleteFile.Resource+"?fileKey="+url.QueryEscape(putURL.FileKey), ""); status != 204 {
			t.Fatalf("%d %s", status, body)
		}
		if got := files(alice); len(got) != 0 {
			t.Errorf("alice still sees %v", got)
		}
	})
}

// getBody GETs a URL and returns the body and its Content-Disposition.
func getBody(t *testing.T, u string) ([]byte, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d %s", resp.StatusCode, b)
	}
	return b, resp.Header.Get("Content-Disposition")
}
