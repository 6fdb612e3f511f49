// Package oidcdev runs a real OpenID Connect provider on loopback for local
// mode: discovery, JWKS, a login page where a person types a user name (no
// password), and the authorization-code + PKCE flow for one public client.
// An authorize request with login_hint=<name> skips the page, so scripts and
// tests sign in with the standard flow and no special endpoint.
//
// It wraps github.com/oauth2-proxy/mockoidc behind one serialising handler
// that adds what the published package lacks: a signing key made for each
// run, the login page and login_hint, the public client (PKCE instead of a
// secret), loopback redirect URIs, CORS for the page, expires_in in seconds,
// and access tokens for an API audience with iss, aud, sub, exp, nbf, iat
// and scope.
package oidcdev

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// Defaults for Options.
const (
	DefaultClientID   = "presigned-upload-local"
	DefaultAudience   = "presigned-upload-api"
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 24 * time.Hour
)

// DefaultScopes are the scopes the client may request when Options.Scopes
// is empty.
var DefaultScopes = []string{"openid", "email", "profile"}

// Options configure a provider.
type Options struct {
	// ClientID is the one client's ID. The client is public: it has no
	// secret and proves itself with PKCE (S256).
	// Default: DefaultClientID.
	ClientID string
	// Audience is the aud of the access tokens. It must differ from
	// ClientID: ID tokens and refresh tokens carry the client ID as their
	// aud, so an API that checks aud then accepts access tokens only.
	// Default: DefaultAudience.
	Audience string
	// Scopes are the scopes the client may request; an access token's scope
	// claim lists those its sign-in asked for.
	// Default: DefaultScopes.
	Scopes []string
	// Origins are the web origins (scheme://host[:port]) whose pages may
	// call discovery, JWKS, the token and the userinfo endpoints from
	// JavaScript.
	// Default: none.
	Origins []string
	// AccessTTL is the lifetime of access and ID tokens, in whole seconds.
	// Default: DefaultAccessTTL.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a sign-in's refresh token, counted from
	// the sign-in; refreshing does not extend it.
	// Default: DefaultRefreshTTL.
	RefreshTTL time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.Audience == o.ClientID {
		return o, fmt.Errorf("audience %q is the client ID: an API checking aud would accept ID and refresh tokens", o.Audience)
	}
	if len(o.Scopes) == 0 {
		o.Scopes = DefaultScopes
	}
	o.Scopes = slices.Clone(o.Scopes)
	for i, s := range o.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") || slices.Contains(o.Scopes[:i], s) {
			return o, fmt.Errorf("scope %q: want distinct scope tokens without spaces, quotes or backslashes", s)
		}
	}
	o.Origins = slices.Clone(o.Origins)
	for _, origin := range o.Origins {
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || origin != u.Scheme+"://"+u.Host {
			return o, fmt.Errorf("origin %q: want scheme://host[:port]", origin)
		}
	}
	if o.AccessTTL == 0 {
		o.AccessTTL = DefaultAccessTTL
	}
	if o.RefreshTTL == 0 {
		o.RefreshTTL = DefaultRefreshTTL
	}
	if o.AccessTTL < time.Second || o.AccessTTL%time.Second != 0 {
		return o, fmt.Errorf("access TTL %v: want whole seconds, at least one", o.AccessTTL)
	}
	if o.RefreshTTL < o.AccessTTL {
		return o, fmt.Errorf("refresh TTL %v is shorter than the access TTL %v", o.RefreshTTL, o.AccessTTL)
	}
	return o, nil
}

// Provider is a running OIDC provider.
type Provider struct {
	// Issuer is the issuer URL, such as http://127.0.0.1:9100/oidc: the
	// tokens' iss, and the base of the discovery document at
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID is the public client's ID.
	ClientID string
	// Audience is the aud of the access tokens.
	Audience string
	// Scopes are the scopes the client may request, and those Token asks for.
	Scopes []string

	srv          *http.Server
	authorizeURL string
	tokenURL     string
}

