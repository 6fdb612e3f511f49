package oidcauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/presigned-upload/presigned-upload/api"
)

// maxDocumentSize bounds the discovery document and the JWKS.
const maxDocumentSize = 1 << 20

// minRSABits refuses RSA keys too short to trust.
const minRSABits = 2048

// keySet is the issuer's signing keys, fetched when a token needs a key it
// does not hold and at most once per MinRefreshInterval.
type keySet struct {
	issuer string
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	// cur is the last fetched set, read without a lock on every token.
	cur atomic.Pointer[keys]

	mu          sync.Mutex // serialises fetches and guards what follows
	jwksURL     string     // configured, or discovered by the first fetch
	lastAttempt time.Time
	lastFailed  bool
}

// keys is one fetch of the JWKS: only the keys a token may be signed with.
type keys struct {
	list    []jose.JSONWebKey
	fetched time.Time
}

func newKeySet(issuer, jwksURL string) *keySet {
	return &keySet{issuer: issuer, jwksURL: jwksURL, client: &http.Client{CheckRedirect: checkRedirect}, now: time.Now, log: slog.Default()}
}

// maxRedirects bounds the redirects one fetch follows.
const maxRedirects = 5

// checkRedirect follows a redirect of the discovery document or the keys
// only to where keys may be fetched from ([api.SafeKeyURL]: https, or http
// on loopback), and never from https down to http: over plain http,
// whoever is on the path could answer with keys of their own and sign
// tokens the authorizer would accept.
func checkRedirect(req *http.Request, via []*http.Request) error {
	to := req.URL.Redacted()
	if len(via) >= maxRedirects {
		return fmt.Errorf("refused a redirect to %s: stopped after %d redirects", to, maxRedirects)
	}
	if !api.SafeKeyURL(req.URL.String()) {
		return fmt.Errorf("refused a redirect to %s: keys are fetched over https only (http only on loopback)", to)
	}
	for _, prev := range via {
		if prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refused a redirect to %s: from https, keys are fetched over https only", to)
		}
	}
	return nil
}

// find returns the key named kid that can check a signature made with
// alg. A token without a kid may use the only key of a one-key set.
func (k *keys) find(kid, alg string) (jose.JSONWebKey, bool) {
	if kid == "" {
		if len(k.list) == 1 && fits(k.list[0], alg) {
			return k.list[0], true
		}
		return jose.JSONWebKey{}, false
	}
	for _, key := range k.list {
		if key.KeyID == kid && fits(key, alg) {
			return key, true
		}
	}
	return jose.JSONWebKey{}, false
}

// fits reports whether key can check an alg signature: the key's own alg,
// when it names one, must match, and its type must suit the algorithm.
func fits(key jose.JSONWebKey, alg string) bool {
	if key.Algorithm != "" && key.Algorithm != alg {
		return false
	}
	switch key.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA)
	}
	return false
}

