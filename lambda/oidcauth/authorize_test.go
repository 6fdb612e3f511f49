package oidcauth_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
)

const stageResource = "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/*/*"

func bearer(tok string) string { return "Bearer " + tok }

// wantAllow checks that resp allows the caller (f's issuer, subject sub)
// every method of the stage, and that nothing logged the token.
func wantAllow(t *testing.T, f *fixture, tok string, resp events.APIGatewayCustomAuthorizerResponse, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Authorize: %v, want an Allow\nlog:\n%s", err, f.log)
	}
	id := api.CallerID(f.is.URL, "auth0|alice")
	want := events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: id,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{stageResource},
			}},
		},
		Context: map[string]any{"iss": f.is.URL, "sub": "auth0|alice", "callerId": id},
	}
	if !reflect.DeepEqual(resp, want) {
		t.Fatalf("Authorize = %+v,\nwant %+v", resp, want)
	}
	wantNoToken(t, f, tok)
}

// wantUnauthorized checks that Authorize refused with exactly the error
// API Gateway maps to 401, and logged why without the token.
func wantUnauthorized(t *testing.T, f *fixture, tok string, resp events.APIGatewayCustomAuthorizerResponse, err error) {
	t.Helper()
	if err == nil || err.Error() != "Unauthorized" || !errors.Is(err, oidcauth.ErrUnauthorized) {
		t.Fatalf("Authorize error = %v, want Unauthorized\nlog:\n%s", err, f.log)
	}
	if !reflect.DeepEqual(resp, events.APIGatewayCustomAuthorizerResponse{}) {
		t.Fatalf("Authorize = %+v with Unauthorized, want an empty response", resp)
	}
	if !strings.Contains(f.log.String(), "refused") {
		t.Fatalf("nothing logged why; log:\n%s", f.log)
	}
	wantNoToken(t, f, tok)
}

func wantNoToken(t *testing.T, f *fixture, tok string) {
	t.Helper()
	// The signature part is what makes a token a credential.
	if i := strings.LastIndexByte(tok, '.'); i >= 0 && len(tok)-i > 8 && strings.Contains(f.log.String(), tok[i+1:]) {
		t.Fatalf("the log holds the token:\n%s", f.log)
	}
}

func wantFetches(t *testing.T, is *issuer, discovery, jwks int32) {
	t.Helper()
	if d, j := is.discovery.Load(), is.jwks.Load(); d != discovery || j != jwks {
		t.Fatalf("issuer served %d discovery documents and %d key sets, want %d and %d", d, j, discovery, jwks)
	}
}

