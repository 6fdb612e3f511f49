package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3event"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/bucketevents"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// notifications verifies the uploads of the buckets whose flows ask for it
// (newEventFlow), from the shared gateway's own notifications, as local
// mode does; sent keeps every notification the gateway posted, so that a
// test can deliver one again.
var (
	notifications *bucketevents.Endpoint
	sent          *notificationLog
)

// startNotifications returns what receives the gateway's notifications.
func startNotifications() http.Handler {
	notifications = bucketevents.New(slog.New(slog.DiscardHandler), bucketevents.Options{})
	sent = &notificationLog{next: notifications}
	return sent
}

func stopNotifications() { _ = notifications.Close() }

// notificationLog keeps each notification on its way to the endpoint.
type notificationLog struct {
	next http.Handler
	mu   sync.Mutex
	all  []s3event.EventSchema
}

func (n *notificationLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var s s3event.EventSchema
	if json.Unmarshal(b, &s) == nil && len(s.Records) > 0 {
		n.mu.Lock()
		n.all = append(n.all, s)
		n.mu.Unlock()
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	n.next.ServeHTTP(w, r)
}

// records returns the records the gateway sent about key in bucket whose
// event name starts with kind, such as "s3:ObjectCreated:".
func (n *notificationLog) records(bucket, key, kind string) []s3event.EventSchema {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []s3event.EventSchema
	for _, s := range n.all {
		r := s.Records[0]
		if r.S3.Bucket.Name == bucket && r.S3.Object.Key == key && strings.HasPrefix(string(r.EventName), kind) {
			out = append(out, s)
		}
	}
	return out
}

// deliver posts a notification the gateway sent to the endpoint again, as
// the gateway posts it.
func (n *notificationLog) deliver(t *testing.T, s s3event.EventSchema) {
	t.Helper()
	b, _ := json.Marshal(s)
	resp, err := http.Post(gw.EventsURL, "application/json; charset=utf-8", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("redelivery answered %d, want 204", resp.StatusCode)
	}
}

// eventFlow is a flow whose uploads local mode verifies: published is the
// log its publisher writes, one line per event.
type eventFlow struct {
	*flow
	published *eventLog
}

// newEventFlow serves cfg over a fresh bucket whose uploads are verified
// from the gateway's notifications and whose pre-signed reads are guarded,
// as in local mode. The verifier uses verifierS3 when given.
func newEventFlow(t testing.TB, cfg api.UploadSettings, verifierS3 *s3.Client) *eventFlow {
	t.Helper()
	f := &eventFlow{flow: newFlow(t, cfg, ""), published: &eventLog{}}
	cfg.Bucket = f.bucket
	if verifierS3 == nil {
		verifierS3 = f.s3
	}
	quiet := slog.New(slog.DiscardHandler)
	pub := bucketevents.NewPublisher(f.published, "", s3gw.Region, quiet)
	if err := verifyUploads(notifications, gw, verifierS3, api.VerifierSettings{UploadSettings: cfg}, pub, quiet); err != nil {
		t.Fatal(err)
	}
	return f
}

// published is one line of the published-events log.
type published struct {
	at     time.Time
	event  api.RawEvent
	detail api.UploadEvent
}

// eventLog parses what a publisher writes.
type eventLog struct {
	mu   sync.Mutex
	rest []byte
	all  []published
}

func (l *eventLog) Write(p []byte) (int, error) {
	at := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rest = append(l.rest, p...)
	for {
		line, rest, ok := bytes.Cut(l.rest, []byte("\n"))
		if !ok {
			return len(p), nil
		}
		l.rest = rest
		js, ok := bytes.CutPrefix(line, []byte(bucketevents.LinePrefix))
		e := published{at: at}
		if !ok || json.Unmarshal(js, &e.event) != nil || json.Unmarshal(e.event.Detail, &e.detail) != nil {
			return 0, fmt.Errorf("published %q, want %q and an event's JSON", line, bucketevents.LinePrefix)
		}
		l.all = append(l.all, e)
	}
}

// forKey returns the events published about key, oldest first.
func (l *eventLog) forKey(key string) []published {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []published
	for _, e := range l.all {
		if e.detail.FileKey == key {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond until it holds; a busy machine is slow, not broken.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 2 minutes", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settleVerifications waits until every notification received so far is verified or
// dropped.
func settleVerifications(t testing.TB) {
	t.Helper()
	waitFor(t, "end to the verifications under way", func() bool { return notifications.Pending() == 0 })
}

// events waits for the n-th event about key, lets every verification under
// way finish, and returns the events about key, which must then be n.
func (f *eventFlow) events(key string, n int) []published {
	f.t.Helper()
	waitFor(f.t, fmt.Sprintf("event %d about %s", n, key), func() bool { return len(f.published.forKey(key)) >= n })
	settleVerifications(f.t)
	got := f.published.forKey(key)
	if len(got) != n {
		for _, e := range got {
			f.t.Logf("published %s %+v", e.event.DetailType, e.detail)
		}
		f.t.Fatalf("%d events about %s, want %d", len(got), key, n)
	}
	return got
}

// lastModified is when S3 stored the key's current object.
func (f *flow) lastModified(key string) time.Time {
	f.t.Helper()
	head, err := f.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToTime(head.LastModified)
}

// afterSecond waits until the clock is past the second of t.
func afterSecond(t time.Time) {
	time.Sleep(time.Until(t.Truncate(time.Second).Add(time.Second)))
}

// etag is the key's current ETag, without quotes.
func (f *flow) etag(key string) string {
	f.t.Helper()
	head, err := f.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.Trim(aws.ToString(head.ETag), `"`)
}

// presignedRead reads key with a pre-signed GET or HEAD, as a download URL
// the API issues reads it, and returns the status and body.
func (f *flow) presignedRead(method, key string) (int, []byte) {
	f.t.Helper()
	presign := s3.NewPresignClient(f.s3)
	in := &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)}
	var url string
	if method == http.MethodHead {
		req, err := presign.PresignHeadObject(context.Background(), &s3.HeadObjectInput{Bucket: in.Bucket, Key: in.Key})
		if err != nil {
			f.t.Fatal(err)
		}
		url = req.URL
	} else {
		req, err := presign.PresignGetObject(context.Background(), in)
		if err != nil {
			f.t.Fatal(err)
		}
		url = req.URL
	}
	return fetch(f.t, method, url)
}

func fetch(t testing.TB, method, url string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

var htmlAsPNG = []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>")

// Uploads through the API, verified from the gateway's own notifications:
// one event each with the detail of what was stored, the status on the
// object, and pre-signed reads of a rejected object refused.
func TestEventsForWhatArrived(t *testing.T) {
	f := newEventFlow(t, api.UploadSettings{}, nil)
	for _, tc := range []struct {
		name, file, contentType string
		data                    []byte
		status, reason          string
		detailType, detected    string
	}{
		{"a real PNG declared image/png", "pixel.png", "image/png", pixelPNG(t),
			api.StatusVerified, "", api.EventUploadVerified, "image/png"},
		{"HTML declared image/png", "page.png", "image/png", htmlAsPNG,
			api.StatusRejected, api.ReasonActiveContent, api.EventUploadRejected, "text/html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := uploadFile(t, f.flow, tc.file, tc.contentType, tc.data)
			got := f.events(key, 1)[0]
			d := got.detail
			want := api.UploadEvent{Bucket: f.bucket, FileKey: key, FileName: tc.file, Size: int64(len(tc.data)),
				ContentType: tc.contentType, DetectedType: tc.detected, ETag: f.etag(key), Reason: tc.reason, IdempotencyKey: d.IdempotencyKey,
				// S3 (and the local server) checksums every new object.
				ChecksumCRC64NVME: api.EncodeCRC64NVME(api.CRC64NVME(tc.data))}
			if got.event.Source != api.EventSource || got.event.DetailType != tc.detailType || d != want || len(d.IdempotencyKey) != 64 {
				t.Errorf("published %s from %s: %+v\nwant %s from %s: %+v with a 64-digit idempotency key",
					got.event.DetailType, got.event.Source, d, tc.detailType, api.EventSource, want)
			}
			tags := f.tags(key)
			if tags[api.StatusTag] != tc.status || tags[api.ReasonTag] != tc.reason {
				t.Errorf("tags = %v, want %s=%s and %s=%q", tags, api.StatusTag, tc.status, api.ReasonTag, tc.reason)
			}
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				status, body := f.presignedRead(method, key)
				switch {
				case tc.status == api.StatusVerified && (status != 200 || method == http.MethodGet && !bytes.Equal(body, tc.data)):
					t.Errorf("pre-signed %s of a verified object = %d, want 200 and its bytes", method, status)
				case tc.status != api.StatusVerified && status != http.StatusForbidden:
					t.Errorf("pre-signed %s of a rejected object = %d %s, want 403", method, status, body)
				}
			}
		})
	}
}

// A multipart upload: one event, after completion, and the gateway sends
// nothing for the parts.
func TestEventsMultipartOnceAfterCompletion(t *testing.T) {
	f := newEventFlow(t, api.UploadSettings{PartSize: 5 << 20}, nil)
	path, _ := writeFile(t, 12<<20)
	c := &uploader.Client{API: f.api.URL, Threshold: 1, Concurrency: 2, StateDir: t.TempDir()}
	res, err := c.UploadFile(context.Background(), path, "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Multipart || res.PartsSent != 3 {
		t.Fatalf("result = %+v, want 3 parts", res)
	}
	d := f.events(res.FileKey, 1)[0].detail
	if d.Size != 12<<20 || !strings.HasSuffix(d.ETag, "-3") || d.ContentType != "application/octet-stream" || d.Reason != "" {
		t.Errorf("published %+v, want the verified 12 MiB object of 3 parts", d)
	}
	var names []string
	for _, s := range sent.records(f.bucket, res.FileKey, "s3:ObjectCreated:") {
		names = append(names, string(s.Records[0].EventName))
	}
	if !slices.Equal(names, []string{string(s3event.EventCompleteMultipartUpload)}) {
		t.Errorf("the gateway sent Object Created %v, want only the completion", names)
	}
}

// A form POST's notification names no key; local mode finds the object.
func TestEventsFormPost(t *testing.T) {
	f := newEventFlow(t, api.UploadSettings{}, nil)
	var form api.UploadFormResponse
	f.post(api.UploadForm.Resource, map[string]string{"fileName": "note.txt", "contentType": "text/plain"}, 200, &form)
	resp, err := postForm(form, []byte("a note from a form"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("form POST = %d", resp.StatusCode)
	}
	got := f.events(form.FileKey, 1)[0]
	if got.event.DetailType != api.EventUploadVerified || got.detail.FileName != "note.txt" || got.detail.DetectedType != "text/plain" {
		t.Errorf("published %s %+v, want note.txt verified as text/plain", got.event.DetailType, got.detail)
	}
}

// Deliveries come at least once and out of order: the same notification
// again, and an older one after a newer object, publish nothing more.
func TestEventsRedeliveredAndOutOfOrder(t *testing.T) {
	f := newEventFlow(t, api.UploadSettings{}, nil)
	key := uploadFile(t, f.flow, "pixel.png", "image/png", pixelPNG(t))
	first := f.events(key, 1)[0]
	if first.event.DetailType != api.EventUploadVerified {
		t.Fatalf("published %s, want %s", first.event.DetailType, api.EventUploadVerified)
	}
	puts := sent.records(f.bucket, key, string(s3event.EventObjectCreatedPut))
	if len(puts) != 1 {
		t.Fatalf("the gateway sent %d PUT notifications for %s, want 1", len(puts), key)
	}
	older := puts[0]

	t.Run("the same notification twice", func(t *testing.T) {
		sent.deliver(t, older)
		sent.deliver(t, older)
		f.events(key, 1)
		if tags := f.tags(key); tags[api.StatusTag] != api.StatusVerified {
			t.Errorf("tags = %v, want still verified", tags)
		}
	})
	t.Run("an older notification after a newer object", func(t *testing.T) {
		// A URL the API issued while the object was verified.
		before, _ := s3.NewPresignClient(f.s3).PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
		again, err := s3.NewPresignClient(f.s3).PresignPutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), ContentType: aws.String("image/png")})
		if err != nil {
			t.Fatal(err)
		}
		if status, msg := put(t, again.URL, map[string]string{"Content-Type": "image/png"}, htmlAsPNG); status != http.StatusOK {
			t.Fatalf("PUT = %d %s", status, msg)
		}
		newer := f.events(key, 2)[1]
		if newer.event.DetailType != api.EventUploadRejected || newer.detail.ETag != f.etag(key) || newer.detail.ETag == first.detail.ETag {
			t.Fatalf("published %s %+v, want the new object rejected", newer.event.DetailType, newer.detail)
		}
		sent.deliver(t, older)
		f.events(key, 2)
		if tags := f.tags(key); tags[api.StatusTag] != api.StatusRejected || tags[api.ReasonTag] != api.ReasonActiveContent {
			t.Errorf("tags = %v, want the new object's rejection kept", tags)
		}
		if status, body := fetch(t, http.MethodGet, before.URL); status != http.StatusForbidden {
			t.Errorf("a URL issued before the object was replaced reads the rejected one: %d %s", status, body)
		}
	})
}

