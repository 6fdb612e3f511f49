package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/apigw"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/bucketevents"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/oidcdev"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

// testClock is a settable time, for the handler's quota days and expiries.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// quotaFlow is local mode with quotas: the handler with a clock of the
// test's, the verifier settling each upload, and, with sign-in, a real
// provider's tokens checked by the deployed authorizer's code.
type quotaFlow struct {
	*eventFlow
	clock    *testClock
	provider *oidcdev.Provider
}

func newQuotaFlow(t *testing.T, cfg api.UploadSettings) *quotaFlow {
	t.Helper()
	f := &quotaFlow{eventFlow: &eventFlow{flow: &flow{t: t, bucket: fmt.Sprintf("test-%d", buckets.Add(1)), s3: gw.Client()}, published: &eventLog{}},
		clock: &testClock{t: time.Now()}}
	cfg.Bucket, cfg.Verified = f.bucket, true
	cfg = cfg.WithDefaults()
	if err := s3gw.EnsureBucket(context.Background(), f.s3, f.bucket, cfg); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	h, err := uploadapi.New(cfg, s3.NewPresignClient(f.s3), f.s3, uploadapi.WithLogger(quiet), uploadapi.WithClock(f.clock.now))
	if err != nil {
		t.Fatal(err)
	}
	stageCfg := apigw.Config{Invoke: h.Handle, Settings: cfg, Log: quiet}
	if cfg.SignIn {
		if f.provider, err = oidcdev.Start("127.0.0.1:0", oidcdev.Options{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.provider.Close() })
		a, err := oidcauth.New(api.AuthorizerSettings{IssuerUrl: f.provider.Issuer, Audience: f.provider.Audience}, oidcauth.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		stageCfg.Authorizer = a.Authorize
	}
	stage, err := apigw.New(stageCfg)
	if err != nil {
		t.Fatal(err)
	}
	f.api = httptest.NewServer(stage)
	t.Cleanup(f.api.Close)
	pub := bucketevents.NewPublisher(f.published, "", s3gw.Region, quiet)
	if err := verifyUploads(notifications, gw, f.s3, api.VerifierSettings{UploadSettings: cfg}, pub, quiet); err != nil {
		t.Fatal(err)
	}
	return f
}

// as returns the Authorization header of user's token; nil without
// sign-in.
func (f *quotaFlow) as(user string) map[string]string {
	if f.provider == nil {
		return nil
	}
	tok, err := f.provider.Token(context.Background(), user)
	if err != nil {
		f.t.Fatal(err)
	}
	return map[string]string{"Authorization": "Bearer " + tok}
}

// ask asks for an upload URL of size bytes.
func (f *quotaFlow) ask(auth map[string]string, name string, size int) (int, http.Header, []byte) {
	b, _ := json.Marshal(api.UploadURLRequest{FileName: name, ContentType: "application/octet-stream", Size: int64p(size)})
	return f.call("POST", api.UploadURL.Resource, string(b), auth)
}

// quota reads the caller's quota.
func (f *quotaFlow) quota(auth map[string]string) api.QuotaResponse {
	f.t.Helper()
	status, _, body := f.call("GET", api.Quota.Resource, "", auth)
	var q api.QuotaResponse
	if status != 200 || json.Unmarshal(body, &q) != nil {
		f.t.Fatalf("GET /quota = %d %s", status, body)
	}
	return q
}

// The ledger is a compare-and-swap on the real S3 server: 50 concurrent
// 1 MiB reservations against a 10 MiB quota grant exactly 10, every time.
func TestQuotaConcurrentReservations(t *testing.T) {
	for round := range 20 {
		f := newQuotaFlow(t, api.UploadSettings{QuotaBytes: 10 << 20})
		statuses := make([]int, 50)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				status, _, body := f.ask(nil, fmt.Sprintf("f%d.bin", i), 1<<20)
				if status != http.StatusOK && status != http.StatusForbidden {
					t.Errorf("round %d: %d %s", round, status, body)
				}
				statuses[i] = status
			})
		}
		wg.Wait()
		granted := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				granted++
			}
		}
		if granted != 10 {
			t.Fatalf("round %d: %d of 50 reservations granted, want exactly 10", round, granted)
		}
		if u := f.quota(nil).Usage; u.ReservedBytes != 10<<20 || u.FilesToday != 10 {
			t.Fatalf("round %d: usage %+v, want the 10 reservations", round, u)
		}
	}
}

