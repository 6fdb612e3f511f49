// Package bucketevents stands in, in local mode, for what follows an upload
// when deployed: S3 → EventBridge rule → queue → verifier → event bus. The
// S3 server posts its bucket event notifications (S3's record format) to
// an [Endpoint], which keeps only what the deployed rule matches (Object
// Created in a bucket it verifies, under the key prefix, stored by
// PutObject, POST Object or CompleteMultipartUpload), turns each into the
// EventBridge event the rule delivers and has the verifier's own code judge
// it, asynchronously, with retries as the queue would make them. A
// [Publisher] takes the bus's place.
//
// The S3 server (versitygw) sends each notification fire-and-forget with a
// short timeout and in no particular order, so the endpoint answers at once
// and verifies later, in arrival order per key. Its form-POST notification
// carries no key (it names the bucket's path); the endpoint finds the
// object by listing the key prefix for the notification's ETag and size,
// and verifies each match: a stored object that already has its outcome
// changes nothing.
package bucketevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/s3event"

	"github.com/presigned-upload/presigned-upload/api"
)

// Verifier judges one EventBridge event. *verifier.Handler satisfies it; a
// nil error means the event is done with.
type Verifier interface {
	HandleEvent(ctx context.Context, ev api.RawEvent) error
}

// Lister lists the bucket, to find the object of a form POST's event.
// *s3.Client satisfies it.
type Lister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Options tune an [Endpoint]. Zero values take the defaults.
type Options struct {
	// Workers is how many verifications run at once. Default: 4.
	Workers int
	// Attempts is how often an event is tried before it is logged as an
	// error and dropped, where the deployed queue would move it to its
	// dead-letter queue. Default: 5.
	Attempts int
	// RetryAfter is the wait before the second attempt, doubled before
	// each later one. Default: 250 ms.
	RetryAfter time.Duration
	// Timeout bounds one attempt, as the function's timeout bounds a run:
	// the verifier leases an outcome until then. Default: 30 s.
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 250 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return o
}

// maxNotification bounds a notification's body: the S3 server sends one
// record per request.
const maxNotification = 1 << 20

// Endpoint receives the S3 server's notifications, as an http.Handler, and
// verifies the stored objects they are about. Build it with [New].
//
// Whoever can post to it can only make the verifier look again: the
// verifier judges what S3 holds, never what a notification claims.
type Endpoint struct {
	log  *slog.Logger
	opts Options

	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
	wg     sync.WaitGroup
	// pending counts events received and not yet done with.
	pending atomic.Int64

	mu      sync.Mutex
	closed  bool
	buckets map[string]target
	keys    map[objectKey]*keyQueue
}

// target is where one bucket's events go.
type target struct {
	prefix string
	v      Verifier
	list   Lister
}

type objectKey struct{ bucket, key string }

// keyQueue holds one key's events in arrival order while a goroutine
// works through them.
type keyQueue struct {
	events []api.RawEvent
}

// New returns an endpoint that verifies nothing until [Endpoint.Verify]
// names a bucket.
func New(log *slog.Logger, opts Options) *Endpoint {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Endpoint{log: log, opts: opts, ctx: ctx, cancel: cancel, slots: make(chan struct{}, opts.Workers),
		buckets: map[string]target{}, keys: map[objectKey]*keyQueue{}}
}

// Verify sends the Object Created events of cfg.Bucket under cfg.KeyPrefix
// to v, as the deployed rule sends them to the verifier. l lists the
// bucket to find the object of a form POST's event.
func (e *Endpoint) Verify(cfg api.UploadSettings, v Verifier, l Lister) {
	cfg = cfg.WithDefaults()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buckets[cfg.Bucket] = target{prefix: cfg.KeyPrefix, v: v, list: l}
}

// Close abandons the events not yet verified, queues nothing more, and
// waits for the verifications running.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	e.closed = true // a notification still being served queues nothing more
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	return nil
}

// Pending is the number of events received and not yet done with, retries
// included: 0 once everything received so far is verified or dropped.
func (e *Endpoint) Pending() int64 { return e.pending.Load() }

// ServeHTTP takes one notification from the S3 server. It answers at once:
// the server waits a few seconds at most and never sends again.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST bucket event notifications here", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotification))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var n s3event.EventSchema
	if err := json.Unmarshal(body, &n); err != nil {
		e.log.Warn("bucket event notification not understood", "error", err)
		http.Error(w, "not a bucket event notification", http.StatusBadRequest)
		return
	}
	// The start-up test event ({"Event":"s3:TestEvent"}) has no records.
	for _, rec := range n.Records {
		e.receive(rec)
	}
	// No body: the S3 server never reads the answer nor closes it, and an
	// empty one frees its connection at once.
	w.WriteHeader(http.StatusNoContent)
}

