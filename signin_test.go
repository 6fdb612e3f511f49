package main

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/internal/environments"
)

// Each sign-in setting of an environment reaches the stack: an OIDC issuer
// with its cache TTL, an existing pool with its domain and callbacks, and
// required MFA on a created pool.
func TestSignInSettings(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	noCache := 0
	oidc := api.AuthorizerSettings{IssuerUrl: "https://acme.eu.auth0.com/", Audience: "uploads", JwksUrl: "https://acme.eu.auth0.com/keys"}
	origins := func(o ...string) api.VerifierSettings {
		return api.VerifierSettings{UploadSettings: api.UploadSettings{AllowedOrigins: o}}
	}
	settings := map[string]environments.Environment{
		"Oidc": {Oidc: &environments.OidcSettings{AuthorizerSettings: oidc, CacheTtlSeconds: &noCache}},
		"Pooled": {VerifierSettings: origins("*"), Cognito: &environments.CognitoSettings{
			UserPoolId: "eu-west-1_abc", CallbackUrls: []string{"https://files.acme.dev/app/"}, DomainPrefix: "acme-uploads"}},
		"Strict": {VerifierSettings: origins("https://files.acme.dev"), Cognito: &environments.CognitoSettings{Mfa: "required"}},
	}
	stacks := map[string]awscdk.Stack{}
	for name, e := range settings {
		stacks[name] = NewPresignedUploadStack(app, name, &PresignedUploadStackProps{Settings: e})
	}
	templates := map[string]assertions.Template{}
	for name, stack := range stacks { // the first synthesizes the app: every stack exists by then
		templates[name] = assertions.Template_FromStack(stack, nil)
	}
	props := func(tm assertions.Template, typ string) []map[string]any {
		var out []map[string]any
		for _, r := range *tm.FindResources(jsii.String(typ), nil) {
			raw, _ := json.Marshal((*r)["Properties"])
			var p map[string]any
			_ = json.Unmarshal(raw, &p)
			out = append(out, p)
		}
		return out
	}
	outputs := func(tm assertions.Template) map[string]bool {
		out := map[string]bool{}
		for id := range *tm.FindOutputs(jsii.String("*"), nil) {
			out[id] = true
		}
		return out
	}

	t.Run("oidc: token authorizer with the issuer, JWKS URL and TTL", func(t *testing.T) {
		tm := templates["Oidc"]
		auth := props(tm, "AWS::ApiGateway::Authorizer")
		if len(auth) != 1 || auth[0]["Type"] != "TOKEN" || auth[0]["AuthorizerResultTtlInSeconds"] != 0.0 {
			t.Errorf("authorizers = %v, want one TOKEN authorizer with TTL 0", auth)
		}
		fn := goFunctions(t, tm, 3)[api.AuthorizerSettingsVariable]
		if got := functionSettings[api.AuthorizerSettings](t, fn); got != oidc {
			t.Errorf("authorizer settings = %+v, want %+v", got, oidc)
		}
		if o := outputs(tm); !o["SignInIssuer"] || o["SignInClientId"] || o["SignInDomain"] {
			t.Errorf("outputs = %v, want SignInIssuer only", o)
		}
	})
	t.Run("existing pool: no pool created, the given domain and callbacks", func(t *testing.T) {
		tm := templates["Pooled"]
		if n := len(props(tm, "AWS::Cognito::UserPool")); n != 0 {
			t.Errorf("%d pools created, want 0", n)
		}
		d := props(tm, "AWS::Cognito::UserPoolDomain")
		if len(d) != 1 || d[0]["Domain"] != "acme-uploads" || d[0]["UserPoolId"] != "eu-west-1_abc" {
			t.Errorf("domains = %v", d)
		}
		c := props(tm, "AWS::Cognito::UserPoolClient")
		if len(c) != 1 || jsonString(c[0]["CallbackURLs"]) != `["https://files.acme.dev/app/"]` {
			t.Errorf("clients = %v", c)
		}
		for _, o := range []string{"SignInIssuer", "SignInClientId", "SignInScope", "SignInDomain"} {
			if !outputs(tm)[o] {
				t.Errorf("no %s output", o)
			}
		}
	})
	t.Run("mfa required", func(t *testing.T) {
		pools := props(templates["Strict"], "AWS::Cognito::UserPool")
		if len(pools) != 1 || pools[0]["MfaConfiguration"] != "ON" {
			t.Errorf("pools = %v, want one with MfaConfiguration ON", pools)
		}
	})
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
