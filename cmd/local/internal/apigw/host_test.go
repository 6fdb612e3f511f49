package apigw_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/cmd/local/internal/apigw"
)

// TestHostNames pins which Host headers the stage answers: loopback names
// with any port and the configured hosts; any other name, such as a page's
// own domain rebound to 127.0.0.1, gets the gateway's 403.
func TestHostNames(t *testing.T) {
	stage, err := apigw.New(apigw.Config{
		Invoke: func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "{}"}, nil
		},
		Settings: api.UploadSettings{Bucket: "b"},
		Static:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("page")) }),
		Hosts:    []string{"192.0.2.10", "myhost.lan"},
	})
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"localhost", "LocalHost:8080", "127.0.0.1", "127.0.0.1:1", "127.9.8.7:80", "[::1]", "[::1]:8080",
		"192.0.2.10", "192.0.2.10:8080", "myhost.lan", "MyHost.LAN:9"}
	refused := []string{"evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.evil.example:8080",
		"192.0.2.11", "0.0.0.0:8080", "[::2]:8080", "[fe80::1%25lo]:8080", "myhost.lan.evil.example", "lan", ""}
	paths := []struct{ method, path string }{{"POST", api.UploadURL.Resource}, {"GET", "/"}, {"GET", "/config.json"}, {"OPTIONS", api.UploadURL.Resource}}
	for _, host := range append(allowed, refused...) {
		served := slices.Contains(allowed, host)
		for _, p := range paths {
			r := httptest.NewRequest(p.method, p.path, strings.NewReader("{}"))
			r.Host = host
			w := httptest.NewRecorder()
			stage.ServeHTTP(w, r)
			if served {
				if w.Code == 403 {
					t.Errorf("Host %q: %s %s = 403 %s, want it served", host, p.method, p.path, w.Body)
				}
				continue
			}
			var e api.ErrorResponse
			if err := json.Unmarshal(w.Body.Bytes(), &e); w.Code != 403 || err != nil || e.Code != apigw.CodeInvalidHost {
				t.Errorf("Host %q: %s %s = %d %s, want 403 %s", host, p.method, p.path, w.Code, w.Body, apigw.CodeInvalidHost)
			}
		}
	}
}
