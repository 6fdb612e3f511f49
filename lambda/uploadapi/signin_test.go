package uploadapi_test

import (
	"crypto/md5"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

const issuer = "https://issuer.example"

// as makes req come from the caller sub, as a Cognito user pool authorizer
// (claims) or the OIDC token authorizer (context) reports it.
func as(req events.APIGatewayProxyRequest, sub string, cognito bool) events.APIGatewayProxyRequest {
	if cognito {
		req.RequestContext.Authorizer = map[string]any{"claims": map[string]any{"iss": issuer, "sub": sub}}
	} else {
		req.RequestContext.Authorizer = map[string]any{"iss": issuer, "sub": sub, "principalId": "ignored"}
	}
	return req
}

func signedIn(t *testing.T, fake *fakeS3) *uploadapi.Handler {
	t.Helper()
	h, _ := newS3Handler(t, api.UploadSettings{SignIn: true}, fake)
	return h
}

func TestSignedInKeysAreOwned(t *testing.T) {
	for _, cognito := range []bool{true, false} {
		t.Run("cognito="+strconv.FormatBool(cognito), func(t *testing.T) {
			h := signedIn(t, &fakeS3{})
			out := decodeOK(t, call(t, h, as(post(`{"fileName":"a.txt","contentType":"text/plain"}`), "alice", cognito)))
			want := "uploads/" + api.CallerID(issuer, "alice") + "/"
			if !strings.HasPrefix(out.FileKey, want) || !api.IsIssuedKey(want, out.FileKey) {
				t.Errorf("fileKey = %s, want one under %s", out.FileKey, want)
			}
		})
	}
	t.Run("no verified caller", func(t *testing.T) {
		h := signedIn(t, &fakeS3{})
		req := post(`{"fileName":"a.txt","contentType":"text/plain"}`)
		req.Headers["X-Caller"] = "alice" // a header names nobody
		wantError(t, call(t, h, req), 403, "Forbidden", "no verified caller")
	})
	t.Run("without sign-in, the layout and routes are today's", func(t *testing.T) {
		h, _ := newS3Handler(t, api.UploadSettings{}, &fakeS3{})
		out := decodeOK(t, call(t, h, as(post(`{"fileName":"a.txt","contentType":"text/plain"}`), "alice", true)))
		if !api.IsIssuedKey("uploads/", out.FileKey) {
			t.Errorf("fileKey = %s, want uploads/<id>-a.txt", out.FileKey)
		}
		resp := call(t, h, apiRequest("GET", "/files", "", nil, ""))
		wantError(t, resp, 404, "NotFound", "no route")
	})
}

// Bob cannot reach alice's upload or files by naming her key: every route
// that takes a fileKey answers 403 before any S3 call.
func TestAnotherCallersKeyIsForbidden(t *testing.T) {
	alice := "uploads/" + api.CallerID(issuer, "alice") + "/0123456789abcdefghijklmnop-movie.mp4"
	q := map[string]string{"fileKey": alice}
	for _, tc := range []struct {
		name string
		req  events.APIGatewayProxyRequest
	}{
		{"sign parts", apiRequest("POST", "/multipart/{uploadId}/parts", testUploadID, nil, jsonBody(t, api.SignPartsRequest{FileKey: alice, Size: 10, PartNumbers: []int{1}}))},
		{"list parts", apiRequest("GET", "/multipart/{uploadId}/parts", testUploadID, q, "")},
		{"complete", apiRequest("POST", "/multipart/{uploadId}/complete", testUploadID, nil, completeBody(t, []int{1}, []string{etag(1)}))},
		{"abort", apiRequest("DELETE", "/multipart/{uploadId}", testUploadID, q, "")},
		{"download", apiRequest("POST", "/download-url", "", nil, `{"fileKey":"`+alice+`"}`)},
		{"delete", apiRequest("DELETE", "/files", "", q, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if tc.name == "complete" {
				req.Body = strings.Replace(req.Body, testKey, alice, 1)
			}
			fake := &fakeS3{objects: map[string][]byte{alice: []byte("hers")}}
			h := signedIn(t, fake)
			wantError(t, call(t, h, as(req, "bob", true)), 403, "Forbidden", "another caller")
			wantCalls(t, fake, 0, 0, 0, 0)
			if len(fake.deletes) != 0 || fake.objects[alice] == nil {
				t.Error("alice's file was touched")
			}
		})
	}
}

func TestCallersFiles(t *testing.T) {
	prefix := "uploads/" + api.CallerID(issuer, "alice") + "/"
	bobs := "uploads/" + api.CallerID(issuer, "bob") + "/0123456789abcdefghijklmnop-b.txt"
	objects := map[string][]byte{bobs: []byte("bob")}
	var keys []string
	for i, name := range []string{"a.txt", "b.pdf", "c.png"} {
		k := prefix + strings.Repeat(strconv.Itoa(i), 26) + "-" + name
		objects[k] = []byte(name)
		keys = append(keys, k)
	}
	fake := &fakeS3{objects: objects}
	h := signedIn(t, fake)

	t.Run("list pages through the caller's files only", func(t *testing.T) {
		var got []api.FileInfo
		token := ""
		for range 3 {
			q := map[string]string{"maxFiles": "2"}
			if token != "" {
				q["continuationToken"] = token
			}
			page := decodeJSON[api.ListFilesResponse](t, call(t, h, as(apiRequest("GET", "/files", "", q, ""), "alice", false)))
			got = append(got, page.Files...)
			if token = page.NextToken; token == "" {
				break
			}
		}
		if len(got) != 3 || got[0].FileKey != keys[0] || got[0].FileName != "a.txt" || got[0].Size != 5 || got[0].LastModified != "2026-11-27T10:00:00Z" ||
			got[0].ETag != `"a5e54d1fd7bb69a228ef0dcd2431367e"` {
			t.Errorf("files = %+v", got)
		}
		for _, in := range fake.listObjects {
			if *in.Prefix != prefix {
				t.Errorf("listed prefix %s, want only %s", *in.Prefix, prefix)
			}
		}
		empty := decodeJSON[api.ListFilesResponse](t, call(t, h, as(apiRequest("GET", "/files", "", nil, ""), "carol", true)))
		if len(empty.Files) != 0 {
			t.Errorf("carol sees %v", empty.Files)
		}
	})
	t.Run("download forces an attachment under the file's name", func(t *testing.T) {
		out := decodeJSON[api.DownloadURLResponse](t, call(t, h, as(apiRequest("POST", "/download-url", "", nil, `{"fileKey":"`+keys[1]+`"}`), "alice", true)))
		u, err := url.Parse(out.DownloadURL)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("response-content-disposition"); got != "attachment; filename=b.pdf" || out.FileName != "b.pdf" {
			t.Errorf("disposition %q name %q", got, out.FileName)
		}
		if u.Query().Get("X-Amz-Expires") != "60" || out.ExpiresIn != 60 {
			t.Errorf("expiry %s / %d, want 60 s", u.Query().Get("X-Amz-Expires"), out.ExpiresIn)
		}
		wantError(t, call(t, h, as(apiRequest("POST", "/download-url", "", nil, `{"fileKey":"`+prefix+strings.Repeat("9", 26)+`-gone.txt"}`), "alice", true)),
			404, "NotFound", "no such file")
	})
	t.Run("delete removes only that file", func(t *testing.T) {
		resp := call(t, h, as(apiRequest("DELETE", "/files", "", map[string]string{"fileKey": keys[2]}, ""), "alice", true))
		if resp.StatusCode != 204 || fake.objects[keys[2]] != nil || fake.objects[bobs] == nil {
			t.Errorf("delete = %d; objects now %v", resp.StatusCode, len(fake.objects))
		}
	})
	t.Run("delete with the listed ETag removes only what was listed", func(t *testing.T) {
		listed := `"` + fmt.Sprintf("%x", md5.Sum([]byte("b.pdf"))) + `"`
		del := func(etag string) events.APIGatewayProxyResponse {
			return call(t, h, as(apiRequest("DELETE", "/files", "", map[string]string{"fileKey": keys[1], "etag": etag}, ""), "alice", true))
		}
		fake.objects[keys[1]] = []byte("b.pdf, replaced since it was listed")
		wantError(t, del(listed), 412, "PreconditionFailed", "changed since it was listed")
		if fake.objects[keys[1]] == nil {
			t.Fatal("a replaced file was deleted")
		}
		wantError(t, del("not an etag!"), 400, "BadRequest", "etag")
		fake.objects[keys[1]] = []byte("b.pdf")
		if resp := del(strings.Trim(listed, `"`)); resp.StatusCode != 204 || fake.objects[keys[1]] != nil {
			t.Errorf("delete = %d %s; object kept = %v", resp.StatusCode, resp.Body, fake.objects[keys[1]] != nil)
		}
		wantError(t, del(listed), 404, "NotFound", "no such file")
	})
}

// A multipart upload is bound to the caller that started it.
func TestSessionBindsTheOwner(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{}}
	h := signedIn(t, fake)
	started := decodeJSON[api.MultipartStartResponse](t, call(t, h, as(apiRequest("POST", "/multipart", "", nil,
		`{"fileName":"a.bin","contentType":"application/octet-stream","size":10}`), "alice", true)))
	var sess map[string]any
	_ = json.Unmarshal(fake.objects[sessionKey()], &sess)
	if sess["owner"] != api.CallerID(issuer, "alice") {
		t.Errorf("session = %v, want alice as owner", sess)
	}
	body := jsonBody(t, api.SignPartsRequest{FileKey: started.FileKey, Size: 10, PartNumbers: []int{1}})
	withSecret := func(req events.APIGatewayProxyRequest) events.APIGatewayProxyRequest {
		req.Headers[api.UploadSecretHeader] = started.UploadSecret
		return req
	}
	decodeJSON[api.SignPartsResponse](t, call(t, h, withSecret(as(apiRequest("POST", "/multipart/{uploadId}/parts", testUploadID, nil, body), "alice", true))))
	wantError(t, call(t, h, withSecret(as(apiRequest("POST", "/multipart/{uploadId}/parts", testUploadID, nil, body), "bob", true))), 403, "Forbidden", "another caller")
}
