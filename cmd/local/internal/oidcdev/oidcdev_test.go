package oidcdev_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/net/html"

	"github.com/presigned-upload/presigned-upload/cmd/local/internal/oidcdev"
)

const (
	pageOrigin = "http://127.0.0.1:8080"
	callback   = "http://localhost:53682/callback"
)

func start(t *testing.T, opts oidcdev.Options) *oidcdev.Provider {
	t.Helper()
	p, err := oidcdev.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// noRedirect is a client that returns redirects instead of following them,
// as a browser's address bar would show them to the client's callback.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       time.Minute,
}

type discovery struct {
	Issuer                 string   `json:"issuer"`
	AuthorizationEndpoint  string   `json:"authorization_endpoint"`
	TokenEndpoint          string   `json:"token_endpoint"`
	UserinfoEndpoint       string   `json:"userinfo_endpoint"`
	JWKSURI                string   `json:"jwks_uri"`
	ScopesSupported        []string `json:"scopes_supported"`
	TokenEndpointAuth      []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethods   []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported    []string `json:"grant_types_supported"`
	ResponseTypesSupported []string `json:"response_types_supported"`
}

func discover(t *testing.T, p *oidcdev.Provider) discovery {
	t.Helper()
	var d discovery
	getJSON(t, p.Issuer+"/.well-known/openid-configuration", &d)
	return d
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func jwks(t *testing.T, d discovery) jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	getJSON(t, d.JWKSURI, &set)
	return set
}

// pkce is a code verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authorizeQuery is a valid authorization request for p.
func authorizeQuery(p *oidcdev.Provider, pk pkce, user string) url.Values {
	q := url.Values{
		"client_id":             {p.ClientID},
		"redirect_uri":          {callback},
		"response_type":         {"code"},
		"scope":                 {strings.Join(p.Scopes, " ")},
		"state":                 {"st-" + user},
		"nonce":                 {"n-" + user},
		"code_challenge":        {pk.challenge},
		"code_challenge_method": {"S256"},
	}
	if user != "" {
		q.Set("login_hint", user)
	}
	return q
}

// redirected checks resp is a redirect to the callback carrying state, and
// returns its query.
func redirected(t *testing.T, resp *http.Response, state string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, want 302: %s", resp.StatusCode, b)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), callback+"?") {
		t.Fatalf("redirect to %s, want %s?…", loc, callback)
	}
	q := loc.Query()
	if q.Get("state") != state {
		t.Fatalf("state %q, want %q", q.Get("state"), state)
	}
	return q
}

