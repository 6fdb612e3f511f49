// Package oidcauth is the API's token authorizer for any OpenID Connect
// issuer (Auth0, Okta, Entra ID, Google ID tokens, Keycloak…): it verifies
// a JWT bearer token against the issuer's published keys and turns it into
// the policy API Gateway asks a TOKEN authorizer for.
//
// A token passes when it is a compact JWS signed with an asymmetric
// algorithm (RS*, PS*, ES*, EdDSA; never "none" or HS*) by a key in the
// issuer's JWKS, its "iss" equals the configured issuer exactly, its "aud"
// contains the configured audience, it carries "sub" and "exp", and "exp",
// "nbf" and "iat" hold at the current time within [Leeway].
//
// The deployed authorizer calls [Authorizer.Authorize]; whatever stands in
// for API Gateway (local mode, tests, benchmarks) calls the same method.
package oidcauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/presigned-upload/presigned-upload/api"
)

const (
	// Leeway is the clock skew allowed between the issuer and this
	// function: a token is accepted up to a minute after its "exp" and
	// from a minute before its "nbf" and "iat".
	Leeway = time.Minute
	// MinRefreshInterval is the least time between two fetches of the
	// issuer's keys after a successful one, however many tokens name a key
	// it does not know: random "kid"s cannot make the authorizer hammer
	// the issuer.
	MinRefreshInterval = time.Minute
	// RetryInterval is the least time between a failed fetch and the next.
	RetryInterval = 5 * time.Second
	// MaxKeyAge is how long fetched keys are used before the next token
	// fetches them again, so a key the issuer withdrew stops verifying in a
	// warm function too. If that fetch fails, the old keys stay in use.
	MaxKeyAge = time.Hour
	// FetchTimeout bounds each request to the issuer.
	FetchTimeout = 5 * time.Second
	// MaxTokenLength bounds the token; API Gateway bounds the header too.
	MaxTokenLength = 16 << 10
)

// signatureAlgorithms are the algorithms a token may be signed with: only
// asymmetric ones, so neither "none" nor an HMAC keyed with a public key
// can pass.
var signatureAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

var (
	// ErrInvalidToken means the token is missing, malformed, not signed by
	// one of the issuer's keys, or its claims refuse it. Check's errors
	// wrap it with the reason.
	ErrInvalidToken = errors.New("invalid token")
	// ErrKeysUnavailable means the issuer's keys were needed and could not
	// be fetched: nothing is known about the token.
	ErrKeysUnavailable = errors.New("issuer keys unavailable")
)

// Caller is who a verified token speaks for.
type Caller struct {
	Issuer  string
	Subject string
	Expiry  time.Time
	// Tier is the string value of the settings' QuotaTierClaim, if the
	// token has it.
	Tier string
}

// ID returns the caller's ID, the key segment that holds its files.
func (c Caller) ID() string { return api.CallerID(c.Issuer, c.Subject) }

// Authorizer checks tokens of one issuer and audience. It keeps the
// issuer's keys between calls, so hold one for the life of the process.
// It is safe for concurrent use.
type Authorizer struct {
	set  api.AuthorizerSettings
	keys *keySet
	now  func() time.Time
	log  *slog.Logger
}

// Option changes an Authorizer.
type Option func(*Authorizer)

// WithClock makes the Authorizer read the time from now. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(v *Authorizer) { v.now = now } }

// WithLogger sends the Authorizer's log lines to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(v *Authorizer) { v.log = l } }

// New returns an Authorizer for s after validating it. It makes no network
// call: the keys are fetched when the first token needs them.
func New(s api.AuthorizerSettings, opts ...Option) (*Authorizer, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	v := &Authorizer{set: s, now: time.Now, log: slog.Default(), keys: newKeySet(s.IssuerUrl, s.JwksUrl)}
	for _, o := range opts {
		o(v)
	}
	v.keys.now, v.keys.log = v.now, v.log
	return v, nil
}

// claims are the registered claims a token is checked against.
type claims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
}

// Check verifies token (the compact JWS, without "Bearer ") and returns
// its caller. Its errors wrap ErrInvalidToken or ErrKeysUnavailable; they
// never contain the token.
func (v *Authorizer) Check(ctx context.Context, token string) (Caller, error) {
	if token == "" {
		return Caller{}, invalid("no token")
	}
	if len(token) > MaxTokenLength {
		return Caller{}, invalid("token longer than %d bytes", MaxTokenLength)
	}
	sig, err := jose.ParseSignedCompact(token, signatureAlgorithms)
	if err != nil {
		return Caller{}, invalid("malformed or disallowed algorithm: %s", clip(err.Error(), 200))
	}
	h := sig.Signatures[0].Header // compact serialization has exactly one
	key, err := v.keys.key(ctx, h.KeyID, h.Algorithm)
	if err != nil {
		return Caller{}, err
	}
	// key is one of the issuer's, and suits the header's alg.
	payload, err := sig.Verify(key.Key)
	if err != nil {
		return Caller{}, invalid("signature: %v", err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Caller{}, invalid("claims: %v", err)
	}
	now := v.now()
	switch {
	case c.Issuer != v.set.IssuerUrl:
		return Caller{}, invalid("wrong issuer")
	case !c.Audience.Contains(v.set.Audience):
		return Caller{}, invalid("wrong audience")
	case c.Subject == "":
		return Caller{}, invalid("no subject")
	case c.Expiry == nil:
		return Caller{}, invalid("no expiry")
	case now.Add(-Leeway).After(c.Expiry.Time()):
		return Caller{}, invalid("expired")
	case c.NotBefore != nil && now.Add(Leeway).Before(c.NotBefore.Time()):
		return Caller{}, invalid("not valid yet")
	case c.IssuedAt != nil && now.Add(Leeway).Before(c.IssuedAt.Time()):
		return Caller{}, invalid("issued in the future")
	}
	caller := Caller{Issuer: c.Issuer, Subject: c.Subject, Expiry: c.Expiry.Time()}
	if v.set.QuotaTierClaim != "" {
		var all map[string]any
		_ = json.Unmarshal(payload, &all) // parsed above: it is an object
		caller.Tier, _ = all[v.set.QuotaTierClaim].(string)
	}
	return caller, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}

// short bounds a value from an unverified header before it is logged.
func short(s string) string { return clip(s, 64) }

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
