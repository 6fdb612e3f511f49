package api

import (
	"crypto/rand"
	"encoding/base32"
	"path"
	"regexp"
	"strings"
)

// Issued keys. Every object the API lets a client store is under a key it
// generated: the key prefix, with sign-in the owner's caller ID and '/',
// then a random ID, '-' and the client's file name, sanitised:
//
//	uploads/0h4k2q8v1r5m9t3c7b6n0d2f4g-report.png
//	uploads/ovk7m3w2c5xq4a6bp2dh3n7gre/0h4k2q8v1r5m9t3c7b6n0d2f4g-report.png
//
// The upload function builds them and accepts only them; the verifier
// rejects an object under any other key (ReasonUnknownKey).

// FileIDLength is the length of the random ID in an issued key.
const FileIDLength = 26

// Limits of the sanitised file name that ends a generated key.
const (
	maxNameLen = 100
	maxExtLen  = 16
	// fallbackName replaces a file name that has nothing usable left.
	fallbackName = "file"
)

// idEncoding spells the 128-bit random ID in 26 lowercase characters.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewFileID returns a key's random ID: 26 characters from 128 random bits.
func NewFileID() string {
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
	if !ok || len(rest) < FileIDLength+2 || len(rest) > FileIDLength+1+maxNameLen || rest[FileIDLength] != '-' {
		return false
	}
	for i := 0; i < FileIDLength; i++ {
		if c := rest[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'v') {
			return false
		}
	}
	name := rest[FileIDLength+1:]
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || (c == '.' && i > 0)
		if !ok {
			return false
		}
	}
	return true
}

// BuildKey returns prefix + id + "-" + the sanitised file name; prefix is
// an [OwnerPrefix].
func BuildKey(prefix, id, fileName string) string {
	return prefix + id + "-" + SanitizeFileName(fileName)
}

// OwnerPrefix is where a caller's keys live: keyPrefix, then, with sign-in
// (caller is not empty), the caller's own segment.
func OwnerPrefix(keyPrefix, caller string) string {
	if caller == "" {
		return keyPrefix
	}
	return keyPrefix + caller + "/"
}

// IssuedKey is an issued key taken apart.
type IssuedKey struct {
	// Owner is the caller ID of the owner segment; "" without sign-in.
	Owner string
	// ID is the random ID; FileName the sanitised name after it.
	ID, FileName string
}

// ParseKey reports whether key is one the API issues under keyPrefix, and
// its parts. With signIn, an issued key has an owner segment, a caller ID;
// without, it has none.
func ParseKey(keyPrefix, key string, signIn bool) (IssuedKey, bool) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok {
		return IssuedKey{}, false
	}
	var k IssuedKey
	if signIn {
		owner, _, found := strings.Cut(rest, "/")
		if !found || !IsCallerID(owner) {
			return IssuedKey{}, false
		}
		k.Owner = owner
	}
	prefix := OwnerPrefix(keyPrefix, k.Owner)
	if !IsIssuedKey(prefix, key) {
		return IssuedKey{}, false
	}
	rest = key[len(prefix):]
	k.ID, k.FileName = rest[:FileIDLength], rest[FileIDLength+1:]
	return k, true
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
