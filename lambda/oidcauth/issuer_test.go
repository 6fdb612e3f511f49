package oidcauth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
)

const audience = "https://api.example.com"

// signingKey is a private key the test issuer may publish.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// keys are generated once per test run; RSA generation is slow.
var keys = sync.OnceValue(func() struct{ rsa, rsa2, rogue, ec signingKey } {
	gen := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return struct{ rsa, rsa2, rogue, ec signingKey }{
		rsa:   signingKey{"rsa-1", jose.RS256, gen(2048)},
		rsa2:  signingKey{"rsa-2", jose.RS256, gen(2048)},
		rogue: signingKey{"rogue", jose.RS256, gen(2048)},
		ec:    signingKey{"ec-1", jose.ES256, ec},
	}
})

// sign returns claims as a compact JWS signed with k, its kid in the
// header unless k.kid is empty.
func (k signingKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	var key any = k.priv
	if k.kid != "" {
		key = jose.JSONWebKey{Key: k.priv, KeyID: k.kid}
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// forge returns a token with the given header whose signature is made
// outside any JOSE library: none for alg "none", else HMAC-SHA256 keyed
// with secret.
func forge(t testing.TB, header, claims map[string]any, secret []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	if header["alg"] == "none" {
		return input + "."
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// publicPEM is k's public key as the PEM an attacker would download.
func publicPEM(t testing.TB, k signingKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// issuer is an OpenID provider on loopback: a discovery document and a
// JWKS of the keys it publishes, counting the requests for each.
type issuer struct {
	URL       string
	mu        sync.Mutex
	published []signingKey
	fail      atomic.Bool // answer 500
	discovery atomic.Int32
	jwks      atomic.Int32
}

func newIssuer(t testing.TB, published ...signingKey) *issuer {
	t.Helper()
	is := &issuer{published: published}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		is.discovery.Add(1)
		if is.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]string{"issuer": is.URL, "jwks_uri": is.URL + "/keys"})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		is.jwks.Add(1)
		if is.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		is.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range is.published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
		}
		is.mu.Unlock()
		writeJSON(w, set)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	is.URL = srv.URL
	return is
}

// publish replaces the issuer's JWKS.
func (is *issuer) publish(ks ...signingKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.published = ks
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_900_000_000, 0)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects log lines from concurrent calls.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fixture is a verifier of is's tokens on a fake clock.
type fixture struct {
	is  *issuer
	clk *clock
	v   *oidcauth.Authorizer
	log *logBuffer
}

func newFixture(t testing.TB, cfg api.AuthorizerSettings, published ...signingKey) *fixture {
	t.Helper()
	f := &fixture{is: newIssuer(t, published...), clk: newClock(), log: &logBuffer{}}
	if cfg.IssuerUrl == "" {
		cfg.IssuerUrl = f.is.URL
	}
	if cfg.Audience == "" {
		cfg.Audience = audience
	}
	v, err := oidcauth.New(cfg, oidcauth.WithClock(f.clk.now),
		oidcauth.WithLogger(slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	f.v = v
	return f
}

// claims are a valid token's claims at the fixture's time, changed by
// edit.
func (f *fixture) claims(edit func(c map[string]any, now int64)) map[string]any {
	now := f.clk.now().Unix()
	c := map[string]any{"iss": f.is.URL, "aud": audience, "sub": "auth0|alice", "iat": now, "nbf": now, "exp": now + 600}
	if edit != nil {
		edit(c, now)
	}
	return c
}

const methodArn = "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/POST/get-upload-url"

// authorize calls the authorizer as API Gateway would for header.
func (f *fixture) authorize(header string) (events.APIGatewayCustomAuthorizerResponse, error) {
	return f.v.Authorize(context.Background(), events.APIGatewayCustomAuthorizerRequest{
		Type: "TOKEN", AuthorizationToken: header, MethodArn: methodArn})
}
