package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

type hostile struct {
	name, method, path, body string
	headers                  map[string]string
	want                     int
}

func hostileRequests(key string) []hostile {
	return []hostile{
		{"malformed JSON", "POST", api.UploadURL.Resource, `{"fileName":`, nil, 400},
		{"wrong types", "POST", api.UploadURL.Resource, `{"fileName":["a"],"contentType":7}`, nil, 400},
		{"size as string", "POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"text/plain","size":"9"}`, nil, 400},
		{"JSON null", "POST", api.UploadURL.Resource, `null`, nil, 400},
		{"deep nesting", "POST", api.UploadURL.Resource, strings.Repeat("[", 10000), nil, 400},
		{"body over 1 MB: the request model refuses its 1 MiB name", "POST", api.UploadURL.Resource, `{"fileName":"` + strings.Repeat("x", 1<<20) + `","contentType":"text/plain"}`, nil, 400},
		{"body over API Gateway's 10 MB", "POST", api.UploadURL.Resource, strings.Repeat("x", 10<<20+1), nil, 413},
		{"unknown path", "GET", "/etc/passwd", "", nil, 403},
		{"unknown method", "DELETE", api.UploadURL.Resource, "", nil, 403},
		{"missing API key", "POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"text/plain"}`, map[string]string{"X-Api-Key": ""}, 403},
		{"wrong API key", "POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"text/plain"}`, map[string]string{"X-Api-Key": key + "x"}, 403},
		{"size over the limit", "POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"text/plain","size":99999999999}`, nil, 413},
		{"type not allowed", "POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"application/x-msdownload"}`, nil, 415},
	}
}

// TestBadInputEndToEnd sends hostile requests through the stage: each gets
// a 4xx JSON error with CORS headers, and the API keeps working after a
// thousand of them.
func TestBadInputEndToEnd(t *testing.T) {
	const key = "test-key-123"
	origin := "https://app.example"
	f := newFlow(t, api.UploadSettings{AllowedOrigins: []string{origin}, AllowedContentTypes: []string{"text/*", "image/*"}}, key)
	reqs := hostileRequests(key)
	for _, r := range reqs {
		t.Run(r.name, func(t *testing.T) {
			headers := map[string]string{"Origin": origin}
			for k, v := range r.headers {
				headers[k] = v
			}
			status, h, body := f.call(r.method, r.path, r.body, headers)
			if status != r.want {
				t.Errorf("status = %d %s, want %d", status, body, r.want)
			}
			var e api.ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || e.Message == "" || e.Code == "" {
				t.Errorf("body %q is not a JSON error with message and code", body)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, origin)
			}
		})
	}
	t.Run("a valid request after 1000 hostile ones", func(t *testing.T) {
		for i := range 1000 {
			r := reqs[i%len(reqs)]
			if strings.Contains(r.name, "10 MB") {
				continue // keep the loop quick; the large case ran above
			}
			if status, _, body := f.call(r.method, r.path, r.body, r.headers); status < 400 || status >= 500 {
				t.Fatalf("hostile request %d (%s) = %d %s", i, r.name, status, body)
			}
		}
		got := f.uploadURL(api.UploadURLRequest{FileName: "after.txt", ContentType: "text/plain"})
		if status, msg := put(t, got.UploadURL, got.Headers, []byte("still fine")); status != 200 {
			t.Fatalf("PUT = %d %s", status, msg)
		}
	})
	t.Run("preflight", func(t *testing.T) {
		status, h, _ := f.call("OPTIONS", api.UploadURL.Resource, "", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "X-Api-Key": ""})
		if status != 204 || h.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Api-Key") {
			t.Errorf("preflight = %d %v", status, h)
		}
	})
}

// Local mode refuses what the deployed stage's request models refuse, before
// the function runs, with the stage's status and error shape; the function
// refuses the same requests on its own with the same status.
func TestStageAppliesTheRequestModels(t *testing.T) {
	f := newFlow(t, api.UploadSettings{RequireSize: true}, "")
	direct, err := uploadapi.New(api.UploadSettings{Bucket: f.bucket, RequireSize: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts := api.ListParts.Path("abc")
	for _, tc := range []struct {
		name, method, path, body, code string
	}{
		{"missing required field", "POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"text/plain"}`, "BAD_REQUEST_BODY"},
		{"unknown field", "POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"text/plain","size":1,"acl":"public-read"}`, "BAD_REQUEST_BODY"},
		{"bad checksum", "POST", api.UploadURL.Resource, `{"fileName":"a","contentType":"text/plain","size":1,"checksumSHA256":"abc"}`, "BAD_REQUEST_BODY"},
		{"part number zero", "POST", api.SignParts.Path("abc"), `{"fileKey":"uploads/k","size":1,"partNumbers":[0]}`, "BAD_REQUEST_BODY"},
		{"query without a required parameter", "GET", api.UploadURLQuery.Resource + "?fileName=a&contentType=text/plain", "", "BAD_REQUEST_PARAMETERS"},
		{"list parts without fileKey", "GET", parts, "", "BAD_REQUEST_PARAMETERS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := f.call(tc.method, tc.path, tc.body, nil)
			var e api.ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || status != 400 || e.Code != tc.code || e.Message == "" {
				t.Errorf("stage answered %d %s, want 400 with code %s", status, body, tc.code)
			}
			u, _ := url.Parse(tc.path)
			q := map[string]string{}
			for k, v := range u.Query() {
				q[k] = v[0]
			}
			resource := tc.path
			for _, r := range api.Routes {
				if r.Method == tc.method && (r.Resource == u.Path || strings.Contains(r.Resource, "{") && u.Path == r.Path("abc")) {
					resource = r.Resource
				}
			}
			resp, _ := direct.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: tc.method, Resource: resource,
				PathParameters: map[string]string{"uploadId": "abc"}, QueryStringParameters: q, Body: tc.body})
			if resp.StatusCode != 400 {
				t.Errorf("function answered %d %s, want 400", resp.StatusCode, resp.Body)
			}
		})
	}
	t.Run("what the client sends passes", func(t *testing.T) {
		if status, _, body := f.call("POST", api.UploadURL.Resource, `{"fileName":"a.txt","contentType":"text/plain","size":3}`, nil); status != 200 {
			t.Errorf("status = %d %s, want 200", status, body)
		}
	})
}

// A body sent as another Content-Type is still checked against the model,
// and the function refuses it as not JSON.
func TestNonJSONBodiesDoNotSkipValidation(t *testing.T) {
	f := newFlow(t, api.UploadSettings{}, "")
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"valid JSON as text/plain", "text/plain", `{"fileName":"a.txt","contentType":"text/plain"}`, 415, api.CodeNotJSON},
		{"invalid body as text/plain", "text/plain", `{"fileName":"a.txt","contentType":"text/plain","acl":"public-read"}`, 400, "BAD_REQUEST_BODY"},
		{"form encoding", "application/x-www-form-urlencoded", `fileName=a.txt&contentType=text/plain`, 400, "BAD_REQUEST_BODY"},
		{"JSON with a charset", "application/json; charset=utf-8", `{"fileName":"a.txt","contentType":"text/plain"}`, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := f.call("POST", api.UploadURL.Resource, tc.body, map[string]string{"Content-Type": tc.contentType})
			var e api.ErrorResponse
			_ = json.Unmarshal(body, &e)
			if status != tc.status || e.Code != tc.code {
				t.Errorf("%d %s, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
}

// With several allowed origins, the stage's own errors echo the caller's
// Origin (gateway responses cannot check a list) and carry nothing but the
// error; the function's responses name only listed origins; nothing ever
// allows credentials.
func TestCORSWithSeveralOrigins(t *testing.T) {
	const key = "k"
	f := newFlow(t, api.UploadSettings{AllowedOrigins: []string{"https://a.example", "https://b.example"}}, key)
	for _, tc := range []struct {
		name, origin, apiKey string
		status               int
		allow                string
	}{
		{"stage error, listed origin", "https://a.example", "wrong", 403, "https://a.example"},
		{"stage error, other origin: echoed, error only", "https://evil.example", "wrong", 403, "https://evil.example"},
		{"function answer, listed origin", "https://b.example", key, 200, "https://b.example"},
		{"function answer, other origin: none", "https://evil.example", key, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := f.call("POST", api.UploadURL.Resource, `{"fileName":"a.txt","contentType":"text/plain"}`,
				map[string]string{"Origin": tc.origin, "X-Api-Key": tc.apiKey})
			if status != tc.status || h.Get("Access-Control-Allow-Origin") != tc.allow {
				t.Errorf("%d, Access-Control-Allow-Origin %q, want %d and %q", status, h.Get("Access-Control-Allow-Origin"), tc.status, tc.allow)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("a response allows credentials")
			}
			if tc.status == 403 {
				var e map[string]any
				if err := json.Unmarshal(body, &e); err != nil || len(e) != 2 || e["message"] == nil || e["code"] == nil {
					t.Errorf("stage error body %s, want only message and code", body)
				}
			}
		})
	}
}
