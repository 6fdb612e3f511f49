package uploader_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// stub answers the upload-URL route and counts PUTs, failing the first
// failPuts of them with status failWith. The real API and S3 are exercised
// by the integration tests; this one isolates the client's retry rules.
func stub(t *testing.T, failPuts int64, failWith int, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var puts atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == api.UploadURL.Resource:
			_ = json.NewEncoder(w).Encode(api.UploadURLResponse{UploadURL: srv.URL + "/bucket/key", FileKey: "uploads/key", Method: "PUT",
				Headers: map[string]string{"Content-Type": "text/plain"}})
		case r.Method == "PUT":
			if puts.Add(1) <= failPuts {
				w.WriteHeader(failWith)
				_, _ = w.Write([]byte(body))
				return
			}
			w.Header().Set("ETag", `"abc"`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &puts
}

func file(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRetriesTransientFailures(t *testing.T) {
	srv, puts := stub(t, 2, http.StatusServiceUnavailable, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
	c := &uploader.Client{API: srv.URL, StateDir: t.TempDir()}
	res, err := c.UploadFile(context.Background(), file(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if puts.Load() != 3 || res.ETag != `"abc"` {
		t.Errorf("%d PUTs, result %+v; want success on the third", puts.Load(), res)
	}
}

func TestDoesNotRetryARefusal(t *testing.T) {
	srv, puts := stub(t, 100, http.StatusForbidden, "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match.</Message></Error>")
	c := &uploader.Client{API: srv.URL, StateDir: t.TempDir()}
	_, err := c.UploadFile(context.Background(), file(t), "")
	if err == nil || puts.Load() != 1 {
		t.Fatalf("err %v after %d PUTs; want one PUT and an error", err, puts.Load())
	}
	if !strings.Contains(err.Error(), "S3: The request signature we calculated does not match. (403 SignatureDoesNotMatch)") {
		t.Errorf("error %q is not S3's readable message", err)
	}
}

func TestGivesUpAfterAttempts(t *testing.T) {
	srv, puts := stub(t, 100, http.StatusInternalServerError, "<Error><Code>InternalError</Code><Message>oops</Message></Error>")
	c := &uploader.Client{API: srv.URL, StateDir: t.TempDir(), Attempts: 3}
	_, err := c.UploadFile(context.Background(), file(t), "")
	if err == nil || puts.Load() != 3 || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("err %v after %d PUTs; want 3 attempts", err, puts.Load())
	}
}

func TestRefusesEmptyAndMissingFiles(t *testing.T) {
	c := &uploader.Client{API: "http://127.0.0.1:1"}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, nil, 0o644)
	for _, p := range []string{empty, filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		if _, err := c.UploadFile(context.Background(), p, ""); err == nil {
			t.Errorf("UploadFile(%s) succeeded", p)
		}
	}
}

// A part whose URL expires, or is about to, before it is sent is signed
// anew first: S3 would refuse the old one, for a large body by cutting the
// connection rather than with a 403 that names the expiry.
func TestPartURLsAboutToExpireAreSignedAnew(t *testing.T) {
	var mu sync.Mutex
	signs, stale, fresh := 0, 0, 0
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Query().Get("gen") == "1" {
			stale++
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close() // as S3 answers an expired URL with a large body
			return
		}
		fresh++
		w.Header().Set("ETag", `"abc"`)
	}))
	t.Cleanup(s3.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "POST " + api.StartMultipart.Resource:
			_ = json.NewEncoder(w).Encode(api.MultipartStartResponse{UploadID: "u1", FileKey: "uploads/key", UploadSecret: "s", PartSize: 5 << 20, PartCount: 1})
		case "POST " + api.SignParts.Path("u1"):
			mu.Lock()
			signs++
			gen, expires := signs, int64(3600)
			if gen == 1 {
				expires = 20 // less than a request needs to be sure to start in time
			}
			mu.Unlock()
			_ = json.NewEncoder(w).Encode(api.SignPartsResponse{ExpiresIn: expires,
				Parts: []api.SignedPart{{PartNumber: 1, URL: fmt.Sprintf("%s/bucket/key?partNumber=1&gen=%d", s3.URL, gen)}}})
		case "POST " + api.CompleteMultipart.Path("u1"):
			_ = json.NewEncoder(w).Encode(api.CompleteResponse{FileKey: "uploads/key", ETag: `"abc-1"`, Size: 5})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c := &uploader.Client{API: srv.URL, Threshold: 1, StateDir: t.TempDir()}
	if _, err := c.UploadFile(context.Background(), file(t), ""); err != nil {
		t.Fatal(err)
	}
	if signs != 2 || stale != 0 || fresh != 1 {
		t.Errorf("signed %d times, sent %d stale and %d fresh; want 2, 0 and 1", signs, stale, fresh)
	}
}

// signedQuery is the query of a pre-signed URL as S3 signs it for a
// deployed API: each of its credentials must stay out of error messages.
const signedQuery = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20260101%2Feu-west-1%2Fs3%2Faws4_request" +
	"&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE" +
	"&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// A failed request to S3 is reported with where it went, but without the
// pre-signed URL's query: the CLI prints the error, and with the
// signature and credential in it anyone reading could send to the bucket
// until the URL expires.
func TestErrorsDoNotCarryPresignedURLs(t *testing.T) {
	// S3 cuts the connection, as it does when it will not take a body;
	// /moved redirects to a URL signed anew.
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/bucket/key"+signedQuery, http.StatusFound)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(s3.Close)
	host := s3.Listener.Addr().String()
	errRefused := errors.New("redirect refused")
	for _, tc := range []struct {
		name      string
		threshold int64
		url       string
		http      *http.Client
		where     string // what the error names
		wantIs    error  // still found in the error
	}{
		{name: "single PUT", url: s3.URL + "/bucket/key" + signedQuery, where: host + "/bucket/key"},
		{name: "part PUT", threshold: 1, url: s3.URL + "/bucket/key" + signedQuery + "&partNumber=1", where: host + "/bucket/key"},
		{name: "user info", url: strings.Replace(s3.URL, "//", "//AKIAEXAMPLE:secret@", 1) + "/bucket/key" + signedQuery,
			where: host + "/bucket/key"},
		// A redirect the client's CheckRedirect refuses: net/http quotes
		// the Location, signed too.
		{name: "refused redirect", url: s3.URL + "/moved" + signedQuery, where: `"/bucket/key"`, wantIs: errRefused,
			http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return errRefused }}},
		// A URL that does not parse fails before any request, quoting it.
		{name: "unparsable URL", url: "http://bucket.s3.example/bucket/key" + signedQuery + "%zz\x7f", where: "bucket.s3.example/bucket/key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.Method + " " + r.URL.Path {
				case "POST " + api.UploadURL.Resource:
					_ = json.NewEncoder(w).Encode(api.UploadURLResponse{UploadURL: tc.url, FileKey: "uploads/key", Method: "PUT"})
				case "POST " + api.StartMultipart.Resource:
					_ = json.NewEncoder(w).Encode(api.MultipartStartResponse{UploadID: "u1", FileKey: "uploads/key", UploadSecret: "s", PartSize: 5 << 20, PartCount: 1})
				case "POST " + api.SignParts.Path("u1"):
					_ = json.NewEncoder(w).Encode(api.SignPartsResponse{ExpiresIn: 3600, Parts: []api.SignedPart{{PartNumber: 1, URL: tc.url}}})
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)
			c := &uploader.Client{API: srv.URL, HTTP: tc.http, Threshold: tc.threshold, Attempts: 1, StateDir: t.TempDir()}
			_, err := c.UploadFile(context.Background(), file(t), "")
			if err == nil {
				t.Fatal("the upload succeeded")
			}
			msg := err.Error()
			for _, secret := range []string{"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "ASIAEXAMPLE", "AKIAEXAMPLE", "secret@"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q carries %s", msg, secret)
				}
			}
			if !strings.Contains(msg, tc.where) {
				t.Errorf("error %q does not name %s", msg, tc.where)
			}
			if ue := (*url.Error)(nil); !errors.As(err, &ue) {
				t.Errorf("error %q does not unwrap to the *url.Error net/http made", msg)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q does not unwrap to %q", msg, tc.wantIs)
			}
		})
	}
}