func TestAuthorizeAllows(t *testing.T) {
	k := keys()
	for _, tc := range []struct {
		name   string
		key    signingKey
		edit   func(c map[string]any, now int64)
		header func(tok string) string
	}{
		{"RS256", k.rsa, nil, bearer},
		{"ES256", k.ec, nil, bearer},
		{"scheme in lower case", k.rsa, nil, func(tok string) string { return "bearer " + tok }},
		{"bare token", k.rsa, nil, func(tok string) string { return tok }},
		{"aud a list holding the audience", k.rsa, func(c map[string]any, _ int64) { c["aud"] = []string{"https://other.example.com", audience} }, bearer},
		{"expired less than the leeway ago", k.rsa, func(c map[string]any, now int64) { c["exp"] = now - 30 }, bearer},
		{"valid in less than the leeway", k.rsa, func(c map[string]any, now int64) { c["nbf"], c["iat"] = now+30, now+30 }, bearer},
		{"no nbf or iat", k.rsa, func(c map[string]any, _ int64) { delete(c, "nbf"); delete(c, "iat") }, bearer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, api.AuthorizerSettings{}, k.rsa, k.ec)
			tok := tc.key.sign(t, f.claims(tc.edit))
			resp, err := f.authorize(tc.header(tok))
			wantAllow(t, f, tok, resp, err)
		})
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	k := keys()
	signed := func(key signingKey, edit func(c map[string]any, now int64)) func(*testing.T, *fixture) string {
		return func(t *testing.T, f *fixture) string { return bearer(key.sign(t, f.claims(edit))) }
	}
	header := func(h string) func(*testing.T, *fixture) string {
		return func(*testing.T, *fixture) string { return h }
	}
	for _, tc := range []struct {
		name   string
		header func(*testing.T, *fixture) string
		reason string // logged
	}{
		{"no header", header(""), "no bearer token"},
		{"scheme without a token", header("Bearer "), "no bearer token"},
		{"another scheme", header("Basic dXNlcjpwYXNzd29yZA=="), "no bearer token"},
		{"not a JWS", header("Bearer not-a-token"), "no bearer token"},
		{"three parts of nothing", header("Bearer a.b.c"), "malformed"},
		{"longer than allowed", header("Bearer " + strings.Repeat("a", oidcauth.MaxTokenLength) + ".b.c"), "no bearer token"},
		{"expired", signed(k.rsa, func(c map[string]any, now int64) { c["exp"] = now - 61 }), "expired"},
		{"not valid yet", signed(k.rsa, func(c map[string]any, now int64) { c["nbf"] = now + 61 }), "not valid yet"},
		{"issued in the future", signed(k.rsa, func(c map[string]any, now int64) { c["iat"] = now + 61 }), "issued in the future"},
		{"no expiry", signed(k.rsa, func(c map[string]any, _ int64) { delete(c, "exp") }), "no expiry"},
		{"no subject", signed(k.rsa, func(c map[string]any, _ int64) { delete(c, "sub") }), "no subject"},
		{"wrong issuer", signed(k.rsa, func(c map[string]any, _ int64) { c["iss"] = "https://issuer.example.com" }), "wrong issuer"},
		{"issuer with a trailing slash", signed(k.rsa, func(c map[string]any, _ int64) { c["iss"] = c["iss"].(string) + "/" }), "wrong issuer"},
		{"wrong audience", signed(k.rsa, func(c map[string]any, _ int64) { c["aud"] = "https://other-api.example.com" }), "wrong audience"},
		{"no audience", signed(k.rsa, func(c map[string]any, _ int64) { delete(c, "aud") }), "wrong audience"},
		{"another client's token", signed(k.rsa, func(c map[string]any, _ int64) { c["aud"] = []string{"other-client-id"} }), "wrong audience"},
		{"alg none", func(t *testing.T, f *fixture) string {
			return bearer(forge(t, map[string]any{"alg": "none", "typ": "JWT", "kid": k.rsa.kid}, f.claims(nil), nil))
		}, `algorithm \"none\"`},
		{"alg None", func(t *testing.T, f *fixture) string {
			return bearer(forge(t, map[string]any{"alg": "None", "typ": "JWT", "kid": k.rsa.kid}, f.claims(nil), nil))
		}, `algorithm \"None\"`},
		{"HS256 keyed with the RSA public key", func(t *testing.T, f *fixture) string {
			return bearer(forge(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": k.rsa.kid}, f.claims(nil), publicPEM(t, k.rsa)))
		}, `algorithm \"HS256\"`},
		{"HS256 keyed with the RSA public key, no kid", func(t *testing.T, f *fixture) string {
			return bearer(forge(t, map[string]any{"alg": "HS256", "typ": "JWT"}, f.claims(nil), publicPEM(t, k.rsa)))
		}, `algorithm \"HS256\"`},
		{"unknown kid", signed(k.rogue, nil), `no key \"rogue\" for RS256`},
		{"key not in the JWKS under a published kid", signed(signingKey{k.rsa.kid, jose.RS256, k.rogue.priv}, nil), "signature:"},
		{"no kid with several keys published", signed(signingKey{"", jose.RS256, k.rsa.priv}, nil), "names no key"},
		{"RS256 naming the EC key", signed(signingKey{k.ec.kid, jose.RS256, k.rsa.priv}, nil), `no key \"ec-1\" for RS256`},
		{"claims swapped under a valid signature", func(t *testing.T, f *fixture) string {
			good := strings.Split(k.rsa.sign(t, f.claims(nil)), ".")
			other := strings.Split(k.rsa.sign(t, f.claims(func(c map[string]any, _ int64) { c["sub"] = "auth0|mallory" })), ".")
			return bearer(good[0] + "." + other[1] + "." + good[2])
		}, "signature:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, api.AuthorizerSettings{}, k.rsa, k.ec)
			h := tc.header(t, f)
			resp, err := f.authorize(h)
			wantUnauthorized(t, f, h, resp, err)
			if !strings.Contains(f.log.String(), tc.reason) {
				t.Fatalf("the log does not say %q:\n%s", tc.reason, f.log)
			}
		})
	}
}

