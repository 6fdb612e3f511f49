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
// The deployed authorizer calls [Verifier.Authorize]; whatever stands in
// for API Gateway (local mode, tests, benchmarks) calls the same method.
package oidcauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/presigned-upload/presigned-upload/api"
)

// Environment variables from which the deployed authorizer reads its
// [Config].
const (
	IssuerEnv   = "OIDC_ISSUER"
	AudienceEnv = "OIDC_AUDIENCE"
	JWKSURLEnv  = "OIDC_JWKS_URL"
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
	// one of the issuer's keys, or its claims refuse it. Verify's errors
	// wrap it with the reason.
	ErrInvalidToken = errors.New("invalid token")
	// ErrKeysUnavailable means the issuer's keys were needed and could not
	// be fetched: nothing is known about the token.
	ErrKeysUnavailable = errors.New("issuer keys unavailable")
)

// Config says which tokens a Verifier accepts.
type Config struct {
	// Issuer is the issuer URL, compared with "iss" exactly (mind a
	// trailing slash: Auth0's has one). Its keys are discovered from
	// <Issuer>/.well-known/openid-configuration unless JWKSURL is set.
	Issuer string
	// Audience must be one of the token's "aud" values: the API's
	// identifier (Auth0, Okta, Entra ID access tokens) or the client ID
	// (ID tokens, such as Google's).
	Audience string
	// JWKSURL is where the issuer publishes its keys. Default: the
	// discovery document's jwks_uri.
	JWKSURL string
}

// Caller is who a verified token speaks for.
type Caller struct {
	Issuer  string
	Subject string
	Expiry  time.Time
}

// ID returns the caller's ID, the key segment that holds its files.
func (c Caller) ID() string { return api.CallerID(c.Issuer, c.Subject) }

// Verifier verifies tokens of one issuer and audience. It keeps the
// issuer's keys between calls, so hold one for the life of the process.
// It is safe for concurrent use.
type Verifier struct {
	cfg  Config
	keys *keySet
	now  func() time.Time
	log  *slog.Logger
}

// Option changes a Verifier.
type Option func(*Verifier)

// WithHTTPClient fetches the issuer's discovery document and keys with c.
// Default: a client with the default transport.
func WithHTTPClient(c *http.Client) Option { return func(v *Verifier) { v.keys.client = c } }

// WithClock makes the Verifier read the time from now. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// WithLogger sends the Verifier's log lines to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(v *Verifier) { v.log = l } }

// NewVerifier returns a Verifier for cfg. It makes no network call: the
// keys are fetched when the first token needs them. The issuer and the JWKS
// URL must be https, or http on a loopback host (local mode, tests).
func NewVerifier(cfg Config, opts ...Option) (*Verifier, error) {
	if err := checkURL("issuer", cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.Audience == "" {
		return nil, errors.New("audience is empty")
	}
	if cfg.JWKSURL != "" {
		if err := checkURL("JWKS URL", cfg.JWKSURL); err != nil {
			return nil, err
		}
	}
	v := &Verifier{cfg: cfg, now: time.Now, log: slog.Default(), keys: newKeySet(cfg.Issuer, cfg.JWKSURL)}
	for _, o := range opts {
		o(v)
	}
	v.keys.now, v.keys.log = v.now, v.log
	return v, nil
}

// checkURL refuses a URL keys could be fetched from in the clear.
func checkURL(what, s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute URL", what, s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if u.Hostname() == "localhost" {
			return nil
		}
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%s %q must be https (http only on loopback)", what, s)
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

// Verify checks token (the compact JWS, without "Bearer ") and returns
// its caller. Its errors wrap ErrInvalidToken or ErrKeysUnavailable; they
// never contain the token.
func (v *Verifier) Verify(ctx context.Context, token string) (Caller, error) {
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
	case c.Issuer != v.cfg.Issuer:
		return Caller{}, invalid("wrong issuer")
	case !c.Audience.Contains(v.cfg.Audience):
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
	return Caller{Issuer: c.Issuer, Subject: c.Subject, Expiry: c.Expiry.Time()}, nil
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
