package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// writeFile makes a file of random bytes and returns its path and SHA-256.
func writeFile(t *testing.T, size int) (string, [32]byte) {
	t.Helper()
	p, data := randomFile(t, "big.bin", size)
	return p, sha256.Sum256(data)
}

func (f *flow) objectSum(key string) ([32]byte, bool) {
	f.t.Helper()
	data, _, ok := f.object(key)
	return sha256.Sum256(data), ok
}

// countingTransport counts the PUTs that reach S3.
type countingTransport struct {
	puts atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		c.puts.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestMultipartUpload(t *testing.T) {
	f := newFlow(t, api.UploadSettings{PartSize: 5 << 20}, "")
	path, sum := writeFile(t, 64<<20)
	c := &uploader.Client{API: f.api.URL, Threshold: 8 << 20, Concurrency: 4, StateDir: t.TempDir()}
	res, err := c.UploadFile(context.Background(), path, "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Multipart || res.PartsSent != 13 || res.Size != 64<<20 {
		t.Errorf("result = %+v, want 13 parts of a 64 MiB multipart upload", res)
	}
	if got, ok := f.objectSum(res.FileKey); !ok || got != sum {
		t.Errorf("stored object's SHA-256 differs from the source's (found %v)", ok)
	}
	// start + 1 signing call for 13 parts + complete
	if res.APICalls != 3 {
		t.Errorf("API calls = %d, want 3", res.APICalls)
	}
}

func TestMultipartResume(t *testing.T) {
	f := newFlow(t, api.UploadSettings{PartSize: 5 << 20}, "")
	path, sum := writeFile(t, 40<<20) // 8 parts
	stateDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first := &uploader.Client{API: f.api.URL, Threshold: 1, Concurrency: 1, StateDir: stateDir, KeepPartial: true,
		Progress: func(p uploader.Progress) {
			// One part at a time: bytes of part 4 flow only after S3
			// acknowledged part 3.
			if p.Sent > 3*(5<<20) {
				cancel()
			}
		}}
	if _, err := first.UploadFile(ctx, path, ""); err == nil {
		t.Fatal("interrupted upload reported success")
	}
	counter := &countingTransport{}
	second := &uploader.Client{API: f.api.URL, Threshold: 1, Concurrency: 2, StateDir: stateDir, HTTP: &http.Client{Transport: counter}}
	res, err := second.UploadFile(context.Background(), path, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.PartsSkipped < 3 || res.PartsSkipped+res.PartsSent != 8 {
		t.Errorf("resumed with %d parts skipped and %d sent, want at least 3 skipped of 8", res.PartsSkipped, res.PartsSent)
	}
	if got := counter.puts.Load(); got != int64(res.PartsSent) {
		t.Errorf("%d PUTs reached S3, want %d: finished parts were sent again", got, res.PartsSent)
	}
	if got, ok := f.objectSum(res.FileKey); !ok || got != sum {
		t.Error("resumed object differs from the source")
	}
	if entries, _ := os.ReadDir(stateDir); len(entries) != 0 {
		t.Errorf("resume state left behind: %v", entries)
	}
}

// start begins a multipart upload through the API.
func (f *flow) start(size int) api.MultipartStartResponse {
	f.t.Helper()
	var out api.MultipartStartResponse
	f.post(api.StartMultipart.Resource, api.MultipartStartRequest{FileName: "parts.bin", ContentType: "application/octet-stream", Size: int64(size)}, 200, &out)
	return out
}

// post sends a JSON request and decodes the answer, failing on another status.
func (f *flow) post(path string, in any, want int, out any) []byte {
	f.t.Helper()
	b, _ := json.Marshal(in)
	status, _, body := f.call("POST", path, string(b), nil)
	if status != want {
		f.t.Fatalf("POST %s = %d %s, want %d", path, status, body, want)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			f.t.Fatal(err)
		}
	}
	return body
}

func partsURL(id string) string { return "/multipart/" + url.PathEscape(id) + "/parts" }

func TestMultipartRules(t *testing.T) {
	f := newFlow(t, api.UploadSettings{PartSize: 5 << 20}, "")
	const size = 6 << 20 // two parts: 5 MiB and 1 MiB
	part1 := bytes.Repeat([]byte("a"), 5<<20)
	part2 := bytes.Repeat([]byte("b"), 1<<20)

	sign := func(up api.MultipartStartResponse, key string) api.SignPartsResponse {
		var out api.SignPartsResponse
		f.post(partsURL(up.UploadID), api.SignPartsRequest{FileKey: key, Size: size, PartNumbers: []int{1, 2}}, 200, &out)
		return out
	}

	t.Run("part of the wrong size is rejected by S3", func(t *testing.T) {
		up := f.start(size)
		parts := sign(up, up.FileKey)
		if parts.Parts[1].Headers["Content-Length"] != "1048576" {
			t.Fatalf("part 2 headers = %v, want the planned length signed", parts.Parts[1].Headers)
		}
		resp, err := http.DefaultClient.Do(putRequest(t, parts.Parts[1].URL, parts.Parts[1].Headers, append(part2, 'x')))
		expectRefused(t, resp, err, 403)
		if got := f.partNumbers(up.FileKey, up.UploadID); len(got) != 0 {
			t.Errorf("S3 holds parts %v after refusing the oversize part", got)
		}
	})
	t.Run("complete with a forged or missing part fails and stores nothing", func(t *testing.T) {
		up := f.start(size)
		parts := sign(up, up.FileKey)
		status, msg := put(t, parts.Parts[0].URL, parts.Parts[0].Headers, part1)
		if status != 200 {
			t.Fatalf("part 1 PUT = %d %s", status, msg)
		}
		var listed api.ListPartsResponse
		_, _, body := f.call("GET", partsURL(up.UploadID)+"?fileKey="+url.QueryEscape(up.FileKey), "", nil)
		_ = json.Unmarshal(body, &listed)
		if len(listed.Parts) != 1 || listed.Parts[0].Size != 5<<20 {
			t.Fatalf("listed parts = %s", body)
		}
		forged := api.CompleteRequest{FileKey: up.FileKey, Parts: []api.CompletedPart{{PartNumber: 1, ETag: `"0123456789abcdef0123456789abcdef"`}}}
		f.post("/multipart/"+up.UploadID+"/complete", forged, 400, nil)
		missing := api.CompleteRequest{FileKey: up.FileKey, Parts: []api.CompletedPart{{PartNumber: 1, ETag: listed.Parts[0].ETag}, {PartNumber: 2, ETag: `"abc"`}}}
		f.post("/multipart/"+up.UploadID+"/complete", missing, 400, nil)
		if _, _, ok := f.object(up.FileKey); ok {
			t.Error("a failed completion stored an object")
		}
	})
	t.Run("abort removes the upload", func(t *testing.T) {
		up := f.start(size)
		status, _, body := f.call("DELETE", "/multipart/"+url.PathEscape(up.UploadID)+"?fileKey="+url.QueryEscape(up.FileKey), "", nil)
		if status != 204 {
			t.Fatalf("DELETE = %d %s", status, body)
		}
		status, _, body = f.call("GET", partsURL(up.UploadID)+"?fileKey="+url.QueryEscape(up.FileKey), "", nil)
		if status != 404 || !strings.Contains(string(body), "NoSuchUpload") {
			t.Errorf("list after abort = %d %s, want 404 NoSuchUpload", status, body)
		}
		out, err := f.s3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(f.bucket)})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.UploadId) == up.UploadID {
				t.Error("S3 still lists the aborted upload")
			}
		}
	})
	t.Run("an uploadId used with another key fails", func(t *testing.T) {
		a, b := f.start(size), f.start(size)
		// a's upload, b's key: the API signs nothing for it.
		f.post(partsURL(a.UploadID), api.SignPartsRequest{FileKey: b.FileKey, Size: size, PartNumbers: []int{1}}, 404, nil)
		status, _, body := f.call("GET", partsURL(a.UploadID)+"?fileKey="+url.QueryEscape(b.FileKey), "", nil)
		if status != 404 {
			t.Errorf("list with another key = %d %s, want 404", status, body)
		}
		if got := append(f.partNumbers(a.FileKey, a.UploadID), f.partNumbers(b.FileKey, b.UploadID)...); len(got) != 0 {
			t.Errorf("S3 holds parts %v", got)
		}
	})
	t.Run("the size declared at the start binds the parts signed", func(t *testing.T) {
		up := f.start(size)
		for _, other := range []int64{api.MaxObjectSize, 100 << 20, size - 1} {
			b, _ := json.Marshal(api.SignPartsRequest{FileKey: up.FileKey, Size: other, PartNumbers: []int{1}})
			status, _, body := f.call("POST", partsURL(up.UploadID), string(b), nil)
			if status != 400 || !strings.Contains(string(body), "declared when the upload started") {
				t.Errorf("signing for %d bytes after declaring %d = %d %s, want 400", other, size, status, body)
			}
		}
	})
	t.Run("keys the API did not issue are refused", func(t *testing.T) {
		up := f.start(size)
		for _, key := range []string{"", "uploads/../secret", "other/abc", "uploads/short-name.txt", up.FileKey + "/x"} {
			b, _ := json.Marshal(api.SignPartsRequest{FileKey: key, Size: size, PartNumbers: []int{1}})
			if status, _, body := f.call("POST", partsURL(up.UploadID), string(b), nil); status != 400 {
				t.Errorf("fileKey %q: %d %s, want 400", key, status, body)
			}
		}
	})
	t.Run("part numbers outside the plan are refused", func(t *testing.T) {
		up := f.start(size)
		for _, nums := range [][]int{{0}, {3}, {1, 1}, {}} {
			b, _ := json.Marshal(api.SignPartsRequest{FileKey: up.FileKey, Size: size, PartNumbers: nums})
			if status, _, body := f.call("POST", partsURL(up.UploadID), string(b), nil); status != 400 {
				t.Errorf("parts %v: %d %s, want 400", nums, status, body)
			}
		}
	})
	t.Run("parts over the declared size are aborted at completion, not assembled", func(t *testing.T) {
		up := f.start(size) // 6 MiB declared: 5 MiB + 1 MiB
		parts := sign(up, up.FileKey)
		status, msg := put(t, parts.Parts[0].URL, parts.Parts[0].Headers, part1)
		if status != 200 {
			t.Fatalf("part 1 PUT = %d %s", status, msg)
		}
		// Part 2 written with the S3 server's own credentials, as anyone
		// holding them could: 2 MiB, so the parts hold 7 MiB.
		if _, err := f.s3.UploadPart(context.Background(), &s3.UploadPartInput{Bucket: aws.String(f.bucket), Key: aws.String(up.FileKey),
			UploadId: aws.String(up.UploadID), PartNumber: aws.Int32(2), Body: bytes.NewReader(bytes.Repeat([]byte("c"), 2<<20))}); err != nil {
			t.Fatal(err)
		}
		var listed api.ListPartsResponse
		_, _, body := f.call("GET", partsURL(up.UploadID)+"?fileKey="+url.QueryEscape(up.FileKey), "", nil)
		_ = json.Unmarshal(body, &listed)
		var parts2 []api.CompletedPart
		for _, p := range listed.Parts {
			parts2 = append(parts2, api.CompletedPart{PartNumber: p.PartNumber, ETag: p.ETag})
		}
		b, _ := json.Marshal(api.CompleteRequest{FileKey: up.FileKey, Parts: parts2})
		status, _, resp := f.call("POST", "/multipart/"+up.UploadID+"/complete", string(b), nil)
		if status != 413 || !strings.Contains(string(resp), "aborted") {
			t.Errorf("complete of 7 MiB after declaring 6 = %d %s, want 413 and an abort", status, resp)
		}
		if _, _, ok := f.object(up.FileKey); ok {
			t.Error("an oversize upload was assembled")
		}
		status, _, _ = f.call("GET", partsURL(up.UploadID)+"?fileKey="+url.QueryEscape(up.FileKey), "", nil)
		if status != 404 {
			t.Errorf("list after the abort = %d, want 404", status)
		}
	})
	t.Run("missing parts are named and the upload is kept", func(t *testing.T) {
		up := f.start(size)
		parts := sign(up, up.FileKey)
		if status, msg := put(t, parts.Parts[0].URL, parts.Parts[0].Headers, part1); status != 200 {
			t.Fatalf("part 1 PUT = %d %s", status, msg)
		}
		var listed api.ListPartsResponse
		_, _, body := f.call("GET", partsURL(up.UploadID)+"?fileKey="+url.QueryEscape(up.FileKey), "", nil)
		if err := json.Unmarshal(body, &listed); err != nil || len(listed.Parts) != 1 {
			t.Fatalf("listed parts = %s", body)
		}
		b, _ := json.Marshal(api.CompleteRequest{FileKey: up.FileKey, Parts: []api.CompletedPart{{PartNumber: 1, ETag: listed.Parts[0].ETag}}})
		status, _, resp := f.call("POST", "/multipart/"+up.UploadID+"/complete", string(b), nil)
		if status != 400 || !strings.Contains(string(resp), "parts 2 of 2 are missing") {
			t.Errorf("complete with part 2 missing = %d %s, want 400 naming it", status, resp)
		}
		if got := f.partNumbers(up.FileKey, up.UploadID); len(got) != 1 {
			t.Errorf("S3 holds parts %v after the refusal, want part 1 kept", got)
		}
	})
	t.Run("size over MaxMultipartSize is 413", func(t *testing.T) {
		b, _ := json.Marshal(api.MultipartStartRequest{FileName: "x", ContentType: "text/plain", Size: api.MaxObjectSize + 1})
		if status, _, body := f.call("POST", api.StartMultipart.Resource, string(b), nil); status != 413 {
			t.Errorf("status = %d %s, want 413", status, body)
		}
	})
}

