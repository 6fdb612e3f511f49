package oidcdev

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// maxForm bounds an authorize or token request's form.
const maxForm = 64 << 10

// layer is the one handler in front of mockoidc. mockoidc keeps its
// sessions in an unlocked map, marks codes used on the session, and takes
// the user of a sign-in from a global queue, so every call into it, and the
// layer's own records, happen with mu held; nothing is written to a
// connection while it is.
type layer struct {
	m         *mockoidc.MockOIDC
	clientID  string
	audience  string
	scopes    []string
	origins   []string
	accessTTL time.Duration

	mu sync.Mutex
	// grants are the sign-ins, by mockoidc's session ID, which is the
	// authorization code.
	grants map[string]*grant
	// refresh maps each refresh token handed out to its session ID. Only
	// these are refreshed: mockoidc would take any token it signed.
	refresh map[string]string
}

// grant is what one sign-in asked for and who signed in.
type grant struct {
	user        string
	scopes      []string
	redirectURI string
	challenge   string
	redeemed    bool
}

func newLayer(m *mockoidc.MockOIDC, o Options) *layer {
	return &layer{
		m:         m,
		clientID:  o.ClientID,
		audience:  o.Audience,
		scopes:    o.Scopes,
		origins:   o.Origins,
		accessTTL: o.AccessTTL,
		grants:    map[string]*grant{},
		refresh:   map[string]string{},
	}
}

// ServeHTTP implements http.Handler.
func (l *layer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A page that rebinds its own DNS name to 127.0.0.1 still sends that
	// name: it gets no tokens.
	if !loopbackHost(r.Host) {
		writeError(w, http.StatusForbidden, "invalid_request", "the provider answers only requests addressed to localhost or a loopback address")
		return
	}
	switch r.URL.Path {
	case mockoidc.AuthorizationEndpoint:
		l.authorize(w, r)
	case mockoidc.TokenEndpoint:
		l.withCORS(w, r, http.MethodPost, l.token)
	case mockoidc.UserinfoEndpoint:
		l.withCORS(w, r, http.MethodGet, l.relay(l.m.Userinfo))
	case mockoidc.JWKSEndpoint:
		l.withCORS(w, r, http.MethodGet, l.relay(l.m.JWKS))
	case mockoidc.DiscoveryEndpoint:
		l.withCORS(w, r, http.MethodGet, l.discovery)
	default:
		http.NotFound(w, r)
	}
}

// withCORS lets the configured origins' pages call an endpoint, answers its
// preflight, and refuses methods other than method (GET includes HEAD).
func (l *layer) withCORS(w http.ResponseWriter, r *http.Request, method string, next http.HandlerFunc) {
	w.Header().Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(l.origins, origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
	allow := method + ", OPTIONS"
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", allow)
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != method && (method != http.MethodGet || r.Method != http.MethodHead) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "invalid_request", "method "+r.Method+" is not allowed here")
		return
	}
	next(w, r)
}

// relay serves one of mockoidc's endpoints as it is.
func (l *layer) relay(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l.callLocked(h, r).writeTo(w)
	}
}

// discovery is mockoidc's discovery document, corrected for the public
// client and the offered scopes.
func (l *layer) discovery(w http.ResponseWriter, r *http.Request) {
	out := l.callLocked(l.m.Discovery, r)
	var doc map[string]any
	if out.status != http.StatusOK || json.Unmarshal(out.body.Bytes(), &doc) != nil {
		out.writeTo(w)
		return
	}
	doc["token_endpoint_auth_methods_supported"] = []string{"none"}
	doc["code_challenge_methods_supported"] = []string{mockoidc.CodeChallengeMethodS256}
	doc["scopes_supported"] = l.scopes
	writeJSON(w, http.StatusOK, doc)
}

// authorize checks an authorization request, shows the login page unless
// it names the user in login_hint, and otherwise signs that user in:
// mockoidc makes the code, and the user is queued for exactly that code.
func (l *layer) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "invalid_request", "method "+r.Method+" is not allowed here")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "unreadable form: "+err.Error())
		return
	}
	q := r.Form
	// A bad client or redirect URI is reported here, never by redirecting
	// to a URI that has not been checked.
	if got := q.Get("client_id"); got != l.clientID {
		writeError(w, http.StatusBadRequest, "invalid_client", fmt.Sprintf("unknown client_id %q", got))
		return
	}
	redirectURI := q.Get("redirect_uri")
	if err := checkRedirectURI(redirectURI); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	state := q.Get("state")
	fail := func(code, description string) {
		redirectError(w, r, redirectURI, state, code, description)
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	challenge := q.Get("code_challenge")
	if q.Get("code_challenge_method") != mockoidc.CodeChallengeMethodS256 || !validChallenge(challenge) {
		fail("invalid_request", "the client is public: send a PKCE code_challenge (43 base64url characters) with code_challenge_method S256")
		return
	}
	scopes, err := l.requestedScopes(q.Get("scope"))
	if err != nil {
		fail("invalid_scope", err.Error())
		return
	}
	if state == "" {
		fail("invalid_request", "state is required")
		return
	}

	user := strings.TrimSpace(q.Get("login_hint"))
	if user == "" {
		msg := ""
		if r.Method == http.MethodPost {
			msg = "Type a user name."
		}
		showLogin(w, q, user, msg)
		return
	}
	if !userPattern.MatchString(user) {
		showLogin(w, q, user, userRule)
		return
	}

	fwd := url.Values{
		"client_id":             {l.clientID},
		"redirect_uri":          {redirectURI},
		"response_type":         {"code"},
		"scope":                 {mockoidcScope(scopes)},
		"state":                 {state},
		"nonce":                 {q.Get("nonce")},
		"code_challenge":        {challenge},
		"code_challenge_method": {mockoidc.CodeChallengeMethodS256},
	}
	loc, err := l.signIn(r, fwd, user, scopes)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	http.Redirect(w, r, loc, http.StatusFound)
}

