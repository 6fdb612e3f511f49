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

// unexpectedMetadata returns the first header, other than Content-Type,
// that obj was stored with and a download would serve back: the API asks
// for none, and a pre-signed PUT admits such unsigned headers. "" when
// there is none. Two values change nothing served and pass: Content-Encoding
// "identity", and a Cache-Control that only restricts caching ("max-age=0",
// "no-cache"…), which browsers add to a PUT on their own.
func unexpectedMetadata(obj object) string {
	for _, name := range servedHeaders {
		v := strings.TrimSpace(obj.served[name])
		switch {
		case v == "":
		case name == "Content-Encoding" && strings.EqualFold(v, "identity"):
		case name == "Cache-Control" && restrictsCaching(v):
		default:
			return name
		}
	}
	return ""
}

// restrictsCaching reports whether every directive of the Cache-Control
// value v only narrows who may cache a response, or for how long: served
// back, it can make a download cached less, never more, nor by others.
func restrictsCaching(v string) bool {
	for _, d := range strings.Split(v, ",") {
		switch strings.ToLower(strings.TrimSpace(d)) {
		case "no-cache", "no-store", "max-age=0", "s-maxage=0", "must-revalidate", "proxy-revalidate", "private", "no-transform":
		default:
			return false
		}
	}
	return true
}

// servedHeaders are the headers unexpectedMetadata checks, in order.
var servedHeaders = []string{"Content-Encoding", "Content-Disposition", "Cache-Control", "Content-Language", "Expires", "X-Amz-Website-Redirect-Location"}

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