// key returns the key for a token's kid and alg, fetching the set when it
// is unknown or the held set is older than MaxKeyAge, if the last fetch
// allows another. Its errors wrap ErrInvalidToken (no such key) or
// ErrKeysUnavailable (no keys could be fetched).
func (s *keySet) key(ctx context.Context, kid, alg string) (jose.JSONWebKey, error) {
	now := s.now()
	if k := s.cur.Load(); k != nil && now.Sub(k.fetched) < MaxKeyAge {
		if key, ok := k.find(kid, alg); ok {
			return key, nil
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	held := s.cur.Load()
	var key jose.JSONWebKey
	found := false
	if held != nil {
		key, found = held.find(kid, alg)
		if found && now.Sub(held.fetched) < MaxKeyAge { // fetched while this call waited
			return key, nil
		}
	}
	if !s.mayFetch(now) {
		switch {
		case found: // old, but the issuer cannot be asked yet
			return key, nil
		case held == nil:
			return jose.JSONWebKey{}, fmt.Errorf("%w: the last fetch failed", ErrKeysUnavailable)
		}
		return jose.JSONWebKey{}, invalid("no key %q for %s, and the keys were fetched less than %v ago", short(kid), short(alg), MinRefreshInterval)
	}
	if err := s.fetch(ctx, now); err != nil {
		s.log.ErrorContext(ctx, "fetching the issuer's keys", "issuer", s.issuer, "error", err)
		if found { // the issuer is unreachable; keep verifying with what it last published
			return key, nil
		}
		return jose.JSONWebKey{}, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	if key, ok := s.cur.Load().find(kid, alg); ok {
		return key, nil
	}
	if kid == "" {
		return jose.JSONWebKey{}, invalid("the token names no key (kid) and the issuer publishes %d", len(s.cur.Load().list))
	}
	return jose.JSONWebKey{}, invalid("no key %q for %s in the issuer's keys", short(kid), short(alg))
}

// mayFetch reports whether enough time has passed since the last fetch.
// The caller holds s.mu.
func (s *keySet) mayFetch(now time.Time) bool {
	if s.lastAttempt.IsZero() {
		return true
	}
	wait := MinRefreshInterval
	if s.lastFailed {
		wait = RetryInterval
	}
	return now.Sub(s.lastAttempt) >= wait
}

// fetch replaces the held keys with the issuer's current ones, discovering
// the JWKS URL first if it is not known. The caller holds s.mu.
func (s *keySet) fetch(ctx context.Context, now time.Time) error {
	s.lastAttempt, s.lastFailed = now, true
	// Other calls wait for this fetch: one caller going away must not
	// cancel it for them.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FetchTimeout)
	defer cancel()
	if s.jwksURL == "" {
		u, err := s.discover(ctx)
		if err != nil {
			return err
		}
		s.jwksURL = u
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := s.getJSON(ctx, s.jwksURL, &set); err != nil {
		return err
	}
	k := &keys{fetched: now}
	for i, raw := range set.Keys {
		key, err := signingKey(raw)
		if err != nil {
			s.log.WarnContext(ctx, "skipping a key of the issuer's", "issuer", s.issuer, "index", i, "kid", short(key.KeyID), "reason", err)
			continue
		}
		k.list = append(k.list, key)
	}
	if len(k.list) == 0 {
		return fmt.Errorf("%s holds no usable signing key", s.jwksURL)
	}
	s.cur.Store(k)
	s.lastFailed = false
	s.log.InfoContext(ctx, "fetched the issuer's keys", "issuer", s.issuer, "keys", len(k.list))
	return nil
}

// discover reads the JWKS URL from the issuer's discovery document, which
// must name the same issuer (OpenID Connect Discovery 1.0, section 4.3).
func (s *keySet) discover(ctx context.Context) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	u := strings.TrimSuffix(s.issuer, "/") + "/.well-known/openid-configuration"
	if err := s.getJSON(ctx, u, &doc); err != nil {
		return "", err
	}
	if doc.Issuer != s.issuer {
		return "", fmt.Errorf("%s names issuer %q, want %q", u, doc.Issuer, s.issuer)
	}
	if !api.SafeKeyURL(doc.JWKSURI) {
		return "", fmt.Errorf("%s: jwks_uri %q must be https (http only on loopback)", u, doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}

func (s *keySet) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(b) > maxDocumentSize {
		return fmt.Errorf("GET %s: larger than %d bytes", u, maxDocumentSize)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// signingKey parses one JWK of the set and keeps it only if it is a public
// signature key of a type a token may use. Keys of other types or uses
// (encryption keys, symmetric keys) are skipped, as RFC 7517 section 5
// advises, rather than failing the set.
func signingKey(raw json.RawMessage) (jose.JSONWebKey, error) {
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON(raw); err != nil {
		return key, err
	}
	if key.Use != "" && key.Use != "sig" {
		return key, fmt.Errorf("use %q", key.Use)
	}
	switch pub := key.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return key, fmt.Errorf("RSA key of %d bits", pub.N.BitLen())
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return key, errors.New("not a public signature key")
	}
	return key, nil
}
