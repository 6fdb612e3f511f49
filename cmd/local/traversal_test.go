package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// sentinel makes dir/sentinel holding one file and returns the directory's
// path and a check that both are still there, unchanged.
func sentinel(t *testing.T, dir string) (string, func()) {
	t.Helper()
	p := filepath.Join(dir, "sentinel")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(p, "keep.txt")
	if err := os.WriteFile(file, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, func() {
		t.Helper()
		if b, err := os.ReadFile(file); err != nil || string(b) != "keep" {
			t.Errorf("%s: read %q (%v), want it untouched", file, b, err)
		}
		if entries, err := os.ReadDir(p); err != nil || len(entries) != 1 {
			t.Errorf("%s holds %v (%v), want only keep.txt", p, entries, err)
		}
	}
}

// TestUploadIDTraversal sends upload IDs and file keys that name other
// directories once the S3 server joins them into a file path. Every
// multipart route refuses them with 400 before S3 sees them, so directories
// beside and inside the data directory, and the upload's own, are untouched.
func TestUploadIDTraversal(t *testing.T) {
	f := newFlow(t, api.UploadSettings{PartSize: 5 << 20}, "")
	const size = 6 << 20
	up := f.start(size)

	// The data directory is the parent of the S3 root; the test's own
	// temporary directory sits beside it.
	outside, outsideIntact := sentinel(t, t.TempDir())
	inside, insideIntact := sentinel(t, filepath.Join(filepath.Dir(gw.Root), f.bucket+"-outside"))
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(inside)) })
	// Enough ".." to climb from any directory to the root, then a sentinel.
	climb := func(abs string) string {
		return url.PathEscape(strings.Repeat("../", 40) + strings.TrimPrefix(abs, "/"))
	}

	// Path segments as sent: %2F and %2E arrive decoded in the path parameter.
	ids := []string{
		"..%2F..%2Fsentinel", climb(outside), climb(inside),
		"%2E%2E", "%2e%2E%2Fsentinel", ".", "..", "...", "a%2Fb", "..%5C..%5Csentinel", "a%00b", "a%20b",
		strings.Repeat("a", 1025),
	}
	for _, raw := range ids {
		for _, r := range multipartRequests(raw, up.FileKey, size) {
			status, _, body := f.call(r.method, r.path, r.body, nil)
			var e api.ErrorResponse
			_ = json.Unmarshal(body, &e)
			if status != 400 || e.Message != "uploadId is missing or malformed" {
				t.Errorf("%s %s = %d %s, want 400 uploadId is missing or malformed", r.method, r.path, status, body)
			}
		}
	}

	keys := []string{
		"uploads/../../sentinel", "uploads/..%2F..%2Fsentinel", "uploads%2F..%2F..%2Fsentinel",
		strings.Repeat("../", 40) + strings.TrimPrefix(outside, "/"), strings.Repeat("../", 40) + strings.TrimPrefix(inside, "/"),
		up.FileKey + "/../../sentinel", up.FileKey[:len(api.DefaultKeyPrefix)+27] + "..", "..", ".",
	}
	for _, key := range keys {
		for _, r := range multipartRequests(url.PathEscape(up.UploadID), key, size) {
			status, _, body := f.call(r.method, r.path, r.body, nil)
			if status != 400 || !strings.Contains(string(body), "fileKey") {
				t.Errorf("fileKey %q: %s %s = %d %s, want 400 about the fileKey", key, r.method, r.path, status, body)
			}
		}
	}

	outsideIntact()
	insideIntact()
	if status, _, body := f.call("GET", partsURL(up.UploadID)+"?fileKey="+url.QueryEscape(up.FileKey), "", nil); status != 200 {
		t.Errorf("the upload after the attempts: list parts = %d %s, want 200", status, body)
	}
}

type apiRequest struct{ method, path, body string }

// multipartRequests are the calls of every route that names an upload, with
// the uploadId path segment raw (sent as is) and key as the fileKey.
func multipartRequests(raw, key string, size int64) []apiRequest {
	sign, _ := json.Marshal(api.SignPartsRequest{FileKey: key, Size: size, PartNumbers: []int{1}})
	complete, _ := json.Marshal(api.CompleteRequest{FileKey: key, Parts: []api.CompletedPart{{PartNumber: 1, ETag: `"0123456789abcdef0123456789abcdef"`}}})
	q := "?fileKey=" + url.QueryEscape(key)
	return []apiRequest{
		{"DELETE", "/multipart/" + raw + q, ""},
		{"POST", "/multipart/" + raw + "/parts", string(sign)},
		{"GET", "/multipart/" + raw + "/parts" + q, ""},
		{"POST", "/multipart/" + raw + "/complete", string(complete)},
	}
}
