package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/verifier"
)

// Each stored object gets one outcome: its status tags and one event.
func TestOutcomes(t *testing.T) {
	const mib = 1 << 20
	owner := api.CallerID("https://issuer.example.com", "user-1")
	for _, tc := range []struct {
		name        string
		cfg         api.UploadSettings
		file        string // the file name in the key
		owner       string // the key's owner segment, with sign-in
		key         string // a key of its own, instead of an issued one
		contentType string
		data        []byte
		stored      string
		status      string
		reason      string
		detected    string
	}{
		{name: "png declared image/png", file: "pixel.png", contentType: "image/png", data: pngFile(t),
			status: api.StatusVerified, detected: "image/png"},
		{name: "html declared image/png", file: "pixel.png", contentType: "image/png", data: []byte(htmlFile),
			status: api.StatusRejected, reason: api.ReasonActiveContent, detected: "text/html"},
		{name: "html declared image/png with html allowed", cfg: api.UploadSettings{AllowedContentTypes: []string{"image/png", "text/html"}},
			file: "pixel.png", contentType: "image/png", data: []byte(htmlFile),
			status: api.StatusRejected, reason: api.ReasonTypeMismatch, detected: "text/html"},
		{name: "svg declared image/png under image/*", cfg: api.UploadSettings{AllowedContentTypes: []string{"image/*"}},
			file: "logo.png", contentType: "image/png", data: []byte(svgFile),
			status: api.StatusRejected, reason: api.ReasonActiveContent, detected: "image/svg+xml"},
		{name: "svg declared image/svg+xml under image/*", cfg: api.UploadSettings{AllowedContentTypes: []string{"image/*"}},
			file: "logo.svg", contentType: "image/svg+xml", data: []byte(svgFile),
			status: api.StatusRejected, reason: api.ReasonTypeNotAllowed},
		{name: "svg named exactly", cfg: api.UploadSettings{AllowedContentTypes: []string{"image/*", "image/svg+xml"}},
			file: "logo.svg", contentType: "image/svg+xml", data: []byte(svgFile),
			status: api.StatusVerified, detected: "image/svg+xml"},
		{name: "docx declared as its OOXML type", file: "report.docx", contentType: docxType, data: docxFile(t, 0),
			status: api.StatusVerified, detected: docxType},
		{name: "docx sniffed as zip", file: "report.docx", contentType: docxType, data: docxFile(t, 8<<10),
			status: api.StatusVerified, detected: "application/zip"},
		{name: "csv declared text/csv", file: "sizes.csv", contentType: "text/csv", data: []byte(csvFile),
			status: api.StatusVerified, detected: "text/csv"},
		{name: "csv with charset", file: "sizes.csv", contentType: "text/csv; charset=utf-8", data: []byte(csvFile),
			status: api.StatusVerified, detected: "text/csv"},
		{name: "plain text", file: "notes.txt", contentType: "text/plain", data: []byte(textFile),
			status: api.StatusVerified, detected: "text/plain"},
		{name: "unrecognised bytes declared octet-stream", file: "blob.bin", contentType: "application/octet-stream", data: randomBytes(10000),
			status: api.StatusVerified, detected: "application/octet-stream"},
		{name: "unrecognised bytes declared a type the sniffer does not know", file: "model.glb2", contentType: "application/x-vendor-model", data: randomBytes(10000),
			status: api.StatusVerified, detected: "application/octet-stream"},
		{name: "unrecognised bytes declared image/png", file: "pixel.png", contentType: "image/png", data: randomBytes(10000),
			status: api.StatusRejected, reason: api.ReasonTypeMismatch, detected: "application/octet-stream"},
		{name: "pdf declared image/png", file: "pixel.png", contentType: "image/png", data: []byte(pdfFile),
			status: api.StatusRejected, reason: api.ReasonTypeMismatch, detected: "application/pdf"},
		{name: "empty file", file: "empty.txt", contentType: "text/plain", data: nil,
			status: api.StatusVerified, detected: "text/plain"},
		{name: "declared type the allow-list refuses", cfg: api.UploadSettings{AllowedContentTypes: []string{"image/*"}},
			file: "notes.txt", contentType: "text/plain", data: []byte(textFile),
			status: api.StatusRejected, reason: api.ReasonTypeNotAllowed},
		{name: "PUT over MaxFileSize", cfg: api.UploadSettings{MaxFileSize: mib}, file: "blob.bin", contentType: "application/octet-stream",
			data: make([]byte, mib+1), stored: "PutObject", status: api.StatusRejected, reason: api.ReasonTooLarge},
		{name: "form POST over MaxFileSize", cfg: api.UploadSettings{MaxFileSize: mib}, file: "blob.bin", contentType: "application/octet-stream",
			data: make([]byte, mib+1), stored: "POST Object", status: api.StatusRejected, reason: api.ReasonTooLarge},
		{name: "multipart over MaxFileSize within MaxMultipartSize", cfg: api.UploadSettings{MaxFileSize: mib, MaxMultipartSize: 8 * mib},
			file: "blob.bin", contentType: "application/octet-stream", data: make([]byte, mib+1), stored: "CompleteMultipartUpload",
			status: api.StatusVerified, detected: "application/octet-stream"},
		{name: "multipart over MaxMultipartSize", cfg: api.UploadSettings{MaxMultipartSize: mib}, file: "blob.bin", contentType: "application/octet-stream",
			data: make([]byte, mib+1), stored: "CompleteMultipartUpload", status: api.StatusRejected, reason: api.ReasonTooLarge},
		{name: "key the API did not issue", key: "uploads/not-issued.png", contentType: "image/png", data: pngFile(t),
			status: api.StatusRejected, reason: api.ReasonUnknownKey},
		{name: "sign-in: key under its owner", cfg: api.UploadSettings{SignIn: true}, file: "pixel.png", owner: owner,
			contentType: "image/png", data: pngFile(t), status: api.StatusVerified, detected: "image/png"},
		{name: "sign-in: key without an owner", cfg: api.UploadSettings{SignIn: true}, file: "pixel.png",
			contentType: "image/png", data: pngFile(t), status: api.StatusRejected, reason: api.ReasonUnknownKey},
		{name: "sign-in: owner segment not a caller ID", cfg: api.UploadSettings{SignIn: true}, file: "pixel.png", owner: "someone",
			contentType: "image/png", data: pngFile(t), status: api.StatusRejected, reason: api.ReasonUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.cfg, api.VerifierSettings{})
			key := tc.key
			if key == "" {
				var owners []string
				if tc.owner != "" {
					owners = []string{tc.owner}
				}
				key = r.issuedKey(tc.file, owners...)
			}
			stored := tc.stored
			if stored == "" {
				stored = "PutObject"
			}
			o := r.b.store(key, tc.data, tc.contentType)
			if stored == "CompleteMultipartUpload" {
				o.etag += "-2"
			}
			r.mustDeliver(r.created(key, stored))

			r.expectStatus(key, tc.status, tc.reason)
			p := r.expectOne(key, tc.status, tc.reason)
			if p.detail.DetectedType != tc.detected {
				t.Errorf("detectedType = %q, want %q", p.detail.DetectedType, tc.detected)
			}
			wantOwner := ""
			if tc.owner != "" && tc.status == api.StatusVerified {
				wantOwner = tc.owner
			}
			if p.detail.Owner != wantOwner {
				t.Errorf("owner = %q, want %q", p.detail.Owner, wantOwner)
			}
		})
	}
}

