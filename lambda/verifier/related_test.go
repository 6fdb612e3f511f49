package verifier

import (
	"testing"

	"github.com/gabriel-vasile/mimetype"
)

// related defines when sniffed content is consistent with the declared
// Content-Type. Sniffed types are named as the sniffer names them.
func TestRelated(t *testing.T) {
	const docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	for _, tc := range []struct {
		declared, sniffed string
		want              bool
	}{
		// Equal, or an alias.
		{"image/png", "image/png", true},
		{"application/zip", "application/zip", true},
		{"application/x-zip-compressed", "application/zip", true},
		{"application/xml", "text/xml", true},
		{docx, docx, true},
		// The sniffed type is a kind of the declared one.
		{"application/zip", docx, true},
		{"text/plain", "text/csv", true},
		{"text/plain", "text/html", true}, // active content is refused before this check
		{"application/octet-stream", "image/png", true},
		{"application/octet-stream", "application/octet-stream", true},
		// The declared type is a kind of the sniffed one, which the first
		// bytes cannot tell apart from it.
		{docx, "application/zip", true},
		{"text/csv", "text/plain", true},
		{"application/json", "text/plain", true},
		// A type the sniffer does not know cannot be contradicted.
		{"text/markdown", "text/plain", true},
		{"application/x-vendor-model", "application/octet-stream", true},
		{"application/x-vendor-model", "application/zip", true},
		// Anything else is not what it says.
		{"image/png", "text/html", false},
		{"image/png", "text/plain", false},
		{"image/png", "image/jpeg", false},
		{"image/png", "application/pdf", false},
		{"image/png", "application/octet-stream", false}, // known, and not recognised
		{"application/pdf", "application/octet-stream", false},
		{docx, "application/pdf", false},
		{"text/csv", "image/png", false},
		{"application/zip", "text/plain", false},
		{"text/plain", "application/octet-stream", false},
	} {
		t.Run(tc.declared+" sniffed as "+tc.sniffed, func(t *testing.T) {
			d := mimetype.Lookup(tc.sniffed)
			if d == nil {
				t.Fatalf("the sniffer has no type %s", tc.sniffed)
			}
			if got := related(tc.declared, d); got != tc.want {
				t.Errorf("related(%s, %s) = %v, want %v", tc.declared, tc.sniffed, got, tc.want)
			}
		})
	}
}

// Active content is what a browser runs, whatever the sniffer calls it.
func TestIsActive(t *testing.T) {
	for sniffed, want := range map[string]bool{
		"text/html":           true,
		"image/svg+xml":       true,
		"text/xml":            true,
		"application/rss+xml": true,
		// An XML format whose own name lacks "+xml".
		"application/vnd.adobe.xfdf": true,
		"text/plain":                 false,
		"text/csv":                   false,
		"application/json":           false,
		"image/png":                  false,
		"application/pdf":            false,
	} {
		d := mimetype.Lookup(sniffed)
		if d == nil {
			t.Fatalf("the sniffer has no type %s", sniffed)
		}
		if got := isActive(d); got != want {
			t.Errorf("isActive(%s) = %v, want %v", sniffed, got, want)
		}
	}
}
