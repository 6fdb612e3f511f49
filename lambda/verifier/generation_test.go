package verifier

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

// Without versioning, an object's idempotency key changes with anything a
// verdict depends on or a new write changes, and with nothing else; with
// versioning it is the version's.
func TestGeneration(t *testing.T) {
	stored := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	base := func() object {
		return object{key: "uploads/a", etag: "e", size: 5, contentType: "image/png", lastModified: stored,
			checksumCRC64NVME: "c", served: map[string]string{"Content-Encoding": "", "Cache-Control": ""}}
	}
	key := idempotencyKey("b", base())
	for name, change := range map[string]func(*object){
		"another ETag":               func(o *object) { o.etag = "f" },
		"another checksum":           func(o *object) { o.checksumCRC64NVME = "d" },
		"another type":               func(o *object) { o.contentType = "text/html" },
		"a header a download serves": func(o *object) { o.served["Content-Encoding"] = "gzip" },
		"stored a second later":      func(o *object) { o.lastModified = stored.Add(time.Second) },
	} {
		o := base()
		change(&o)
		if idempotencyKey("b", o) == key || o.same(base()) {
			t.Errorf("%s: the same generation", name)
		}
	}
	other := base()
	other.key = "uploads/b"
	if idempotencyKey("b", other) == key {
		t.Error("another key has the same idempotency key")
	}
	if again := base(); idempotencyKey("b", again) != key || !again.same(base()) {
		t.Error("the same object read twice is two generations")
	}
	v1, v1again := base(), base()
	v1.versionID, v1again.versionID = "v1", "v1"
	v1again.lastModified = stored.Add(time.Hour)
	if idempotencyKey("b", v1) != idempotencyKey("b", v1again) || !v1.same(v1again) {
		t.Error("one version is two generations")
	}
}

// A versioned object's idempotency key is the SHA-256 of the bucket, the
// key and the version ID, as it always was: markers and events keep their
// names across an upgrade.
func TestVersionedIdempotencyKeyIsStable(t *testing.T) {
	o := object{key: "uploads/a", versionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", etag: "e", lastModified: time.Now()}
	sum := sha256.Sum256([]byte("b\nuploads/a\n3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"))
	if got, want := idempotencyKey("b", o), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("idempotencyKey = %s, want %s", got, want)
	}
}