// The refusal names the limit and what is left, and the per-day ones say
// when the day starts afresh.
func TestQuotaRefusals(t *testing.T) {
	f := newQuotaFlow(t, api.UploadSettings{QuotaBytes: 3 << 20, QuotaFilesPerDay: 3})
	if status, _, body := f.ask(nil, "a.bin", 2<<20); status != 200 {
		t.Fatalf("first = %d %s", status, body)
	}
	status, _, body := f.ask(nil, "b.bin", 2<<20)
	var e api.ErrorResponse
	if status != 403 || json.Unmarshal(body, &e) != nil || e.Code != api.CodeQuotaExceeded || e.Quota == nil ||
		*e.Quota != (api.QuotaRefusal{Dimension: api.QuotaBytes, Limit: 3 << 20, Used: 2 << 20, Remaining: 1 << 20, Needed: 2 << 20}) {
		t.Errorf("over the bytes = %d %s", status, body)
	}
	for range 2 {
		if status, _, body := f.ask(nil, "c.bin", 1); status != 200 {
			t.Fatalf("within = %d %s", status, body)
		}
	}
	status, header, body := f.ask(nil, "d.bin", 1)
	e = api.ErrorResponse{}
	retry, _ := strconv.Atoi(header.Get("Retry-After"))
	if status != 429 || json.Unmarshal(body, &e) != nil || e.Quota == nil || e.Quota.Dimension != api.QuotaFilesPerDay || retry < 1 || retry > 86400 || int64(retry) != e.Quota.RetryAfter {
		t.Errorf("over the files per day = %d %v %s", status, header, body)
	}
}

// Each way an upload ends gives its bytes back but one: a verified upload
// counts as stored until it is deleted.
func TestQuotaGivesBack(t *testing.T) {
	f := newQuotaFlow(t, api.UploadSettings{QuotaBytes: 100 << 20, PartSize: 5 << 20, SignIn: true})
	alice := f.as("alice")
	want := func(what string, stored, reserved int64) {
		t.Helper()
		var u api.QuotaUsage
		waitFor(t, what, func() bool {
			u = f.quota(alice).Usage
			return u.StoredBytes == stored && u.ReservedBytes == reserved
		})
	}
	upload := func(name string, data []byte) api.UploadURLResponse {
		t.Helper()
		b, _ := json.Marshal(api.UploadURLRequest{FileName: name, ContentType: "image/png", Size: int64p(len(data))})
		status, _, body := f.call("POST", api.UploadURL.Resource, string(b), alice)
		var got api.UploadURLResponse
		if status != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("upload url = %d %s", status, body)
		}
		if status, msg := put(t, got.UploadURL, got.Headers, data); status != 200 {
			t.Fatalf("PUT = %d %s", status, msg)
		}
		return got
	}
	png := pixelPNG(t)
	kept := upload("pixel.png", png)
	want("a verified upload is stored", int64(len(png)), 0)
	upload("page.png", htmlAsPNG)
	want("a rejected upload gives its bytes back", int64(len(png)), 0)

	var up api.MultipartStartResponse
	b, _ := json.Marshal(api.MultipartStartRequest{FileName: "big.bin", ContentType: "application/octet-stream", Size: 20 << 20})
	status, _, body := f.call("POST", api.StartMultipart.Resource, string(b), alice)
	if status != 200 || json.Unmarshal(body, &up) != nil {
		t.Fatalf("start = %d %s", status, body)
	}
	want("a multipart upload reserves its size", int64(len(png)), 20<<20)
	if f.quota(alice).Usage.Sessions != 1 {
		t.Error("the multipart upload is not a session")
	}
	status, _, body = f.call("DELETE", "/multipart/"+url.PathEscape(up.UploadID)+"?fileKey="+url.QueryEscape(up.FileKey), "", alice)
	if status != 204 {
		t.Fatalf("abort = %d %s", status, body)
	}
	want("an abort gives it back", int64(len(png)), 0)

	if status, _, body := f.ask(alice, "never.bin", 5<<20); status != 200 {
		t.Fatalf("upload url = %d %s", status, body)
	}
	want("an issued URL reserves", int64(len(png)), 5<<20)
	f.clock.advance(api.DefaultUrlExpiry.Duration() + 16*time.Minute)
	want("a URL that expired unused gives it back", int64(len(png)), 0)

	q := url.Values{"fileKey": {kept.FileKey}}
	if status, _, body := f.call("DELETE", api.DeleteFile.Resource+"?"+q.Encode(), "", alice); status != 204 {
		t.Fatalf("delete = %d %s", status, body)
	}
	want("a delete gives the stored bytes back", 0, 0)
}