// A verified object keeps every tag it had, and its event carries the
// whole detail.
func TestVerifiedDetail(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	key := r.issuedKey("pixel.png")
	data := pngFile(t)
	o := r.b.store(key, data, "image/png")
	r.b.setTag(key, "project", "alpha")
	r.b.setTag(key, "GuardDutyMalwareScanStatus", "NO_THREATS_FOUND")

	r.mustDeliver(r.created(key, "PutObject"))

	tags := r.b.tagsOf(key)
	want := map[string]string{"project": "alpha", "GuardDutyMalwareScanStatus": "NO_THREATS_FOUND", api.StatusTag: api.StatusVerified}
	if len(tags) != len(want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("tag %s = %q, want %q (tags %v)", k, tags[k], v, tags)
		}
	}
	p := r.expectOne(key, api.StatusVerified, "")
	if p.bus != api.DefaultEventBusName {
		t.Errorf("bus = %q, want %q", p.bus, api.DefaultEventBusName)
	}
	got := p.detail
	if got.IdempotencyKey == "" || len(got.IdempotencyKey) != 64 {
		t.Errorf("idempotencyKey = %q, want 64 hex digits", got.IdempotencyKey)
	}
	got.IdempotencyKey = ""
	wantDetail := api.UploadEvent{Bucket: testBucket, FileKey: key, FileName: "pixel.png", Size: int64(len(data)),
		ContentType: "image/png", DetectedType: "image/png", ETag: o.etag, ChecksumCRC64NVME: api.EncodeCRC64NVME(api.CRC64NVME(data))}
	if got != wantDetail {
		t.Errorf("detail = %+v, want %+v", got, wantDetail)
	}
}

