package api_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// The largest completion the model and the handler accept (10,000 parts,
// each with the longest ETag, and the longest fileKey) fits in the
// function's request body limit, so no legal upload is refused for size.
func TestLargestCompletionFitsTheBodyLimit(t *testing.T) {
	req := api.CompleteRequest{FileKey: strings.Repeat("k", 1024)}
	etag := `"` + strings.Repeat("f", 64) + `"`
	if !api.ValidETag(etag) || len(etag) != api.MaxETagLength {
		t.Fatalf("%s is not the longest valid ETag", etag)
	}
	for n := 1; n <= api.MaxParts; n++ {
		req.Parts = append(req.Parts, api.CompletedPart{PartNumber: n, ETag: etag})
	}
	b, _ := json.Marshal(req)
	if len(b) >= api.MaxRequestBody {
		t.Errorf("largest completion body is %d bytes, over the %d limit", len(b), api.MaxRequestBody)
	}
	t.Logf("largest completion body: %d bytes of %d", len(b), api.MaxRequestBody)
}

// ValidETag is a hand-written check of the pattern the model enforces.
func FuzzValidETag(f *testing.F) {
	pattern := regexp.MustCompile(api.Formats["etag"])
	for _, s := range []string{`"9b2cf535f27731c974343645a3985328"`, `abc`, `"abc`, `""`, ``, `"a"b"`, strings.Repeat("a", 65), "\"\u00e9\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := api.ValidETag(s), pattern.MatchString(s); got != want {
			t.Errorf("ValidETag(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
