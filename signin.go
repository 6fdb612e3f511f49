package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
	"github.com/presigned-upload/presigned-upload/internal/environments"
)

// signInProps maps an environment's sign-in setting onto the construct's
// props; an existing user pool is imported into stack.
func signInProps(stack awscdk.Stack, e environments.Environment, p *presignedupload.PresignedUploadApiProps) {
	if c := e.Cognito; c != nil {
		s := &presignedupload.CognitoSignInProps{DomainPrefix: optString(c.DomainPrefix), Mfa: awscognito.Mfa(strings.ToUpper(c.Mfa))}
		if len(c.CallbackUrls) > 0 {
			s.CallbackUrls = jsii.Strings(c.CallbackUrls...)
		}
		if c.UserPoolId != "" {
			s.UserPool = awscognito.UserPool_FromUserPoolId(stack, jsii.String("UserPool"), jsii.String(c.UserPoolId))
		}
		p.CognitoSignIn = s
	}
	if o := e.Oidc; o != nil {
		s := presignedupload.OidcSignInPropsFromSettings(o.AuthorizerSettings)
		if o.CacheTtlSeconds != nil {
			s.CacheTtl = awscdk.Duration_Seconds(jsii.Number(float64(*o.CacheTtlSeconds)))
		}
		p.OidcSignIn = s
	}
}

// signInOutputs are what the page's settings need to sign callers in.
func signInOutputs(stack awscdk.Stack, api *presignedupload.PresignedUploadApi) {
	if api.Issuer != nil {
		output(stack, "SignInIssuer", api.Issuer, "Issuer of the tokens the API accepts")
	}
	if api.UserPoolClient != nil {
		output(stack, "SignInClientId", api.UserPoolClient.UserPoolClientId(), "Client ID of the page's public app client")
		output(stack, "SignInScope", api.Scope, "Scope an access token needs to call the API")
	}
	if api.HostedUiUrl != nil {
		output(stack, "SignInDomain", api.HostedUiUrl, "Base URL of the hosted sign-in pages (/oauth2/authorize, /oauth2/token, /logout)")
	}
}
