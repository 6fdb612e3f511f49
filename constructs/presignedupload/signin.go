package presignedupload

import (
	"encoding/json"
	"net/url"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/presigned-upload/presigned-upload/api"
)

// signIn is how the API's methods know the caller: the authorizer in front
// of every method but OPTIONS. A nil *signIn is no sign-in.
type signIn struct {
	authorizer awsapigateway.IAuthorizer
	// scopes an access token needs; nil when the authorizer decides alone.
	scopes *[]*string
	// caller is the access log variable that names the verified caller.
	caller string
	// rules are the cdk-nag findings each method accepts, with reasons.
	rules []rule
}

// signInDefaults replaces the sign-in props of p with checked copies that
// carry their defaults. It runs before any child exists, after the
// handler's settings, whose origins give the default callback URLs.
func signInDefaults(p *PresignedUploadApiProps, cfg api.UploadSettings) {
	must(p.CognitoSignIn == nil || p.OidcSignIn == nil, "cognitoSignIn and oidcSignIn are exclusive")
	if p.CognitoSignIn != nil {
		s := *p.CognitoSignIn
		cognitoDefaults(&s, p, cfg)
		p.CognitoSignIn = &s
	}
	if p.OidcSignIn != nil {
		s := *p.OidcSignIn
		oidcDefaults(&s)
		p.OidcSignIn = &s
	}
}

// newSignIn creates what the chosen sign-in needs; nil without one.
func newSignIn(c *PresignedUploadApi, p *PresignedUploadApiProps, cfg api.UploadSettings) *signIn {
	switch {
	case p.CognitoSignIn != nil:
		return newCognitoSignIn(c, p, cfg)
	case p.OidcSignIn != nil:
		return newOidcSignIn(c, p, cfg)
	}
	return nil
}

// apply puts the authorizer on a method's options.
func (s *signIn) apply(opts *awsapigateway.MethodOptions) {
	if s == nil {
		return
	}
	opts.Authorizer = s.authorizer
	opts.AuthorizationScopes = s.scopes
}

// suppressMethod records why a method passes the cdk-nag rules on
// authorization that it does not meet.
func (s *signIn) suppressMethod(m awsapigateway.Method) {
	if s == nil {
		suppressOpenMethod(m)
		return
	}
	if len(s.rules) > 0 {
		suppress(m, s.rules...)
	}
}

// accessLogFormat is the stage's access log format, with the verified
// caller when callers sign in.
func (s *signIn) accessLogFormat() string {
	if s == nil {
		return accessLogFormat
	}
	var fields map[string]string
	must(json.Unmarshal([]byte(accessLogFormat), &fields) == nil, "access log format is not a JSON object")
	fields["caller"] = s.caller
	b, err := json.Marshal(fields)
	must(err == nil, "%v", err)
	return string(b)
}

// grantFiles lets the function serve the caller's own files: read them for
// download URLs (GetObjectVersion for a URL that names the version it
// checked, on a versioned bucket) and delete them, only under the key
// prefix (listing them takes the ListUploads statement every function
// has). The handler refuses a key outside the caller's own prefix before
// any S3 call; IAM cannot know the caller, so it bounds the prefix.
func grantFiles(role awsiam.Role, bucket awss3.IBucket, cfg api.UploadSettings) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("Files"),
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"),
		Resources: jsii.Strings(*bucket.ArnForObjects(jsii.String(cfg.KeyPrefix + "*"))),
	}))
}

// filesReason completes the reason the function's policy names key
// prefixes with wildcards.
func filesReason(cfg api.UploadSettings) string {
	if !cfg.SignIn {
		return ", and no read or delete of uploads."
	}
	return "; with sign-in, GetObject, GetObjectVersion and DeleteObject under the key prefix serve the caller's own files, and the handler refuses another caller's key before any S3 call."
}

// httpsURL reports whether s is an absolute https URL with a host.
func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Fragment == "" && u.User == nil
}
