package presignedupload

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// OidcSignInProps configures sign-in with the tokens of an OpenID Connect
// issuer. A Go token authorizer checks each token's signature against the
// issuer's keys (asymmetric algorithms only), its iss, aud, exp and nbf.
type OidcSignInProps struct {
	// IssuerUrl is the issuer exactly as its tokens carry it in iss, such as
	// "https://example.eu.auth0.com/" or "https://accounts.google.com".
	//
	// Default: - none, it is required.
	IssuerUrl *string
	// Audience is the aud a token must carry: the API's identifier at the
	// issuer, or, for an ID token (Google), the client ID. Beware: with a
	// public issuer (Google, a shared Auth0 or Entra ID tenant), a client
	// ID as audience admits anyone who has an account there and gets a
	// token for that client; restrict who may sign in at the issuer, or
	// use an API identifier only your app's users can get tokens for.
	//
	// Default: - none, it is required.
	Audience *string
	// JwksUrl serves the issuer's signing keys as a JSON Web Key Set.
	//
	// Default: - the jwks_uri of the issuer's discovery document,
	// IssuerUrl + "/.well-known/openid-configuration".
	JwksUrl *string
	// CacheTtl is how long API Gateway keeps the authorizer's answer for one
	// Authorization header, 0 to 1 hour; 0 asks the authorizer on every
	// request. A cached allow can outlive the token's expiry by up to
	// CacheTtl.
	//
	// Default: - 5 minutes.
	CacheTtl awscdk.Duration
}

// defaultAuthorizerCacheSeconds is API Gateway's own default.
const defaultAuthorizerCacheSeconds = 300

func oidcDefaults(s *OidcSignInProps) {
	must(s.IssuerUrl != nil && *s.IssuerUrl != "", "oidcSignIn.issuerUrl is required")
	must(unresolved(s.IssuerUrl) || httpsURL(*s.IssuerUrl), "oidcSignIn.issuerUrl %q must be an https URL", *s.IssuerUrl)
	must(s.Audience != nil && *s.Audience != "", "oidcSignIn.audience is required")
	if s.JwksUrl != nil {
		must(unresolved(s.JwksUrl) || httpsURL(*s.JwksUrl), "oidcSignIn.jwksUrl %q must be an https URL", *s.JwksUrl)
	}
	if s.CacheTtl == nil {
		s.CacheTtl = awscdk.Duration_Seconds(jsii.Number(defaultAuthorizerCacheSeconds))
	}
	must(!*awscdk.Token_IsUnresolved(s.CacheTtl), "oidcSignIn.cacheTtl must be a literal duration, not a token")
	ttl := *s.CacheTtl.ToSeconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
	must(ttl >= 0 && ttl <= 3600 && ttl == float64(int64(ttl)), "oidcSignIn.cacheTtl %vs must be whole seconds from 0 to 3600", ttl)
	settings, tokens := settingsFrom[api.AuthorizerSettings](s)
	checkSettings(settings.Validate(), tokens)
}

// newOidcSignIn creates the token authorizer: a Go function that may only
// write its own log group, in front of every method but OPTIONS.
func newOidcSignIn(c *PresignedUploadApi, p *PresignedUploadApiProps, cfg api.UploadSettings) *signIn {
	s := p.OidcSignIn
	logGroup, role := functionRole(c, p, "Authorizer", "Verifies sign-in tokens for the upload API")

	settings, _ := settingsFrom[api.AuthorizerSettings](s) // checked by oidcDefaults
	settings.QuotaTierClaim = cfg.QuotaTierClaim
	c.AuthorizerFunction = goFunction(c, "AuthorizerFunction", "lambda/cmd/authorizer", settings, awslambda.FunctionOptions{
		Description: jsii.String("Verifies OpenID Connect tokens for the upload API"),
		MemorySize:  jsii.Number(256),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(10)),
		Role:        role,
		LogGroup:    logGroup,
	})
	// The answer is cached per Authorization header, so the authorizer's
	// policy must allow every method of the stage, not only the one asked.
	c.Authorizer = awsapigateway.NewTokenAuthorizer(c.Construct, jsii.String("Authorizer"), &awsapigateway.TokenAuthorizerProps{
		Handler:         c.AuthorizerFunction,
		IdentitySource:  awsapigateway.IdentitySource_Header(jsii.String("Authorization")),
		ResultsCacheTtl: s.CacheTtl,
	})
	c.Issuer = s.IssuerUrl
	return &signIn{
		authorizer: c.Authorizer,
		caller:     "$context.authorizer.principalId",
		rules:      []rule{{id: "AwsSolutions-COG4", reason: "Callers sign in with an OpenID Connect issuer other than Cognito: a token authorizer checks every token's signature against the issuer's keys, and its issuer, audience and lifetime, before any method runs."}},
	}
}