// The per-day limits start afresh at midnight UTC.
func TestQuotaDayRollsOver(t *testing.T) {
	f := newQuotaFlow(t, api.UploadSettings{QuotaBytesPerDay: 2 << 20})
	if status, _, body := f.ask(nil, "a.bin", 2<<20); status != 200 {
		t.Fatalf("first = %d %s", status, body)
	}
	if status, _, _ := f.ask(nil, "b.bin", 1); status != http.StatusTooManyRequests {
		t.Fatalf("over the day = %d, want 429", status)
	}
	q := f.quota(nil)
	resets, err := time.Parse(time.RFC3339, q.ResetsAt)
	if err != nil || q.Usage.BytesToday != 2<<20 {
		t.Fatalf("quota = %+v", q)
	}
	f.clock.advance(resets.Sub(f.clock.now()) + time.Second)
	if status, _, body := f.ask(nil, "c.bin", 2<<20); status != 200 {
		t.Errorf("the next day = %d %s", status, body)
	}
	if q := f.quota(nil); q.Day == "" || q.Usage.BytesToday != 2<<20 {
		t.Errorf("quota the next day = %+v", q)
	}
}

// Two callers' ledgers are their own: one's uploads never count against
// the other, and each sees only its own usage.
func TestQuotaPerCaller(t *testing.T) {
	f := newQuotaFlow(t, api.UploadSettings{QuotaBytes: 2 << 20, SignIn: true})
	alice, bob := f.as("alice"), f.as("bob")
	if status, _, body := f.ask(alice, "a.bin", 2<<20); status != 200 {
		t.Fatalf("alice = %d %s", status, body)
	}
	if status, _, _ := f.ask(alice, "b.bin", 1); status != 403 {
		t.Errorf("alice over = %d, want 403", status)
	}
	if status, _, body := f.ask(bob, "c.bin", 2<<20); status != 200 {
		t.Errorf("bob = %d %s: alice's uploads count against him", status, body)
	}
	if a, b := f.quota(alice), f.quota(bob); a.Usage.ReservedBytes != 2<<20 || b.Usage.ReservedBytes != 2<<20 || a.Limits.Bytes != 2<<20 {
		t.Errorf("alice %+v, bob %+v", a, b)
	}
}