// An unknown kid fetches the keys again once; more unknown kids within
// MinRefreshInterval fetch nothing, so random kids cannot make the
// authorizer hammer the issuer.
func TestUnknownKeyRefreshesAtMostOncePerInterval(t *testing.T) {
	k := keys()
	f := newFixture(t, api.AuthorizerSettings{}, k.rsa)
	good := bearer(k.rsa.sign(t, f.claims(nil)))
	try := func(name, h string, allow bool, discovery, jwks int32) {
		t.Helper()
		resp, err := f.authorize(h)
		if allow {
			wantAllow(t, f, h, resp, err)
		} else {
			wantUnauthorized(t, f, h, resp, err)
		}
		wantFetches(t, f.is, discovery, jwks)
	}
	try("a valid token fetches the keys", good, true, 1, 1)
	f.clk.advance(oidcauth.MinRefreshInterval)
	try("an unknown kid fetches them again", bearer(k.rogue.sign(t, f.claims(nil))), false, 1, 2)
	f.clk.advance(oidcauth.MinRefreshInterval - 1)
	try("another unknown kid within the interval does not", bearer(signingKey{"rogue-2", jose.RS256, k.rogue.priv}.sign(t, f.claims(nil))), false, 1, 2)
	try("the known key still verifies", good, true, 1, 2)
	f.clk.advance(1)
	try("after the interval an unknown kid fetches again", bearer(signingKey{"rogue-3", jose.RS256, k.rogue.priv}.sign(t, f.claims(nil))), false, 1, 3)
}

// When the issuer rotates to a new key, the first token signed with it
// fetches the keys once and passes; the withdrawn key stops verifying.
func TestKeyRotation(t *testing.T) {
	k := keys()
	f := newFixture(t, api.AuthorizerSettings{}, k.rsa)
	old := bearer(k.rsa.sign(t, f.claims(nil)))
	resp, err := f.authorize(old)
	wantAllow(t, f, old, resp, err)

	f.clk.advance(10 * oidcauth.MinRefreshInterval)
	f.is.publish(k.rsa2)
	rotated := bearer(k.rsa2.sign(t, f.claims(nil)))
	resp, err = f.authorize(rotated)
	wantAllow(t, f, rotated, resp, err)
	wantFetches(t, f.is, 1, 2)
	resp, err = f.authorize(bearer(k.rsa2.sign(t, f.claims(nil))))
	wantAllow(t, f, "", resp, err)
	wantFetches(t, f.is, 1, 2)

	old = bearer(k.rsa.sign(t, f.claims(nil)))
	resp, err = f.authorize(old)
	wantUnauthorized(t, f, old, resp, err)
}

// A warm function fetches the keys again after MaxKeyAge, so a key the
// issuer withdrew stops verifying even though no token named a new one.
func TestWithdrawnKeyStopsVerifyingAfterMaxKeyAge(t *testing.T) {
	k := keys()
	f := newFixture(t, api.AuthorizerSettings{}, k.rsa, k.rsa2)
	resp, err := f.authorize(bearer(k.rsa.sign(t, f.claims(nil))))
	wantAllow(t, f, "", resp, err)
	f.is.publish(k.rsa2)

	f.clk.advance(oidcauth.MaxKeyAge - 1)
	resp, err = f.authorize(bearer(k.rsa.sign(t, f.claims(nil))))
	wantAllow(t, f, "", resp, err)
	wantFetches(t, f.is, 1, 1)

	f.clk.advance(1)
	tok := bearer(k.rsa.sign(t, f.claims(nil)))
	resp, err = f.authorize(tok)
	wantUnauthorized(t, f, tok, resp, err)
	wantFetches(t, f.is, 1, 2)
}

