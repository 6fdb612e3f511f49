package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader/signin"
)

// signInEnvironments are cdk.json settings that sign callers in; local
// mode runs its own provider for either kind.
const signInEnvironments = `{"context": {"environments": {
  "oidc":    {"allowedOrigins": ["*"], "partSize": 5242880, "oidc": {"issuerUrl": "https://issuer.example.com", "audience": "presigned-upload-api"}},
  "cognito": {"allowedOrigins": ["*"], "partSize": 5242880, "cognito": {}}
}}}`

// startSignedIn runs local mode in env, one of signInEnvironments, with
// its provider on a free port, and the page, whose /config.json names the
// provider.
func startSignedIn(t *testing.T, env string, extra ...string) *localProc {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the local mode binary")
	}
	p := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(p, []byte(signInEnvironments), 0o644); err != nil {
		t.Fatal(err)
	}
	lp := startLocal(t, env, p, append([]string{"-oidc-addr", "127.0.0.1:0", "-web", filepath.Join(pkgDir, "..", "..", "web")}, extra...)...)
	if lp.Issuer == "" || lp.ClientID == "" {
		t.Fatal("the banner names no sign-in provider")
	}
	return lp
}

// signInAs signs user in at local mode's provider with the standard flow,
// as the command's -login does, with the provider's login_hint standing in
// for the name a person would type, and returns an access token.
func signInAs(t *testing.T, p *localProc, user string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := signin.Login(ctx, signin.Config{Issuer: p.Issuer, ClientID: p.ClientID}, func(signInURL string) {
		go func() {
			if resp, err := http.Get(signInURL + "&login_hint=" + url.QueryEscape(user)); err == nil {
				resp.Body.Close()
			}
		}()
	})
	if err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
	token, err := s.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// pageOrigin is the Origin the calls of signedInCall send, as a page would.
const pageOrigin = "https://page.example.com"

// answer is an API response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// signedInCall calls route r of local mode's API with token: params fill
// its path, in is its JSON body or, for a GET or DELETE, its query string.
func signedInCall(t *testing.T, p *localProc, token string, r api.Route, params []string, in any) answer {
	t.Helper()
	path := r.Path(params...)
	var body io.Reader
	if in != nil && r.InBody() {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	} else if in != nil {
		path += "?" + api.Query(in).Encode()
	}
	req, err := http.NewRequest(r.Method, p.API+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Origin", pageOrigin)
	setSecret(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	rememberSecret(r.Method, r.Resource, resp.StatusCode, b)
	return answer{resp.StatusCode, resp.Header, b}
}

// ok decodes a 2xx answer into out, failing the test on any other.
func (a answer) ok(t *testing.T, what string, out any) {
	t.Helper()
	if a.status/100 != 2 {
		t.Fatalf("%s = %d %s", what, a.status, a.body)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			t.Fatalf("%s: %v in %s", what, err, a.body)
		}
	}
}
