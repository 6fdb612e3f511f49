package verifier_test

import (
	"errors"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/verifier"
)

// scanOutcomes is what each GuardDuty result makes of an object whose
// content checks pass.
var scanOutcomes = []struct {
	scan           string
	status, reason string
}{
	{"NO_THREATS_FOUND", api.StatusVerified, ""},
	{"THREATS_FOUND", api.StatusRejected, api.ReasonMalware},
	{"UNSUPPORTED", api.StatusRejected, api.ReasonScanUnsupported},
	{"ACCESS_DENIED", api.StatusRejected, api.ReasonScanAccessDenied},
	{"FAILED", api.StatusRejected, api.ReasonScanFailed},
}

// With the malware scan on, the outcome waits for both the content checks
// and GuardDuty's result, whichever event arrives first, and is published
// once. GuardDuty tags the object, then sends its event.
func TestScanBothOrders(t *testing.T) {
	for _, tc := range scanOutcomes {
		t.Run(tc.scan, func(t *testing.T) {
			for _, order := range []struct {
				name string
				run  func(r *rig, key string)
			}{
				{"stored event first", func(r *rig, key string) {
					created := r.created(key, "PutObject")
					if err := r.deliver(created); !errors.Is(err, verifier.ErrPending) {
						t.Fatalf("stored event before the scan = %v, want ErrPending", err)
					}
					if pub := r.published(); len(pub) != 0 {
						t.Fatalf("published %+v before the scan", pub)
					}
					r.expectStatus(key, "", "")
					r.b.setTag(key, "GuardDutyMalwareScanStatus", tc.scan)
					r.mustDeliver(r.scanned(key, tc.scan))
					r.mustDeliver(created) // the queue's redelivery
				}},
				{"scan result first", func(r *rig, key string) {
					created := r.created(key, "PutObject")
					r.b.setTag(key, "GuardDutyMalwareScanStatus", tc.scan)
					r.mustDeliver(r.scanned(key, tc.scan))
					r.mustDeliver(created)
				}},
				{"stored event after the scan's tag, before its event", func(r *rig, key string) {
					r.b.setTag(key, "GuardDutyMalwareScanStatus", tc.scan)
					r.mustDeliver(r.created(key, "PutObject"))
					r.mustDeliver(r.scanned(key, tc.scan))
				}},
			} {
				t.Run(order.name, func(t *testing.T) {
					r := newRig(t, api.UploadSettings{}, api.VerifierSettings{MalwareScanEnabled: true})
					key := r.issuedKey("pixel.png")
					r.b.store(key, pngFile(t), "image/png")
					order.run(r, key)
					r.expectOne(key, tc.status, tc.reason)
					r.expectStatus(key, tc.status, tc.reason)
					if got := r.b.tagsOf(key)["GuardDutyMalwareScanStatus"]; got != tc.scan {
						t.Errorf("GuardDuty's tag = %q, want %q kept", got, tc.scan)
					}
				})
			}
		})
	}
}

// A content failure does not wait for the scan, and the later scan result
// changes nothing.
func TestScanAfterContentFailure(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{MalwareScanEnabled: true})
	key := r.issuedKey("pixel.png")
	r.b.store(key, []byte(htmlFile), "image/png")
	r.mustDeliver(r.created(key, "PutObject"))
	r.b.setTag(key, "GuardDutyMalwareScanStatus", "NO_THREATS_FOUND")
	r.mustDeliver(r.scanned(key, "NO_THREATS_FOUND"))
	r.expectOne(key, api.StatusRejected, api.ReasonActiveContent)
	r.expectStatus(key, api.StatusRejected, api.ReasonActiveContent)
}

// No result within the timeout rejects the object; a result after that
// changes nothing.
func TestScanTimeout(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{MalwareScanEnabled: true, MalwareScanTimeout: 600})
	key := r.issuedKey("pixel.png")
	r.b.store(key, pngFile(t), "image/png")
	created := r.created(key, "PutObject")
	r.clock.advance(9 * time.Minute)
	if err := r.deliver(created); !errors.Is(err, verifier.ErrPending) {
		t.Fatalf("before the timeout = %v, want ErrPending", err)
	}
	r.clock.advance(time.Minute)
	r.mustDeliver(created)
	r.expectStatus(key, api.StatusRejected, api.ReasonScanTimeout)

	r.b.setTag(key, "GuardDutyMalwareScanStatus", "NO_THREATS_FOUND")
	r.mustDeliver(r.scanned(key, "NO_THREATS_FOUND"))
	r.expectOne(key, api.StatusRejected, api.ReasonScanTimeout)
	r.expectStatus(key, api.StatusRejected, api.ReasonScanTimeout)
}

// An object over GuardDuty's 100 GB limit is never scanned: with the scan
// on, the multipart limit is at most what GuardDuty scans, so the object is
// rejected at once as too large instead of waiting for the scan timeout.
func TestScanOverLimit(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{MalwareScanEnabled: true})
	key := r.issuedKey("archive.bin")
	r.b.storeObject(key, &fakeObject{data: randomBytes(4096), size: 100_000_000_001,
		contentType: "application/octet-stream", etag: "4af981f98d22a0b9979da24b259e5e42-5961"})
	r.mustDeliver(r.created(key, "CompleteMultipartUpload"))
	r.expectOne(key, api.StatusRejected, api.ReasonTooLarge)
}

// GuardDuty and the verifier both write the object's tags; if GuardDuty's
// write was lost to the verifier's (both read, then both wrote), handling
// GuardDuty's event puts its tag back. Here the tag never arrived.
func TestScanTagRestored(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{MalwareScanEnabled: true})
	key := r.issuedKey("pixel.png")
	r.b.store(key, pngFile(t), "image/png")
	r.mustDeliver(r.scanned(key, "NO_THREATS_FOUND"))
	r.mustDeliver(r.scanned(key, "NO_THREATS_FOUND"))
	if got := r.b.tagsOf(key)["GuardDutyMalwareScanStatus"]; got != "NO_THREATS_FOUND" {
		t.Errorf("GuardDuty's tag = %q, want NO_THREATS_FOUND", got)
	}
	r.expectOne(key, api.StatusVerified, "")
}

// Versioned buckets: GuardDuty's result names the version it scanned.
func TestScanVersioned(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{MalwareScanEnabled: true})
	r.b.versioned = true
	key := r.issuedKey("pixel.png")
	r.b.store(key, pngFile(t), "image/png")
	older := r.scanned(key, "THREATS_FOUND")
	r.b.store(key, pngFile(t), "image/png")
	r.mustDeliver(older) // about the replaced version: stale
	if pub := r.published(); len(pub) != 0 {
		t.Fatalf("published %+v for a replaced version", pub)
	}
	r.mustDeliver(r.scanned(key, "NO_THREATS_FOUND"))
	p := r.expectOne(key, api.StatusVerified, "")
	if p.detail.VersionID != r.current(key).versionID {
		t.Errorf("versionId = %q, want %q", p.detail.VersionID, r.current(key).versionID)
	}
}
