package verifier_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/verifier"
)

// testBucket is the bucket the fixtures name.
const testBucket = "presigned-upload-bucket"

// clock is a settable time for scan timeouts and marker leases.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rig is a verifier over a fake bucket and a fake event bus.
type rig struct {
	t     testing.TB
	cfg   api.UploadSettings
	b     *fakeBucket
	bus   *fakeBus
	clock *clock
	h     *verifier.Handler
}

// newRig builds a verifier for the upload settings cfg (its bucket is the
// fixtures') and the verifier's own settings in s.
func newRig(t testing.TB, cfg api.UploadSettings, s api.VerifierSettings) *rig {
	t.Helper()
	cfg.Bucket = testBucket
	s.UploadSettings = cfg
	r := &rig{t: t, cfg: cfg.WithDefaults(), b: newFakeBucket(), bus: &fakeBus{},
		clock: &clock{t: time.Date(2026, 3, 2, 9, 14, 27, 0, time.UTC)}}
	h, err := verifier.New(s, r.b, r.bus, verifier.WithLogger(slog.New(slog.DiscardHandler)), verifier.WithClock(r.clock.now))
	if err != nil {
		t.Fatal(err)
	}
	r.h = h
	return r
}

var keyIDs atomic.Int64

// issuedKey returns a key of the shape the API issues, new on each call;
// owner, when given, is the sign-in segment.
func (r *rig) issuedKey(name string, owner ...string) string {
	prefix := r.cfg.KeyPrefix
	for _, o := range owner {
		prefix += o + "/"
	}
	return fmt.Sprintf("%s%026d-%s", prefix, keyIDs.Add(1), name)
}

// loadEvent reads a recorded event from testdata and lets patch change its
// detail.
func loadEvent(t testing.TB, name string, patch func(detail map[string]any)) api.RawEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev api.RawEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var detail map[string]any
	if err := json.Unmarshal(ev.Detail, &detail); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	patch(detail)
	if ev.Detail, err = json.Marshal(detail); err != nil {
		t.Fatal(err)
	}
	return ev
}

// createdFixtures are the recorded Object Created events, by how S3 says
// the object was stored.
var createdFixtures = map[string]string{
	"PutObject":               "object-created-put.json",
	"POST Object":             "object-created-post.json",
	"CompleteMultipartUpload": "object-created-multipart.json",
}

// created is S3's Object Created event for the key's current version,
// stored the way stored says, at the clock's time.
func (r *rig) created(key, stored string) api.RawEvent {
	r.t.Helper()
	o := r.current(key)
	ev := loadEvent(r.t, createdFixtures[stored], func(d map[string]any) {
		obj := d["object"].(map[string]any)
		obj["key"], obj["etag"], obj["size"] = key, o.etag, o.length()
		delete(obj, "version-id")
		if o.versionID != "" {
			obj["version-id"] = o.versionID
		}
	})
	ev.Time = r.clock.now()
	return ev
}

// scanFixtures are the recorded GuardDuty scan results, by status.
var scanFixtures = map[string]string{
	"NO_THREATS_FOUND": "scan-no-threats-found.json",
	"THREATS_FOUND":    "scan-threats-found.json",
	"UNSUPPORTED":      "scan-unsupported.json",
	"ACCESS_DENIED":    "scan-access-denied.json",
	"FAILED":           "scan-failed.json",
}

// scanned is GuardDuty's scan result for the key's current version.
func (r *rig) scanned(key, status string) api.RawEvent {
	r.t.Helper()
	o := r.current(key)
	return loadEvent(r.t, scanFixtures[status], func(d map[string]any) {
		obj := d["s3ObjectDetails"].(map[string]any)
		obj["objectKey"], obj["eTag"] = key, o.etag
		delete(obj, "versionId")
		if o.versionID != "" {
			obj["versionId"] = o.versionID
		}
	})
}

func (r *rig) current(key string) *fakeObject {
	r.t.Helper()
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	o, err := r.b.version(key, nil)
	if err != nil {
		r.t.Fatalf("no object %s", key)
	}
	return o
}

func (r *rig) deliver(ev api.RawEvent) error {
	return r.h.HandleEvent(context.Background(), ev)
}

func (r *rig) mustDeliver(ev api.RawEvent) {
	r.t.Helper()
	if err := r.deliver(ev); err != nil {
		r.t.Fatalf("deliver %s: %v", ev.DetailType, err)
	}
}

// published is one event the verifier sent.
type published struct {
	bus, source, detailType string
	detail                  api.UploadEvent
}

func (r *rig) published() []published {
	r.t.Helper()
	var out []published
	for _, e := range r.bus.published() {
		p := published{bus: aws.ToString(e.EventBusName), source: aws.ToString(e.Source), detailType: aws.ToString(e.DetailType)}
		dec := json.NewDecoder(bytes.NewReader([]byte(aws.ToString(e.Detail))))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p.detail); err != nil {
			r.t.Fatalf("event detail %s: %v", aws.ToString(e.Detail), err)
		}
		out = append(out, p)
	}
	return out
}

// expectOne checks that exactly one event was published, for key, of the
// status's detail-type and with the reason, and returns it.
func (r *rig) expectOne(key, status, reason string) published {
	r.t.Helper()
	pub := r.published()
	if len(pub) != 1 {
		r.t.Fatalf("published %d events, want 1: %+v", len(pub), pub)
	}
	p := pub[0]
	want := api.EventUploadVerified
	if status == api.StatusRejected {
		want = api.EventUploadRejected
	}
	if p.detailType != want || p.source != api.EventSource || p.detail.FileKey != key || p.detail.Reason != reason {
		r.t.Errorf("published %s from %s for %s, reason %q; want %s from %s for %s, reason %q",
			p.detailType, p.source, p.detail.FileKey, p.detail.Reason, want, api.EventSource, key, reason)
	}
	return p
}

// expectStatus checks the key's status tags.
func (r *rig) expectStatus(key, status, reason string) {
	r.t.Helper()
	tags := r.b.tagsOf(key)
	if tags[api.StatusTag] != status || tags[api.ReasonTag] != reason {
		r.t.Errorf("tags of %s = %v, want %s=%q and %s=%q", key, tags, api.StatusTag, status, api.ReasonTag, reason)
	}
}

// Sample files.

func pngFile(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const (
	htmlFile = "<!DOCTYPE html>\n<html><body><script>fetch('/steal?c='+document.cookie)</script></body></html>\n"
	svgFile  = `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><circle r="4"/></svg>`
	csvFile  = "name,size,uploaded\nreport.pdf,1024,2026-03-02\nphoto.jpg,2048,2026-03-02\n"
	pdfFile  = "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
	textFile = "Meeting notes\n\nThe upload finished at ten.\n"
)

// randomBytes are n bytes no sniffer recognises, the same on every run.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// docxFile is a minimal Word document; padding stores that many
// incompressible bytes in an entry before the word/ part, so the first
// 4 KiB show only a zip.
func docxFile(t testing.TB, padding int) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	add := func(name string, method uint16, data []byte) {
		w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("[Content_Types].xml", zip.Deflate, []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`))
	if padding > 0 {
		add("docProps/thumbnail.jpeg", zip.Store, randomBytes(padding))
	}
	add("word/document.xml", zip.Deflate, []byte(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Report</w:t></w:r></w:p></w:body></w:document>`))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