// receive queues what the deployed rule would deliver of one record.
func (e *Endpoint) receive(rec s3event.EventRecord) {
	c, ok := decode(rec)
	if !ok {
		return
	}
	e.mu.Lock()
	t, ok := e.buckets[c.bucket]
	e.mu.Unlock()
	switch {
	case !ok:
		return
	case c.key == "" && c.reason == reasons[s3event.EventObjectCreatedPost]:
		if !e.start() {
			return
		}
		go func() {
			defer e.wg.Done()
			defer e.pending.Add(-1)
			e.attempt("find the object of a form POST", c.etag, func(ctx context.Context) error { return e.findPosted(ctx, t, c) })
		}()
	case strings.HasPrefix(c.key, t.prefix):
		e.enqueue(t, c)
	}
}

// findPosted queues an event for each object under the key prefix that
// has the form POST's ETag and size: the one it stored, and any other
// object with the same bytes, which then changes nothing.
func (e *Endpoint) findPosted(ctx context.Context, t target, c created) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(c.bucket), Prefix: aws.String(t.prefix)}
	found := 0
	for p := s3.NewListObjectsV2Paginator(t.list, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", t.prefix, err)
		}
		for _, o := range page.Contents {
			if unquote(aws.ToString(o.ETag)) == c.etag && aws.ToInt64(o.Size) == c.size {
				c.key = aws.ToString(o.Key)
				e.enqueue(t, c)
				found++
			}
		}
	}
	if found == 0 {
		e.log.Info("form POST's object is gone: replaced or deleted since", "etag", c.etag)
	}
	return nil
}

// enqueue adds c's event to its key's queue, and starts working through
// the queue when nothing is.
func (e *Endpoint) enqueue(t target, c created) {
	id, ev := objectKey{c.bucket, c.key}, c.event()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.pending.Add(1)
	if q, busy := e.keys[id]; busy {
		q.events = append(q.events, ev)
		return
	}
	q := &keyQueue{events: []api.RawEvent{ev}}
	e.keys[id] = q
	e.wg.Add(1)
	go e.drain(t, id, q)
}

// start counts one more event and the goroutine that will handle it,
// unless the endpoint is closed.
func (e *Endpoint) start() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.pending.Add(1)
	e.wg.Add(1)
	return true
}

// drain verifies a key's events one after the other until none is left.
func (e *Endpoint) drain(t target, id objectKey, q *keyQueue) {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if len(q.events) == 0 {
			delete(e.keys, id)
			e.mu.Unlock()
			return
		}
		ev := q.events[0]
		q.events = q.events[1:]
		e.mu.Unlock()
		e.attempt("verify "+id.key, ev.ID, func(ctx context.Context) error { return t.v.HandleEvent(ctx, ev) })
		e.pending.Add(-1)
	}
}

// attempt runs fn in a worker slot until it succeeds or has failed
// Attempts times, waiting longer before each retry.
func (e *Endpoint) attempt(what, id string, fn func(context.Context) error) {
	wait := e.opts.RetryAfter
	for n := 1; ; n++ {
		err := e.inSlot(fn)
		switch {
		case err == nil, e.ctx.Err() != nil:
			return
		case n == e.opts.Attempts:
			e.log.Error("bucket event dropped: it failed every attempt", "what", what, "eventId", id, "attempts", n, "error", err)
			return
		}
		e.log.Warn("bucket event failed: retrying", "what", what, "eventId", id, "attempt", n, "error", err)
		select {
		case <-time.After(wait):
		case <-e.ctx.Done():
			return
		}
		wait *= 2
	}
}

// inSlot runs fn once when a worker slot is free, with the attempt's
// deadline; a panic is its error.
func (e *Endpoint) inSlot(fn func(context.Context) error) (err error) {
	select {
	case e.slots <- struct{}{}:
	case <-e.ctx.Done():
		return e.ctx.Err()
	}
	defer func() { <-e.slots }()
	defer func() {
		if r := recover(); r != nil {
			err = errors.New(fmt.Sprint("panic: ", r, "\n", string(debug.Stack())))
		}
	}()
	ctx, cancel := context.WithTimeout(e.ctx, e.opts.Timeout)
	defer cancel()
	return fn(ctx)
}
