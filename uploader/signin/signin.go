// Package signin signs the user of a command-line client in with OpenID
// Connect, as a native app does (RFC 8252): the authorization code flow
// with PKCE (S256) for a public client, the issuer's sign-in page in the
// browser, and the code received on a loopback redirect URI. It caches the
// tokens and refreshes the access token before it expires; a [Session] is
// an uploader.TokenSource. Cognito's hosted UI is one such issuer.
package signin

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultPort is the port of the redirect URI the command registers:
// http://localhost:8765/callback.
const DefaultPort = 8765

// CallbackPath is the path of the redirect URI.
const CallbackPath = "/callback"

// Config names the issuer and the public client to sign in with.
type Config struct {
	// Issuer is the issuer URL, as its tokens carry it in iss; its
	// discovery document is at Issuer + "/.well-known/openid-configuration".
	// https, or http to a loopback address.
	Issuer string
	// ClientID is the public client's ID: it has no secret.
	ClientID string
	// Scopes are asked for at sign-in. Default: openid.
	Scopes []string
	// Port is the port of the redirect URI http://localhost:<port>/callback,
	// which the issuer must accept: Cognito compares callback URLs exactly,
	// port included, so register that URL with the app client. 0 takes a
	// free port, for issuers that accept any loopback port (RFC 8252
	// section 7.3).
	Port int
	// CacheDir keeps the tokens between runs, in a file only the user can
	// read, one per issuer and client. "" keeps them in memory only.
	CacheDir string
	// HTTP sends the requests to the issuer. Default: a client that gives
	// up on a request after 30 seconds. Whichever client, sign-in never
	// sends a token request on to where a redirect points, and follows a
	// redirect of any other request only to https (or http on loopback).
	HTTP *http.Client
}

// ErrNoSession is returned by Resume when no cached sign-in can be used.
var ErrNoSession = errors.New("no cached sign-in")

// refreshMargin is how long before its expiry the access token is
// refreshed, at most: with shorter lifetimes, at half the lifetime.
const refreshMargin = time.Minute

func (c Config) withDefaults() (Config, error) {
	c.Issuer = strings.TrimRight(strings.TrimSpace(c.Issuer), "/")
	if err := checkURL("issuer", c.Issuer); err != nil {
		return c, err
	}
	if c.ClientID == "" {
		return c, errors.New("no client ID")
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid"}
	}
	if c.Port < 0 || c.Port > 65535 {
		return c, fmt.Errorf("port %d is not a TCP port", c.Port)
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	// A copy: the caller's client keeps its own rule for its own requests.
	h := *c.HTTP
	h.CheckRedirect = guardRedirects(c.HTTP.CheckRedirect)
	c.HTTP = &h
	return c, nil
}

// maxRedirects is Go's own limit, which a CheckRedirect of one's own must
// keep.
const maxRedirects = 10

// guardRedirects refuses the redirects sign-in must never follow, then
// leaves the rest to next (the caller's rule, or Go's default). A grant
// posted to the token endpoint goes there only: on 307 or 308 Go would
// post it again, code, PKCE verifier or refresh token included, to
// wherever the redirect points. Any other request follows a redirect only
// where checkURL lets a request go, and never from https down to http.
func guardRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		to := req.URL.Redacted()
		if via[0].Method == http.MethodPost {
			return fmt.Errorf("refused a redirect to %s: a grant is posted to the token endpoint only", to)
		}
		if err := checkURL("redirect", req.URL.String()); err != nil {
			return fmt.Errorf("refused a redirect to %s: %w", to, err)
		}
		for _, prev := range via {
			if prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("refused a redirect to %s: from https, requests stay on https", to)
			}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// checkURL accepts https URLs, and http ones to loopback, where tokens do
// not cross a network.
func checkURL(what, s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute URL", what, s)
	}
	if u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%s %q: want https (or http to localhost or a loopback address): tokens must not travel in clear text", what, s)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// endpoints are what sign-in needs from the discovery document.
type endpoints struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
}

func (c Config) discover(ctx context.Context) (*endpoints, error) {
	doc := c.Issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	var ep endpoints
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("discovery: %s answered %s", doc, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ep); err != nil {
		return nil, fmt.Errorf("discovery: %s: %w", doc, err)
	}
	if strings.TrimRight(ep.Issuer, "/") != c.Issuer {
		return nil, fmt.Errorf("discovery: %s names the issuer %q, not %q", doc, ep.Issuer, c.Issuer)
	}
	if err := checkURL("authorization endpoint", ep.Authorization); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if err := checkURL("token endpoint", ep.Token); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return &ep, nil
}

