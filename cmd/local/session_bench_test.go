package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// The multipart routes' cost against the real S3 server, called the way
// the Lambda runtime calls the handler: what binding an upload to the size
// declared at its start adds shows here (go test -run '^$' -bench
// MultipartRoutes -benchtime 2000x ./cmd/local).
func BenchmarkMultipartRoutes(b *testing.B) {
	f := newFlow(b, api.UploadSettings{PartSize: 5 << 20}, "")
	h, err := uploadapi.New(api.UploadSettings{Bucket: f.bucket, PartSize: 5 << 20}, s3.NewPresignClient(f.s3), f.s3,
		uploadapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	call := func(r api.Route, id string, body any) events.APIGatewayProxyResponse {
		raw, _ := json.Marshal(body)
		resp, _ := h.Handle(ctx, events.APIGatewayProxyRequest{HTTPMethod: r.Method, Resource: r.Resource,
			PathParameters: map[string]string{"uploadId": id}, Body: string(raw)})
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d %s", r, resp.StatusCode, resp.Body)
		}
		return resp
	}
	const size = 64 << 20
	var started api.MultipartStartResponse
	_ = json.Unmarshal([]byte(call(api.StartMultipart, "", api.MultipartStartRequest{FileName: "bench.bin", ContentType: "application/octet-stream", Size: size}).Body), &started)
	b.Run("start", func(b *testing.B) {
		for b.Loop() {
			call(api.StartMultipart, "", api.MultipartStartRequest{FileName: "bench.bin", ContentType: "application/octet-stream", Size: size})
		}
	})
	b.Run("sign 13 parts", func(b *testing.B) {
		nums := make([]int, 13)
		for i := range nums {
			nums[i] = i + 1
		}
		for b.Loop() {
			call(api.SignParts, started.UploadID, api.SignPartsRequest{FileKey: started.FileKey, Size: size, PartNumbers: nums})
		}
	})
}

// The upload URL route with and without quotas, against the real S3
// server, in one run: what a reservation (read the caller's ledger, write
// it on condition) adds to issuing a URL (go test -run '^$' -bench
// UploadURLQuota -benchtime 2000x ./cmd/local). Each caller's ledger grows
// with its unsettled reservations, so the loop spreads them over callers
// as a deployment's traffic would.
func BenchmarkUploadURLQuota(b *testing.B) {
	for _, tc := range []struct {
		name     string
		settings api.UploadSettings
	}{
		{"without quotas", api.UploadSettings{SignIn: true, Verified: true}},
		{"with quotas", api.UploadSettings{SignIn: true, Verified: true, QuotaBytes: 1 << 40, QuotaFilesPerDay: 1 << 20}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFlow(b, api.UploadSettings{}, "")
			s := tc.settings
			s.Bucket = f.bucket
			h, err := uploadapi.New(s, s3.NewPresignClient(f.s3), f.s3, uploadapi.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			body := `{"fileName":"bench.bin","contentType":"application/octet-stream","size":1048576}`
			n := 0
			for b.Loop() {
				req := events.APIGatewayProxyRequest{HTTPMethod: "POST", Resource: api.UploadURL.Resource, Body: body}
				req.RequestContext.Authorizer = map[string]any{"iss": "https://issuer.example", "sub": "user-" + strconv.Itoa(n%100)}
				n++
				if resp, _ := h.Handle(ctx, req); resp.StatusCode != 200 {
					b.Fatalf("%d %s", resp.StatusCode, resp.Body)
				}
			}
		})
	}
}