// Start serves a provider on addr, which must be a loopback address (such
// as 127.0.0.1:0), with a signing key made for this run. It returns once the
// provider accepts connections.
func Start(addr string, opts Options) (*Provider, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oidc provider address: %w", err)
	}
	// Anyone who reaches the provider can sign in as anyone: it listens on
	// this machine only.
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("oidc provider address %q: want a loopback address, such as 127.0.0.1:0", addr)
	}

	// mockoidc's default key is published with its source; this one is not.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("oidc signing key: %w", err)
	}
	m, err := mockoidc.NewServer(key)
	if err != nil {
		ln.Close()
		return nil, err
	}
	m.ClientID = o.ClientID
	m.AccessTTL, m.RefreshTTL = o.AccessTTL, o.RefreshTTL
	m.CodeChallengeMethodsSupported = []string{mockoidc.CodeChallengeMethodS256}
	// KeyID caches the kid on first use; computing it now keeps that write
	// out of concurrent requests.
	if _, err := m.Keypair.KeyID(); err != nil {
		ln.Close()
		return nil, err
	}

	l := newLayer(m, o)
	srv := &http.Server{Addr: ln.Addr().String(), Handler: l, ReadHeaderTimeout: 10 * time.Second}
	// mockoidc derives its issuer and endpoint URLs from its server's
	// address; this is the server that answers them.
	m.Server = srv
	go func() { _ = srv.Serve(ln) }() // ErrServerClosed once Close is called.

	return &Provider{
		Issuer:       m.Issuer(),
		ClientID:     o.ClientID,
		Audience:     o.Audience,
		Scopes:       slices.Clone(o.Scopes),
		srv:          srv,
		authorizeURL: m.AuthorizationEndpoint(),
		tokenURL:     m.TokenEndpoint(),
	}, nil
}

// Close stops the provider. Tokens it issued stay valid until they expire,
// but nothing verifies them once its JWKS is gone.
func (p *Provider) Close() error {
	return p.srv.Close()
}

// loopbackCallback is the redirect URI Token uses. Nothing listens there:
// Token reads the code from the redirect instead of following it.
const loopbackCallback = "http://localhost/callback"

// Token signs user in through the authorization-code + PKCE flow, over
// HTTP with login_hint as a script would, and returns the access token.
func (p *Provider) Token(ctx context.Context, user string) (string, error) {
	verifier := randomString(32)
	state := randomString(16)
	q := url.Values{
		"client_id":             {p.ClientID},
		"redirect_uri":          {loopbackCallback},
		"response_type":         {"code"},
		"scope":                 {strings.Join(p.Scopes, " ")},
		"state":                 {state},
		"code_challenge":        {s256(verifier)},
		"code_challenge_method": {mockoidc.CodeChallengeMethodS256},
		"login_hint":            {user},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.authorizeURL+"?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("authorize %s: %w", user, err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("authorize %s: status %d, no redirect", user, resp.StatusCode)
	}
	got := loc.Query()
	if e := got.Get("error"); e != "" {
		return "", fmt.Errorf("authorize %s: %s: %s", user, e, got.Get("error_description"))
	}
	if got.Get("state") != state || got.Get("code") == "" {
		return "", fmt.Errorf("authorize %s: redirect without the code or the state: %s", user, loc)
	}

	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {got.Get("code")},
		"redirect_uri":  {loopbackCallback},
		"client_id":     {p.ClientID},
		"code_verifier": {verifier},
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, p.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		return "", fmt.Errorf("token for %s: %w", user, err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken      string `json:"access_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", fmt.Errorf("token for %s: status %d: %w", user, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", fmt.Errorf("token for %s: status %d: %s: %s", user, resp.StatusCode, body.Error, body.ErrorDescription)
	}
	return body.AccessToken, nil
}

// s256 is the PKCE S256 code challenge of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString is n random bytes, base64url-encoded: with n = 32, a PKCE
// verifier of 43 characters.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return base64.RawURLEncoding.EncodeToString(b)
}
