package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
	"github.com/presigned-upload/presigned-upload/lambda/verifier"
)

// TestVerifierAgainstS3 runs the verifier against the real S3 server on
// files uploaded through the API, with S3 Object Created events shaped as
// EventBridge delivers them through the queue. It counts what the server
// sent: of a 64 MiB object, at most its first 4 KiB.
func TestVerifierAgainstS3(t *testing.T) {
	f := newFlow(t, api.UploadSettings{}, "")
	wire := newWireCounter()
	bus := &recordingBus{}
	h, err := verifier.New(api.VerifierSettings{UploadSettings: api.UploadSettings{Bucket: f.bucket}}, wire.client(), bus,
		verifier.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 64<<20)
	files := []struct {
		name, contentType string
		data              []byte
		status, reason    string
		detected          string
	}{
		{"pixel.png", "image/png", pixelPNG(t), api.StatusVerified, "", "image/png"},
		{"page.png", "image/png", []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"),
			api.StatusRejected, api.ReasonActiveContent, "text/html"},
		{"big.bin", "application/octet-stream", big, api.StatusVerified, "", "application/octet-stream"},
	}
	for i, file := range files {
		func() {
			key := uploadFile(t, f, file.name, file.contentType, file.data)
			// A tag someone else put there first (GuardDuty, the
			// application) that the status must not replace.
			if _, err := f.s3.PutObjectTagging(context.Background(), &s3.PutObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String(key),
				Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("project"), Value: aws.String("alpha")}}}}); err != nil {
				t.Fatal(err)
			}
			ev := f.objectCreated(key)

			wire.reset()
			f.deliver(h, ev)
			calls, bodies, sent := wire.totals()
			data := wire.bodyBytes(key)
			t.Logf("%s, %d bytes: %d S3 calls; the server sent %d bytes of it, %d body bytes in all, %d bytes on the wire",
				file.name, len(file.data), calls, data, bodies, sent)
			if data > 4096 {
				t.Errorf("%s: the server sent %d bytes of the object, want at most 4096", file.name, data)
			}
			// Everything else is headers and small XML answers.
			if limit := int64(4096 + calls*2048); sent > limit {
				t.Errorf("%s: the server sent %d bytes in %d calls, want at most %d", file.name, sent, calls, limit)
			}

			tags := f.tags(key)
			if tags[api.StatusTag] != file.status || tags[api.ReasonTag] != file.reason || tags["project"] != "alpha" {
				t.Errorf("%s: tags = %v, want %s=%s, %s=%q and project=alpha kept", file.name, tags, api.StatusTag, file.status, api.ReasonTag, file.reason)
			}
			pub := bus.events()
			if len(pub) != i+1 {
				t.Fatalf("published %d events in all, want %d", len(pub), i+1)
			}
			got := pub[i]
			wantType := map[string]string{api.StatusVerified: api.EventUploadVerified, api.StatusRejected: api.EventUploadRejected}[file.status]
			if got.detailType != wantType || got.detail.FileKey != key || got.detail.Reason != file.reason ||
				got.detail.Size != int64(len(file.data)) || got.detail.ContentType != file.contentType || got.detail.DetectedType != file.detected {
				t.Errorf("published %s %+v, want %s for %s (%d bytes, %s sniffed as %s, reason %q)",
					got.detailType, got.detail, wantType, key, len(file.data), file.contentType, file.detected, file.reason)
			}

			// Delivered again: nothing changes, nothing is published.
			f.deliver(h, ev)
			if n := len(bus.events()); n != i+1 {
				t.Errorf("%s: a redelivery published again: %d events, want %d", file.name, n, i+1)
			}
		}()
	}
}

// uploadFile uploads data through the API with a pre-signed PUT and
// returns its key.
func uploadFile(t *testing.T, f *flow, name, contentType string, data []byte) string {
	t.Helper()
	size := int64(len(data))
	got := f.uploadURL(api.UploadURLRequest{FileName: name, ContentType: contentType, Size: &size})
	if status, msg := put(t, got.UploadURL, got.Headers, data); status != http.StatusOK {
		t.Fatalf("PUT %s = %d %s", name, status, msg)
	}
	return got.FileKey
}

