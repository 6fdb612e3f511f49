package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/presigned-upload/presigned-upload/api"

	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// TestTutorialFlow is the tutorial's flow: POST {fileName, contentType},
// then PUT with only Content-Type.
func TestTutorialFlow(t *testing.T) {
	f := newFlow(t, api.Config{}, "")
	body := []byte("%PDF-1.4 tutorial upload")
	got := f.uploadURL(map[string]string{"fileName": "myfile.pdf", "contentType": "application/pdf"})
	if len(got.Headers) != 1 || got.Headers["Content-Type"] != "application/pdf" {
		t.Fatalf("headers = %v, want only Content-Type", got.Headers)
	}
	if status, msg := put(t, got.UploadURL, map[string]string{"Content-Type": "application/pdf"}, body); status != 200 {
		t.Fatalf("PUT = %d %s", status, msg)
	}
	data, ct, ok := f.object(got.FileKey)
	if !ok || !bytes.Equal(data, body) || ct != "application/pdf" {
		t.Errorf("stored %q (%s, found %v), want %q as application/pdf", data, ct, ok, body)
	}
}

// signedAt signs URLs with the default signer at another time: offset from
// now. A URL signed an hour ago that lasts a second arrives expired.
type signedAt struct{ offset time.Duration }

func (s signedAt) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	signingTime time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }) // as the S3 client's own
	return signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, signingTime.Add(s.offset), optFns...)
}

func TestS3EnforcesWhatWasSigned(t *testing.T) {
	body := []byte("exactly these twenty")
	sum := sha256.Sum256(body)
	other := sha256.Sum256([]byte("something else"))
	tests := []struct {
		name    string
		cfg     api.Config
		req     api.UploadURLRequest
		headers func(h map[string]string)
		body    []byte
		alter   func(u string) string
		// signedAgo signs the URL as if that long ago.
		signedAgo time.Duration
		want      int
	}{
		{name: "signed size and checksum, honest client", req: api.UploadURLRequest{Size: int64p(len(body)), ChecksumSHA256: base64.StdEncoding.EncodeToString(sum[:])}, want: 200},
		{name: "different Content-Type", headers: func(h map[string]string) { h["Content-Type"] = "text/html" }, want: 403},
		{name: "body longer than the signed size", req: api.UploadURLRequest{Size: int64p(len(body))}, body: append(body, '!'), want: 403},
		{name: "body shorter than the signed size", req: api.UploadURLRequest{Size: int64p(len(body))}, body: body[:5], want: 403},
		{name: "wrong checksum", req: api.UploadURLRequest{Size: int64p(len(body)), ChecksumSHA256: base64.StdEncoding.EncodeToString(other[:])}, want: 400},
		{name: "expired URL", cfg: api.Config{UrlExpiry: 1}, signedAgo: time.Hour, want: 403},
		{name: "key altered", alter: func(u string) string { return strings.Replace(u, "-note.txt?", "-note.txx?", 1) }, want: 403},
		{name: "expiry in the query altered", alter: func(u string) string { return strings.Replace(u, "X-Amz-Expires=300", "X-Amz-Expires=3000", 1) }, want: 403},
		{name: "signed headers in the query altered", req: api.UploadURLRequest{Size: int64p(len(body))},
			alter: func(u string) string {
				return strings.Replace(u, "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost", "X-Amz-SignedHeaders=host", 1)
			}, want: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var presign []func(*s3.PresignOptions)
			if tc.signedAgo != 0 {
				presign = append(presign, func(o *s3.PresignOptions) { o.Presigner = signedAt{-tc.signedAgo} })
			}
			f := newFlow(t, tc.cfg, "", presign...)
			req := tc.req
			req.FileName, req.ContentType = "note.txt", "text/plain"
			got := f.uploadURL(req)
			headers := map[string]string{}
			for k, v := range got.Headers {
				headers[k] = v
			}
			if tc.headers != nil {
				tc.headers(headers)
			}
			u := got.UploadURL
			if tc.alter != nil {
				if u = tc.alter(u); u == got.UploadURL {
					t.Fatalf("alteration changed nothing in %s", u)
				}
			}
			b := body
			if tc.body != nil {
				b = tc.body
			}
			if tc.want != 200 {
				resp, err := http.DefaultClient.Do(putRequest(t, u, headers, b))
				expectRefused(t, resp, err, tc.want)
				if data, _, stored := f.object(got.FileKey); stored {
					t.Errorf("a refused upload stored %q", data)
				}
				return
			}
			if status, msg := put(t, u, headers, b); status != 200 {
				t.Fatalf("PUT = %d %s, want 200", status, msg)
			}
			if data, _, _ := f.object(got.FileKey); !bytes.Equal(data, b) {
				t.Errorf("stored %q, want %q", data, b)
			}
		})
	}
}

func TestPreventOverwrite(t *testing.T) {
	f := newFlow(t, api.Config{PreventOverwrite: true}, "")
	got := f.uploadURL(api.UploadURLRequest{FileName: "once.txt", ContentType: "text/plain"})
	if got.Headers["If-None-Match"] != "*" {
		t.Fatalf("headers = %v, want If-None-Match: *", got.Headers)
	}
	if status, msg := put(t, got.UploadURL, got.Headers, []byte("original")); status != 200 {
		t.Fatalf("first PUT = %d %s", status, msg)
	}
	// Replaying the URL, even with the same headers, must not overwrite.
	resp, err := http.DefaultClient.Do(putRequest(t, got.UploadURL, got.Headers, []byte("replaced")))
	expectRefused(t, resp, err, 412)
	if data, _, _ := f.object(got.FileKey); string(data) != "original" {
		t.Errorf("object = %q, want the original", data)
	}
}

func TestHostileFileNames(t *testing.T) {
	f := newFlow(t, api.Config{}, "")
	pattern := uploadapi.KeyPattern(api.DefaultKeyPrefix)
	names := []string{"../../etc/passwd", "a/b/c", "%2e%2e%2f", "nul\x00byte.txt", strings.Repeat("n", 2000) + ".txt",
		"bad\xff\xfeutf8.txt", "", "evil\u202etxt.exe", "....", ".", "..", "con:prn?.txt", " spaced name .txt"}
	for _, name := range names {
		// The query string carries any bytes, invalid UTF-8 included.
		q := url.Values{"fileName": {name}, "contentType": {"text/plain"}}
		status, _, b := f.call("GET", api.UploadURL.Resource+"?"+q.Encode(), "", nil)
		if status != 200 {
			t.Errorf("%q: status %d %s", name, status, b)
			continue
		}
		var got api.UploadURLResponse
		if err := jsonUnmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !pattern.MatchString(got.FileKey) || strings.Contains(got.FileKey, "..") {
			t.Errorf("%q: key %q does not match %s", name, got.FileKey, pattern)
			continue
		}
		if status, msg := put(t, got.UploadURL, got.Headers, []byte(name+"!")); status != 200 {
			t.Errorf("%q: PUT to %q = %d %s", name, got.FileKey, status, msg)
		}
		if _, _, ok := f.object(got.FileKey); !ok {
			t.Errorf("%q: nothing stored at %q", name, got.FileKey)
		}
	}
}
