package presignedupload_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/constructs/presignedupload"
)

const (
	sharedPoolArn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"
	siteOrigin    = "https://files.acme.dev"
)

// synthChecked synthesizes the constructs that build adds to one stack,
// with cdk-nag's AwsSolutions checks, and returns the template and the
// unsuppressed cdk-nag errors and warnings.
func synthChecked(t *testing.T, build func(awscdk.Stack)) (template, []string) {
	t.Helper()
	stack := newStack()
	build(stack)
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	notes := assertions.Annotations_FromStack(stack)
	var findings []string
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, m := range append(*notes.FindError(jsii.String("*"), nag), *notes.FindWarning(jsii.String("*"), nag)...) {
		findings = append(findings, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
	}
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tmpl template
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl, findings
}

// under returns the resources whose logical ID starts with prefix: those of
// one construct when a stack holds several.
func (tm template) under(prefix string) template {
	out := template{Resources: map[string]resource{}}
	for id, r := range tm.Resources {
		if strings.HasPrefix(id, prefix) {
			out.Resources[id] = r
		}
	}
	return out
}

// methods returns the API's methods but OPTIONS, by "VERB resource path",
// and the OPTIONS methods.
func (tm template) methods(t *testing.T) (map[string]map[string]any, []map[string]any) {
	t.Helper()
	parts := map[string][2]string{} // logical ID → parent, path part
	for id, r := range tm.ofType("AWS::ApiGateway::Resource") {
		parent, _ := get(r.Properties, "ParentId", "Ref").(string)
		parts[id] = [2]string{parent, r.Properties["PathPart"].(string)}
	}
	path := func(id string) string {
		p := ""
		for part, ok := parts[id]; ok; part, ok = parts[part[0]] {
			p = "/" + part[1] + p
		}
		return p
	}
	methods := map[string]map[string]any{}
	var options []map[string]any
	for _, m := range tm.ofType("AWS::ApiGateway::Method") {
		verb := m.Properties["HttpMethod"].(string)
		if verb == "OPTIONS" {
			options = append(options, m.Properties)
			continue
		}
		ref, _ := get(m.Properties, "ResourceId", "Ref").(string)
		methods[verb+" "+path(ref)] = m.Properties
	}
	if len(methods) == 0 || len(options) == 0 {
		t.Fatalf("%d methods and %d OPTIONS methods", len(methods), len(options))
	}
	return methods, options
}

// checkRoutes checks that the methods are exactly the routes the settings c
// serve.
func checkRoutes(t *testing.T, methods map[string]map[string]any, c api.UploadSettings) {
	t.Helper()
	var want []string
	for _, r := range api.RoutesFor(c) {
		want = append(want, r.String())
	}
	got := sortedKeys(methods)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("methods = %v, want %v", got, want)
	}
}

// checkOpenPreflight checks that every OPTIONS method answers without an
// authorizer or key.
func checkOpenPreflight(t *testing.T, options []map[string]any) {
	t.Helper()
	for _, m := range options {
		if m["AuthorizationType"] != "NONE" || m["AuthorizerId"] != nil || m["ApiKeyRequired"] == true {
			t.Errorf("OPTIONS = %s, want no authorizer and no key", jsonOf(m))
		}
	}
}

// objectsOf matches the JSON of the ARN of a bucket's objects under a
// prefix: the bucket's logical ID and "/prefix*".
var objectsOf = regexp.MustCompile(`^\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["([^"]+)","Arn"\]\},"(/[^"]*)"\]\]\}$`)