func TestFormUpload(t *testing.T) {
	f := newFlow(t, api.UploadSettings{MaxFileSize: 1024}, "")
	form := func() api.UploadFormResponse {
		var out api.UploadFormResponse
		f.post(api.UploadForm.Resource, map[string]string{"fileName": "form.txt", "contentType": "text/plain"}, 200, &out)
		return out
	}
	send := postForm
	t.Run("within maxSize is stored", func(t *testing.T) {
		got := form()
		if got.MaxSize != 1024 {
			t.Errorf("maxSize = %d, want 1024", got.MaxSize)
		}
		resp, err := send(got, []byte("small enough"))
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("form POST = %d %s", resp.StatusCode, msg)
		}
		if data, ct, ok := f.object(got.FileKey); !ok || string(data) != "small enough" || ct != "text/plain" {
			t.Errorf("stored %q (%s, %v)", data, ct, ok)
		}
	})
	t.Run("over maxSize is EntityTooLarge from S3", func(t *testing.T) {
		got := form()
		resp, err := send(got, bytes.Repeat([]byte("x"), 1025))
		if msg := expectRefused(t, resp, err, 400); msg != "" && !strings.Contains(msg, "EntityTooLarge") {
			t.Errorf("form POST = %s, want EntityTooLarge", msg)
		}
		if _, _, ok := f.object(got.FileKey); ok {
			t.Error("an oversize form upload was stored")
		}
	})
}

// postForm sends content through an issued form, fields first, file last.
func postForm(got api.UploadFormResponse, content []byte) (*http.Response, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range got.Fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "form.txt")
	_, _ = fw.Write(content)
	_ = w.Close()
	return http.Post(got.URL, w.FormDataContentType(), &body)
}