// Local mode's S3 server refuses, as the deployed bucket policy does, every
// pre-signed read of an object under the key prefix that is not verified.
func TestPresignedReadsNeedVerifiedStatus(t *testing.T) {
	f := newFlow(t, api.UploadSettings{}, "")
	gw.GuardReads(f.bucket, api.DefaultKeyPrefix) // guarded, and nothing verifies
	key := uploadFile(t, f, "a.txt", "text/plain", []byte("hello"))
	outside := "elsewhere/a.txt"
	if _, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(outside), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	setStatus := func(t *testing.T, status string) {
		t.Helper()
		tags := []types.Tag{}
		if status != "" {
			tags = append(tags, types.Tag{Key: aws.String(api.StatusTag), Value: aws.String(status)})
		}
		if _, err := f.s3.PutObjectTagging(context.Background(), &s3.PutObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String(key),
			Tagging: &types.Tagging{TagSet: tags}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, key, status string
		want              int
	}{
		{"pending", key, "", http.StatusForbidden},
		{"rejected", key, api.StatusRejected, http.StatusForbidden},
		{"verified", key, api.StatusVerified, http.StatusOK},
		{"missing", api.DefaultKeyPrefix + "0123456789abcdefghijklmnop-missing.txt", "", http.StatusForbidden},
		{"outside the key prefix", outside, "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.key == key {
				setStatus(t, tc.status)
			}
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				if status, body := f.presignedRead(method, tc.key); status != tc.want {
					t.Errorf("pre-signed %s = %d %s, want %d", method, status, body, tc.want)
				}
			}
		})
	}
	t.Run("local mode's own clients sign in a header and are exempt", func(t *testing.T) {
		setStatus(t, api.StatusRejected)
		if data, _, ok := f.object(key); !ok || string(data) != "hello" {
			t.Errorf("read %q (%v), want the object", data, ok)
		}
	})
	t.Run("a bucket local mode does not guard", func(t *testing.T) {
		other := newFlow(t, api.UploadSettings{}, "")
		k := uploadFile(t, other, "a.txt", "text/plain", []byte("hello"))
		if status, _ := other.presignedRead(http.MethodGet, k); status != http.StatusOK {
			t.Errorf("pre-signed GET = %d, want 200", status)
		}
	})
}