// checkFileStatements checks that, besides its upload, session and log
// statements, the function's role may get and delete objects under the key
// prefix and list the bucket only under it.
func checkFileStatements(t *testing.T, tm template) {
	t.Helper()
	bucketID, _ := tm.one(t, "AWS::S3::Bucket")
	want := map[string]string{
		"Uploads":        `["s3:AbortMultipartUpload","s3:ListMultipartUploadParts","s3:PutObject"] on /uploads/*`,
		"UploadSessions": `["s3:DeleteObject","s3:GetObject","s3:PutObject"] on /upload-sessions/*`,
		"Files":          `["s3:DeleteObject","s3:GetObject","s3:GetObjectVersion"] on /uploads/*`,
		"ListUploads":    fmt.Sprintf(`["s3:ListBucket"] on {"Fn::GetAtt":["%s","Arn"]} if {"StringLike":{"s3:prefix":"uploads/*"}}`, bucketID),
		"UploadStatus":   `["s3:GetObjectTagging"] on /uploads/*`,
	}
	got := map[string]string{}
	for _, s := range tm.statements(t) {
		acts := actions(s)
		sort.Strings(acts)
		sid, _ := s["Sid"].(string)
		if sid == "" {
			for _, a := range acts {
				if !strings.HasPrefix(a, "logs:") {
					t.Errorf("statement %s grants %s", jsonOf(s), a)
				}
			}
			continue
		}
		res := jsonOf(s["Resource"])
		if m := objectsOf.FindStringSubmatch(res); m != nil && m[1] == bucketID {
			res = m[2]
		}
		got[sid] = jsonOf(acts) + " on " + res
		if c, ok := s["Condition"]; ok {
			got[sid] += " if " + jsonOf(c)
		}
		if s["Effect"] != "Allow" {
			t.Errorf("%s effect = %v", sid, s["Effect"])
		}
	}
	for _, sid := range sortedKeys(want) {
		if got[sid] != want[sid] {
			t.Errorf("%s = %s, want %s", sid, got[sid], want[sid])
		}
	}
	for _, sid := range sortedKeys(got) {
		if _, ok := want[sid]; !ok {
			t.Errorf("unexpected statement %s = %s", sid, got[sid])
		}
	}
}

// checkUnauthorizedJSON checks that API Gateway's own 401 and 403 (an
// authorizer's refusal) come from DEFAULT_4XX, whose answer is the API's
// JSON error with CORS headers: nothing overrides UNAUTHORIZED or
// ACCESS_DENIED with a bare answer.
func checkUnauthorizedJSON(t *testing.T, tm template) {
	t.Helper()
	var default4xx map[string]any
	for _, gr := range tm.ofType("AWS::ApiGateway::GatewayResponse") {
		switch gr.Properties["ResponseType"] {
		case "DEFAULT_4XX":
			default4xx = gr.Properties
		case "UNAUTHORIZED", "ACCESS_DENIED":
			t.Errorf("%v has its own gateway response %s", gr.Properties["ResponseType"], jsonOf(gr.Properties))
		}
	}
	if default4xx == nil {
		t.Fatal("no DEFAULT_4XX gateway response")
	}
	if got := get(default4xx, "ResponseParameters", "gatewayresponse.header.Access-Control-Allow-Origin"); got != "'"+siteOrigin+"'" {
		t.Errorf("DEFAULT_4XX Access-Control-Allow-Origin = %v, want '%s'", got, siteOrigin)
	}
	if got := get(default4xx, "ResponseParameters", "gatewayresponse.header.Access-Control-Allow-Headers"); !strings.Contains(fmt.Sprint(got), "Authorization") {
		t.Errorf("DEFAULT_4XX Access-Control-Allow-Headers = %v, want Authorization among them", got)
	}
	body, _ := get(default4xx, "ResponseTemplates", "application/json").(string)
	if body != `{"message":$context.error.messageString,"code":"$context.error.responseType"}` {
		t.Errorf("DEFAULT_4XX body = %q, want the API's JSON error", body)
	}
}

// accessLogCaller returns the access log's caller field.
func accessLogCaller(t *testing.T, tm template) string {
	t.Helper()
	_, stage := tm.one(t, "AWS::ApiGateway::Stage")
	var format map[string]string
	if err := json.Unmarshal([]byte(get(stage.Properties, "AccessLogSetting", "Format").(string)), &format); err != nil {
		t.Fatal(err)
	}
	return format["caller"]
}

