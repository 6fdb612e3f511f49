package uploadapi_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

func TestSanitizeFileName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"myfile.pdf", "myfile.pdf"},
		{"../../etc/passwd", "passwd"},
		{"a/b/c", "c"},
		{`C:\Users\me\report.docx`, "report.docx"},
		{"%2e%2e%2f", "2e_2e_2f"},
		{"a\x00b.txt", "a_b.txt"},
		{"", "file"},
		{"....", "file"},
		{"..", "file"},
		{"/", "file"},
		{"evil\u202egnp.exe", "evil_gnp.exe"},
		{"résumé final.pdf", "r_sum_final.pdf"},
		{"a..b...c", "a.b.c"},
		{".bashrc", "bashrc"},
		{"\xff\xfe.txt", "txt"},
		{strings.Repeat("x", 2000) + ".tar.gz", strings.Repeat("x", 97) + ".gz"},
	}
	for _, tc := range tests {
		if got := uploadapi.SanitizeFileName(tc.in); got != tc.want {
			t.Errorf("SanitizeFileName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// checkKey asserts the invariants every generated key keeps.
func checkKey(t *testing.T, prefix, name, key string) {
	t.Helper()
	rest, ok := strings.CutPrefix(key, prefix)
	switch {
	case !ok:
		t.Fatalf("key %q for %q is not under %q", key, name, prefix)
	case strings.Contains(rest, "/") || strings.Contains(key, ".."):
		t.Fatalf("key %q for %q has '/' or '..' after the prefix", key, name)
	case !utf8.ValidString(key):
		t.Fatalf("key %q for %q is not UTF-8", key, name)
	case !uploadapi.KeyPattern(prefix).MatchString(key):
		t.Fatalf("key %q for %q does not match %s", key, name, uploadapi.KeyPattern(prefix))
	case !uploadapi.IsIssuedKey(prefix, key):
		t.Fatalf("IsIssuedKey(%q) = false for an issued key", key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			t.Fatalf("key %q for %q has a control character", key, name)
		}
	}
}

func FuzzBuildKey(f *testing.F) {
	for _, seed := range []string{"myfile.pdf", "../../etc/passwd", "a/b/c", "%2e%2e%2f", "a\x00b", "", "....",
		"\u202etxt.exe", "\xff\xfe", strings.Repeat("é", 1500), "x." + strings.Repeat("y", 200), ". .", "-_-"} {
		f.Add(seed)
	}
	const prefix = "uploads/2026/"
	id := strings.Repeat("a", 26)
	f.Fuzz(func(t *testing.T, name string) {
		checkKey(t, prefix, name, uploadapi.BuildKey(prefix, id, name))
	})
}

// IsIssuedKey must agree with the documented pattern on any string.
func FuzzIsIssuedKey(f *testing.F) {
	const prefix = "uploads/"
	id := strings.Repeat("0", 26)
	for _, seed := range []string{prefix + id + "-a.txt", prefix + id + "-.hidden", prefix + id + "-", prefix + id[:25] + "-a",
		prefix + strings.Repeat("w", 26) + "-a", "other/" + id + "-a", prefix + id + "-a/b", prefix + id + "-" + strings.Repeat("x", 101), ""} {
		f.Add(seed)
	}
	pattern := uploadapi.KeyPattern(prefix)
	f.Fuzz(func(t *testing.T, key string) {
		if got, want := uploadapi.IsIssuedKey(prefix, key), pattern.MatchString(key); got != want {
			t.Fatalf("IsIssuedKey(%q) = %v, pattern says %v", key, got, want)
		}
	})
}
