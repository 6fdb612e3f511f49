package oidcauth_test

import (
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/presigned-upload/presigned-upload/api"
)

// BenchmarkAuthorize is the warm authorizer, the keys held: an
// Authorization header in, an Allow policy out. Compare it with
// BenchmarkBareRS256, a bare verification of the same token with the same
// library (go test -bench . -benchmem ./lambda/oidcauth).
func BenchmarkAuthorize(b *testing.B) {
	f := newFixture(b, api.AuthorizerSettings{}, keys().rsa, keys().ec)
	h := bearer(keys().rsa.sign(b, f.claims(nil)))
	if _, err := f.authorize(h); err != nil { // fetches the keys
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.authorize(h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareRS256 parses the token, checks its RS256 signature and
// decodes its claims: the least any verifier does.
func BenchmarkBareRS256(b *testing.B) {
	f := newFixture(b, api.AuthorizerSettings{}, keys().rsa)
	tok := keys().rsa.sign(b, f.claims(nil))
	pub := keys().rsa.priv.Public()
	b.ReportAllocs()
	for b.Loop() {
		t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			b.Fatal(err)
		}
		var c jwt.Claims
		if err := t.Claims(pub, &c); err != nil {
			b.Fatal(err)
		}
	}
}
