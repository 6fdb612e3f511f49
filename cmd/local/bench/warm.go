package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

func benchWarm(root string) ([]row, error) {
	client := s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench-secret", "bench-token")})
	presign := s3.NewPresignClient(client)
	h, err := uploadapi.New(benchUploadSettings, presign, client, uploadapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(apiEvent(), &ev); err != nil {
		return nil, err
	}
	ctx := context.Background()
	handler := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if resp, _ := h.Handle(ctx, ev); resp.StatusCode != 200 {
				b.Fatal(resp.Body)
			}
		}
	})
	sdk := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		in := &s3.PutObjectInput{Bucket: aws.String("bench-bucket"), Key: aws.String("uploads/abcdefghijklmnopqrstuvwxyz-report.pdf"), ContentType: aws.String("application/pdf")}
		for b.Loop() {
			if _, err := presign.PresignPutObject(ctx, in, s3.WithPresignExpires(api.DefaultUrlExpiry.Duration())); err != nil {
				b.Fatal(err)
			}
		}
	})
	cmd := exec.Command("node", filepath.Join(root, benchDir, "node", "warm.mjs"), "20000")
	cmd.Env = append(cmd.Environ(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDBENCH", "AWS_SECRET_ACCESS_KEY=bench-secret", "BUCKET_NAME=bench-bucket")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node warm.mjs: %w", err)
	}
	var node struct{ NsPerOp, OpsPerSec float64 }
	if err := json.Unmarshal(out, &node); err != nil {
		return nil, fmt.Errorf("node warm.mjs said %q: %w", out, err)
	}
	overhead := float64(handler.NsPerOp()) / float64(sdk.NsPerOp())
	oursOps := 1e9 / float64(handler.NsPerOp())
	vsNode := oursOps / node.OpsPerSec
	return []row{
		{"warm handler, event → JSON response", fmt.Sprintf("%.1f µs/op, %d allocs/op", float64(handler.NsPerOp())/1000, handler.AllocsPerOp()),
			fmt.Sprintf("bare SDK PresignPutObject %.1f µs/op, %d allocs/op", float64(sdk.NsPerOp())/1000, sdk.AllocsPerOp()),
			fmt.Sprintf("%.2f×", overhead), "≤ 1.3× the bare SDK call", verdict(overhead <= 1.3)},
		{"warm throughput, one core", fmt.Sprintf("%.0f invocations/s", oursOps), fmt.Sprintf("Node.js %.0f invocations/s (%.1f µs/op)", node.OpsPerSec, node.NsPerOp/1000),
			fmt.Sprintf("%.1f×", vsNode), "≥ 3× Node.js", verdict(vsNode >= 3)},
	}, nil
}