// When the keys cannot be fetched nothing is known about the token:
// Authorize returns an error other than Unauthorized (API Gateway answers
// 500 and caches nothing), retries no sooner than RetryInterval, and once
// it holds keys keeps verifying with them while the issuer is down.
func TestIssuerUnavailable(t *testing.T) {
	k := keys()
	f := newFixture(t, api.AuthorizerSettings{}, k.rsa)
	f.is.fail.Store(true)
	wantUnavailable := func(discovery int32) {
		t.Helper()
		_, err := f.authorize(bearer(k.rsa.sign(t, f.claims(nil))))
		if !errors.Is(err, oidcauth.ErrKeysUnavailable) || err.Error() == "Unauthorized" {
			t.Fatalf("Authorize error = %v, want one wrapping ErrKeysUnavailable", err)
		}
		wantFetches(t, f.is, discovery, 0)
	}
	wantUnavailable(1)
	f.clk.advance(oidcauth.RetryInterval - 1)
	wantUnavailable(1)

	f.clk.advance(1)
	f.is.fail.Store(false)
	resp, err := f.authorize(bearer(k.rsa.sign(t, f.claims(nil))))
	wantAllow(t, f, "", resp, err)
	wantFetches(t, f.is, 2, 1)

	f.is.fail.Store(true)
	f.clk.advance(oidcauth.MaxKeyAge)
	resp, err = f.authorize(bearer(k.rsa.sign(t, f.claims(nil))))
	wantAllow(t, f, "", resp, err)
	wantFetches(t, f.is, 2, 2)
}

