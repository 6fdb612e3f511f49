package verifier_test

import (
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// BenchmarkVerify is one verification of a new object, from its Object
// Created event to the published event, over the in-memory fakes. The S3
// calls and the object bytes read are reported per op: they stay the same
// whatever the object's size (go test -bench Verify -benchmem).
func BenchmarkVerify(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"1KiB", 1 << 10}, {"64MiB", 64 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			r := newRig(b, api.UploadSettings{}, api.VerifierSettings{})
			data := make([]byte, size.bytes)
			etag := r.b.store(r.issuedKey("first.bin"), data, "application/octet-stream").etag
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				// Each op verifies a new key: a repeat would find its
				// marker and publish nothing.
				b.StopTimer()
				key := r.issuedKey("blob.bin")
				r.b.storeObject(key, &fakeObject{data: data, contentType: "application/octet-stream", etag: etag})
				ev := r.created(key, "PutObject")
				b.StartTimer()
				r.mustDeliver(ev)
				n++
			}
			s := r.b.stats()
			b.ReportMetric(float64(s.total)/float64(n), "s3calls/op")
			b.ReportMetric(float64(s.served)/float64(n), "objectbytes/op")
		})
	}
}
