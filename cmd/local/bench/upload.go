package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/apigw"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// benchUpload sends the same file to the same local S3 server with our
// client (through the API, as users do) and with the SDK's transfer
// manager (straight to S3), with the same part size and concurrency.
func benchUpload(ctx context.Context, work string, size int64) ([]row, error) {
	path := filepath.Join(work, "upload.bin")
	if err := writeRandom(path, size); err != nil {
		return nil, err
	}
	gw, err := s3gw.Start("127.0.0.1:0", filepath.Join(work, "s3"))
	if err != nil {
		return nil, err
	}
	defer gw.Stop()
	client := gw.Client()
	const bucket = "bench"
	if err := s3gw.EnsureBucket(ctx, client, bucket, api.UploadSettings{Bucket: bucket}); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	settings := api.UploadSettings{Bucket: bucket}
	h, err := uploadapi.New(settings, s3.NewPresignClient(client), client, uploadapi.WithLogger(quiet))
	if err != nil {
		return nil, err
	}
	stage, err := apigw.New(apigw.Config{Invoke: h.Handle, Settings: settings, Log: quiet})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(stage)
	defer srv.Close()

	const partSize, concurrency = int64(api.DefaultPartSize), 4
	ours := func() (time.Duration, *uploader.Result, error) {
		c := &uploader.Client{API: srv.URL, Threshold: 1, Concurrency: concurrency, StateDir: filepath.Join(work, "state")}
		start := time.Now()
		res, err := c.UploadFile(ctx, path, "application/octet-stream")
		return time.Since(start), res, err
	}
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = partSize
		o.Concurrency = concurrency
	})
	theirs := func() (time.Duration, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		start := time.Now()
		_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String(bucket), Key: aws.String("tm/upload.bin"), Body: f})
		return time.Since(start), err
	}
	// Alternate, best of three each, so neither side gets a cold cache.
	var bestOurs, bestTheirs time.Duration
	var res *uploader.Result
	for range 3 {
		d, r, err := ours()
		if err != nil {
			return nil, fmt.Errorf("our client: %w", err)
		}
		if bestOurs == 0 || d < bestOurs {
			bestOurs, res = d, r
		}
		d, err = theirs()
		if err != nil {
			return nil, fmt.Errorf("transfermanager: %w", err)
		}
		if bestTheirs == 0 || d < bestTheirs {
			bestTheirs = d
		}
	}
	mbps := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }
	ratio := mbps(bestOurs) / mbps(bestTheirs)
	gib := float64(size) / (1 << 30)
	signCalls := float64(res.APICalls-2) / gib // all but start and complete
	label := fmt.Sprintf("%d MiB upload, %d MiB parts, %d in parallel", size>>20, partSize>>20, concurrency)
	return []row{
		{"throughput, " + label, fmt.Sprintf("%.0f MB/s", mbps(bestOurs)), fmt.Sprintf("transfermanager %.0f MB/s", mbps(bestTheirs)),
			fmt.Sprintf("%.2f×", ratio), "≥ 0.9× transfermanager", verdict(ratio >= 0.9)},
		{"API calls per GiB", fmt.Sprintf("%.1f (%.1f to sign parts)", float64(res.APICalls)/gib, signCalls), "", "", "≤ 16 signing calls per GiB", verdict(signCalls <= 16)},
	}, nil
}

func writeRandom(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
