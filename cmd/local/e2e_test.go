package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
)

// TestTutorialFlow is the tutorial's flow: POST {fileName, contentType},
// then PUT with only Content-Type.
func TestTutorialFlow(t *testing.T) {
	f := newFlow(t, api.UploadSettings{}, "")
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
		cfg     api.UploadSettings
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
		{name: "expired URL", cfg: api.UploadSettings{UrlExpiry: 1}, signedAgo: time.Hour, want: 403},
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
	f := newFlow(t, api.UploadSettings{PreventOverwrite: true}, "")
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

	t.Run("multipart completion does not replace an object", func(t *testing.T) {
		f := newFlow(t, api.UploadSettings{PreventOverwrite: true, PartSize: 5 << 20}, "")
		up := f.start(6 << 20)
		var signed api.SignPartsResponse
		f.post(partsURL(up.UploadID), api.SignPartsRequest{FileKey: up.FileKey, Size: 6 << 20, PartNumbers: []int{1, 2}}, 200, &signed)
		var done []api.CompletedPart
		for i, n := range []int{5 << 20, 1 << 20} {
			resp, err := http.DefaultClient.Do(putRequest(t, signed.Parts[i].URL, signed.Parts[i].Headers, bytes.Repeat([]byte("p"), n)))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("part %d: %v %v", i+1, resp, err)
			}
			resp.Body.Close()
			done = append(done, api.CompletedPart{PartNumber: i + 1, ETag: resp.Header.Get("ETag")})
		}
		// Meanwhile an object appears under the key.
		if _, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(up.FileKey),
			Body: strings.NewReader("first")}); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(api.CompleteRequest{FileKey: up.FileKey, Parts: done})
		status, _, body := f.call("POST", "/multipart/"+up.UploadID+"/complete", string(b), nil)
		if status != 412 || !strings.Contains(string(body), "PreconditionFailed") {
			t.Errorf("complete over an existing object = %d %s, want 412", status, body)
		}
		if data, _, _ := f.object(up.FileKey); string(data) != "first" {
			t.Errorf("object = %q, want the first one kept", data)
		}
		if got := f.partNumbers(up.FileKey, up.UploadID); len(got) != 2 {
			t.Errorf("S3 holds parts %v, want the upload kept", got)
		}
	})
	t.Run("form uploads are off", func(t *testing.T) {
		status, _, body := f.call("POST", api.UploadForm.Resource, `{"fileName":"a.txt","contentType":"text/plain"}`, nil)
		if status != 400 || !strings.Contains(string(body), "preventOverwrite") {
			t.Errorf("form with preventOverwrite = %d %s, want 400 naming the setting", status, body)
		}
	})
}

// No route stores an object over the limit configured for it: with
// maxFileSize below S3's 5 GiB, every upload URL signs the length, and a
// form's policy carries the range.
func TestMaxFileSizeHoldsOnEveryRoute(t *testing.T) {
	const limit = 1 << 20
	f := newFlow(t, api.UploadSettings{MaxFileSize: limit}, "")
	t.Run("no size: refused by the model and by the function", func(t *testing.T) {
		for _, path := range []string{api.UploadURL.Resource} {
			status, _, body := f.call("POST", path, `{"fileName":"a.bin","contentType":"application/octet-stream"}`, nil)
			if status != 400 || !strings.Contains(string(body), "size") {
				t.Errorf("POST without size = %d %s, want 400", status, body)
			}
		}
		status, _, body := f.call("GET", api.UploadURLQuery.Resource+"?fileName=a.bin&contentType=application/octet-stream", "", nil)
		if status != 400 || !strings.Contains(string(body), "size") {
			t.Errorf("GET without size = %d %s, want 400", status, body)
		}
	})
	t.Run("declared over the limit", func(t *testing.T) {
		status, _, body := f.call("POST", api.UploadURL.Resource, `{"fileName":"a.bin","contentType":"application/octet-stream","size":1048577}`, nil)
		if status != 413 {
			t.Errorf("size over the limit = %d %s, want 413", status, body)
		}
	})
	t.Run("a body over the declared size", func(t *testing.T) {
		size := int64(limit)
		got := f.uploadURL(api.UploadURLRequest{FileName: "a.bin", ContentType: "application/octet-stream", Size: &size})
		resp, err := http.DefaultClient.Do(putRequest(t, got.UploadURL, got.Headers, bytes.Repeat([]byte("x"), limit+1)))
		expectRefused(t, resp, err, 403)
		if _, _, ok := f.object(got.FileKey); ok {
			t.Error("an object over the limit was stored")
		}
	})
	t.Run("a form over the limit", func(t *testing.T) {
		var form api.UploadFormResponse
		f.post(api.UploadForm.Resource, map[string]string{"fileName": "a.bin", "contentType": "application/octet-stream"}, 200, &form)
		resp, err := postForm(form, bytes.Repeat([]byte("x"), limit+1))
		expectRefused(t, resp, err, 400)
		if _, _, ok := f.object(form.FileKey); ok {
			t.Error("a form stored an object over the limit")
		}
	})
}

func TestHostileFileNames(t *testing.T) {
	f := newFlow(t, api.UploadSettings{}, "")
	pattern := api.KeyPattern(api.DefaultKeyPrefix)
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

// Active content is refused end to end unless named exactly; image/* does
// not admit SVG.
func TestActiveContentIsRefused(t *testing.T) {
	f := newFlow(t, api.UploadSettings{AllowedContentTypes: []string{"image/*", "text/html"}}, "")
	for _, tc := range []struct {
		contentType string
		want        int
	}{{"image/png", 200}, {"image/svg+xml", 415}, {"text/html", 200}, {"application/xhtml+xml", 415}, {"image/*", 400}} {
		status, _, body := f.call("POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"`+tc.contentType+`"}`, nil)
		if status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.contentType, status, body, tc.want)
		}
	}
}