// authorize signs user in with login_hint and returns the code.
func authorize(t *testing.T, d discovery, p *oidcdev.Provider, pk pkce, user string) string {
	t.Helper()
	resp, err := noRedirect.Get(d.AuthorizationEndpoint + "?" + authorizeQuery(p, pk, user).Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	q := redirected(t, resp, "st-"+user)
	if q.Get("code") == "" {
		t.Fatalf("redirect without a code: %v", q)
	}
	return q.Get("code")
}

type tokenAnswer struct {
	status int
	header http.Header

	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	IDToken          string `json:"id_token"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func postToken(t *testing.T, d discovery, form url.Values, origin string) tokenAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, d.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := tokenAnswer{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("token answer (status %d): %v", resp.StatusCode, err)
	}
	return a
}

func codeForm(p *oidcdev.Provider, code string, pk pkce) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {callback},
		"client_id":     {p.ClientID},
		"code_verifier": {pk.verifier},
	}
}

// signIn runs the whole flow for user and returns the token answer.
func signIn(t *testing.T, d discovery, p *oidcdev.Provider, user string) tokenAnswer {
	t.Helper()
	pk := newPKCE()
	a := postToken(t, d, codeForm(p, authorize(t, d, p, pk, user), pk), "")
	if a.status != http.StatusOK {
		t.Fatalf("token: status %d, want 200: %s: %s", a.status, a.Error, a.ErrorDescription)
	}
	return a
}

type accessClaims struct {
	jwt.Claims
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
	TokenUse string `json:"token_use"`
}

// verify checks token's RS256 signature against the provider's JWKS, its
// issuer, audience and times, and returns its claims.
func verify(t *testing.T, d discovery, token, audience string) accessClaims {
	t.Helper()
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	set := jwks(t, d)
	var c accessClaims
	if err := tok.Claims(&set, &c); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: d.Issuer, AnyAudience: jwt.Audience{audience}}, 0); err != nil {
		t.Fatalf("claims: %v", err)
	}
	return c
}

func TestDiscoveryAndJWKSUseAKeyPerRun(t *testing.T) {
	p1 := start(t, oidcdev.Options{})
	p2 := start(t, oidcdev.Options{})
	published, err := mockoidc.DefaultKeypair()
	if err != nil {
		t.Fatal(err)
	}
	publishedKid, err := published.KeyID()
	if err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	for i, p := range []*oidcdev.Provider{p1, p2} {
		d := discover(t, p)
		t.Run(fmt.Sprintf("provider %d discovery", i+1), func(t *testing.T) {
			if d.Issuer != p.Issuer {
				t.Errorf("issuer %q, want %q", d.Issuer, p.Issuer)
			}
			for _, u := range []string{d.AuthorizationEndpoint, d.TokenEndpoint, d.JWKSURI, d.UserinfoEndpoint} {
				if !strings.HasPrefix(u, p.Issuer+"/") {
					t.Errorf("endpoint %s is not under the issuer %s", u, p.Issuer)
				}
			}
			if got := strings.Join(d.TokenEndpointAuth, ","); got != "none" {
				t.Errorf("token_endpoint_auth_methods_supported %q, want none (a public client)", got)
			}
			if got := strings.Join(d.CodeChallengeMethods, ","); got != "S256" {
				t.Errorf("code_challenge_methods_supported %q, want S256", got)
			}
			if got, want := strings.Join(d.ScopesSupported, " "), strings.Join(p.Scopes, " "); got != want {
				t.Errorf("scopes_supported %q, want %q", got, want)
			}
		})
		t.Run(fmt.Sprintf("provider %d JWKS", i+1), func(t *testing.T) {
			set := jwks(t, d)
			if len(set.Keys) != 1 {
				t.Fatalf("%d keys, want 1", len(set.Keys))
			}
			k := set.Keys[0]
			pub, ok := k.Key.(*rsa.PublicKey)
			if !ok || k.Algorithm != "RS256" || k.Use != "sig" || k.KeyID == "" {
				t.Fatalf("key %T alg %q use %q kid %q, want an RS256 signing key with a kid", k.Key, k.Algorithm, k.Use, k.KeyID)
			}
			if k.KeyID == publishedKid || pub.N.Cmp(published.PublicKey.N) == 0 {
				t.Fatalf("the JWKS serves mockoidc's published default key (kid %s)", k.KeyID)
			}
			if seen[k.KeyID] || seen[pub.N.String()] {
				t.Fatalf("two providers serve the same key (kid %s)", k.KeyID)
			}
			seen[k.KeyID], seen[pub.N.String()] = true, true
		})
	}
}

func TestSignInWithLoginHint(t *testing.T) {
	p := start(t, oidcdev.Options{})
	d := discover(t, p)
	a := signIn(t, d, p, "alice")

	t.Run("token answer", func(t *testing.T) {
		if a.ExpiresIn != int64(oidcdev.DefaultAccessTTL/time.Second) || a.ExpiresIn > 86400 {
			t.Errorf("expires_in %d, want %d seconds", a.ExpiresIn, int64(oidcdev.DefaultAccessTTL/time.Second))
		}
		if !strings.EqualFold(a.TokenType, "bearer") {
			t.Errorf("token_type %q, want Bearer", a.TokenType)
		}
		if a.RefreshToken == "" || a.IDToken == "" {
			t.Errorf("refresh_token %q, id_token %q: want both", a.RefreshToken, a.IDToken)
		}
		if got := a.header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
			t.Errorf("Cache-Control %q, want no-store", got)
		}
	})
	t.Run("access token", func(t *testing.T) {
		c := verify(t, d, a.AccessToken, p.Audience)
		if c.Subject != "alice" {
			t.Errorf("sub %q, want alice", c.Subject)
		}
		if c.Expiry == nil || c.IssuedAt == nil || c.NotBefore == nil {
			t.Fatalf("exp %v iat %v nbf %v: want all three", c.Expiry, c.IssuedAt, c.NotBefore)
		}
		if got := int64(c.Expiry.Time().Sub(c.IssuedAt.Time()) / time.Second); got != a.ExpiresIn {
			t.Errorf("exp - iat = %d s, want expires_in %d", got, a.ExpiresIn)
		}
		if want := strings.Join(p.Scopes, " "); c.Scope != want || a.Scope != want {
			t.Errorf("scope claim %q, answer %q, want %q", c.Scope, a.Scope, want)
		}
		if c.ClientID != p.ClientID || c.TokenUse != "access" {
			t.Errorf("client_id %q token_use %q, want %q access", c.ClientID, c.TokenUse, p.ClientID)
		}
	})
	t.Run("ID token is for the client", func(t *testing.T) {
		c := verify(t, d, a.IDToken, p.ClientID)
		if c.Subject != "alice" {
			t.Errorf("sub %q, want alice", c.Subject)
		}
		if c.Audience.Contains(p.Audience) {
			t.Errorf("the ID token's aud %v holds the API audience %q", c.Audience, p.Audience)
		}
	})
	t.Run("userinfo", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, d.UserinfoEndpoint, nil)
		req.Header.Set("Authorization", "Bearer "+a.AccessToken)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var info struct {
			Sub               string `json:"sub"`
			PreferredUsername string `json:"preferred_username"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		if info.Sub != "alice" || info.PreferredUsername != "alice" {
			t.Errorf("userinfo %+v, want alice", info)
		}
	})
	t.Run("Token helper", func(t *testing.T) {
		tok, err := p.Token(context.Background(), "dave")
		if err != nil {
			t.Fatal(err)
		}
		if c := verify(t, d, tok, p.Audience); c.Subject != "dave" {
			t.Errorf("sub %q, want dave", c.Subject)
		}
	})
}

