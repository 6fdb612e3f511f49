package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"

	"github.com/presigned-upload/presigned-upload/cmd/local/internal/apigw"
)

// TestLocalModeHostCheck runs local mode and addresses its API and page to
// another name, as a page that rebinds its own domain to 127.0.0.1 would:
// 403. Loopback names, with the port, are served.
func TestLocalModeHostCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local mode binary")
	}
	p := startLocal(t, "dev", filepath.Join(pkgDir, "..", "..", "cdk.json"))
	_, port, err := net.SplitHostPort(strings.TrimPrefix(p.API, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	send := func(host, method, path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, p.API+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("X-Api-Key", p.Key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	upload := `{"fileName":"hello.txt","contentType":"text/plain","size":6}`
	requests := []struct{ method, path, body string }{
		{"POST", api.UploadURL.Resource, upload}, {"GET", "/", ""}, {"GET", "/config.json", ""}, {"OPTIONS", api.UploadURL.Resource, ""},
	}

	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example:" + port} {
		for _, r := range requests {
			status, body := send(host, r.method, r.path, r.body)
			var e api.ErrorResponse
			if err := json.Unmarshal(body, &e); status != 403 || err != nil || e.Code != apigw.CodeInvalidHost {
				t.Errorf("Host %s: %s %s = %d %s, want 403 %s", host, r.method, r.path, status, body, apigw.CodeInvalidHost)
			}
		}
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "127.1.2.3:" + port} {
		if status, body := send(host, "POST", api.UploadURL.Resource, upload); status != 200 {
			t.Errorf("Host %s: POST %s = %d %s, want 200", host, api.UploadURL.Resource, status, body)
		}
		if status, body := send(host, "GET", "/", ""); status != 200 || !strings.Contains(string(body), "<html") {
			t.Errorf("Host %s: GET / = %d, want the page", host, status)
		}
		status, body := send(host, "GET", "/config.json", "")
		var cfg struct{ APIURL string }
		if err := json.Unmarshal(body, &cfg); status != 200 || err != nil || cfg.APIURL != "http://"+host {
			t.Errorf("Host %s: GET /config.json = %d %s, want apiUrl http://%s", host, status, body, host)
		}
	}
}

func TestListenHosts(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		bound net.Addr
		want  []string
	}{
		{"myhost.lan:8080", &net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 8080}, []string{"myhost.lan", "192.168.1.5"}},
		{"127.0.0.1:0", &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 41234}, []string{"127.0.0.1"}},
		{":8080", &net.TCPAddr{IP: net.IPv6zero, Port: 8080}, []string{"::"}},
	} {
		if got := listenHosts(tc.addr, tc.bound); !slices.Equal(got, tc.want) {
			t.Errorf("listenHosts(%q, %v) = %q, want %q", tc.addr, tc.bound, got, tc.want)
		}
	}
}
