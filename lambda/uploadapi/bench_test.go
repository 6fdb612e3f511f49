package uploadapi_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// BenchmarkHandle is the whole handler: a tutorial-shaped proxy event in,
// a JSON response out. Compare it with BenchmarkPresignPutObject, the bare
// SDK call it wraps (go test -bench . -benchmem).
func BenchmarkHandle(b *testing.B) {
	h, err := uploadapi.New(api.UploadSettings{Bucket: "bench-bucket"}, testPresigner(), nil, uploadapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	req := post(`{"fileName":"report.pdf","contentType":"application/pdf"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := h.Handle(ctx, req); resp.StatusCode != 200 {
			b.Fatal(resp.Body)
		}
	}
}

func BenchmarkPresignPutObject(b *testing.B) {
	p := testPresigner()
	in := &s3.PutObjectInput{Bucket: aws.String("bench-bucket"), Key: aws.String("uploads/abcdefghijklmnopqrstuvwxyz-report.pdf"), ContentType: aws.String("application/pdf")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.PresignPutObject(ctx, in, s3.WithPresignExpires(api.DefaultUrlExpiry.Duration())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandleSignedIn is BenchmarkHandle for a caller the authorizer
// verified: reading the caller and building the owned key is its only
// extra work.
func BenchmarkHandleSignedIn(b *testing.B) {
	h, err := uploadapi.New(api.UploadSettings{Bucket: "bench-bucket", SignIn: true}, testPresigner(), nil, uploadapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	req := post(`{"fileName":"report.pdf","contentType":"application/pdf"}`)
	req.RequestContext.Authorizer = map[string]any{"claims": map[string]any{"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", "sub": "0a1b2c3d-4e5f"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := h.Handle(ctx, req); resp.StatusCode != 200 {
			b.Fatal(resp.Body)
		}
	}
}
