package signin_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/uploader"
	"github.com/presigned-upload/presigned-upload/uploader/signin"
)

// provider is a small OpenID provider for one public client: discovery, an
// authorize endpoint that signs the user named in login_hint straight in,
// and a token endpoint that checks PKCE and refreshes. Local mode's tests
// sign in against its real provider; this one lets each rule be varied.
type provider struct {
	*httptest.Server
	clientID string
	// expiresIn is the lifetime it states for each access token.
	expiresIn int64

	mu      sync.Mutex
	codes   map[string]grant
	refresh map[string]string // refresh token → user
	issued  int
	// refused makes the token endpoint refuse refresh tokens.
	refused bool
	// redirects answer the next request for a path with a redirect.
	redirects map[string]redirect
}

type redirect struct {
	to     string
	status int
}

// redirectNext makes the provider answer the next request for path with a
// redirect to to.
func (p *provider) redirectNext(path, to string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirects[path] = redirect{to, status}
}

type grant struct{ user, challenge, redirectURI string }

func newProvider(t *testing.T) *provider {
	t.Helper()
	p := &provider{clientID: "cli", expiresIn: 3600, codes: map[string]grant{}, refresh: map[string]string{}, redirects: map[string]redirect{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token",
		})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back, _ := url.Parse(q.Get("redirect_uri"))
		out := url.Values{"state": {q.Get("state")}}
		switch {
		case q.Get("client_id") != p.clientID || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code":
			out.Set("error", "invalid_request")
		case q.Get("login_hint") == "":
			out.Set("error", "access_denied")
			out.Set("error_description", "the user said no")
		default:
			code := fmt.Sprintf("code-%d", time.Now().UnixNano())
			p.mu.Lock()
			p.codes[code] = grant{q.Get("login_hint"), q.Get("code_challenge"), q.Get("redirect_uri")}
			p.mu.Unlock()
			out.Set("code", code)
		}
		back.RawQuery = out.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		defer p.mu.Unlock()
		fail := func(code string) {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
		}
		if r.PostForm.Get("client_id") != p.clientID {
			fail("invalid_client")
			return
		}
		var user string
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			g, ok := p.codes[r.PostForm.Get("code")]
			delete(p.codes, r.PostForm.Get("code"))
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if !ok || g.challenge != base64.RawURLEncoding.EncodeToString(sum[:]) || g.redirectURI != r.PostForm.Get("redirect_uri") {
				fail("invalid_grant")
				return
			}
			user = g.user
		case "refresh_token":
			var ok bool
			user, ok = p.refresh[r.PostForm.Get("refresh_token")]
			if !ok || p.refused {
				fail("invalid_grant")
				return
			}
		default:
			fail("unsupported_grant_type")
			return
		}
		p.issued++
		rt := fmt.Sprintf("refresh-%d", p.issued)
		p.refresh[rt] = user
		payload, _ := json.Marshal(map[string]any{"sub": user, "preferred_username": user})
		access := fmt.Sprintf("h.%s.access-%d", base64.RawURLEncoding.EncodeToString(payload), p.issued)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": access, "refresh_token": rt, "expires_in": p.expiresIn, "token_type": "Bearer"})
	})
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		to, ok := p.redirects[r.URL.Path]
		delete(p.redirects, r.URL.Path)
		p.mu.Unlock()
		if ok {
			w.Header().Set("Location", to.to)
			w.WriteHeader(to.status)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// browse plays the browser: it opens the sign-in URL (with login_hint
// added, as the user typing a name would) and follows the redirect back to
// the command's loopback listener. A failure shows as Login never
// returning a session.
func browse(user string) func(string) {
	return func(signInURL string) {
		go func() {
			if user != "" {
				signInURL += "&login_hint=" + url.QueryEscape(user)
			}
			if resp, err := http.Get(signInURL); err == nil {
				resp.Body.Close()
			}
		}()
	}
}

func login(t *testing.T, p *provider, cacheDir, user string) (*signin.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return signin.Login(ctx, signin.Config{Issuer: p.URL, ClientID: p.clientID, CacheDir: cacheDir}, browse(user))
}

func TestLogin(t *testing.T) {
	p := newProvider(t)

	t.Run("signs in through the browser and caches the tokens for the user only", func(t *testing.T) {
		dir := t.TempDir()
		s, err := login(t, p, dir, "alice")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Token(context.Background())
		if err != nil || !strings.Contains(tok, ".access-") {
			t.Errorf("Token() = %q, %v; want an access token", tok, err)
		}
		if u := s.User(); u != "alice" {
			t.Errorf("User() = %q, want alice", u)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "signin-*.json"))
		if len(files) != 1 {
			t.Fatalf("cache files %q, want one", files)
		}
		st, err := os.Stat(files[0])
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("cache file mode %v (%v), want 0600", st.Mode().Perm(), err)
		}
		b, _ := os.ReadFile(files[0])
		if !strings.Contains(string(b), tok) {
			t.Error("the cache file lacks the access token")
		}

		t.Run("a later run resumes it without the browser, refreshed", func(t *testing.T) {
			again, err := signin.Resume(context.Background(), signin.Config{Issuer: p.URL + "/", ClientID: p.clientID, CacheDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := again.Token(context.Background())
			if got == tok || !strings.Contains(got, ".access-") || again.User() != "alice" {
				t.Errorf("resumed token %q for %q, want a new one for alice", got, again.User())
			}
			tok = got
		})
		t.Run("a sign-in the issuer has ended is no session", func(t *testing.T) {
			p.mu.Lock()
			p.refused = true
			p.mu.Unlock()
			defer func() { p.mu.Lock(); p.refused = false; p.mu.Unlock() }()
			if _, err := signin.Resume(context.Background(), signin.Config{Issuer: p.URL, ClientID: p.clientID, CacheDir: dir}); !errors.Is(err, signin.ErrNoSession) {
				t.Errorf("err = %v, want ErrNoSession", err)
			}
		})
		t.Run("another client has no session", func(t *testing.T) {
			if _, err := signin.Resume(context.Background(), signin.Config{Issuer: p.URL, ClientID: "other", CacheDir: dir}); !errors.Is(err, signin.ErrNoSession) {
				t.Errorf("err = %v, want ErrNoSession", err)
			}
		})
		t.Run("Forget removes it", func(t *testing.T) {
			if err := signin.Forget(signin.Config{Issuer: p.URL, ClientID: p.clientID, CacheDir: dir}); err != nil {
				t.Fatal(err)
			}
			if _, err := signin.Resume(context.Background(), signin.Config{Issuer: p.URL, ClientID: p.clientID, CacheDir: dir}); !errors.Is(err, signin.ErrNoSession) {
				t.Errorf("err = %v, want ErrNoSession", err)
			}
		})
	})
	t.Run("the issuer's refusal is the error", func(t *testing.T) {
		_, err := login(t, p, "", "")
		if err == nil || !strings.Contains(err.Error(), "access_denied: the user said no") {
			t.Errorf("err = %v, want the issuer's access_denied", err)
		}
	})
	t.Run("a redirect with another state is turned away, and the real one still counts", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var forged int
		s, err := signin.Login(ctx, signin.Config{Issuer: p.URL, ClientID: p.clientID}, func(signInURL string) {
			u, _ := url.Parse(signInURL)
			back := u.Query().Get("redirect_uri")
			resp, err := http.Get(back + "?code=stolen&state=forged")
			if err != nil {
				t.Errorf("forged callback: %v", err)
				return
			}
			resp.Body.Close()
			forged = resp.StatusCode
			browse("bob")(signInURL)
		})
		if err != nil {
			t.Fatal(err)
		}
		if forged != http.StatusBadRequest || s.User() != "bob" {
			t.Errorf("forged callback got %d, user %q; want 400 and bob signed in", forged, s.User())
		}
	})
	t.Run("plain http to an issuer off this machine is refused before any request", func(t *testing.T) {
		_, err := signin.Login(context.Background(), signin.Config{Issuer: "http://issuer.example.com", ClientID: "cli"}, func(string) {
			t.Error("opened a sign-in URL")
		})
		if err == nil || !strings.Contains(err.Error(), "clear text") {
			t.Errorf("err = %v, want a refusal of plain http", err)
		}
	})
	t.Run("the redirect URI is http://localhost:<port>/callback on the configured port", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var got string
		_, err := signin.Login(ctx, signin.Config{Issuer: p.URL, ClientID: p.clientID, Port: freePort(t)}, func(signInURL string) {
			u, _ := url.Parse(signInURL)
			got = u.Query().Get("redirect_uri")
			cancel()
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want the cancellation", err)
		}
		if !strings.HasPrefix(got, "http://localhost:") || !strings.HasSuffix(got, signin.CallbackPath) {
			t.Errorf("redirect_uri %q", got)
		}
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(srv.URL)
	srv.Close()
	var port int
	fmt.Sscan(u.Port(), &port)
	return port
}

func TestTokenRefreshes(t *testing.T) {
	p := newProvider(t)
	p.expiresIn = 2 // refreshed once less than a second is left

	s, err := login(t, p, t.TempDir(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := s.Token(context.Background())
	t.Run("before it expires", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			tok, err := s.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok != first {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the token was never refreshed")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("a refused refresh after expiry is an error", func(t *testing.T) {
		p.mu.Lock()
		p.refused = true
		p.mu.Unlock()
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := s.Token(context.Background())
			if err != nil {
				if !strings.Contains(err.Error(), "invalid_grant") {
					t.Errorf("err = %v, want the refusal", err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("an expired token was still handed out")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestRedirects pins which redirects sign-in follows. A grant posted to the
// token endpoint goes there only: Go's client would post it again to
// wherever a 307 or 308 points, code, verifier and all. Discovery follows a
// redirect only to where its URL could have pointed (https, or http on
// loopback). A refused redirect is a clear error, and its target never
// hears of the request.
func TestRedirects(t *testing.T) {
	p := newProvider(t)
	// elsewhere is where refused redirects point; the client routes the
	// off-loopback name there, so a followed redirect would arrive.
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		http.Error(w, "not here", http.StatusTeapot)
	}))
	t.Cleanup(elsewhere.Close)
	const offLoopback = "issuer.example.net"
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host == offLoopback {
			addr = elsewhere.Listener.Addr().String()
		}
		return d.DialContext(ctx, network, addr)
	}}}
	discovery := "/.well-known/openid-configuration"

	for _, tc := range []struct {
		name, path, to string
		status         int
		refused        string // in the error; "" when sign-in succeeds
	}{
		{"the code exchange redirected with 307", "/token", elsewhere.URL + "/token", http.StatusTemporaryRedirect, "refused a redirect to " + elsewhere.URL},
		{"the code exchange redirected with 308", "/token", elsewhere.URL + "/token", http.StatusPermanentRedirect, "refused a redirect to " + elsewhere.URL},
		{"the code exchange redirected with 302", "/token", elsewhere.URL + "/token", http.StatusFound, "refused a redirect to " + elsewhere.URL},
		{"discovery redirected to http off loopback", discovery, "http://" + offLoopback + discovery, http.StatusFound, "refused a redirect to http://" + offLoopback},
		{"discovery redirected on loopback: followed", discovery, p.URL + discovery, http.StatusFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.redirectNext(tc.path, tc.to, tc.status)
			t.Cleanup(func() { // an unused one must not outlive its case
				p.mu.Lock()
				defer p.mu.Unlock()
				delete(p.redirects, tc.path)
			})
			before := reached.Load()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := signin.Login(ctx, signin.Config{Issuer: p.URL, ClientID: p.clientID, HTTP: client}, browse("alice"))
			if tc.refused == "" {
				if err != nil || s.User() != "alice" {
					t.Fatalf("Login: %v, want alice signed in through the redirect", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.refused) {
				t.Errorf("Login: %v, want an error saying it %s", err, tc.refused)
			}
			if n := reached.Load() - before; n != 0 {
				t.Errorf("the redirect's target was asked %d times, want never", n)
			}
		})
	}
}

// A session is what the upload client asks for tokens.
var _ uploader.TokenSource = (*signin.Session)(nil)
