package presignedupload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// CognitoSignInProps configures sign-in with an Amazon Cognito user pool.
// The construct adds to the pool a resource server with the API's upload
// scope and a public app client for the page (authorization code with
// PKCE, refresh tokens, no secret); the API accepts only access tokens that
// carry the scope, so tokens of the pool's other clients are refused.
type CognitoSignInProps struct {
	// UserPool signs callers in. The construct adds its resource server and
	// app client to it, and a domain only when DomainPrefix is set (a pool
	// has one Cognito domain, which an existing pool usually has already).
	// Through that client users may change only standard attributes of
	// their own (email on a new pool; on an existing one, any but
	// email_verified and phone_number_verified), never a custom one. The
	// pool's own settings stay yours, so SelfSignUpEnabled and Mfa must be
	// left unset.
	//
	// Default: - a new user pool: sign-in by email, self sign-up off,
	// passwords of at least 12 characters with lower and upper case letters,
	// digits and symbols, optional TOTP MFA, account recovery by email,
	// removed or retained with the bucket (RemovalPolicy).
	UserPool awscognito.IUserPool
	// CallbackUrls are where Cognito may send the browser back after sign-in
	// and sign-out: https URLs, or http://localhost ones. Cognito compares
	// them exactly, port and path included.
	//
	// Default: - each of AllowedOrigins followed by "/"; synth fails when
	// that gives none, as with AllowedOrigins ["*"].
	CallbackUrls *[]*string
	// DomainPrefix names the Cognito domain that serves the hosted sign-in
	// pages, https://<prefix>.auth.<region>.amazoncognito.com: 1 to 63
	// lowercase letters, digits and '-', without "aws", "amazon" or
	// "cognito". Prefixes are unique across all accounts of a region.
	//
	// Default: - with a new pool, the stack name, a hash of the construct's
	// path and the start of the stack's ID; with an existing pool, no domain.
	DomainPrefix *string
	// SelfSignUpEnabled lets anyone create an account on the sign-in pages.
	// Only with a new pool.
	//
	// Default: false: an administrator creates the users.
	SelfSignUpEnabled *bool
	// Mfa says whether users sign in with a TOTP authenticator app as a
	// second factor. Only with a new pool.
	//
	// Default: - awscognito.Mfa_OPTIONAL: each user may add one.
	Mfa awscognito.Mfa
	// AccessTokenValidity is how long an access token (and an ID token)
	// of the page's app client stays valid: 5 minutes to 1 day, in whole
	// minutes. The API accepts a token until it expires, even after its
	// user signed out, so it bounds how long a token that leaked stays of
	// use; clients renew theirs with the refresh token.
	//
	// Default: - 15 minutes.
	AccessTokenValidity awscdk.Duration
}

// Bounds of CognitoSignInProps.AccessTokenValidity, in minutes: Cognito's
// own for access tokens.
const (
	defaultAccessTokenMinutes = 15
	minAccessTokenMinutes     = 5
	maxAccessTokenMinutes     = 24 * 60
)

// uploadScopeName is the scope, under the construct's resource server,
// that an access token needs to call the API.
const uploadScopeName = "upload"

var (
	domainPrefixPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	// Cognito refuses prefixes holding these words.
	reservedDomainWords = []string{"aws", "amazon", "cognito"}
)

