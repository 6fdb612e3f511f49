package api_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/presigned-upload/presigned-upload/api"
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
		if got := api.SanitizeFileName(tc.in); got != tc.want {
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
	case !api.KeyPattern(prefix).MatchString(key):
		t.Fatalf("key %q for %q does not match %s", key, name, api.KeyPattern(prefix))
	case !api.IsIssuedKey(prefix, key):
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
		checkKey(t, prefix, name, api.BuildKey(prefix, id, name))
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
	pattern := api.KeyPattern(prefix)
	f.Fuzz(func(t *testing.T, key string) {
		if got, want := api.IsIssuedKey(prefix, key), pattern.MatchString(key); got != want {
			t.Fatalf("IsIssuedKey(%q) = %v, pattern says %v", key, got, want)
		}
	})
}

func TestParseKey(t *testing.T) {
	caller := api.CallerID("https://issuer.example", "alice")
	other := api.CallerID("https://issuer.example", "bob")
	id := "0h4k2q8v1r5m9t3c7b6n0d2f4g"
	for _, tc := range []struct {
		name, key string
		signIn    bool
		want      api.IssuedKey
		ok        bool
	}{
		{"issued", "uploads/" + id + "-report.png", false, api.IssuedKey{ID: id, FileName: "report.png"}, true},
		{"owned", "uploads/" + caller + "/" + id + "-report.png", true, api.IssuedKey{Owner: caller, ID: id, FileName: "report.png"}, true},
		{"another owner", "uploads/" + other + "/" + id + "-a.txt", true, api.IssuedKey{Owner: other, ID: id, FileName: "a.txt"}, true},
		{"owner segment without sign-in", "uploads/" + caller + "/" + id + "-report.png", false, api.IssuedKey{}, false},
		{"no owner segment with sign-in", "uploads/" + id + "-report.png", true, api.IssuedKey{}, false},
		{"owner segment not a caller ID", "uploads/" + strings.ToUpper(caller) + "/" + id + "-a.txt", true, api.IssuedKey{}, false},
		{"other prefix", "elsewhere/" + id + "-report.png", false, api.IssuedKey{}, false},
		{"short ID", "uploads/0h4k-report.png", false, api.IssuedKey{}, false},
		{"traversal", "uploads/" + id + "-../x", false, api.IssuedKey{}, false},
		{"empty", "", false, api.IssuedKey{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := api.ParseKey("uploads/", tc.key, tc.signIn)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseKey(%q, signIn %v) = %+v, %v; want %+v, %v", tc.key, tc.signIn, got, ok, tc.want, tc.ok)
			}
			if ok && api.BuildKey(api.OwnerPrefix("uploads/", got.Owner), got.ID, got.FileName) != tc.key {
				t.Errorf("BuildKey of the parts of %q gives another key", tc.key)
			}
		})
	}
}
