package bucketevents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3event"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/bucketevents"
)

const bucket = "uploads-bucket"

// record is a notification record as the S3 server (versitygw) builds it.
func record(name s3event.EventType, bucket, key string, size int64, etag string) s3event.EventRecord {
	quoted := `"` + etag + `"`
	empty := ""
	var r s3event.EventRecord
	r.EventVersion, r.EventSource, r.AwsRegion, r.EventName = "2.2", "aws:s3", "us-east-1", name
	r.EventTime = time.Now().Format(time.RFC3339)
	r.UserIdentity.PrincipalId = "local-root"
	r.S3.Bucket.Name = bucket
	r.S3.Object = s3event.EventObjectData{Key: key, Size: size, ETag: &quoted, VersionId: &empty, Sequencer: "1A"}
	return r
}

// recorder is a verifier that keeps the events it is given; fail makes
// it fail the first n calls for a key.
type recorder struct {
	mu       sync.Mutex
	got      []api.RawEvent
	fail     map[string]int
	inFlight map[string]int
	overlap  bool // two calls for one key ran at once
	running  int
	maxRun   int
	block    chan struct{}
}

func newRecorder() *recorder { return &recorder{fail: map[string]int{}, inFlight: map[string]int{}} }

func (r *recorder) HandleEvent(ctx context.Context, ev api.RawEvent) error {
	var d struct {
		Object struct {
			Key string `json:"key"`
		} `json:"object"`
	}
	_ = json.Unmarshal(ev.Detail, &d)
	key := d.Object.Key
	r.mu.Lock()
	r.inFlight[key]++
	r.overlap = r.overlap || r.inFlight[key] > 1
	r.running++
	r.maxRun = max(r.maxRun, r.running)
	block := r.block
	r.mu.Unlock()
	if block != nil {
		<-block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight[key]--
	r.running--
	r.got = append(r.got, ev)
	if r.fail[key] > 0 {
		r.fail[key]--
		return errors.New("S3 is down")
	}
	return nil
}

func (r *recorder) events() []api.RawEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// listing is the bucket's listing for a form POST's event.
type listing []types.Object

func (l listing) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{Contents: l}, nil
}

func newEndpoint(t *testing.T, v bucketevents.Verifier, l bucketevents.Lister, opts bucketevents.Options) (*bucketevents.Endpoint, *httptest.Server) {
	t.Helper()
	ep := bucketevents.New(slog.New(slog.DiscardHandler), opts)
	ep.Verify(api.UploadSettings{Bucket: bucket}, v, l)
	srv := httptest.NewServer(ep)
	t.Cleanup(func() { srv.Close(); _ = ep.Close() })
	return ep, srv
}

func send(t *testing.T, url string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json; charset=utf-8", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("notification answered %d, want 204", resp.StatusCode)
	}
}