func TestCognitoSignIn(t *testing.T) {
	var created, shared *presignedupload.PresignedUploadApi
	var stack awscdk.Stack
	all, findings := synthChecked(t, func(s awscdk.Stack) {
		stack = s
		created = presignedupload.NewPresignedUploadApi(s, jsii.String("Upload"), &presignedupload.PresignedUploadApiProps{
			AllowedOrigins: jsii.Strings(siteOrigin),
			ApiKeyRequired: jsii.Bool(true),
			CognitoSignIn:  &presignedupload.CognitoSignInProps{},
		})
		pool := awscognito.UserPool_FromUserPoolArn(s, jsii.String("Pool"), jsii.String(sharedPoolArn))
		shared = presignedupload.NewPresignedUploadApi(s, jsii.String("Shared"), &presignedupload.PresignedUploadApiProps{
			AllowedOrigins: jsii.Strings(siteOrigin),
			CognitoSignIn: &presignedupload.CognitoSignInProps{
				UserPool:            pool,
				CallbackUrls:        jsii.Strings(siteOrigin+"/app/", "http://localhost:8976/callback"),
				DomainPrefix:        jsii.String("acme-uploads"),
				AccessTokenValidity: awscdk.Duration_Hours(jsii.Number(2)),
			},
		})
	})
	tm := all.under("Upload")
	resolve := func(v *string) string { return jsonOf(stack.Resolve(v)) }

	t.Run("cdk-nag finds nothing unsuppressed", func(t *testing.T) {
		for _, f := range findings {
			t.Error(f)
		}
	})
	t.Run("the caller's files list is throttled on its own, as the other routes a caller could loop", func(t *testing.T) {
		checkThrottledMethods(t, tm, api.RoutesFor(api.UploadSettings{SignIn: true, Verified: true}), "10", "20")
	})
	t.Run("pool logical ID is stable", func(t *testing.T) {
		// Changing it would replace the pool and lose every user.
		if id, _ := tm.one(t, "AWS::Cognito::UserPool"); id != "UploadUserPool007736CE" {
			t.Errorf("user pool logical ID = %s, want UploadUserPool007736CE", id)
		}
	})
	t.Run("created pool: email sign-in, no self sign-up, strong passwords, optional TOTP, retained", func(t *testing.T) {
		_, pool := tm.one(t, "AWS::Cognito::UserPool")
		p := pool.Properties
		for _, c := range []struct {
			path []any
			want string
		}{
			{[]any{"UsernameAttributes"}, `["email"]`},
			{[]any{"AutoVerifiedAttributes"}, `["email"]`},
			{[]any{"AdminCreateUserConfig", "AllowAdminCreateUserOnly"}, `true`},
			{[]any{"Policies", "PasswordPolicy"}, `{"MinimumLength":12,"RequireLowercase":true,"RequireNumbers":true,"RequireSymbols":true,"RequireUppercase":true,"TemporaryPasswordValidityDays":3}`},
			{[]any{"MfaConfiguration"}, `"OPTIONAL"`},
			{[]any{"EnabledMfas"}, `["SOFTWARE_TOKEN_MFA"]`},
			{[]any{"AccountRecoverySetting", "RecoveryMechanisms"}, `[{"Name":"verified_email","Priority":1}]`},
		} {
			if got := jsonOf(get(p, c.path...)); got != c.want {
				t.Errorf("%v = %s, want %s", c.path, got, c.want)
			}
		}
		if pool.DeletionPolicy != "Retain" {
			t.Errorf("DeletionPolicy = %q, want Retain", pool.DeletionPolicy)
		}
	})
	t.Run("resource server holds the upload scope", func(t *testing.T) {
		_, rs := tm.one(t, "AWS::Cognito::UserPoolResourceServer")
		want := fmt.Sprint(rs.Properties["Identifier"]) + "/upload"
		if got := *created.Scope; got != want {
			t.Errorf("Scope = %s, want %s", got, want)
		}
		if got := jsonOf(get(rs.Properties, "Scopes", 0, "ScopeName")); got != `"upload"` {
			t.Errorf("scopes = %s", jsonOf(rs.Properties["Scopes"]))
		}
		_, other := all.under("Shared").one(t, "AWS::Cognito::UserPoolResourceServer")
		if other.Properties["Identifier"] == rs.Properties["Identifier"] {
			t.Errorf("two APIs share the resource server identifier %v", rs.Properties["Identifier"])
		}
	})
	t.Run("page client: public, authorization code, the upload scope, callbacks at the origin, tokens valid 15 minutes", func(t *testing.T) {
		_, client := tm.one(t, "AWS::Cognito::UserPoolClient")
		p := client.Properties
		for _, c := range []struct {
			field, want string
		}{
			{"GenerateSecret", `false`},
			{"AllowedOAuthFlows", `["code"]`},
			{"AllowedOAuthFlowsUserPoolClient", `true`},
			{"ExplicitAuthFlows", `["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"]`},
			{"CallbackURLs", `["` + siteOrigin + `/"]`},
			{"LogoutURLs", `["` + siteOrigin + `/"]`},
			{"PreventUserExistenceErrors", `"ENABLED"`},
			{"AccessTokenValidity", `15`},
			{"IdTokenValidity", `15`},
			{"TokenValidityUnits", `{"AccessToken":"minutes","IdToken":"minutes"}`},
			{"RefreshTokenValidity", `null`}, // Cognito's 30 days
		} {
			if got := jsonOf(p[c.field]); got != c.want {
				t.Errorf("%s = %s, want %s", c.field, got, c.want)
			}
		}
		scopes := jsonOf(p["AllowedOAuthScopes"])
		if !strings.HasPrefix(scopes, `["openid","email",`) || !strings.Contains(scopes, `"/upload"`) {
			t.Errorf("AllowedOAuthScopes = %s, want openid, email and the upload scope", scopes)
		}
	})
	t.Run("page client: users may write their email alone, no custom attribute such as a quota tier", func(t *testing.T) {
		_, client := tm.one(t, "AWS::Cognito::UserPoolClient")
		if got := writeAttributes(t, client); !slices.Equal(got, []string{"email"}) {
			t.Errorf("WriteAttributes = %q, want [email]: the created pool's one required attribute, which sign-up writes", got)
		}
		if got := client.Properties["ReadAttributes"]; got != nil {
			t.Errorf("ReadAttributes = %s, want Cognito's default", jsonOf(got))
		}
	})
	t.Run("classic hosted UI on a derived, valid domain prefix", func(t *testing.T) {
		_, d := tm.one(t, "AWS::Cognito::UserPoolDomain")
		if d.Properties["ManagedLoginVersion"] != 1.0 {
			t.Errorf("ManagedLoginVersion = %v, want 1 (classic hosted UI)", d.Properties["ManagedLoginVersion"])
		}
		join, _ := get(d.Properties, "Domain", "Fn::Join").([]any)
		if len(join) != 2 || join[0] != "-" {
			t.Fatalf("Domain = %s, want a join of a literal and the stack ID's start", jsonOf(d.Properties["Domain"]))
		}
		literal, _ := get(join[1], 0).(string)
		if !regexp.MustCompile(`^test-[0-9a-f]{6}$`).MatchString(literal) {
			t.Errorf("domain prefix literal = %q, want the stack name and a hash of the path", literal)
		}
		if got := jsonOf(get(join[1], 1)); got != `{"Fn::Select":[0,{"Fn::Split":["-",{"Fn::Select":[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]}]}]}` {
			t.Errorf("domain prefix suffix = %s, want the first group of the stack ID's UUID", got)
		}
		if got := resolve(created.HostedUiUrl); !strings.Contains(got, ".auth.") || !strings.Contains(got, "amazoncognito.com") {
			t.Errorf("HostedUiUrl = %s", got)
		}
	})
	t.Run("every method but OPTIONS needs an access token with the upload scope, and the API key", func(t *testing.T) {
		authID, auth := tm.one(t, "AWS::ApiGateway::Authorizer")
		if auth.Properties["Type"] != "COGNITO_USER_POOLS" || auth.Properties["IdentitySource"] != "method.request.header.Authorization" ||
			jsonOf(auth.Properties["ProviderARNs"]) != `[{"Fn::GetAtt":["UploadUserPool007736CE","Arn"]}]` {
			t.Errorf("authorizer = %s", jsonOf(auth.Properties))
		}
		methods, options := tm.methods(t)
		for key, m := range methods {
			if m["AuthorizationType"] != "COGNITO_USER_POOLS" || get(m, "AuthorizerId", "Ref") != authID ||
				jsonOf(m["AuthorizationScopes"]) != jsonOf([]string{*created.Scope}) || m["ApiKeyRequired"] != true {
				t.Errorf("%s: %s", key, jsonOf(m))
			}
		}
		checkOpenPreflight(t, options)
	})
	t.Run("the file routes exist", func(t *testing.T) {
		methods, _ := tm.methods(t)
		checkRoutes(t, methods, api.UploadSettings{SignIn: true, Verified: true})
	})
	t.Run("the function runs with signIn", func(t *testing.T) {
		if cfg := handlerConfig(t, tm.function(t)); !cfg.SignIn {
			t.Errorf("handler config = %+v, want signIn", cfg)
		}
	})
	t.Run("role may read, delete and list only under the key prefix", func(t *testing.T) {
		checkFileStatements(t, tm)
	})
	t.Run("bucket CORS allows GET and HEAD for downloads", func(t *testing.T) {
		_, bucket := tm.one(t, "AWS::S3::Bucket")
		if got := strs(get(bucket.Properties, "CorsConfiguration", "CorsRules", 0, "AllowedMethods")); !slices.Equal(got, []string{"PUT", "POST", "GET", "HEAD"}) {
			t.Errorf("AllowedMethods = %v, want [PUT POST GET HEAD]", got)
		}
	})
	t.Run("a refused token answers JSON with CORS", func(t *testing.T) {
		checkUnauthorizedJSON(t, tm)
	})
	t.Run("access log names the caller's subject", func(t *testing.T) {
		if got := accessLogCaller(t, tm); got != "$context.authorizer.claims.sub" {
			t.Errorf("access log caller = %q", got)
		}
	})
	t.Run("issuer is the pool's", func(t *testing.T) {
		if got := resolve(created.Issuer); got != `{"Fn::Join":["",["https://",{"Fn::GetAtt":["UploadUserPool007736CE","ProviderName"]}]]}` {
			t.Errorf("Issuer = %s", got)
		}
	})

	sh := all.under("Shared")
	t.Run("existing pool: client, scope and the given domain on it, tokens valid as asked, no pool created", func(t *testing.T) {
		if n := all.count("AWS::Cognito::UserPool"); n != 1 {
			t.Errorf("%d user pools, want only the one created for Upload", n)
		}
		for _, typ := range []string{"AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolResourceServer", "AWS::Cognito::UserPoolDomain"} {
			if _, r := sh.one(t, typ); r.Properties["UserPoolId"] != "eu-west-1_abc" {
				t.Errorf("%s on pool %v, want eu-west-1_abc", typ, r.Properties["UserPoolId"])
			}
		}
		if _, d := sh.one(t, "AWS::Cognito::UserPoolDomain"); d.Properties["Domain"] != "acme-uploads" {
			t.Errorf("Domain = %v, want acme-uploads", d.Properties["Domain"])
		}
		_, client := sh.one(t, "AWS::Cognito::UserPoolClient")
		if got := jsonOf(client.Properties["CallbackURLs"]); got != `["`+siteOrigin+`/app/","http://localhost:8976/callback"]` {
			t.Errorf("CallbackURLs = %s", got)
		}
		if a, id := client.Properties["AccessTokenValidity"], client.Properties["IdTokenValidity"]; a != 120.0 || id != 120.0 {
			t.Errorf("token validity: access %v, ID %v, want the 2 hours asked for (120 minutes) for both", a, id)
		}
		if _, auth := sh.one(t, "AWS::ApiGateway::Authorizer"); jsonOf(auth.Properties["ProviderARNs"]) != `["`+sharedPoolArn+`"]` {
			t.Errorf("authorizer pools = %s", jsonOf(auth.Properties["ProviderARNs"]))
		}
		if got := resolve(shared.Issuer); !strings.Contains(got, "cognito-idp.eu-west-1.") || !strings.Contains(got, "/eu-west-1_abc") {
			t.Errorf("Issuer = %s", got)
		}
	})
	t.Run("existing pool: its client writes every standard attribute a sign-up may require, no custom attribute and no verification flag", func(t *testing.T) {
		_, client := sh.one(t, "AWS::Cognito::UserPoolClient")
		got := writeAttributes(t, client)
		want := []string{"address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name", "name",
			"nickname", "phone_number", "picture", "preferred_username", "profile", "updated_at", "website", "zoneinfo"}
		if !slices.Equal(got, want) {
			t.Errorf("WriteAttributes = %q, want %q", got, want)
		}
	})
}