// Login signs the user in through the browser. It listens on the redirect
// URI, calls open with the issuer's sign-in URL (open should print it and
// may start a browser), waits for the issuer to send the browser back with
// a code, and exchanges the code with its PKCE verifier. It gives up when
// ctx ends.
func Login(ctx context.Context, c Config, open func(signInURL string)) (*Session, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	ep, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen for the redirect on port %d: %w", c.Port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	listeners := []net.Listener{ln}
	// localhost may resolve to ::1 first; browsers then try it first.
	if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		listeners = append(listeners, ln6)
	}
	redirectURI := "http://localhost:" + strconv.Itoa(port) + CallbackPath

	verifier, state := randomString(32), randomString(16)
	results := make(chan url.Values, 1)
	srv := &http.Server{Handler: callbackHandler(state, results), ReadHeaderTimeout: 10 * time.Second}
	for _, l := range listeners {
		go func() { _ = srv.Serve(l) }() // ErrServerClosed at shutdown
	}
	defer func() {
		// Let the browser have the page that says it is done.
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()

	authURL, err := url.Parse(ep.Authorization)
	if err != nil {
		return nil, err
	}
	q := authURL.Query()
	for k, v := range map[string]string{
		"response_type":         "code",
		"client_id":             c.ClientID,
		"redirect_uri":          redirectURI,
		"scope":                 strings.Join(c.Scopes, " "),
		"state":                 state,
		"code_challenge":        s256(verifier),
		"code_challenge_method": "S256",
	} {
		q.Set(k, v)
	}
	authURL.RawQuery = q.Encode()
	open(authURL.String())

	var got url.Values
	select {
	case got = <-results:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the browser to come back to %s: %w", redirectURI, ctx.Err())
	}
	if e := got.Get("error"); e != "" {
		return nil, fmt.Errorf("the issuer refused the sign-in: %s", describe(e, got.Get("error_description")))
	}
	s := &Session{cfg: c}
	err = s.exchange(ctx, ep.Token, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {got.Get("code")},
		"redirect_uri":  {redirectURI},
		"client_id":     {c.ClientID},
		"code_verifier": {verifier},
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// callbackHandler receives the redirect back from the issuer: the first
// one carrying this sign-in's state goes to results.
func callbackHandler(state string, results chan<- url.Values) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != CallbackPath || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("state") != state || q.Get("code") == "" && q.Get("error") == "" {
			page(w, http.StatusBadRequest, "This is not the sign-in the command started. Run it again.")
			return
		}
		if e := q.Get("error"); e != "" {
			page(w, http.StatusOK, "Sign-in failed: "+describe(e, q.Get("error_description"))+". Return to the terminal.")
		} else {
			page(w, http.StatusOK, "Signed in. You can close this tab and return to the terminal.")
		}
		once.Do(func() { results <- q })
	})
}

// page writes a small page with no script and nothing to load.
func page(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><meta charset=\"utf-8\"><title>Upload sign-in</title><p>%s</p></html>\n", htmlEscape(msg))
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func describe(code, description string) string {
	if description != "" {
		return code + ": " + description
	}
	return code
}

// Resume returns the cached sign-in for c's issuer and client, with its
// access token refreshed at once, so that a sign-in the issuer has ended
// (revoked, expired, or made by an issuer that has since changed its keys)
// is found out here; ErrNoSession when there is none or it can no longer
// be used.
func Resume(ctx context.Context, c Config) (*Session, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if c.CacheDir == "" {
		return nil, ErrNoSession
	}
	s := &Session{cfg: c}
	b, err := os.ReadFile(s.cachePath())
	if err != nil {
		return nil, ErrNoSession
	}
	if json.Unmarshal(b, &s.tok) != nil || s.tok.Issuer != c.Issuer || s.tok.ClientID != c.ClientID || s.tok.AccessToken == "" {
		return nil, ErrNoSession
	}
	if s.tok.RefreshToken == "" {
		if time.Now().After(s.tok.Expiry) {
			return nil, fmt.Errorf("%w: the access token has expired and there is no refresh token", ErrNoSession)
		}
		return s, nil
	}
	if err := s.refresh(ctx); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSession, err)
	}
	return s, nil
}

