package oidcauth_test

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
)

// FuzzAuthorize sends any header through the whole authorizer, keys held:
// it never panics, and every answer is either alice's Allow or
// Unauthorized.
func FuzzAuthorize(f *testing.F) {
	k := keys()
	fx := newFixture(f, api.AuthorizerSettings{}, k.rsa, k.ec)
	v, err := oidcauth.New(api.AuthorizerSettings{IssuerUrl: fx.is.URL, Audience: audience},
		oidcauth.WithClock(fx.clk.now), oidcauth.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		f.Fatal(err)
	}
	fx.v = v
	good := k.rsa.sign(f, fx.claims(nil))
	if _, err := fx.authorize(bearer(good)); err != nil { // fetches the keys
		f.Fatal(err)
	}
	for _, h := range []string{
		bearer(good), good, bearer(k.ec.sign(f, fx.claims(nil))), bearer(k.rogue.sign(f, fx.claims(nil))),
		bearer(forge(f, map[string]any{"alg": "none", "kid": k.rsa.kid}, fx.claims(nil), nil)),
		bearer(forge(f, map[string]any{"alg": "HS256", "kid": k.rsa.kid}, fx.claims(nil), publicPEM(f, k.rsa))),
		"Bearer eyJhbGciOiJSUzI1NiJ9.e30.", "Bearer ..", "",
	} {
		f.Add(h)
	}
	want := api.CallerID(fx.is.URL, "auth0|alice")
	f.Fuzz(func(t *testing.T, header string) {
		resp, err := fx.authorize(header)
		switch {
		case err == nil && resp.PrincipalID != want:
			t.Fatalf("Authorize(%q) allowed principal %q, want only %q", header, resp.PrincipalID, want)
		case err != nil && !errors.Is(err, oidcauth.ErrUnauthorized):
			t.Fatalf("Authorize(%q) error = %v, want Unauthorized", header, err)
		}
	})
}