// The rule matches only the key prefix; anything else that reaches the
// verifier is not the API's and is left alone, without a call to S3.
func TestIgnored(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	r.b.store("other/pixel.png", []byte(htmlFile), "image/png")
	key := r.issuedKey("pixel.png")
	r.b.store(key, []byte(htmlFile), "image/png")
	for name, ev := range map[string]api.RawEvent{
		"outside the key prefix": r.created("other/pixel.png", "PutObject"),
		"another bucket": func() api.RawEvent {
			ev := r.created(key, "PutObject")
			ev.Detail = []byte(strings.Replace(string(ev.Detail), testBucket, "someone-elses-bucket", 1))
			return ev
		}(),
		"another detail-type": func() api.RawEvent {
			ev := r.created(key, "PutObject")
			ev.DetailType = "Object Tags Added"
			return ev
		}(),
		"another source": func() api.RawEvent {
			ev := r.created(key, "PutObject")
			ev.Source = "my.app"
			return ev
		}(),
		"a scan result with the scan off": r.scanned(key, "THREATS_FOUND"),
	} {
		t.Run(name, func(t *testing.T) {
			r.mustDeliver(ev)
			if s := r.b.stats(); s.total != 0 {
				t.Errorf("S3 calls = %v, want none", s.calls)
			}
			if pub := r.published(); len(pub) != 0 {
				t.Errorf("published %+v, want nothing", pub)
			}
		})
	}
}

// A redelivered event changes nothing and publishes nothing.
func TestSameEventTwice(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	key := r.issuedKey("pixel.png")
	r.b.store(key, pngFile(t), "image/png")
	ev := r.created(key, "PutObject")
	r.mustDeliver(ev)
	r.b.resetStats()
	r.mustDeliver(ev)

	r.expectOne(key, api.StatusVerified, "")
	r.expectStatus(key, api.StatusVerified, "")
	if n := r.b.stats().calls["PutObjectTagging"]; n != 0 {
		t.Errorf("the second delivery wrote tags %d times, want none: they were right", n)
	}
}

// Duplicates running at the same time give one outcome and one event: the
// losers of the marker race either see it published or are told to come
// back (ErrPending), and a second delivery of those changes nothing.
func TestConcurrentDuplicates(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	key := r.issuedKey("page.png")
	r.b.store(key, []byte(htmlFile), "image/png")
	ev := r.created(key, "PutObject")

	const n = 8
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			errs <- r.deliver(ev)
		}()
	}
	close(start)
	postponed := 0
	for range n {
		switch err := <-errs; {
		case errors.Is(err, verifier.ErrPending):
			postponed++
		case err != nil:
			t.Fatal(err)
		}
	}
	for range postponed {
		r.mustDeliver(ev) // every run is over: the marker is published
	}
	r.expectOne(key, api.StatusRejected, api.ReasonActiveContent)
	r.expectStatus(key, api.StatusRejected, api.ReasonActiveContent)
}