// signIn has mockoidc make a code for the authorization request fwd with
// user queued for exactly that code, records the grant, and returns the
// redirect to the client.
func (l *layer) signIn(r *http.Request, fwd url.Values, user string, scopes []string) (string, error) {
	l.mu.Lock()
	defer func() {
		// Whatever mockoidc did, no later sign-in may take this user.
		l.m.UserQueue.Lock()
		l.m.UserQueue.Queue = nil
		l.m.UserQueue.Unlock()
		l.mu.Unlock()
	}()
	l.m.QueueUser(&mockoidc.MockUser{Subject: user, PreferredUsername: user, Email: emailOf(user)})
	out := call(l.m.Authorize, r, fwd)
	loc, err := url.Parse(out.header.Get("Location"))
	if out.status != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("sign-in failed: status %d: %s", out.status, out.body.String())
	}
	l.grants[loc.Query().Get("code")] = &grant{
		user:        user,
		scopes:      scopes,
		redirectURI: fwd.Get("redirect_uri"),
		challenge:   fwd.Get("code_challenge"),
	}
	return loc.String(), nil
}

// requestedScopes splits a scope parameter and checks every scope is
// offered.
func (l *layer) requestedScopes(scope string) ([]string, error) {
	var out []string
	for _, s := range strings.Fields(scope) {
		if !slices.Contains(l.scopes, s) {
			return nil, fmt.Errorf("scope %q is not offered; offered: %s", s, strings.Join(l.scopes, " "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scope is required; offered: %s", strings.Join(l.scopes, " "))
	}
	return out, nil
}

// mockoidcScope is the part of scopes mockoidc knows (it refuses others),
// or openid when there is none: it needs one.
func mockoidcScope(scopes []string) string {
	var known []string
	for _, s := range scopes {
		if slices.Contains(mockoidc.ScopesSupported, s) {
			known = append(known, s)
		}
	}
	if len(known) == 0 {
		return "openid"
	}
	return strings.Join(known, " ")
}

// tokenResponse is the token endpoint's answer (RFC 6749 section 5.1, with
// OIDC's id_token).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"` // seconds
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
}

// oauthError is an error answer of the token endpoint (RFC 6749 section 5.2).
type oauthError struct {
	status      int
	code        string
	description string
}

// token is the token endpoint for the public client: no secret, PKCE
// required for codes, refresh tokens accepted.
func (l *layer) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "unreadable form: "+err.Error())
		return
	}
	f := r.PostForm
	var (
		resp *tokenResponse
		e    *oauthError
	)
	_, _, basic := r.BasicAuth()
	switch {
	case basic || f.Has("client_secret"):
		e = &oauthError{http.StatusBadRequest, "invalid_request", "the client is public: it has no secret and proves itself with PKCE"}
	case f.Get("client_id") != l.clientID:
		e = &oauthError{http.StatusUnauthorized, "invalid_client", fmt.Sprintf("unknown client_id %q", f.Get("client_id"))}
	case f.Get("grant_type") == "authorization_code":
		resp, e = l.redeem(r, f)
	case f.Get("grant_type") == "refresh_token":
		resp, e = l.refreshGrant(r, f)
	default:
		e = &oauthError{http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"}
	}
	if e != nil {
		writeError(w, e.status, e.code, e.description)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// redeem exchanges a code, checking its PKCE verifier and redirect URI.
func (l *layer) redeem(r *http.Request, f url.Values) (*tokenResponse, *oauthError) {
	code, verifier := f.Get("code"), f.Get("code_verifier")
	if code == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "code is required"}
	}
	if verifier == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "code_verifier is required: the client is public and proves itself with PKCE"}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.grants[code]
	switch {
	case g == nil || g.redeemed:
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "unknown or already redeemed code"}
	case f.Get("redirect_uri") != g.redirectURI:
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's"}
	case !validVerifier(verifier) || subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(g.challenge)) != 1:
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge"}
	}
	g.redeemed = true
	out := call(l.m.Token, r, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"client_id":     {l.clientID},
		"client_secret": {l.m.ClientSecret},
		"code_verifier": {verifier},
	})
	return l.issue(out, code, g)
}

