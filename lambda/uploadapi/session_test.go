package uploadapi_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// The size declared when an upload starts is kept in a session object and
// binds every later call, whichever instance serves it.
func TestMultipartSessionBindsTheDeclaredSize(t *testing.T) {
	t.Run("start writes the session", func(t *testing.T) {
		fake := &fakeS3{objects: map[string][]byte{}}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		out := decodeJSON[api.MultipartStartResponse](t, call(t, h, apiRequest("POST", "/multipart", "", nil,
			`{"fileName":"a.bin","contentType":"application/octet-stream","size":`+strconv.FormatInt(threePartSize, 10)+`}`)))
		var got map[string]any
		if err := json.Unmarshal(fake.objects[sessionKey()], &got); err != nil {
			t.Fatalf("session %q: %v", fake.objects[sessionKey()], err)
		}
		if got["fileKey"] != out.FileKey || got["size"] != float64(threePartSize) || got["partSize"] != float64(16<<20) {
			t.Errorf("session = %v, want the key, the size and the part size", got)
		}
	})
	t.Run("start that cannot write its session aborts", func(t *testing.T) {
		fake := &fakeS3{objects: map[string][]byte{}, errs: map[string]error{"PutObject": errors.New("secret")}}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		resp := call(t, h, apiRequest("POST", "/multipart", "", nil, `{"fileName":"a.bin","contentType":"a/b","size":10}`))
		wantError(t, resp, 500, "InternalError", "internal error")
		wantCalls(t, fake, 1, 0, 0, 1)
	})
	sign := func(size int64) string {
		return jsonBody(t, api.SignPartsRequest{FileKey: testKey, Size: size, PartNumbers: []int{1}})
	}
	for _, tc := range []struct {
		name    string
		objects map[string][]byte
		body    string
		status  int
		code    string
		msg     string
	}{
		{"signing for 5 TiB after declaring 32 MiB", nil, sign(api.MaxObjectSize), 400, "BadRequest", "differs from the 33554437 bytes declared"},
		{"signing for 100 MiB after declaring 32 MiB", nil, sign(100 << 20), 400, "BadRequest", "differs from the 33554437 bytes declared"},
		{"no session: never started here, or finished", map[string][]byte{}, sign(threePartSize), 404, "NoSuchUpload", "no such multipart upload"},
		{"no session, as S3 says it to a role that cannot list", nil, sign(threePartSize), 404, "NoSuchUpload", "no such multipart upload"},
		{"a session of another key", map[string][]byte{sessionKey(): []byte(`{"fileKey":"uploads/0123456789abcdefghijklmnop-other.mp4","size":10,"partSize":16777216}`)},
			sign(10), 404, "NoSuchUpload", "no such multipart upload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{objects: tc.objects}
			if strings.Contains(tc.name, "cannot list") {
				fake.errs = map[string]error{"GetObject": &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}}
			}
			h, _ := newS3Handler(t, api.UploadSettings{}, fake)
			wantError(t, call(t, h, apiRequest("POST", "/multipart/{uploadId}/parts", testUploadID, nil, tc.body)), tc.status, tc.code, tc.msg)
		})
	}
	// A completion sent again needs the session to be answered; an aborted
	// upload has nothing left to answer.
	t.Run("abort drops the session, completion keeps it", func(t *testing.T) {
		for _, req := range []struct {
			method, resource, body string
			kept                   bool
		}{
			{"POST", "/multipart/{uploadId}/complete", completeBody(t, []int{1, 2, 3}, []string{etag(1), etag(2), etag(3)}), true},
			{"DELETE", "/multipart/{uploadId}", "", false},
		} {
			fake := &fakeS3{parts: heldParts(false)}
			h, _ := newS3Handler(t, api.UploadSettings{}, fake)
			var q map[string]string
			if req.method == "DELETE" {
				q = map[string]string{"fileKey": testKey}
			}
			if resp := call(t, h, apiRequest(req.method, req.resource, testUploadID, q, req.body)); resp.StatusCode >= 300 {
				t.Fatalf("%s: %d %s", req.method, resp.StatusCode, resp.Body)
			}
			if _, ok := fake.objects[sessionKey()]; ok != req.kept || len(fake.deletes) != map[bool]int{true: 0, false: 1}[req.kept] {
				t.Errorf("%s: session kept = %v (deletes %v), want %v", req.method, ok, fake.deletes, req.kept)
			}
		}
	})
}

// With preventOverwrite, completion is conditional too; an existing object
// gives a 412 that keeps the upload, and S3's conflict a 503 to try again.
func TestMultipartCompletionPreventsOverwrite(t *testing.T) {
	body := completeBody(t, []int{1, 2, 3}, []string{etag(1), etag(2), etag(3)})
	t.Run("sends If-None-Match", func(t *testing.T) {
		fake := &fakeS3{parts: heldParts(false)}
		h, _ := newS3Handler(t, api.UploadSettings{PreventOverwrite: true}, fake)
		decodeJSON[api.CompleteResponse](t, call(t, h, apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, body)))
		if got := aws.ToString(fake.completes[0].IfNoneMatch); got != "*" {
			t.Errorf("IfNoneMatch = %q, want *", got)
		}
	})
	t.Run("not without the setting", func(t *testing.T) {
		fake := &fakeS3{parts: heldParts(false)}
		h, _ := newS3Handler(t, api.UploadSettings{}, fake)
		decodeJSON[api.CompleteResponse](t, call(t, h, apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, body)))
		if fake.completes[0].IfNoneMatch != nil {
			t.Errorf("IfNoneMatch = %q, want none", *fake.completes[0].IfNoneMatch)
		}
	})
	for _, tc := range []struct {
		name, code, want, says string
		status                 int
		retryAfter             string
	}{
		{"an object with the key is a 412", "PreconditionFailed", "PreconditionFailed", "the upload is kept", 412, ""},
		// S3 documents its 409 as one to retry: another write to the key
		// was under way, such as this completion sent again.
		{"S3's conflict is a 503 Busy to try again", "ConditionalRequestConflict", "Busy", "try again", 503, "5"},
	} {
		t.Run(tc.name+", and the session is kept", func(t *testing.T) {
			fake := &fakeS3{parts: heldParts(false), errs: map[string]error{"CompleteMultipartUpload": &smithy.GenericAPIError{Code: tc.code}}}
			h, _ := newS3Handler(t, api.UploadSettings{PreventOverwrite: true}, fake)
			resp := call(t, h, apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, body))
			wantError(t, resp, tc.status, tc.want, tc.says)
			if got := resp.Headers["Retry-After"]; got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			wantCalls(t, fake, 0, 1, 1, 0)
			if _, ok := fake.objects[sessionKey()]; !ok {
				t.Error("session dropped")
			}
		})
	}
}