// The CLI shows the caller's quota with -quota, and says a refusal
// plainly: which limit, what is left, what the file needs.
func TestCLIQuota(t *testing.T) {
	f := newQuotaFlow(t, api.UploadSettings{QuotaBytes: 3 << 20, QuotaFilesPerDay: 10})
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small.bin"), filepath.Join(dir, "big.bin")
	if err := os.WriteFile(small, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return startCLI(t, nil, append([]string{"-api", f.api.URL, "-state-dir", t.TempDir(), "-q"}, args...)...).wait(t)
	}
	if code, _, stderr := cli(small); code != 0 {
		t.Fatalf("upload within the quota: exit %d, %s", code, stderr)
	}
	code, _, stderr := cli(big)
	if want := "over quota: your quota of stored bytes has 2.0 MiB of 3.0 MiB left; this upload needs 3.0 MiB"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("upload over the quota: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
	code, stdout, stderr := cli("-quota")
	if code != 0 || !strings.Contains(stdout, "stored\t1.0 MiB of 3.0 MiB") || !strings.Contains(stdout, "1 of 10 uploads") {
		t.Errorf("-quota: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// Deleting a rejected file gives back nothing: its bytes never counted.
func TestQuotaDeleteOfARejectedFile(t *testing.T) {
	f := newQuotaFlow(t, api.UploadSettings{QuotaBytes: 100 << 20, SignIn: true})
	alice := f.as("alice")
	for _, file := range []struct {
		name string
		data []byte
	}{{"pixel.png", pixelPNG(t)}, {"page.png", htmlAsPNG}} {
		b, _ := json.Marshal(api.UploadURLRequest{FileName: file.name, ContentType: "image/png", Size: int64p(len(file.data))})
		status, _, body := f.call("POST", api.UploadURL.Resource, string(b), alice)
		var got api.UploadURLResponse
		if status != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("upload url = %d %s", status, body)
		}
		if status, msg := put(t, got.UploadURL, got.Headers, file.data); status != 200 {
			t.Fatalf("PUT = %d %s", status, msg)
		}
		f.events(got.FileKey, 1) // settled
		if file.name == "page.png" {
			q := url.Values{"fileKey": {got.FileKey}}
			if status, _, body := f.call("DELETE", api.DeleteFile.Resource+"?"+q.Encode(), "", alice); status != 204 {
				t.Fatalf("delete = %d %s", status, body)
			}
		}
	}
	if u := f.quota(alice).Usage; u.StoredBytes != int64(len(pixelPNG(t))) {
		t.Errorf("stored = %d, want the verified file's %d alone", u.StoredBytes, len(pixelPNG(t)))
	}
}

// A URL replayed after its file was deleted stores the file again: it is
// settled again, so deleting it again gives back only what it added and
// the ledger keeps counting what the caller stores.
func TestQuotaReplayAfterDelete(t *testing.T) {
	f := newQuotaFlow(t, api.UploadSettings{SignIn: true, PreventOverwrite: true, QuotaBytes: 2 << 20})
	alice := f.as("alice")
	data := make([]byte, 1<<20)
	upload := func(name string) api.UploadURLResponse {
		t.Helper()
		b, _ := json.Marshal(api.UploadURLRequest{FileName: name, ContentType: "application/octet-stream", Size: int64p(len(data))})
		status, _, body := f.call("POST", api.UploadURL.Resource, string(b), alice)
		var got api.UploadURLResponse
		if status != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("upload url = %d %s", status, body)
		}
		if status, msg := put(t, got.UploadURL, got.Headers, data); status != 200 {
			t.Fatalf("PUT = %d %s", status, msg)
		}
		f.events(got.FileKey, 1)
		return got
	}
	upload("keep.bin")
	a := upload("a.bin")
	q := url.Values{"fileKey": {a.FileKey}}
	for i := range 2 {
		stored := f.lastModified(a.FileKey)
		if status, _, body := f.call("DELETE", api.DeleteFile.Resource+"?"+q.Encode(), "", alice); status != 204 {
			t.Fatalf("delete = %d %s", status, body)
		}
		// S3 dates an object to the second: a replay within the second of
		// the object it replaces, with the same bytes and headers, would be
		// the same generation to the verifier.
		afterSecond(stored)
		if status, msg := put(t, a.UploadURL, a.Headers, data); status != 200 {
			t.Fatalf("replay %d = %d %s", i+1, status, msg)
		}
		f.events(a.FileKey, i+2)
		if u := f.quota(alice).Usage; u.StoredBytes != 2<<20 {
			t.Fatalf("after delete and replay %d: %d bytes stored, want the 2 MiB the caller stores", i+1, u.StoredBytes)
		}
	}
	if status, _, body := f.ask(alice, "more.bin", 1); status != http.StatusForbidden {
		t.Errorf("one byte more over a full quota = %d %s, want 403", status, body)
	}
}