func cognitoDefaults(s *CognitoSignInProps, p *PresignedUploadApiProps, cfg api.UploadSettings) {
	if s.UserPool != nil {
		must(s.SelfSignUpEnabled == nil, "cognitoSignIn.selfSignUpEnabled configures a new user pool and cannot be set with an existing userPool")
		must(s.Mfa == "", "cognitoSignIn.mfa configures a new user pool and cannot be set with an existing userPool")
	} else {
		setBool(&s.SelfSignUpEnabled, false)
		if s.Mfa == "" {
			s.Mfa = awscognito.Mfa_OPTIONAL
		}
		must(s.Mfa == awscognito.Mfa_OFF || s.Mfa == awscognito.Mfa_OPTIONAL || s.Mfa == awscognito.Mfa_REQUIRED,
			"cognitoSignIn.mfa %q must be OFF, OPTIONAL or REQUIRED", s.Mfa)
	}
	if s.AccessTokenValidity == nil {
		s.AccessTokenValidity = awscdk.Duration_Minutes(jsii.Number(defaultAccessTokenMinutes))
	}
	must(!*awscdk.Token_IsUnresolved(s.AccessTokenValidity), "cognitoSignIn.accessTokenValidity must be a literal duration, not a token")
	minutes := *s.AccessTokenValidity.ToMinutes(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
	must(minutes >= minAccessTokenMinutes && minutes <= maxAccessTokenMinutes && minutes == float64(int64(minutes)),
		"cognitoSignIn.accessTokenValidity %v minutes must be whole minutes from %d to %d (1 day)", minutes, minAccessTokenMinutes, maxAccessTokenMinutes)
	if s.CallbackUrls == nil {
		var urls []*string
		for _, o := range cfg.AllowedOrigins {
			if o != "*" {
				urls = append(urls, jsii.String(o+"/"))
			}
		}
		must(len(urls) > 0, "cognitoSignIn needs callbackUrls: allowedOrigins %q give no absolute URL to return to after sign-in", cfg.AllowedOrigins)
		s.CallbackUrls = &urls
	}
	must(len(*s.CallbackUrls) > 0, "cognitoSignIn.callbackUrls is empty")
	for _, u := range *s.CallbackUrls {
		must(u != nil, "cognitoSignIn.callbackUrls has a nil entry")
		must(unresolved(u) || callbackURL(*u), "cognitoSignIn.callbackUrls has %q, which is not an https URL or an http://localhost one", *u)
	}
	if s.DomainPrefix != nil && !unresolved(s.DomainPrefix) {
		must(validDomainPrefix(*s.DomainPrefix), "cognitoSignIn.domainPrefix %q must be 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit, without %s",
			*s.DomainPrefix, strings.Join(reservedDomainWords, ", "))
	}
}

// callbackURL reports whether Cognito accepts u as a callback URL.
func callbackURL(u string) bool {
	if httpsURL(u) {
		return true
	}
	x, err := url.Parse(u)
	return err == nil && x.Scheme == "http" && x.Hostname() == "localhost" && x.Fragment == "" && x.User == nil
}

func validDomainPrefix(s string) bool {
	if !domainPrefixPattern.MatchString(s) {
		return false
	}
	for _, w := range reservedDomainWords {
		if strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// newCognitoSignIn creates the pool (unless one is given), the resource
// server with the upload scope, the page's app client, the domain and the
// authorizer that every method but OPTIONS uses.
func newCognitoSignIn(c *PresignedUploadApi, p *PresignedUploadApiProps, cfg api.UploadSettings) *signIn {
	s := p.CognitoSignIn
	c.UserPool = s.UserPool
	if c.UserPool == nil {
		c.UserPool = newUserPool(c, p)
	} else if cfg.QuotaTierClaim != "" {
		warnTierClaimSource(c, cfg)
	}
	identifier := resourceServerIdentifier(c)
	scope := awscognito.NewResourceServerScope(&awscognito.ResourceServerScopeProps{
		ScopeName:        jsii.String(uploadScopeName),
		ScopeDescription: jsii.String("Upload files and manage your own"),
	})
	server := awscognito.NewUserPoolResourceServer(c.Construct, jsii.String("ResourceServer"), &awscognito.UserPoolResourceServerProps{
		UserPool:   c.UserPool,
		Identifier: jsii.String(identifier),
		Scopes:     &[]awscognito.ResourceServerScope{scope},
	})
	// A browser page cannot keep a secret: a public client, for the
	// authorization code flow with PKCE. SRP sign-in comes with the refresh
	// token flow, which a long upload needs to outlive its access token.
	c.UserPoolClient = awscognito.NewUserPoolClient(c.Construct, jsii.String("WebClient"), &awscognito.UserPoolClientProps{
		UserPool:                   c.UserPool,
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		// Reads stay Cognito's default: seeing one's own attributes grants
		// nothing; writing them could.
		WriteAttributes: clientWriteAttributes(s.UserPool != nil),
		// Signing out revokes the refresh token, not the access and ID
		// tokens already issued: their lifetime is how long they outlive it.
		AccessTokenValidity: s.AccessTokenValidity,
		IdTokenValidity:     s.AccessTokenValidity,
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_ResourceServer(server, scope)},
			CallbackUrls: s.CallbackUrls,
			LogoutUrls:   s.CallbackUrls,
		},
	})
	prefix := s.DomainPrefix
	if prefix == nil && s.UserPool == nil {
		prefix = derivedDomainPrefix(c)
	}
	if prefix != nil {
		c.UserPoolDomain = awscognito.NewUserPoolDomain(c.Construct, jsii.String("Domain"), &awscognito.UserPoolDomainProps{
			UserPool:            c.UserPool,
			CognitoDomain:       &awscognito.CognitoDomainOptions{DomainPrefix: prefix},
			ManagedLoginVersion: awscognito.ManagedLoginVersion_CLASSIC_HOSTED_UI,
		})
		c.HostedUiUrl = c.UserPoolDomain.BaseUrl(nil)
	}
	c.Authorizer = awsapigateway.NewCognitoUserPoolsAuthorizer(c.Construct, jsii.String("Authorizer"), &awsapigateway.CognitoUserPoolsAuthorizerProps{
		CognitoUserPools: &[]awscognito.IUserPool{c.UserPool},
	})
	c.Issuer = jsii.String("https://" + *c.UserPool.UserPoolProviderName())
	c.Scope = jsii.String(identifier + "/" + uploadScopeName)
	return &signIn{
		authorizer: c.Authorizer,
		scopes:     &[]*string{c.Scope},
		caller:     "$context.authorizer.claims.sub",
	}
}

// clientWriteAttributes are the attributes a user may change on itself
// through the page's client: UpdateUserAttributes takes the access token
// that SRP sign-in returns. No custom attribute, since an app may trust
// one, such as a quota tier, that only administrators should set. The
// created pool requires only email, which sign-up writes; an existing
// pool may require any standard attribute at sign-up or at a first
// sign-in, so its client writes all of them but the verification flags.
func clientWriteAttributes(existingPool bool) awscognito.ClientAttributes {
	if !existingPool {
		return awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true)})
	}
	yes := jsii.Bool(true)
	return awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{
		Address: yes, Birthdate: yes, Email: yes, FamilyName: yes, Fullname: yes, Gender: yes, GivenName: yes,
		LastUpdateTime: yes, Locale: yes, MiddleName: yes, Nickname: yes, PhoneNumber: yes, PreferredUsername: yes,
		ProfilePage: yes, ProfilePicture: yes, Timezone: yes, Website: yes,
	})
}

