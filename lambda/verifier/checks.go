package verifier

import (
	"mime"
	"path"
	"strings"

	"github.com/gabriel-vasile/mimetype"

	"github.com/presigned-upload/presigned-upload/api"
)

// sniffLen is all the verifier reads of an object: one ranged GET of the
// first 4 KiB, which is also the sniffer's whole detection window.
const sniffLen = 4096

// fileName is the sanitised name that ends an issued key; for any other
// key, its last segment.
func fileName(key string, k api.IssuedKey, issued bool) string {
	if issued {
		return k.FileName
	}
	return path.Base(key)
}

// limitFor is the most an object stored this way may hold: MaxMultipartSize
// for a multipart completion, MaxFileSize for a PUT, a form POST or a copy.
// A scan result does not say how the object was stored; a multipart ETag
// ("<md5 of part md5s>-<part count>") does.
func (h *Handler) limitFor(stored, etag string) int64 {
	if stored == api.StoredByMultipart || stored == "" && strings.Contains(etag, "-") {
		return int64(h.set.MaxMultipartSize)
	}
	return int64(h.set.MaxFileSize)
}

// essence is a media type without parameters, in lowercase; "" when s is
// not one.
func essence(s string) string {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil || strings.Count(mt, "/") != 1 {
		return ""
	}
	return mt
}

// contentReason checks the first bytes of an object against the media type
// it was stored with (its essence): "" when they pass, else the reason to
// reject it. It also returns the type it detected.
func (h *Handler) contentReason(declared string, head []byte) (reason, detected string) {
	d := mimetype.Detect(head)
	detected = essence(d.String())
	switch {
	case isActive(d) && !namedExactly(h.set.AllowedContentTypes, d):
		return api.ReasonActiveContent, detected
	case !related(declared, d):
		return api.ReasonTypeMismatch, detected
	}
	return "", detected
}

// isActive reports whether the sniffed type, or a kind it belongs to, is
// one a browser runs: an XML format is active even when its own name lacks
// "+xml".
func isActive(d *mimetype.MIME) bool {
	for m := d; m != nil; m = m.Parent() {
		if api.IsActiveContent(essence(m.String())) {
			return true
		}
	}
	return false
}

// namedExactly reports whether the allow-list names the sniffed type (or
// one of its aliases) itself: active content is never admitted by a
// wildcard.
func namedExactly(allowed []string, d *mimetype.MIME) bool {
	for _, p := range allowed {
		if !strings.HasSuffix(p, "/*") && d.Is(p) {
			return true
		}
	}
	return false
}

// related reports whether content sniffed as d is consistent with the
// declared media type:
//   - the same type, or an alias of it;
//   - a more specific kind of it: declared application/zip, sniffed a
//     .docx; declared text/plain, sniffed CSV. Declaring
//     application/octet-stream claims nothing, so anything is a kind of it;
//   - a more general kind the first bytes cannot tell apart from it: a
//     .docx sniffed as zip, CSV or JSON sniffed as plain text. Only
//     application/octet-stream, the sniffer's "not recognised", does not
//     count: a type the sniffer knows (image/png) that it could not
//     recognise is not that type;
//   - any content, when the declared type is one the sniffer does not know
//     (text/markdown, a vendor type): it cannot contradict it. Active
//     content is refused before this check.
func related(declared string, d *mimetype.MIME) bool {
	for m := d; m != nil; m = m.Parent() {
		if m.Is(declared) {
			return true
		}
	}
	known := mimetype.Lookup(declared)
	if known == nil {
		return true
	}
	for m := known.Parent(); m != nil && m.Parent() != nil; m = m.Parent() {
		if d.Is(m.String()) {
			return true
		}
	}
	return false
}