// writeAttributes returns an app client's WriteAttributes, sorted, after
// checking that none is a custom attribute or a verification flag, which
// a user could then set on itself.
func writeAttributes(t *testing.T, client resource) []string {
	t.Helper()
	list, ok := client.Properties["WriteAttributes"].([]any)
	if !ok || len(list) == 0 {
		t.Fatalf("WriteAttributes = %s, want an explicit list: Cognito's default may include custom attributes", jsonOf(client.Properties["WriteAttributes"]))
	}
	got := strs(list)
	for _, a := range got {
		if strings.HasPrefix(a, "custom:") || strings.HasSuffix(a, "_verified") {
			t.Errorf("WriteAttributes has %q, which users could then set on themselves", a)
		}
	}
	sort.Strings(got)
	return got
}

func TestTierClaimSource(t *testing.T) {
	stack := newStack()
	tiered := func(pool awscognito.IUserPool) *presignedupload.PresignedUploadApiProps {
		return &presignedupload.PresignedUploadApiProps{
			AllowedOrigins: jsii.Strings(siteOrigin),
			CognitoSignIn:  &presignedupload.CognitoSignInProps{UserPool: pool},
			QuotaBytes:     awscdk.Size_Gibibytes(jsii.Number(10)),
			QuotaTierClaim: jsii.String("tier"),
			QuotaTiers:     &map[string]*presignedupload.QuotaTierProps{"pro": {Bytes: awscdk.Size_Gibibytes(jsii.Number(100))}},
		}
	}
	pool := awscognito.UserPool_FromUserPoolArn(stack, jsii.String("Pool"), jsii.String(sharedPoolArn))
	presignedupload.NewPresignedUploadApi(stack, jsii.String("Created"), tiered(nil))
	presignedupload.NewPresignedUploadApi(stack, jsii.String("Shared"), tiered(pool))
	presignedupload.NewPresignedUploadApi(stack, jsii.String("Untiered"), &presignedupload.PresignedUploadApiProps{
		AllowedOrigins: jsii.Strings(siteOrigin),
		CognitoSignIn:  &presignedupload.CognitoSignInProps{UserPool: pool},
	})
	notes := assertions.Annotations_FromStack(stack)
	warned := func(path string) bool {
		return len(*notes.FindWarning(jsii.String(path), assertions.Match_StringLikeRegexp(jsii.String(`quotaTierClaim "tier" on an existing user pool: users can set themselves`)))) > 0
	}
	for _, c := range []struct {
		name, path string
		want       bool
	}{
		// Its only app client is the construct's, which writes no custom attribute.
		{"a created pool: no warning", "/Test/Created", false},
		// Its other app clients may let users write the tier.
		{"an existing pool with a tier claim: synth says the claim must come from what users cannot write", "/Test/Shared", true},
		{"an existing pool without a tier claim: no warning", "/Test/Untiered", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := warned(c.path); got != c.want {
				t.Errorf("warning on %s: %v, want %v", c.path, got, c.want)
			}
		})
	}
}

