package uploadapi

import (
	"crypto/rand"
	"encoding/base32"
	"path"
	"regexp"
	"strings"
)

// Limits of the sanitised file name that ends a generated key.
const (
	maxNameLen = 100
	maxExtLen  = 16
	// fallbackName replaces a file name that has nothing usable left.
	fallbackName = "file"
)

// idEncoding spells the 128-bit random ID in 26 lowercase characters.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// newID returns 26 characters from 128 random bits.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return idEncoding.EncodeToString(b[:])
}

// KeyPattern returns the pattern every key issued under prefix matches:
// prefix, a 26-character ID, '-', then a sanitised file name.
func KeyPattern(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `[0-9a-v]{26}-[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$`)
}

// IsIssuedKey reports whether key has the shape of a key issued under
// prefix: the test KeyPattern describes, written out by hand because a
// compiled pattern with these repetition counts costs more to build than a
// cold start can spare.
func IsIssuedKey(prefix, key string) bool {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(rest) < 28 || len(rest) > 27+maxNameLen || rest[26] != '-' {
		return false
	}
	for i := 0; i < 26; i++ {
		if c := rest[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'v') {
			return false
		}
	}
	name := rest[27:]
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || (c == '.' && i > 0)
		if !ok {
			return false
		}
	}
	return true
}

// BuildKey returns prefix + id + "-" + the sanitised file name.
func BuildKey(prefix, id, fileName string) string {
	return prefix + id + "-" + SanitizeFileName(fileName)
}

// SanitizeFileName reduces a client-supplied name to a safe final key segment:
// only ASCII letters, digits, '.', '-' and '_'; any other run of characters
// becomes one '_'; no leading dot, no "..", at most 100 bytes with the
// extension kept; never empty. A path keeps only its last element.
func SanitizeFileName(name string) string {
	// Treat both separators as such: the last element is the file's name.
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base("/" + name)

	var b strings.Builder
	b.Grow(len(name))
	lastUnderscore := false
	for _, r := range name {
		ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
		if !ok {
			if !lastUnderscore {
				b.WriteByte('_')
			}
			lastUnderscore = true
			continue
		}
		if r == '.' && strings.HasSuffix(b.String(), ".") {
			continue // ".." never survives
		}
		b.WriteRune(r)
		lastUnderscore = r == '_'
	}
	s := strings.Trim(b.String(), "._-")
	if s == "" {
		return fallbackName
	}
	if len(s) > maxNameLen {
		ext := path.Ext(s)
		if len(ext) > maxExtLen || len(ext) >= maxNameLen {
			ext = ""
		}
		s = strings.TrimRight(s[:maxNameLen-len(ext)], ".") + ext
	}
	return s
}
