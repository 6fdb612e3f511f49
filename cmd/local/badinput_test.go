package main

import (
	"encoding/json"
	"strings"
	"testing"

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
		{"malformed JSON", "POST", uploadapi.RouteUploadURL, `{"fileName":`, nil, 400},
		{"wrong types", "POST", uploadapi.RouteUploadURL, `{"fileName":["a"],"contentType":7}`, nil, 400},
		{"size as string", "POST", uploadapi.RouteUploadURL, `{"fileName":"a","contentType":"text/plain","size":"9"}`, nil, 400},
		{"JSON null", "POST", uploadapi.RouteUploadURL, `null`, nil, 400},
		{"deep nesting", "POST", uploadapi.RouteUploadURL, strings.Repeat("[", 10000), nil, 400},
		{"body over 1 MB", "POST", uploadapi.RouteUploadURL, `{"fileName":"` + strings.Repeat("x", 1<<20) + `","contentType":"text/plain"}`, nil, 413},
		{"body over API Gateway's 10 MB", "POST", uploadapi.RouteUploadURL, strings.Repeat("x", 10<<20+1), nil, 413},
		{"unknown path", "GET", "/etc/passwd", "", nil, 403},
		{"unknown method", "DELETE", uploadapi.RouteUploadURL, "", nil, 403},
		{"missing API key", "POST", uploadapi.RouteUploadURL, `{"fileName":"a","contentType":"text/plain"}`, map[string]string{"X-Api-Key": ""}, 403},
		{"wrong API key", "POST", uploadapi.RouteUploadURL, `{"fileName":"a","contentType":"text/plain"}`, map[string]string{"X-Api-Key": key + "x"}, 403},
		{"size over the limit", "POST", uploadapi.RouteUploadURL, `{"fileName":"a","contentType":"text/plain","size":99999999999}`, nil, 413},
		{"type not allowed", "POST", uploadapi.RouteUploadURL, `{"fileName":"a","contentType":"application/x-msdownload"}`, nil, 415},
	}
}

// TestBadInputEndToEnd sends hostile requests through the stage: each gets
// a 4xx JSON error with CORS headers, and the API keeps working after a
// thousand of them.
func TestBadInputEndToEnd(t *testing.T) {
	const key = "test-key-123"
	origin := "https://app.example"
	f := newFlow(t, uploadapi.Config{AllowedOrigins: []string{origin}, AllowedContentTypes: []string{"text/*", "image/*"}, MaxFileSize: 1 << 30}, key)
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
			var e uploadapi.ErrorResponse
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
		got := f.uploadURL(uploadapi.UploadURLRequest{FileName: "after.txt", ContentType: "text/plain"})
		if status, msg := put(t, got.UploadURL, got.Headers, []byte("still fine")); status != 200 {
			t.Fatalf("PUT = %d %s", status, msg)
		}
	})
	t.Run("preflight", func(t *testing.T) {
		status, h, _ := f.call("OPTIONS", uploadapi.RouteUploadURL, "", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "X-Api-Key": ""})
		if status != 204 || h.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Api-Key") {
			t.Errorf("preflight = %d %v", status, h)
		}
	})
}