func TestOidcSignIn(t *testing.T) {
	issuer, audience := "https://acme.eu.auth0.com/", "https://uploads.acme.dev"
	all, findings := synthChecked(t, func(s awscdk.Stack) {
		presignedupload.NewPresignedUploadApi(s, jsii.String("Upload"), &presignedupload.PresignedUploadApiProps{
			AllowedOrigins: jsii.Strings(siteOrigin),
			OidcSignIn:     &presignedupload.OidcSignInProps{IssuerUrl: jsii.String(issuer), Audience: jsii.String(audience)},
		})
		presignedupload.NewPresignedUploadApi(s, jsii.String("Tuned"), &presignedupload.PresignedUploadApiProps{
			OidcSignIn: &presignedupload.OidcSignInProps{
				IssuerUrl: jsii.String(issuer), Audience: jsii.String(audience),
				JwksUrl:  jsii.String("https://keys.acme.dev/jwks.json"),
				CacheTtl: awscdk.Duration_Minutes(jsii.Number(1)),
			},
		})
	})
	tm := all.under("Upload")

	t.Run("cdk-nag finds nothing unsuppressed", func(t *testing.T) {
		for _, f := range findings {
			t.Error(f)
		}
	})
	t.Run("token authorizer on the Authorization header, cached 300 s by default", func(t *testing.T) {
		_, auth := tm.one(t, "AWS::ApiGateway::Authorizer")
		p := auth.Properties
		if p["Type"] != "TOKEN" || p["IdentitySource"] != "method.request.header.Authorization" || p["AuthorizerResultTtlInSeconds"] != 300.0 {
			t.Errorf("authorizer = %s", jsonOf(p))
		}
		if !strings.Contains(jsonOf(p["AuthorizerUri"]), `"UploadAuthorizerFunction`) {
			t.Errorf("AuthorizerUri = %s, want the authorizer function", jsonOf(p["AuthorizerUri"]))
		}
		_, tuned := all.under("Tuned").one(t, "AWS::ApiGateway::Authorizer")
		if got := tuned.Properties["AuthorizerResultTtlInSeconds"]; got != 60.0 {
			t.Errorf("with CacheTtl 1 minute, TTL = %v, want 60", got)
		}
	})
	t.Run("every method but OPTIONS uses the token authorizer", func(t *testing.T) {
		authID, _ := tm.one(t, "AWS::ApiGateway::Authorizer")
		methods, options := tm.methods(t)
		for key, m := range methods {
			if m["AuthorizationType"] != "CUSTOM" || get(m, "AuthorizerId", "Ref") != authID || m["AuthorizationScopes"] != nil {
				t.Errorf("%s: %s", key, jsonOf(m))
			}
		}
		checkOpenPreflight(t, options)
		checkRoutes(t, methods, api.UploadSettings{SignIn: true, Verified: true})
	})
	t.Run("authorizer function: Go, its issuer and audience, its own log group", func(t *testing.T) {
		var fn resource
		for id, r := range tm.each(t, "AWS::Lambda::Function", 3) { // with the upload function and the verifier
			if strings.HasPrefix(id, "UploadAuthorizerFunction") {
				fn = r
			}
		}
		p := fn.Properties
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
			t.Errorf("runtime %v handler %v", p["Runtime"], p["Handler"])
		}
		if got, want := settingsOf[api.AuthorizerSettings](t, fn), (api.AuthorizerSettings{IssuerUrl: issuer, Audience: audience}); got != want {
			t.Errorf("settings = %+v, want %+v", got, want)
		}
		if ref, _ := get(p, "LoggingConfig", "LogGroup", "Ref").(string); !strings.HasPrefix(ref, "UploadAuthorizerLogs") {
			t.Errorf("log group = %v, want its own", get(p, "LoggingConfig", "LogGroup"))
		}
		var tuned resource
		for id, r := range all.under("Tuned").ofType("AWS::Lambda::Function") {
			if strings.HasPrefix(id, "TunedAuthorizerFunction") {
				tuned = r
			}
		}
		if got := settingsOf[api.AuthorizerSettings](t, tuned).JwksUrl; got != "https://keys.acme.dev/jwks.json" {
			t.Errorf("jwksUrl = %v", got)
		}
	})
	t.Run("authorizer role may only write its logs", func(t *testing.T) {
		n := 0
		for _, pol := range tm.ofType("AWS::IAM::Policy") {
			if !strings.Contains(jsonOf(pol.Properties["Roles"]), "UploadAuthorizerRole") {
				continue
			}
			for _, s := range get(pol.Properties, "PolicyDocument", "Statement").([]any) {
				n++
				acts := actions(s.(map[string]any))
				if !slices.Equal(acts, []string{"logs:CreateLogStream", "logs:PutLogEvents"}) ||
					!strings.Contains(jsonOf(get(s, "Resource")), "UploadAuthorizerLogs") {
					t.Errorf("authorizer statement %s", jsonOf(s))
				}
			}
		}
		if n != 1 {
			t.Errorf("%d authorizer statements, want 1", n)
		}
		for id, role := range tm.ofType("AWS::IAM::Role") {
			if strings.HasPrefix(id, "UploadAuthorizerRole") && role.Properties["ManagedPolicyArns"] != nil {
				t.Errorf("authorizer role has managed policies %s", jsonOf(role.Properties["ManagedPolicyArns"]))
			}
		}
	})
	t.Run("the function runs with signIn and may serve the caller's files", func(t *testing.T) {
		if cfg := handlerConfig(t, tm.function(t)); !cfg.SignIn {
			t.Errorf("handler config = %+v, want signIn", cfg)
		}
		checkFileStatements(t, tm)
	})
	t.Run("a refused token answers JSON with CORS", func(t *testing.T) {
		checkUnauthorizedJSON(t, tm)
	})
	t.Run("access log names the caller", func(t *testing.T) {
		if got := accessLogCaller(t, tm); got != "$context.authorizer.principalId" {
			t.Errorf("access log caller = %q", got)
		}
	})
}