// Local mode as a user runs it: each outcome printed as one line and
// POSTed to -events-url as the event a rule's target receives, and a
// pre-signed read of the rejected file refused by its S3 server.
func TestLocalModeEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local mode binary")
	}
	posted := make(chan api.RawEvent, 10)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev api.RawEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("-events-url got %v", err)
		}
		posted <- ev
	}))
	defer sink.Close()
	p := startLocal(t, "dev", filepath.Join(pkgDir, "..", "..", "cdk.json"), "-events-url", sink.URL)

	upload := func(name string, data []byte) string {
		t.Helper()
		body := fmt.Sprintf(`{"fileName":%q,"contentType":"text/plain"}`, name)
		req, _ := http.NewRequest("POST", p.API+api.UploadURL.Resource, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", p.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got api.UploadURLResponse
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST %s = %d (%v)", api.UploadURL.Resource, resp.StatusCode, err)
		}
		if status, msg := put(t, got.UploadURL, got.Headers, data); status != 200 {
			t.Fatalf("PUT %s = %d %s", name, status, msg)
		}
		return got.FileKey
	}
	keys := map[string]string{upload("hello.txt", []byte("hello\n")): api.EventUploadVerified, upload("page.txt", htmlAsPNG): api.EventUploadRejected}

	printed := map[string]string{}
	deadline := time.After(2 * time.Minute)
	for len(printed) < len(keys) {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatal("local mode exited")
			}
			js, isEvent := strings.CutPrefix(l, bucketevents.LinePrefix)
			if !isEvent {
				continue
			}
			var ev api.RawEvent
			var d api.UploadEvent
			if json.Unmarshal([]byte(js), &ev) != nil || json.Unmarshal(ev.Detail, &d) != nil {
				t.Fatalf("printed %q, want an event's JSON", l)
			}
			printed[d.FileKey] = ev.DetailType
		case <-deadline:
			t.Fatalf("printed %v within 2 minutes, want an event for each of %v", printed, keys)
		}
	}
	if !maps.Equal(printed, keys) {
		t.Errorf("printed %v, want %v", printed, keys)
	}
	for range keys {
		select {
		case ev := <-posted:
			var d api.UploadEvent
			_ = json.Unmarshal(ev.Detail, &d)
			if ev.Source != api.EventSource || keys[d.FileKey] != ev.DetailType {
				t.Errorf("-events-url got %s from %s about %s", ev.DetailType, ev.Source, d.FileKey)
			}
		case <-time.After(time.Minute):
			t.Fatal("-events-url got fewer events than were printed")
		}
	}

	client := s3.New(s3.Options{BaseEndpoint: aws.String(p.S3), UsePathStyle: true, Region: s3gw.Region,
		Credentials: credentials.NewStaticCredentialsProvider(p.S3Key, p.S3Secret, "")})
	for key, detailType := range keys {
		req, err := s3.NewPresignClient(client).PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("presigned-upload-dev"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{api.EventUploadVerified: http.StatusOK, api.EventUploadRejected: http.StatusForbidden}[detailType]
		if status, _ := fetch(t, http.MethodGet, req.URL); status != want {
			t.Errorf("pre-signed GET of the %s file = %d, want %d", detailType, status, want)
		}
	}
}
