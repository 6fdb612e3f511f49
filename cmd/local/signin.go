package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/oidcdev"
	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
)

// defaultUser is who the banner's ready token signs in.
const defaultUser = "alice"

// signInSetup is local mode's stand-in for the environment's sign-in: a real
// OpenID provider on loopback, and the deployed OIDC token authorizer's own
// code checking its tokens.
type signInSetup struct {
	provider   *oidcdev.Provider
	authorizer *oidcauth.Authorizer
	// claims puts the verified caller where a Cognito user pool authorizer
	// puts it; the checks are the OIDC authorizer's either way (for a
	// Cognito environment, local mode checks issuer, audience, signature
	// and times, not Cognito's scope).
	claims bool
	// origin is the provider's, which the page calls.
	origin string
	// token is a ready access token for defaultUser.
	token string
}

func startSignIn(ctx context.Context, addr, apiURL string, cognito bool, tokenTTL time.Duration, log *slog.Logger) (*signInSetup, error) {
	origins := []string{apiURL}
	if u, err := url.Parse(apiURL); err == nil && strings.HasPrefix(u.Host, "127.0.0.1:") {
		origins = append(origins, "http://localhost:"+u.Port())
	}
	p, err := oidcdev.Start(addr, oidcdev.Options{Origins: origins, AccessTTL: tokenTTL})
	if err != nil {
		return nil, err
	}
	// The environment's issuer is replaced by the local provider.
	a, err := oidcauth.New(api.AuthorizerSettings{IssuerUrl: p.Issuer, Audience: p.Audience}, oidcauth.WithLogger(log))
	if err != nil {
		p.Close()
		return nil, err
	}
	token, err := p.Token(ctx, defaultUser)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("sign in %s: %w", defaultUser, err)
	}
	u, _ := url.Parse(p.Issuer)
	return &signInSetup{provider: p, authorizer: a, claims: cognito, origin: u.Scheme + "://" + u.Host, token: token}, nil
}
