package oidcauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// offLoopback is a name that is not this machine's: the tests route it to
// another server, so a redirect there that were followed would arrive.
const offLoopback = "keys.example.net"

// TestKeyFetchRedirects pins which redirects the fetch of the discovery
// document and the keys follows: only to where keys may be fetched from
// (https, http only on loopback), never from https down to http. A refused
// redirect is a clear error, and its target never hears of the request.
func TestKeyFetchRedirects(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})

	// elsewhere is where refused redirects point: it must never be asked.
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(elsewhere.Close)

	// issuer redirects each path listed in to and serves the keys at
	// /keys and its discovery document pointing at them.
	issuer := func(tls bool, to map[string]string) *httptest.Server {
		var srv *httptest.Server
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if target, ok := to[r.URL.Path]; ok {
				http.Redirect(w, r, strings.ReplaceAll(target, "{self}", srv.URL), http.StatusFound)
				return
			}
			switch r.URL.Path {
			case "/.well-known/openid-configuration":
				_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/keys"})
			case "/keys":
				_, _ = w.Write(jwks)
			default:
				http.NotFound(w, r)
			}
		})
		if tls {
			srv = httptest.NewTLSServer(h)
		} else {
			srv = httptest.NewServer(h)
		}
		t.Cleanup(srv.Close)
		return srv
	}

	for _, tc := range []struct {
		name string
		tls  bool
		to   map[string]string // path → where it redirects
		// jwksPath is the configured key URL's path on the issuer; ""
		// discovers it.
		jwksPath string
		refused  string // the refused target, "" when the keys arrive
	}{
		{name: "discovery redirected to http off loopback",
			to:      map[string]string{"/.well-known/openid-configuration": "http://" + offLoopback + "/.well-known/openid-configuration"},
			refused: "http://" + offLoopback},
		{name: "keys redirected to http off loopback", jwksPath: "/keys-moved",
			to: map[string]string{"/keys-moved": "http://" + offLoopback + "/keys"}, refused: "http://" + offLoopback},
		{name: "keys redirected from https down to http on loopback", tls: true, jwksPath: "/keys-moved",
			to: map[string]string{"/keys-moved": elsewhere.URL + "/keys"}, refused: elsewhere.URL},
		{name: "keys redirected in a loop: given up on", jwksPath: "/loop",
			to: map[string]string{"/loop": "{self}/loop"}, refused: "{self}/loop: stopped after"},
		{name: "keys redirected twice over https: followed", tls: true, jwksPath: "/keys-moved",
			to: map[string]string{"/keys-moved": "{self}/old-keys", "/old-keys": "{self}/keys"}},
		{name: "keys redirected on loopback http: followed", jwksPath: "/keys-moved",
			to: map[string]string{"/keys-moved": "{self}/keys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := issuer(tc.tls, tc.to)
			jwksURL := ""
			if tc.jwksPath != "" {
				jwksURL = srv.URL + tc.jwksPath
			}
			s := newKeySet(srv.URL, jwksURL)
			s.client.Transport = routeTo(t, srv, offLoopback, elsewhere)
			before := reached.Load()
			_, err := s.key(context.Background(), "k1", "ES256")
			if tc.refused == "" {
				if err != nil {
					t.Fatalf("key: %v, want the key through the redirect", err)
				}
				return
			}
			refused := strings.ReplaceAll(tc.refused, "{self}", srv.URL)
			if !errors.Is(err, ErrKeysUnavailable) || !strings.Contains(err.Error(), "refused a redirect to "+refused) {
				t.Errorf("key: %v, want ErrKeysUnavailable saying it refused the redirect to %s", err, refused)
			}
			if n := reached.Load() - before; n != 0 {
				t.Errorf("the redirect's target was asked %d times, want never", n)
			}
		})
	}
}

// routeTo is srv's client transport (which trusts its certificate), with
// connections to name sent to other instead.
func routeTo(t *testing.T, srv *httptest.Server, name string, other *httptest.Server) http.RoundTripper {
	t.Helper()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host == name {
			addr = other.Listener.Addr().String()
		}
		return d.DialContext(ctx, network, addr)
	}
	return tr
}