// The discovery document must name the configured issuer exactly.
func TestDiscoveryMustNameTheIssuer(t *testing.T) {
	k := keys()
	is := newIssuer(t, k.rsa)
	v, err := oidcauth.New(api.AuthorizerSettings{IssuerUrl: is.URL + "/", Audience: audience}, oidcauth.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	now := newClock().now().Unix()
	tok := k.rsa.sign(t, map[string]any{"iss": is.URL + "/", "aud": audience, "sub": "auth0|alice", "exp": now + 600})
	if _, err := v.Check(context.Background(), tok); !errors.Is(err, oidcauth.ErrKeysUnavailable) {
		t.Fatalf("Check error = %v, want ErrKeysUnavailable", err)
	}
	wantFetches(t, is, 1, 0)
}

func TestConfiguredJWKSURLSkipsDiscovery(t *testing.T) {
	k := keys()
	f := newFixture(t, api.AuthorizerSettings{}, k.rsa)
	v, err := oidcauth.New(api.AuthorizerSettings{IssuerUrl: f.is.URL, Audience: audience, JwksUrl: f.is.URL + "/keys"},
		oidcauth.WithClock(f.clk.now), oidcauth.WithLogger(slog.New(slog.NewTextHandler(f.log, nil))))
	if err != nil {
		t.Fatal(err)
	}
	f.v = v
	resp, err := f.authorize(bearer(k.rsa.sign(t, f.claims(nil))))
	wantAllow(t, f, "", resp, err)
	wantFetches(t, f.is, 0, 1)
}

// Tokens arriving together before any keys are held fetch them once.
func TestConcurrentTokensFetchOnce(t *testing.T) {
	k := keys()
	f := newFixture(t, api.AuthorizerSettings{}, k.rsa)
	tok := bearer(k.rsa.sign(t, f.claims(nil)))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := f.authorize(tok)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantFetches(t, f.is, 1, 1)
}

func TestPolicyCoversTheWholeStage(t *testing.T) {
	k := keys()
	f := newFixture(t, api.AuthorizerSettings{}, k.rsa)
	tok := bearer(k.rsa.sign(t, f.claims(nil)))
	for _, tc := range []struct{ methodArn, want string }{
		{"arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/GET/files", stageResource},
		{"arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/POST/multipart/u1/complete", stageResource},
		{"arn:aws-cn:execute-api:cn-north-1:123456789012:abc123defg/dev/DELETE/files", "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123defg/dev/*/*"},
		{"arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod", stageResource},
	} {
		t.Run(tc.methodArn, func(t *testing.T) {
			resp, err := f.v.Authorize(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tok, MethodArn: tc.methodArn})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.PolicyDocument.Statement[0].Resource; len(got) != 1 || got[0] != tc.want {
				t.Fatalf("Resource = %q, want [%q]", got, tc.want)
			}
		})
	}
	for _, arn := range []string{"", "arn:aws:lambda:eu-west-1:123456789012:function:x", "arn:aws:execute-api:eu-west-1:123456789012:abc123defg", "arn:aws:execute-api:::abc/prod/GET/x"} {
		t.Run("refuses "+arn, func(t *testing.T) {
			_, err := f.v.Authorize(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tok, MethodArn: arn})
			if err == nil || err.Error() == "Unauthorized" {
				t.Fatalf("Authorize error = %v, want a configuration error", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  api.AuthorizerSettings
		ok   bool
	}{
		{"https issuer", api.AuthorizerSettings{IssuerUrl: "https://tenant.eu.auth0.com/", Audience: "api"}, true},
		{"http on 127.0.0.1", api.AuthorizerSettings{IssuerUrl: "http://127.0.0.1:8080", Audience: "api"}, true},
		{"http on ::1", api.AuthorizerSettings{IssuerUrl: "http://[::1]:8080", Audience: "api"}, true},
		{"http on localhost", api.AuthorizerSettings{IssuerUrl: "http://localhost:8080/realms/x", Audience: "api"}, true},
		{"https JWKS URL", api.AuthorizerSettings{IssuerUrl: "https://accounts.google.com", Audience: "client", JwksUrl: "https://www.googleapis.com/oauth2/v3/certs"}, true},
		{"no issuer", api.AuthorizerSettings{Audience: "api"}, false},
		{"relative issuer", api.AuthorizerSettings{IssuerUrl: "accounts.google.com", Audience: "api"}, false},
		{"http issuer elsewhere", api.AuthorizerSettings{IssuerUrl: "http://issuer.example.com", Audience: "api"}, false},
		{"no audience", api.AuthorizerSettings{IssuerUrl: "https://issuer.example.com"}, false},
		{"http JWKS URL elsewhere", api.AuthorizerSettings{IssuerUrl: "https://issuer.example.com", Audience: "api", JwksUrl: "http://issuer.example.com/keys"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oidcauth.New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New(%+v) error = %v, want ok %v", tc.cfg, err, tc.ok)
			}
		})
	}
}

// With a quota tier claim set, the authorizer passes the token's value of
// it on, under its name; without one, or when the claim is not a string,
// nothing more than the caller.
func TestAuthorizePassesTheTier(t *testing.T) {
	k := keys()
	for _, tc := range []struct {
		name, claim string
		value       any
		want        any
	}{
		{"the tier", "custom:tier", "pro", "pro"},
		{"no such claim in the token", "custom:tier", nil, nil},
		{"not a string", "custom:tier", 7, nil},
		{"no tier claim set", "", "pro", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, api.AuthorizerSettings{QuotaTierClaim: tc.claim}, k.rsa)
			tok := k.rsa.sign(t, f.claims(func(c map[string]any, _ int64) {
				if tc.value != nil {
					c["custom:tier"] = tc.value
				}
			}))
			resp, err := f.authorize(bearer(tok))
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Context["custom:tier"]; got != tc.want {
				t.Errorf("context tier = %v, want %v", got, tc.want)
			}
			if len(resp.Context) != 3+map[bool]int{true: 1}[tc.want != nil] {
				t.Errorf("context = %v", resp.Context)
			}
		})
	}
}