func TestTokenEndpointRefusals(t *testing.T) {
	p := start(t, oidcdev.Options{})
	d := discover(t, p)
	tests := []struct {
		name       string
		edit       func(url.Values)
		wantStatus int
		wantError  string
	}{
		{"wrong code_verifier", func(f url.Values) { f.Set("code_verifier", newPKCE().verifier) }, 400, "invalid_grant"},
		{"missing code_verifier", func(f url.Values) { f.Del("code_verifier") }, 400, "invalid_request"},
		{"a client secret", func(f url.Values) { f.Set("client_secret", "guess") }, 400, "invalid_request"},
		{"another client", func(f url.Values) { f.Set("client_id", "someone-else") }, 401, "invalid_client"},
		{"another redirect_uri", func(f url.Values) { f.Set("redirect_uri", "http://localhost:1/other") }, 400, "invalid_grant"},
		{"an unknown code", func(f url.Values) { f.Set("code", "made-up") }, 400, "invalid_grant"},
		{"an unknown grant type", func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pk := newPKCE()
			form := codeForm(p, authorize(t, d, p, pk, "alice"), pk)
			tt.edit(form)
			a := postToken(t, d, form, "")
			if a.status != tt.wantStatus || a.Error != tt.wantError {
				t.Errorf("status %d error %q (%s), want %d %q", a.status, a.Error, a.ErrorDescription, tt.wantStatus, tt.wantError)
			}
			if a.AccessToken != "" {
				t.Error("refused, yet an access token came back")
			}
		})
	}
	t.Run("a code redeemed twice", func(t *testing.T) {
		pk := newPKCE()
		form := codeForm(p, authorize(t, d, p, pk, "alice"), pk)
		if a := postToken(t, d, form, ""); a.status != http.StatusOK {
			t.Fatalf("first redemption: status %d: %s", a.status, a.ErrorDescription)
		}
		if a := postToken(t, d, form, ""); a.status != 400 || a.Error != "invalid_grant" {
			t.Errorf("second redemption: status %d error %q, want 400 invalid_grant", a.status, a.Error)
		}
	})
}