// refreshGrant issues a new access token for a refresh token this layer
// handed out, until the refresh token expires.
func (l *layer) refreshGrant(r *http.Request, f url.Values) (*tokenResponse, *oauthError) {
	rt := f.Get("refresh_token")
	if rt == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "refresh_token is required"}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sessionID, ok := l.refresh[rt]
	if !ok {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "unknown refresh token"}
	}
	out := call(l.m.Token, r, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {rt},
		"client_id":     {l.clientID},
		"client_secret": {l.m.ClientSecret},
	})
	return l.issue(out, sessionID, l.grants[sessionID])
}

// issue turns mockoidc's token answer into this provider's: an access token
// for the audience, expires_in in seconds, the granted scope. The caller
// holds mu.
func (l *layer) issue(out *captured, sessionID string, g *grant) (*tokenResponse, *oauthError) {
	var got struct {
		RefreshToken     string `json:"refresh_token"`
		IDToken          string `json:"id_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(out.body.Bytes(), &got); err != nil {
		return nil, &oauthError{http.StatusInternalServerError, "server_error", "unreadable token answer: " + err.Error()}
	}
	if out.status >= 500 {
		return nil, &oauthError{http.StatusInternalServerError, "server_error", got.ErrorDescription}
	}
	if out.status != http.StatusOK {
		// Its refusals (an expired refresh token) are 401s; RFC 6749 says 400.
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", got.ErrorDescription}
	}
	access, err := l.accessToken(sessionID, g)
	if err != nil {
		return nil, &oauthError{http.StatusInternalServerError, "server_error", "sign access token: " + err.Error()}
	}
	resp := &tokenResponse{
		AccessToken:  access,
		TokenType:    "Bearer",
		ExpiresIn:    int64(l.accessTTL / time.Second),
		RefreshToken: got.RefreshToken,
		Scope:        strings.Join(g.scopes, " "),
	}
	if slices.Contains(g.scopes, "openid") {
		resp.IDToken = got.IDToken
	}
	if got.RefreshToken != "" {
		l.refresh[got.RefreshToken] = sessionID
	}
	return resp, nil
}

// accessToken signs an access token for the audience with mockoidc's key
// pair, so the JWKS verifies it. It carries the session ID as jti, as
// mockoidc's tokens do, which its userinfo endpoint looks the session up
// by; client_id, token_use and username are what Cognito's access tokens
// carry.
func (l *layer) accessToken(sessionID string, g *grant) (string, error) {
	now := l.m.Now()
	return l.m.Keypair.SignJWT(jwt.MapClaims{
		"iss":       l.m.Issuer(),
		"sub":       g.user,
		"aud":       l.audience,
		"exp":       now.Add(l.accessTTL).Unix(),
		"nbf":       now.Unix(),
		"iat":       now.Unix(),
		"jti":       sessionID,
		"scope":     strings.Join(g.scopes, " "),
		"client_id": l.clientID,
		"token_use": "access",
		"username":  g.user,
	})
}

// checkRedirectURI accepts http URIs on this machine's loopback, any port.
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Opaque != "" || u.User != nil || strings.Contains(s, "#") {
		return fmt.Errorf("redirect_uri %q: want http://localhost:<port>/… or http://127.0.0.1:<port>/…", s)
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return nil
	}
	return fmt.Errorf("redirect_uri %q: only loopback redirect URIs are registered (http://localhost:<port>, http://127.0.0.1:<port>)", s)
}

// loopbackHost reports whether a Host header names localhost or a loopback
// address, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validChallenge reports whether s is an S256 code challenge: the
// base64url SHA-256 of a verifier.
func validChallenge(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// validVerifier reports whether s is a PKCE code verifier (RFC 7636
// section 4.1): 43 to 128 unreserved characters.
func validVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}

// redirectError sends the client back to its (checked) redirect URI with
// an authorization error (RFC 6749 section 4.1.2.1).
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, description string) {
	u, _ := url.Parse(redirectURI) // checked by checkRedirectURI
	q := u.Query()
	q.Set("error", code)
	q.Set("error_description", description)
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// call runs one of mockoidc's handlers and keeps what it wrote. With form
// set, the handler sees form as the request's parameters. The caller holds
// mu.
func call(h http.HandlerFunc, r *http.Request, form url.Values) *captured {
	if form != nil {
		r = r.Clone(r.Context())
		r.Body = http.NoBody
		r.Form, r.PostForm = form, url.Values{}
	}
	c := &captured{header: http.Header{}}
	h(c, r)
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c
}

// callLocked runs one of mockoidc's handlers on r as it is, holding mu.
func (l *layer) callLocked(h http.HandlerFunc, r *http.Request) *captured {
	l.mu.Lock()
	defer l.mu.Unlock()
	return call(h, r, nil)
}

// captured is an http.ResponseWriter that keeps the response.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captured) Header() http.Header { return c.header }

func (c *captured) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *captured) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(b)
}

func (c *captured) writeTo(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}