func TestSignInValidation(t *testing.T) {
	oidc := func() *presignedupload.OidcSignInProps {
		return &presignedupload.OidcSignInProps{IssuerUrl: jsii.String("https://issuer.acme.dev"), Audience: jsii.String("uploads")}
	}
	origin := jsii.Strings(siteOrigin)
	tests := []struct {
		name  string
		props func(awscdk.Stack) *presignedupload.PresignedUploadApiProps
		want  string
	}{
		{"both sign-ins", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: &presignedupload.CognitoSignInProps{}, OidcSignIn: oidc()}
		}, "cognitoSignIn and oidcSignIn are exclusive"},
		{"any origin and no callback URL", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{CognitoSignIn: &presignedupload.CognitoSignInProps{}}
		}, `cognitoSignIn needs callbackUrls: allowedOrigins ["*"]`},
		{"plain http callback", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{CognitoSignIn: &presignedupload.CognitoSignInProps{CallbackUrls: jsii.Strings("http://files.acme.dev/")}}
		}, `"http://files.acme.dev/"`},
		{"relative callback", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{CognitoSignIn: &presignedupload.CognitoSignInProps{CallbackUrls: jsii.Strings("/callback")}}
		}, `"/callback"`},
		{"domain prefix with a reserved word", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: &presignedupload.CognitoSignInProps{DomainPrefix: jsii.String("my-cognito-login")}}
		}, `domainPrefix "my-cognito-login"`},
		{"domain prefix in capitals", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: &presignedupload.CognitoSignInProps{DomainPrefix: jsii.String("Uploads")}}
		}, `domainPrefix "Uploads"`},
		{"mfa with an existing pool", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			pool := awscognito.UserPool_FromUserPoolArn(s, jsii.String("P"), jsii.String(sharedPoolArn))
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: &presignedupload.CognitoSignInProps{UserPool: pool, Mfa: awscognito.Mfa_REQUIRED}}
		}, "cognitoSignIn.mfa configures a new user pool"},
		{"self sign-up with an existing pool", func(s awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			pool := awscognito.UserPool_FromUserPoolArn(s, jsii.String("P"), jsii.String(sharedPoolArn))
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: &presignedupload.CognitoSignInProps{UserPool: pool, SelfSignUpEnabled: jsii.Bool(true)}}
		}, "cognitoSignIn.selfSignUpEnabled configures a new user pool"},
		{"access tokens valid under 5 minutes", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: &presignedupload.CognitoSignInProps{AccessTokenValidity: awscdk.Duration_Minutes(jsii.Number(4))}}
		}, "cognitoSignIn.accessTokenValidity 4 minutes must be whole minutes from 5 to 1440"},
		{"access tokens valid over a day", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: &presignedupload.CognitoSignInProps{AccessTokenValidity: awscdk.Duration_Hours(jsii.Number(25))}}
		}, "cognitoSignIn.accessTokenValidity 1500 minutes"},
		{"access tokens valid part of a minute", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: &presignedupload.CognitoSignInProps{AccessTokenValidity: awscdk.Duration_Seconds(jsii.Number(630))}}
		}, "cognitoSignIn.accessTokenValidity 10.5 minutes"},
		{"no issuer", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{OidcSignIn: &presignedupload.OidcSignInProps{Audience: jsii.String("uploads")}}
		}, "oidcSignIn.issuerUrl is required"},
		{"http issuer", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			p := oidc()
			p.IssuerUrl = jsii.String("http://issuer.acme.dev")
			return &presignedupload.PresignedUploadApiProps{OidcSignIn: p}
		}, `oidcSignIn.issuerUrl "http://issuer.acme.dev" must be an https URL`},
		{"no audience", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			return &presignedupload.PresignedUploadApiProps{OidcSignIn: &presignedupload.OidcSignInProps{IssuerUrl: jsii.String("https://issuer.acme.dev")}}
		}, "oidcSignIn.audience is required"},
		{"cache TTL over an hour", func(awscdk.Stack) *presignedupload.PresignedUploadApiProps {
			p := oidc()
			p.CacheTtl = awscdk.Duration_Hours(jsii.Number(2))
			return &presignedupload.PresignedUploadApiProps{OidcSignIn: p}
		}, "oidcSignIn.cacheTtl 7200s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack()
			props := tc.props(stack)
			before := len(*stack.Node().Children())
			defer func() {
				r := recover()
				if msg := fmt.Sprint(r); r == nil || !strings.Contains(msg, tc.want) {
					t.Errorf("panic = %v, want a message containing %q", r, tc.want)
				}
				if n := len(*stack.Node().Children()); n != before {
					t.Errorf("stack has %d children after a rejected construct, want %d", n, before)
				}
			}()
			presignedupload.NewPresignedUploadApi(stack, jsii.String("Upload"), props)
		})
	}
	t.Run("caller's sign-in props are not changed", func(t *testing.T) {
		cognito := &presignedupload.CognitoSignInProps{}
		o := oidc()
		presignedupload.NewPresignedUploadApi(newStack(), jsii.String("Upload"), &presignedupload.PresignedUploadApiProps{AllowedOrigins: origin, CognitoSignIn: cognito})
		presignedupload.NewPresignedUploadApi(newStack(), jsii.String("Upload"), &presignedupload.PresignedUploadApiProps{OidcSignIn: o})
		if cognito.CallbackUrls != nil || cognito.Mfa != "" || cognito.SelfSignUpEnabled != nil || cognito.AccessTokenValidity != nil || o.CacheTtl != nil {
			t.Errorf("props were filled in: %+v %+v", cognito, o)
		}
	})
}
