package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/apigw"
)

// Every answer of the local stage, the function's and the stage's own,
// tells browsers not to take it for another type than it declares, as the
// deployed stage's do.
func TestEveryAnswerForbidsSniffing(t *testing.T) {
	const key = "test-key"
	f := newFlow(t, api.UploadSettings{}, key)
	failing, err := apigw.New(apigw.Config{
		Invoke: func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("the function crashed")
		},
		Settings: api.UploadSettings{Bucket: f.bucket},
		Log:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	crashing := httptest.NewServer(failing)
	t.Cleanup(crashing.Close)

	upload := `{"fileName":"a.txt","contentType":"text/plain"}`
	for _, tc := range []struct {
		name, base, method, path, body, apiKey string
		status                                 int
	}{
		{"an issued URL", f.api.URL, "POST", api.UploadURL.Resource, upload, key, 200},
		{"the function's own refusal", f.api.URL, "POST", api.UploadURL.Resource, `{"fileName":"a.html","contentType":"text/html"}`, key, 415},
		{"a missing API key", f.api.URL, "POST", api.UploadURL.Resource, upload, "", 403},
		{"an unknown path", f.api.URL, "GET", "/nowhere", "", key, 403},
		{"a body the model refuses", f.api.URL, "POST", api.UploadURL.Resource, `{"fileName":7}`, key, 400},
		{"a function error", crashing.URL, "POST", api.UploadURL.Resource, upload, "", 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.base+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.apiKey != "" {
				req.Header.Set("X-Api-Key", tc.apiKey)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%d with X-Content-Type-Options %q, want %d with nosniff", resp.StatusCode, resp.Header.Get("X-Content-Type-Options"), tc.status)
			}
		})
	}
}