// A marker write that S3 answers 409 (another conditional write to it in
// flight) postpones the delivery, as losing the race does; the next
// delivery settles the outcome once.
func TestMarkerWriteConflict(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	key := r.issuedKey("page.png")
	r.b.store(key, []byte(htmlFile), "image/png")
	ev := r.created(key, "PutObject")
	r.b.mu.Lock()
	r.b.conflicts = 1
	r.b.mu.Unlock()
	if err := r.deliver(ev); !errors.Is(err, verifier.ErrPending) {
		t.Fatalf("delivery with a conflicting marker write: err = %v, want ErrPending", err)
	}
	r.mustDeliver(ev)
	r.expectOne(key, api.StatusRejected, api.ReasonActiveContent)
}

// An event about an object that was replaced since changes nothing: the
// newer object's status stays its own.
func TestOlderEventAfterNewer(t *testing.T) {
	for _, versioned := range []bool{false, true} {
		name := map[bool]string{false: "unversioned", true: "versioned"}[versioned]
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				name                  string
				first, second         []byte
				firstType, secondType string
				status, reason        string
			}{
				{"png replaced by html", pngFile(t), []byte(htmlFile), "image/png", "image/png", api.StatusRejected, api.ReasonActiveContent},
				{"html replaced by png", []byte(htmlFile), pngFile(t), "image/png", "image/png", api.StatusVerified, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
					r.b.versioned = versioned
					key := r.issuedKey("pixel.png")
					r.b.store(key, tc.first, tc.firstType)
					older := r.created(key, "PutObject")
					r.b.store(key, tc.second, tc.secondType)
					newer := r.created(key, "PutObject")

					r.mustDeliver(newer)
					r.mustDeliver(older)

					r.expectStatus(key, tc.status, tc.reason)
					r.expectOne(key, tc.status, tc.reason)
				})
			}
		})
	}
}

// Without versioning, tagging names only the key: when the object is
// replaced between the checks and the tagging, the new object must not keep
// the old one's status.
func TestReplacedWhileTagging(t *testing.T) {
	for _, tc := range []struct {
		name string
		// newerFirst verifies the new object before the old one's tags
		// land, so the old run overwrites a decided status.
		newerFirst bool
		status     string
	}{
		{"new object still pending", false, ""},
		{"new object already rejected", true, api.StatusRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
			key := r.issuedKey("pixel.png")
			r.b.store(key, pngFile(t), "image/png")
			older := r.created(key, "PutObject")
			replaced := false
			r.b.beforeTagging = func(string) {
				if replaced {
					return
				}
				replaced = true
				r.b.store(key, []byte(htmlFile), "image/png")
				if tc.newerFirst {
					r.mustDeliver(r.created(key, "PutObject"))
				}
			}
			r.mustDeliver(older)
			reason := ""
			if tc.status == api.StatusRejected {
				reason = api.ReasonActiveContent
			}
			r.expectStatus(key, tc.status, reason)

			r.b.beforeTagging = nil
			r.mustDeliver(r.created(key, "PutObject"))
			r.expectStatus(key, api.StatusRejected, api.ReasonActiveContent)
			// Both versions existed: each has its one event.
			if pub := r.published(); len(pub) != 2 {
				t.Errorf("published %d events, want 2 (one per version): %+v", len(pub), pub)
			}
		})
	}
}

// A run that ends after deciding but before publishing holds the outcome
// until its lease ends; a later delivery then publishes the recorded
// outcome, once.
func TestTakeOverAfterLease(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	key := r.issuedKey("pixel.png")
	r.b.store(key, pngFile(t), "image/png")
	ev := r.created(key, "PutObject")

	r.bus.fail = errors.New("event bus unavailable")
	if err := r.deliver(ev); err == nil || errors.Is(err, verifier.ErrPending) {
		t.Fatalf("deliver with the bus down = %v, want its error", err)
	}
	r.bus.fail = nil
	if err := r.deliver(ev); !errors.Is(err, verifier.ErrPending) {
		t.Fatalf("deliver within the lease = %v, want ErrPending", err)
	}
	if pub := r.published(); len(pub) != 0 {
		t.Fatalf("published %+v within the lease", pub)
	}
	r.clock.advance(20 * time.Minute)
	r.mustDeliver(ev)
	r.mustDeliver(ev)
	r.expectOne(key, api.StatusVerified, "")
	r.expectStatus(key, api.StatusVerified, "")
}

