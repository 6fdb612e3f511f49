// Package uploader uploads files through the upload API: one pre-signed PUT
// for small files, and for large ones a multipart upload with parts sent in
// parallel, retried with backoff, and resumed from the parts S3 already
// holds after an interruption. Every byte is checked end to end: the
// file's CRC64NVME checksum, computed while reading it, is signed into the
// PUT, or, for a multipart upload, each part's into its URL and the whole
// file's into the completion, where S3 refuses parts that do not make up
// the file read.
package uploader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// Client uploads files through one API. Only API is required.
type Client struct {
	// API is the stage's base URL, such as
	// https://abc.execute-api.eu-west-1.amazonaws.com/prod or local mode's
	// http://127.0.0.1:8080.
	API string
	// APIKey is sent as X-Api-Key when set, to the API only: a redirect to
	// another origin fails with ErrRedirectElsewhere, and S3 never gets it.
	APIKey string
	// Token, when set, gives the access token sent as Authorization: Bearer
	// on every API call, asked for anew before each; like the key, it goes
	// to the API's origin only.
	Token TokenSource
	// AllowHTTP allows an http:// API URL whose host is not loopback
	// (localhost, 127.0.0.0/8, ::1). Default: such a URL fails with
	// ErrPlainHTTP before any request, since the key would travel in
	// clear text.
	AllowHTTP bool
	// HTTP sends every request. Default: a client with no overall timeout.
	HTTP *http.Client
	// Threshold is the size from which files go up in parts. Default: 64 MiB.
	Threshold int64
	// Concurrency is how many parts are sent at once. Default: 4.
	Concurrency int
	// Attempts is how often one request is tried before the upload fails.
	// Default: 5.
	Attempts int
	// StateDir keeps what a multipart upload needs to resume. Default:
	// presigned-upload in the user's cache directory.
	StateDir string
	// KeepPartial keeps a failed multipart upload for a later resume
	// instead of aborting it.
	KeepPartial bool
	// Progress, when set, is called as bytes reach S3.
	Progress func(Progress)

	apiHTTP *http.Client // HTTP, following redirects only within the API's origin
}

// Progress reports one file's upload.
type Progress struct {
	Name  string
	Sent  int64
	Total int64
}

// Result describes a finished upload.
type Result struct {
	FileKey   string
	ETag      string
	Size      int64
	Multipart bool
	// ChecksumCRC64NVME is the stored object's whole-file checksum, which
	// S3 compared with the one read from the file.
	ChecksumCRC64NVME string
	// PartsSent and PartsSkipped count the parts sent now and the parts a
	// resumed upload found already in S3.
	PartsSent    int
	PartsSkipped int
	// APICalls counts requests to the upload API (not to S3).
	APICalls int
}

// Defaults.
const (
	DefaultThreshold   = 64 << 20
	DefaultConcurrency = 4
	DefaultAttempts    = 5
)

// APIError is a failed API or S3 response.
type APIError struct {
	Status  int
	Code    string
	Message string
	// Quota says which limit a QuotaExceeded refusal is about.
	Quota *api.QuotaRefusal
}

func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
	}
	return fmt.Sprintf("%s (%d)", e.Message, e.Status)
}

// UploadFile uploads the file at path. contentType "" guesses it from the
// file name.
func (c *Client) UploadFile(ctx context.Context, path, contentType string) (*Result, error) {
	if err := c.CheckAPI(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	if contentType == "" {
		contentType = mime.TypeByExtension(filepath.Ext(path))
		if contentType == "" {
			contentType = "application/octet-stream"
		}
	}
	abs, _ := filepath.Abs(path)
	u := &upload{c: c.withDefaults(), r: f, size: st.Size(), name: filepath.Base(path), contentType: contentType,
		resumeKey: fmt.Sprintf("%s\n%s\n%d\n%d", c.API, abs, st.Size(), st.ModTime().UnixNano())}
	if u.size < u.c.Threshold {
		return u.single(ctx)
	}
	return u.multipart(ctx)
}

func (c *Client) withDefaults() *Client {
	cc := *c
	cc.API = strings.TrimRight(cc.API, "/")
	if cc.HTTP == nil {
		cc.HTTP = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, ResponseHeaderTimeout: 5 * time.Minute}}
	}
	cc.apiHTTP = apiOnly(cc.HTTP, cc.API)
	if cc.Threshold <= 0 {
		cc.Threshold = DefaultThreshold
	}
	if cc.Concurrency <= 0 {
		cc.Concurrency = DefaultConcurrency
	}
	if cc.Attempts <= 0 {
		cc.Attempts = DefaultAttempts
	}
	if cc.StateDir == "" {
		cc.StateDir = DefaultStateDir()
	}
	return &cc
}

