package uploader_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// counter is a token source that hands out a new token on every call, as
// one that refreshes might.
type counter struct{ n atomic.Int64 }

func (c *counter) Token(context.Context) (string, error) {
	return fmt.Sprintf("token-%d", c.n.Add(1)), nil
}

// authLog notes the Authorization header of every request a server gets.
type authLog struct {
	mu    sync.Mutex
	auths []string
}

func (l *authLog) note(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.auths = append(l.auths, r.Header.Get("Authorization"))
}

func (l *authLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.auths
	l.auths = nil
	return out
}

func TestTokenGoesToTheAPIOnly(t *testing.T) {
	var apiLog, s3Log, otherLog authLog
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s3Log.note(r)
		w.Header().Set("ETag", `"abc"`)
	}))
	t.Cleanup(s3.Close)
	// The same host as the API on another port: net/http forwards
	// Authorization there on a redirect.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherLog.note(r) }))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiLog.note(r)
		if rest, ok := strings.CutPrefix(r.URL.Path, "/away"); ok {
			http.Redirect(w, r, other.URL+rest, http.StatusTemporaryRedirect)
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "POST " + api.UploadURL.Resource:
			_ = json.NewEncoder(w).Encode(api.UploadURLResponse{UploadURL: s3.URL + "/bucket/key", FileKey: "uploads/key", Method: "PUT"})
		case "POST " + api.StartMultipart.Resource:
			_ = json.NewEncoder(w).Encode(api.MultipartStartResponse{UploadID: "u1", FileKey: "uploads/key", PartSize: 5 << 20, PartCount: 1})
		case "POST " + api.SignParts.Path("u1"):
			_ = json.NewEncoder(w).Encode(api.SignPartsResponse{Parts: []api.SignedPart{{PartNumber: 1, URL: s3.URL + "/bucket/key?partNumber=1"}}})
		case "POST " + api.CompleteMultipart.Path("u1"):
			_ = json.NewEncoder(w).Encode(api.CompleteResponse{FileKey: "uploads/key", ETag: `"abc-1"`, Size: 5})
		case "GET " + api.ListFiles.Resource:
			_ = json.NewEncoder(w).Encode(api.ListFilesResponse{Files: []api.FileInfo{{FileKey: "uploads/key", FileName: "key", Size: 5}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	t.Run("net/http on its own forwards Authorization to the same host on another port", func(t *testing.T) {
		// The premise of the guard.
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/away/files", nil)
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		apiLog.take()
		if got := otherLog.take(); len(got) != 1 || got[0] != "Bearer secret" {
			t.Errorf("the other port received %q; want the token, forwarded by net/http", got)
		}
	})
	t.Run("a fresh token on every API call, none to S3", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			threshold int64
			want      []string
		}{
			{"single PUT", 0, []string{"Bearer token-1"}},
			{"multipart", 1, []string{"Bearer token-1", "Bearer token-2", "Bearer token-3"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := &uploader.Client{API: srv.URL, Token: &counter{}, Threshold: tc.threshold, StateDir: t.TempDir()}
				if _, err := c.UploadFile(context.Background(), file(t), ""); err != nil {
					t.Fatal(err)
				}
				if got := apiLog.take(); strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("the API received %q, want %q", got, tc.want)
				}
				if got := s3Log.take(); len(got) != 1 || got[0] != "" {
					t.Errorf("S3 received %q, want one request without a token", got)
				}
			})
		}
	})
	t.Run("a redirect to another port is refused and the token stays home", func(t *testing.T) {
		c := &uploader.Client{API: srv.URL + "/away", Token: uploader.StaticToken("secret"), StateDir: t.TempDir()}
		_, err := c.UploadFile(context.Background(), file(t), "")
		if !errors.Is(err, uploader.ErrRedirectElsewhere) {
			t.Errorf("err = %v, want ErrRedirectElsewhere", err)
		}
		apiLog.take()
		if got := otherLog.take(); len(got) != 0 {
			t.Errorf("the other port received %q, want nothing", got)
		}
	})
	t.Run("a token source's failure fails the upload before any call", func(t *testing.T) {
		c := &uploader.Client{API: srv.URL, Token: failing{}, StateDir: t.TempDir()}
		_, err := c.UploadFile(context.Background(), file(t), "")
		if err == nil || !strings.Contains(err.Error(), "sign-in: signed out") {
			t.Errorf("err = %v, want the source's error", err)
		}
		if got := apiLog.take(); len(got) != 0 {
			t.Errorf("the API received %q, want nothing", got)
		}
	})
	t.Run("Files lists with the token", func(t *testing.T) {
		c := &uploader.Client{API: srv.URL, Token: uploader.StaticToken("Bearer secret")}
		files, err := c.Files(context.Background())
		if err != nil || len(files) != 1 || files[0].FileKey != "uploads/key" {
			t.Fatalf("Files() = %+v, %v", files, err)
		}
		if got := apiLog.take(); len(got) != 1 || got[0] != "Bearer secret" {
			t.Errorf("the API received %q, want the token once, without a doubled Bearer", got)
		}
	})
}

type failing struct{}

func (failing) Token(context.Context) (string, error) { return "", errors.New("signed out") }

func TestDefaultStateDir(t *testing.T) {
	dir := uploader.DefaultStateDir()
	if base, err := os.UserCacheDir(); err == nil && dir != filepath.Join(base, "presigned-upload") {
		t.Errorf("DefaultStateDir() = %q, want presigned-upload in %s", dir, base)
	}
}
