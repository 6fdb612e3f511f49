package environments

import (
	"fmt"

	"github.com/presigned-upload/presigned-upload/api"
)

// CognitoSettings sign callers in with an Amazon Cognito user pool: the
// construct's CognitoSignIn props, spelled for cdk.json.
type CognitoSettings struct {
	// UserPoolId names an existing pool in the stack's region; empty
	// creates one (email sign-in, self sign-up off).
	UserPoolId string `json:"userPoolId,omitempty"`
	// CallbackUrls are where Cognito may return the browser; empty means
	// each of allowedOrigins followed by "/".
	CallbackUrls []string `json:"callbackUrls,omitempty"`
	// DomainPrefix names the hosted sign-in pages' domain; empty derives
	// one for a created pool and creates none on an existing pool.
	DomainPrefix string `json:"domainPrefix,omitempty"`
	// Mfa is "off", "optional" (the default) or "required"; only for a
	// created pool.
	Mfa string `json:"mfa,omitempty"`
}

// OidcSettings sign callers in with any OpenID Connect issuer: the
// construct's OidcSignIn props, spelled for cdk.json.
type OidcSettings struct {
	// AuthorizerSettings are the token authorizer's: issuerUrl, audience
	// and jwksUrl (empty to use the issuer's discovery document).
	api.AuthorizerSettings
	// CacheTtlSeconds is how long API Gateway keeps the authorizer's
	// answer; unset means 300, 0 means no caching.
	CacheTtlSeconds *int `json:"cacheTtlSeconds,omitempty"`
}

// mfaSettings are the values of CognitoSettings.Mfa.
var mfaSettings = []string{"off", "optional", "required"}

// SignsIn reports whether the environment signs callers in.
func (e Environment) SignsIn() bool { return e.Cognito != nil || e.Oidc != nil }

func (e Environment) checkSignIn() error {
	if e.Cognito != nil && e.Oidc != nil {
		return fmt.Errorf("cognito and oidc are exclusive: choose one sign-in")
	}
	if c := e.Cognito; c != nil && c.Mfa != "" && c.Mfa != mfaSettings[0] && c.Mfa != mfaSettings[1] && c.Mfa != mfaSettings[2] {
		return fmt.Errorf("cognito.mfa %q must be one of %q", c.Mfa, mfaSettings)
	}
	return nil
}
