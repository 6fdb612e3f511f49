package verifier_test

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// Verified means the bytes that are served: an object stored with a header
// the API never asks for, which a download would serve back, is rejected
// whatever its bytes, through every way of storing it. Gzipped HTML stored
// with Content-Encoding: gzip sniffs as gzip, but a browser decodes it and
// renders the page.
func TestUnexpectedMetadata(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte(htmlFile))
	_ = w.Close()
	for _, tc := range []struct {
		name, header, value string
		contentType         string
		data                []byte
		status, reason      string
	}{
		{"gzipped HTML declared gzip", "Content-Encoding", "gzip", "application/gzip", gz.Bytes(), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"br", "Content-Encoding", "br", "text/plain", []byte(textFile), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"identity encoding changes nothing", "Content-Encoding", "identity", "text/plain", []byte(textFile), api.StatusVerified, ""},
		{"identity in capitals", "Content-Encoding", "IDENTITY", "text/plain", []byte(textFile), api.StatusVerified, ""},
		{"inline disposition", "Content-Disposition", "inline", "image/png", pngFile(t), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"attachment disposition", "Content-Disposition", `attachment; filename="evil.html"`, "image/png", pngFile(t), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"cache control", "Cache-Control", "public, max-age=31536000", "image/png", pngFile(t), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"cache control that restricts and widens", "Cache-Control", "no-cache, max-age=600", "image/png", pngFile(t), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"a browser's own cache control", "Cache-Control", "max-age=0", "image/png", pngFile(t), api.StatusVerified, ""},
		{"cache control that only restricts", "Cache-Control", "no-cache, No-Store, private", "image/png", pngFile(t), api.StatusVerified, ""},
		{"content language", "Content-Language", "en", "text/plain", []byte(textFile), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"expires", "Expires", "Thu, 01 Dec 2099 16:00:00 GMT", "text/plain", []byte(textFile), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"website redirect", "X-Amz-Website-Redirect-Location", "https://evil.example/", "text/plain", []byte(textFile), api.StatusRejected, api.ReasonUnexpectedMetadata},
		{"blank value", "Cache-Control", "  ", "text/plain", []byte(textFile), api.StatusVerified, ""},
	} {
		for _, stored := range []string{api.StoredByPut, api.StoredByPost, api.StoredByMultipart} {
			t.Run(tc.name+"/"+stored, func(t *testing.T) {
				r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
				key := r.issuedKey("file.bin")
				o := r.b.store(key, tc.data, tc.contentType)
				o.served = map[string]string{tc.header: tc.value}
				if stored == api.StoredByMultipart {
					o.etag += "-2"
				}
				r.mustDeliver(r.created(key, stored))
				r.expectStatus(key, tc.status, tc.reason)
				r.expectOne(key, tc.status, tc.reason)
			})
		}
	}
}

// The verdict is keyed on the stored version: without versioning, on the
// ETag and the whole-file checksum S3 holds. An object replaced by one
// with the same ETag (an MD5 anyone can make collide) but other bytes does
// not inherit the verdict: it is judged on its own, and both get an event.
func TestSameETagOtherBytesIsJudgedAgain(t *testing.T) {
	r := newRig(t, api.UploadSettings{}, api.VerifierSettings{})
	key := r.issuedKey("pixel.png")
	first := r.b.store(key, pngFile(t), "image/png")
	r.mustDeliver(r.created(key, api.StoredByPut))
	r.expectStatus(key, api.StatusVerified, "")

	replacement := r.b.store(key, []byte(htmlFile), "image/png")
	replacement.etag = first.etag // as a colliding MD5 would make it
	r.mustDeliver(r.created(key, api.StoredByPut))
	r.expectStatus(key, api.StatusRejected, api.ReasonActiveContent)
	pub := r.published()
	if len(pub) != 2 || pub[0].detail.IdempotencyKey == pub[1].detail.IdempotencyKey {
		t.Fatalf("published %+v, want two events with their own idempotency keys", pub)
	}
	if pub[1].detail.ChecksumCRC64NVME != api.EncodeCRC64NVME(api.CRC64NVME([]byte(htmlFile))) {
		t.Errorf("the rejection's checksum = %q, want the replacement's", pub[1].detail.ChecksumCRC64NVME)
	}
}