// upload is one file on its way.
type upload struct {
	c           *Client
	r           io.ReaderAt
	size        int64
	name        string
	contentType string
	resumeKey   string
	// secret is the multipart upload's secret, sent with every call
	// about it.
	secret string
	sent   atomic.Int64
	calls  atomic.Int64
	// saving serialises the writes of the resume state file.
	saving sync.Mutex
}

func (u *upload) report(delta int64) {
	n := u.sent.Add(delta)
	if u.c.Progress != nil {
		u.c.Progress(Progress{Name: u.name, Sent: n, Total: u.size})
	}
}

// single uploads the file with one PUT that signs its size and CRC64NVME.
func (u *upload) single(ctx context.Context) (*Result, error) {
	h := api.NewCRC64NVME()
	if _, err := io.Copy(h, io.NewSectionReader(u.r, 0, u.size)); err != nil {
		return nil, err
	}
	size, sum := u.size, api.EncodeCRC64NVME(h.Sum64())
	var got api.UploadURLResponse
	if err := u.api(ctx, api.UploadURL, nil, api.UploadURLRequest{
		FileName: u.name, ContentType: u.contentType, Size: &size, ChecksumCRC64NVME: sum,
	}, &got); err != nil {
		return nil, err
	}
	etag, err := u.put(ctx, signed{url: got.UploadURL, headers: got.Headers}, 0, u.size, nil)
	if err != nil {
		return nil, err
	}
	return &Result{FileKey: got.FileKey, ETag: etag, Size: u.size, ChecksumCRC64NVME: sum, PartsSent: 1, APICalls: int(u.calls.Load())}, nil
}

// signed is a pre-signed request: its URL, the headers it signs, and when
// it expires (zero when unknown).
type signed struct {
	url     string
	headers map[string]string
	expires time.Time
}

// expiryMargin is how long before its expiry a URL is signed anew rather
// than used: a request must start, and a large one be accepted, in time.
const expiryMargin = 30 * time.Second

// put sends length bytes from offset to a pre-signed request, retrying
// transient failures, and returns S3's ETag. resign, when set, gets a fresh
// request for one that has expired or is about to: S3 answers an expired
// URL with 403, or, for a large body, by closing the connection, which a
// retry after the expiry then signs anew.
func (u *upload) put(ctx context.Context, target signed, offset, length int64, resign func(context.Context) (signed, error)) (string, error) {
	var lastErr error
	for attempt := 0; attempt < u.c.Attempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return "", err
			}
		}
		if resign != nil && !target.expires.IsZero() && time.Until(target.expires) < expiryMargin {
			fresh, err := resign(ctx)
			if err != nil {
				return "", err
			}
			target = fresh
		}
		var counted int64
		body := &countingReader{r: io.NewSectionReader(u.r, offset, length), add: func(n int64) { counted += n; u.report(n) }}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, target.url, body)
		if err != nil {
			return "", redactURLError(err)
		}
		req.ContentLength = length
		for k, v := range target.headers {
			if !strings.EqualFold(k, "Content-Length") {
				req.Header.Set(k, v)
			}
		}
		resp, err := u.c.HTTP.Do(req)
		err = redactURLError(err)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return resp.Header.Get("ETag"), nil
			}
			err = s3Error(resp.StatusCode, b)
		}
		u.report(-counted)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		lastErr = err
		var ae *APIError
		if errors.As(err, &ae) {
			switch {
			case ae.Status == http.StatusForbidden && strings.Contains(ae.Message, "xpired") && resign != nil:
				fresh, err := resign(ctx)
				if err != nil {
					return "", err
				}
				target = fresh
			case ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusRequestTimeout:
			default:
				return "", err // the request itself is wrong: retrying cannot help
			}
		}
	}
	return "", fmt.Errorf("after %d attempts: %w", u.c.Attempts, lastErr)
}

