package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// randomBytes returns n bytes from a fixed seed.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// storedChecksum is the CRC64NVME the S3 server holds for key.
func (f *flow) storedChecksum(key string) string {
	f.t.Helper()
	out, err := f.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.ChecksumCRC64NVME)
}

// Whole-file integrity on the real S3 server, which checks full-object
// CRC64NVME: each part's checksum is signed into its URL, the whole
// file's is sent at completion, and a byte off anywhere is refused.
func TestWholeFileChecksum(t *testing.T) {
	f := newFlow(t, api.UploadSettings{PartSize: 5 << 20}, "")
	const size = 11 << 20 // three parts: 5, 5 and 1 MiB
	data := randomBytes(1, size)
	plan := api.PlanParts(size, 5<<20)
	partSum := func(n int) uint64 {
		off := int64(n-1) * plan.PartSize
		return api.CRC64NVME(data[off : off+plan.PartLength(n)])
	}
	whole := api.CRC64NVME(data)
	var combined uint64
	for n := 1; n <= plan.PartCount; n++ {
		if n == 1 {
			combined = partSum(1)
		} else {
			combined = api.CombineCRC64NVME(combined, partSum(n), plan.PartLength(n))
		}
	}
	if combined != whole {
		t.Fatalf("parts combine into %016x, the file is %016x", combined, whole)
	}

	// send starts an upload and sends its parts, part flip with one byte
	// flipped; it returns the upload and the parts' ETags in order.
	send := func(t *testing.T, flip int) (api.MultipartStartResponse, []api.CompletedPart, []int) {
		t.Helper()
		var up api.MultipartStartResponse
		f.post(api.StartMultipart.Resource, api.MultipartStartRequest{FileName: "whole.bin", ContentType: "application/octet-stream",
			Size: size, ChecksumAlgorithm: "CRC64NVME"}, 200, &up)
		sums := make([]string, plan.PartCount)
		numbers := make([]int, plan.PartCount)
		for i := range sums {
			numbers[i], sums[i] = i+1, api.EncodeCRC64NVME(partSum(i+1))
		}
		var signed api.SignPartsResponse
		f.post(partsURL(up.UploadID), api.SignPartsRequest{FileKey: up.FileKey, Size: size, PartNumbers: numbers, ChecksumsCRC64NVME: sums}, 200, &signed)
		var parts []api.CompletedPart
		var refused []int
		for _, p := range signed.Parts {
			if p.Headers["X-Amz-Checksum-Crc64nvme"] != sums[p.PartNumber-1] {
				t.Fatalf("part %d headers = %v, want its checksum signed", p.PartNumber, p.Headers)
			}
			off := int64(p.PartNumber-1) * plan.PartSize
			body := bytes.Clone(data[off : off+plan.PartLength(p.PartNumber)])
			if p.PartNumber == flip {
				body[len(body)/2] ^= 1
			}
			resp, err := http.DefaultClient.Do(putRequest(t, p.URL, p.Headers, body))
			if p.PartNumber == flip {
				expectRefused(t, resp, err, http.StatusBadRequest)
				refused = append(refused, p.PartNumber)
				continue
			}
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("PUT part %d: %v %v", p.PartNumber, resp, err)
			}
			resp.Body.Close()
			parts = append(parts, api.CompletedPart{PartNumber: p.PartNumber, ETag: resp.Header.Get("ETag")})
		}
		return up, parts, refused
	}
	complete := func(up api.MultipartStartResponse, parts []api.CompletedPart, sum string) (int, []byte) {
		b, _ := json.Marshal(api.CompleteRequest{FileKey: up.FileKey, Parts: parts, ChecksumCRC64NVME: sum})
		status, _, body := f.call("POST", "/multipart/"+url.PathEscape(up.UploadID)+"/complete", string(b), nil)
		return status, body
	}

	t.Run("the right whole-file checksum: stored, and S3 holds it", func(t *testing.T) {
		up, parts, _ := send(t, 0)
		status, body := complete(up, parts, api.EncodeCRC64NVME(whole))
		var out api.CompleteResponse
		if status != 200 || json.Unmarshal(body, &out) != nil || out.ChecksumCRC64NVME != api.EncodeCRC64NVME(whole) {
			t.Fatalf("complete = %d %s, want 200 with the file's checksum", status, body)
		}
		if got := f.storedChecksum(up.FileKey); got != api.EncodeCRC64NVME(whole) {
			t.Errorf("HeadObject checksum = %q, want the client's %q", got, api.EncodeCRC64NVME(whole))
		}
		if stored, _, _ := f.object(up.FileKey); !bytes.Equal(stored, data) {
			t.Error("the stored object is not the file")
		}
	})
	t.Run("a wrong whole-file checksum: refused, nothing stored", func(t *testing.T) {
		up, parts, _ := send(t, 0)
		status, body := complete(up, parts, api.EncodeCRC64NVME(whole^1))
		if status != http.StatusBadRequest || !strings.Contains(string(body), "BadDigest") {
			t.Errorf("complete = %d %s, want 400 BadDigest", status, body)
		}
		if _, _, ok := f.object(up.FileKey); ok {
			t.Error("an object was stored")
		}
	})
	t.Run("one flipped byte in a part: the part is refused", func(t *testing.T) {
		up, parts, refused := send(t, 2)
		if len(refused) != 1 || len(parts) != 2 {
			t.Fatalf("refused parts %v, sent %d", refused, len(parts))
		}
		if got := f.partNumbers(up.FileKey, up.UploadID); len(got) != 2 {
			t.Errorf("S3 holds parts %v, want 1 and 3 only", got)
		}
	})
	t.Run("a single PUT's checksum: signed, checked, held", func(t *testing.T) {
		small := randomBytes(2, 1000)
		sum := api.EncodeCRC64NVME(api.CRC64NVME(small))
		got := f.uploadURL(api.UploadURLRequest{FileName: "small.bin", ContentType: "application/octet-stream", Size: int64p(len(small)), ChecksumCRC64NVME: sum})
		flipped := bytes.Clone(small)
		flipped[0] ^= 1
		resp, err := http.DefaultClient.Do(putRequest(t, got.UploadURL, got.Headers, flipped))
		expectRefused(t, resp, err, http.StatusBadRequest)
		if status, msg := put(t, got.UploadURL, got.Headers, small); status != 200 {
			t.Fatalf("PUT = %d %s", status, msg)
		}
		if held := f.storedChecksum(got.FileKey); held != sum {
			t.Errorf("HeadObject checksum = %q, want %q", held, sum)
		}
	})
}