// warnTierClaimSource says at synth that on an existing pool, whose other
// app clients the construct cannot see, the quota tier is only as safe as
// the attribute or group it comes from.
func warnTierClaimSource(c *PresignedUploadApi, cfg api.UploadSettings) {
	awscdk.Annotations_Of(c.Construct).AddWarningV2(jsii.String("presignedupload:tierClaimSource"), jsii.String(fmt.Sprintf(
		"quotaTierClaim %q on an existing user pool: users can set themselves any attribute an app client of the pool lets them write, "+
			"so fill the claim from what they cannot: a custom attribute that no client can write, set with AdminUpdateUserAttributes, or the user's groups "+
			"(the construct's own client writes no custom attribute; see docs/quotas.md#tiers)", cfg.QuotaTierClaim)), nil)
}

func newUserPool(c *PresignedUploadApi, p *PresignedUploadApiProps) awscognito.UserPool {
	s := p.CognitoSignIn
	var second *awscognito.MfaSecondFactor
	if s.Mfa != awscognito.Mfa_OFF {
		second = &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)}
	}
	pool := awscognito.NewUserPool(c.Construct, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled:   s.SelfSignUpEnabled,
		SignInAliases:       &awscognito.SignInAliases{Email: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		AutoVerify:          &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		StandardAttributes: &awscognito.StandardAttributes{
			Email: &awscognito.StandardAttribute{Required: jsii.Bool(true), Mutable: jsii.Bool(true)},
		},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:            jsii.Number(12),
			RequireLowercase:     jsii.Bool(true),
			RequireUppercase:     jsii.Bool(true),
			RequireDigits:        jsii.Bool(true),
			RequireSymbols:       jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		Mfa:             s.Mfa,
		MfaSecondFactor: second,
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
		FeaturePlan:     awscognito.FeaturePlan_ESSENTIALS,
		RemovalPolicy:   p.RemovalPolicy,
	})
	rules := []rule{{id: "AwsSolutions-COG8", reason: "The Essentials feature plan is enough for the hosted sign-in pages and the access tokens the API checks; Plus, priced per active user, adds threat protection: pass an existing pool on Plus in CognitoSignIn.UserPool to have it."}}
	if s.Mfa != awscognito.Mfa_REQUIRED {
		rules = append(rules, rule{id: "AwsSolutions-COG2", reason: "MFA is optional so that users created with admin-create-user can sign in at once; each may add a TOTP authenticator app, and CognitoSignIn.Mfa REQUIRED makes it mandatory for all."})
	}
	suppress(pool, rules...)
	return pool
}

// resourceServerIdentifier names the construct's resource server, unique
// in the account so that two APIs sharing a pool have two scopes.
func resourceServerIdentifier(c *PresignedUploadApi) string {
	return *awscdk.Names_UniqueResourceName(c.Construct, &awscdk.UniqueResourceNameOptions{Separator: jsii.String("-"), MaxLength: jsii.Number(100)})
}

// derivedDomainPrefix is "<stack name>-<hash of the construct path>-<start
// of the stack ID>": readable, distinct for two constructs in one stack,
// and, through the stack ID's UUID, for the same app deployed to another
// account, which shares the region's domain namespace.
func derivedDomainPrefix(c *PresignedUploadApi) *string {
	name := "upload"
	if n := awscdk.Stack_Of(c.Construct).StackName(); !unresolved(n) {
		name = domainWords(*n)
	}
	sum := sha256.Sum256([]byte(*c.Node().Path()))
	stackUUID := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), awscdk.Aws_STACK_ID(), nil))
	return awscdk.Fn_Join(jsii.String("-"), &[]*string{
		jsii.String(name + "-" + hex.EncodeToString(sum[:3])),
		awscdk.Fn_Select(jsii.Number(0), awscdk.Fn_Split(jsii.String("-"), stackUUID, nil)),
	})
}

// domainWords turns a stack name into at most 30 characters that a domain
// prefix may hold.
func domainWords(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
	// Removing one word can join the letters around it into another.
	for changed := true; changed; {
		changed = false
		for _, w := range reservedDomainWords {
			if strings.Contains(s, w) {
				s, changed = strings.ReplaceAll(s, w, ""), true
			}
		}
	}
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	s = strings.Trim(s, "-")
	if len(s) > 30 {
		s = strings.TrimRight(s[:30], "-")
	}
	if s == "" {
		return "upload"
	}
	return s
}