// The verifier reads at most the first 4 KiB of any object: its calls and
// the bytes it reads do not grow with the object.
func TestReadsAtMost4KiB(t *testing.T) {
	var first stats
	for i, size := range []int{1 << 10, 64 << 20} {
		r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
		key := r.issuedKey("blob.bin")
		r.b.store(key, make([]byte, size), "application/octet-stream")
		r.mustDeliver(r.created(key, "PutObject"))
		r.expectOne(key, api.StatusVerified, "")
		s := r.b.stats()
		if len(s.ranges) != 1 || s.ranges[0] != "bytes=0-4095" {
			t.Errorf("%d bytes: ranges read = %q, want one bytes=0-4095", size, s.ranges)
		}
		if s.served > 4096 {
			t.Errorf("%d bytes: read %d bytes of it, want at most 4096", size, s.served)
		}
		if i == 0 {
			first = s
		} else if s.total != first.total {
			t.Errorf("%d bytes: %d S3 calls (%v), want %d as for 1 KiB", size, s.total, s.calls, first.total)
		}
	}
}

// A batch from the queue reports exactly the records to deliver again.
func TestHandleBatch(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{MalwareScanEnabled: true})
	good := r.issuedKey("page.png")
	r.b.store(good, []byte(htmlFile), "image/png") // rejected at once: content fails before the scan
	waiting := r.issuedKey("pixel.png")
	r.b.store(waiting, pngFile(t), "image/png") // waits for its scan

	raw, err := os.ReadFile(filepath.Join("testdata", "sqs-record.json"))
	if err != nil {
		t.Fatal(err)
	}
	record := func(id string, body any) events.SQSMessage {
		var m events.SQSMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		m.MessageId = id
		switch b := body.(type) {
		case string:
			m.Body = b
		default:
			js, _ := json.Marshal(b)
			m.Body = string(js)
		}
		return m
	}
	batch := events.SQSEvent{Records: []events.SQSMessage{
		record("done", r.created(good, "PutObject")),
		record("not-json", "{"),
		record("waiting", r.created(waiting, "PutObject")),
	}}
	resp, err := r.h.Handle(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	if strings.Join(ids, ",") != "not-json,waiting" {
		t.Errorf("batch item failures = %v, want [not-json waiting]", ids)
	}
	r.expectOne(good, api.StatusRejected, api.ReasonActiveContent)
}

// The merge never drops another tag, and an object already at S3's limit
// of 10 tags fails the delivery rather than losing one.
func TestTagLimit(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	key := r.issuedKey("pixel.png")
	r.b.store(key, pngFile(t), "image/png")
	for i := range 10 {
		r.b.setTag(key, string(rune('a'+i)), "x")
	}
	if err := r.deliver(r.created(key, "PutObject")); err == nil {
		t.Fatal("verified an object whose tags leave no room for the status")
	}
	if tags := r.b.tagsOf(key); len(tags) != 10 || tags[api.StatusTag] != "" {
		t.Errorf("tags = %v, want the 10 it had", tags)
	}
	if pub := r.published(); len(pub) != 0 {
		t.Errorf("published %+v before the status was set", pub)
	}
}

// A run about a replaced object that tagged the current one and died before
// undoing it leaves a wrong status; the redelivered event, now stale, puts
// the current object's own status back.
func TestStaleRedeliveryRestoresTheCurrentStatus(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	key := r.issuedKey("pixel.png")
	r.b.store(key, pngFile(t), "image/png")
	older := r.created(key, "PutObject")
	r.b.store(key, []byte(htmlFile), "image/png")
	r.mustDeliver(r.created(key, "PutObject"))
	r.expectStatus(key, api.StatusRejected, api.ReasonActiveContent)

	r.b.setTags(key, map[string]string{api.StatusTag: api.StatusVerified, "other": "kept"}) // the dead run's write
	r.mustDeliver(older)
	r.expectStatus(key, api.StatusRejected, api.ReasonActiveContent)
	if r.b.tagsOf(key)["other"] != "kept" {
		t.Error("another tag was lost")
	}
}
