package s3gw

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/versity/versitygw/embedgw"
	"github.com/versity/versitygw/s3api"
	"github.com/versity/versitygw/s3event"
)

// WithEvents makes the server post a bucket event notification (S3's
// record format, {"Records":[…]}) to h for each object stored by a PUT, a
// form POST or a multipart completion, as Object Created events. h must
// answer at once: the server waits 3 seconds at most and never sends
// again. The server sends no other events.
func WithEvents(h http.Handler) Option {
	return func(s *Server) {
		s.events = &notifier{next: h, waiting: map[stored][]chan struct{}{}, arrived: map[stored][]time.Time{}}
	}
}

// storedEvents are the events the server sends: one per object stored by
// the ways the upload API stores objects.
var storedEvents = s3event.EventFilter{
	s3event.EventObjectCreatedPut:        true,
	s3event.EventObjectCreatedPost:       true,
	s3event.EventCompleteMultipartUpload: true,
}

// notifyTimeout bounds how long a request that stored an object waits for
// its notification: the server's own timeout for sending one.
const notifyTimeout = 3 * time.Second

// notifier receives the server's notifications on a loopback listener and
// passes them to next.
//
// The server (versitygw v1.8.0) builds a notification from strings that
// share the request's buffers and sends it from another goroutine, after
// which the buffers serve the next request: the bucket and key could be
// overwritten before they are sent (a data race). So a request that stores
// an object is held until a notification with its bucket, key and ETag has
// arrived, and the server sends no other notifications. Two such requests
// at once with the same bytes for the same key (for form POSTs, whose
// notification names no key, for the same bucket) cannot be told apart:
// either may be released by the other's notification.
type notifier struct {
	next http.Handler
	srv  *http.Server

	mu      sync.Mutex
	waiting map[stored][]chan struct{}
	// arrived are notifications that came before their request waited.
	arrived map[stored][]time.Time
}

// stored names what one notification is about.
type stored struct{ bucket, key, etag string }

// listen starts receiving on loopback and points cfg at it.
func (n *notifier) listen(dataDir string, cfg *embedgw.Config) error {
	filter, err := json.Marshal(storedEvents)
	if err != nil {
		return err
	}
	filterPath := filepath.Join(dataDir, "event-filter.json")
	if err := os.WriteFile(filterPath, filter, 0o644); err != nil {
		return fmt.Errorf("event filter: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("bucket events: %w", err)
	}
	n.srv = &http.Server{Handler: n, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = n.srv.Serve(ln) }()
	cfg.EventWebhookURL = "http://" + ln.Addr().String() + "/"
	cfg.EventConfigFilePath = filterPath
	cfg.S3Options = append(cfg.S3Options, s3api.WithMiddleware("/", n.hold))
	return nil
}

func (n *notifier) close() {
	if n != nil && n.srv != nil {
		_ = n.srv.Close()
	}
}

// ServeHTTP releases the request each record is about and passes the
// notification on.
func (n *notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var s s3event.EventSchema
	if json.Unmarshal(body, &s) == nil {
		for _, rec := range s.Records {
			etag := ""
			if rec.S3.Object.ETag != nil {
				etag = *rec.S3.Object.ETag
			}
			n.arrive(stored{rec.S3.Bucket.Name, rec.S3.Object.Key, strings.Trim(etag, `"`)})
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	n.next.ServeHTTP(w, r)
}

// arrive releases the first request waiting for id's notification, or
// keeps it for the request to find.
func (n *notifier) arrive(id stored) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if w := n.waiting[id]; len(w) > 0 {
		close(w[0])
		if n.waiting[id] = w[1:]; len(w) == 1 {
			delete(n.waiting, id)
		}
		return
	}
	now := time.Now()
	for k, times := range n.arrived { // forget what no request claimed in time
		for len(times) > 0 && now.Sub(times[0]) > notifyTimeout {
			times = times[1:]
		}
		if n.arrived[k] = times; len(times) == 0 {
			delete(n.arrived, k)
		}
	}
	n.arrived[id] = append(n.arrived[id], now)
}

// wait returns once id's notification has arrived, or after notifyTimeout.
func (n *notifier) wait(id stored) {
	n.mu.Lock()
	if a := n.arrived[id]; len(a) > 0 {
		if n.arrived[id] = a[1:]; len(a) == 1 {
			delete(n.arrived, id)
		}
		n.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	n.waiting[id] = append(n.waiting[id], ch)
	n.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(notifyTimeout):
		n.mu.Lock()
		defer n.mu.Unlock()
		if i := slices.Index(n.waiting[id], ch); i >= 0 {
			if n.waiting[id] = slices.Delete(n.waiting[id], i, i+1); len(n.waiting[id]) == 0 {
				delete(n.waiting, id)
			}
		}
	}
}

// hold runs around the server's routes: a request that stored an object
// returns once its notification has arrived.
func (n *notifier) hold(c fiber.Ctx) error {
	query, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return c.Next()
	}
	// Read before the routes, which rewrite the path decoded.
	bucket, key, ok := storesObject(c, query)
	if !ok {
		return c.Next()
	}
	if err := c.Next(); err != nil {
		return err
	}
	if status := c.Response().StatusCode(); status/100 != 2 && status != http.StatusSeeOther {
		return nil // nothing stored, nothing sent
	}
	var etag string
	for k, v := range c.Response().Header.All() { // the form POST's is "Etag"
		if strings.EqualFold(string(k), "ETag") {
			etag = string(v)
		}
	}
	if query.Has("uploadId") { // a completion answers with XML
		var done struct{ ETag string }
		_ = xml.Unmarshal(c.Response().Body(), &done)
		etag = done.ETag
	}
	n.wait(stored{bucket, key, strings.Trim(etag, `"`)})
	return nil
}

// storesObject reports whether a request is one the server sends a
// notification for when it succeeds, and its bucket and key as the
// notification names them: a PutObject (not a copy, a part or a
// subresource), a form POST to a bucket (no key), or a
// CompleteMultipartUpload.
func storesObject(c fiber.Ctx, query url.Values) (bucket, key string, ok bool) {
	path, err := url.PathUnescape(string(c.Request().URI().PathOriginal()))
	if err != nil {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	switch c.Method() {
	case http.MethodPut:
		ok = key != "" && onlySigning(query) && c.Get("X-Amz-Copy-Source") == ""
	case http.MethodPost:
		if key == "" {
			ok = onlySigning(query) && strings.HasPrefix(strings.ToLower(c.Get("Content-Type")), "multipart/form-data")
			break
		}
		rest := url.Values{}
		for k, v := range query {
			if k != "uploadId" {
				rest[k] = v
			}
		}
		ok = query.Has("uploadId") && onlySigning(rest)
	}
	return bucket, key, ok
}

// onlySigning reports whether a query holds nothing but a signature's
// parameters (X-Amz-*, x-id): no subresource.
func onlySigning(q url.Values) bool {
	for k := range q {
		if !strings.HasPrefix(strings.ToLower(k), "x-amz-") && k != "x-id" {
			return false
		}
	}
	return true
}