// redactURLError takes the pre-signed URL out of an error net/http made
// about a request to it: the URL's query is a credential (X-Amz-Credential,
// X-Amz-Signature, and when deployed X-Amz-Security-Token) with which
// whoever reads the message, in a terminal, a CI log or a bug report, can
// write to the bucket until it expires. The scheme, host and path stay, to
// say where the request went, and the error still unwraps to what failed
// (a cancelled context, a timeout, a refused redirect).
func redactURLError(err error) error {
	ue, ok := err.(*url.Error) // net/http's errors with a URL are all one
	if !ok {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: redactURLError(ue.Err)}
}

// redactURL cuts the query, the fragment and any user info from a URL,
// parsable or not.
func redactURL(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if _, rest, ok := strings.Cut(s, "://"); ok {
		authority, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			s = s[:len(s)-len(rest)] + rest[at+1:]
		}
	}
	return s
}

// api calls route r of the upload API: path parameters fill its path, and
// in is its JSON body or, for a GET or DELETE, its query string.
func (u *upload) api(ctx context.Context, r api.Route, params []string, in, out any) error {
	path := r.Path(params...)
	if in != nil && !r.InBody() {
		path += "?" + api.Query(in).Encode()
		in = nil
	}
	var lastErr error
	for attempt := 0; attempt < u.c.Attempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		var body io.Reader
		if in != nil {
			b, err := json.Marshal(in)
			if err != nil {
				return err
			}
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, r.Method, u.c.API+path, body)
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if u.c.APIKey != "" {
			req.Header.Set("X-Api-Key", u.c.APIKey)
		}
		if u.secret != "" && slices.Contains(r.Params(), "uploadId") {
			req.Header.Set(api.UploadSecretHeader, u.secret)
		}
		if u.c.Token != nil {
			token, err := u.c.Token.Token(ctx)
			if err != nil {
				return fmt.Errorf("sign-in: %w", err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
		}
		u.calls.Add(1)
		resp, err := u.c.apiHTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ErrRedirectElsewhere) {
				return err
			}
			lastErr = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode/100 == 2 {
			if out == nil || len(b) == 0 {
				return nil
			}
			return json.Unmarshal(b, out)
		}
		var e api.ErrorResponse
		_ = json.Unmarshal(b, &e)
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		lastErr = &APIError{Status: resp.StatusCode, Code: e.Code, Message: fmt.Sprintf("%s %s: %s", r.Method, path, e.Message), Quota: e.Quota}
		if e.Code == api.CodeQuotaExceeded || e.Code == api.CodeTooManyPending {
			return lastErr // a 429 here is a day's limit or a full ledger: retrying now cannot help
		}
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return lastErr
		}
	}
	return lastErr
}

// s3Error reads S3's XML error body.
func s3Error(status int, body []byte) error {
	code := between(string(body), "<Code>", "</Code>")
	msg := between(string(body), "<Message>", "</Message>")
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &APIError{Status: status, Code: code, Message: "S3: " + msg}
}

func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, close)
	return v
}

func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << (attempt - 1)
	if d > 5*time.Second {
		d = 5 * time.Second
	}
	// Up to 50% jitter keeps parallel retries apart.
	return d/2 + time.Duration(time.Now().UnixNano()%int64(d/2+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.add(int64(n))
	}
	return n, err
}
