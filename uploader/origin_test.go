package uploader_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// recorder is a server on 127.0.0.2, another host than httptest's
// 127.0.0.1 to net/http, that notes every X-Api-Key it receives. It plays
// S3, and wherever else a redirect might lead.
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	keys     []string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on a second loopback address: %v", err)
	}
	rec := &recorder{}
	rec.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.requests++
		rec.keys = append(rec.keys, r.Header.Values("X-Api-Key")...)
		rec.mu.Unlock()
		if r.Method != http.MethodPut {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"abc"`)
	}))
	rec.Listener.Close()
	rec.Listener = ln
	rec.Start()
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) seen() (requests int, keys []string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	requests, keys = rec.requests, rec.keys
	rec.requests, rec.keys = 0, nil
	return requests, keys
}

func TestAPIKeyGoesToTheAPIOnly(t *testing.T) {
	const key = "secret-key"
	elsewhere := newRecorder(t)
	var calls atomic.Int64
	var srv *httptest.Server
	// Under /home/ the API redirects within its origin, under /away/ to
	// elsewhere; /v2/ answers.
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch rest, _ := strings.CutPrefix(r.URL.Path, "/"); {
		case strings.HasPrefix(rest, "home/"):
			http.Redirect(w, r, srv.URL+"/v2/"+strings.TrimPrefix(rest, "home/"), http.StatusTemporaryRedirect)
		case strings.HasPrefix(rest, "away/"):
			http.Redirect(w, r, elsewhere.URL+"/v2/"+strings.TrimPrefix(rest, "away/"), http.StatusTemporaryRedirect)
		case r.URL.Path == "/v2"+api.UploadURL.Resource && r.Header.Get("X-Api-Key") == key:
			_ = json.NewEncoder(w).Encode(api.UploadURLResponse{UploadURL: elsewhere.URL + "/bucket/key", FileKey: "uploads/key", Method: "PUT"})
		default:
			http.Error(w, `{"message":"Forbidden"}`, http.StatusForbidden)
		}
	}))
	t.Cleanup(srv.Close)

	t.Run("net/http on its own forwards X-Api-Key to another host", func(t *testing.T) {
		// The premise of the guard: if this fails, net/http has started
		// dropping custom headers itself.
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/away"+api.UploadURL.Resource, strings.NewReader("{}"))
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, keys := elsewhere.seen(); len(keys) != 1 || keys[0] != key {
			t.Errorf("the other host received keys %q; want the key, forwarded by net/http", keys)
		}
	})
	t.Run("a redirect to another host is refused, not retried", func(t *testing.T) {
		calls.Store(0)
		c := &uploader.Client{API: srv.URL + "/away", APIKey: key, StateDir: t.TempDir()}
		_, err := c.UploadFile(context.Background(), file(t), "")
		if !errors.Is(err, uploader.ErrRedirectElsewhere) {
			t.Errorf("err = %v, want ErrRedirectElsewhere", err)
		}
		if requests, keys := elsewhere.seen(); requests != 0 || len(keys) != 0 {
			t.Errorf("the other host received %d requests and keys %q; want none", requests, keys)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("the API was called %d times, want once", n)
		}
	})
	t.Run("a redirect within the API's origin is followed, and S3 gets no key", func(t *testing.T) {
		c := &uploader.Client{API: srv.URL + "/home", APIKey: key, StateDir: t.TempDir()}
		res, err := c.UploadFile(context.Background(), file(t), "")
		if err != nil {
			t.Fatal(err)
		}
		if requests, keys := elsewhere.seen(); requests != 1 || len(keys) != 0 || res.ETag != `"abc"` {
			t.Errorf("S3 received %d requests and keys %q, result %+v; want one PUT without a key", requests, keys, res)
		}
	})
}

// errReached stands for any network error: the request got past the
// client's checks to the transport.
var errReached = errors.New("reached the transport")

type refuseAll struct{ hosts []string }

func (rt *refuseAll) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.hosts = append(rt.hosts, r.URL.Host)
	return nil, errReached
}

func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		api       string
		allowHTTP bool
		want      error
	}{
		{"http://example.com", false, uploader.ErrPlainHTTP},
		{"http://localhost.example.com:8080/prod", false, uploader.ErrPlainHTTP},
		{"http://10.0.0.1:8080", false, uploader.ErrPlainHTTP},
		{"http://127.0.0.1:8080", false, errReached},
		{"http://127.0.0.2:8080", false, errReached},
		{"http://localhost:8080", false, errReached},
		{"http://LOCALHOST./prod", false, errReached},
		{"http://[::1]:8080", false, errReached},
		{"https://example.com/prod", false, errReached},
		{"http://example.invalid/prod", true, errReached},
	} {
		name := tc.api
		if tc.allowHTTP {
			name += " with AllowHTTP"
		}
		t.Run(name, func(t *testing.T) {
			rt := &refuseAll{}
			c := &uploader.Client{API: tc.api, AllowHTTP: tc.allowHTTP, Attempts: 1, HTTP: &http.Client{Transport: rt}, StateDir: t.TempDir()}
			_, err := c.UploadFile(context.Background(), file(t), "")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == uploader.ErrPlainHTTP {
				if len(rt.hosts) != 0 {
					t.Errorf("requests went to %v before the refusal", rt.hosts)
				}
				if !strings.Contains(err.Error(), "clear text") || !strings.Contains(err.Error(), "AllowHTTP") {
					t.Errorf("error %q does not say why, or how to allow it", err)
				}
			}
		})
	}
	t.Run("other schemes are refused", func(t *testing.T) {
		rt := &refuseAll{}
		c := &uploader.Client{API: "ftp://example.com", AllowHTTP: true, HTTP: &http.Client{Transport: rt}}
		if _, err := c.UploadFile(context.Background(), file(t), ""); err == nil || len(rt.hosts) != 0 {
			t.Errorf("err = %v after requests to %v; want a refusal before any request", err, rt.hosts)
		}
	})
	t.Run("a real upload through localhost", func(t *testing.T) {
		srv, puts := stub(t, 0, 0, "")
		c := &uploader.Client{API: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), StateDir: t.TempDir()}
		if _, err := c.UploadFile(context.Background(), file(t), ""); err != nil || puts.Load() != 1 {
			t.Errorf("err %v after %d PUTs; want one PUT", err, puts.Load())
		}
	})
}
