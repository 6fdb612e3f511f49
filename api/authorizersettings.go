package api

import (
	"net"
	"net/url"
)

// AuthorizerSettings are the OIDC token authorizer's settings (see
// [Settings]), carried in [AuthorizerSettingsVariable]: which tokens it
// accepts. The construct's OidcSignIn props carry them under the same names.
type AuthorizerSettings struct {
	// IssuerUrl is the issuer exactly as its tokens carry it in "iss"
	// (mind a trailing slash: Auth0's has one). Its keys are discovered
	// from IssuerUrl + "/.well-known/openid-configuration" unless JwksUrl
	// is set.
	IssuerUrl string `json:"issuerUrl"`
	// Audience must be one of the token's "aud" values: the API's
	// identifier (Auth0, Okta, Entra ID access tokens) or the client ID
	// (ID tokens, such as Google's).
	Audience string `json:"audience"`
	// JwksUrl is where the issuer publishes its keys. Default: the
	// discovery document's jwks_uri.
	JwksUrl string `json:"jwksUrl,omitempty"`
	// QuotaTierClaim names the claim whose value (a string) the
	// authorizer passes on to the upload function under the same name:
	// the caller's quota tier. The construct sets it from the upload
	// settings' QuotaTierClaim.
	QuotaTierClaim string `json:"quotaTierClaim,omitempty" settings:"derived"`
}

// AuthorizerSettingsVariable is the environment variable through which the
// token authorizer receives its AuthorizerSettings as JSON.
const AuthorizerSettingsVariable = "UPLOAD_AUTHORIZER_SETTINGS"

// Variable returns [AuthorizerSettingsVariable].
func (AuthorizerSettings) Variable() string { return AuthorizerSettingsVariable }

// WithDefaults returns s: every default is applied where it is used.
func (s AuthorizerSettings) WithDefaults() AuthorizerSettings { return s }

// Validate reports every setting that cannot work, each as a *SettingError
// (joined with errors.Join). Keys are never fetched in the clear: the URLs
// must be https, or http on a loopback host (local mode, tests).
func (s AuthorizerSettings) Validate() error {
	var errs settingErrors
	if !SafeKeyURL(s.IssuerUrl) {
		errs.add("issuerUrl", "%q must be an https URL (http only on loopback)", s.IssuerUrl)
	}
	if s.Audience == "" {
		errs.add("audience", "is empty")
	}
	if s.JwksUrl != "" && !SafeKeyURL(s.JwksUrl) {
		errs.add("jwksUrl", "%q must be an https URL (http only on loopback)", s.JwksUrl)
	}
	return errs.join()
}

// SafeKeyURL reports whether signing keys may be fetched from s: an
// absolute https URL, or http on a loopback host.
func SafeKeyURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		if u.Hostname() == "localhost" {
			return true
		}
		ip := net.ParseIP(u.Hostname())
		return ip != nil && ip.IsLoopback()
	}
	return false
}
