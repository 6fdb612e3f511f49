package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
)

const benchAudience = "https://bench.example.com"

// benchIssuer is an OpenID provider on loopback with one RSA key, counting
// the key sets it serves.
type benchIssuer struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	token string
	jwks  atomic.Int64
}

// settings are the authorizer's settings for tokens of this issuer.
func (is *benchIssuer) settings() api.AuthorizerSettings {
	return api.AuthorizerSettings{IssuerUrl: is.srv.URL, Audience: benchAudience}
}

func newBenchIssuer() (*benchIssuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	is := &benchIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/keys"})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		is.jwks.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "bench", Algorithm: "RS256", Use: "sig"}}})
	})
	is.srv = httptest.NewServer(mux)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "bench"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		is.srv.Close()
		return nil, err
	}
	now := time.Now()
	is.token, err = jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: is.srv.URL, Subject: "auth0|bench", Audience: jwt.Audience{benchAudience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour)),
	}).Serialize()
	if err != nil {
		is.srv.Close()
		return nil, err
	}
	return is, nil
}

// authorizerEvent is a TOKEN authorizer request as API Gateway sends it.
func (is *benchIssuer) authorizerEvent() events.APIGatewayCustomAuthorizerRequest {
	return events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + is.token,
		MethodArn: "arn:aws:execute-api:us-east-1:123456789012:benchapi/prod/POST/get-upload-url"}
}

// benchAuthorizer measures the OIDC authorizer: its warm verification
// against a bare RS256 verification of the same token with the same
// library, its cold start including the key fetch next to hello world,
// and its bundle.
func benchAuthorizer(ctx context.Context, root, work string, runs int) ([]row, error) {
	is, err := newBenchIssuer()
	if err != nil {
		return nil, err
	}
	defer is.srv.Close()
	warm, err := benchAuthorizerWarm(ctx, is)
	if err != nil {
		return nil, err
	}
	cold, err := benchAuthorizerColdStart(ctx, root, work, runs, is)
	if err != nil {
		return nil, err
	}
	size, err := authorizerBundle(root, work)
	if err != nil {
		return nil, err
	}
	return append(append(warm, cold...), size...), nil
}

func benchAuthorizerWarm(ctx context.Context, is *benchIssuer) ([]row, error) {
	v, err := oidcauth.New(is.settings(), oidcauth.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	ev := is.authorizerEvent()
	if _, err := v.Authorize(ctx, ev); err != nil { // fetches the keys
		return nil, err
	}
	ours := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Authorize(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	pub := is.key.Public()
	bare := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tok, err := jwt.ParseSigned(is.token, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				b.Fatal(err)
			}
			var c jwt.Claims
			if err := tok.Claims(pub, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	ratio := float64(ours.NsPerOp()) / float64(bare.NsPerOp())
	return []row{{"OIDC authorizer, warm: header → Allow policy (RS256)",
		fmt.Sprintf("%.1f µs/op, %d allocs/op", float64(ours.NsPerOp())/1000, ours.AllocsPerOp()),
		fmt.Sprintf("bare go-jose RS256 verify %.1f µs/op, %d allocs/op", float64(bare.NsPerOp())/1000, bare.AllocsPerOp()),
		fmt.Sprintf("%.2f×", ratio), "≤ 1.5× the bare verification", verdict(ratio <= 1.5)}}, nil
}

func benchAuthorizerColdStart(ctx context.Context, root, work string, runs int, is *benchIssuer) ([]row, error) {
	ours, err := buildBootstrap(root, filepath.Join(root, authorizerFunction), filepath.Join(work, "authorizer"))
	if err != nil {
		return nil, err
	}
	hello, err := buildBootstrap(filepath.Join(root, localModuleDir), filepath.Join(root, benchDir, "hello"), filepath.Join(work, "hello"))
	if err != nil {
		return nil, err
	}
	event, err := json.Marshal(is.authorizerEvent())
	if err != nil {
		return nil, err
	}
	env := lambdaEnv(is.settings())
	bins := []string{ours, hello}
	times := make([][]time.Duration, len(bins))
	before := is.jwks.Load()
	for i := -2; i < runs; i++ { // two warm-up rounds fill the page cache
		for j, bin := range bins {
			d, err := coldStart(ctx, event, bin, nil, env)
			if err != nil {
				return nil, err
			}
			if i >= 0 {
				times[j] = append(times[j], d)
			}
		}
	}
	if n := is.jwks.Load() - before; n != int64(runs+2) {
		return nil, fmt.Errorf("%d cold starts of the authorizer fetched the keys %d times", runs+2, n)
	}
	p50 := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	oursP50, helloP50 := p50(times[0]), p50(times[1])
	return []row{{fmt.Sprintf("OIDC authorizer cold start, exec → Allow, discovery and JWKS fetched from loopback (p50 of %d)", runs),
		ms(oursP50), "hello world " + ms(helloP50), fmt.Sprintf("%.2f×", float64(oursP50)/float64(helloP50)), "reported", "—"}}, nil
}

// authorizerBundle is the size of the authorizer's arm64 bootstrap, zipped.
func authorizerBundle(root, work string) ([]row, error) {
	raw, zipped, _, err := bundle(root, filepath.Join(root, authorizerFunction), work, "authorizer-arm64")
	if err != nil {
		return nil, err
	}
	mib := func(n int) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
	return []row{{"OIDC authorizer arm64 bootstrap, zipped", mib(zipped), "raw " + mib(raw), "", "reported", "—"}}, nil
}
