package oidcauth

import (
	"regexp"
	"strings"
	"testing"
)

// bearerPattern is the documented header syntax, which bearerToken
// implements by hand: "Bearer" in any case and one or more spaces, or
// nothing, then a compact JWS, with spaces or tabs around.
var bearerPattern = regexp.MustCompile(`^[ \t]*(?:(?i:bearer) +)?([A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)[ \t]*$`)

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{
		"", "Bearer", "Bearer ", "Bearer a.b.c", "bearer a.b.c", "BEARER   a.b.c", "a.b.c", " Bearer a.b.c\t",
		"Basic dXNlcjpwYXNz", "Bearer a.b", "Bearer a.b.c.d", "Bearer a b.c", "Bearer\ta.b.c", "Bearer a.b.c d",
		"Bearer Bearer a.b.c", "Bearer eyJ+/.eyJ=.x", "..", "Bearer a.b.c\x00", "Bearer ＡＢ.c.d", "Beaer a.b.c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := bearerToken(header)
		m := bearerPattern.FindStringSubmatch(header)
		wantOK := m != nil && len(m[1]) <= MaxTokenLength
		if ok != wantOK {
			t.Fatalf("bearerToken(%q) ok = %v, want %v", header, ok, wantOK)
		}
		if !ok {
			if tok != "" {
				t.Fatalf("bearerToken(%q) = %q on refusal, want empty", header, tok)
			}
			return
		}
		if tok != m[1] {
			t.Fatalf("bearerToken(%q) = %q, want %q", header, tok, m[1])
		}
		for _, h := range []string{"Bearer " + tok, "bearer  " + tok, tok} {
			if got, ok := bearerToken(h); !ok || got != tok {
				t.Fatalf("bearerToken(%q) = %q, %v, want %q", h, got, ok, tok)
			}
		}
		if strings.ContainsAny(tok, " \t") {
			t.Fatalf("bearerToken(%q) = %q, holding whitespace", header, tok)
		}
	})
}