// objectCreated is S3's Object Created event for the key's current object,
// as EventBridge delivers it.
func (f *flow) objectCreated(key string) api.RawEvent {
	f.t.Helper()
	head, err := f.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		f.t.Fatal(err)
	}
	d := api.ObjectCreated{Version: "0", RequestID: "LOCAL", Requester: "local", SourceIPAddress: "127.0.0.1", Reason: api.StoredByPut,
		Object: api.CreatedObject{Key: key, Size: aws.ToInt64(head.ContentLength), ETag: strings.Trim(aws.ToString(head.ETag), `"`),
			Sequencer: fmt.Sprintf("%018X", time.Now().UnixNano())}}
	d.Bucket.Name = f.bucket
	detail, _ := json.Marshal(d)
	return api.RawEvent{Version: "0", ID: fmt.Sprintf("local-%d", time.Now().UnixNano()), DetailType: api.DetailTypeObjectCreated,
		Source: api.SourceS3, Account: "000000000000", Time: time.Now().UTC(), Region: s3gw.Region,
		Resources: []string{"arn:aws:s3:::" + f.bucket}, Detail: detail}
}

// deliver hands ev to the verifier as a one-record batch from the queue.
func (f *flow) deliver(h *verifier.Handler, ev api.RawEvent) {
	f.t.Helper()
	body, _ := json.Marshal(ev)
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: ev.ID, Body: string(body), EventSource: "aws:sqs"}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		f.t.Fatalf("verifier: %v, failures %v", err, resp.BatchItemFailures)
	}
}

// tags reads the key's tags straight from S3.
func (f *flow) tags(key string) map[string]string {
	f.t.Helper()
	out, err := f.s3.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]string{}
	for _, t := range out.TagSet {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func pixelPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.RGBA{B: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// wireCounter counts what the S3 server sends one client: every byte read
// from its connections (status lines, headers, bodies), and each
// response's body by key. A body the client closes early is drained first,
// so the count is what the server sent, not what the client read.
type wireCounter struct {
	wire  atomic.Int64
	mu    sync.Mutex
	calls int
	body  map[string]int64 // object data by key; "" for everything else
}

func newWireCounter() *wireCounter { return &wireCounter{body: map[string]int64{}} }

func (w *wireCounter) client() *s3.Client {
	dialer := &net.Dialer{}
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countedConn{Conn: c, n: &w.wire}, nil
	}}
	return s3.New(gw.Client().Options(), func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := transport.RoundTrip(r)
			if err != nil {
				return nil, err
			}
			// Object data is what a GET of a key answers (path-style:
			// /bucket/key); tags, the other GET, come as XML.
			key := ""
			if r.Method == http.MethodGet && !r.URL.Query().Has("tagging") {
				_, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			}
			w.mu.Lock()
			w.calls++
			w.mu.Unlock()
			resp.Body = &countedBody{ReadCloser: resp.Body, add: func(n int64) {
				w.mu.Lock()
				defer w.mu.Unlock()
				w.body[key] += n
			}}
			return resp, nil
		})}
	})
}

func (w *wireCounter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.wire.Store(0)
	w.calls, w.body = 0, map[string]int64{}
}

// totals returns the calls, their body bytes and the bytes on the wire
// since reset.
func (w *wireCounter) totals() (calls int, bodies, wire int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.body {
		bodies += n
	}
	return w.calls, bodies, w.wire.Load()
}

func (w *wireCounter) bodyBytes(key string) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body[key]
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countedBody struct {
	io.ReadCloser
	add func(int64)
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.add(int64(n))
	return n, err
}

func (b *countedBody) Close() error {
	n, _ := io.Copy(io.Discard, b.ReadCloser)
	b.add(n)
	return b.ReadCloser.Close()
}

// recordingBus stands in for EventBridge and keeps what was published.
type recordingBus struct {
	mu  sync.Mutex
	all []publishedEvent
}

type publishedEvent struct {
	detailType string
	detail     api.UploadEvent
}

func (b *recordingBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range in.Entries {
		p := publishedEvent{detailType: aws.ToString(e.DetailType)}
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &p.detail); err != nil {
			return nil, err
		}
		b.all = append(b.all, p)
	}
	return &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}, nil
}

func (b *recordingBus) events() []publishedEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]publishedEvent(nil), b.all...)
}