// A multipart upload is a capability only with its secret: someone who
// learned its fileKey and uploadId cannot sign, list, complete or abort.
func TestMultipartSecret(t *testing.T) {
	f := newFlow(t, api.UploadSettings{PartSize: 5 << 20}, "")
	up := f.start(6 << 20)
	id := url.PathEscape(up.UploadID)
	q := "?fileKey=" + url.QueryEscape(up.FileKey)
	calls := []struct{ method, path, body string }{
		{"POST", "/multipart/" + id + "/parts", `{"fileKey":"` + up.FileKey + `","size":6291456,"partNumbers":[1]}`},
		{"GET", "/multipart/" + id + "/parts" + q, ""},
		{"POST", "/multipart/" + id + "/complete", `{"fileKey":"` + up.FileKey + `","parts":[{"partNumber":1,"etag":"abc"}]}`},
		{"DELETE", "/multipart/" + id + q, ""},
	}
	for _, secret := range []string{"wrong", up.UploadSecret + "x"} {
		for _, c := range calls {
			status, _, body := f.call(c.method, c.path, c.body, map[string]string{api.UploadSecretHeader: secret})
			if status != http.StatusForbidden || !strings.Contains(string(body), `"Forbidden"`) {
				t.Errorf("%s %s with secret %q = %d %s, want 403 Forbidden", c.method, c.path, secret, status, body)
			}
		}
	}
	// The upload is still there, and its holder can still abort it.
	if status, _, body := f.call("DELETE", "/multipart/"+id+q, "", nil); status != http.StatusNoContent {
		t.Errorf("abort with the secret = %d %s, want 204", status, body)
	}
}