func TestAuthorizeRedirectURIs(t *testing.T) {
	p := start(t, oidcdev.Options{})
	d := discover(t, p)
	tests := []struct {
		uri  string
		want bool
	}{
		{"http://localhost:8080/", true},
		{"http://localhost:53682/callback", true},
		{"http://127.0.0.1:9000/cb?x=1", true},
		{"http://localhost/callback", true},
		{"http://[::1]:8080/", true},
		{"http://example.com/callback", false},
		{"https://example.com/callback", false},
		{"http://localhost.example.com:8080/", false},
		{"http://127.0.0.1.nip.io:8080/", false},
		{"http://user@localhost:8080/", false},
		{"http://localhost:8080/#frag", false},
		{"https://localhost:8080/", false},
		{"javascript:alert(1)", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			q := authorizeQuery(p, newPKCE(), "alice")
			q.Set("redirect_uri", tt.uri)
			resp, err := noRedirect.Get(d.AuthorizationEndpoint + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			loc := resp.Header.Get("Location")
			if tt.want {
				if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, strings.SplitN(tt.uri, "?", 2)[0]) || !strings.Contains(loc, "code=") {
					t.Errorf("status %d Location %q, want a redirect with a code", resp.StatusCode, loc)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || loc != "" {
				t.Errorf("status %d Location %q, want 400 and no redirect", resp.StatusCode, loc)
			}
		})
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	p := start(t, oidcdev.Options{})
	d := discover(t, p)
	t.Run("unknown client: no redirect", func(t *testing.T) {
		q := authorizeQuery(p, newPKCE(), "alice")
		q.Set("client_id", "someone-else")
		resp, err := noRedirect.Get(d.AuthorizationEndpoint + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("status %d Location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	tests := []struct {
		name      string
		edit      func(url.Values)
		wantError string
	}{
		{"no code_challenge", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"plain code_challenge_method", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"a scope not offered", func(q url.Values) { q.Set("scope", "openid admin") }, "invalid_scope"},
		{"response_type token", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authorizeQuery(p, newPKCE(), "alice")
			tt.edit(q)
			resp, err := noRedirect.Get(d.AuthorizationEndpoint + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got := redirected(t, resp, "st-alice")
			if got.Get("error") != tt.wantError || got.Get("code") != "" {
				t.Errorf("redirect query %v, want error %s and no code", got, tt.wantError)
			}
		})
	}
}

// loginForm parses the login page and returns its form's method, action
// and fields.
func loginForm(t *testing.T, body io.Reader) (method, action string, fields url.Values) {
	t.Helper()
	doc, err := html.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	fields = url.Values{}
	var walk func(n *html.Node, inForm bool)
	walk = func(n *html.Node, inForm bool) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch {
			case n.Data == "form":
				method, action, inForm = attr["method"], attr["action"], true
			case n.Data == "input" && inForm && attr["name"] != "":
				fields.Set(attr["name"], attr["value"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm)
		}
	}
	walk(doc, false)
	if action == "" {
		t.Fatal("the login page has no form")
	}
	return method, action, fields
}

func TestLoginPage(t *testing.T) {
	p := start(t, oidcdev.Options{})
	d := discover(t, p)
	pk := newPKCE()
	pageURL := d.AuthorizationEndpoint + "?" + authorizeQuery(p, pk, "").Encode()

	// submit fetches the login page, types user into its form and submits
	// it as a browser would.
	submit := func(t *testing.T, user string) *http.Response {
		t.Helper()
		resp, err := noRedirect.Get(pageURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("status %d Content-Type %q, want an HTML page", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		method, action, fields := loginForm(t, resp.Body)
		if !strings.EqualFold(method, http.MethodPost) || !fields.Has("login_hint") {
			t.Fatalf("form method %q fields %v, want a POST with a login_hint field", method, fields)
		}
		fields.Set("login_hint", user)
		target, err := resp.Request.URL.Parse(action)
		if err != nil {
			t.Fatal(err)
		}
		post, err := noRedirect.PostForm(target.String(), fields)
		if err != nil {
			t.Fatal(err)
		}
		return post
	}

	t.Run("a typed name signs in", func(t *testing.T) {
		resp := submit(t, "carol")
		defer resp.Body.Close()
		code := redirected(t, resp, "st-").Get("code")
		a := postToken(t, d, codeForm(p, code, pk), "")
		if a.status != http.StatusOK {
			t.Fatalf("token: status %d: %s", a.status, a.ErrorDescription)
		}
		if c := verify(t, d, a.AccessToken, p.Audience); c.Subject != "carol" {
			t.Errorf("sub %q, want carol", c.Subject)
		}
	})
	for _, bad := range []string{"", "two words", "<script>", strings.Repeat("x", 65)} {
		t.Run(fmt.Sprintf("name %q shows the form again", bad), func(t *testing.T) {
			resp := submit(t, bad)
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d Location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			if _, _, fields := loginForm(t, resp.Body); !fields.Has("code_challenge") {
				t.Errorf("the form lost the request: %v", fields)
			}
		})
	}
}

func TestConcurrentSignInsGetTheirOwnSubject(t *testing.T) {
	p := start(t, oidcdev.Options{})
	d := discover(t, p)
	users := []string{"alice", "bob", "alice", "bob", "erin", "bob", "alice", "frank"}
	tokens := make([]string, len(users))
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() { tokens[i], errs[i] = p.Token(context.Background(), u) })
	}
	wg.Wait()
	for i, u := range users {
		if errs[i] != nil {
			t.Errorf("%s: %v", u, errs[i])
			continue
		}
		if c := verify(t, d, tokens[i], p.Audience); c.Subject != u {
			t.Errorf("sign-in %d as %s got sub %q", i, u, c.Subject)
		}
	}
}

func TestCORS(t *testing.T) {
	p := start(t, oidcdev.Options{Origins: []string{pageOrigin}})
	d := discover(t, p)

	get := func(t *testing.T, method, u, origin string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", http.MethodPost)
			req.Header.Set("Access-Control-Request-Headers", "content-type")
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, origin := range []string{pageOrigin, "http://evil.example"} {
		want := ""
		if origin == pageOrigin {
			want = origin
		}
		t.Run(origin, func(t *testing.T) {
			checks := map[string]http.Header{
				"discovery": get(t, http.MethodGet, p.Issuer+"/.well-known/openid-configuration", origin).Header,
				"JWKS":      get(t, http.MethodGet, d.JWKSURI, origin).Header,
				"token preflight": func() http.Header {
					resp := get(t, http.MethodOptions, d.TokenEndpoint, origin)
					if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
						t.Errorf("preflight: status %d methods %q, want 204 allowing POST", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Methods"))
					}
					return resp.Header
				}(),
				"token": func() http.Header {
					pk := newPKCE()
					a := postToken(t, d, codeForm(p, authorize(t, d, p, pk, "alice"), pk), origin)
					if a.status != http.StatusOK {
						t.Errorf("token: status %d: %s", a.status, a.ErrorDescription)
					}
					return a.header
				}(),
			}
			for name, h := range checks {
				if got := h.Get("Access-Control-Allow-Origin"); got != want {
					t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	p := start(t, oidcdev.Options{})
	d := discover(t, p)
	first := signIn(t, d, p, "alice")
	refresh := func(token string) tokenAnswer {
		return postToken(t, d, url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {token},
			"client_id":     {p.ClientID},
		}, "")
	}

	t.Run("refresh token", func(t *testing.T) {
		a := refresh(first.RefreshToken)
		if a.status != http.StatusOK {
			t.Fatalf("status %d: %s: %s", a.status, a.Error, a.ErrorDescription)
		}
		if a.ExpiresIn != first.ExpiresIn {
			t.Errorf("expires_in %d, want %d", a.ExpiresIn, first.ExpiresIn)
		}
		if c := verify(t, d, a.AccessToken, p.Audience); c.Subject != "alice" {
			t.Errorf("sub %q, want alice", c.Subject)
		}
		if a.RefreshToken == "" {
			t.Error("no refresh token to refresh with next time")
		}
	})
	for name, token := range map[string]string{
		"access token": first.AccessToken,
		"ID token":     first.IDToken,
		"made-up":      "made-up",
	} {
		t.Run(name+" is no refresh token", func(t *testing.T) {
			if a := refresh(token); a.status != 400 || a.Error != "invalid_grant" {
				t.Errorf("status %d error %q, want 400 invalid_grant", a.status, a.Error)
			}
		})
	}
}

func TestStartRefuses(t *testing.T) {
	tests := []struct {
		name string
		addr string
		opts oidcdev.Options
	}{
		{"every interface", ":0", oidcdev.Options{}},
		{"audience equal to the client ID", "127.0.0.1:0", oidcdev.Options{ClientID: "page", Audience: "page"}},
		{"a scope with a space", "127.0.0.1:0", oidcdev.Options{Scopes: []string{"openid email"}}},
		{"an origin with a path", "127.0.0.1:0", oidcdev.Options{Origins: []string{"http://localhost:8080/app"}}},
		{"a fractional TTL", "127.0.0.1:0", oidcdev.Options{AccessTTL: 1500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := oidcdev.Start(tt.addr, tt.opts); err == nil {
				p.Close()
				t.Fatal("started, want an error")
			}
		})
	}
}

func TestRequestsToOtherHostsAreRefused(t *testing.T) {
	p := start(t, oidcdev.Options{})
	d := discover(t, p)
	req, err := http.NewRequest(http.MethodGet, d.AuthorizationEndpoint+"?"+authorizeQuery(p, newPKCE(), "alice").Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "rebound.example:80"
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
		t.Errorf("status %d Location %q, want 403", resp.StatusCode, resp.Header.Get("Location"))
	}
}