// settle waits until every event received is done with.
func settle(t *testing.T, ep *bucketevents.Endpoint) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for ep.Pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending after 30s", ep.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func detail(t *testing.T, ev api.RawEvent) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// The deployed rule's filter: Object Created under the key prefix of the
// bucket, stored by PutObject, POST Object or CompleteMultipartUpload.
func TestOnlyWhatTheRuleMatches(t *testing.T) {
	const key = "uploads/0123456789abcdefghijklmnop-a.png"
	for _, tc := range []struct {
		name   string
		rec    s3event.EventRecord
		reason string // "" when dropped
	}{
		{"PUT", record(s3event.EventObjectCreatedPut, bucket, key, 10, "e1"), "PutObject"},
		{"multipart completion", record(s3event.EventCompleteMultipartUpload, bucket, key, 0, "e1-3"), "CompleteMultipartUpload"},
		{"copy", record(s3event.EventObjectCreatedCopy, bucket, key, 10, "e1"), ""},
		{"tagging, the verifier's own", record(s3event.EventObjectTaggingPut, bucket, key, 0, "e1"), ""},
		{"deletion", record(s3event.EventObjectRemovedDelete, bucket, key, 0, "e1"), ""},
		{"another bucket", record(s3event.EventObjectCreatedPut, "other", key, 10, "e1"), ""},
		{"outside the key prefix (a marker)", record(s3event.EventObjectCreatedPut, bucket, "upload-verifications/abc", 10, "e1"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newRecorder()
			ep, srv := newEndpoint(t, v, listing{}, bucketevents.Options{})
			send(t, srv.URL, s3event.EventSchema{Records: []s3event.EventRecord{tc.rec}})
			settle(t, ep)
			got := v.events()
			if tc.reason == "" {
				if len(got) != 0 {
					t.Fatalf("delivered %d events, want none", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("delivered %d events, want 1", len(got))
			}
			ev := got[0]
			d := detail(t, ev)
			obj, _ := d["object"].(map[string]any)
			if ev.Source != "aws.s3" || ev.DetailType != "Object Created" || d["reason"] != tc.reason ||
				d["bucket"].(map[string]any)["name"] != bucket || obj["key"] != key || obj["etag"] != strings.Trim(*tc.rec.S3.Object.ETag, `"`) ||
				obj["sequencer"] != "1A" || obj["size"] != float64(tc.rec.S3.Object.Size) {
				t.Errorf("delivered %s %s %s, want Object Created from aws.s3 with reason %s, key %s and the bare ETag", ev.Source, ev.DetailType, ev.Detail, tc.reason, key)
			}
			if _, versioned := obj["version-id"]; versioned {
				t.Errorf("version-id %v in an unversioned bucket's event", obj["version-id"])
			}
		})
	}
	t.Run("the start-up test event", func(t *testing.T) {
		v := newRecorder()
		ep, srv := newEndpoint(t, v, listing{}, bucketevents.Options{})
		send(t, srv.URL, map[string]string{"Service": "S3", "Event": "s3:TestEvent", "Bucket": "Test-Bucket"})
		settle(t, ep)
		if n := len(v.events()); n != 0 {
			t.Errorf("delivered %d events, want none", n)
		}
	})
}

// A form POST's notification names no key: the object is the one under
// the prefix with its ETag and size.
func TestFormPostFindsItsObject(t *testing.T) {
	const posted = "uploads/0123456789abcdefghijklmnop-form.txt"
	v := newRecorder()
	objects := listing{
		{Key: aws.String("uploads/0123456789abcdefghijklmnoq-other.txt"), ETag: aws.String(`"e2"`), Size: aws.Int64(5)},
		{Key: aws.String(posted), ETag: aws.String(`"e1"`), Size: aws.Int64(5)},
		{Key: aws.String("uploads/0123456789abcdefghijklmnor-same-etag.txt"), ETag: aws.String(`"e1"`), Size: aws.Int64(6)},
	}
	ep, srv := newEndpoint(t, v, objects, bucketevents.Options{})
	send(t, srv.URL, s3event.EventSchema{Records: []s3event.EventRecord{record(s3event.EventObjectCreatedPost, bucket, "", 5, "e1")}})
	settle(t, ep)
	got := v.events()
	if len(got) != 1 {
		t.Fatalf("delivered %d events, want 1", len(got))
	}
	d := detail(t, got[0])
	if key := d["object"].(map[string]any)["key"]; key != posted || d["reason"] != "POST Object" {
		t.Errorf("delivered key %v, reason %v; want %s, POST Object", key, d["reason"], posted)
	}
}

// Events for one key are verified one at a time in arrival order; keys
// run side by side within the worker bound; a failure is retried.
func TestQueue(t *testing.T) {
	t.Run("in order per key, bounded across keys", func(t *testing.T) {
		v := newRecorder()
		v.block = make(chan struct{})
		ep, srv := newEndpoint(t, v, listing{}, bucketevents.Options{Workers: 3})
		const keys, perKey = 6, 5
		for i := range perKey {
			for k := range keys {
				rec := record(s3event.EventObjectCreatedPut, bucket, fmt.Sprintf("uploads/k%d", k), 1, "e")
				rec.S3.Object.Sequencer = fmt.Sprint(i)
				send(t, srv.URL, s3event.EventSchema{Records: []s3event.EventRecord{rec}})
			}
		}
		close(v.block)
		settle(t, ep)
		got := v.events()
		if len(got) != keys*perKey {
			t.Fatalf("delivered %d events, want %d", len(got), keys*perKey)
		}
		next := map[string]int{}
		for _, ev := range got {
			obj := detail(t, ev)["object"].(map[string]any)
			k, seq := obj["key"].(string), obj["sequencer"].(string)
			if seq != fmt.Sprint(next[k]) {
				t.Errorf("%s: event %s verified when %d was due", k, seq, next[k])
			}
			next[k]++
		}
		if v.overlap {
			t.Error("two events of one key were verified at once")
		}
		if v.maxRun > 3 {
			t.Errorf("%d verifications ran at once, want at most 3", v.maxRun)
		}
	})
	t.Run("a failure is retried", func(t *testing.T) {
		v := newRecorder()
		v.fail["uploads/flaky"] = 2
		ep, srv := newEndpoint(t, v, listing{}, bucketevents.Options{RetryAfter: time.Millisecond})
		send(t, srv.URL, s3event.EventSchema{Records: []s3event.EventRecord{record(s3event.EventObjectCreatedPut, bucket, "uploads/flaky", 1, "e")}})
		settle(t, ep)
		if n := len(v.events()); n != 3 {
			t.Errorf("verified %d times, want 3 (two failures, then success)", n)
		}
	})
	t.Run("a failure that persists is dropped after the attempts", func(t *testing.T) {
		v := newRecorder()
		v.fail["uploads/broken"] = 100
		ep, srv := newEndpoint(t, v, listing{}, bucketevents.Options{Attempts: 4, RetryAfter: time.Millisecond})
		send(t, srv.URL, s3event.EventSchema{Records: []s3event.EventRecord{record(s3event.EventObjectCreatedPut, bucket, "uploads/broken", 1, "e")}})
		settle(t, ep)
		if n := len(v.events()); n != 4 {
			t.Errorf("tried %d times, want 4", n)
		}
	})
}
