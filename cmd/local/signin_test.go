package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
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
	v, err := oidcauth.New(api.AuthorizerSettings{IssuerUrl: p.Issuer, Audience: p.Audience}, oidcauth.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	f := &signedInFlow{flow: &flow{t: t, bucket: "signin-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), s3: gw.Client()}, provider: p}
	cfg := api.UploadSettings{Bucket: f.bucket, SignIn: true, AllowedOrigins: []string{origin}}.WithDefaults()
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