// Gzipped HTML PUT with an unsigned Content-Encoding: gzip is stored by
// S3 as it is, and would be served as a page: the verifier rejects it, the
// status route says why, and no download is issued.
func TestGzippedHTMLIsRejected(t *testing.T) {
	f := newEventFlow(t, api.UploadSettings{Verified: true}, nil)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte("<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"))
	_ = w.Close()
	got := f.uploadURL(api.UploadURLRequest{FileName: "archive.gz", ContentType: "application/gzip"})
	headers := map[string]string{"Content-Encoding": "gzip"}
	for k, v := range got.Headers {
		headers[k] = v
	}
	if status, msg := put(t, got.UploadURL, headers, gz.Bytes()); status != 200 {
		t.Fatalf("PUT with an unsigned Content-Encoding = %d %s: S3 takes it", status, msg)
	}
	p := f.events(got.FileKey, 1)[0]
	if p.event.DetailType != api.EventUploadRejected || p.detail.Reason != api.ReasonUnexpectedMetadata {
		t.Fatalf("published %s %+v, want Upload Rejected for %s", p.event.DetailType, p.detail, api.ReasonUnexpectedMetadata)
	}
	status, _, body := f.call("GET", api.UploadStatus.Resource+"?fileKey="+url.QueryEscape(got.FileKey), "", nil)
	var st api.UploadStatusResponse
	if status != 200 || json.Unmarshal(body, &st) != nil || st != (api.UploadStatusResponse{Status: api.StatusRejected, Reason: api.ReasonUnexpectedMetadata}) {
		t.Errorf("status route = %d %s, want rejected for %s", status, body, api.ReasonUnexpectedMetadata)
	}
	if status, _ := f.presignedRead(http.MethodGet, got.FileKey); status != http.StatusForbidden {
		t.Errorf("a pre-signed read of it = %d, want 403", status)
	}
}

// DELETE /files with the ETag the file list gave deletes only that object:
// a file replaced since is kept, and the caller gets 412.
func TestDeleteIsConditional(t *testing.T) {
	f := newSignedInFlow(t, "https://app.example")
	auth := map[string]string{"Authorization": "Bearer " + f.token("alice")}
	got := func() api.UploadURLResponse {
		b, _ := json.Marshal(api.UploadURLRequest{FileName: "notes.txt", ContentType: "text/plain"})
		status, _, body := f.call("POST", api.UploadURL.Resource, string(b), auth)
		var out api.UploadURLResponse
		if status != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("upload url = %d %s", status, body)
		}
		return out
	}()
	if status, msg := put(t, got.UploadURL, got.Headers, []byte("first")); status != 200 {
		t.Fatalf("PUT = %d %s", status, msg)
	}
	status, _, body := f.call("GET", api.ListFiles.Resource, "", auth)
	var list api.ListFilesResponse
	if status != 200 || json.Unmarshal(body, &list) != nil || len(list.Files) != 1 || list.Files[0].ETag == "" {
		t.Fatalf("files = %d %s, want one with its ETag", status, body)
	}
	listed := list.Files[0].ETag
	// Replaced after it was listed (a replayed URL).
	if status, msg := put(t, got.UploadURL, got.Headers, []byte("second")); status != 200 {
		t.Fatalf("PUT again = %d %s", status, msg)
	}
	del := func(etag string) (int, []byte) {
		q := url.Values{"fileKey": {got.FileKey}, "etag": {etag}}
		status, _, body := f.call("DELETE", api.DeleteFile.Resource+"?"+q.Encode(), "", auth)
		return status, body
	}
	if status, body := del(listed); status != http.StatusPreconditionFailed || !strings.Contains(string(body), `"PreconditionFailed"`) {
		t.Errorf("delete with the listed ETag of a replaced file = %d %s, want 412", status, body)
	}
	if data, _, ok := f.object(got.FileKey); !ok || string(data) != "second" {
		t.Fatalf("the replacement was not kept: %q %v", data, ok)
	}
	if status, body := del(f.etag(got.FileKey)); status != http.StatusNoContent {
		t.Errorf("delete with the current ETag = %d %s, want 204", status, body)
	}
	if _, _, ok := f.object(got.FileKey); ok {
		t.Error("the file is still there")
	}
}