// Forget removes the cached sign-in for c's issuer and client.
func Forget(c Config) error {
	c, err := c.withDefaults()
	if err != nil {
		return err
	}
	s := &Session{cfg: c}
	if err := os.Remove(s.cachePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Session is a signed-in user's tokens.
type Session struct {
	cfg Config
	mu  sync.Mutex
	tok tokens
}

// tokens are what a session keeps, and its cache file holds.
type tokens struct {
	Issuer        string    `json:"issuer"`
	ClientID      string    `json:"clientId"`
	TokenEndpoint string    `json:"tokenEndpoint"`
	AccessToken   string    `json:"accessToken"`
	RefreshToken  string    `json:"refreshToken,omitempty"`
	IDToken       string    `json:"idToken,omitempty"`
	Expiry        time.Time `json:"expiry"`
	// Lifetime is the access token's, when it was issued.
	Lifetime time.Duration `json:"lifetime"`
}

// Token returns an access token that is valid for a while yet, refreshing
// it first when it expires within a minute (or half its lifetime). It
// implements uploader.TokenSource.
func (s *Session) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	margin := min(refreshMargin, s.tok.Lifetime/2)
	if time.Until(s.tok.Expiry) > margin {
		return s.tok.AccessToken, nil
	}
	if s.tok.RefreshToken == "" {
		if time.Now().Before(s.tok.Expiry) {
			return s.tok.AccessToken, nil
		}
		return "", errors.New("the access token has expired and there is no refresh token: sign in again")
	}
	if err := s.refresh(ctx); err != nil {
		if time.Now().Before(s.tok.Expiry) {
			return s.tok.AccessToken, nil // still valid; the next call tries again
		}
		return "", fmt.Errorf("refresh the access token: %w", err)
	}
	return s.tok.AccessToken, nil
}

// refresh trades the refresh token for a new access token. The caller holds
// mu, or owns s alone.
func (s *Session) refresh(ctx context.Context) error {
	return s.exchange(ctx, s.tok.TokenEndpoint, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {s.tok.RefreshToken},
		"client_id":     {s.cfg.ClientID},
	})
}

// User names the signed-in user, from the ID token if there is one, else
// from the access token; for display only, as nothing here verifies them.
func (s *Session) User() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, access := claims(s.tok.IDToken), claims(s.tok.AccessToken)
	for _, v := range []any{id["preferred_username"], id["email"], access["username"], id["sub"], access["sub"]} {
		if name, ok := v.(string); ok && name != "" {
			return name
		}
	}
	return ""
}

// exchange posts a grant to the token endpoint and keeps what it returns.
// The caller holds mu, or owns s alone.
func (s *Session) exchange(ctx context.Context, endpoint string, form url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("token endpoint: %w", err)
	}
	defer resp.Body.Close()
	var got struct {
		AccessToken      string `json:"access_token"`
		RefreshToken     string `json:"refresh_token"`
		IDToken          string `json:"id_token"`
		ExpiresIn        int64  `json:"expires_in"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&got); err != nil {
		return fmt.Errorf("token endpoint: %s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK || got.AccessToken == "" {
		if got.Error == "" {
			got.Error = resp.Status
		}
		return fmt.Errorf("token endpoint refused: %s", describe(got.Error, got.ErrorDescription))
	}
	now := time.Now()
	lifetime := time.Duration(got.ExpiresIn) * time.Second
	if lifetime <= 0 {
		if exp, ok := claims(got.AccessToken)["exp"].(float64); ok {
			lifetime = time.Unix(int64(exp), 0).Sub(now)
		}
	}
	t := tokens{
		Issuer:        s.cfg.Issuer,
		ClientID:      s.cfg.ClientID,
		TokenEndpoint: endpoint,
		AccessToken:   got.AccessToken,
		// A refresh may return neither (Cognito does not): the old ones
		// stay valid.
		RefreshToken: cmp.Or(got.RefreshToken, s.tok.RefreshToken),
		IDToken:      cmp.Or(got.IDToken, s.tok.IDToken),
		Expiry:       now.Add(lifetime),
		Lifetime:     lifetime,
	}
	s.tok = t
	if err := s.save(); err != nil {
		return fmt.Errorf("cache the sign-in: %w", err)
	}
	return nil
}

// cachePath is the session's cache file: one per issuer and client.
func (s *Session) cachePath() string {
	if s.cfg.CacheDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s.cfg.Issuer + "\n" + s.cfg.ClientID))
	return filepath.Join(s.cfg.CacheDir, "signin-"+hex.EncodeToString(sum[:12])+".json")
}

// save writes the cache file, readable by the user only, replacing the old
// one in one step.
func (s *Session) save() error {
	p := s.cachePath()
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(s.tok)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".signin-*") // mode 0600
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), p)
}

// claims decodes a JWT's payload, unverified: for display and for an
// expiry the token endpoint did not state.
func claims(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString is n random bytes, base64url-encoded: with n = 32, a PKCE
// verifier of 43 characters.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
