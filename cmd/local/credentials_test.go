package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
)

// TestLocalModeS3Credentials runs local mode twice over one data directory:
// each run prints new S3 credentials, the printed ones open the data of the
// earlier run, and the earlier run's are refused.
func TestLocalModeS3Credentials(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local mode binary")
	}
	cdkJSON := filepath.Join(pkgDir, "..", "..", "cdk.json")
	data := t.TempDir()
	client := func(p *localProc, key, secret string) *s3.Client {
		return s3.New(s3.Options{BaseEndpoint: aws.String(p.S3), UsePathStyle: true, Region: s3gw.Region,
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	}

	first := startLocal(t, "dev", cdkJSON, "-data", data)
	if first.S3Key == "" || first.S3Secret == "" || first.Data != data {
		t.Fatalf("banner lacks the S3 credentials or the data directory: %+v", first)
	}
	req, err := http.NewRequest("POST", first.API+api.UploadURL.Resource, strings.NewReader(`{"fileName":"kept.txt","contentType":"text/plain"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", first.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got api.UploadURLResponse
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST = %d %s", resp.StatusCode, b)
	}
	if status, msg := put(t, got.UploadURL, got.Headers, []byte("kept")); status != 200 {
		t.Fatalf("PUT = %d %s", status, msg)
	}
	first.stop(t)

	second := startLocal(t, "dev", cdkJSON, "-data", data)
	if second.S3Key == first.S3Key || second.S3Secret == first.S3Secret {
		t.Errorf("the second run printed the first run's credentials %q, %q", second.S3Key, second.S3Secret)
	}
	bucket := aws.String("presigned-upload-dev")
	out, err := client(second, second.S3Key, second.S3Secret).GetObject(context.Background(), &s3.GetObjectInput{Bucket: bucket, Key: aws.String(got.FileKey)})
	if err != nil {
		t.Fatalf("get the first run's object with the printed credentials: %v", err)
	}
	kept, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(kept) != "kept" {
		t.Errorf("object = %q, want %q", kept, "kept")
	}
	_, err = client(second, first.S3Key, first.S3Secret).GetObject(context.Background(), &s3.GetObjectInput{Bucket: bucket, Key: aws.String(got.FileKey)})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("the first run's credentials on the second run: %v, want S3's refusal", err)
	}
}