// squatter stores an object at the key of the first part it forwards, as
// a client racing for the same key would, before the part reaches S3.
type squatter struct {
	f    *flow
	once sync.Once
}

func (s *squatter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") != "" {
		s.once.Do(func() {
			key := strings.TrimPrefix(r.URL.Path, "/"+s.f.bucket+"/")
			_, _ = s.f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.f.bucket), Key: aws.String(key),
				Body: strings.NewReader("already here"), IfNoneMatch: aws.String("*")})
		})
	}
	return http.DefaultTransport.RoundTrip(r)
}

// The Go client's multipart upload meets an existing object at completion
// (412 with preventOverwrite): it fails, frees the upload's parts and
// keeps no resume state; the object is untouched.
func TestClientGivesUpAnUploadThatCannotComplete(t *testing.T) {
	f := newFlow(t, api.UploadSettings{PartSize: 5 << 20, PreventOverwrite: true}, "")
	path, _ := writeFile(t, 12<<20)
	stateDir := t.TempDir()
	c := &uploader.Client{API: f.api.URL, Threshold: 1, StateDir: stateDir, HTTP: &http.Client{Transport: &squatter{f: f}}}
	_, err := c.UploadFile(context.Background(), path, "")
	var ae *uploader.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusPreconditionFailed {
		t.Fatalf("upload error = %v, want 412", err)
	}
	out, lerr := f.s3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(f.bucket)})
	if lerr != nil || len(out.Uploads) != 0 {
		t.Errorf("multipart uploads left = %v (%v), want none", out, lerr)
	}
	if entries, _ := os.ReadDir(stateDir); len(entries) != 0 {
		t.Errorf("resume state left behind: %v", entries)
	}
}

// A URL replayed after its file was deleted stores a new object, which the
// verifier judges on its own, headers included: the same bytes with a
// Content-Encoding a download would serve are rejected, not verified by
// the first object's verdict.
func TestReplayAfterDeleteIsJudgedAgain(t *testing.T) {
	f := newQuotaFlow(t, api.UploadSettings{SignIn: true, PreventOverwrite: true})
	alice := f.as("alice")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte("<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"))
	_ = w.Close()
	size := int64(gz.Len())
	b, _ := json.Marshal(api.UploadURLRequest{FileName: "archive.gz", ContentType: "application/gzip", Size: &size})
	status, _, body := f.call("POST", api.UploadURL.Resource, string(b), alice)
	var got api.UploadURLResponse
	if status != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("upload url = %d %s", status, body)
	}
	if status, msg := put(t, got.UploadURL, got.Headers, gz.Bytes()); status != 200 {
		t.Fatalf("PUT = %d %s", status, msg)
	}
	if p := f.events(got.FileKey, 1)[0]; p.event.DetailType != api.EventUploadVerified {
		t.Fatalf("first upload: %s %+v, want verified", p.event.DetailType, p.detail)
	}
	q := url.Values{"fileKey": {got.FileKey}}
	if status, _, body := f.call("DELETE", api.DeleteFile.Resource+"?"+q.Encode(), "", alice); status != 204 {
		t.Fatalf("delete = %d %s", status, body)
	}
	replay := map[string]string{"Content-Encoding": "gzip"}
	for k, v := range got.Headers {
		replay[k] = v
	}
	if status, msg := put(t, got.UploadURL, replay, gz.Bytes()); status != 200 {
		t.Fatalf("replayed PUT = %d %s", status, msg)
	}
	p := f.events(got.FileKey, 2)[1]
	if p.event.DetailType != api.EventUploadRejected || p.detail.Reason != api.ReasonUnexpectedMetadata {
		t.Fatalf("replay: %s %+v, want rejected for %s", p.event.DetailType, p.detail, api.ReasonUnexpectedMetadata)
	}
	b, _ = json.Marshal(api.DownloadURLRequest{FileKey: got.FileKey})
	if status, _, body := f.call("POST", api.DownloadURL.Resource, string(b), alice); status != http.StatusConflict {
		t.Errorf("download url of the replay = %d %s, want 409", status, body)
	}
}
